//! `vlab boards`: the board definitions and whether each is ready.

use vlab_bridge::board::launch::qemu::QEMU;
use vlab_bridge::board::{BoardDef, Boards, LaunchDef};
use vlab_harness::Result;

use crate::cli::BoardsArgs;
use crate::stdout::say;

/// Prints one block per board.
pub fn run(args: &BoardsArgs) -> Result<()> {
    let dir = Boards::default_dir(args.boards_dir.as_deref());
    let boards = Boards::load(&dir)?;
    say!("boards in {}:", dir.display());
    for board in boards.all() {
        say!("{}", board.name);
        say!("  {}", board.description);
        say!(
            "  core {} ({}), {} MHz, flash {} KiB, RAM {} KiB, transport {}",
            board.core,
            board.target,
            board.core_clock_hz / 1_000_000,
            board.memory.flash_bytes / 1024,
            board.memory.ram_bytes / 1024,
            board.transport.kind()
        );
        say!("  state: {}", state(board));
    }
    Ok(())
}

/// Whether the board can run now, and what to do if not.
fn state(board: &BoardDef) -> String {
    let Ok(elf) = board.elf() else {
        return format!(
            "an MLPerf Tiny device on {}, running its vendor's firmware and model",
            board.transport.kind()
        );
    };
    if !elf.is_file() {
        return format!("firmware not built: run `{}`", board.build_command());
    }
    match &board.launch {
        LaunchDef::Qemu { machine, .. } if which(QEMU).is_none() => format!(
            "firmware built; {QEMU} (machine {machine}) not found: apt-get install qemu-system-arm"
        ),
        LaunchDef::Qemu { .. } => format!("ready (emulated; firmware {})", elf.display()),
        LaunchDef::Probe { chip, .. } => {
            format!("firmware built; flashed through a debug probe (chip {chip}, `vlab probes`)")
        }
        LaunchDef::Running => format!("ready to connect (firmware {})", elf.display()),
    }
}

/// The program `name` on PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}
