//! How many inferences each timed sample of an MLPerf Tiny device spans.
//!
//! The device times whole `infer N W` windows with a microsecond timer,
//! and a window may carry a fixed cost the inferences do not: the
//! reference firmware prints its first timestamp over the UART inside the
//! window. A sample is one inference when that cost and the timer's 1 µs
//! resolution stay within [`TOLERANCE`] of an inference; otherwise it is
//! the mean of the shortest window of N for which they do.

/// The largest share of a sample that window cost and timer resolution
/// may take.
pub const TOLERANCE: f64 = 0.01;

/// Most inferences in one sample's window.
pub const MAX_PER_SAMPLE: u32 = 100_000;

/// Inferences per sample and the calibration they come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePlan {
    /// Inferences in each sample's window.
    pub per_sample: u32,
    /// One inference, µs.
    pub latency_us: f64,
    /// The fixed cost of a window, µs.
    pub overhead_us: f64,
}

impl SamplePlan {
    /// The plan from a window of one inference (`single_us`) and a window
    /// of `count` (at least 2) inferences (`window_us`), both as the device
    /// timed them: a window of n lasts `overhead + n * latency`, and the two
    /// windows give both.
    pub fn calibrate(single_us: u64, count: u32, window_us: u64) -> Self {
        let extra = f64::from(count.max(2) - 1);
        let latency_us = ((window_us as f64 - single_us as f64) / extra).max(0.0);
        let overhead_us = (single_us as f64 - latency_us).max(0.0);
        // The error of one window: its fixed cost plus one tick of the timer.
        let error_us = overhead_us + 1.0;
        let per_sample = if latency_us <= 0.0 {
            MAX_PER_SAMPLE
        } else {
            (error_us / (TOLERANCE * latency_us))
                .ceil()
                .clamp(1.0, f64::from(MAX_PER_SAMPLE)) as u32
        };
        Self {
            per_sample,
            latency_us,
            overhead_us,
        }
    }

    /// How many inferences the calibration window should hold so that it
    /// lasts about 200 ms, given one inference of `single_us`.
    pub fn calibration_count(single_us: u64) -> u32 {
        (200_000 / single_us.max(1)).clamp(2, u64::from(MAX_PER_SAMPLE)) as u32
    }

    /// The report's sentence on how samples were timed.
    pub fn describe(&self) -> String {
        let cost = format!(
            "a window costs {:.1} µs beyond its inferences of {:.1} µs each",
            self.overhead_us, self.latency_us
        );
        if self.per_sample == 1 {
            format!(
                "Each sample is one inference, an `infer 1 0` window on the device's microsecond timer ({cost})."
            )
        } else {
            format!(
                "Each sample is the mean of an `infer {n} 0` window on the device's microsecond timer: {cost}, so a single inference could not be timed within {pct} %, and {n} can.",
                n = self.per_sample,
                pct = TOLERANCE * 100.0
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_inference_without_window_cost_is_timed_alone() {
        // vlab's firmware on the emulated AN385: 712 ms, no cost.
        let plan = SamplePlan::calibrate(712_330, 2, 1_424_660);
        assert_eq!(plan.latency_us, 712_330.0);
        assert_eq!(plan.per_sample, 1);
        assert_eq!(plan.overhead_us, 0.0);
        assert!(plan.describe().starts_with("Each sample is one inference"));
    }

    #[test]
    fn a_window_cost_buys_windows_of_n() {
        // A reference DUT printing t0 inside the window: 1.5 ms over a
        // 10 ms inference needs windows of ceil(1501 / 100) = 16.
        let plan = SamplePlan::calibrate(11_500, 20, 201_500);
        assert_eq!(plan.latency_us, 10_000.0);
        assert_eq!(plan.overhead_us, 1_500.0);
        assert_eq!(plan.per_sample, 16);
        assert!(plan.describe().contains("`infer 16 0`"));
    }

    #[test]
    fn a_short_inference_needs_windows_for_the_timer_alone() {
        // 40 µs inferences: 1 µs resolution is 2.5 %, so windows of 3.
        let plan = SamplePlan::calibrate(40, 5000, 200_000);
        assert_eq!(plan.overhead_us, 0.0);
        assert_eq!(plan.per_sample, 3);
        assert_eq!(SamplePlan::calibration_count(40), 5000);
        assert_eq!(SamplePlan::calibration_count(712_330), 2);
    }

    #[test]
    fn a_device_that_reports_no_time_gets_the_largest_window() {
        assert_eq!(SamplePlan::calibrate(0, 2, 0).per_sample, MAX_PER_SAMPLE);
    }
}
