//! Driving an MLPerf Tiny device under test: any vendor's port of the
//! benchmark (TFLite Micro, X-CUBE-AI, microTVM, ...) or vlab's own
//! firmware in MLPerf Tiny mode. Where the protocol is weak, the driver
//! checks more than the official runner does (docs/mlperf-tiny.md):
//! - it resynchronises with `name%`, dropping stray lines;
//! - it checks every `db` reply and reads the upload back;
//! - it sets each phase's timeout from the expected latency;
//! - it handles wrapping 32-bit timestamps.

use std::time::Duration;

use vlab_harness::{Error, Result};

use super::lines::Lines;
use crate::transport::Link;

/// How long a quiet line means the device has nothing more to say.
const QUIET: Duration = Duration::from_millis(150);
/// Deadline of a line that needs no inference.
const LINE: Duration = Duration::from_secs(5);
/// `name%` tries before giving up on a device.
const RESYNC_TRIES: usize = 3;
/// Most data bytes in one `db` command: 80 characters, `db ` and 2 hex
/// digits a byte.
pub const MAX_CHUNK: usize = 38;
/// The official runner's chunk (31 bytes; 26 through an interface board).
pub const RUNNER_CHUNK: usize = 31;

/// A device under test, identified.
pub struct Dut {
    lines: Lines,
    /// The `<dev>` of `m-name-<dev>-[<vendor>]` (the runners need `dut`).
    pub device: String,
    /// The vendor.
    pub vendor: String,
    /// `m-profile-[...]`.
    pub profile: String,
    /// `m-model-[...]`: kws01, vww01, ic01, ad01, ...
    pub model_key: String,
    /// What the device did that a demanding host notices.
    pub warnings: Vec<String>,
}

/// One `infer N W`, as the device timed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Timed inferences.
    pub iterations: u32,
    /// `t1 - t0`, in the device's microseconds.
    pub elapsed_us: u64,
    /// The device's 32-bit microsecond counter wrapped inside the window.
    pub wrapped: bool,
    /// `m-results-[...]` of the last inference.
    pub results: Vec<f32>,
}

impl Window {
    /// Inferences per second.
    pub fn throughput(&self) -> f64 {
        f64::from(self.iterations) / (self.elapsed_us.max(1) as f64 / 1e6)
    }
}

/// The input bytes of a benchmark's sample, by model key (the first
/// 2560-byte window for `ad01`).
pub fn input_bytes(model_key: &str) -> Option<usize> {
    Some(match model_key {
        "kws01" => 490,
        "vww01" => 27_648,
        "ic01" | "ic02" => 3072,
        "ad01" => 2560,
        _ => return None,
    })
}

impl Dut {
    /// Identifies the device at the end of `link`: stray output dropped,
    /// `name%` until a clean answer, then `profile%`.
    pub async fn connect(link: Box<dyn Link>, description: String) -> Result<Self> {
        let mut lines = Lines::new(link, description);
        let mut warnings = Vec::new();
        let stray = lines.drain(QUIET).await?;
        if !stray.is_empty() {
            warnings.push(format!(
                "dropped {} line(s) the device sent before the first command, e.g. {:?}",
                stray.len(),
                stray[0]
            ));
        }
        let (device, vendor) = resync(&mut lines, &mut warnings).await?;
        if device != "dut" {
            warnings.push(format!(
                "the device calls itself {device:?}, not \"dut\": the official runners would refuse it"
            ));
        }
        let reply = lines.command("profile", &|_| LINE).await?;
        let field = |prefix: &str| {
            reply
                .iter()
                .find_map(|l| l.strip_prefix(prefix)?.strip_suffix(']'))
                .map(str::to_owned)
        };
        let model_key = field("m-model-[").ok_or_else(|| {
            Error::runtime(format!(
                "{}: profile% named no model (m-model-[...]): {reply:?}",
                lines.description
            ))
        })?;
        Ok(Self {
            profile: field("m-profile-[").unwrap_or_default(),
            device,
            vendor,
            model_key,
            warnings,
            lines,
        })
    }

