//! The report's charts, drawn with plotters as SVG text to inline in the
//! HTML page: a latency histogram, latency over the run, per-layer times
//! and memory use against capacity. Each chart's marks have a colour of
//! their own, so a test (or a reader of a printout) can tell them apart.

use plotters::coord::Shift;
use plotters::prelude::*;
/// The charts' colour type.
pub use plotters::style::RGBColor;

use crate::platform::error::{Error, Result};

/// Histogram bars.
pub const HISTOGRAM_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
/// Timed inferences over the run.
pub const TIMED_COLOR: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// The first and warmup inferences over the run.
pub const WARMUP_COLOR: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
/// Per-layer bars.
pub const LAYER_COLOR: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
/// Memory used.
pub const MEMORY_COLOR: RGBColor = RGBColor(0x94, 0x67, 0xbd);
/// The target's temperature over the run.
pub const TEMPERATURE_COLOR: RGBColor = RGBColor(0x8c, 0x56, 0x4b);
/// The target's CPU frequency over the run.
pub const FREQUENCY_COLOR: RGBColor = RGBColor(0x17, 0xbe, 0xcf);
/// Capacity behind the memory bars.
const CAPACITY_COLOR: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

/// Most bars a latency histogram has.
pub const MAX_BINS: usize = 40;

/// Width of every chart, pixels.
const WIDTH: u32 = 860;

/// A duration unit for axis labels: its name and nanoseconds per unit.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    /// `ms`.
    pub name: &'static str,
    /// Nanoseconds in one unit.
    pub ns: f64,
}

impl Unit {
    /// The unit that shows `ns` with one to three digits before the point.
    pub fn for_ns(ns: f64) -> Self {
        let (name, ns) = match ns {
            n if n >= 1e9 => ("s", 1e9),
            n if n >= 1e6 => ("ms", 1e6),
            n if n >= 1e3 => ("us", 1e3),
            _ => ("ns", 1.0),
        };
        Self { name, ns }
    }
}

/// Equal-width bins over `values`: `ceil(sqrt(n))` of them, at most
/// [`MAX_BINS`], from the smallest value to the largest (one bin when they
/// are all equal).
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    /// Lower edge of the first bin.
    pub start: f64,
    /// Width of every bin.
    pub width: f64,
    /// Values per bin.
    pub counts: Vec<usize>,
}

impl Bins {
    /// Bins `values`.
    pub fn of(values: &[f64]) -> Self {
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if values.is_empty() || max <= min {
            let start = if values.is_empty() { 0.0 } else { min - 0.5 };
            return Self {
                start,
                width: 1.0,
                counts: vec![values.len()],
            };
        }
        let count = ((values.len() as f64).sqrt().ceil() as usize).clamp(1, MAX_BINS);
        let width = (max - min) / count as f64;
        let mut counts = vec![0; count];
        for &v in values {
            let i = (((v - min) / width) as usize).min(count - 1);
            counts[i] += 1;
        }
        Self {
            start: min,
            width,
            counts,
        }
    }

    /// Bins holding at least one value: the bars drawn.
    pub fn bars(&self) -> usize {
        self.counts.iter().filter(|&&c| c > 0).count()
    }
}

/// Draws into an SVG of `height` pixels and returns its text.
fn svg(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> std::result::Result<(), String>,
) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root).map_err(|e| Error::runtime(format!("drawing a chart: {e}")))?;
        root.present().map_err(chart_error)?;
    }
    Ok(text)
}

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::runtime(format!("drawing a chart: {e}"))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The latency histogram of `samples_ns`, and how many bars it has (the
/// bins that hold samples).
pub fn histogram(samples_ns: &[u64], unit: Unit) -> Result<(String, usize)> {
    let values: Vec<f64> = samples_ns.iter().map(|&s| s as f64 / unit.ns).collect();
    let bins = Bins::of(&values);
    let end = bins.start + bins.width * bins.counts.len() as f64;
    let top = bins.counts.iter().copied().max().unwrap_or(1).max(1);
    let chart = svg(320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(bins.start..end, 0usize..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| axis_number(*x, end - bins.start))
            .x_desc(format!("latency ({})", unit.name))
            .y_desc("inferences")
            .draw()
            .map_err(err)?;
        let bars = bins.counts.iter().enumerate().filter(|(_, c)| **c > 0);
        chart
            .draw_series(bars.map(|(i, &count)| {
                let x0 = bins.start + bins.width * i as f64;
                Rectangle::new(
                    [(x0, 0), (x0 + bins.width, count)],
                    HISTOGRAM_COLOR.filled(),
                )
            }))
            .map_err(err)?;
        Ok(())
    })?;
    Ok((chart, bins.bars()))
}

