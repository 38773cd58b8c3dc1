//! `vlab flash --board B [ELF]`: firmware onto a board through its probe.

use vlab_bridge::board::firmware::{Firmware, hex};
use vlab_bridge::board::launch::probe;
use vlab_bridge::board::{Boards, LaunchDef};
use vlab_harness::{Error, Result};

use crate::cli::FlashArgs;
use crate::stdout::say;

/// Flashes, verifies and resets.
pub fn run(args: &FlashArgs) -> Result<()> {
    let boards = Boards::load(&Boards::default_dir(args.boards_dir.as_deref()))?;
    let board = boards.get(&args.board)?;
    let LaunchDef::Probe { chip, probe } = &board.launch else {
        return Err(Error::input(format!(
            "board {} is not flashed through a debug probe (board.toml: launch kind is not \"probe\")",
            board.name
        )));
    };
    let elf = match &args.elf {
        Some(elf) => elf.clone(),
        None => board.elf()?,
    };
    if !elf.is_file() {
        return Err(Error::input(format!(
            "{}: no such firmware ELF; build the board's with `{}`",
            elf.display(),
            board.build_command()
        )));
    }
    let firmware = Firmware::read(&elf)?;
    let selector = args.probe.as_deref().or(probe.as_deref());
    let mut session = probe::attach(&board.name, chip, selector)?;
    probe::with_progress(format!("flashing {}", board.name), |progress| {
        probe::flash(&mut session, &firmware, progress)
    })?;
    say!(
        "flashed {} ({} bytes, build {}), verified, reset",
        board.name,
        firmware.flash_bytes,
        firmware
            .build_hash
            .map_or("unknown".to_owned(), |(_, h)| hex(&h))
    );
    Ok(())
}
