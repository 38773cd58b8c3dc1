//! The engines users deploy, for real: ONNX Runtime from the PyPI wheel that
//! scripts/setup.sh installs into .venv/engines.

use std::path::Path;
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

/// `raw_output.bin` of a TYPE2 run of `model` over `data` on each engine.
fn dataset_outputs(dir: &Path, engines: &[&str], model: &Path, data: &Path) -> Vec<Vec<u8>> {
    engines
        .iter()
        .map(|engine| {
            let out = dir.join(engine);
            bench_ok(
                &out,
                &[
                    "--engine",
                    engine,
                    "--model",
                    model.to_str().unwrap(),
                    "--dataset",
                    data.to_str().unwrap(),
                    "--warmup",
                    "0",
                ],
            );
            std::fs::read(out.join("raw_output.bin")).unwrap()
        })
        .collect()
}

#[test]
fn ort_and_tract_agree_on_an_onnx_model() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let data = dir.path().join("images.bin");
    let floats = 2 * 3 * 224 * 224;
    std::fs::write(
        &data,
        f32_bytes((0..floats).map(|i| ((i % 997) as f32 / 500.0) - 1.0)),
    )
    .unwrap();
    let outputs: Vec<Vec<f32>> = dataset_outputs(dir.path(), &["ort", "tract"], &squeezenet, &data)
        .iter()
        .map(|bytes| {
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        })
        .collect();
    assert_eq!(outputs[0].len(), 2 * 1000);
    // Softmax probabilities: the engines' kernels sum in different orders.
    let worst = outputs[0]
        .iter()
        .zip(&outputs[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "ort and tract differ by {worst}");
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
fn tflite_and_micro_agree_exactly_on_keyword_spotting() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let data = dir.path().join("kws.bin");
    std::fs::write(
        &data,
        f32_bytes((0..3 * 500).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)),
    )
    .unwrap();
    let outputs = dataset_outputs(dir.path(), &["tflite", "micro"], &kws, &data);
    assert_eq!(outputs[0].len(), 3 * 12 * 4);
    assert_eq!(outputs[0], outputs[1], "tflite and micro outputs differ");
    let report = json(&dir.path().join("tflite/report.json"));
    assert_eq!(report["inference_engine"], "tflite 2.17.1");
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
