//! One benchmark from model file to artifacts: read the model, run the
//! measured loop on the [`Target`] chosen for it, write the reports, or on
//! failure error.log and what was measured before it
//! ([`crate::partial`]).

use std::io::{Write, sink};

use time::OffsetDateTime;

use crate::artifacts::OutputDir;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::measure::{BenchmarkSpec, Measurement, Observer, Workload};
use crate::model::ModelFile;
use crate::params::Parameters;
use crate::partial::Recorder;
use crate::report::{ContractReport, Reports, VlabReport};
use crate::target::{InProcess, Target};

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
    let model = ModelFile::read(&spec.model, &target.model_capacity())?;
    out.log(&format!(
        "vlab {}: {} {} {}",
        env!("CARGO_PKG_VERSION"),
        spec.benchmark_type().as_str(),
        model.file_name(),
        target.describe()
    ))?;
    if let Some(path) = &spec.parameters {
        out.log(&Parameters::describe_source(path))?;
    }
    let mut recorder = Recorder::new(observer);
    let measured = match spec.workload {
        Workload::Random { .. } => target.measure(&model, spec, &mut recorder, &mut sink()),
        Workload::Dataset { .. } => {
            let mut raw = out.raw_output_writer()?;
            let m = target.measure(&model, spec, &mut recorder, &mut raw);
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
            recorder.report(engine, &model, spec.benchmark_type(), started, e)
        });
        if let Some(report) = partial.flatten() {
            // Best effort: the run's own error is the one to report.
            let _ = out.write_partial(&report);
        }
    })?;
    write_reports(&measurement, &model, started, out)
}

/// Turns a finished measurement into both reports and writes them, with the
/// summary, into `out`. [`run_benchmark`] ends with this; a caller that
/// measures elsewhere (a board, through vlab-bridge) ends with it too.
pub fn write_reports(
    measurement: &Measurement,
    model: &ModelFile,
    started: OffsetDateTime,
    out: &OutputDir,
) -> Result<Reports> {
    let full = VlabReport::new(measurement, model, started, OffsetDateTime::now_utc())?;
    let reports = Reports {
        contract: ContractReport::from_full(&full),
        full,
    };
    out.write_success(&reports)?;
    Ok(reports)
}
