//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use vlab_bridge::transport::Transport;
use vlab_harness::platform::field::Field;

use crate::engine_flags::EngineFlags;

/// Benchmark ML models on edge targets: how fast, how big, and is the output right.
#[derive(Debug, Parser)]
#[command(name = "vlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark a model on this machine or on a board and write the pipeline's artifacts.
    Bench(Box<BenchArgs>),
    /// Print the JSON Schema of vlab-report.json.
    Schema,
    /// List the board definitions and whether each is ready to run.
    Boards(BoardsArgs),
    /// List the inference engines, whether each is available here, and why not.
    Engines,
    /// Run the benchmark a pipeline job's environment describes (TARGET,
    /// RUNTIME, BENCHMARK_TYPE, ...; docs/job.md) into VLAB_WORKDIR/output.
    Job,
    /// List the debug probes attached to this machine (probe-rs).
    Probes,
    /// Flash a board's firmware through its debug probe, verify and reset it.
    Flash(FlashArgs),
    /// Write report.html (charts, statistics, memory) from a run's vlab-report.json.
    Report(ReportArgs),
    /// Compare a candidate run with a baseline run: per-metric change, a
    /// bootstrap confidence interval for the median latency and a verdict;
    /// exit code 4 when the candidate is significantly slower than the threshold.
    Compare(CompareArgs),
    /// Nomad: what a lab host advertises to the cluster.
    #[command(subcommand)]
    Nomad(NomadCommand),
    /// Run a lab: serve the dAIEdge-VLab API, queue benchmarks on the
    /// attached targets, and manage its users (docs/lab.md).
    #[command(subcommand)]
    Lab(LabCommand),
    /// MLPerf Tiny: make a vlab board a device under test for the official
    /// runners (docs/mlperf-tiny.md).
    #[command(subcommand, name = "mlperf-tiny")]
    MlperfTiny(MlperfTinyCommand),
    /// Internal: vlab's engine worker, started by `vlab bench` and `vlab
    /// job` to run an engine's C library apart (commands/worker.rs).
    #[command(hide = true, name = "engine-worker")]
    EngineWorker {
        /// Print the version of the worker's protocol and exit.
        #[arg(long)]
        wire_version: bool,
    },
}

/// `vlab nomad` subcommands.
#[derive(Debug, Subcommand)]
pub enum NomadCommand {
    /// Print this host's Nomad client `meta` block and its target
    /// configuration JSON (the pipeline contract's format), both from the
    /// board definitions (docs/nomad.md).
    ClientConfig(ClientConfigArgs),
}

/// `vlab mlperf-tiny` subcommands.
#[derive(Debug, Subcommand)]
pub enum MlperfTinyCommand {
    /// Make a board an MLPerf Tiny device under test holding MODEL: an
    /// emulated board runs in QEMU with its UART on a loopback TCP port or a
    /// pseudo-terminal (printed) until SIGINT or SIGTERM; a board with a
    /// probe gets its firmware and the model in its flash slot.
    Serve(MlperfServeArgs),
    /// Run the official runner's performance flow against an MLPerf Tiny
    /// device (any vendor's port, or a vlab board): five windows of at
    /// least 10 s each and the median throughput; or, with --mode
    /// accuracy, every sample of a dataset with top-1 and AUC. Writes
    /// results.txt, results.json and log.txt into --out.
    Run(MlperfRunArgs),
}

#[derive(Debug, Args)]
pub struct MlperfRunArgs {
    /// The device's UART: a serial port (/dev/ttyACM0) or HOST:PORT.
    #[arg(long, value_name = "PORT")]
    pub port: String,

    /// Baud rate of a serial port.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,

    /// Which flow.
    #[arg(long, value_enum, default_value = "performance")]
    pub mode: MlperfMode,

    /// A dataset in the official layout: MODEL/y_labels.csv and its .bin
    /// files. Required for accuracy; performance uses its first five
    /// samples, or synthetic inputs without it.
    #[arg(long, value_name = "DIR")]
    pub dataset: Option<PathBuf>,

    /// Warmup inferences before each performance window.
    #[arg(long, default_value_t = 10)]
    pub warmup: u32,

