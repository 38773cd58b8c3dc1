//! The reports of a run as data: the pipeline's `report.json`
//! ([`ContractReport`]), vlab's own `vlab-report.json` ([`VlabReport`]),
//! and the partial report of a run that failed ([`partial`]). How people
//! read them is in [`crate::views`].

mod contract;
mod full;
pub mod partial;

pub use contract::{ContractReport, Latency};
pub use full::{
    BenchmarkInfo, EngineInfo, MemoryInfo, ModelInfo, REPORT_SCHEMA, TimingInfo, VlabReport,
};

/// Both reports of one run.
#[derive(Debug, Clone)]
pub struct Reports {
    /// The pipeline contract's `report.json`.
    pub contract: ContractReport,
    /// vlab's full `vlab-report.json`.
    pub full: VlabReport,
}
