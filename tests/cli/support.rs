//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fetched model; fails with instructions when models/fetch.sh has not run.
pub fn model(name: &str) -> PathBuf {
    let path = root().join("models").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run models/fetch.sh first",
        path.display()
    );
    path
}

/// Where the MLPerf Tiny reference data is looked for: `VLAB_REFERENCE_DATA`
/// (a relative path is taken from the workspace root), by default
/// ../shared/mlperf-tiny beside the repository.
pub fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("VLAB_REFERENCE_DATA")
        .map_or_else(|| PathBuf::from("../shared/mlperf-tiny"), PathBuf::from);
    root().join(dir)
}

/// The MLPerf Tiny reference data folder, or `None` when it is absent, after
/// printing that the calling test is skipped and why: a clone without the
/// data runs every other test.
pub fn reference_data() -> Option<PathBuf> {
    let dir = reference_dir();
    if dir.is_dir() {
        return Some(dir);
    }
    let thread = std::thread::current();
    eprintln!(
        "{}: skipped: MLPerf Tiny reference data not found at {} (set VLAB_REFERENCE_DATA)",
        thread.name().unwrap_or("test"),
        dir.display()
    );
    None
}

/// Runs `vlab` with `args` and returns its output.
pub fn vlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(args)
        .output()
        .expect("vlab runs")
}

/// `vlab bench --board NAME --boards-dir BOARDS --out OUT` with `args`.
pub fn bench_on_board(boards: &Path, name: &str, out: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "bench",
        "--board",
        name,
        "--boards-dir",
        boards.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    all.extend_from_slice(args);
    vlab(&all)
}

/// Runs `vlab bench` with `args` plus `--out out`, expecting success.
pub fn bench_ok(out: &Path, args: &[&str]) -> Output {
    let mut all = vec!["bench", "--out", out.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let output = vlab(&all);
    assert!(
        output.status.success(),
        "vlab {all:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs tiny_cnn on the micro engine into `out` with `extra` arguments
/// (`--iterations N`, ...), expecting success.
pub fn tiny_cnn_on_micro(out: &Path, extra: &[&str]) {
    let tiny = model("tiny_cnn.tflite");
    let mut args = vec![
        "--engine",
        "micro",
        "--model",
        tiny.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    bench_ok(out, &args);
}

/// Reads a JSON artifact.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Little-endian f32 bytes of `values`.
pub fn f32_bytes(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// Builds every board's firmware once per test run with
/// scripts/build-firmware.sh (cargo is quick when it is up to date) and
/// fails with instructions when that is impossible.
pub fn qemu_firmware() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(root().join("scripts/build-firmware.sh"))
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("bash runs");
        assert!(
            status.success(),
            "cannot build the boards' firmware: run scripts/setup.sh (it adds the thumb targets)"
        );
    });
}

/// Headless Chromium (Debian's `chromium`, which scripts/setup.sh
/// installs), kept off the network: no proxy bypass, every host name
/// unresolvable, no background services, a throwaway profile; /tmp rather
/// than a container's small /dev/shm for shared memory.
pub fn chromium(profile: &Path, args: &[&str]) -> Output {
    let profile = format!("--user-data-dir={}", profile.display());
    let offline = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        profile.as_str(),
    ];
    let output = Command::new("chromium")
        .args(offline)
        .args(args)
        .output()
        .expect("chromium runs (scripts/setup.sh installs Debian's chromium)");
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
