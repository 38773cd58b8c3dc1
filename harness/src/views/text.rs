//! Runs and comparisons as text: the short human summary of a run, shared
//! by `user.log` and the terminal, and the comparison table of `vlab
//! compare`.

use crate::compare::{Comparison, MetricChange};
use crate::report::VlabReport;
use crate::seam::tensor::format_shape;

/// Formats nanoseconds with a unit that keeps three significant figures.
pub fn format_duration_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Formats bytes in B, KiB or MiB; `n/a` when unknown.
pub fn format_bytes(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        Some(b) if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
        None => "n/a".to_owned(),
    }
}

/// The summary as lines of text: identity, inputs, then a latency table.
pub fn summary_lines(r: &VlabReport) -> Vec<String> {
    let t = &r.timing;
    let s = &t.statistics;
    let mut lines = vec![
        format!("model    {}", r.model.describe()),
        format!(
            "engine   {} {} on {}",
            r.engine.name, r.engine.version, r.target.name
        ),
    ];
    let options = r.engine.options.describe();
    if !options.is_empty() {
        lines.push(format!("options  {options}"));
    }
    for i in &r.inputs {
        lines.push(format!(
            "input    {} {} {}",
            i.name,
            i.dtype,
            format_shape(&i.shape)
        ));
    }
    for o in &r.outputs {
        lines.push(format!(
            "output   {} {} {}",
            o.name,
            o.dtype,
            format_shape(&o.shape)
        ));
    }
    lines.push(format!(
        "init     {}   first inference {}   warmup mean {} ({} runs)",
        format_duration_ns(t.init_ns as f64),
        format_duration_ns(t.first_inference_ns as f64),
        t.warmup_mean_ns
            .map_or_else(|| "n/a".to_owned(), format_duration_ns),
        r.benchmark.warmup
    ));
    lines.push(format!(
        "{} {} inferences   {:.1} inferences/s",
        r.benchmark.benchmark_type.as_str(),
        s.count,
        t.throughput_per_second
    ));
    lines.push(format!(
        "latency  {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "min", "median", "mean", "p90", "p99", "max", "std"
    ));
    lines.push(format!(
        "         {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        format_duration_ns(s.min),
        format_duration_ns(s.median),
        format_duration_ns(s.mean),
        format_duration_ns(s.p90),
        format_duration_ns(s.p99),
        format_duration_ns(s.max),
        format_duration_ns(s.std)
    ));
    match &r.device {
        Some(d) => {
            let mut ticks = d.samples_ticks.clone();
            ticks.sort_unstable();
            lines.push(format!(
                "board    {} firmware {} (build {})   {} at {} Hz   median {} ticks",
                d.board,
                d.firmware_version,
                d.build_hash,
                d.timer,
                d.timer_hz,
                ticks.get(ticks.len() / 2).copied().unwrap_or(0)
            ));
            lines.push(format!(
                "memory   arena {} of {}   stack {}   RAM used {} of {}   flash used {} of {}",
                format_bytes(Some(d.arena_used_bytes)),
                format_bytes(Some(d.arena_bytes)),
                format_bytes(Some(d.stack_used_bytes)),
                format_bytes(r.target.ram_used_bytes),
                format_bytes(r.target.ram_bytes),
                format_bytes(r.target.flash_used_bytes),
                format_bytes(r.target.flash_bytes),
            ));
        }
        None => lines.push(format!(
            "memory   peak RSS {}   added by model {}   CPU load {}",
            format_bytes(r.memory.peak_rss_bytes),
            format_bytes(r.memory.model_rss_bytes),
            r.cpu_load_percent
                .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.1}%"))
        )),
    }
    if let Some(layers) = &r.layers {
        lines.push(format!(
            "layers   {:>5} {:<20} {:>11} {:>7}",
            "index", "operator", "median", "share"
        ));
        for l in layers {
            lines.push(format!(
                "         {:>5} {:<20} {:>11} {:>6.1}%",
                l.index,
                l.op,
                format_duration_ns(l.median_ns),
                l.share_percent
            ));
        }
    }
    lines
}

/// A metric's change for people.
pub trait MetricText {
    /// The change: relative when it can be, else absolute.
    fn change_text(&self) -> String;
    /// The confidence interval, or an empty string.
    fn interval_text(&self) -> String;
    /// The baseline's value.
    fn baseline_text(&self) -> String;
    /// The candidate's value.
    fn candidate_text(&self) -> String;
}

impl MetricText for MetricChange {
    fn change_text(&self) -> String {
        match self.relative_change {
            Some(r) => format!("{:+.1}%", r * 100.0),
            None => {
                let sign = if self.change < 0.0 { "-" } else { "+" };
                format!("{sign}{}", metric_value(self, self.change.abs()))
            }
        }
    }

    fn interval_text(&self) -> String {
        self.interval.map_or_else(String::new, |[low, high]| {
            format!("[{:+.1}%, {:+.1}%]", low * 100.0, high * 100.0)
        })
    }

    fn baseline_text(&self) -> String {
        metric_value(self, self.baseline)
    }

    fn candidate_text(&self) -> String {
        metric_value(self, self.candidate)
    }
}

/// A value of `metric` for people: a duration or a size.
fn metric_value(metric: &MetricChange, value: f64) -> String {
    match metric.unit.as_str() {
        "B" => format_bytes(Some(value.max(0.0) as u64)),
        _ => format_duration_ns(value),
    }
}

/// The comparison as a text table, one metric per line, with a header
/// and the notes.
pub fn comparison_lines(c: &Comparison) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<28} {:>12} {:>12} {:>9} {:>18}  verdict (threshold {:.1}%, {:.0}% interval)",
        "metric",
        "baseline",
        "candidate",
        "change",
        "interval",
        c.threshold * 100.0,
        c.confidence * 100.0
    )];
    for m in &c.metrics {
        lines.push(format!(
            "{:<28} {:>12} {:>12} {:>9} {:>18}  {}",
            m.metric,
            m.baseline_text(),
            m.candidate_text(),
            m.change_text(),
            m.interval_text(),
            m.verdict.as_str()
        ));
    }
    lines.extend(c.notes.iter().map(|n| format!("note: {n}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration_ns(512.0), "512 ns");
        assert_eq!(format_duration_ns(1_500.0), "1.500 us");
        assert_eq!(format_duration_ns(2_345_678.0), "2.346 ms");
        assert_eq!(format_duration_ns(3e9), "3.000 s");
    }
}