    /// Uploads `data` with `db load` and `db` commands of `chunk` bytes,
    /// checking every reply, and with `readback` compares `db print`'s
    /// bytes with what was sent.
    pub async fn load(&mut self, data: &[u8], chunk: usize, readback: bool) -> Result<()> {
        let lines = &mut self.lines;
        let expecting = format!("m-[Expecting {} bytes]", data.len());
        let reply = lines
            .command(&format!("db load {}", data.len()), &|_| LINE)
            .await?;
        // The reference firmware takes an oversize load with only this
        // unprefixed line, then overflows its buffer.
        if let Some(line) = reply.iter().find(|l| l.starts_with("Supplied buffer size")) {
            return Err(Error::runtime(format!(
                "{}: the device cannot hold {} input bytes: {line}",
                lines.description,
                data.len()
            )));
        }
        if reply.iter().all(|l| *l != expecting) {
            return Err(Error::runtime(format!(
                "{}: db load {}% was answered {reply:?}, not {expecting:?}",
                lines.description,
                data.len()
            )));
        }
        let chunk = chunk.clamp(1, MAX_CHUNK);
        let count = data.len().div_ceil(chunk);
        for (i, part) in data.chunks(chunk).enumerate() {
            let hex: String = part.iter().map(|b| format!("{b:02x}")).collect();
            let reply = lines.command(&format!("db {hex}"), &|_| LINE).await?;
            let done = reply.iter().any(|l| l == "m-load-done");
            if done != (i + 1 == count) {
                return Err(Error::runtime(format!(
                    "{}: after {} of {} bytes the device {} m-load-done",
                    lines.description,
                    (i * chunk + part.len()),
                    data.len(),
                    if done { "already said" } else { "did not say" }
                )));
            }
        }
        if readback {
            let reply = lines.command("db print", &|_| LINE).await?;
            let held = parse_buffer(&reply).map_err(|line| {
                Error::runtime(format!(
                    "{}: db print% answered {line:?}, not m-buffer-hh-hh-...",
                    lines.description
                ))
            })?;
            if let Some(at) = (0..data.len()).find(|&i| held.get(i) != Some(&data[i])) {
                return Err(Error::runtime(format!(
                    "{}: the upload was corrupted: byte {at} is {} on the device, {:#04x} sent (db print% readback)",
                    lines.description,
                    held.get(at)
                        .map_or("missing".to_owned(), |b| format!("{b:#04x}")),
                    data[at]
                )));
            }
        }
        Ok(())
    }

    /// Runs `infer N W`. `latency` is the expected time of one inference
    /// on the host's clock: each phase may take its inferences at three
    /// times that, plus 5 s. Without it, each phase may take 30 s, as in
    /// the official runner.
    pub async fn infer(
        &mut self,
        iterations: u32,
        warmup: u32,
        latency: Option<Duration>,
    ) -> Result<Window> {
        let phase = |count: u32| match latency {
            Some(one) => LINE + one.mul_f64(3.0 * f64::from(count)),
            None => Duration::from_secs(30),
        };
        // Line 1 (m-warmup-done) ends the warmups; the timed loop ends
        // before line 3 (a reference DUT's t0 comes first) or line 4.
        let timeout = |i: usize| match i {
            1 => phase(warmup),
            3 | 4 => phase(iterations),
            _ => LINE,
        };
        let command = format!("infer {iterations} {warmup}");
        let reply = self.lines.command(&command, &timeout).await?;
        let laps: Vec<&str> = reply
            .iter()
            .filter_map(|l| l.strip_prefix("m-lap-us-"))
            .collect();
        let bad = |what: &str| {
            Error::runtime(format!(
                "{}: {command}% answered {what}: {reply:?}",
                self.lines.description
            ))
        };
        let [t0, t1] = laps[..] else {
            return Err(bad(&format!("{} timestamps, not 2", laps.len())));
        };
        let (t0, t1): (u64, u64) = match (t0.parse(), t1.parse()) {
            (Ok(t0), Ok(t1)) => (t0, t1),
            _ => return Err(bad("a timestamp that is not a number")),
        };
        let (elapsed_us, wrapped) =
            elapsed(t0, t1).ok_or_else(|| bad("an end before its start"))?;
        let results = reply
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("m-results-[")?.strip_suffix(']'))
            .ok_or_else(|| bad("no m-results-[...]"))?;
        let results = results
            .split(',')
            .map(|v| v.trim().parse::<f32>())
            .collect::<std::result::Result<Vec<f32>, _>>()
            .map_err(|_| bad("results that are not numbers"))?;
        Ok(Window {
            iterations,
            elapsed_us,
            wrapped,
            results,
        })
    }
}

