//! vlab's firmware as an MLPerf Tiny device under test, driven the way the
//! official MLCommons runner drives one (`../shared/reference/mlperf-tiny.md`
//! section 6.4): its exact command order, its line handling (lines split
//! at `\n`, `\r` and NUL dropped, a reply ending at the first line that
//! contains `m-ready`), its per-line timeouts (5 s, 30 s for `infer`), and
//! its regular expressions on every line it parses. The runner itself
//! needs a USB serial device with a VID/PID, which neither a pty nor TCP
//! is, so this host follows its flow instead; the board is the real
//! firmware in QEMU, reached over TCP and over a pseudo-terminal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

use crate::support::{json, model, qemu_firmware, vlab};

/// The official runner's patterns (device_under_test.py, script.py).
const NAME: &str = r"^m-(name)-dut-\[([^]]+)]$";
const PROFILE: &str = r"^m-(model|profile)-\[([^]]+)]$";
const LAP: &str = r"^m-lap-us-([0-9]+)$";
const RESULTS: &str = r"^m-results-\[([^]]+)\]$";

/// Every line an `infer` may answer, in the order the runner expects them.
const INFER_LINES: &[&str] = &[
    r"^m-warmup-start-[0-9]+$",
    r"^m-warmup-done$",
    r"^m-infer-start-[0-9]+$",
    LAP,
    LAP,
    r"^m-infer-done$",
    RESULTS,
    r"^m-ready$",
];

/// `tests_performance.yaml`'s ic01 entry: `infer 20 5`, 5 windows.
const ITERATIONS: u32 = 20;
const WARMUP: u32 = 5;
const WINDOWS: usize = 5;
/// The open runner's chunk: 31 bytes, 62 hex digits, per `db` command.
const CHUNK: usize = 31;

/// `vlab mlperf-tiny serve`: the emulated board holding the model.
pub struct Served {
    child: Child,
    /// Where its UART is.
    pub endpoint: String,
}

