//! Reaching a board along its [`Route`]: start QEMU (with the model in its
//! flash slot, for `--preload`), or through the debug probe flash the
//! firmware when the board runs another build and fill the model slot;
//! then open the link with [`transport::open`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vlab_harness::platform::field::Field;
use vlab_harness::{Error, ModelFile, Result};

use super::def::{BoardDef, LaunchDef};
use super::firmware::Firmware;
use super::launch::probe;
use super::launch::qemu::{Qemu, Serial};
use super::route::Route;
use super::slot;
use crate::session::LogSink;
use crate::transport::{self, Connection, Endpoint, ProbeRtt, Transport};

/// How long an emulated board may take to accept its TCP connection.
const QEMU_PATIENCE: Duration = Duration::from_secs(20);
/// How long a board behind a network serial server may take.
const NETWORK_PATIENCE: Duration = Duration::from_secs(5);

/// A board made ready and linked to.
pub struct Reached {
    /// The link.
    pub connection: Connection,
    /// The emulator, for an emulated board; dropping it stops QEMU.
    pub qemu: Option<Arc<Mutex<Qemu>>>,
    /// Whether vlab put the model into the board's flash slot.
    pub model_in_slot: bool,
}

/// What reaching a board needs beyond its route.
pub struct Destination<'a> {
    /// The board.
    pub board: &'a BoardDef,
    /// How to reach it.
    pub route: &'a Route,
    /// The firmware vlab launches or flashes (always there for those).
    pub firmware: Option<&'a Arc<Firmware>>,
    /// Which debug probe, instead of board.toml's.
    pub probe: Option<&'a str>,
    /// Takes the defmt bytes of an RTT link's log channel.
    pub rtt_logs: Option<LogSink>,
}

/// Launches or flashes the board as its route says and opens the link.
pub async fn reach(to: Destination<'_>, model: &ModelFile) -> Result<Reached> {
    let Destination {
        board,
        route,
        firmware,
        probe,
        rtt_logs,
    } = to;
    let not_built = || match board.elf() {
        Ok(elf) => board.firmware_missing(&elf),
        Err(e) => e,
    };
    match &route.launch {
        LaunchDef::Qemu {
            machine,
            icount_shift,
        } => {
            let firmware = firmware.ok_or_else(not_built)?;
            let preload = match (&board.memory.flash_slot, route.preload) {
                (Some(slot), true) => {
                    let image = slot::image(model.bytes(), None)?;
                    let len = image.len() as u64;
                    if len > slot.bytes {
                        return Err(Error::input(format!(
                            "{}: the model and its header are {len} B; board {}'s flash slot holds {} B",
                            Field::Preload,
                            board.name,
                            slot.bytes
                        )));
                    }
                    Some((image, slot.address))
                }
                _ => None,
            };
            let serial = match route.transport {
                Transport::Tcp => Serial::Tcp,
                _ => Serial::Pty,
            };
            let qemu = Qemu::start(
                machine,
                &firmware.path,
                serial,
                *icount_shift,
                preload.as_ref().map(|(image, at)| (image.as_slice(), *at)),
            )?;
            let at = qemu.endpoint().to_owned();
            let qemu = Arc::new(Mutex::new(qemu));
            let watch = qemu.clone();
            let alive = Box::new(move || {
                watch
                    .lock()
                    .map_err(|_| Error::runtime("QEMU watcher poisoned"))?
                    .check_alive()
            });
            let endpoint = Endpoint::Address {
                at,
                baud: 115_200,
                patience: QEMU_PATIENCE,
                alive,
            };
            Ok(Reached {
                connection: transport::open(route.transport, endpoint).await?,
                qemu: Some(qemu),
                model_in_slot: preload.is_some(),
            })
        }
        LaunchDef::Probe {
            chip,
            probe: configured_probe,
        } => {
            let firmware = firmware.ok_or_else(not_built)?.clone();
            let selector = probe
                .map(str::to_owned)
                .or_else(|| configured_probe.clone());
            let (name, chip) = (board.name.clone(), chip.clone());
            // The model goes into the flash slot when it fits there;
            // otherwise over the link into RAM.
            let image = slot::image(model.bytes(), None)?;
            let slot = board
                .memory
                .flash_slot
                .as_ref()
                .filter(|slot| image.len() as u64 <= slot.bytes)
                .map(|slot| (slot.address, image));
            let model_in_slot = slot.is_some();
            let rtt = route.transport == Transport::Rtt;
            let attached = tokio::task::spawn_blocking(move || {
                let mut session = ensure_firmware(&name, &chip, selector.as_deref(), &firmware)?;
                if let Some((address, model)) = slot {
                    probe::with_progress(
                        "writing the model into the flash slot".into(),
                        |progress| probe::fill_model_slot(&mut session, address, &model, progress),
                    )?;
                }
                match rtt {
                    true => {
                        let address = firmware.rtt_control_block()?;
                        ProbeRtt::attach(session, address, &firmware.path).map(Some)
                    }
                    false => Ok(None),
                }
            })
            .await
            .map_err(|e| Error::runtime(format!("the flashing task failed: {e}")))??;
            let endpoint = match attached {
                Some(port) => Endpoint::Probe {
                    port: Box::new(port),
                    description: format!("rtt through the {} probe", board.name),
                    logs: rtt_logs,
                },
                None => configured(route)?,
            };
            Ok(Reached {
                connection: transport::open(route.transport, endpoint).await?,
                qemu: None,
                model_in_slot,
            })
        }
        LaunchDef::Running => Ok(Reached {
            connection: transport::open(route.transport, configured(route)?).await?,
            qemu: None,
            model_in_slot: false,
        }),
    }
}

/// The endpoint board.toml configures for a board vlab does not emulate.
fn configured(route: &Route) -> Result<Endpoint> {
    let (at, baud) = route.configured.clone().ok_or_else(|| {
        Error::runtime(format!(
            "the route gives no {} address or path",
            route.transport
        ))
    })?;
    Ok(Endpoint::Address {
        at,
        baud,
        patience: NETWORK_PATIENCE,
        alive: Box::new(|| Ok(())),
    })
}

/// Attaches to the board's probe and flashes `firmware` unless the board
/// already runs that build (its build hash in flash is the ELF's). Returns
/// the probe's session.
pub(super) fn ensure_firmware(
    board: &str,
    chip: &str,
    selector: Option<&str>,
    firmware: &Firmware,
) -> Result<probe_rs::Session> {
    let mut session = probe::attach(board, chip, selector)?;
    if probe::runs(&mut session, firmware)? {
        return Ok(session);
    }
    probe::with_progress("flashing".into(), |progress| {
        probe::flash(&mut session, firmware, progress)
    })?;
    Ok(session)
}
