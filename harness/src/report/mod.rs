//! The reports a run produces: the pipeline's `report.json`, vlab's own
//! `vlab-report.json` and the page people read, `report.html`, plus the
//! human summary shared by `user.log` and the terminal.

pub mod charts;
mod contract;
mod full;
pub mod html;
pub(crate) mod summary;

pub use contract::{ContractReport, Latency};
pub use full::{
    BenchmarkInfo, DeviceInfo, EngineInfo, InjectedFaults, MemoryInfo, ModelInfo, REPORT_SCHEMA,
    TargetInfo, TimingInfo, VlabReport,
};
pub use summary::summary_lines;

/// Both reports of one run.
#[derive(Debug, Clone)]
pub struct Reports {
    /// The pipeline contract's `report.json`.
    pub contract: ContractReport,
    /// vlab's full `vlab-report.json`.
    pub full: VlabReport,
}
