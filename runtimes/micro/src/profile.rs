//! Per-operator profiling hooks.

use crate::opcode::Opcode;

/// Called around every operator of an invocation. The default methods do
/// nothing and [`crate::Interpreter::invoke`] is generic over the hook, so
/// an unused hook (`()`) compiles to nothing.
pub trait OpHook {
    /// Operator `index` is about to run.
    #[inline(always)]
    fn before(&mut self, _index: usize, _op: Opcode) {}
    /// Operator `index` has run.
    #[inline(always)]
    fn after(&mut self, _index: usize, _op: Opcode) {}
}

impl OpHook for () {}

/// A monotonic tick source supplied by the caller (a cycle counter, SysTick,
/// or the host's clock).
pub trait Clock {
    /// Ticks now; must not decrease.
    fn now(&mut self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn now(&mut self) -> u64 {
        (**self).now()
    }
}

/// A hook that records each operator's ticks into a caller-provided slice,
/// summing over invocations.
pub struct Profiler<'t, C: Clock> {
    clock: C,
    started: u64,
    /// Ticks per operator index.
    pub ticks: &'t mut [u64],
}

impl<'t, C: Clock> Profiler<'t, C> {
    /// A profiler writing into `ticks` (one slot per operator; extra operators are not recorded).
    pub fn new(clock: C, ticks: &'t mut [u64]) -> Self {
        Self {
            clock,
            started: 0,
            ticks,
        }
    }
}

impl<C: Clock> OpHook for Profiler<'_, C> {
    #[inline(always)]
    fn before(&mut self, _index: usize, _op: Opcode) {
        self.started = self.clock.now();
    }

    #[inline(always)]
    fn after(&mut self, index: usize, _op: Opcode) {
        let elapsed = self.clock.now().saturating_sub(self.started);
        if let Some(slot) = self.ticks.get_mut(index) {
            *slot += elapsed;
        }
    }
}
