//! Board definitions: one folder per board under `boards/`, each with a
//! `board.toml` saying what the board is, how big it is, how vlab reaches
//! it and how its firmware is launched or flashed.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vlab_harness::{Error, ModelCapacity, Result};

use crate::linux::def::{LinuxBoardDef, is_linux_board};
use crate::transport::Transport;

/// A board's `board.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardDef {
    /// Board name, as `--board` takes it and the firmware reports it.
    pub name: String,
    /// One line for `vlab boards`.
    pub description: String,
    /// CPU core (`cortex-m3`).
    pub core: String,
    /// Rust target triple of the firmware.
    pub target: String,
    /// Core clock, Hz.
    pub core_clock_hz: u32,
    /// Memory sizes.
    pub memory: MemoryDef,
    /// What the firmware speaks: vlab's protocol (the default) or MLPerf
    /// Tiny's, for a device under test that holds its own model.
    #[serde(default)]
    pub protocol: Protocol,
    /// vlab's firmware image (not for an MLPerf Tiny device, whose
    /// firmware is its vendor's).
    pub firmware: Option<FirmwareDef>,
    /// How the firmware is started.
    pub launch: LaunchDef,
    /// How vlab talks to the firmware.
    pub transport: TransportDef,
    /// The folder holding this board.toml.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The protocol a board's firmware speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// vlab's wire protocol (protocol/): vlab's firmware, which vlab
    /// flashes or launches and streams models to.
    #[default]
    Vlab,
    /// MLPerf Tiny's UART protocol: a device under test running any
    /// vendor's port of the benchmark, with its model built in; vlab only
    /// connects to it (docs/mlperf-tiny.md).
    MlperfTiny,
}

/// The engine name reports give a board's runs: vlab's firmware runs
/// `micro`; an MLPerf Tiny device whatever its vendor's port runs.
pub fn board_engine(board: &BoardDef) -> &'static str {
    match board.protocol {
        Protocol::Vlab => "micro",
        Protocol::MlperfTiny => crate::mlperf_tiny::runner::ENGINE,
    }
}

/// Memory sizes of a board.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryDef {
    /// Flash (code memory) size, bytes.
    pub flash_bytes: u64,
    /// RAM size, bytes.
    pub ram_bytes: u64,
    /// A model slot the flasher fills, if the firmware has one.
    pub flash_slot: Option<FlashSlotDef>,
}

/// A model slot outside the firmware image, filled by the flasher (or, on
/// QEMU, by its loader at launch).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashSlotDef {
    /// Start address.
    pub address: u64,
    /// Size, bytes.
    pub bytes: u64,
}

/// Where a board's firmware image is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmwareDef {
    /// The ELF, relative to the board's folder.
    pub elf: PathBuf,
}

/// How a board's firmware is started.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LaunchDef {
    /// An emulated board: vlab starts QEMU with the firmware.
    Qemu {
        /// QEMU machine (`-M`).
        machine: String,
        /// `-icount shift=N`: time by instruction count, so tick counts
        /// repeat exactly; absent: real time.
        icount_shift: Option<u8>,
    },
    /// A board with a debug probe: vlab flashes the firmware with probe-rs
    /// when the build on the board is not the ELF's, then connects.
    Probe {
        /// The chip as probe-rs names it (`STM32L4R5ZITx`).
        chip: String,
        /// Which probe, when several are attached: `VID:PID[:SERIAL]`.
        probe: Option<String>,
    },
    /// The board is already running the firmware; vlab only connects.
    Running,
}

/// How vlab talks to a board.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TransportDef {
    /// A TCP byte stream: QEMU's UART socket, or `address` for a board
    /// behind a network serial server.
    Tcp {
        /// `host:port`; absent for QEMU, which vlab gives a free port.
        address: Option<String>,
    },
    /// A serial port (USB-CDC, a probe's virtual COM port), or QEMU's UART
    /// on a pseudo-terminal.
    Serial {
        /// Device path; absent for QEMU, which reports its pty.
        path: Option<String>,
        /// Baud rate.
        #[serde(default = "default_baud")]
        baud: u32,
    },
    /// RTT through the board's debug probe (launch kind `probe`): up
    /// channel 0 carries the firmware's defmt logs, up and down channel 1
    /// the protocol. The control block is found at the ELF's
    /// `_SEGGER_RTT` symbol.
    Rtt {},
}

