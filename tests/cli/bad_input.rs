//! Bad input: a one-line message naming the file and the problem, exit code 2
//! for usage and input errors, error.log written, no panic, and no
//! report.json that looks like a success.

use std::path::Path;

use crate::support::{model, vlab};

/// Runs `vlab bench --out out args...`, expects exit code `code`, and checks
/// the failure artifacts. Returns the message.
fn bench_fails(out: &Path, args: &[&str], code: i32) -> String {
    let mut all = vec!["bench", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = vlab(&all);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "vlab {all:?}: {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "vlab {all:?} panicked: {stderr}"
    );
    let message = stderr.trim_end();
    assert_eq!(
        message.lines().count(),
        1,
        "one-line message, got: {message}"
    );
    assert!(message.starts_with("error: "), "{message}");
    let error_log = std::fs::read_to_string(out.join("error.log")).expect("error.log written");
    assert_eq!(error_log.trim_end(), message, "error.log holds the message");
    assert!(
        !out.join("report.json").exists(),
        "no report.json after a failure"
    );
    assert!(
        !out.join("vlab-report.json").exists(),
        "no vlab-report.json after a failure"
    );
    message.to_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn missing_model() {
    let out = tempfile::tempdir().unwrap();
    let msg = bench_fails(out.path(), &["--model", "no/such/model.tflite"], 2);
    assert!(
        msg.contains("no/such/model.tflite") && msg.contains("no such file"),
        "{msg}"
    );
}

#[test]
fn empty_model() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let msg = bench_fails(&dir.path().join("out"), &["--model", path(&empty)], 2);
    assert!(msg.contains("empty.onnx") && msg.contains("empty"), "{msg}");
}

#[test]
fn garbage_model() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("model.tflite");
    std::fs::write(&garbage, b"this is a text file, not a model\n".repeat(20)).unwrap();
    let msg = bench_fails(&dir.path().join("out"), &["--model", path(&garbage)], 2);
    assert!(
        msg.contains("model.tflite") && msg.contains("not a model"),
        "{msg}"
    );
}

#[test]
fn truncated_models() {
    let dir = tempfile::tempdir().unwrap();
    for (name, keep) in [
        ("light_squeezenet.onnx", 5000),
        ("keyword_spotting.tflite", 20000),
        ("tiny_cnn.tflite", 100),
    ] {
        let bytes = std::fs::read(model(name)).unwrap();
        let truncated = dir.path().join(format!("truncated-{name}"));
        std::fs::write(&truncated, &bytes[..keep]).unwrap();
        let msg = bench_fails(&dir.path().join("out"), &["--model", path(&truncated)], 2);
        assert!(msg.contains(&format!("truncated-{name}")), "{msg}");
    }
}

#[test]
fn model_the_engine_cannot_run_names_the_operator() {
    let out = tempfile::tempdir().unwrap();
    let m = model("image_classification.tflite");
    let msg = bench_fails(out.path(), &["--model", path(&m)], 2);
    assert!(
        msg.contains("image_classification.tflite") && msg.contains("operator ADD"),
        "{msg}"
    );
}

#[test]
fn model_that_crashes_the_engine_is_an_error_not_a_panic() {
    let out = tempfile::tempdir().unwrap();
    let m = model("anomaly_detection.tflite");
    let msg = bench_fails(out.path(), &["--model", path(&m)], 2);
    assert!(
        msg.contains("anomaly_detection.tflite") && msg.contains("tract cannot run it"),
        "{msg}"
    );
}

#[test]
fn dataset_not_a_multiple_of_the_input_size() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("short.bin");
    std::fs::write(&dataset, vec![0u8; 2000 + 7]).unwrap();
    let m = model("keyword_spotting.tflite");
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--model", path(&m), "--dataset", path(&dataset)],
        2,
    );
    assert!(
        msg.contains("short.bin") && msg.contains("not a multiple of the sample size 2000"),
        "{msg}"
    );
}

#[test]
fn missing_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("keyword_spotting.tflite");
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--model", path(&m), "--dataset", "nowhere.bin"],
        2,
    );
    assert!(
        msg.contains("nowhere.bin") && msg.contains("no such file"),
        "{msg}"
    );
}

