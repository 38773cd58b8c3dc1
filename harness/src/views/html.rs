//! `report.html`: one self-contained page a person reads, made from
//! vlab-report.json. Inline CSS and inline SVG charts (plotters), no script
//! and nothing fetched, so it opens offline and prints as it shows.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::compare::Comparison;
use crate::platform::error::Result;
use crate::report::VlabReport;
use crate::views::charts::{self, MemoryBar, Unit};
use crate::views::text::{MetricText, format_bytes, format_duration_ns};

/// Light, print-friendly styling: black on white, charts that scale to the
/// page, sections that do not split across printed pages.
const CSS: &str = "
body { font-family: system-ui, sans-serif; color: #111; background: #fff; margin: 2em auto; max-width: 900px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 0.2em 0.8em 0.2em 0; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.5em 0; }
figure svg { width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9em; }
.muted { color: #555; }
@media print { body { margin: 0; max-width: none; } section { break-inside: avoid; } }
";

/// Renders the page for `report`.
pub fn render(report: &VlabReport) -> Result<String> {
    let t = &report.timing;
    let unit = Unit::for_ns(t.statistics.median);
    let (histogram, bars) = charts::histogram(&t.samples_ns, unit)?;
    let timeline = charts::timeline(t.first_inference_ns, &t.warmup_ns, &t.samples_ns, unit)?;
    let layers = match &report.layers {
        Some(layers) if !layers.is_empty() => {
            let rows: Vec<(String, f64)> = layers
                .iter()
                .map(|l| (format!("{} {}", l.index, l.op), l.median_ns))
                .collect();
            let unit = Unit::for_ns(rows.iter().map(|(_, ns)| *ns).fold(0.0, f64::max));
            Some(charts::layers(&rows, unit)?)
        }
        _ => None,
    };
    let memory_rows = memory_rows(report);
    let memory = match &memory_rows {
        MemoryRows::Share(rows) if !rows.is_empty() => Some(charts::memory_share(rows)?),
        MemoryRows::Absolute(rows) if !rows.is_empty() => Some(charts::memory_absolute(rows)?),
        _ => None,
    };
    let machine = machine_charts(report)?;
    let title = format!("{} on {}", report.model.file_name, report.target.name);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "vlab: " (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (title) }
                    p.muted {
                        (report.engine.name) " " (report.engine.version) ", "
                        (report.benchmark.benchmark_type.as_str()) ", "
                        (report.benchmark.iterations) " timed inferences, finished "
                        (report.finished_at)
                    }
                }
                section #identity { h2 { "Run" } (identity(report)) }
                section #summary { h2 { "Latency" } (summary(report)) }
                section #latency-histogram data-bars=(bars) {
                    h2 { "Latency distribution" }
                    figure {
                        (PreEscaped(histogram))
                        figcaption {
                            (report.timing.samples_ns.len()) " timed inferences in " (bars)
                            " non-empty bins of equal width (at most " (charts::MAX_BINS) ")."
                        }
                    }
                }
                section #latency-timeline {
                    h2 { "Latency over the run" }
                    figure {
                        (PreEscaped(timeline))
                        figcaption {
                            "Every inference in order: the first and the warmups (orange), then the \
                             timed ones (red). A drift shows warm-up, throttling or interference."
                        }
                    }
                }
                @if !machine.is_empty() {
                    section #target-over-run {
                        h2 { "Target over the run" }
                        @for (svg, caption) in &machine {
                            figure {
                                (PreEscaped(svg))
                                figcaption { (caption) }
                            }
                        }
                    }
                }
                @if let Some(svg) = layers {
                    section #layers {
                        h2 { "Per-layer time" }
                        figure {
                            (PreEscaped(svg))
                            figcaption { "Median time of each operator, in execution order." }
                        }
                    }
                }
                @if let Some(svg) = memory {
                    section #memory {
                        h2 { "Memory" }
                        figure { (PreEscaped(svg)) }
                        (memory_table(report, &memory_rows))
                    }
                }
                footer.muted {
                    p { "vlab " (report.vlab_version) ", " (report.schema) ". The numbers behind \
                         every chart are in vlab-report.json." }
                }
            }
        }
    };
    Ok(page.into_string())
}

