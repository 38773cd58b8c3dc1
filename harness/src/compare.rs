//! Comparing two runs of a benchmark: for each metric, the change from a
//! baseline to a candidate. Latency, which has a sample per inference,
//! gets a bootstrap confidence interval for the relative change of its
//! median and a verdict against a threshold; single values (first
//! inference, per-layer medians, memory) get their change only.
//!
//! The bootstrap resamples each run's samples with replacement, seeded,
//! so the interval is reproducible: the relative change of the medians is
//! computed per resample and the interval is the central `confidence`
//! share of those. A candidate is **slower** when the whole interval lies
//! above `+threshold`, **faster** when it lies below `-threshold`, and
//! shows **no significant change** otherwise. The median and the bootstrap
//! assume nothing about the latency's distribution, which is usually
//! skewed and multimodal.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::VlabReport;
use crate::stats::median;

/// How to compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Relative change of the median latency that counts (0.05 = 5%).
    pub threshold: f64,
    /// Confidence level of the interval (0.95).
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            threshold: 0.05,
            confidence: 0.95,
            resamples: 2000,
            seed: 0,
        }
    }
}

/// What a metric's change means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly faster than the threshold.
    Faster,
    /// Significantly slower than the threshold.
    Slower,
    /// The interval reaches inside the threshold.
    NoSignificantChange,
    /// A single value per run: the change is shown, not judged.
    NotTested,
}

impl Verdict {
    /// The verdict in words.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoSignificantChange => "no significant change",
            Verdict::NotTested => "single value",
        }
    }
}

/// The change of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricChange {
    /// What is measured (`latency (median)`, `layer 3 CONV_2D`, `peak RSS`).
    pub metric: String,
    /// Unit of `baseline`, `candidate` and `change` (`ns`, `B`).
    pub unit: String,
    /// The baseline's value (the median, for latency).
    pub baseline: f64,
    /// The candidate's value.
    pub candidate: f64,
    /// `candidate - baseline`.
    pub change: f64,
    /// `change / baseline`, when the baseline is not 0.
    pub relative_change: Option<f64>,
    /// Confidence interval of `relative_change` (metrics with samples).
    pub interval: Option<[f64; 2]>,
    /// What the change means.
    pub verdict: Verdict,
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// The threshold the verdicts use, as a fraction.
    pub threshold: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Bootstrap resamples behind each interval.
    pub resamples: usize,
    /// One entry per metric, latency first.
    pub metrics: Vec<MetricChange>,
    /// Whether the candidate is significantly slower than the threshold.
    pub regression: bool,
    /// What differs between the runs besides the numbers (model, engine,
    /// target), which makes the comparison one of different setups.
    pub notes: Vec<String>,
}

impl Comparison {
    /// The latency metric, which the verdict is about.
    pub fn latency(&self) -> Option<&MetricChange> {
        self.metrics.first()
    }
}

/// Compares `candidate` with `baseline`.
pub fn compare(
    baseline: &VlabReport,
    candidate: &VlabReport,
    options: &CompareOptions,
) -> Comparison {
    let mut metrics = vec![compare_samples(
        "latency (median)",
        &baseline.timing.samples_ns,
        &candidate.timing.samples_ns,
        options,
    )];
    let single = |metric: String, unit: &str, b: f64, c: f64| single_value(metric, unit, b, c);
    metrics.push(single(
        "first inference".into(),
        "ns",
        baseline.timing.first_inference_ns as f64,
        candidate.timing.first_inference_ns as f64,
    ));
    if let (Some(b), Some(c)) = (&baseline.layers, &candidate.layers) {
        for (lb, lc) in b.iter().zip(c) {
            if lb.op == lc.op {
                metrics.push(single(
                    format!("layer {} {}", lb.index, lb.op),
                    "ns",
                    lb.median_ns,
                    lc.median_ns,
                ));
            }
        }
    }
    let memory = [
        (
            "peak RSS",
            baseline.memory.peak_rss_bytes,
            candidate.memory.peak_rss_bytes,
        ),
        (
            "target RAM used",
            baseline.target.ram_used_bytes,
            candidate.target.ram_used_bytes,
        ),
        (
            "target flash used",
            baseline.target.flash_used_bytes,
            candidate.target.flash_used_bytes,
        ),
    ];
    for (name, b, c) in memory {
        if let (Some(b), Some(c)) = (b, c) {
            metrics.push(single(name.into(), "B", b as f64, c as f64));
        }
    }
    let regression = metrics.iter().any(|m| m.verdict == Verdict::Slower);
    Comparison {
        threshold: options.threshold,
        confidence: options.confidence,
        resamples: options.resamples,
        metrics,
        regression,
        notes: setup_differences(baseline, candidate),
    }
}