#[test]
fn zero_iterations() {
    let out = tempfile::tempdir().unwrap();
    let m = model("tiny_cnn.tflite");
    let msg = bench_fails(out.path(), &["--model", path(&m), "--iterations", "0"], 2);
    assert!(msg.contains("--iterations"), "{msg}");
}

#[test]
fn dynamic_shape_without_input_shape_names_the_input() {
    // A copy without the silero_vad.vlab.toml that gives the shapes.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("vad.onnx");
    std::fs::copy(model("silero_vad.onnx"), &m).unwrap();
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--engine", "ort", "--model", path(&m)],
        2,
    );
    assert!(
        msg.contains("input 'input'") && msg.contains("--input-shape input:"),
        "{msg}"
    );
}

#[test]
fn input_shape_for_an_unknown_input() {
    let out = tempfile::tempdir().unwrap();
    let m = model("tiny_cnn.tflite");
    let msg = bench_fails(
        out.path(),
        &["--model", path(&m), "--input-shape", "image:1x8x8x1"],
        2,
    );
    assert!(msg.contains("no input 'image'"), "{msg}");
}

#[test]
fn unknown_engine() {
    let out = tempfile::tempdir().unwrap();
    let m = model("tiny_cnn.tflite");
    let msg = bench_fails(
        out.path(),
        &["--model", path(&m), "--engine", "tensorrt"],
        2,
    );
    assert!(msg.contains("unknown engine 'tensorrt'"), "{msg}");
}

#[test]
fn output_folder_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let out = file.join("out");
    let m = model("tiny_cnn.tflite");
    let output = vlab(&["bench", "--out", path(&out), "--model", path(&m)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a-file/out") && stderr.contains("not writable"),
        "{stderr}"
    );
}

#[test]
fn a_failure_removes_the_previous_runs_report() {
    let out = tempfile::tempdir().unwrap();
    let m = model("tiny_cnn.tflite");
    crate::support::bench_ok(out.path(), &["--model", path(&m), "--iterations", "2"]);
    assert!(out.path().join("report.json").exists());
    bench_fails(out.path(), &["--model", "missing.tflite"], 2);
}

#[test]
fn usage_errors_exit_with_code_2() {
    let output = vlab(&["bench", "--model", "m.onnx", "--iterations", "many"]);
    assert_eq!(output.status.code(), Some(2));
    let output = vlab(&[
        "bench",
        "--model",
        "m.onnx",
        "--iterations",
        "3",
        "--dataset",
        "d.bin",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "--iterations and --dataset conflict"
    );
}

#[test]
fn micro_engine_refuses_onnx() {
    let out = tempfile::tempdir().unwrap();
    let onnx = model("light_squeezenet.onnx");
    let msg = bench_fails(
        out.path(),
        &["--engine", "micro", "--model", path(&onnx)],
        2,
    );
    assert!(
        msg.contains("engine micro cannot load ONNX models"),
        "{msg}"
    );
}

/// A `.npy` file as `np.save` writes it: version 1.0, C order.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn npy_dataset_of_the_wrong_dtype_names_both_types() {
    let dir = tempfile::tempdir().unwrap();
    // keyword_spotting takes float32[1,50,10,1]; these are float64 samples.
    let dataset = dir.path().join("features.npy");
    std::fs::write(&dataset, npy("<f8", "2, 50, 10, 1", &[0u8; 2 * 500 * 8])).unwrap();
    let m = model("keyword_spotting.tflite");
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--model", path(&m), "--dataset", path(&dataset)],
        2,
    );
    assert!(
        msg.contains("features.npy: holds '<f8' elements; input 'input_1' is float32"),
        "{msg}"
    );
}

#[test]
fn npy_dataset_of_the_wrong_shape_says_what_fits() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("features.npy");
    std::fs::write(&dataset, npy("<f4", "2, 49, 10", &[0u8; 2 * 490 * 4])).unwrap();
    let m = model("keyword_spotting.tflite");
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--model", path(&m), "--dataset", path(&dataset)],
        2,
    );
    assert!(
        msg.contains("shape (2, 49, 10)") && msg.contains("500 elements per sample"),
        "{msg}"
    );
}

