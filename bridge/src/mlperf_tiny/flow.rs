//! The official runner's two flows, run by vlab's driver: performance
//! (five windows on five inputs, the median throughput) and accuracy (every
//! sample of a dataset, top-1 and AUC). vlab calibrates each window's
//! inference count so that it lasts at least 10 s on the device's clock,
//! where the official runner leaves the count to a yaml file.

use std::time::{Duration, Instant};

use serde::Serialize;
use vlab_harness::{Error, Result};

use super::dataset::{self, Sample};
use super::dut::{Dut, Window, input_bytes};
use super::score;

/// Windows of a performance run, each on its own input.
pub const WINDOWS: usize = 5;
/// Shortest window on the device's clock.
pub const MIN_WINDOW: Duration = Duration::from_secs(10);

/// How the flows talk to the device.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Warmup inferences before each timed window.
    pub warmup: u32,
    /// Bytes per `db` command.
    pub chunk: usize,
    /// Read every upload back with `db print`.
    pub readback: bool,
}

/// One window as results.json records it.
#[derive(Debug, Clone, Serialize)]
pub struct WindowRecord {
    /// The input's file, or `synthetic-N`.
    pub file: String,
    /// Timed inferences.
    pub iterations: u32,
    /// Warmup inferences.
    pub warmups: u32,
    /// `t1 - t0` in the device's microseconds.
    pub elapsed_us: u64,
    /// The device's 32-bit timer wrapped inside the window.
    pub wrapped: bool,
    /// Inferences per second.
    pub throughput: f64,
    /// The last inference's results.
    pub results: Vec<f32>,
}

/// A performance run.
#[derive(Debug, Clone, Serialize)]
pub struct Performance {
    /// The device's model key.
    pub model: String,
    /// Each window.
    pub windows: Vec<WindowRecord>,
    /// The median of the windows' throughputs.
    pub median_throughput: f64,
    /// Microseconds per inference at the median throughput.
    pub median_latency_us: f64,
}

/// Runs the performance flow: a calibration inference, then five windows
/// of N inferences, N set so that a window lasts at least 10 s. `inputs`
/// are (name, bytes); fewer than five are reused in turn.
pub async fn performance(
    dut: &mut Dut,
    inputs: &[(String, Vec<u8>)],
    settings: Settings,
) -> Result<Performance> {
    if inputs.is_empty() {
        return Err(Error::input("a performance run needs at least one input"));
    }
    dut.load(&inputs[0].1, settings.chunk, settings.readback)
        .await?;
    let started = Instant::now();
    let calibration = dut.infer(1, settings.warmup, None).await?;
    let wall = started.elapsed();
    let device = Duration::from_micros(calibration.elapsed_us.max(1));
    // The host waits for whichever clock is slower: an emulator's virtual
    // time can run ahead of or behind the wall clock.
    let hint = device.max(wall / (settings.warmup + 1));
    let iterations =
        (MIN_WINDOW.as_micros() / device.as_micros().max(1) + 1).min(u128::from(u32::MAX)) as u32;
    let mut windows = Vec::with_capacity(WINDOWS);
    for i in 0..WINDOWS {
        let (name, bytes) = &inputs[i % inputs.len()];
        dut.load(bytes, settings.chunk, settings.readback).await?;
        let window = dut.infer(iterations, settings.warmup, Some(hint)).await?;
        windows.push(record(name, settings.warmup, &window));
    }
    let mut throughputs: Vec<f64> = windows.iter().map(|w| w.throughput).collect();
    throughputs.sort_by(f64::total_cmp);
    let median_throughput = throughputs[WINDOWS / 2];
    Ok(Performance {
        model: dut.model_key.clone(),
        windows,
        median_throughput,
        median_latency_us: 1e6 / median_throughput,
    })
}

fn record(name: &str, warmups: u32, window: &Window) -> WindowRecord {
    WindowRecord {
        file: name.to_owned(),
        iterations: window.iterations,
        warmups,
        elapsed_us: window.elapsed_us,
        wrapped: window.wrapped,
        throughput: window.throughput(),
        results: window.results.clone(),
    }
}

