//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Benchmark ML models on edge targets: how fast, how big, and is the output right.
#[derive(Debug, Parser)]
#[command(name = "vlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark a model on this machine and write the pipeline's artifacts.
    Bench(BenchArgs),
    /// Print the JSON Schema of vlab-report.json.
    Schema,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model file (.onnx or .tflite; the format is detected from the content).
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,

    /// Inference engine.
    #[arg(long, default_value = "tract")]
    pub engine: String,

    /// Timed inferences with random inputs (TYPE1) [default: 100].
    #[arg(long, value_name = "N", conflicts_with = "dataset")]
    pub iterations: Option<usize>,

    /// Untimed inferences after the first one, before the timed ones.
    #[arg(long, value_name = "W", default_value_t = 5)]
    pub warmup: usize,

    /// Raw input samples, concatenated (TYPE2): one timed inference per sample,
    /// outputs written to raw_output.bin. See docs/datasets.md for the layout.
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,

    /// Shape of an input with dynamic dimensions, e.g. input:1x3x224x224 (repeatable).
    #[arg(long = "input-shape", value_name = "NAME:DIMS")]
    pub input_shapes: Vec<String>,

    /// Seed of the random inputs (TYPE1).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Output folder for report.json, vlab-report.json, user.log, error.log, raw_output.bin.
    #[arg(long, value_name = "DIR", default_value = "vlab-out")]
    pub out: PathBuf,

    /// Also time every operator (engines that support it: micro), reported in
    /// vlab-report.json under `layers`.
    #[arg(long)]
    pub per_layer: bool,

    /// Print vlab-report.json to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}