fn default_baud() -> u32 {
    115_200
}

impl TransportDef {
    /// The transport this definition configures.
    pub fn kind(&self) -> Transport {
        match self {
            TransportDef::Tcp { .. } => Transport::Tcp,
            TransportDef::Serial { .. } => Transport::Serial,
            TransportDef::Rtt {} => Transport::Rtt,
        }
    }
}

impl BoardDef {
    /// Reads and checks `board.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("board.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, &e))?;
        Self::parse(dir, &text)
    }

    /// Checks `text`, the `board.toml` of `dir`.
    pub fn parse(dir: &Path, text: &str) -> Result<Self> {
        let path = dir.join("board.toml");
        let mut def: BoardDef = from_toml(&path, text)?;
        def.dir = dir.to_path_buf();
        let problem = |what: &str| Error::input(format!("{}: {what}", path.display()));
        match (def.protocol, &def.firmware, &def.launch, &def.transport) {
            (Protocol::Vlab, None, ..) => {
                return Err(problem(
                    "[firmware] is missing: a board running vlab's firmware names its ELF",
                ));
            }
            (Protocol::MlperfTiny, Some(_), ..) => {
                return Err(problem(
                    "[firmware] is for vlab's firmware; an MLPerf Tiny device (protocol = \"mlperf-tiny\") runs its vendor's",
                ));
            }
            (Protocol::MlperfTiny, None, launch, _) if !matches!(launch, LaunchDef::Running) => {
                return Err(problem(
                    "an MLPerf Tiny device (protocol = \"mlperf-tiny\") is flashed by its vendor's tools: give launch kind \"running\"",
                ));
            }
            (
                Protocol::MlperfTiny,
                None,
                _,
                TransportDef::Serial { path: None, .. }
                | TransportDef::Tcp { address: None }
                | TransportDef::Rtt {},
            ) => {
                return Err(problem(
                    "an MLPerf Tiny device is reached over its UART: give transport kind \"serial\" with its path, or \"tcp\" with its address",
                ));
            }
            _ => {}
        }
        if let LaunchDef::Probe { chip, .. } = &def.launch {
            super::launch::probe::check_chip(chip)
                .map_err(|e| Error::input(format!("{}: {}", path.display(), e.message())))?;
        }
        if matches!(def.transport, TransportDef::Rtt {})
            && !matches!(def.launch, LaunchDef::Probe { .. })
        {
            return Err(Error::input(format!(
                "{}: transport kind \"rtt\" goes through a debug probe: it needs launch kind \"probe\"",
                path.display()
            )));
        }
        Ok(def)
    }

    /// The largest model the board can hold: a model goes into its flash
    /// slot when it fits there and over the link into RAM otherwise, so
    /// the larger of the two.
    pub fn model_capacity(&self) -> ModelCapacity {
        let ram = ModelCapacity {
            bytes: self.memory.ram_bytes,
            holder: format!("board {}'s RAM", self.name),
        };
        match &self.memory.flash_slot {
            Some(slot) if slot.bytes > ram.bytes => ModelCapacity {
                bytes: slot.bytes,
                holder: format!("board {}'s flash model slot", self.name),
            },
            _ => ram,
        }
    }

    /// The firmware ELF's path; an MLPerf Tiny device has none vlab knows.
    pub fn elf(&self) -> Result<PathBuf> {
        match &self.firmware {
            Some(firmware) => Ok(self.dir.join(&firmware.elf)),
            None => Err(Error::input(format!(
                "board {} is an MLPerf Tiny device running its vendor's firmware: vlab neither builds nor flashes it",
                self.name
            ))),
        }
    }

    /// Host device files a container running this board's benchmarks
    /// needs: its serial port, and the USB bus for its debug probe. An
    /// emulated board needs none.
    pub fn host_devices(&self) -> Vec<String> {
        let probe = matches!(self.launch, LaunchDef::Probe { .. });
        let mut devices = match (&self.launch, &self.transport) {
            (LaunchDef::Qemu { .. }, _) => Vec::new(),
            (
                _,
                TransportDef::Serial {
                    path: Some(path), ..
                },
            ) => vec![path.clone()],
            (
                _,
                TransportDef::Serial { path: None, .. }
                | TransportDef::Tcp { .. }
                | TransportDef::Rtt {},
            ) => Vec::new(),
        };
        if probe {
            devices.push("/dev/bus/usb".to_owned());
        }
        devices
    }

    /// The error of a board whose firmware ELF `elf`, which vlab must
    /// launch or flash, is not there.
    pub fn firmware_missing(&self, elf: &Path) -> Error {
        Error::runtime(format!(
            "the firmware of board {} is not built ({} is missing): run `{}`",
            self.name,
            elf.display(),
            self.build_command()
        ))
    }

    /// The command that builds this board's firmware.
    pub fn build_command(&self) -> String {
        format!(
            "cargo build --release --manifest-path {} --target {}",
            self.dir.join("Cargo.toml").display(),
            self.target
        )
    }
}

