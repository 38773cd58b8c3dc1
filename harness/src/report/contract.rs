//! `report.json` exactly as the lab's pipeline contract defines it: every
//! key present, `null` where unknown, the contract's spellings kept
//! (`nb_infernece`, `ambiant_temperature`, `enery_efficiency`).

use serde::{Deserialize, Serialize};

use crate::report::full::VlabReport;
use crate::stats::Statistics;

/// Version of the `report.json` layout vlab writes.
pub const CONTRACT_REPORT_VERSION: &str = "1.0";

/// The pipeline's `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // Field meanings are the contract's; see docs/reports.md.
pub struct ContractReport {
    pub version: String,
    pub date: String,
    pub target: String,
    pub target_id: Option<String>,
    pub version_tag: String,
    pub inference_engine: String,
    pub model_file_name: String,
    pub benchmark_type: String,
    pub nb_infernece: usize,
    pub ram_size: Option<u64>,
    pub ram_peak: Option<f64>,
    pub flash_size: Option<u64>,
    pub flash_usage: Option<f64>,
    pub load_cpu: Option<f64>,
    pub load_accelerator: Option<f64>,
    pub temperature: Option<f64>,
    pub ambiant_temperature: Option<f64>,
    pub power_consumption: Option<f64>,
    pub enery_efficiency: Option<f64>,
    #[serde(rename = "FLOPs")]
    pub flops: Option<f64>,
    pub inference_latency: Latency,
}

/// Per-inference latency in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Fastest inference.
    pub min: f64,
    /// Slowest inference.
    pub max: f64,
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl From<&Statistics> for Latency {
    fn from(ns: &Statistics) -> Self {
        let s = ns.scaled(1e9);
        Self {
            mean: s.mean,
            std: s.std,
            min: s.min,
            max: s.max,
            median: s.median,
            p90: s.p90,
            p95: s.p95,
            p99: s.p99,
        }
    }
}

impl ContractReport {
    /// Derives the contract report from vlab's full report.
    pub fn from_full(full: &VlabReport) -> Self {
        let used = full.target.ram_used_bytes.or(full.memory.peak_rss_bytes);
        let ram_peak = match (used, full.target.ram_bytes) {
            (Some(peak), Some(total)) if total > 0 => Some(peak as f64 / total as f64 * 100.0),
            _ => None,
        };
        let flash_usage = match (full.target.flash_used_bytes, full.target.flash_bytes) {
            (Some(used), Some(total)) if total > 0 => Some(used as f64 / total as f64 * 100.0),
            _ => None,
        };
        Self {
            version: CONTRACT_REPORT_VERSION.to_owned(),
            date: full.finished_at_contract.clone(),
            target: full.target.name.clone(),
            target_id: full.target.id.clone(),
            version_tag: format!("vlab {}", full.vlab_version),
            inference_engine: format!("{} {}", full.engine.name, full.engine.version),
            model_file_name: full.model.file_name.clone(),
            benchmark_type: full.benchmark.benchmark_type.as_str().to_owned(),
            nb_infernece: full.timing.statistics.count,
            ram_size: full.target.ram_bytes,
            ram_peak,
            flash_size: full.target.flash_bytes,
            flash_usage,
            load_cpu: full.cpu_load_percent,
            load_accelerator: None,
            temperature: full.target.temperature_celsius,
            ambiant_temperature: None,
            power_consumption: None,
            enery_efficiency: None,
            flops: None,
            inference_latency: Latency::from(&full.timing.statistics),
        }
    }
}
