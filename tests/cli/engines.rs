//! The engines users deploy, for real: ONNX Runtime from the PyPI wheel that
//! scripts/setup.sh installs into .venv/engines.

use std::process::Command;

use crate::support::{bench_ok, f32_bytes, json, model, vlab};

#[test]
fn engines_lists_every_engine_with_its_version() {
    let output = vlab(&["engines"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("tract  ONNX, TFLite available, version 0.23.9"),
        "{text}"
    );
    assert!(
        text.contains("ort    ONNX         available, version 1.31.1"),
        "{text}"
    );
    assert!(
        text.contains("tflite TFLite       available, version 2.17.1"),
        "{text}"
    );
    assert!(text.contains("micro  TFLite       available"), "{text}");
    assert!(
        text.contains("       xnnpack             the XNNPACK delegate (off where the library lacks it): on|off [default: on]"),
        "{text}"
    );
    assert!(
        text.contains("       optimization        graph optimisation level: disable|basic|extended|layout|all [default: all]"),
        "{text}"
    );
}

#[test]
fn bench_help_lists_the_engine_options() {
    let output = vlab(&["bench", "--help"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Engine options:"), "{text}");
    for flag in [
        "--threads <N>",
        "--inter-threads <N>",
        "--optimization <disable|basic|extended|layout|all>",
        "--execution-provider <cpu|xnnpack|cuda|tensorrt|openvino>",
        "--xnnpack <on|off>",
    ] {
        assert!(text.contains(flag), "{flag}: {text}");
    }
}

#[test]
fn a_bad_option_value_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let output = vlab(&[
        "bench",
        "--engine",
        "tflite",
        "--model",
        kws.to_str().unwrap(),
        "--threads",
        "0",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(
        log.contains("--threads: threads '0': tflite takes a whole number of at least 1"),
        "{log}"
    );
}

#[test]
fn engines_says_why_onnx_runtime_is_missing() {
    let output = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .arg("engines")
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("ort    ONNX         unavailable: ONNX Runtime library ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so does not exist"),
        "{text}"
    );
}

#[test]
fn ort_benchmarks_an_onnx_model() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    bench_ok(
        dir.path(),
        &[
            "--engine",
            "ort",
            "--model",
            squeezenet.to_str().unwrap(),
            "--iterations",
            "10",
        ],
    );
    let report = json(&dir.path().join("report.json"));
    assert_eq!(report["inference_engine"], "ort 1.31.1");
    assert_eq!(report["nb_infernece"], 10);
    assert!(report["inference_latency"]["median"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_missing_onnx_runtime_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let output = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--engine", "ort", "--model"])
        .arg(&squeezenet)
        .arg("--out")
        .arg(dir.path())
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(
        log.contains(
            "ONNX Runtime library ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so does not exist"
        ),
        "{log}"
    );
}

#[test]
fn a_missing_tflite_library_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let output = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--engine", "tflite", "--model"])
        .arg(&kws)
        .arg("--out")
        .arg(dir.path())
        .env("TFLITE_DYLIB_PATH", "/nonexistent/libtensorflowlite_c.so")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(
        log.contains("TensorFlow Lite C library TFLITE_DYLIB_PATH=/nonexistent/libtensorflowlite_c.so does not exist"),
        "{log}"
    );
}

#[test]
fn ort_takes_its_options_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    bench_ok(
        dir.path(),
        &[
            "--engine",
            "ort",
            "--model",
            squeezenet.to_str().unwrap(),
            "--iterations",
            "2",
            "--threads",
            "2",
            "--optimization",
            "basic",
        ],
    );
    let report = json(&dir.path().join("vlab-report.json"));
    let options = &report["engine"]["options"];
    assert_eq!(options["threads"], 2);
    assert_eq!(options["inter_threads"], 1);
    assert_eq!(options["optimization"], "basic");
    assert_eq!(options["execution_provider"], "cpu");
    assert!(report["timing"]["init_ns"].as_u64().unwrap() > 0);
}

#[test]
fn engine_options_an_engine_lacks_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let squeezenet = squeezenet.to_str().unwrap();
    let out = dir.path().to_str().unwrap();
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["--engine", "ort", "--xnnpack", "off"],
            2,
            "engine ort has no option xnnpack; it takes threads, inter_threads, optimization, execution_provider",
        ),
        (
            &["--engine", "ort", "--optimization", "max"],
            2,
            "--optimization: optimization 'max': ort takes one of disable, basic, extended, layout, all",
        ),
        (
            &["--engine", "ort", "--execution-provider", "cuda"],
            1,
            "execution provider 'cuda': this ONNX Runtime library was built without it (it has: cpu)",
        ),
        (
            &["--engine", "tract", "--threads", "4"],
            2,
            "engine tract has no option threads; it takes no engine options",
        ),
    ];
    for (args, code, message) in cases {
        let mut all = vec!["bench", "--model", squeezenet, "--out", out];
        all.extend_from_slice(args);
        let output = vlab(&all);
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
        assert!(log.contains(message), "{args:?}: {log}");
    }
}