/// The target's temperature and CPU frequency over the run, each a chart
/// with its caption, where the target exposed them.
fn machine_charts(r: &VlabReport) -> Result<Vec<(String, String)>> {
    let over = &r.target.over_run;
    let series =
        |pick: fn(&crate::platform::sampler::MachineSample) -> Option<f64>| -> Vec<(f64, f64)> {
            over.iter()
                .filter_map(|p| pick(p).map(|v| (p.at_ms as f64 / 1000.0, v)))
                .collect()
        };
    let mut charts = Vec::new();
    let temperature = series(|p| p.temperature_celsius);
    if !temperature.is_empty() {
        charts.push((
            charts::over_run(&temperature, "temperature (°C)", charts::TEMPERATURE_COLOR)?,
            "The warmest thermal zone: a rising line beside slowing inferences is a board heating up.".to_owned(),
        ));
    }
    let frequency = series(|p| p.frequency_mhz);
    if !frequency.is_empty() {
        charts.push((
            charts::over_run(&frequency, "CPU 0 frequency (MHz)", charts::FREQUENCY_COLOR)?,
            "CPU 0's clock: a drop while the temperature climbs is thermal throttling.".to_owned(),
        ));
    }
    Ok(charts)
}

/// The run's identity: model, engine, target, dates and versions.
fn identity(r: &VlabReport) -> Markup {
    let m = &r.model;
    html! {
        table {
            tr { th { "model" } td {
                @match (&m.held, m.format, m.size_bytes, &m.sha256) {
                    (Some(held), ..) => { (held.model_key) ", held by the MLPerf Tiny device "
                        (held.device) "-[" (held.vendor) "], profile " (held.profile) }
                    (None, Some(format), Some(size), Some(sha)) => { (m.file_name) " (" (format)
                        ", " (size) " B, sha256 " (sha.get(..16).unwrap_or(sha)) "…)" }
                    _ => { (m.file_name) }
                }
            } }
            tr { th { "engine" } td { (r.engine.name) " " (r.engine.version) } }
            tr { th { "target" } td { (r.target.name)
                @if let Some(id) = &r.target.id { " (" (id) ")" } } }
            @if let Some(d) = &r.device {
                tr { th { "firmware" } td { (d.firmware_version) ", build " (d.build_hash)
                    ", " (d.timer) " at " (d.timer_hz) " Hz, over " (d.transport) } }
            }
            @if let Some(d) = &r.dut {
                tr { th { "timing" } td { (d.sample_timing) " Over " (d.transport) "." } }
                @for warning in &d.warnings {
                    tr { th { "device warning" } td { (warning) } }
                }
            }
            @if let Some(s) = &r.target.system {
                tr { th { "target system" } td {
                    (s.cpu_model.as_deref().unwrap_or("unknown CPU")) ", " (s.cores) " cores"
                    @if let Some(g) = &s.governor { ", governor " (g) }
                    @if let Some(f) = s.frequency_mhz { ", " (format!("{f:.0}")) " MHz" }
                    @if let Some(k) = &s.kernel { ", kernel " (k) }
                } }
            }
            @if let (Some(before), Some(after)) = (r.target.temperature_before_celsius, r.target.temperature_celsius) {
                tr { th { "temperature" } td { (format!("{before:.1}")) " °C at load, "
                    (format!("{after:.1}")) " °C at the end" } }
            }
            tr { th { "host" } td { (r.host.cpu_model.as_deref().unwrap_or("unknown CPU")) ", "
                (r.host.cores) " cores, " (r.host.os) "/" (r.host.arch) } }
            tr { th { "benchmark" } td { (r.benchmark.benchmark_type.as_str()) ", "
                (r.benchmark.warmup) " warmup, " (r.benchmark.iterations) " timed"
                @if let Some(seed) = r.benchmark.seed { ", seed " (seed) }
                @if let Some(ds) = &r.benchmark.dataset { ", dataset " (ds.file_name) } } }
            tr { th { "started" } td { (r.started_at) } }
            tr { th { "finished" } td { (r.finished_at) } }
            tr { th { "vlab" } td { (r.vlab_version) } }
        }
    }
}

/// The summary statistics.
fn summary(r: &VlabReport) -> Markup {
    let s = &r.timing.statistics;
    let rows = [
        ("median", s.median),
        ("mean", s.mean),
        ("std", s.std),
        ("min", s.min),
        ("p90", s.p90),
        ("p95", s.p95),
        ("p99", s.p99),
        ("max", s.max),
    ];
    html! {
        table {
            @for (name, ns) in rows {
                tr { th { (name) } td.num { (format_duration_ns(ns)) } }
            }
            tr { th { "throughput" } td.num { (format!("{:.1}", r.timing.throughput_per_second)) " /s" } }
            tr { th { "init" } td.num { (format_duration_ns(r.timing.init_ns as f64)) } }
            tr { th { "first inference" } td.num { (format_duration_ns(r.timing.first_inference_ns as f64)) } }
            @if let Some(cpu) = r.cpu_load_percent {
                tr { th { "CPU load" } td.num { (format!("{cpu:.1}")) " %" } }
            }
        }
    }
}