/// `name%` until the answer has a name line and nothing follows it.
async fn resync(lines: &mut Lines, warnings: &mut Vec<String>) -> Result<(String, String)> {
    let mut last = String::new();
    for _ in 0..RESYNC_TRIES {
        let reply = match lines.command("name", &|_| LINE).await {
            Ok(reply) => reply,
            Err(e) => {
                last = e.message().to_owned();
                lines.drain(QUIET).await?;
                continue;
            }
        };
        let late = lines.drain(QUIET).await?;
        if !late.is_empty() {
            warnings.push(format!(
                "dropped {late:?}, which came after name%'s m-ready"
            ));
            last = format!("lines after m-ready: {late:?}");
            continue;
        }
        if let Some(name) = reply.iter().find_map(|l| parse_name(l)) {
            return Ok(name);
        }
        last = format!("no m-name-<device>-[<vendor>] line in {reply:?}");
    }
    Err(Error::runtime(format!(
        "{}: the device did not identify itself after {RESYNC_TRIES} name% ({last}); is it an MLPerf Tiny DUT, at this baud?",
        lines.description
    )))
}

/// `m-name-<device>-[<vendor>]`.
fn parse_name(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("m-name-")?.strip_suffix(']')?;
    let (device, vendor) = rest.split_once("-[")?;
    (!device.is_empty() && !vendor.is_empty()).then(|| (device.to_owned(), vendor.to_owned()))
}

/// The bytes of `db print`'s `m-buffer-hh-hh-...` lines; the first line
/// that is not one, if any.
fn parse_buffer(reply: &[String]) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    for line in reply {
        let hex = line.strip_prefix("m-buffer-").ok_or_else(|| line.clone())?;
        for pair in hex.split('-') {
            bytes.push(u8::from_str_radix(pair, 16).map_err(|_| line.clone())?);
        }
    }
    Ok(bytes)
}

/// `t1 - t0` in microseconds, and whether a 32-bit counter wrapped in
/// between; `None` when `t1` is before `t0` and no 32-bit wrap explains it.
fn elapsed(t0: u64, t1: u64) -> Option<(u64, bool)> {
    if t1 >= t0 {
        return Some((t1 - t0, false));
    }
    let limit = u64::from(u32::MAX);
    (t0 <= limit && t1 <= limit).then(|| (t1 + (1 << 32) - t0, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_32_bit_counter_still_gives_the_window() {
        assert_eq!(elapsed(100, 350), Some((250, false)));
        assert_eq!(elapsed(4_294_967_000, 200), Some((496, true)));
        assert_eq!(elapsed(1 << 40, 5), None);
    }

    #[test]
    fn names_and_buffers_parse() {
        assert_eq!(
            parse_name("m-name-dut-[vlab]"),
            Some(("dut".into(), "vlab".into()))
        );
        assert_eq!(
            parse_name("m-name-ebaz-4205-[xlnx]"),
            Some(("ebaz-4205".into(), "xlnx".into()))
        );
        assert_eq!(parse_name("m-name-dut-[]"), None);
        let lines = ["m-buffer-00-ff-10".to_owned(), "m-buffer-7f".to_owned()];
        assert_eq!(parse_buffer(&lines), Ok(vec![0, 255, 16, 127]));
        assert_eq!(
            parse_buffer(&["m-ready?".to_owned()]),
            Err("m-ready?".to_owned())
        );
    }
}
