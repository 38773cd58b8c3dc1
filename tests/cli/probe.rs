//! Boards behind a debug probe, on a machine without one (CI): `vlab
//! probes`, and `vlab bench`/`vlab flash` on every probe board (serial and
//! RTT transports) fail clearly. Flashing itself needs the board: a hardware-in-the-loop run
//! (docs/boards.md).

use std::path::Path;

use crate::support::{model, qemu_firmware, root, vlab};

/// A boards folder holding one probe-flashed board with `chip` (for a
/// chip name probe-rs does not know).
fn probe_board(dir: &Path, chip: &str) {
    let board = dir.join("nucleo-test");
    std::fs::create_dir_all(&board).unwrap();
    let elf = root().join("boards/target/thumbv7m-none-eabi/release/vlab-board-qemu-mps2-an385");
    std::fs::write(
        board.join("board.toml"),
        format!(
            r#"name = "nucleo-test"
description = "NUCLEO-L4R5ZI behind its ST-LINK"
core = "cortex-m4f"
target = "thumbv7em-none-eabihf"
core_clock_hz = 120_000_000

[memory]
flash_bytes = 2_097_152
ram_bytes = 655_360

[firmware]
elf = "{}"

[launch]
kind = "probe"
chip = "{chip}"

[transport]
kind = "serial"
path = "/dev/ttyACM0"
"#,
            elf.display()
        ),
    )
    .unwrap();
}

#[test]
fn probes_answers_without_a_probe() {
    let output = vlab(&["probes"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("no debug probes found") || stdout.contains(':'),
        "{stdout}"
    );
}

#[test]
fn bench_on_every_probe_board_without_a_probe_says_what_to_check() {
    qemu_firmware();
    let kws = model("keyword_spotting.tflite");
    for (board, chip, transport) in [
        ("nucleo-l4r5zi", "STM32L4R5ZITx", "serial"),
        ("stm32f746g-disco", "STM32F746NGHx", "serial"),
        ("nrf52840-dk", "nRF52840_xxAA", "rtt"),
        ("rpi-pico", "RP2040", "rtt"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let output = vlab(&[
            "bench",
            "--board",
            board,
            "--model",
            kws.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{board} ({transport}): {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{board}: {stderr}");
        let log = std::fs::read_to_string(out.path().join("error.log")).unwrap();
        for needle in [
            format!("no debug probe found for board {board} (chip {chip})"),
            "plugged in over USB".to_owned(),
            "udev rules".to_owned(),
        ] {
            assert!(log.contains(&needle), "{needle:?} in {log}");
        }
        assert!(!out.path().join("report.json").exists());
    }
}

#[test]
fn rtt_is_refused_where_there_is_no_probe_to_carry_it() {
    qemu_firmware();
    let kws = model("keyword_spotting.tflite");
    let out = tempfile::tempdir().unwrap();
    let output = vlab(&[
        "bench",
        "--board",
        "qemu-mps2-an385",
        "--transport",
        "rtt",
        "--model",
        kws.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("board qemu-mps2-an385 is emulated and has no debug probe"),
        "{stderr}"
    );

    let boards = tempfile::tempdir().unwrap();
    probe_board(boards.path(), "STM32L4R5ZITx");
    let toml = boards.path().join("nucleo-test/board.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = text
        .replace(
            "kind = \"probe\"\nchip = \"STM32L4R5ZITx\"",
            "kind = \"running\"",
        )
        .replace(
            "kind = \"serial\"\npath = \"/dev/ttyACM0\"",
            "kind = \"rtt\"",
        );
    std::fs::write(&toml, text).unwrap();
    let output = vlab(&["boards", "--boards-dir", boards.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("nucleo-test/board.toml: transport kind \"rtt\" goes through a debug probe"),
        "{stderr}"
    );
}

#[test]
fn flash_without_a_probe_fails_clearly() {
    qemu_firmware();
    let output = vlab(&["flash", "--board", "nucleo-l4r5zi"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no debug probe found"), "{stderr}");

    let output = vlab(&["flash", "--board", "qemu-mps2-an385"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not flashed through a debug probe"),
        "{stderr}"
    );
}

#[test]
fn a_chip_probe_rs_does_not_know_is_named_with_its_file() {
    let boards = tempfile::tempdir().unwrap();
    probe_board(boards.path(), "STM32L4R5QQ");
    let output = vlab(&["boards", "--boards-dir", boards.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nucleo-test/board.toml: chip \"STM32L4R5QQ\": probe-rs does not know it"),
        "{stderr}"
    );
}
