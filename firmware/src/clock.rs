//! The tick source the agent times inferences with.

use vlab_protocol::TimerKind;

/// A monotonic 64-bit tick counter, so long runs never wrap: the DWT cycle
/// counter where the core has one, SysTick with overflow counting elsewhere.
pub trait TickClock: vlab_micro::Clock {
    /// Ticks per second.
    fn hz(&self) -> u32;
    /// Which counter this is.
    fn kind(&self) -> TimerKind;
    /// Called at the start of every run. A timer with a phase (SysTick's
    /// wrap interrupt) restarts it here, so that under a deterministic
    /// emulator every run sees the same ticks however long the host took to
    /// send the run. Counts stay monotonic. The default does nothing.
    fn restart(&mut self) {}
}
