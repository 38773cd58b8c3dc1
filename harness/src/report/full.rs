//! `vlab-report.json`: vlab's own complete record of a run. Its JSON Schema
//! is generated from these types (`vlab schema`) and committed as
//! `docs/vlab-report.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::inputs::DatasetInfo;
use crate::platform::error::{Error, Result};
use crate::platform::host::HostInfo;
use crate::record::{DeviceInfo, DutInfo, LayerStats, Measurement, TargetInfo};
use crate::seam::held::HeldModel;
use crate::seam::model::{ModelFile, ModelFormat};
use crate::seam::options::EngineSettings;
use crate::seam::tensor::TensorSpec;
use crate::spec::BenchmarkType;
use crate::stats::Statistics;

/// Identifier of this report layout, stored in the `schema` field.
pub const REPORT_SCHEMA: &str = "vlab-report/1";

/// vlab's full report of one benchmark run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VlabReport {
    /// Report layout identifier, `vlab-report/1`.
    pub schema: String,
    /// Version of vlab that produced the report.
    pub vlab_version: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the run ended (RFC 3339, UTC).
    pub finished_at: String,
    /// The contract's spelling of `finished_at` (`YY-MM-DD hh:mm:ss`, UTC).
    pub finished_at_contract: String,
    /// What ran the model.
    pub target: TargetInfo,
    /// The machine vlab ran on.
    pub host: HostInfo,
    /// The inference engine.
    pub engine: EngineInfo,
    /// The model: the file vlab sent, or the one an MLPerf Tiny device holds.
    pub model: ModelInfo,
    /// How the benchmark was run.
    pub benchmark: BenchmarkInfo,
    /// Model inputs, in model order.
    pub inputs: Vec<TensorSpec>,
    /// Model outputs, in model order, with the shapes of the first inference.
    pub outputs: Vec<TensorSpec>,
    /// Every measured duration.
    pub timing: TimingInfo,
    /// Memory use.
    pub memory: MemoryInfo,
    /// Process CPU time over the timed loop as a percentage of all cores'
    /// capacity over the same wall time.
    pub cpu_load_percent: Option<f64>,
    /// The raw output file (TYPE2).
    pub raw_output: Option<RawOutputInfo>,
    /// Per-operator times (`--per-layer`), in execution order.
    pub layers: Option<Vec<LayerStats>>,
    /// The board that ran the model (MCU targets).
    pub device: Option<DeviceInfo>,
    /// The MLPerf Tiny device under test that ran the model, and how vlab
    /// timed it.
    pub dut: Option<DutInfo>,
}

/// The inference engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EngineInfo {
    /// Engine name (`tract`).
    pub name: String,
    /// Version the engine library reports.
    pub version: String,
    /// The settings the engine ran with, defaults included (thread counts,
    /// optimisation level, execution provider, delegates). Its session or
    /// interpreter creation time is `timing.init_ns`.
    pub options: EngineSettings,
}

/// The model: a file vlab sent, or the model an MLPerf Tiny device under
/// test holds, which vlab knows only by the names the device gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    /// File name without directories; for a model a device holds, its
    /// MLPerf Tiny model key (`ic01`).
    pub file_name: String,
    /// Format detected from the content (`null`: a model a device holds).
    pub format: Option<ModelFormat>,
    /// File size in bytes (`null`: a model a device holds).
    pub size_bytes: Option<u64>,
    /// Lowercase hex SHA-256 of the file (`null`: a model a device holds).
    pub sha256: Option<String>,
    /// The model the device holds, as it names it, when vlab sent no file.
    pub held: Option<HeldModel>,
}

/// How the benchmark was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchmarkInfo {
    /// `TYPE1` (random inputs) or `TYPE2` (dataset).
    #[serde(rename = "type")]
    pub benchmark_type: BenchmarkType,
    /// Seed of the random inputs (TYPE1).
    pub seed: Option<u64>,
    /// The dataset (TYPE2).
    pub dataset: Option<DatasetInfo>,
    /// Warmup inferences after the first one.
    pub warmup: usize,
    /// Timed inferences.
    pub iterations: usize,
}

/// Every measured duration, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimingInfo {
    /// Load and prepare the model: the engine's session or interpreter
    /// creation, from model bytes in memory to ready to run (on a board:
    /// connecting and sending the model).
    pub init_ns: u64,
    /// The first inference.
    pub first_inference_ns: u64,
    /// Mean of the warmup inferences, if any ran.
    pub warmup_mean_ns: Option<f64>,
    /// Each warmup inference.
    pub warmup_ns: Vec<u64>,
    /// Each timed inference, in order.
    pub samples_ns: Vec<u64>,
    /// Statistics of `samples_ns`.
    pub statistics: Statistics,
    /// Inferences per second at the mean latency.
    pub throughput_per_second: f64,
    /// Wall time of the whole timed loop.
    pub measured_wall_ns: u64,
}

/// Memory use of the process running the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryInfo {
    /// Peak resident set size (`VmHWM`), bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Resident memory added by loading the model, bytes.
    pub model_rss_bytes: Option<u64>,
}

/// The raw output file of a TYPE2 run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RawOutputInfo {
    /// File name in the output folder.
    pub file_name: String,
    /// Size in bytes: output bytes per sample times samples.
    pub bytes: u64,
}