/// What the memory chart shows.
enum MemoryRows {
    /// On a board: arena, stack, RAM and flash used against capacity.
    Share(Vec<MemoryBar>),
    /// On a host: the process's peak and the model's resident memory, in
    /// bytes (against gigabytes of RAM they would not show).
    Absolute(Vec<(String, u64)>),
}

fn memory_rows(r: &VlabReport) -> MemoryRows {
    let Some(d) = &r.device else {
        let rows = [
            ("peak resident memory", r.memory.peak_rss_bytes),
            ("model's resident memory", r.memory.model_rss_bytes),
        ];
        return MemoryRows::Absolute(
            rows.into_iter()
                .filter_map(|(what, bytes)| Some((what.to_owned(), bytes?)))
                .collect(),
        );
    };
    let mut bars = vec![("tensor arena".to_owned(), d.arena_used_bytes, d.arena_bytes)];
    if let Some(ram) = r.target.ram_bytes.filter(|_| d.stack_used_bytes > 0) {
        bars.push(("stack".to_owned(), d.stack_used_bytes, ram));
    }
    if let (Some(used), Some(ram)) = (r.target.ram_used_bytes, r.target.ram_bytes) {
        bars.push(("RAM".to_owned(), used, ram));
    }
    if let (Some(used), Some(flash)) = (r.target.flash_used_bytes, r.target.flash_bytes) {
        bars.push(("flash".to_owned(), used, flash));
    }
    MemoryRows::Share(bars)
}

/// The memory figures in words, under the chart.
fn memory_table(r: &VlabReport, rows: &MemoryRows) -> Markup {
    html! {
        table {
            @match rows {
                MemoryRows::Share(bars) => {
                    @for (what, used, capacity) in bars {
                        tr { td { (what) } td.num { (format_bytes(Some(*used))) }
                             td { "of " (format_bytes(Some(*capacity))) } }
                    }
                }
                MemoryRows::Absolute(bars) => {
                    @for (what, used) in bars {
                        tr { td { (what) } td.num { (format_bytes(Some(*used))) }
                             td { "of " (format_bytes(r.target.ram_bytes)) " RAM" } }
                    }
                }
            }
        }
    }
}

/// The side-by-side page of `vlab compare --html`: the comparison table,
/// then each run's latency histogram and latency over the run, baseline on
/// the left.
pub fn render_comparison(
    baseline: &VlabReport,
    candidate: &VlabReport,
    comparison: &Comparison,
) -> Result<String> {
    // One unit for both runs, so their axes read alike.
    let unit = Unit::for_ns(
        baseline
            .timing
            .statistics
            .median
            .min(candidate.timing.statistics.median),
    );
    let mut columns = Vec::new();
    for (role, r) in [("baseline", baseline), ("candidate", candidate)] {
        let t = &r.timing;
        columns.push((
            role,
            r,
            charts::histogram(&t.samples_ns, unit)?.0,
            charts::timeline(t.first_inference_ns, &t.warmup_ns, &t.samples_ns, unit)?,
        ));
    }
    let verdict = comparison.latency().map_or("", |m| m.verdict.as_str());
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "vlab compare: " (verdict) }
                style { (PreEscaped(CSS)) (PreEscaped(COMPARE_CSS)) }
            }
            body {
                h1 { "Latency: " (verdict) }
                p.muted {
                    "Threshold " (format!("{:.1}", comparison.threshold * 100.0)) "%, "
                    (format!("{:.0}", comparison.confidence * 100.0)) "% bootstrap interval of the \
                    median's relative change (" (comparison.resamples) " resamples)."
                }
                @for note in &comparison.notes { p { "Note: " (note) } }
                section #comparison {
                    table {
                        tr { th { "metric" } th.num { "baseline" } th.num { "candidate" }
                             th.num { "change" } th.num { "interval" } th { "verdict" } }
                        @for m in &comparison.metrics {
                            tr {
                                td { (m.metric) }
                                td.num { (m.baseline_text()) }
                                td.num { (m.candidate_text()) }
                                td.num { (m.change_text()) }
                                td.num { (m.interval_text()) }
                                td { (m.verdict.as_str()) }
                            }
                        }
                    }
                }
                div.side-by-side {
                    @for (role, r, histogram, timeline) in &columns {
                        section.run id=(role) {
                            h2 { (role) ": " (r.model.file_name) " on " (r.target.name) }
                            p.muted { (r.engine.name) " " (r.engine.version) ", finished " (r.finished_at) }
                            figure { (PreEscaped(histogram)) figcaption { "Latency distribution" } }
                            figure { (PreEscaped(timeline)) figcaption { "Latency over the run" } }
                        }
                    }
                }
            }
        }
    };
    Ok(page.into_string())
}

/// Two columns on a screen, one after the other on paper.
const COMPARE_CSS: &str = "
body { max-width: 1400px; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
@media print { .side-by-side { display: block; } }
";
