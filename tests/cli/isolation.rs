//! Crash isolation: TensorFlow Lite and ONNX Runtime run in vlab's engine
//! worker, so a crash inside them is an error (exit code 1, error.log)
//! with what was measured kept in vlab-report.json.partial. The crash is
//! a real signal sent to the real worker process.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{json, model, root};

/// The children of process `pid`.
fn children(pid: u32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Starts a TFLite benchmark into `out` that runs for minutes.
fn long_tflite_run(out: &Path) -> Child {
    let model = model("keyword_spotting.tflite");
    Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args([
            "bench",
            "--engine",
            "tflite",
            "--xnnpack",
            "off",
            "--iterations",
        ])
        .arg("10000000")
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for vlab's engine worker, lets it measure for a while, then
/// sends it `signal`; returns vlab's exit code and stderr.
fn crash_worker(out: &Path, signal: Signal) -> (Option<i32>, String) {
    let vlab = long_tflite_run(out);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The worker is the child running `vlab engine-worker` (vlab may start
    // other short-lived children while it looks for the engine's library).
    let is_worker = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.windows(13).any(|w| w == b"engine-worker"))
    };
    let worker = loop {
        if let Some(pid) = children(vlab.id()).into_iter().find(|&p| is_worker(p)) {
            break pid;
        }
        assert!(Instant::now() < deadline, "no engine worker started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Well into the timed inferences (one takes tens of microseconds).
    std::thread::sleep(Duration::from_millis(1500));
    let worker = Pid::from_raw(worker);
    let mut vlab = vlab;
    // Rust's runtime catches the first SIGSEGV (its stack-overflow guard),
    // restores the default action and resumes, so that a real fault strikes
    // again and kills the process. A SIGSEGV from `kill` has no faulting
    // instruction to strike again: the signal is sent until the worker is
    // gone (once is enough for SIGABRT).
    while vlab.try_wait().unwrap().is_none() && children(vlab.id()).contains(&worker.as_raw()) {
        let _ = kill(worker, signal);
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "the worker outlived its signals"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = vlab.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_crash_kept_the_record(out: &Path, signal: &str) {
    let message = format!("error: TensorFlow Lite crashed during inference ({signal})");
    let error_log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert_eq!(error_log.trim_end(), message);
    assert!(
        !out.join("report.json").exists() && !out.join("vlab-report.json").exists(),
        "nothing that passes for a result"
    );
    let partial = json(&out.join("vlab-report.json.partial"));
    assert_eq!(partial["complete"], false);
    assert_eq!(partial["engine"], "tflite");
    assert_eq!(partial["error"], message.trim_start_matches("error: "));
    assert!(partial["first_inference_ns"].as_u64().is_some());
    assert_eq!(partial["warmup_ns"].as_array().unwrap().len(), 5);
    let samples = partial["samples_ns"].as_array().unwrap().len();
    assert!(samples > 0, "timed inferences before the crash are kept");
    assert!(partial["statistics"]["median"].as_f64().unwrap() > 0.0);
    let user_log = std::fs::read_to_string(out.join("user.log")).unwrap();
    assert!(
        user_log.contains("kept in vlab-report.json.partial"),
        "{user_log}"
    );
}

#[test]
fn a_segfault_in_tflite_is_an_error_and_keeps_what_was_measured() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = crash_worker(dir.path(), Signal::SIGSEGV);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.ends_with("error: TensorFlow Lite crashed during inference (SIGSEGV)\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_crash_kept_the_record(dir.path(), "SIGSEGV");
}

#[test]
fn an_abort_in_tflite_is_an_error_and_keeps_what_was_measured() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = crash_worker(dir.path(), Signal::SIGABRT);
    assert_eq!(code, Some(1), "{stderr}");
    assert_crash_kept_the_record(dir.path(), "SIGABRT");
}

#[test]
fn a_real_tflite_crash_during_load_is_an_error() {
    // 70000x70000 float32 elements overflow TFLite's 32-bit size
    // arithmetic: TfLiteInterpreterAllocateTensors dies of SIGSEGV.
    let dir = tempfile::tempdir().unwrap();
    let model = root().join("tests/models/dynamic_relu_f32.tflite");
    let output = crate::support::vlab(&[
        "bench",
        "--engine",
        "tflite",
        "--model",
        model.to_str().unwrap(),
        "--input-shape",
        "x:70000x70000",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let message = "error: TensorFlow Lite crashed during load (SIGSEGV)";
    assert!(stderr.trim_end().ends_with(message), "{stderr}");
    let error_log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert_eq!(error_log.trim_end(), message);
    for name in [
        "report.json",
        "vlab-report.json",
        "vlab-report.json.partial",
    ] {
        assert!(
            !dir.path().join(name).exists(),
            "nothing measured: no {name}"
        );
    }
}
