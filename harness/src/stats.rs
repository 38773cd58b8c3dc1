//! Summary statistics over per-inference latencies.
//!
//! Percentiles are exact, computed from every sample with linear
//! interpolation between the two nearest ranks (the method numpy's
//! `percentile` uses by default), so `median` is the usual median.
//! `std` is the population standard deviation, as TFLite's
//! `benchmark_model` reports it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Statistics of a set of durations, all in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Statistics {
    /// Number of samples.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Statistics {
    /// Computes statistics of `samples`, or `None` when there are none.
    pub fn from_samples(samples: &[u64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len() as f64;
        let mean = sorted.iter().map(|&s| s as f64).sum::<f64>() / n;
        let var = sorted
            .iter()
            .map(|&s| (s as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        Some(Self {
            count: sorted.len(),
            mean,
            std: var.sqrt(),
            min: sorted[0] as f64,
            max: sorted[sorted.len() - 1] as f64,
            median: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p95: percentile(&sorted, 95.0),
            p99: percentile(&sorted, 99.0),
        })
    }

    /// Inferences per second at the mean latency.
    pub fn throughput_per_second(&self) -> f64 {
        if self.mean > 0.0 {
            1e9 / self.mean
        } else {
            0.0
        }
    }

    /// The same statistics with every duration divided by `divisor`
    /// (1e9 turns nanoseconds into seconds).
    pub fn scaled(&self, divisor: f64) -> Self {
        Self {
            count: self.count,
            mean: self.mean / divisor,
            std: self.std / divisor,
            min: self.min / divisor,
            max: self.max / divisor,
            median: self.median / divisor,
            p90: self.p90 / divisor,
            p95: self.p95 / divisor,
            p99: self.p99 / divisor,
        }
    }
}

/// The `p`th percentile (0..=100) of sorted samples, by linear interpolation
/// between closest ranks.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    match sorted {
        [] => f64::NAN,
        [only] => *only as f64,
        _ => {
            let rank = p.clamp(0.0, 100.0) / 100.0 * (sorted.len() - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = rank.ceil() as usize;
            let frac = rank - lo as f64;
            sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * frac
        }
    }
}

/// The median of `values` (reordered), the mean of the two middle values
/// for an even count; 0 when empty.
pub fn median(values: &mut [u64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return upper as f64;
    }
    let lower = values[..n / 2].iter().copied().max().unwrap_or(upper);
    (lower as f64 + upper as f64) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_reference_values() {
        // numpy: np.percentile([1..=10], [50, 90, 95, 99]) = 5.5, 9.1, 9.55, 9.91; np.std = 2.8722813
        let s = Statistics::from_samples(&[7, 1, 2, 3, 4, 5, 6, 8, 9, 10]).unwrap();
        assert_eq!(s.count, 10);
        assert_eq!((s.min, s.max, s.mean), (1.0, 10.0, 5.5));
        assert_eq!(s.median, 5.5);
        assert!((s.p90 - 9.1).abs() < 1e-9);
        assert!((s.p95 - 9.55).abs() < 1e-9);
        assert!((s.p99 - 9.91).abs() < 1e-9);
        assert!((s.std - 2.872_281_323_269_7).abs() < 1e-9);
    }

    #[test]
    fn single_sample_and_empty() {
        let s = Statistics::from_samples(&[42]).unwrap();
        assert_eq!(
            (s.min, s.median, s.p99, s.max, s.std),
            (42.0, 42.0, 42.0, 42.0, 0.0)
        );
        assert!(Statistics::from_samples(&[]).is_none());
    }

    #[test]
    fn odd_count_median_is_middle_sample() {
        let s = Statistics::from_samples(&[30, 10, 20]).unwrap();
        assert_eq!(s.median, 20.0);
        assert_eq!(s.throughput_per_second(), 1e9 / 20.0);
        assert_eq!(s.scaled(10.0).median, 2.0);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3, 1, 2]), 2.0);
        assert_eq!(median(&mut [4, 1, 3, 2]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }
}
