//! `vlab bench --board`: the real firmware on QEMU's mps2-an385, through the
//! real bridge, over TCP and a pty. scripts/setup.sh installs
//! qemu-system-arm and the thumbv7m target.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vlab_protocol::{
    Capabilities, Decoder, Event, Identify, MAX_FRAME, Request, TimerKind, encode,
};

use crate::support::{bench_ok, json, model, qemu_firmware, vlab};

const BOARD: &str = "qemu-mps2-an385";

/// `vlab bench --board qemu-mps2-an385` with `args`, expecting success.
fn board_ok(out: &Path, args: &[&str]) -> (Value, Value) {
    qemu_firmware();
    let mut all = vec!["--board", BOARD];
    all.extend_from_slice(args);
    bench_ok(out, &all);
    (
        json(&out.join("report.json")),
        json(&out.join("vlab-report.json")),
    )
}

/// `vlab bench` with `args` into `out`, expecting failure with `code`;
/// returns error.log, which must say what stderr says.
fn fails(out: &Path, args: &[&str], code: i32) -> String {
    let mut all = vec!["bench", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = vlab(&all);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "vlab {all:?}: {stderr}");
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(
        !log.trim().is_empty(),
        "error.log is empty; stderr: {stderr}"
    );
    assert!(!out.join("report.json").exists());
    log
}

fn ticks(report: &Value) -> Vec<u64> {
    report["device"]["samples_ticks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect()
}

#[test]
fn keyword_spotting_runs_on_the_board_with_per_layer_timing() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let (contract, full) = board_ok(
        dir.path(),
        &[
            "--model",
            kws.to_str().unwrap(),
            "--iterations",
            "20",
            "--per-layer",
        ],
    );
    assert_eq!(contract["target"], BOARD);
    assert_eq!(contract["nb_infernece"], 20);
    assert_eq!(contract["ram_size"], 4_194_304);
    assert_eq!(contract["flash_size"], 4_194_304);
    assert!(contract["ram_peak"].as_f64().unwrap() > 0.0);
    assert!(contract["flash_usage"].as_f64().unwrap() > 0.0);
    assert!(
        contract["inference_engine"]
            .as_str()
            .unwrap()
            .starts_with("micro ")
    );
    assert_eq!(full["timing"]["samples_ns"].as_array().unwrap().len(), 20);
    let ticks = ticks(&full);
    assert_eq!(ticks.len(), 20);
    // Seconds are ticks over the board's 25 MHz SysTick.
    let ns = full["timing"]["samples_ns"][0].as_u64().unwrap();
    assert_eq!(ns, (ticks[0] as f64 * 40.0).round() as u64);
    let layers = full["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 15, "keyword_spotting has 15 operators");
    assert_eq!(layers[1]["op"], "CONV_2D");
    assert!(
        layers
            .iter()
            .all(|l| l["median_ns"].as_f64().unwrap() > 0.0)
    );
    let device = &full["device"];
    // 16,000 B of activations plus the float input and output (2,048 B),
    // the interpreter's tables, the data prepared at load (per-channel
    // multipliers and folded sums) and the convolutions' working memory,
    // which live in the arena too (docs/micro.md): 18,448 B on the board
    // today, 19,024 B before the ARMv7 kernels.
    let arena = device["arena_used_bytes"].as_u64().unwrap();
    assert!((16_000 + 1024..16_000 + 20_480).contains(&arena), "{arena}");
    assert!(device["stack_used_bytes"].as_u64().unwrap() > 0);
    assert_eq!(device["model_uploaded"], true);
    let log = std::fs::read_to_string(dir.path().join("user.log")).unwrap();
    assert!(log.contains("board    qemu-mps2-an385"), "{log}");
    // The firmware's defmt logs, carried in Log frames and decoded with the
    // ELF's table.
    assert!(
        log.contains(&format!(
            "board: INFO  model received: 53736 B, tensor arena {arena} B"
        )),
        "{log}"
    );
    assert!(
        log.contains("board: INFO  run 2: 5 warmup, 20 timed, "),
        "{log}"
    );
    let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert_eq!(errors, "");
    // report.html shows the board's memory against its sizes and the
    // per-layer chart (tests/cli/report.rs renders such pages in Chromium).
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let arena_row = format!(
        "<td>tensor arena</td><td class=\"num\">{:.1} KiB</td><td>of 1.0 MiB</td>",
        arena as f64 / 1024.0
    );
    for needle in [
        "keyword_spotting.tflite on qemu-mps2-an385",
        "id=\"layers\"",
        arena_row.as_str(),
        "<td>stack</td>",
    ] {
        assert!(page.contains(needle), "{needle} in report.html");
    }
}

#[test]
fn verbose_shows_the_firmware_logs_as_they_arrive() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let output = vlab(&[
        "bench",
        "--board",
        BOARD,
        "--model",
        kws.to_str().unwrap(),
        "--iterations",
        "1",
        "--warmup",
        "0",
        "--verbose",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("board: INFO  vlab firmware on qemu-mps2-an385: 1048576 B model slot"),
        "{stderr}"
    );
    assert!(
        stderr.contains("board: INFO  run 2: 0 warmup, 1 timed"),
        "{stderr}"
    );
}

#[test]
fn image_classification_runs_on_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let ic = model("image_classification.tflite");
    let (contract, full) = board_ok(
        dir.path(),
        &[
            "--model",
            ic.to_str().unwrap(),
            "--iterations",
            "3",
            "--warmup",
            "1",
        ],
    );
    assert_eq!(contract["nb_infernece"], 3);
    // 49,152 B of activations plus the interpreter's tables, prepared data
    // and working memory (21,824 B on the board today).
    let arena = full["device"]["arena_used_bytes"].as_u64().unwrap();
    assert!((49_152 + 1024..49_152 + 24_576).contains(&arena), "{arena}");
}