/// The first five samples' inputs for the device's model, or five
/// synthetic ones (performance does not depend on the bytes).
pub fn performance_inputs(
    dut: &Dut,
    dataset: Option<&std::path::Path>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let size = input_bytes(&dut.model_key).ok_or_else(|| {
        Error::runtime(format!(
            "the device's model {:?} is not an MLPerf Tiny benchmark vlab knows the input of (kws01, vww01, ic01, ad01)",
            dut.model_key
        ))
    })?;
    match dataset {
        Some(dir) => dataset::samples(dir, &dut.model_key)?
            .iter()
            .take(WINDOWS)
            .map(|s| {
                let mut bytes = dataset::read(s)?;
                bytes.truncate(size);
                Ok((file_name(s), bytes))
            })
            .collect(),
        None => Ok((0..WINDOWS)
            .map(|w| {
                let bytes = (0..size)
                    .map(|i| ((i * (7 + 2 * w) + 31 * w) % 256) as u8)
                    .collect();
                (format!("synthetic-{w}"), bytes)
            })
            .collect()),
    }
}

/// An accuracy run.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// The device's model key.
    pub model: String,
    /// Samples scored.
    pub samples: usize,
    /// Top-1 in percent (not for anomaly detection's single score).
    pub top1: Option<f64>,
    /// Area under the ROC curve, when the samples allow one.
    pub auc: Option<f64>,
    /// Why there is no AUC, when there is none.
    pub auc_skipped: Option<String>,
    /// Each sample's file, class and (normalised) scores.
    pub results: Vec<(String, usize, Vec<f32>)>,
}

/// Runs every sample of `dataset` once (`infer 1 0`); anomaly detection's
/// files go as all their segments, whose scores are averaged.
pub async fn accuracy(
    dut: &mut Dut,
    dataset: &std::path::Path,
    settings: Settings,
) -> Result<Accuracy> {
    let samples = dataset::samples(dataset, &dut.model_key)?;
    let mut results = Vec::with_capacity(samples.len());
    for sample in &samples {
        let bytes = dataset::read(sample)?;
        let scores = score_sample(dut, sample, &bytes, settings).await?;
        results.push((file_name(sample), sample.class, scores));
    }
    let scores: Vec<Vec<f32>> = results.iter().map(|r| r.2.clone()).collect();
    let classes: Vec<usize> = results.iter().map(|r| r.1).collect();
    let count = samples[0].classes;
    let single = scores.first().is_some_and(|s| s.len() == 1);
    let (auc, auc_skipped) = match score::auc(&scores, &classes, count) {
        Ok(auc) => (Some(auc), None),
        Err(why) => (None, Some(why)),
    };
    Ok(Accuracy {
        model: dut.model_key.clone(),
        samples: results.len(),
        top1: (!single).then(|| score::top1(&scores, &classes)),
        auc,
        auc_skipped,
        results,
    })
}

async fn score_sample(
    dut: &mut Dut,
    sample: &Sample,
    bytes: &[u8],
    settings: Settings,
) -> Result<Vec<f32>> {
    let Some((size, stride)) = sample.segments else {
        dut.load(bytes, settings.chunk, settings.readback).await?;
        let window = dut.infer(1, 0, None).await?;
        return Ok(score::normalised(&window.results));
    };
    let mut sum: Vec<f32> = Vec::new();
    let mut count = 0;
    let mut start = 0;
    while start + size <= bytes.len() {
        dut.load(
            &bytes[start..start + size],
            settings.chunk,
            settings.readback,
        )
        .await?;
        let results = dut.infer(1, 0, None).await?.results;
        sum.resize(results.len().max(sum.len()), 0.0);
        for (s, r) in sum.iter_mut().zip(&results) {
            *s += r;
        }
        count += 1;
        start += stride;
    }
    if count == 0 {
        return Err(Error::input(format!(
            "{}: {} bytes hold no {size}-byte segment",
            sample.path.display(),
            bytes.len()
        )));
    }
    Ok(sum.iter().map(|s| s / count as f32).collect())
}

fn file_name(sample: &Sample) -> String {
    sample
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
