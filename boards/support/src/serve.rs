//! The firmware's main loop, and (feature `panic-reset`) what a panic does
//! on a board in the lab.

use vlab_firmware::{Agent, TickClock};

/// Serves the protocol on `link` forever. A link error (a UART overrun or
/// framing error) ends one `serve`; the host resends whatever was lost.
pub fn serve_forever<C, L>(agent: &mut Agent<'_, C>, link: &mut L) -> !
where
    C: TickClock,
    L: embedded_io::Read + embedded_io::Write,
{
    loop {
        let _ = agent.serve(link);
    }
}

/// A panic resets the board: the host sees the link go quiet, and the
/// next run starts from a clean state.
#[cfg(feature = "panic-reset")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