#[test]
fn npy_dataset_runs_like_the_same_raw_samples() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<u8> = (0..2 * 500)
        .flat_map(|i| ((i % 7) as f32 / 7.0).to_le_bytes())
        .collect();
    let raw = dir.path().join("features.bin");
    let numpy = dir.path().join("features.npy");
    std::fs::write(&raw, &samples).unwrap();
    std::fs::write(&numpy, npy("<f4", "2, 1, 50, 10, 1", &samples)).unwrap();
    let m = model("keyword_spotting.tflite");
    let outputs: Vec<Vec<u8>> = [&raw, &numpy]
        .iter()
        .map(|dataset| {
            let out = dir.path().join(format!(
                "out-{}",
                path(dataset.file_name().unwrap().as_ref())
            ));
            let output = vlab(&[
                "bench",
                "--engine",
                "micro",
                "--model",
                path(&m),
                "--dataset",
                path(dataset),
                "--out",
                path(&out),
            ]);
            assert!(output.status.success(), "{output:?}");
            std::fs::read(out.join("raw_output.bin")).unwrap()
        })
        .collect();
    assert_eq!(outputs[0].len(), 2 * 12 * 4);
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn a_closed_pipe_on_stdout_ends_vlab_quietly() {
    // `vlab boards | head -0`: the reader is gone before vlab writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vlab"))
        .arg("boards")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_problem_of_a_model_micro_cannot_run_is_listed_at_once() {
    // scripts/op_models.py: GELU (not implemented) on COMPLEX64 tensors.
    let model = crate::support::root().join("tests/models/unsupported/gelu_complex64.tflite");
    let out = tempfile::tempdir().unwrap();
    let msg = bench_fails(
        out.path(),
        &["--engine", "micro", "--model", path(&model)],
        2,
    );
    for want in [
        "3 problems",
        "tensor 0 (\"x\") has type COMPLEX64, which vlab-micro does not support",
        "tensor 1 (\"y\") has type COMPLEX64",
        "operator 0 (GELU): unsupported: operator not implemented",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
}

#[test]
fn a_device_is_refused_before_it_is_read() {
    // /dev/zero never ends: reading it would fill memory.
    let out = tempfile::tempdir().unwrap();
    let msg = bench_fails(out.path(), &["--model", "/dev/zero"], 2);
    assert!(
        msg.contains("/dev/zero") && msg.contains("character device"),
        "{msg}"
    );
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("model.tflite");
    std::fs::create_dir(&folder).unwrap();
    let msg = bench_fails(&dir.path().join("out"), &["--model", path(&folder)], 2);
    assert!(
        msg.contains("model.tflite") && msg.contains("is a directory"),
        "{msg}"
    );
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.tflite");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let msg = bench_fails(&dir.path().join("out"), &["--model", path(&fifo)], 2);
    assert!(
        msg.contains("model.tflite") && msg.contains("named pipe (FIFO)"),
        "{msg}"
    );
}

/// A sparse file of `bytes` bytes: it takes no disk space.
fn sparse(path: &Path, bytes: u64) {
    std::fs::File::create(path).unwrap().set_len(bytes).unwrap();
}

#[test]
fn a_model_larger_than_the_host_can_hold_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.tflite");
    sparse(&huge, 3 << 30);
    let msg = bench_fails(&dir.path().join("out"), &["--model", path(&huge)], 2);
    assert!(
        msg.contains("huge.tflite") && msg.contains("3221225472 bytes is larger than"),
        "{msg}"
    );
}

#[test]
fn a_model_larger_than_the_board_can_hold_is_refused() {
    // qemu-mps2-an385: 4 MiB of RAM, a 16 MiB flash model slot.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.tflite");
    sparse(&big, 17 << 20);
    let msg = bench_fails(
        &dir.path().join("out"),
        &["--board", "qemu-mps2-an385", "--model", path(&big)],
        2,
    );
    assert!(
        msg.contains("big.tflite")
            && msg.contains("17825792 bytes is larger than board qemu-mps2-an385's flash model slot (16777216 bytes)"),
        "{msg}"
    );
}
