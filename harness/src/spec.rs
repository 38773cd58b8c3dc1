//! What to benchmark and how: the model, the warmup, where the inputs of
//! the timed inferences come from (TYPE1 random, TYPE2 a dataset), the
//! engine's load options and per-layer profiling.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::error::{Error, Result};
use crate::platform::field::Field;
use crate::seam::engine::LoadOptions;
use crate::seam::params::InputValues;

/// The contract's benchmark types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BenchmarkType {
    /// Random input data.
    #[serde(rename = "TYPE1")]
    Type1,
    /// The user's dataset, one inference per sample.
    #[serde(rename = "TYPE2")]
    Type2,
}

impl BenchmarkType {
    /// The contract's spelling (`TYPE1`, `TYPE2`).
    pub fn as_str(self) -> &'static str {
        match self {
            BenchmarkType::Type1 => "TYPE1",
            BenchmarkType::Type2 => "TYPE2",
        }
    }
}

/// Where the inputs of the timed inferences come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Workload {
    /// TYPE1: the same seeded random inputs for `iterations` inferences.
    Random {
        /// Seed of the input generator.
        seed: u64,
        /// Number of timed inferences.
        iterations: usize,
    },
    /// TYPE2: one timed inference per sample of a dataset file.
    Dataset {
        /// The dataset file; see [`crate::inputs`] for its layout.
        path: PathBuf,
    },
}

/// What to benchmark and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchmarkSpec {
    /// The model file; `None` for a target that holds its own model (an
    /// MLPerf Tiny device under test).
    pub model: Option<PathBuf>,
    /// Untimed inferences after the first one and before the timed ones.
    pub warmup: usize,
    /// Inputs of the timed inferences.
    pub workload: Workload,
    /// Options passed to the engine's loader.
    pub load: LoadOptions,
    /// Inputs that hold one value in every element.
    pub input_values: InputValues,
    /// The parameters file the engine options and input settings came
    /// from, if any (named in user.log).
    pub parameters: Option<PathBuf>,
    /// Also time every operator, in separate profiled inferences after the timed ones.
    pub per_layer: bool,
}

impl BenchmarkSpec {
    /// A TYPE1 benchmark of `model` with `iterations` timed inferences,
    /// 5 warmup runs and seed 0.
    pub fn random(model: impl Into<PathBuf>, iterations: usize) -> Self {
        Self {
            model: Some(model.into()),
            warmup: 5,
            workload: Workload::Random {
                seed: 0,
                iterations,
            },
            load: LoadOptions::default(),
            input_values: InputValues::default(),
            parameters: None,
            per_layer: false,
        }
    }

    /// A TYPE2 benchmark of `model` over the samples of `dataset`, with 5 warmup runs.
    pub fn dataset(model: impl Into<PathBuf>, dataset: impl Into<PathBuf>) -> Self {
        Self {
            model: Some(model.into()),
            warmup: 5,
            workload: Workload::Dataset {
                path: dataset.into(),
            },
            load: LoadOptions::default(),
            input_values: InputValues::default(),
            parameters: None,
            per_layer: false,
        }
    }

    /// The benchmark type this spec runs.
    pub fn benchmark_type(&self) -> BenchmarkType {
        match self.workload {
            Workload::Random { .. } => BenchmarkType::Type1,
            Workload::Dataset { .. } => BenchmarkType::Type2,
        }
    }

    /// Checks the spec before anything is loaded.
    pub fn validate(&self) -> Result<()> {
        if let Workload::Random { iterations: 0, .. } = self.workload {
            return Err(Error::input(format!(
                "{} must be at least 1",
                Field::Iterations
            )));
        }
        Ok(())
    }
}
