//! `vlab bench --board B` where board.toml says `protocol = "mlperf-tiny"`:
//! vlab's firmware in MLPerf Tiny mode on the emulated board, reached as
//! any vendor's device would be, measured by the one measured loop and
//! reported in the same artifacts as every target; and a scripted device
//! whose windows cost more than a timer tick, which gets windows of N.

use std::path::{Path, PathBuf};

use crate::mlperf_tiny::{Served, inputs, native};
use crate::mlperf_tiny_driver::{honest, scripted};
use crate::support::{bench_on_board as bench, json, model, qemu_firmware, vlab};

/// A boards folder with one MLPerf Tiny device, `name`, at `address`.
fn dut_board(dir: &Path, name: &str, address: &str) -> PathBuf {
    let boards = dir.join("boards");
    std::fs::create_dir_all(boards.join(name)).unwrap();
    std::fs::write(
        boards.join(name).join("board.toml"),
        format!(
            r#"name = "{name}"
description = "an MLPerf Tiny device under test"
core = "cortex-m3"
target = "thumbv7m-none-eabi"
core_clock_hz = 25_000_000
protocol = "mlperf-tiny"

[memory]
flash_bytes = 4_194_304
ram_bytes = 4_194_304

[launch]
kind = "running"

[transport]
kind = "tcp"
address = "{address}"
"#
        ),
    )
    .unwrap();
    boards
}

fn succeeded(run: &std::process::Output) {
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn bench_on_an_mlperf_tiny_device_reports_like_every_target() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let ic = model("image_classification.tflite");
    let served = Served::start(&ic, "tcp");
    let boards = dut_board(dir.path(), "dut-ic", &served.endpoint);

    // TYPE1: per-inference samples, single-inference windows.
    let out = dir.path().join("type1");
    succeeded(&bench(
        &boards,
        "dut-ic",
        &out,
        &["--iterations", "5", "--warmup", "1"],
    ));
    let contract = json(&out.join("report.json"));
    assert_eq!(contract["model_file_name"], "ic01");
    assert_eq!(contract["inference_engine"], "mlperf-tiny vlab");
    assert_eq!(contract["target"], "dut-ic");
    assert_eq!(contract["nb_infernece"], 5);
    let report = json(&out.join("vlab-report.json"));
    let held = &report["model"]["held"];
    assert_eq!(
        (&held["device"], &held["vendor"], &held["model_key"]),
        (&"dut".into(), &"vlab".into(), &"ic01".into())
    );
    assert!(report["model"]["sha256"].is_null());
    let dut = &report["dut"];
    assert_eq!(dut["inferences_per_sample"], 1, "{dut:#}");
    assert_eq!(dut["uploads_verified"], true);
    let windows: Vec<u64> = dut["samples_window_us"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect();
    let samples: Vec<u64> = report["timing"]["samples_ns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert_eq!(
        samples,
        windows.iter().map(|w| w * 1000).collect::<Vec<_>>()
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("ic01, held by the MLPerf Tiny device dut-[vlab]"),
        "report.html names the held model"
    );
    assert!(html.contains("Each sample is one inference"));

    // TYPE2: every sample's results in raw_output.bin as float32, the
    // native outputs once requantized (three decimals tell the int8
    // output's levels of 1/256 apart).
    let images = inputs();
    let dataset = dir.path().join("images.bin");
    std::fs::write(&dataset, images.concat()).unwrap();
    let out2 = dir.path().join("type2");
    succeeded(&bench(
        &boards,
        "dut-ic",
        &out2,
        &["--dataset", dataset.to_str().unwrap()],
    ));
    let raw = std::fs::read(out2.join("raw_output.bin")).unwrap();
    assert_eq!(raw.len(), images.len() * 10 * 4);
    let report2 = json(&out2.join("vlab-report.json"));
    assert_eq!(report2["dut"]["uploads"], images.len());
    drop(served);
    let (native_median, native_scores) = native(dir.path(), &ic, &images);
    let from_dut: Vec<f32> = raw
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let requantized = |v: f32| (v * 256.0).round() as i32;
    let native_flat: Vec<i32> = native_scores
        .iter()
        .flatten()
        .map(|&v| requantized(v))
        .collect();
    assert_eq!(
        from_dut.iter().map(|&v| requantized(v)).collect::<Vec<_>>(),
        native_flat
    );

    // The device's windows time what vlab's protocol times, within 1 %.
    let median = report["timing"]["statistics"]["median"].as_f64().unwrap();
    assert!(
        (median / native_median - 1.0).abs() < 0.01,
        "MLPerf Tiny {median} ns vs vlab protocol {native_median} ns"
    );
}

#[test]
fn a_window_that_costs_more_than_a_tick_gets_windows_of_n() {
    // A reference-like device: 10 ms inferences, and 1.5 ms inside every
    // window (its first timestamp printed over the UART).
    let (mut held, mut expected) = (vec![], 0);
    let address = scripted("", move |command| {
        let words: Vec<&str> = command.split_whitespace().collect();
        if let ["infer", n, w] = words.as_slice() {
            let n: u64 = n.parse().unwrap();
            let t1 = 1_000 + 1_500 + n * 10_000;
            format!(
                "m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-lap-us-1000\r\nm-lap-us-{t1}\r\nm-infer-done\r\nm-results-[0.250,0.750]\r\nm-ready\r\n"
            )
        } else {
            honest(command, &mut held, &mut expected)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let boards = dut_board(dir.path(), "reference", &address);
    let out = dir.path().join("out");
    succeeded(&bench(&boards, "reference", &out, &["--iterations", "4"]));
    let report = json(&out.join("vlab-report.json"));
    let dut = &report["dut"];
    assert_eq!(dut["inferences_per_sample"], 16, "{dut:#}");
    assert_eq!(dut["window_overhead_us"], 1500.0);
    assert!(
        dut["sample_timing"]
            .as_str()
            .unwrap()
            .contains("mean of an `infer 16 0` window")
    );
    // Each sample is its window's mean: (1.5 ms + 16 x 10 ms) / 16.
    for sample in report["timing"]["samples_ns"].as_array().unwrap() {
        assert_eq!(sample.as_u64(), Some(10_093_750));
    }
    assert_eq!(report["outputs"][0]["shape"], serde_json::json!([2]));
}

#[test]
fn a_model_file_or_another_engine_for_a_device_is_an_input_error() {
    let (mut held, mut expected) = (vec![], 0);
    let address = scripted("", move |command| honest(command, &mut held, &mut expected));
    let dir = tempfile::tempdir().unwrap();
    let boards = dut_board(dir.path(), "dut", &address);
    let out = dir.path().join("model");
    let ic = model("image_classification.tflite");
    let run = bench(&boards, "dut", &out, &["--model", ic.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(
        log.contains("on the model that device holds; leave out --model"),
        "{log}"
    );
    let out = dir.path().join("engine");
    let run = bench(&boards, "dut", &out, &["--engine", "micro"]);
    assert_eq!(run.status.code(), Some(2));
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(log.contains("runs the mlperf-tiny engine"), "{log}");

    // Without --board, --model is still required.
    let out = dir.path().join("host");
    let run = vlab(&["bench", "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(
        log.contains("--model: a benchmark with engine tract needs a model file"),
        "{log}"
    );
}
