//! Debug probes through probe-rs: listing them, attaching to a board's
//! chip, flashing firmware (with verify and reset) and writing a model into
//! a board's flash model slot. Errors say what to check: the probe plugged
//! in, USB permissions (udev rules), the selector when there are several.

use std::io::Cursor;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};
use probe_rs::config::Registry;
use probe_rs::flashing::{DownloadOptions, ElfLoader, ElfOptions, FlashProgress, ProgressEvent};
use probe_rs::probe::list::{Accessibility, Lister};
use probe_rs::probe::{DebugProbeInfo, DebugProbeSelector};
use probe_rs::{MemoryInterface, Permissions, Session};
use vlab_harness::{Error, Result};

use crate::board::firmware::Firmware;

/// What to check when no usable probe is found (docs/boards.md).
const CHECK: &str = "check that the board's debug probe is plugged in over USB (`vlab probes` lists it) \
and that this user may open it (udev rules: docs/boards.md)";

/// An attached debug probe.
#[derive(Debug, Clone)]
pub struct ProbeEntry {
    /// The probe's name (`STLink V3`).
    pub identifier: String,
    /// USB vendor id.
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// Serial number, when the probe has one.
    pub serial_number: Option<String>,
    /// Whether this user may open it.
    pub accessible: bool,
}

impl ProbeEntry {
    fn new(info: &DebugProbeInfo, accessible: bool) -> Self {
        Self {
            identifier: info.identifier.clone(),
            vendor_id: info.vendor_id,
            product_id: info.product_id,
            serial_number: info.serial_number.clone(),
            accessible,
        }
    }

    /// The selector that picks this probe (`VID:PID[:SERIAL]`), as `--probe`
    /// and board.toml's `probe` take it.
    pub fn selector(&self) -> String {
        match &self.serial_number {
            Some(serial) => format!("{:04x}:{:04x}:{serial}", self.vendor_id, self.product_id),
            None => format!("{:04x}:{:04x}", self.vendor_id, self.product_id),
        }
    }
}

/// Every debug probe on this machine's USB, with whether it can be opened.
pub fn list() -> Vec<ProbeEntry> {
    Lister::new()
        .list_all_with_access()
        .iter()
        .map(|item| ProbeEntry::new(&item.info, item.accessibility == Accessibility::Accessible))
        .collect()
}

/// probe-rs's built-in chip descriptions, read once.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::from_builtin_families)
}

/// Whether probe-rs knows the chip `name` (board.toml's `chip`).
pub fn check_chip(name: &str) -> Result<()> {
    registry()
        .get_target_by_name(name)
        .map(|_| ())
        .map_err(|e| Error::input(format!("chip {name:?}: probe-rs does not know it: {e}")))
}

/// Opens the probe `selector` picks (or the only one attached) and attaches
/// to `chip`, for board `board`.
pub fn attach(board: &str, chip: &str, selector: Option<&str>) -> Result<Session> {
    let selector = selector
        .map(|s| {
            s.parse::<DebugProbeSelector>()
                .map_err(|e| Error::input(format!("probe selector {s:?}: {e}")))
        })
        .transpose()?;
    let lister = Lister::new();
    let found = lister.list_with_access(selector.as_ref());
    let usable: Vec<&DebugProbeInfo> = found
        .iter()
        .filter(|item| item.accessibility == Accessibility::Accessible)
        .map(|item| &item.info)
        .collect();
    let info = match (usable.as_slice(), found.len()) {
        ([one], _) => *one,
        ([], 0) => {
            return Err(Error::runtime(format!(
                "no debug probe found for board {board} (chip {chip}){}: {CHECK}",
                selector
                    .as_ref()
                    .map(|s| format!(" matching {s}"))
                    .unwrap_or_default()
            )));
        }
        ([], _) => {
            return Err(Error::runtime(format!(
                "board {board}: the debug probe is there but this user may not open it: \
                 install the udev rules (docs/boards.md) or add the user to plugdev"
            )));
        }
        (many, _) => {
            let names: Vec<String> = many
                .iter()
                .map(|i| ProbeEntry::new(i, true).selector())
                .collect();
            return Err(Error::input(format!(
                "board {board}: {} debug probes attached ({}); pick one with --probe or board.toml's `probe`",
                many.len(),
                names.join(", ")
            )));
        }
    };
    let probe = info.open().map_err(|e| {
        Error::runtime(format!(
            "board {board}: cannot open debug probe {}: {e}; {CHECK}",
            info.identifier
        ))
    })?;
    probe.attach(chip, Permissions::default()).map_err(|e| {
        Error::runtime(format!(
            "board {board}: the probe cannot attach to the {chip}: {e}; check that the board is powered and the probe's cable seated"
        ))
    })
}

