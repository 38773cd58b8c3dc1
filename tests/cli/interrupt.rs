//! SIGTERM and SIGINT end a run cleanly: what vlab started stops, error.log
//! names the signal, what was measured is kept in vlab-report.json.partial
//! (nothing passes for a result), and vlab exits 128 + the signal. The
//! signals are real, sent to the real `vlab` process alone, as Nomad and a
//! lab's cancel send them.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{json, model, qemu_firmware, root};

/// Starts `vlab bench` on keyword_spotting into `out` with `args`, for
/// far longer than the test waits.
fn long_run(out: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vlab"))
        .arg("bench")
        .args(args)
        .arg("--model")
        .arg(model("keyword_spotting.tflite"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `ready` holds (or 60 s pass) and then 5 s more, into the
/// timed inferences, sends `signal` to `vlab`, and returns its exit code
/// and stderr.
fn interrupt(vlab: Child, signal: Signal, ready: impl Fn() -> bool) -> (Option<i32>, String) {
    let start = Instant::now();
    while !ready() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(5));
    kill(Pid::from_raw(vlab.id() as i32), signal).unwrap();
    let output = vlab.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether the run in `out` has started: its first line is in user.log.
fn started(out: &Path) -> bool {
    std::fs::read_to_string(out.join("user.log")).is_ok_and(|log| log.contains("TYPE1"))
}

fn assert_interrupted(out: &Path, code: Option<i32>, stderr: &str, signal: &str, want: i32) {
    assert_eq!(code, Some(want), "{stderr}");
    let message = format!("error: interrupted by {signal}");
    let error_log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert_eq!(error_log.trim_end(), message);
    assert!(
        !out.join("report.json").exists() && !out.join("vlab-report.json").exists(),
        "nothing that passes for a result"
    );
}

/// The processes whose command line holds `needle`.
fn processes_running(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .contains(needle)
                .then_some(pid)
        })
        .collect()
}

#[test]
fn sigterm_ends_a_host_run_and_keeps_what_it_measured() {
    let out = tempfile::tempdir().unwrap();
    let vlab = long_run(
        out.path(),
        &["--engine", "tract", "--iterations", "100000000"],
    );
    let (code, stderr) = interrupt(vlab, Signal::SIGTERM, || started(out.path()));
    assert_interrupted(out.path(), code, &stderr, "SIGTERM", 143);
    let partial = json(&out.path().join("vlab-report.json.partial"));
    assert_eq!(partial["complete"], false);
    assert_eq!(partial["error"], "interrupted by SIGTERM");
    let samples = partial["samples_ns"].as_array().unwrap().len();
    assert!(
        samples > 0,
        "the timed inferences before the signal are kept"
    );
}

#[test]
fn sigint_reaches_the_engine_worker_through_vlab() {
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--engine",
        "tflite",
        "--xnnpack",
        "off",
        "--iterations",
        "100000000",
    ];
    let vlab = long_run(out.path(), &args);
    let pid = vlab.id();
    let worker = std::cell::Cell::new(None);
    let (code, stderr) = interrupt(vlab, Signal::SIGINT, || {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        let child = children
            .ok()
            .and_then(|c| c.split_whitespace().next()?.parse::<u32>().ok());
        worker.set(child);
        child.is_some() && started(out.path())
    });
    assert_interrupted(out.path(), code, &stderr, "SIGINT", 130);
    let partial = json(&out.path().join("vlab-report.json.partial"));
    assert_eq!(partial["engine"], "tflite");
    assert!(!partial["samples_ns"].as_array().unwrap().is_empty());
    let worker = worker.get().expect("vlab started its engine worker");
    assert!(
        !Path::new(&format!("/proc/{worker}")).exists(),
        "the engine worker ended with vlab"
    );
}

#[test]
fn sigterm_during_a_board_run_stops_qemu() {
    qemu_firmware();
    let out = tempfile::tempdir().unwrap();
    // The firmware under a name of this test's own, to find its QEMU by.
    let elf = out.path().join("interrupted-board.elf");
    std::fs::copy(
        root().join("boards/target/thumbv7m-none-eabi/release/vlab-board-qemu-mps2-an385"),
        &elf,
    )
    .unwrap();
    let run = out.path().join("run");
    let args = [
        "--board",
        "qemu-mps2-an385",
        "--firmware",
        elf.to_str().unwrap(),
        // Under the firmware's 16,384 samples a run; about an hour here.
        "--iterations",
        "16000",
    ];
    let vlab = long_run(&run, &args);
    let needle = elf.to_str().unwrap().to_owned();
    let (code, stderr) = interrupt(vlab, Signal::SIGTERM, || {
        !processes_running(&needle).is_empty() && started(&run)
    });
    assert_interrupted(&run, code, &stderr, "SIGTERM", 143);
    assert_eq!(
        processes_running(&needle),
        Vec::<u32>::new(),
        "QEMU stopped"
    );
}
