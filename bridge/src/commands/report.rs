//! `vlab report DIR`: report.html from a run's vlab-report.json.

use vlab_harness::artifacts::HTML_REPORT;
use vlab_harness::views::html::render;
use vlab_harness::{Error, Result, VlabReport};

use crate::cli::ReportArgs;
use crate::stdout::say;

/// Renders the page and writes it next to the report (or to `--out`).
pub fn run(args: &ReportArgs) -> Result<()> {
    let report = VlabReport::read_from(&args.dir)?;
    let page = render(&report)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(HTML_REPORT));
    std::fs::write(&out, page).map_err(|e| Error::io(&out, &e))?;
    say!("wrote {}", out.display());
    Ok(())
}
