//! A vlab board as an MLPerf Tiny device under test for other hosts, such
//! as the official runners: its firmware running and a model in its flash
//! slot, with the model's MLPerf Tiny key in the slot's header. The
//! firmware answers in MLPerf Tiny mode when the host's first byte is a
//! letter (docs/mlperf-tiny.md).

use std::time::Duration;

use vlab_harness::{Error, Result, interrupt};

use super::def::{BoardDef, LaunchDef, TransportDef};
use super::firmware::Firmware;
use super::launch::probe;
use super::launch::qemu::{Qemu, Serial};
use super::reach::ensure_firmware;

/// How often a served emulated board is checked while it runs.
const WATCH: Duration = Duration::from_millis(100);

/// A board made a device under test.
pub enum DutBoard {
    /// QEMU running the firmware, with the model preloaded; the UART is
    /// at [`Qemu::endpoint`]. Dropping it stops QEMU.
    Emulated(Qemu),
    /// A board flashed through its probe: its firmware, then the model in
    /// its flash slot; the UART is the board's serial port, if board.toml
    /// names one.
    Flashed {
        /// The serial port from board.toml.
        port: Option<String>,
    },
}

impl DutBoard {
    /// Makes `board` a device under test holding `image` (a flash slot's
    /// bytes, `super::slot::image`). An emulated board's UART goes where
    /// `serial` says; `probe` picks the debug probe of a flashed one.
    pub fn start(
        board: &BoardDef,
        image: &[u8],
        serial: Serial,
        probe: Option<&str>,
    ) -> Result<Self> {
        let slot = board.memory.flash_slot.as_ref().ok_or_else(|| {
            Error::input(format!(
                "board {} has no flash slot (board.toml: [memory.flash_slot]), so it cannot hold a model for an MLPerf Tiny host",
                board.name
            ))
        })?;
        if image.len() as u64 > slot.bytes {
            return Err(Error::input(format!(
                "the model and its header are {} B; board {}'s flash slot holds {} B",
                image.len(),
                board.name,
                slot.bytes
            )));
        }
        let elf = board.elf()?;
        if !elf.is_file() && !matches!(board.launch, LaunchDef::Running) {
            return Err(board.firmware_missing(&elf));
        }
        match &board.launch {
            LaunchDef::Qemu {
                machine,
                icount_shift,
            } => Ok(Self::Emulated(Qemu::start(
                machine,
                &elf,
                serial,
                *icount_shift,
                Some((image, slot.address)),
            )?)),
            LaunchDef::Probe {
                chip,
                probe: configured,
            } => {
                let firmware = Firmware::read(&elf)?;
                let selector = probe.or(configured.as_deref());
                let mut session = ensure_firmware(&board.name, chip, selector, &firmware)?;
                probe::with_progress("writing the model into the flash slot".into(), |progress| {
                    probe::fill_model_slot(&mut session, slot.address, image, progress)
                })?;
                let port = match &board.transport {
                    TransportDef::Serial { path, .. } => path.clone(),
                    _ => None,
                };
                Ok(Self::Flashed { port })
            }
            LaunchDef::Running => Err(Error::input(format!(
                "board {} runs its firmware on its own (board.toml: launch kind \"running\"), so vlab cannot write its flash slot",
                board.name
            ))),
        }
    }

    /// Where a host reaches the device: a TCP address or a serial port.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Self::Emulated(qemu) => Some(qemu.endpoint()),
            Self::Flashed { port } => port.as_deref(),
        }
    }

    /// Serves until SIGINT or SIGTERM; an error if the emulated board
    /// stops first. A flashed board runs on its own: this returns at once.
    pub fn serve(&mut self) -> Result<()> {
        let Self::Emulated(qemu) = self else {
            return Ok(());
        };
        while interrupt::received().is_none() {
            qemu.check_alive()?;
            std::thread::sleep(WATCH);
        }
        Ok(())
    }
}
