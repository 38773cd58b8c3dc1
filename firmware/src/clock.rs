//! The tick source the agent times inferences with.

use vlab_protocol::TimerKind;

/// A monotonic 64-bit tick counter, so long runs never wrap: the DWT cycle
/// counter where the core has one, SysTick with overflow counting elsewhere.
pub trait TickClock: vlab_micro::Clock {
    /// Ticks per second.
    fn hz(&self) -> u32;
    /// Which counter this is.
    fn kind(&self) -> TimerKind;
}
