//! One benchmark from model file to artifacts: read the model, run the
//! measured loop on the [`Target`] chosen for it, write the reports, or on
//! failure error.log and what was measured before it
//! ([`crate::report::partial`]).

use std::io::{Write, sink};

use time::OffsetDateTime;

use crate::artifacts::{HTML_REPORT, OutputDir, REPORT, VLAB_REPORT, VLAB_REPORT_PARTIAL};
use crate::platform::error::{Error, ErrorKind, Result};
use crate::platform::field::Field;
use crate::record::{Measurement, Observer};
use crate::report::partial::Recorder;
use crate::report::{ContractReport, Reports, VlabReport};
use crate::runner::target::{InProcess, Target};
use crate::seam::engine::Engine;
use crate::seam::model::ModelFile;
use crate::seam::params::Parameters;
use crate::spec::{BenchmarkSpec, Workload};
use crate::views::html::render;
use crate::views::text::summary_lines;

/// Benchmarks `spec` on `target` and writes every artifact into `out`:
/// the reports on success; on failure `error.log`, and
/// `vlab-report.json.partial` when the engine failed after loading.
pub fn run_benchmark(
    target: &dyn Target,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let result = run(target, spec, out, observer);
    if let Err(e) = &result {
        out.write_failure(e);
    }
    result
}

/// [`run_benchmark`] with `engine` in this process, into a folder created
/// as needed, with no progress display.
pub fn benchmark_to_dir(
    engine: &dyn Engine,
    spec: &BenchmarkSpec,
    dir: &std::path::Path,
) -> Result<Reports> {
    run_benchmark(&InProcess(engine), spec, &OutputDir::prepare(dir)?, &mut ())
}

fn run(
    target: &dyn Target,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let started = OffsetDateTime::now_utc();
    spec.validate()?;
    let model = model_file(target, spec)?;
    out.log(&format!(
        "vlab {}: {} {} {}",
        env!("CARGO_PKG_VERSION"),
        spec.benchmark_type().as_str(),
        model
            .as_ref()
            .map_or_else(|| "the model it holds".to_owned(), ModelFile::file_name),
        target.describe()
    ))?;
    if let Some(path) = &spec.parameters {
        out.log(&Parameters::describe_source(path))?;
    }
    let mut recorder = Recorder::new(observer);
    let measured = match spec.workload {
        Workload::Random { .. } => target.measure(model.as_ref(), spec, &mut recorder, &mut sink()),
        Workload::Dataset { .. } => {
            let mut raw = out.raw_output_writer()?;
            let m = target.measure(model.as_ref(), spec, &mut recorder, &mut raw);
            raw.flush()
                .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
            m
        }
    };
    let measurement = measured.inspect_err(|e| {
        // An engine that failed or crashed mid-run, or a run a signal
        // stopped; input errors get none.
        let measured = matches!(e.kind(), ErrorKind::Runtime | ErrorKind::Interrupted(_));
        let partial = measured.then(|| {
            let engine = target.engine();
            recorder.report(engine, spec.benchmark_type(), started, e)
        });
        if let Some(report) = partial.flatten() {
            // Best effort: the run's own error is the one to report.
            let _ = json(&report).and_then(|bytes| out.write(VLAB_REPORT_PARTIAL, &bytes));
        }
    })?;
    write_reports(&measurement, started, out)
}

/// The model file `spec` names, read, for a target that runs files; none
/// for a target that holds its own model. Giving a file to the one or none
/// to the other is an input error.
fn model_file(target: &dyn Target, spec: &BenchmarkSpec) -> Result<Option<ModelFile>> {
    match (&spec.model, target.holds_model()) {
        (Some(path), false) => ModelFile::read(path, &target.model_capacity()).map(Some),
        (None, true) => Ok(None),
        (None, false) => Err(Error::input(format!(
            "{}: a benchmark {} needs a model file",
            Field::Model,
            target.describe()
        ))),
        (Some(path), true) => Err(Error::input(format!(
            "{} {}: the benchmark runs {}, on the model that device holds; leave out {}",
            Field::Model,
            path.display(),
            target.describe(),
            Field::Model
        ))),
    }
}

/// Turns a finished measurement into both reports and writes them, with the
/// summary, into `out`. [`run_benchmark`] ends with this; a caller that
/// measures elsewhere (a board, through vlab-bridge) ends with it too.
pub fn write_reports(
    measurement: &Measurement,
    started: OffsetDateTime,
    out: &OutputDir,
) -> Result<Reports> {
    let full = VlabReport::new(measurement, started, OffsetDateTime::now_utc())?;
    let reports = Reports {
        contract: ContractReport::from_full(&full),
        full,
    };
    write_artifacts(&reports, out)?;
    Ok(reports)
}

/// Writes the reports, completes `raw_output.bin` and logs the summary;
/// `report.json` comes last, as its presence means every other artifact
/// is complete.
fn write_artifacts(reports: &Reports, out: &OutputDir) -> Result<()> {
    out.write(VLAB_REPORT, &json(&reports.full)?)?;
    if reports.full.raw_output.is_some() {
        out.complete_raw_output()?;
    }
    for line in summary_lines(&reports.full) {
        out.log(&line)?;
    }
    out.write(HTML_REPORT, render(&reports.full)?.as_bytes())?;
    out.write(REPORT, &json(&reports.contract)?)
}

/// `value` as pretty JSON, with a final newline.
fn json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::runtime(format!("cannot serialise a report: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}
