//! A board's route: how vlab starts it (its launch), which link reaches it
//! (the transport) and whether the model goes into its flash slot at
//! launch (preload). [`Route::plan`] checks the combination against every
//! refusal rule, all in `refusal`, before anything is started.

use vlab_harness::platform::field::Field;
use vlab_harness::{Error, Result};

use super::def::{BoardDef, LaunchDef, TransportDef};
use crate::transport::Transport;

/// A checked way to reach a board.
#[derive(Debug, Clone)]
pub struct Route {
    /// How the board's firmware is started.
    pub launch: LaunchDef,
    /// The link.
    pub transport: Transport,
    /// Whether vlab puts the model into the flash slot as it launches an
    /// emulated board.
    pub preload: bool,
    /// The link's address or device path and baud rate from board.toml,
    /// for a TCP or serial link to a board vlab does not emulate.
    pub configured: Option<(String, u32)>,
}

impl Route {
    /// The route to `board` over `transport` (board.toml's when `None`),
    /// or the rule it breaks.
    pub fn plan(board: &BoardDef, transport: Option<Transport>, preload: bool) -> Result<Self> {
        let transport = transport.unwrap_or_else(|| board.transport.kind());
        let configured = configured(&board.transport, transport);
        if let Some(why) = refusal(board, transport, preload, configured.is_some()) {
            return Err(Error::input(why));
        }
        Ok(Self {
            launch: board.launch.clone(),
            transport,
            preload,
            configured,
        })
    }
}

/// Every combination vlab refuses, and what it tells the user: the first
/// matching row wins.
fn refusal(
    board: &BoardDef,
    transport: Transport,
    preload: bool,
    configured: bool,
) -> Option<String> {
    use LaunchDef::{Probe, Qemu, Running};
    use Transport::{Rtt, Serial, Tcp};
    let name = &board.name;
    let no_slot = board.memory.flash_slot.is_none();
    match (&board.launch, transport, preload) {
        (Qemu { .. }, Rtt, _) => Some(format!(
            "{} rtt: board {name} is emulated and has no debug probe; use tcp or serial",
            Field::Transport
        )),
        (Qemu { .. }, _, true) if no_slot => Some(format!(
            "{}: board {name} has no flash model slot",
            Field::Preload
        )),
        (Probe { .. }, _, true) => Some(format!(
            "{} is for emulated boards; board {name} gets its model over the link",
            Field::Preload
        )),
        (Running, _, true) => Some(format!(
            "{}: board {name} is not launched by vlab; flash the model into its slot",
            Field::Preload
        )),
        (Running, Rtt, _) => Some(format!(
            "{} rtt: board {name} has no debug probe in board.toml (launch kind \"probe\")",
            Field::Transport
        )),
        (Probe { .. } | Running, Tcp | Serial, _) if !configured => Some(format!(
            "board {name}: board.toml gives no {transport} address or path"
        )),
        _ => None,
    }
}

/// The address or path (and baud rate) board.toml gives for `transport`.
fn configured(def: &TransportDef, transport: Transport) -> Option<(String, u32)> {
    match (def, transport) {
        (
            TransportDef::Tcp {
                address: Some(address),
            },
            Transport::Tcp,
        ) => Some((address.clone(), 0)),
        (
            TransportDef::Serial {
                path: Some(path),
                baud,
            },
            Transport::Serial,
        ) => Some((path.clone(), *baud)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Boards;

    fn board(name: &str) -> BoardDef {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards");
        Boards::load(&dir).unwrap().get(name).unwrap().clone()
    }

    #[test]
    fn an_emulated_board_takes_tcp_or_serial_and_a_preload() {
        let an385 = board("qemu-mps2-an385");
        let route = Route::plan(&an385, None, true).unwrap();
        assert_eq!(route.transport, Transport::Tcp);
        assert!(route.preload);
        let serial = Route::plan(&an385, Some(Transport::Serial), false).unwrap();
        assert_eq!(serial.transport, Transport::Serial);
        let rtt = Route::plan(&an385, Some(Transport::Rtt), false).unwrap_err();
        assert!(rtt.message().contains("is emulated and has no debug probe"));
    }

    #[test]
    fn a_probe_board_refuses_a_preload_and_an_unconfigured_serial_port() {
        let nrf = board("nrf52840-dk");
        assert!(Route::plan(&nrf, None, false).is_ok());
        let preload = Route::plan(&nrf, None, true).unwrap_err();
        assert!(preload.message().contains("preload is for emulated boards"));
        let tcp = Route::plan(&nrf, Some(Transport::Tcp), false).unwrap_err();
        assert!(
            tcp.message().contains("board.toml gives no tcp address"),
            "{}",
            tcp.message()
        );
    }
}