/// Every inference in run order: the first and the warmups, then the
/// timed ones, so warm-up and throttling show.
pub fn timeline(
    first_ns: u64,
    warmup_ns: &[u64],
    samples_ns: &[u64],
    unit: Unit,
) -> Result<String> {
    let warm: Vec<(f64, f64)> = std::iter::once(first_ns)
        .chain(warmup_ns.iter().copied())
        .enumerate()
        .map(|(i, ns)| ((i + 1) as f64, ns as f64 / unit.ns))
        .collect();
    let offset = warm.len();
    let timed: Vec<(f64, f64)> = samples_ns
        .iter()
        .enumerate()
        .map(|(i, &ns)| ((offset + i + 1) as f64, ns as f64 / unit.ns))
        .collect();
    let top = warm
        .iter()
        .chain(&timed)
        .map(|&(_, y)| y)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let last = (offset + timed.len()).max(2) as f64;
    svg(320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..last + 1.0, 0.0..top * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("inference")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| axis_number(*y, top))
            .y_desc(format!("latency ({})", unit.name))
            .draw()
            .map_err(err)?;
        // Points as well as lines: a board times only its first inference
        // before the timed ones, and one point makes no line.
        chart
            .draw_series(
                warm.iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, WARMUP_COLOR.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                warm.iter().copied(),
                WARMUP_COLOR.stroke_width(2),
            ))
            .map_err(err)?
            .label("first and warmup")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], WARMUP_COLOR.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                timed.iter().copied(),
                TIMED_COLOR.stroke_width(2),
            ))
            .map_err(err)?
            .label("timed")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TIMED_COLOR.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// One of the target's readings over the run: `points` are (seconds since
/// the load began, value), drawn in `color` with `label` on the y axis.
pub fn over_run(points: &[(f64, f64)], label: &str, color: RGBColor) -> Result<String> {
    let last = points.iter().map(|&(x, _)| x).fold(1.0f64, f64::max);
    let (low, high) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
    let pad = ((high - low) * 0.1).max(high.abs() * 0.02).max(0.5);
    let label = label.to_owned();
    svg(240, move |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..last * 1.02, (low - pad)..(high + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the load began")
            .y_desc(label)
            .y_label_formatter(&|y| axis_number(*y, high))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 2, color.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?;
        Ok(())
    })
}

/// Horizontal bars of per-layer median times, in execution order from the
/// top; `layers` holds (label, median ns).
pub fn layers(layers: &[(String, f64)], unit: Unit) -> Result<String> {
    let rows: Vec<(String, f64)> = layers
        .iter()
        .map(|(label, ns)| (label.clone(), ns / unit.ns))
        .collect();
    let top = rows.iter().map(|(_, v)| *v).fold(0.0f64, f64::max);
    bars(
        &rows,
        top * 1.05,
        &format!("median time ({})", unit.name),
        LAYER_COLOR,
        None,
    )
}

/// One memory bar: what, used bytes, capacity bytes.
pub type MemoryBar = (String, u64, u64);

/// Horizontal bars of memory used (coloured) as a percentage of each
/// capacity (grey behind).
pub fn memory_share(rows: &[MemoryBar]) -> Result<String> {
    let shares: Vec<(String, f64)> = rows
        .iter()
        .map(|(label, used, capacity)| {
            let share = (*used as f64 / (*capacity).max(1) as f64 * 100.0).min(100.0);
            (label.clone(), share)
        })
        .collect();
    bars(&shares, 100.0, "% of capacity", MEMORY_COLOR, Some(100.0))
}

