//! What every vlab board firmware shares: the tick clocks the agent times
//! inferences with ([`SysTickClock`] on any Cortex-M, [`DwtClock`] where
//! the core has a cycle counter), the stack high-water mark ([`stack`]),
//! (feature `dwt`, Cortex-M3 and up) the flash model slot ([`flash_slot`]) and the compile-time facts
//! build.rs passes in ([`build`]).

#![no_std]

pub mod build;
#[cfg(feature = "dwt")]
mod dwt;
pub mod flash_slot;
pub mod stack;
mod systick;

#[cfg(feature = "dwt")]
pub use dwt::DwtClock;
pub use systick::SysTickClock;
