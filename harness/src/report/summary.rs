//! The short human summary of a run, shared by `user.log` and the terminal.

use crate::report::full::VlabReport;
use crate::tensor::format_shape;

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
pub(crate) fn format_bytes(bytes: Option<u64>) -> String {
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
        format!(
            "model    {} ({}, {} bytes, sha256 {})",
            r.model.file_name,
            r.model.format,
            r.model.size_bytes,
            &r.model.sha256[..r.model.sha256.len().min(12)]
        ),
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
