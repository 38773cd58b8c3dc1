//! A model a device holds: an MLPerf Tiny device under test runs the model
//! built into its firmware, so vlab sends no model file and names the
//! model as the device does (docs/mlperf-tiny.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The model an MLPerf Tiny device under test holds, as it describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HeldModel {
    /// The `<device>` of `m-name-<device>-[<vendor>]` (`dut`).
    pub device: String,
    /// The `<vendor>` of `m-name-<device>-[<vendor>]` (`vlab`, `st`, ...).
    pub vendor: String,
    /// `m-profile-[...]` (`ulp-mlperf`).
    pub profile: String,
    /// `m-model-[...]`: the MLPerf Tiny benchmark (`kws01`, `vww01`,
    /// `ic01`, `ad01`).
    pub model_key: String,
}
