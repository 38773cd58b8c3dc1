//! What a run measured: every value the measured loop takes as it takes
//! it ([`Recorded`], seen by an [`Observer`]), and the whole record at the
//! end ([`Measurement`]), including what the target says about itself
//! ([`TargetInfo`], [`DeviceInfo`]). Reports are made from this.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::inputs::DatasetInfo;
use crate::platform::host::{HostInfo, temperature_celsius};
use crate::platform::sampler::MachineSample;
use crate::platform::system::SystemInfo;
use crate::report::ModelInfo;
use crate::seam::options::EngineSettings;
use crate::seam::tensor::TensorSpec;
use crate::spec::BenchmarkType;

/// The phases of a run, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Loading and preparing the model.
    Load,
    /// Warmup inferences.
    Warmup,
    /// Timed inferences.
    Measure,
    /// Profiled inferences, timing every operator.
    Profile,
}

/// Watches a run's progress. Called outside the timed region.
pub trait Observer {
    /// A phase starts with `steps` steps to go.
    fn phase(&mut self, _phase: Phase, _steps: usize) {}
    /// One step of the current phase is done.
    fn step(&mut self) {}
    /// The loop has just measured something; what a run measured before a
    /// failure is kept from these ([`crate::report::partial`]).
    fn recorded(&mut self, _value: &Recorded) {}
}

/// One value the measured loop has taken, as it is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Recorded {
    /// The model is loaded.
    Loaded {
        /// Engine version as the engine reports it.
        engine_version: String,
        /// The settings the engine runs with.
        options: EngineSettings,
        /// Model inputs as loaded.
        inputs: Vec<TensorSpec>,
        /// The model loaded.
        model: Box<ModelInfo>,
        /// Load and prepare time, ns.
        init_ns: u64,
    },
    /// The first inference, ns.
    First(u64),
    /// One warmup inference, ns.
    Warmup(u64),
    /// One timed inference, ns.
    Sample(u64),
}

/// An observer that ignores everything.
impl Observer for () {}

/// Everything measured in one run, before it becomes a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// Engine name.
    pub engine: String,
    /// Engine version as the engine reports it.
    pub engine_version: String,
    /// The settings the engine ran with.
    pub engine_options: EngineSettings,
    /// The model: the file vlab sent, or the one the device holds.
    pub model: ModelInfo,
    /// TYPE1 or TYPE2.
    pub benchmark_type: BenchmarkType,
    /// Seed of the random inputs (TYPE1).
    pub seed: Option<u64>,
    /// The dataset (TYPE2).
    pub dataset: Option<DatasetInfo>,
    /// Warmup runs requested.
    pub warmup: usize,
    /// Model inputs as loaded.
    pub inputs: Vec<TensorSpec>,
    /// Model outputs, with the shapes observed on the first inference.
    pub outputs: Vec<TensorSpec>,
    /// Load and prepare time.
    pub init_ns: u64,
    /// The first inference.
    pub first_inference_ns: u64,
    /// Each warmup inference.
    pub warmup_ns: Vec<u64>,
    /// Each timed inference, in order.
    pub samples_ns: Vec<u64>,
    /// Wall time of the whole timed loop, including work between inferences.
    pub measured_wall_ns: u64,
    /// Process CPU time over the timed loop, if the OS reports it.
    pub measured_cpu_ns: Option<u64>,
    /// Resident memory just before loading the model.
    pub rss_before_load: Option<u64>,
    /// Resident memory just after loading the model.
    pub rss_after_load: Option<u64>,
    /// Peak resident memory of the process at the end of the run.
    pub peak_rss: Option<u64>,
    /// Bytes written to the raw output (TYPE2).
    pub raw_output_bytes: u64,
    /// Per-operator statistics, with `per_layer`.
    pub layers: Option<Vec<LayerStats>>,
    /// The target that ran the model, and what the run used of it.
    pub target: TargetInfo,
    /// The device that ran the inferences, when it is not this machine.
    pub device: Option<DeviceInfo>,
    /// The MLPerf Tiny device under test that ran the inferences.
    pub dut: Option<DutInfo>,
}

/// Time statistics of one operator over the profiled inferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayerStats {
    /// Operator index in execution order.
    pub index: usize,
    /// Operator name.
    pub op: String,
    /// Median duration, ns.
    pub median_ns: f64,
    /// Mean duration, ns.
    pub mean_ns: f64,
    /// Shortest duration, ns.
    pub min_ns: f64,
    /// Share of the summed operator medians, percent.
    pub share_percent: f64,
}