impl Served {
    /// Serves `model` (an ic01 model) on the AN385, its UART on `uart`.
    pub fn start(model: &Path, uart: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vlab"))
            .args([
                "mlperf-tiny",
                "serve",
                "--board",
                "qemu-mps2-an385",
                "--uart",
                uart,
            ])
            .arg("--model")
            .arg(model)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        let endpoint = line
            .trim()
            .rsplit(" on ")
            .next()
            .unwrap_or_else(|| panic!("no endpoint in {line:?}"))
            .to_owned();
        assert!(line.contains("as ic01"), "{line}");
        Self { child, endpoint }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

/// The port: a TCP connection or a raw pty, reads returning 0 after a
/// 100 ms silence.
enum Port {
    Tcp(TcpStream),
    Pty(std::fs::File),
}

impl Port {
    fn open(endpoint: &str) -> Self {
        if endpoint.starts_with("/dev/") {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(endpoint)
                .unwrap();
            use nix::sys::termios::{self, SetArg, SpecialCharacterIndices};
            let mut raw = termios::tcgetattr(file.as_fd()).unwrap();
            termios::cfmakeraw(&mut raw);
            raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
            raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
            termios::tcsetattr(file.as_fd(), SetArg::TCSANOW, &raw).unwrap();
            Port::Pty(file)
        } else {
            let stream = TcpStream::connect(endpoint).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            stream.set_nodelay(true).unwrap();
            Port::Tcp(stream)
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        match self {
            Port::Tcp(s) => s.write_all(bytes).unwrap(),
            Port::Pty(f) => f.write_all(bytes).unwrap(),
        }
    }

    /// Some bytes, or none after a short silence.
    fn read_some(&mut self, buf: &mut [u8]) -> usize {
        let read = match self {
            Port::Tcp(s) => s.read(buf),
            Port::Pty(f) => f.read(buf),
        };
        match read {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                0
            }
            Err(e) => panic!("reading the DUT: {e}"),
        }
    }
}

/// The runner's serial layer over a [`Port`].
struct RunnerLink {
    port: Port,
    pending: String,
}

impl RunnerLink {
    fn open(endpoint: &str) -> Self {
        Self {
            port: Port::open(endpoint),
            pending: String::new(),
        }
    }

    /// `send_command`: the command, then `%`; non-empty lines until one
    /// contains `m-ready`, each within `per_line`.
    fn command(&mut self, command: &str, per_line: Duration) -> Vec<String> {
        self.port.write(command.as_bytes());
        self.port.write(b"%");
        let mut lines = vec![];
        loop {
            let line = self.line(per_line, command);
            if line.is_empty() {
                continue;
            }
            let ready = line.contains("m-ready");
            lines.push(line);
            if ready {
                return lines;
            }
        }
    }

    fn line(&mut self, within: Duration, command: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(end) = self.pending.find('\n') {
                let line: String = self.pending.drain(..=end).collect();
                return line.replace(['\r', '\n', '\0'], "");
            }
            assert!(
                start.elapsed() < within,
                "No response to command {command} (runner's error); got {:?}",
                self.pending
            );
            let mut buf = [0u8; 256];
            let n = self.port.read_some(&mut buf);
            let text = std::str::from_utf8(&buf[..n]).expect("the DUT sends ASCII");
            self.pending.push_str(text);
        }
    }

    /// `precheck_device_name`: `name%`, then everything until 1 s of
    /// silence.
    /// Reads until 1 s of silence, as the runner's check_name does, once
    /// the device has started answering: on a loaded machine the emulator
    /// may take longer than that to start, which is not what this checks.
    fn read_until_silence(&mut self) -> String {
        let mut all = std::mem::take(&mut self.pending);
        let started = Instant::now();
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_secs(1)
            || (all.is_empty() && started.elapsed() < Duration::from_secs(10))
        {
            let mut buf = [0u8; 256];
            let n = self.port.read_some(&mut buf);
            if n > 0 {
                all.push_str(std::str::from_utf8(&buf[..n]).unwrap());
                quiet_since = Instant::now();
            }
        }
        all
    }
}

/// One window's outcome as the runner computes it.
struct Window {
    elapsed_us: u64,
    results: Vec<f32>,
}

/// The performance flow of the runner, from the name check to the fifth
/// window, with every line checked; the windows.
fn official_performance_flow(endpoint: &str, inputs: &[Vec<u8>]) -> Vec<Window> {
    let name = Regex::new(NAME).unwrap();
    let profile = Regex::new(PROFILE).unwrap();
    let infer_lines: Vec<Regex> = INFER_LINES.iter().map(|p| Regex::new(p).unwrap()).collect();
    let short = Duration::from_secs(5);

    // check_name: open with timeout 1 s, name%, read until 1 s of silence.
    let mut link = RunnerLink::open(endpoint);
    link.port.write(b"name%");
    let heard = link.read_until_silence();
    assert!(
        Regex::new(r"m-name-dut-\[(.*)\]").unwrap().is_match(&heard),
        "{heard:?}"
    );
    drop(link);

    // Open, identify, close.
    let mut link = RunnerLink::open(endpoint);
    let reply = link.command("name", short);
    let caps = name.captures(&reply[0]).expect("name line");
    assert_eq!(&caps[2], "vlab");
    let reply = link.command("profile", short);
    let mut model_key = None;
    for line in &reply[..reply.len() - 1] {
        let caps = profile.captures(line).unwrap_or_else(|| panic!("{line}"));
        if &caps[1] == "model" {
            model_key = Some(caps[2].to_owned());
        }
    }
    assert_eq!(model_key.as_deref(), Some("ic01"));
    drop(link);

    // Reopen and run the windows.
    let mut link = RunnerLink::open(endpoint);
    let lap = Regex::new(LAP).unwrap();
    let results = Regex::new(RESULTS).unwrap();
    let mut windows = vec![];
    for input in inputs.iter().take(WINDOWS) {
        link.command(&format!("db load {}", input.len()), short);
        for chunk in input.chunks(CHUNK) {
            let hex: String = chunk.iter().map(|b| format!("{b:02x}")).collect();
            link.command(&format!("db {hex}"), short);
        }
        let reply = link.command(
            &format!("infer {ITERATIONS} {WARMUP}"),
            Duration::from_secs(30),
        );
        assert_eq!(reply.len(), infer_lines.len(), "{reply:?}");
        for (line, pattern) in reply.iter().zip(&infer_lines) {
            assert!(pattern.is_match(line), "{line:?} !~ {pattern}");
        }
        let laps: Vec<u64> = reply
            .iter()
            .filter_map(|l| lap.captures(l))
            .map(|c| c[1].parse().unwrap())
            .collect();
        let values: Vec<f32> = reply.iter().find_map(|l| results.captures(l)).unwrap()[1]
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert!(
            values.iter().sum::<f32>() > 0.0,
            "the runner divides by the sum"
        );
        windows.push(Window {
            elapsed_us: laps[1] - laps[0],
            results: values,
        });
    }
    windows
}

/// Five distinct RGB images of 32x32x3 bytes.
pub fn inputs() -> Vec<Vec<u8>> {
    (0..WINDOWS)
        .map(|w| {
            (0..3072)
                .map(|i| ((i * (7 + 2 * w) + 31 * w) % 256) as u8)
                .collect()
        })
        .collect()
}

/// What vlab's own protocol measures and outputs for the same model and
/// inputs on the same board: the median latency in ns and each sample's
/// dequantized scores. The board's input is int8, so the images go in
/// minus 128, as the DUT converts them.
pub fn native(dir: &Path, model: &Path, inputs: &[Vec<u8>]) -> (f64, Vec<Vec<f32>>) {
    let dataset = dir.join("samples.bin");
    let bytes: Vec<u8> = inputs.iter().flatten().map(|b| b ^ 0x80).collect();
    std::fs::write(&dataset, bytes).unwrap();
    let out = dir.join("native");
    let run = vlab(&[
        "bench",
        "--board",
        "qemu-mps2-an385",
        "--engine",
        "micro",
        "--model",
        model.to_str().unwrap(),
        "--dataset",
        dataset.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = json(&out.join("vlab-report.json"));
    let median = report["timing"]["statistics"]["median"]
        .as_f64()
        .unwrap_or_else(|| panic!("{:#}", report["timing"]));
    let raw = std::fs::read(out.join("raw_output.bin")).unwrap();
    let scores = raw
        .chunks(10)
        .map(|s| {
            s.iter()
                .map(|&q| (f32::from(q as i8) + 128.0) / 256.0)
                .collect()
        })
        .collect();
    (median, scores)
}

fn conforms_over(uart: &str) {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let ic = model("image_classification.tflite");
    let inputs = inputs();
    let windows = {
        let served = Served::start(&ic, uart);
        official_performance_flow(&served.endpoint, &inputs)
    };
    let (native_median_ns, native_scores) = native(dir.path(), &ic, &inputs);
    for (window, scores) in windows.iter().zip(&native_scores) {
        let printed: Vec<String> = scores.iter().map(|s| format!("{s:.3}")).collect();
        let got: Vec<String> = window.results.iter().map(|s| format!("{s:.3}")).collect();
        assert_eq!(got, printed, "the DUT's results are the native outputs");
    }
    // Under -icount both clocks count the same instructions: a window's
    // time per inference is the native latency, give or take the loop.
    let mut per_inference: Vec<f64> = windows
        .iter()
        .map(|w| w.elapsed_us as f64 * 1000.0 / f64::from(ITERATIONS))
        .collect();
    per_inference.sort_by(f64::total_cmp);
    let median = per_inference[WINDOWS / 2];
    let ratio = median / native_median_ns;
    assert!(
        (0.99..1.01).contains(&ratio),
        "MLPerf Tiny window {median} ns per inference vs vlab's {native_median_ns} ns"
    );
}

#[test]
fn the_official_runners_performance_flow_passes_over_tcp() {
    conforms_over("tcp");
}

#[test]
fn the_official_runners_performance_flow_passes_over_a_pty() {
    conforms_over("pty");
}
