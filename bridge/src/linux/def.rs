//! Linux boards' `board.toml`: a board that runs Linux and the engines
//! users deploy (a Raspberry Pi, a Jetson, an i.MX board), reached over
//! SSH. `[launch] kind = "ssh"` tells such a file from an MCU board's.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vlab_harness::{Error, Result};

use crate::board::def::from_toml;

/// A Linux board's `board.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinuxBoardDef {
    /// Board name, as `--board` and a job's `TARGET` take it.
    pub name: String,
    /// One line for `vlab boards`.
    pub description: String,
    /// CPU core, for people (`cortex-a76`); reports read the board's own.
    pub core: Option<String>,
    /// Declared sizes, for the lab's catalog; reports read the board's own.
    pub memory: Option<LinuxMemoryDef>,
    /// How vlab reaches it.
    pub launch: SshDef,
    /// The folder holding this board.toml.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// A Linux board's declared sizes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinuxMemoryDef {
    /// RAM, bytes.
    pub ram_bytes: u64,
    /// Storage (SD card, eMMC, disk), bytes.
    pub storage_bytes: u64,
}

/// `[launch]` of a Linux board: where SSH reaches it and what it runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshDef {
    /// Always `ssh`.
    pub kind: SshKind,
    /// Address, or a `Host` of the user's ssh config.
    pub host: String,
    /// Login user [default: ssh's: the config's, else the local user].
    pub user: Option<String>,
    /// Port [default: ssh's: the config's, else 22].
    pub port: Option<u16>,
    /// Private key file, relative to the board's folder, absolute, or
    /// under `~/` [default: ssh's: the config's, the agent's, ~/.ssh/id_*].
    pub identity_file: Option<PathBuf>,
    /// known_hosts file holding the board's host key, relative to the
    /// board's folder, absolute or under `~/` [default: the user's]. vlab
    /// never accepts an unknown host key.
    pub known_hosts: Option<PathBuf>,
    /// The board's architecture: which vlab build and engine libraries it gets.
    pub arch: Arch,
    /// The engines it offers (`ort`, `tflite`, `tract`, `micro`).
    pub engines: Vec<String>,
    /// A program that runs the board's binaries, for a board emulated
    /// with qemu-user: `["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]`.
    #[serde(default)]
    pub exec_prefix: Vec<String>,
    /// vlab's folder on the board: the cache, and a folder per run
    /// [default: `.cache/vlab` in the login's home].
    pub workdir: Option<String>,
}

/// The one launch kind of a Linux board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SshKind {
    /// Reached over SSH.
    Ssh,
}

/// A Linux board's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// 64-bit Arm (Raspberry Pi 4/5 with a 64-bit OS, Jetson, i.MX 8).
    Aarch64,
    /// 32-bit Arm with hardware float (Raspberry Pi OS 32-bit, i.MX 6/7).
    Armv7,
    /// 64-bit x86.
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Arch {
    /// As board.toml and the tarballs of `scripts/build-targets.sh` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64",
            Arch::Armv7 => "armv7",
            Arch::X86_64 => "x86_64",
        }
    }

    /// What `uname -m` prints on a board of this architecture.
    pub fn uname(self) -> &'static [&'static str] {
        match self {
            Arch::Aarch64 => &["aarch64", "arm64"],
            Arch::Armv7 => &["armv7l", "armv7", "armv8l"],
            Arch::X86_64 => &["x86_64", "amd64"],
        }
    }

    /// The architecture of this vlab build.
    pub fn this_build() -> Option<Self> {
        match std::env::consts::ARCH {
            "aarch64" => Some(Arch::Aarch64),
            "arm" => Some(Arch::Armv7),
            "x86_64" => Some(Arch::X86_64),
            _ => None,
        }
    }
}

impl LinuxBoardDef {
    /// Reads and checks `board.toml` in `dir`.
    pub fn load(dir: &Path, text: &str) -> Result<Self> {
        let path = dir.join("board.toml");
        let mut def: LinuxBoardDef = from_toml(&path, text)?;
        def.dir = dir.to_path_buf();
        if def.launch.engines.is_empty() {
            return Err(Error::input(format!(
                "{}: launch.engines is empty: name the engines the board offers (ort, tflite, tract, micro)",
                path.display()
            )));
        }
        Ok(def)
    }

    /// A path board.toml gives: `~/` is the user's home, a relative path
    /// is the board folder's.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match path.strip_prefix("~") {
            Ok(rest) => std::env::var_os("HOME")
                .map_or_else(|| path.to_path_buf(), |home| PathBuf::from(home).join(rest)),
            Err(_) => self.dir.join(path),
        }
    }

    /// The engine `asked` for, checked against the board's, or its first.
    pub fn engine<'a>(&'a self, asked: Option<&'a str>) -> Result<&'a str> {
        let offered = &self.launch.engines;
        match asked {
            None => Ok(&offered[0]),
            Some(engine) if offered.iter().any(|e| e == engine) => Ok(engine),
            Some(engine) => Err(Error::input(format!(
                "--engine {engine}: board {} offers {}",
                self.name,
                offered.join(", ")
            ))),
        }
    }
}

/// Whether the board.toml `text` is a Linux board's (`[launch] kind = "ssh"`).
pub fn is_linux_board(text: &str) -> bool {
    toml::from_str::<toml::Value>(text).is_ok_and(|value| {
        value
            .get("launch")
            .and_then(|launch| launch.get("kind"))
            .and_then(toml::Value::as_str)
            == Some("ssh")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RPI5: &str = r#"
name = "rpi5"
description = "Raspberry Pi 5"
core = "cortex-a76"

[memory]
ram_bytes = 8_589_934_592
storage_bytes = 63_864_569_856

[launch]
kind = "ssh"
host = "rpi5.lab"
user = "pi"
identity_file = "~/.ssh/vlab"
known_hosts = "known_hosts"
arch = "aarch64"
engines = ["ort", "tflite"]
"#;

    #[test]
    fn a_linux_board_reads_and_resolves_its_paths() {
        assert!(is_linux_board(RPI5));
        assert!(!is_linux_board("[launch]\nkind = \"qemu\"\n"));
        let board = LinuxBoardDef::load(Path::new("/boards/rpi5"), RPI5).unwrap();
        assert_eq!(board.launch.arch, Arch::Aarch64);
        assert_eq!(
            board.resolve(Path::new("known_hosts")),
            Path::new("/boards/rpi5/known_hosts")
        );
        assert!(!board.resolve(Path::new("~/.ssh/vlab")).starts_with("~"));
        assert_eq!(board.engine(None).unwrap(), "ort");
        assert_eq!(board.engine(Some("tflite")).unwrap(), "tflite");
        let refused = board.engine(Some("micro")).unwrap_err();
        assert_eq!(
            refused.message(),
            "--engine micro: board rpi5 offers ort, tflite"
        );
    }

    #[test]
    fn a_wrong_key_or_no_engines_is_an_error_naming_the_file() {
        let typo = RPI5.replace("user = ", "usr = ");
        let e = LinuxBoardDef::load(Path::new("/b"), &typo).unwrap_err();
        assert!(
            e.message().starts_with("/b/board.toml: "),
            "{}",
            e.message()
        );
        assert!(e.message().contains("usr"), "{}", e.message());
        let none = RPI5.replace(r#"engines = ["ort", "tflite"]"#, "engines = []");
        let e = LinuxBoardDef::load(Path::new("/b"), &none).unwrap_err();
        assert!(e.message().contains("launch.engines is empty"));
    }
}
