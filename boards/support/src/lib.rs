//! What every vlab board firmware shares: the declarations of its memory
//! and identity ([`declare_firmware!`]), the tick clocks the agent times
//! inferences with ([`SysTickClock`] on any Cortex-M, [`DwtClock`] with
//! feature `dwt` where the core has a cycle counter), the stack high-water
//! mark ([`stack`]), the RTT link to a debug probe ([`RttLink`], feature
//! `rtt`), the flash model slot ([`flash_slot`]), the
//! compile-time facts build.rs passes in ([`build`]), the main loop
//! ([`serve_forever`]) and, with feature `panic-reset`, a panic handler
//! that resets the board.

#![no_std]

pub mod build;
mod declare;
#[cfg(feature = "dwt")]
mod dwt;
pub mod flash_slot;
#[cfg(feature = "rtt")]
mod rtt;
mod serve;
pub mod stack;
mod systick;

#[cfg(feature = "dwt")]
pub use dwt::DwtClock;
#[cfg(feature = "rtt")]
pub use rtt::RttLink;
pub use serve::serve_forever;
pub use systick::SysTickClock;

/// What [`declare_firmware!`] expands to refers to.
#[doc(hidden)]
pub mod __private {
    pub use static_cell::ConstStaticCell;
    pub use vlab_firmware::{BoardInfo, Memory};
}
