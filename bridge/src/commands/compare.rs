//! `vlab compare BASELINE_DIR CANDIDATE_DIR`: did the candidate get slower?

use vlab_harness::compare::{CompareOptions, compare};
use vlab_harness::views::html::render_comparison;
use vlab_harness::views::text::{MetricText, comparison_lines};
use vlab_harness::{Error, Result, VlabReport};

use crate::cli::CompareArgs;
use crate::stdout::{say, say_raw};

/// Compares, prints the table (or JSON), writes the page if asked, and
/// fails with a regression error when the candidate is significantly
/// slower than the threshold.
pub fn run(args: &CompareArgs) -> Result<()> {
    let baseline = VlabReport::read_from(&args.baseline)?;
    let candidate = VlabReport::read_from(&args.candidate)?;
    let options = CompareOptions {
        threshold: args.threshold,
        ..CompareOptions::default()
    };
    let comparison = compare(&baseline, &candidate, &options);
    if args.json {
        let json = serde_json::to_string_pretty(&comparison)
            .map_err(|e| Error::runtime(format!("cannot serialise the comparison: {e}")))?;
        say_raw!("{json}\n");
    } else {
        say!("baseline   {}", describe(&args.baseline, &baseline));
        say!("candidate  {}", describe(&args.candidate, &candidate));
        for line in comparison_lines(&comparison) {
            say!("{line}");
        }
    }
    if let Some(path) = &args.html {
        let page = render_comparison(&baseline, &candidate, &comparison)?;
        std::fs::write(path, page).map_err(|e| Error::io(path, &e))?;
    }
    match comparison.latency() {
        Some(latency) if comparison.regression => Err(Error::regression(format!(
            "the candidate's median latency is {} slower than the baseline's ({} interval {}), \
             beyond the {:.1}% threshold",
            latency.change_text(),
            percent(comparison.confidence),
            latency.interval_text(),
            comparison.threshold * 100.0
        ))),
        _ => Ok(()),
    }
}

/// One line naming a run.
fn describe(dir: &std::path::Path, r: &VlabReport) -> String {
    format!(
        "{}: {} with {} {} on {}, {} timed inferences",
        dir.display(),
        r.model.file_name,
        r.engine.name,
        r.engine.version,
        r.target.name,
        r.timing.samples_ns.len()
    )
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}