/// An MLPerf Tiny device under test, as it describes itself and as vlab
/// timed it: by its own microsecond timestamps around `infer N W` windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DutInfo {
    /// Board name (board.toml).
    pub board: String,
    /// How the host reached the device (`tcp 127.0.0.1:4000`, `serial /dev/ttyACM0`).
    pub transport: String,
    /// Inferences in each sample's window: 1 when each sample is one
    /// inference, else N, and each sample is its window's mean.
    pub inferences_per_sample: u32,
    /// How the samples were timed, and why so, in one sentence.
    pub sample_timing: String,
    /// The fixed cost of one window (the device's timestamp and command
    /// handling inside it) as calibrated before the timed run, µs.
    pub window_overhead_us: f64,
    /// One inference as calibrated before the timed run, µs.
    pub calibrated_latency_us: f64,
    /// Each timed window as the device measured it, µs.
    pub samples_window_us: Vec<u64>,
    /// Windows in which the device's 32-bit microsecond counter wrapped.
    pub wrapped_windows: u64,
    /// Inputs uploaded with `db load`.
    pub uploads: u64,
    /// Whether every upload was read back with `db print` and compared.
    pub uploads_verified: bool,
    /// What the device did that the official runner would not have
    /// tolerated or noticed (a stray banner, a name other than `dut`).
    pub warnings: Vec<String>,
}

/// A board running vlab firmware, as it describes itself and as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceInfo {
    /// Board name.
    pub board: String,
    /// Firmware version (`major.minor.patch`).
    pub firmware_version: String,
    /// Firmware build hash, hex.
    pub build_hash: String,
    /// Wire protocol version.
    pub protocol_version: u16,
    /// Core clock, Hz.
    pub core_clock_hz: u32,
    /// The timer that counted the ticks (`Dwt`, `SysTick`).
    pub timer: String,
    /// Timer ticks per second; samples in ns are ticks * 1e9 / timer_hz.
    pub timer_hz: u32,
    /// Each timed inference in timer ticks, as the board counted them.
    pub samples_ticks: Vec<u64>,
    /// Tensor arena the firmware reserves, bytes.
    pub arena_bytes: u64,
    /// Tensor arena the model uses, bytes.
    pub arena_used_bytes: u64,
    /// Deepest stack use the firmware saw, bytes (0 when unknown).
    pub stack_used_bytes: u64,
    /// Model slot size, bytes.
    pub model_slot_bytes: u64,
    /// Whether the model was sent (false: it was already in the slot).
    pub model_uploaded: bool,
    /// How the host reached the board (`tcp`, `serial /dev/pts/3`).
    pub transport: String,
    /// Requests sent again after a lost or corrupted frame.
    pub resent_requests: u64,
    /// Faults vlab injected into the link (`--inject-faults`).
    pub injected_faults: Option<InjectedFaults>,
}

/// Bytes a fault-injecting link corrupted over a run, both directions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InjectedFaults {
    /// The per-byte rate asked for.
    pub rate: f64,
    /// Bytes dropped.
    pub dropped: u64,
    /// Bytes with one bit inverted.
    pub flipped: u64,
    /// Bytes sent twice.
    pub duplicated: u64,
}

/// The target that ran the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetInfo {
    /// Target name (`host` for the machine vlab runs on).
    pub name: String,
    /// Unique target id, if the target has one.
    pub id: Option<String>,
    /// RAM available to the target, bytes.
    pub ram_bytes: Option<u64>,
    /// Flash available to the target, bytes: an MCU's flash; on Linux, the
    /// size of the filesystem that holds the model.
    pub flash_bytes: Option<u64>,
    /// Flash used, bytes: an MCU's firmware and model; on Linux, that
    /// filesystem's use.
    pub flash_used_bytes: Option<u64>,
    /// RAM the benchmark used on the target, bytes (MCUs: model in RAM,
    /// arena and stack as the firmware reports them).
    pub ram_used_bytes: Option<u64>,
    /// Warmest thermal zone at the end of the run, degrees Celsius.
    pub temperature_celsius: Option<f64>,
    /// Warmest thermal zone as the model loaded, degrees Celsius.
    #[serde(default)]
    pub temperature_before_celsius: Option<f64>,
    /// A Linux target's CPU, frequency governor, frequency and kernel.
    #[serde(default)]
    pub system: Option<SystemInfo>,
    /// A Linux target's temperature and CPU frequency over the run, where
    /// it exposes them.
    #[serde(default)]
    pub over_run: Vec<MachineSample>,
}

impl TargetInfo {
    /// The machine vlab runs on, as a target.
    pub fn host(host: &HostInfo) -> Self {
        Self {
            name: "host".to_owned(),
            id: None,
            ram_bytes: host.ram_bytes,
            flash_bytes: None,
            flash_used_bytes: None,
            ram_used_bytes: None,
            temperature_celsius: temperature_celsius(),
            temperature_before_celsius: None,
            system: None,
            over_run: Vec::new(),
        }
    }
}