    /// Input bytes per `db` command (at most 38; the official runner sends 31).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u16).range(1..=38))]
    pub chunk: u16,

    /// Do not read each upload back with `db print%`.
    #[arg(long)]
    pub no_readback: bool,

    /// Where results.txt, results.json and log.txt go.
    #[arg(long, value_name = "DIR", default_value = "mlperf-tiny")]
    pub out: PathBuf,
}

/// `vlab mlperf-tiny run`'s flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MlperfMode {
    /// Median throughput over five windows.
    Performance,
    /// Top-1 and AUC over a dataset.
    Accuracy,
}

#[derive(Debug, Args)]
pub struct MlperfServeArgs {
    /// The board (see `vlab boards`).
    #[arg(long)]
    pub board: String,

    /// The model (.tflite) the device runs.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,

    /// The model's MLPerf Tiny key, which `profile%` answers (kws01, vww01,
    /// ic01, ad01) [default: from the model's input size].
    #[arg(long, value_name = "KEY")]
    pub model_key: Option<String>,

    /// Where an emulated board's UART goes.
    #[arg(long, value_name = "KIND", value_enum, default_value = "tcp")]
    pub uart: UartKind,

    /// Folder of board definitions [default: $VLAB_BOARDS_DIR, else ./boards, else vlab's own].
    #[arg(long, value_name = "DIR")]
    pub boards_dir: Option<PathBuf>,

    /// Which debug probe, when several are attached: VID:PID[:SERIAL] (see `vlab probes`).
    #[arg(long, value_name = "SELECTOR")]
    pub probe: Option<String>,
}

/// Where an emulated board's UART goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UartKind {
    /// A TCP server on 127.0.0.1 (a free port).
    Tcp,
    /// A pseudo-terminal, opened as a serial port.
    Pty,
}

/// `vlab lab` subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Serve the lab's API until SIGINT or SIGTERM. Without --config: the
    /// emulated board and this host on 127.0.0.1:8080, data in ./vlab-lab,
    /// and one user whose password is printed.
    Serve(LabServeArgs),
    /// Add a user to a lab's config file (the password is read from stdin
    /// and stored as an argon2id hash).
    AddUser(LabAddUserArgs),
}

#[derive(Debug, Args)]
pub struct LabServeArgs {
    /// The lab's configuration (docs/lab.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LabAddUserArgs {
    /// The config file to add the user to (created if missing).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// The user's login.
    #[arg(long)]
    pub email: String,
}

/// What `vlab nomad client-config` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientConfigPart {
    /// Only the Nomad client configuration (HCL).
    Meta,
    /// Only the target configuration (JSON).
    Targets,
}

#[derive(Debug, Args)]
pub struct ClientConfigArgs {
    /// Folder of board definitions [default: $VLAB_BOARDS_DIR, else ./boards, else vlab's own].
    #[arg(long = "boards", value_name = "DIR")]
    pub boards_dir: Option<PathBuf>,

    /// A board attached to this host (repeatable) [default: every board in the folder].
    #[arg(long = "board", value_name = "NAME")]
    pub boards: Vec<String>,

    /// Leave out this machine's own CPU (`TARGET=host`).
    #[arg(long)]
    pub no_host: bool,

    /// This host's id in target uids [default: its hostname].
    #[arg(long, value_name = "ID")]
    pub host_id: Option<String>,

    /// The pipeline container image [default: vlab:VERSION].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// Registry of the image, when it needs credentials; they are read from
    /// VLAB_REGISTRY_USERNAME and VLAB_REGISTRY_PASSWORD.
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,

    /// Print only one part.
    #[arg(long, value_enum, value_name = "PART")]
    pub only: Option<ClientConfigPart>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output folder of a `vlab bench` run (holding vlab-report.json).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Where to write the page [default: DIR/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Output folder of the baseline run.
    #[arg(value_name = "BASELINE_DIR")]
    pub baseline: PathBuf,

    /// Output folder of the candidate run.
    #[arg(value_name = "CANDIDATE_DIR")]
    pub candidate: PathBuf,

    /// Relative change of the median latency that counts: `5%` (or `5`).
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    pub threshold: f64,

    /// Print the comparison as JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Also write a side-by-side HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `5%` or `5` as the fraction 0.05.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && (0.0..1000.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!(
            "{text:?} is not a percentage from 0% to 1000%, such as 5%"
        )),
    }
}

