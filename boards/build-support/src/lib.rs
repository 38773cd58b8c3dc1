//! The build script of every vlab board firmware crate (`build.rs` calls
//! [`run`]): it puts the board's `memory.x` on the linker's path for
//! cortex-m-rt's `link.x`, adds defmt's linker script, passes the board's
//! name, clock and flash slot from `board.toml` to the firmware as
//! environment variables, and derives the firmware's build hash (reported
//! in `Identify`, kept in the `VLAB_BUILD_HASH` symbol) from every source
//! file that goes into the image.
//!
//! A build script reports a broken board folder by panicking: cargo shows
//! the message as the build's error.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Sources every firmware is made of, relative to a board's folder.
const SHARED_SOURCES: [&str; 4] = [
    "../../firmware/src",
    "../../protocol/src",
    "../../runtimes/micro/src",
    "../support/src",
];

/// Runs the build script for the board crate in the current folder, whose
/// own sources are `sources` (relative to its folder) besides `memory.x`,
/// `Cargo.toml` and `board.toml`.
pub fn run(sources: &[&str]) {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("memory.x is readable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    // defmt's log string table, read by the host's decoder from the ELF.
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");

    let board: toml::Table = std::fs::read_to_string("board.toml")
        .expect("board.toml is readable")
        .parse()
        .expect("board.toml is valid TOML");
    let name = board["name"].as_str().expect("board.toml: name");
    let clock = board["core_clock_hz"]
        .as_integer()
        .expect("board.toml: core_clock_hz");
    println!("cargo:rustc-env=VLAB_BOARD_NAME={name}");
    println!("cargo:rustc-env=VLAB_CORE_CLOCK_HZ={clock}");
    let slot = board["memory"].get("flash_slot").and_then(|s| s.as_table());
    for key in ["address", "bytes"] {
        let value = slot.map_or(0, |s| s[key].as_integer().expect("board.toml: flash_slot"));
        println!(
            "cargo:rustc-env=VLAB_FLASH_SLOT_{}={value}",
            key.to_uppercase()
        );
    }

    let mut files = Vec::new();
    let own = ["memory.x", "Cargo.toml", "board.toml"];
    for source in own.iter().chain(sources).chain(&SHARED_SOURCES) {
        println!("cargo:rerun-if-changed={source}");
        collect(Path::new(source), &mut files);
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        hash.update(file.to_string_lossy().as_bytes());
        hash.update(std::fs::read(file).expect("source file is readable"));
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=VLAB_BUILD_HASH={hex}");
}

/// Every file under `path`, recursively.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).expect("source folder is readable");
        for entry in entries.flatten() {
            collect(&entry.path(), files);
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
}