/// Horizontal bars of memory used, in MiB, where there is no capacity
/// worth showing it against (a process on a host with gigabytes of RAM).
pub fn memory_absolute(rows: &[(String, u64)]) -> Result<String> {
    let mib: Vec<(String, f64)> = rows
        .iter()
        .map(|(label, bytes)| (label.clone(), *bytes as f64 / (1u64 << 20) as f64))
        .collect();
    let top = mib.iter().map(|(_, v)| *v).fold(0.0f64, f64::max);
    bars(&mib, top * 1.05, "MiB", MEMORY_COLOR, None)
}

/// Labelled horizontal bars, the first row at the top, on an x axis from 0
/// to `x_max`, each over a grey bar to `capacity` when given.
fn bars(
    rows: &[(String, f64)],
    x_max: f64,
    x_desc: &str,
    color: RGBColor,
    capacity: Option<f64>,
) -> Result<String> {
    let n = rows.len().max(1);
    let height = 70 + 22 * n as u32;
    let label_width = rows
        .iter()
        .map(|(label, _)| label.len() as u32 * 8 + 16)
        .max()
        .unwrap_or(80)
        .clamp(80, 320);
    // The row shown at segment `y` (counted from the bottom).
    let row = |y: usize| n.checked_sub(1 + y).and_then(|i| rows.get(i));
    svg(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..x_max.max(f64::MIN_POSITIVE), (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_style(("sans-serif", 14))
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(y) => row(*y).map(|(l, _)| l.clone()).unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|x| axis_number(*x, x_max))
            .x_desc(x_desc)
            .draw()
            .map_err(err)?;
        let band = |y: usize, to: f64, fill: RGBColor| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(y)),
                    (to, SegmentValue::Exact(y + 1)),
                ],
                fill.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        };
        if let Some(capacity) = capacity {
            chart
                .draw_series((0..rows.len()).map(|y| band(y, capacity, CAPACITY_COLOR)))
                .map_err(err)?;
        }
        chart
            .draw_series((0..rows.len()).filter_map(|y| row(y).map(|(_, v)| band(y, *v, color))))
            .map_err(err)?;
        Ok(())
    })
}

/// An axis number with as many decimals as an axis spanning `span` needs
/// to tell its ticks apart (up to 6).
fn axis_number(value: f64, span: f64) -> String {
    let decimals = if span > 0.0 {
        (-(span / 5.0).log10()).ceil().clamp(0.0, 6.0) as usize
    } else {
        2
    };
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_every_value_once() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let bins = Bins::of(&values);
        assert_eq!(bins.counts.len(), 10);
        assert_eq!(bins.counts.iter().sum::<usize>(), 100);
        assert_eq!(bins.bars(), 10);
        let same = Bins::of(&[5.0; 7]);
        assert_eq!(same.counts, vec![7]);
        let many: Vec<f64> = (0..10_000).map(f64::from).collect();
        assert_eq!(Bins::of(&many).counts.len(), MAX_BINS);
    }

    #[test]
    fn a_histogram_has_one_bar_of_its_colour_per_non_empty_bin() {
        let samples: Vec<u64> = (0..50).map(|i| 1_000_000 + (i % 7) * 10_000).collect();
        let (svg, bars) = histogram(&samples, Unit::for_ns(1e6)).unwrap();
        let values: Vec<f64> = samples.iter().map(|&s| s as f64 / 1e6).collect();
        let fill = format!(
            "fill=\"#{:02X}{:02X}{:02X}\"",
            HISTOGRAM_COLOR.0, HISTOGRAM_COLOR.1, HISTOGRAM_COLOR.2
        );
        assert_eq!(
            svg.matches(&fill).count(),
            Bins::of(&values).bars(),
            "{svg}"
        );
        assert_eq!(bars, Bins::of(&values).bars());
        assert!(svg.contains("latency (ms)"));
    }
}