#[test]
fn silero_vad_runs_on_ort_with_the_parameters_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let vad = model("silero_vad.onnx");
    bench_ok(
        dir.path(),
        &[
            "--engine",
            "ort",
            "--model",
            vad.to_str().unwrap(),
            "--iterations",
            "5",
        ],
    );
    let report = json(&dir.path().join("vlab-report.json"));
    assert_eq!(report["inputs"][0]["shape"], serde_json::json!([1, 576]));
    assert_eq!(report["inputs"][2]["name"], "sr");
    assert_eq!(report["outputs"][0]["shape"], serde_json::json!([1, 1]));
    let log = std::fs::read_to_string(dir.path().join("user.log")).unwrap();
    assert!(
        log.contains("parameters from silero_vad.vlab.toml"),
        "{log}"
    );
}

#[test]
fn inputs_with_a_value_are_not_in_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let vad = model("silero_vad.onnx");
    // Two samples of `input` (1x576) and `state` (2x1x128); `sr` is 16000
    // from silero_vad.vlab.toml.
    let sample: Vec<f32> = (0..576 + 256)
        .map(|i| ((i % 50) as f32 / 100.0) - 0.25)
        .collect();
    let data = dir.path().join("audio.bin");
    std::fs::write(&data, f32_bytes(sample.iter().chain(&sample).copied())).unwrap();
    let out = dir.path().join("out");
    bench_ok(
        &out,
        &[
            "--engine",
            "ort",
            "--model",
            vad.to_str().unwrap(),
            "--dataset",
            data.to_str().unwrap(),
        ],
    );
    let raw = std::fs::read(out.join("raw_output.bin")).unwrap();
    // Per sample: output (1x1) and stateN (2x1x128), float32.
    assert_eq!(raw.len(), 2 * (1 + 256) * 4);
    assert_eq!(raw[..raw.len() / 2], raw[raw.len() / 2..]);
    let probability = f32::from_le_bytes(raw[..4].try_into().unwrap());
    assert!((0.0..=1.0).contains(&probability), "{probability}");
}

#[test]
fn a_parameters_file_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.toml");
    std::fs::write(&params, "[engine]\nthreads = 2\nthraeds = 3\n").unwrap();
    let kws = model("keyword_spotting.tflite");
    let output = vlab(&[
        "bench",
        "--engine",
        "tflite",
        "--model",
        kws.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(dir.path().join("out/error.log")).unwrap();
    assert!(log.contains("params.toml"), "{log}");
    assert!(
        log.contains("engine tflite has no option thraeds; it takes threads, xnnpack"),
        "{log}"
    );
    assert!(log.contains("(line 3)"), "{log}");
}

#[test]
fn tflite_reports_xnnpack_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    for (xnnpack, expected) in [("on", true), ("off", false)] {
        let out = dir.path().join(xnnpack);
        bench_ok(
            &out,
            &[
                "--engine",
                "tflite",
                "--model",
                kws.to_str().unwrap(),
                "--iterations",
                "2",
                "--xnnpack",
                xnnpack,
            ],
        );
        let report = json(&out.join("vlab-report.json"));
        assert_eq!(report["engine"]["options"]["xnnpack"], expected);
        assert_eq!(report["engine"]["options"]["threads"], 1);
    }
}

#[test]
fn tflite_passes_its_own_message_for_a_model_it_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(model("keyword_spotting.tflite")).unwrap();
    bytes[40..48].fill(0xff);
    let broken = dir.path().join("broken.tflite");
    std::fs::write(&broken, bytes).unwrap();
    let output = vlab(&[
        "bench",
        "--engine",
        "tflite",
        "--model",
        broken.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(dir.path().join("out/error.log")).unwrap();
    assert!(
        log.contains(
            "broken.tflite: TensorFlow Lite cannot read the model: The model is not a valid Flatbuffer buffer"
        ),
        "{log}"
    );
}

#[test]
fn ort_passes_its_own_message_for_a_model_it_rejects() {
    let dir = tempfile::tempdir().unwrap();
    // A well-formed ONNX file whose first operator type ONNX Runtime does
    // not know ("Conv" renamed "Cxnv", same length, so protobuf stays valid).
    let bytes = std::fs::read(model("light_squeezenet.onnx")).unwrap();
    let at = bytes.windows(6).position(|w| w == b"\x22\x04Conv").unwrap();
    let mut renamed = bytes.clone();
    renamed[at + 2..at + 6].copy_from_slice(b"Cxnv");
    let broken = dir.path().join("renamed.onnx");
    std::fs::write(&broken, renamed).unwrap();
    let out = dir.path().join("out");
    let output = vlab(&[
        "bench",
        "--engine",
        "ort",
        "--model",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(
        log.contains("renamed.onnx: ONNX Runtime: This is an invalid model")
            && log.contains("No Op registered for Cxnv"),
        "{log}"
    );
}

#[test]
fn a_library_that_is_not_onnx_runtime_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let tflite = std::fs::read_dir(crate::support::root().join(".venv/engines/lib"))
        .unwrap()
        .map(|python| {
            python
                .unwrap()
                .path()
                .join("site-packages/pymicro_wakeword/lib/libtensorflowlite_c.so")
        })
        .find(|p| p.is_file())
        .expect("scripts/setup.sh installs pymicro-wakeword");
    let output = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--engine", "ort", "--model"])
        .arg(model("light_squeezenet.onnx"))
        .arg("--out")
        .arg(dir.path())
        .env("ORT_DYLIB_PATH", &tflite)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(
        log.contains("libtensorflowlite_c.so does not export `OrtGetApiBase`"),
        "{log}"
    );
}