#[derive(Debug, Args)]
pub struct FlashArgs {
    /// The board (see `vlab boards`); its board.toml names the chip.
    #[arg(long, value_name = "NAME")]
    pub board: String,

    /// Firmware ELF [default: the board's own build].
    #[arg(value_name = "ELF")]
    pub elf: Option<PathBuf>,

    /// Folder of board definitions [default: $VLAB_BOARDS_DIR, else ./boards, else vlab's own].
    #[arg(long, value_name = "DIR")]
    pub boards_dir: Option<PathBuf>,

    /// Which debug probe, when several are attached: VID:PID[:SERIAL] (see `vlab probes`).
    #[arg(long, value_name = "SELECTOR")]
    pub probe: Option<String>,
}

#[derive(Debug, Args)]
pub struct BoardsArgs {
    /// Folder of board definitions [default: $VLAB_BOARDS_DIR, else ./boards, else vlab's own].
    #[arg(long, value_name = "DIR")]
    pub boards_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model file (.onnx or .tflite; the format is detected from the
    /// content). Not for an MLPerf Tiny device, which runs the model it holds.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,

    /// Inference engine [default: tract; micro on a board].
    #[arg(long)]
    pub engine: Option<String>,

    /// Run on this board (see `vlab boards`) instead of this machine.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,

    /// Folder of board definitions [default: $VLAB_BOARDS_DIR, else ./boards, else vlab's own].
    #[arg(long, value_name = "DIR", requires = "board")]
    pub boards_dir: Option<PathBuf>,

    /// Transport to the board instead of its board.toml's (rtt goes through the debug probe).
    #[arg(long, value_name = "KIND", value_enum, requires = "board")]
    pub transport: Option<Transport>,

    /// Firmware ELF to run instead of the board's own build.
    #[arg(long, value_name = "ELF", requires = "board")]
    pub firmware: Option<PathBuf>,

    /// Longest a run on the board may take, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600, requires = "board")]
    pub timeout: u64,

    /// Which debug probe, when several are attached: VID:PID[:SERIAL] (see `vlab probes`).
    #[arg(long, value_name = "SELECTOR", requires = "board")]
    pub probe: Option<String>,

    /// Emulated boards: load the model into the board's flash slot at
    /// launch, as a flasher would, instead of sending it over the link.
    #[arg(long, requires = "board")]
    pub preload: bool,

    /// Robustness testing: corrupt bytes on the link to the board at this
    /// per-byte rate (e.g. 1e-3), as drops, bit flips and duplicates.
    #[arg(long, value_name = "RATE", requires = "board")]
    pub inject_faults: Option<f64>,

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

    /// Fill an input with one value instead of random or dataset data,
    /// e.g. sr=16000 (repeatable). Such inputs are not in a dataset's samples.
    #[arg(long = "input-value", value_name = "NAME=VALUE")]
    pub input_values: Vec<String>,

    /// Parameters file: engine options and input settings (docs/parameters.md)
    /// [default: MODEL.vlab.toml beside the model, when it exists]. Flags win over it.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,

    /// Engine options, one flag per option an engine declares.
    #[command(flatten)]
    pub engine_options: EngineFlags,

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

    /// Show the board firmware's log lines on stderr as they arrive (every
    /// level; user.log keeps info and above).
    #[arg(long, short, requires = "board")]
    pub verbose: bool,
}

/// The flag that sets `field`, as error messages name it.
pub fn flag(field: Field) -> &'static str {
    match field {
        Field::Model => "--model",
        Field::Iterations => "--iterations",
        Field::Warmup => "--warmup",
        Field::PerLayer => "--per-layer",
        Field::InputShapes => "--input-shape",
        Field::InputValues => "--input-value",
        Field::Preload => "--preload",
        Field::Transport => "--transport",
    }
}