/// The board definitions in a folder: MCU boards, and Linux boards
/// reached over SSH.
#[derive(Debug, Clone)]
pub struct Boards {
    dir: PathBuf,
    boards: Vec<BoardDef>,
    linux: Vec<LinuxBoardDef>,
}

impl Boards {
    /// The folder vlab takes boards from: `explicit`, else `VLAB_BOARDS_DIR`,
    /// else `boards/` in the current folder, else the source tree's.
    pub fn default_dir(explicit: Option<&Path>) -> PathBuf {
        if let Some(dir) = explicit {
            return dir.to_path_buf();
        }
        if let Some(dir) = std::env::var_os("VLAB_BOARDS_DIR") {
            return PathBuf::from(dir);
        }
        let local = PathBuf::from("boards");
        if has_boards(&local) {
            return local;
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards")
    }

    /// Reads every `*/board.toml` in `dir`, sorted by name.
    pub fn load(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::input(format!(
                "boards folder {}: {}",
                dir.display(),
                vlab_harness::error::describe_io(&e)
            ))
        })?;
        let (mut boards, mut linux) = (Vec::new(), Vec::new());
        for entry in entries.flatten() {
            let folder = entry.path();
            let path = folder.join("board.toml");
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, &e))?;
            if is_linux_board(&text) {
                linux.push(LinuxBoardDef::load(&folder, &text)?);
            } else {
                boards.push(BoardDef::parse(&folder, &text)?);
            }
        }
        boards.sort_by(|a, b| a.name.cmp(&b.name));
        linux.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            dir: dir.to_path_buf(),
            boards,
            linux,
        })
    }

    /// Every Linux board, by name.
    pub fn linux(&self) -> &[LinuxBoardDef] {
        &self.linux
    }

    /// The Linux board called `name`, if there is one.
    pub fn linux_board(&self, name: &str) -> Option<&LinuxBoardDef> {
        self.linux.iter().find(|b| b.name == name)
    }

    /// Every board, by name.
    pub fn all(&self) -> &[BoardDef] {
        &self.boards
    }

    /// The MCU board called `name`, or an error listing the known boards.
    pub fn get(&self, name: &str) -> Result<&BoardDef> {
        self.boards.iter().find(|b| b.name == name).ok_or_else(|| {
            let mut known: Vec<&str> = self.boards.iter().map(|b| b.name.as_str()).collect();
            known.extend(self.linux.iter().map(|b| b.name.as_str()));
            known.sort_unstable();
            Error::input(format!(
                "unknown board {name:?}: the boards in {} are {}",
                self.dir.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }
}

/// `text`, the file at `path`, as `T`; a TOML error names the file and
/// where in it.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        Error::input(format!(
            "{}: {}",
            path.display(),
            e.to_string().trim_end().replace('\n', " ")
        ))
    })
}

fn has_boards(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().join("board.toml").is_file())
        })
        .unwrap_or(false)
}