/// Seeded float inputs in [-1, 1) for a dataset file.
fn dataset(path: &Path, floats: usize) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..floats)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 23) as f32 - 1.0).to_le_bytes()
        })
        .collect();
    std::fs::write(path, bytes).unwrap();
}

/// Runs `samples` keyword-spotting dataset samples on `board` and with the
/// host's micro engine; returns both reports after checking that the raw
/// outputs are identical.
fn type2_on_board_and_host(board: &str, samples: usize) -> (Value, Value) {
    let kws = model("keyword_spotting.tflite");
    type2_matches_host(board, &kws, samples, 500, 12 * 4)
}

/// Runs `samples` seeded float samples of `floats` values through `model`
/// on `board` and with the host's micro engine; returns the board's
/// reports after checking that the raw outputs (`out_bytes` a sample) are
/// identical.
fn type2_matches_host(
    board: &str,
    kws: &Path,
    samples: usize,
    floats: usize,
    out_bytes: usize,
) -> (Value, Value) {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("samples.bin");
    dataset(&data, samples * floats);
    let (host, on_board) = (dir.path().join("host"), dir.path().join("board"));
    let args = [
        "--model",
        kws.to_str().unwrap(),
        "--dataset",
        data.to_str().unwrap(),
        "--warmup",
        "1",
    ];
    let mut host_args = vec!["--engine", "micro"];
    host_args.extend_from_slice(&args);
    bench_ok(&host, &host_args);
    let mut board_args = vec!["--board", board];
    board_args.extend_from_slice(&args);
    bench_ok(&on_board, &board_args);
    let host_out = std::fs::read(host.join("raw_output.bin")).unwrap();
    let board_out = std::fs::read(on_board.join("raw_output.bin")).unwrap();
    assert_eq!(host_out.len(), samples * out_bytes);
    assert_eq!(board_out, host_out, "{board} and host outputs differ");
    (
        json(&on_board.join("report.json")),
        json(&on_board.join("vlab-report.json")),
    )
}

#[test]
fn type2_outputs_on_the_board_equal_the_host_micro_engine() {
    let (contract, _) = type2_on_board_and_host(BOARD, 3);
    assert_eq!(contract["benchmark_type"], "TYPE2");
    assert_eq!(contract["nb_infernece"], 3);
}

#[test]
fn a_float32_96x96x3_image_model_runs_on_the_emulated_board() {
    // 110,592 B a sample, written straight into the input tensor in the
    // board's arena (there is no staging buffer to outgrow).
    let image = crate::support::root().join("tests/goldens/ops/image_96x96x3_f32.tflite");
    let (contract, _) = type2_matches_host(BOARD, &image, 2, 96 * 96 * 3, 48 * 48 * 8 * 4);
    assert_eq!(contract["nb_infernece"], 2);
}