/// The change of the median of `candidate` from that of `baseline`, with
/// its bootstrap interval and verdict.
pub fn compare_samples(
    metric: &str,
    baseline: &[u64],
    candidate: &[u64],
    options: &CompareOptions,
) -> MetricChange {
    let b = median(&mut baseline.to_vec());
    let c = median(&mut candidate.to_vec());
    let relative = (b != 0.0).then(|| c / b - 1.0);
    let interval = relative.and_then(|_| bootstrap_interval(baseline, candidate, options));
    let verdict = match interval {
        Some([low, _]) if low > options.threshold => Verdict::Slower,
        Some([_, high]) if high < -options.threshold => Verdict::Faster,
        Some(_) => Verdict::NoSignificantChange,
        None => Verdict::NotTested,
    };
    MetricChange {
        metric: metric.to_owned(),
        unit: "ns".to_owned(),
        baseline: b,
        candidate: c,
        change: c - b,
        relative_change: relative,
        interval,
        verdict,
    }
}

fn single_value(metric: String, unit: &str, baseline: f64, candidate: f64) -> MetricChange {
    MetricChange {
        metric,
        unit: unit.to_owned(),
        baseline,
        candidate,
        change: candidate - baseline,
        relative_change: (baseline != 0.0).then(|| candidate / baseline - 1.0),
        interval: None,
        verdict: Verdict::NotTested,
    }
}

/// The central `confidence` share of the resampled relative changes of
/// the median; `None` when a run has no samples or a resampled baseline
/// median is 0.
fn bootstrap_interval(
    baseline: &[u64],
    candidate: &[u64],
    options: &CompareOptions,
) -> Option<[f64; 2]> {
    if baseline.is_empty() || candidate.is_empty() || options.resamples == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut scratch_b = vec![0u64; baseline.len()];
    let mut scratch_c = vec![0u64; candidate.len()];
    let mut changes = Vec::with_capacity(options.resamples);
    for _ in 0..options.resamples {
        resample(baseline, &mut scratch_b, &mut rng);
        resample(candidate, &mut scratch_c, &mut rng);
        let b = median(&mut scratch_b);
        if b == 0.0 {
            return None;
        }
        changes.push(median(&mut scratch_c) / b - 1.0);
    }
    changes.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - options.confidence.clamp(0.0, 1.0)) / 2.0;
    let at = |q: f64| {
        let i = ((changes.len() - 1) as f64 * q).round() as usize;
        changes[i.min(changes.len() - 1)]
    };
    Some([at(tail), at(1.0 - tail)])
}

/// Fills `into` with draws from `from`, with replacement.
fn resample(from: &[u64], into: &mut [u64], rng: &mut ChaCha8Rng) {
    for slot in into.iter_mut() {
        *slot = from[rng.random_range(0..from.len())];
    }
}