/// Whether the board behind `session` runs the build of `firmware`: the
/// build hash in its flash is the ELF's.
pub fn runs(session: &mut Session, firmware: &Firmware) -> Result<bool> {
    let Some((address, hash)) = firmware.build_hash else {
        return Ok(false);
    };
    let mut on_board = [0u8; 8];
    session
        .core(0)
        .and_then(|mut core| core.read(address, &mut on_board))
        .map_err(|e| Error::runtime(format!("cannot read the board's flash: {e}")))?;
    Ok(on_board == hash)
}

/// Flashes `firmware` through `session`, verifies it and resets the
/// core; `progress` gets (bytes done, bytes total) as programming goes.
pub fn flash(
    session: &mut Session,
    firmware: &Firmware,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::runtime(format!("flashing {} failed: {e}", firmware.path.display()))
    };
    let mut loader = session.target().flash_loader();
    loader
        .load_image(
            session,
            &mut Cursor::new(&firmware.bytes),
            ElfLoader(ElfOptions::default()),
            None,
        )
        .map_err(|e| failed(&e))?;
    let mut options = verified(progress);
    options.preverify = true;
    loader.commit(session, options).map_err(|e| failed(&e))?;
    reset(session)
}

/// Makes the flash model slot at `address` start with `model`: reads what
/// is there, and when it differs writes `model` as a raw image (verified)
/// and resets the core. Returns whether it wrote. `progress` gets (bytes
/// done, bytes total) as programming goes.
pub fn fill_model_slot(
    session: &mut Session,
    address: u64,
    model: &[u8],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<bool> {
    let mut on_board = vec![0u8; model.len()];
    session
        .core(0)
        .and_then(|mut core| core.read(address, &mut on_board))
        .map_err(|e| Error::runtime(format!("cannot read the flash slot at {address:#x}: {e}")))?;
    if on_board == model {
        return Ok(false);
    }
    let mut loader = session.target().flash_loader();
    loader.add_data(address, model).map_err(|e| {
        Error::input(format!(
            "the model cannot go into the flash slot at {address:#x}: {e}"
        ))
    })?;
    let options = verified(progress);
    loader.commit(session, options).map_err(|e| {
        Error::runtime(format!(
            "writing the model into the flash slot at {address:#x} failed: {e}"
        ))
    })?;
    reset(session)?;
    Ok(true)
}

/// Runs `write` (flashing) with a progress bar on stderr labelled
/// `message`, which it feeds (bytes done, bytes total).
pub fn with_progress<T>(
    message: String,
    write: impl FnOnce(&mut dyn FnMut(u64, u64)) -> Result<T>,
) -> Result<T> {
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(1).with_style(style).with_message(message);
    let result = write(&mut |done, total| {
        bar.set_length(total.max(1));
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result
}

/// Download options that verify what they write and report (bytes done,
/// bytes total) to `progress`.
fn verified(progress: &mut dyn FnMut(u64, u64)) -> DownloadOptions<'_> {
    let mut options = DownloadOptions::default();
    options.verify = true;
    let (mut done, mut total) = (0u64, 0u64);
    options.progress = FlashProgress::new(move |event| match event {
        ProgressEvent::AddProgressBar {
            total: Some(bytes), ..
        } => total += bytes,
        ProgressEvent::Progress { size, .. } => {
            done += size;
            progress(done, total);
        }
        _ => {}
    });
    options
}

fn reset(session: &mut Session) -> Result<()> {
    session
        .core(0)
        .and_then(|mut core| core.reset())
        .map_err(|e| Error::runtime(format!("cannot reset the board after flashing: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_are_checked_against_probe_rs() {
        check_chip("STM32L4R5ZITx").unwrap();
        check_chip("nRF52840_xxAA").unwrap();
        check_chip("RP2040").unwrap();
        let Err(err) = check_chip("STM32L4R5ZZZ") else {
            panic!("not a chip")
        };
        assert!(
            err.message()
                .contains("chip \"STM32L4R5ZZZ\": probe-rs does not know it")
        );
    }

    #[test]
    fn a_malformed_selector_is_named() {
        let Err(err) = attach("nucleo-l4r5zi", "STM32L4R5ZITx", Some("stlink")) else {
            panic!("not a selector")
        };
        assert!(
            err.message().contains("probe selector \"stlink\""),
            "{}",
            err.message()
        );
        assert_eq!(err.exit_code(), 2);
    }
}
