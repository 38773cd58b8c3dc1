//! `vlab mlperf-tiny serve`: a vlab board as an MLPerf Tiny device under
//! test, for the official runners and any other MLPerf Tiny host.

use vlab_bridge::board::Boards;
use vlab_bridge::board::dut::Dut;
use vlab_bridge::board::launch::qemu::Serial;
use vlab_bridge::board::slot;
use vlab_harness::{Error, Result};
use vlab_protocol::SlotHeader;

use crate::cli::{MlperfServeArgs, UartKind};
use crate::stdout::say;

/// Starts the device under test and serves until SIGINT or SIGTERM (an
/// emulated board), or flashes it and returns (a board with a probe).
pub fn serve(args: &MlperfServeArgs) -> Result<()> {
    let boards = Boards::load(&Boards::default_dir(args.boards_dir.as_deref()))?;
    let board = boards.get(&args.board)?;
    let model = std::fs::read(&args.model).map_err(|e| {
        Error::input(format!(
            "--model {}: cannot read it: {e}",
            args.model.display()
        ))
    })?;
    let image = slot::image(&model, args.model_key.as_deref())?;
    let key = SlotHeader::decode(&image)
        .map(|h| h.key().to_owned())
        .unwrap_or_default();
    if key.is_empty() {
        eprintln!(
            "warning: {}'s input is no MLPerf Tiny benchmark's, so `profile%` answers m-model-[none]; give --model-key",
            args.model.display()
        );
    }
    let serial = match args.uart {
        UartKind::Tcp => Serial::TcpRunning,
        UartKind::Pty => Serial::Pty,
    };
    let mut dut = Dut::start(board, &image, serial, args.probe.as_deref())?;
    let model_name = args.model.display();
    let key = if key.is_empty() { "none" } else { &key };
    match dut.endpoint() {
        Some(at) => say!(
            "MLPerf Tiny device {} holding {model_name} as {key} on {at}",
            board.name
        ),
        None => say!(
            "MLPerf Tiny device {} holding {model_name} as {key}; its UART is the board's serial port",
            board.name
        ),
    }
    dut.serve()
}