#[test]
fn the_cortex_m4f_board_gives_the_host_micro_outputs_too() {
    let (_, full) = type2_on_board_and_host("qemu-mps2-an386", 2);
    assert_eq!(full["device"]["board"], "qemu-mps2-an386");
    assert_eq!(full["device"]["samples_ticks"].as_array().unwrap().len(), 2);
}

#[test]
fn ticks_repeat_exactly_under_icount_over_a_pty_and_from_the_flash_slot() {
    let tiny = model("tiny_cnn.tflite");
    let args = ["--model", tiny.to_str().unwrap(), "--iterations", "10"];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, first) = board_ok(a.path(), &args);
    let mut serial = args.to_vec();
    serial.extend_from_slice(&["--transport", "serial"]);
    let (_, second) = board_ok(b.path(), &serial);
    assert!(
        second["device"]["transport"]
            .as_str()
            .unwrap()
            .starts_with("serial /dev/pts/"),
        "{}",
        second["device"]["transport"]
    );
    assert_eq!(ticks(&first), ticks(&second));
    assert!(ticks(&first).iter().all(|&t| t > 0));
    assert_eq!(first["device"]["model_uploaded"], true);

    // The model in the flash slot, loaded by QEMU at launch: no upload,
    // the same ticks.
    let c = tempfile::tempdir().unwrap();
    let mut preload = args.to_vec();
    preload.push("--preload");
    let (_, third) = board_ok(c.path(), &preload);
    assert_eq!(third["device"]["model_uploaded"], false);
    assert_eq!(ticks(&third), ticks(&first));
}

#[test]
fn a_faulty_link_costs_resends_not_results() {
    let kws = model("keyword_spotting.tflite");
    let args = ["--model", kws.to_str().unwrap(), "--iterations", "20"];
    let (clean, faulty) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, reference) = board_ok(clean.path(), &args);
    let mut with_faults = args.to_vec();
    with_faults.extend_from_slice(&["--inject-faults", "1e-3", "--per-layer"]);
    let (contract, report) = board_ok(faulty.path(), &with_faults);
    assert_eq!(contract["nb_infernece"], 20, "every sample accounted for");
    // Under -icount the ticks are exact, so any corrupted frame taken as
    // valid would show here.
    assert_eq!(ticks(&report), ticks(&reference));
    assert_eq!(report["layers"].as_array().unwrap().len(), 15);
    assert!(report["device"]["resent_requests"].as_u64().unwrap() > 0);
    // What the fault injector did is on record, and nothing of it on a
    // clean run.
    let faults = &report["device"]["injected_faults"];
    assert_eq!(faults["rate"], 1e-3);
    let corrupted: u64 = ["dropped", "flipped", "duplicated"]
        .iter()
        .map(|k| faults[k].as_u64().unwrap())
        .sum();
    assert!(corrupted > 0, "{faults}");
    assert!(reference["device"]["injected_faults"].is_null());
}

#[test]
fn a_hopeless_link_fails_clearly_without_hanging() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let tiny = model("tiny_cnn.tflite");
    let start = Instant::now();
    let log = fails(
        dir.path(),
        &[
            "--board",
            BOARD,
            "--model",
            tiny.to_str().unwrap(),
            "--inject-faults",
            "0.05",
        ],
        1,
    );
    assert!(log.contains("did not answer"), "{log}");
    assert!(start.elapsed() < Duration::from_secs(120));
}

#[test]
fn qemu_killed_mid_run_is_a_clear_error() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--board", BOARD, "--iterations", "1000", "--out"])
        .arg(dir.path())
        .arg("--model")
        .arg(&kws)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for QEMU to start, then give the upload time to finish.
    let qemu = (0..200)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            child_of(child.id(), "qemu-system-arm")
        })
        .expect("vlab starts QEMU");
    std::thread::sleep(Duration::from_secs(6));
    Command::new("kill")
        .args(["-9", &qemu.to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(log.contains("QEMU was killed by a signal"), "{log}");
    assert!(!dir.path().join("report.json").exists());
}

/// The pid of a child process of `parent` running `program`.
fn child_of(parent: u32, program: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
            let (comm, rest) = stat.split_once(") ")?;
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent && comm.ends_with(&program[..program.len().min(15)])).then_some(pid)
        })
}

