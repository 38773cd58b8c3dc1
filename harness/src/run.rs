//! One benchmark from model file to artifacts.

use std::io::{Write, sink};

use time::OffsetDateTime;

use crate::artifacts::OutputDir;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::host::HostInfo;
use crate::measure::{BenchmarkSpec, Measurement, Observer, Workload, measure};
use crate::model::{ModelCapacity, ModelFile};
use crate::params::Parameters;
use crate::report::{ContractReport, Reports, TargetInfo, VlabReport};

/// Benchmarks `spec` on `engine` and writes every artifact into `out`: the
/// reports on success, `error.log` on failure.
pub fn run_benchmark(
    engine: &dyn Engine,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let result = run(engine, spec, out, observer);
    if let Err(e) = &result {
        out.write_failure(e);
    }
    result
}

/// [`run_benchmark`] into a folder created as needed, with no progress display.
pub fn benchmark_to_dir(
    engine: &dyn Engine,
    spec: &BenchmarkSpec,
    dir: &std::path::Path,
) -> Result<Reports> {
    run_benchmark(engine, spec, &OutputDir::prepare(dir)?, &mut ())
}

fn run(
    engine: &dyn Engine,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let started = OffsetDateTime::now_utc();
    spec.validate()?;
    let model = ModelFile::read(&spec.model, &ModelCapacity::host())?;
    out.log(&format!(
        "vlab {}: {} {} with engine {}",
        env!("CARGO_PKG_VERSION"),
        spec.benchmark_type().as_str(),
        model.file_name(),
        engine.name()
    ))?;
    if let Some(path) = &spec.parameters {
        out.log(&Parameters::describe_source(path))?;
    }
    let measurement = match spec.workload {
        Workload::Random { .. } => measure(engine, &model, spec, observer, &mut sink())?,
        Workload::Dataset { .. } => {
            let mut raw = out.raw_output_writer()?;
            let m = measure(engine, &model, spec, observer, &mut raw)?;
            raw.flush()
                .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
            m
        }
    };
    let target = TargetInfo::host(&HostInfo::current());
    write_reports(&measurement, &model, target, started, out)
}

/// Turns a finished measurement into both reports and writes them, with the
/// summary, into `out`. [`run_benchmark`] ends with this; a caller that
/// measures elsewhere (a board, through vlab-bridge) ends with it too.
pub fn write_reports(
    measurement: &Measurement,
    model: &ModelFile,
    target: TargetInfo,
    started: OffsetDateTime,
    out: &OutputDir,
) -> Result<Reports> {
    let full = VlabReport::new(
        measurement,
        model,
        target,
        started,
        OffsetDateTime::now_utc(),
    )?;
    let reports = Reports {
        contract: ContractReport::from_full(&full),
        full,
    };
    out.write_success(&reports)?;
    Ok(reports)
}