/// What differs between the runs' setups.
fn setup_differences(baseline: &VlabReport, candidate: &VlabReport) -> Vec<String> {
    let mut notes = Vec::new();
    let mut differ = |what: &str, b: &str, c: &str| {
        if b != c {
            notes.push(format!("{what} differs: {b} (baseline) vs {c} (candidate)"));
        }
    };
    differ(
        "model",
        &baseline.model.describe(),
        &candidate.model.describe(),
    );
    differ(
        "engine",
        &format!("{} {}", baseline.engine.name, baseline.engine.version),
        &format!("{} {}", candidate.engine.name, candidate.engine.version),
    );
    differ("target", &baseline.target.name, &candidate.target.name);
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Latency-like samples: a base of `base_ns`, right-skewed noise of
    /// about 3%, and a slow tail every 50 samples.
    fn samples(seed: u64, n: usize, base_ns: f64) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let u: f64 = rng.random_range(0.0..1.0);
                let noise = -0.03 * (1.0 - u).ln();
                let tail = if i % 50 == 49 { 0.5 } else { 0.0 };
                (base_ns * (1.0 + noise + tail)) as u64
            })
            .collect()
    }

    fn scaled(samples: &[u64], factor: f64) -> Vec<u64> {
        samples
            .iter()
            .map(|&s| (s as f64 * factor) as u64)
            .collect()
    }

    #[test]
    fn a_ten_percent_slowdown_is_flagged() {
        let options = CompareOptions::default();
        let base = samples(1, 200, 1e6);
        let slower = scaled(&samples(2, 200, 1e6), 1.10);
        let change = compare_samples("latency", &base, &slower, &options);
        assert_eq!(change.verdict, Verdict::Slower, "{change:?}");
        let relative = change.relative_change.unwrap();
        assert!((0.07..0.13).contains(&relative), "{relative}");
        let [low, high] = change.interval.unwrap();
        assert!(
            low > 0.05 && low < relative && relative < high,
            "{low} {high}"
        );
    }

    #[test]
    fn a_ten_percent_speedup_is_faster() {
        let options = CompareOptions::default();
        let base = samples(3, 200, 1e6);
        let faster = scaled(&samples(4, 200, 1e6), 0.90);
        let change = compare_samples("latency", &base, &faster, &options);
        assert_eq!(change.verdict, Verdict::Faster, "{change:?}");
    }

    #[test]
    fn identical_runs_and_runs_of_one_distribution_raise_no_alarm() {
        let options = CompareOptions::default();
        let base = samples(5, 200, 1e6);
        let same = compare_samples("latency", &base, &base, &options);
        assert_eq!(same.verdict, Verdict::NoSignificantChange);
        assert_eq!(same.change, 0.0);
        for seed in 0..20 {
            let a = samples(100 + seed, 100, 1e6);
            let b = samples(200 + seed, 100, 1e6);
            let change = compare_samples("latency", &a, &b, &options);
            assert_eq!(
                change.verdict,
                Verdict::NoSignificantChange,
                "seed {seed}: {change:?}"
            );
        }
    }

    #[test]
    fn a_small_real_change_inside_the_threshold_is_not_a_regression() {
        let options = CompareOptions::default();
        let base = samples(7, 400, 1e6);
        let slightly = scaled(&samples(8, 400, 1e6), 1.02);
        let change = compare_samples("latency", &base, &slightly, &options);
        assert_eq!(change.verdict, Verdict::NoSignificantChange, "{change:?}");
    }

    #[test]
    fn deterministic_ticks_give_a_zero_width_interval() {
        let options = CompareOptions::default();
        let base = vec![16_099_778u64; 5];
        let slower = vec![17_709_756u64; 5];
        let change = compare_samples("latency", &base, &slower, &options);
        assert_eq!(change.verdict, Verdict::Slower);
        let [low, high] = change.interval.unwrap();
        assert!((low - 0.1).abs() < 1e-6 && (high - 0.1).abs() < 1e-6);
    }

    #[test]
    fn the_interval_is_reproducible_and_empty_runs_are_not_judged() {
        let options = CompareOptions::default();
        let a = samples(9, 50, 1e6);
        let b = samples(10, 50, 1e6);
        let first = compare_samples("latency", &a, &b, &options);
        let again = compare_samples("latency", &a, &b, &options);
        assert_eq!(first, again);
        let empty = compare_samples("latency", &[], &b, &options);
        assert_eq!(empty.verdict, Verdict::NotTested);
    }
}