#[test]
fn unknown_board_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let log = fails(
        dir.path(),
        &["--board", "nucleo-h7", "--model", kws.to_str().unwrap()],
        2,
    );
    assert!(log.contains("unknown board \"nucleo-h7\""), "{log}");
    assert!(log.contains(BOARD), "{log}");
}

#[test]
fn a_model_larger_than_the_slot_is_refused() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let mut big = std::fs::read(model("keyword_spotting.tflite")).unwrap();
    big.resize(1_200_000, 0); // trailing bytes: still a valid model
    let path = dir.path().join("padded.tflite");
    std::fs::write(&path, big).unwrap();
    let log = fails(
        &dir.path().join("out"),
        &["--board", BOARD, "--model", path.to_str().unwrap()],
        2,
    );
    assert!(log.contains("padded.tflite"), "{log}");
    assert!(log.contains("model slot holds 1048576 B"), "{log}");
}

#[test]
fn a_model_whose_arena_does_not_fit_is_refused_before_the_upload() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let large = crate::support::root().join("tests/models/large_arena_f32.tflite");
    let log = fails(
        dir.path(),
        &["--board", BOARD, "--model", large.to_str().unwrap()],
        2,
    );
    // The host's check, from the board's Identify, not the board's answer
    // to an upload.
    assert!(
        log.contains(
            "needs a tensor arena of at least 4194304 B; board qemu-mps2-an385's firmware has 1048576 B"
        ),
        "{log}"
    );
}

/// A stand-in for a board running older firmware (protocol version 1),
/// which this tree cannot build: it answers Hello with an old Identify.
fn old_firmware_board() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut decoder = Decoder::new();
        let mut byte = [0u8; 1];
        while stream.read_exact(&mut byte).is_ok() {
            if let Some(Ok(Request::Hello { .. })) = decoder.push::<Request>(byte[0]) {
                let identify = Event::Identify(Identify {
                    protocol_version: 1,
                    firmware_version: 0x0000_0900,
                    build_hash: [0; 8],
                    board: "old-board".try_into().unwrap(),
                    core_clock_hz: 80_000_000,
                    timer: TimerKind::Dwt,
                    timer_hz: 80_000_000,
                    arena_bytes: 65536,
                    model_slot_bytes: 65536,
                    max_samples: 100,
                    capabilities: Capabilities(0),
                });
                let mut frame = [0u8; MAX_FRAME];
                let n = encode(&identify, &mut frame).unwrap();
                stream.write_all(&frame[..n]).unwrap();
            }
        }
    });
    port
}

#[test]
fn a_firmware_speaking_another_protocol_version_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let boards = dir.path().join("boards");
    std::fs::create_dir_all(boards.join("old-board")).unwrap();
    std::fs::write(
        boards.join("old-board/board.toml"),
        format!(
            r#"name = "old-board"
description = "a board on the network running old firmware"
core = "cortex-m4"
target = "thumbv7em-none-eabihf"
core_clock_hz = 80_000_000
[memory]
flash_bytes = 1048576
ram_bytes = 262144
[firmware]
elf = "firmware.elf"
[launch]
kind = "running"
[transport]
kind = "tcp"
address = "127.0.0.1:{}"
"#,
            old_firmware_board()
        ),
    )
    .unwrap();
    let kws = model("keyword_spotting.tflite");
    let log = fails(
        &dir.path().join("out"),
        &[
            "--board",
            "old-board",
            "--boards-dir",
            boards.to_str().unwrap(),
            "--model",
            kws.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        log.contains("host speaks version 2, board firmware speaks version 1"),
        "{log}"
    );
}

#[test]
fn boards_lists_the_qemu_board_and_its_state() {
    qemu_firmware();
    let output = vlab(&["boards"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(BOARD), "{text}");
    assert!(
        text.contains("cortex-m3 (thumbv7m-none-eabi), 25 MHz"),
        "{text}"
    );
    assert!(text.contains("state: ready (emulated"), "{text}");
}