impl ModelInfo {
    /// The description of `model`.
    pub fn of(model: &ModelFile) -> Self {
        Self {
            file_name: model.file_name(),
            format: Some(model.format()),
            size_bytes: Some(model.bytes().len() as u64),
            sha256: Some(model.sha256().to_owned()),
            held: None,
        }
    }

    /// The description of a model a device holds.
    pub fn held(model: HeldModel) -> Self {
        Self {
            file_name: model.model_key.clone(),
            format: None,
            size_bytes: None,
            sha256: None,
            held: Some(model),
        }
    }

    /// One line naming the model: the file's name, format, size and the
    /// start of its digest, or the device's model key and profile.
    pub fn describe(&self) -> String {
        match (&self.held, self.format, self.size_bytes, &self.sha256) {
            (Some(held), ..) => format!(
                "{} held by the device ({}-[{}], profile {})",
                held.model_key, held.device, held.vendor, held.profile
            ),
            (None, Some(format), Some(size), Some(sha)) => format!(
                "{} ({format}, {size} bytes, sha256 {})",
                self.file_name,
                sha.get(..12).unwrap_or(sha)
            ),
            _ => self.file_name.clone(),
        }
    }
}

impl VlabReport {
    /// Builds the report of a finished measurement.
    pub fn new(m: &Measurement, started: OffsetDateTime, finished: OffsetDateTime) -> Result<Self> {
        let statistics = Statistics::from_samples(&m.samples_ns)
            .ok_or_else(|| Error::runtime("the run produced no timed inferences"))?;
        let host = HostInfo::current();
        // The cores of the machine that ran the engine: a Linux board's
        // own when it ran there.
        let cores = m.target.system.as_ref().map_or(host.cores, |s| s.cores);
        let cpu_load_percent = m
            .measured_cpu_ns
            .filter(|_| m.measured_wall_ns > 0)
            .map(|cpu| cpu as f64 / (m.measured_wall_ns as f64 * cores as f64) * 100.0);
        let warmup_mean_ns = (!m.warmup_ns.is_empty())
            .then(|| m.warmup_ns.iter().map(|&n| n as f64).sum::<f64>() / m.warmup_ns.len() as f64);
        Ok(Self {
            schema: REPORT_SCHEMA.to_owned(),
            vlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: rfc3339(started),
            finished_at: rfc3339(finished),
            finished_at_contract: contract_date(finished),
            target: m.target.clone(),
            host,
            engine: EngineInfo {
                name: m.engine.clone(),
                version: m.engine_version.clone(),
                options: m.engine_options.clone(),
            },
            model: m.model.clone(),
            benchmark: BenchmarkInfo {
                benchmark_type: m.benchmark_type,
                seed: m.seed,
                dataset: m.dataset.clone(),
                warmup: m.warmup,
                iterations: m.samples_ns.len(),
            },
            inputs: m.inputs.clone(),
            outputs: m.outputs.clone(),
            timing: TimingInfo {
                init_ns: m.init_ns,
                first_inference_ns: m.first_inference_ns,
                warmup_mean_ns,
                warmup_ns: m.warmup_ns.clone(),
                samples_ns: m.samples_ns.clone(),
                throughput_per_second: statistics.throughput_per_second(),
                statistics,
                measured_wall_ns: m.measured_wall_ns,
            },
            memory: MemoryInfo {
                peak_rss_bytes: m.peak_rss,
                model_rss_bytes: m
                    .rss_after_load
                    .zip(m.rss_before_load)
                    .map(|(a, b)| a.saturating_sub(b)),
            },
            cpu_load_percent,
            raw_output: (m.benchmark_type == BenchmarkType::Type2).then(|| RawOutputInfo {
                file_name: crate::artifacts::RAW_OUTPUT.to_owned(),
                bytes: m.raw_output_bytes,
            }),
            layers: m.layers.clone(),
            device: m.device.clone(),
            dut: m.dut.clone(),
        })
    }

    /// Reads the `vlab-report.json` of the output folder `dir`.
    pub fn read_from(dir: &std::path::Path) -> Result<Self> {
        let path = dir.join(crate::artifacts::VLAB_REPORT);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::file(
                    &path,
                    "no such file: is this the output folder of a successful vlab bench run?",
                ));
            }
            Err(e) => return Err(Error::io(&path, &e)),
        };
        let report: Self = serde_json::from_str(&text)
            .map_err(|e| Error::file(&path, format!("not a vlab report: {e}")))?;
        if report.schema != REPORT_SCHEMA {
            return Err(Error::file(
                &path,
                format!(
                    "report layout {:?}; this vlab reads {REPORT_SCHEMA:?}",
                    report.schema
                ),
            ));
        }
        Ok(report)
    }

    /// The JSON Schema of this report, pretty-printed.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(VlabReport);
        serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The contract's date format, `YY-MM-DD hh:mm:ss`.
pub(crate) fn contract_date(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year repr:last_two]-[month]-[day] [hour]:[minute]:[second]"
    );
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_date_has_two_digit_year() {
        let t = time::macros::datetime!(2026-11-22 04:05:06 UTC);
        assert_eq!(contract_date(t), "26-11-22 04:05:06");
    }
}
