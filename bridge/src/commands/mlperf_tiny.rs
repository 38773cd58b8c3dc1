//! `vlab mlperf-tiny serve`: a vlab board as an MLPerf Tiny device under
//! test, for the official runners and any other MLPerf Tiny host; `vlab
//! mlperf-tiny run`: the official runner's flows against any such device.

use std::path::Path;
use std::time::Duration;

use vlab_bridge::board::Boards;
use vlab_bridge::board::dut::DutBoard;
use vlab_bridge::board::launch::qemu::Serial;
use vlab_bridge::board::slot;
use vlab_bridge::mlperf_tiny::Dut;
use vlab_bridge::mlperf_tiny::flow::{self, Settings};
use vlab_bridge::transport::{self, Endpoint, Transport};
use vlab_harness::{Error, Result};
use vlab_protocol::SlotHeader;

use crate::cli::{MlperfMode, MlperfRunArgs, MlperfServeArgs, UartKind};
use crate::stdout::say;

/// Starts the device under test and serves until SIGINT or SIGTERM (an
/// emulated board), or flashes it and returns (a board with a probe).
pub fn serve(args: &MlperfServeArgs) -> Result<()> {
    let boards = Boards::load(&Boards::default_dir(args.boards_dir.as_deref()))?;
    let board = boards.get(&args.board)?;
    let model = std::fs::read(&args.model).map_err(|e| {
        Error::input(format!(
            "--model {}: cannot read it: {e}",
            args.model.display()
        ))
    })?;
    let image = slot::image(&model, args.model_key.as_deref())?;
    let key = SlotHeader::decode(&image)
        .map(|h| h.key().to_owned())
        .unwrap_or_default();
    if key.is_empty() {
        eprintln!(
            "warning: {}'s input is no MLPerf Tiny benchmark's, so `profile%` answers m-model-[none]; give --model-key",
            args.model.display()
        );
    }
    let serial = match args.uart {
        UartKind::Tcp => Serial::TcpRunning,
        UartKind::Pty => Serial::Pty,
    };
    let mut dut = DutBoard::start(board, &image, serial, args.probe.as_deref())?;
    if let DutBoard::Emulated(qemu) = &dut {
        // Answer one host first: the endpoint is announced only once the
        // firmware is up and in MLPerf Tiny mode, which also checks it.
        let transport = match serial {
            Serial::Pty => Transport::Serial,
            _ => Transport::Tcp,
        };
        let identified = block_on(identify(transport, qemu.endpoint()))?;
        if identified.model_key != key_or_none(&key) {
            return Err(Error::runtime(format!(
                "the emulated board reports model {:?}, not {:?}",
                identified.model_key,
                key_or_none(&key)
            )));
        }
    }
    let model_name = args.model.display();
    let key = key_or_none(&key);
    match dut.endpoint() {
        Some(at) => say!(
            "MLPerf Tiny device {} holding {model_name} as {key} on {at}",
            board.name
        ),
        None => say!(
            "MLPerf Tiny device {} holding {model_name} as {key}; its UART is the board's serial port",
            board.name
        ),
    }
    dut.serve()
}

/// The key as `profile%` reports it.
fn key_or_none(key: &str) -> &str {
    if key.is_empty() { "none" } else { key }
}

/// Connects to the device at `at` and identifies it.
async fn identify(transport: Transport, at: &str) -> Result<Dut> {
    let endpoint = Endpoint::Address {
        at: at.to_owned(),
        baud: 115_200,
        patience: Duration::from_secs(10),
        alive: Box::new(|| Ok(())),
    };
    let connection = transport::open(transport, endpoint).await?;
    Dut::connect(connection.link, connection.description).await
}

/// Runs `work` on a one-thread runtime.
fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))?
        .block_on(work)
}

/// Runs a flow against the device at `--port` and writes its results.
pub fn run(args: &MlperfRunArgs) -> Result<()> {
    if args.mode == MlperfMode::Accuracy && args.dataset.is_none() {
        return Err(Error::input(
            "--mode accuracy needs --dataset (a folder with MODEL/y_labels.csv)",
        ));
    }
    let settings = Settings {
        warmup: args.warmup,
        chunk: usize::from(args.chunk),
        readback: !args.no_readback,
    };
    std::fs::create_dir_all(&args.out).map_err(|e| {
        Error::input(format!(
            "--out {}: cannot create it: {e}",
            args.out.display()
        ))
    })?;
    let mut log = Vec::new();
    let outcome = block_on(async {
        let transport = if args.port.starts_with('/') {
            Transport::Serial
        } else {
            Transport::Tcp
        };
        let endpoint = Endpoint::Address {
            at: args.port.clone(),
            baud: args.baud,
            patience: Duration::from_secs(5),
            alive: Box::new(|| Ok(())),
        };
        let connection = transport::open(transport, endpoint).await?;
        let mut dut = Dut::connect(connection.link, connection.description).await?;
        log.push(format!(
            "device {}-[{}], {}, model {}",
            dut.device, dut.vendor, dut.profile, dut.model_key
        ));
        for warning in &dut.warnings {
            eprintln!("warning: {warning}");
            log.push(format!("warning: {warning}"));
        }
        match args.mode {
            MlperfMode::Performance => {
                let inputs = flow::performance_inputs(&dut, args.dataset.as_deref())?;
                flow::performance(&mut dut, &inputs, settings)
                    .await
                    .map(Outcome::Performance)
            }
            MlperfMode::Accuracy => {
                let dataset = args.dataset.as_deref().unwrap_or(Path::new("."));
                flow::accuracy(&mut dut, dataset, settings)
                    .await
                    .map(Outcome::Accuracy)
            }
        }
    });
    let outcome = outcome.inspect_err(|e| log.push(format!("error: {}", e.message())));
    let lines = match &outcome {
        Ok(Outcome::Performance(p)) => performance_lines(p),
        Ok(Outcome::Accuracy(a)) => accuracy_lines(a),
        Err(_) => Vec::new(),
    };
    log.extend(lines.iter().cloned());
    write(&args.out.join("log.txt"), &(log.join("\n") + "\n"))?;
    let outcome = outcome?;
    let json = match &outcome {
        Outcome::Performance(p) => serde_json::to_string_pretty(p),
        Outcome::Accuracy(a) => serde_json::to_string_pretty(a),
    }
    .map_err(|e| Error::runtime(format!("cannot write results.json: {e}")))?;
    write(&args.out.join("results.json"), &(json + "\n"))?;
    let stamp = stamp();
    let text: String = lines
        .iter()
        .map(|l| format!("{stamp} ulp-mlperf: {l}\n"))
        .collect();
    write(&args.out.join("results.txt"), &text)?;
    for line in &lines {
        say!("{line}");
    }
    Ok(())
}

/// What a flow measured.
enum Outcome {
    Performance(flow::Performance),
    Accuracy(flow::Accuracy),
}

/// results.txt's lines of a performance run, the median line in the
/// official runner's words (the submission checker's pattern).
fn performance_lines(p: &flow::Performance) -> Vec<String> {
    let rule = "-".repeat(57);
    let mut lines: Vec<String> = p
        .windows
        .iter()
        .map(|w| {
            format!(
                "{}: {} inferences in {:.6} sec., throughput {:.3} inf./sec.{}",
                w.file,
                w.iterations,
                w.elapsed_us as f64 / 1e6,
                w.throughput,
                if w.wrapped {
                    " (device timer wrapped)"
                } else {
                    ""
                }
            )
        })
        .collect();
    lines.push(rule.clone());
    lines.push(format!(
        "Median throughput is {:>10.3} inf./sec.",
        p.median_throughput
    ));
    lines.push(rule);
    lines
}

/// results.txt's lines of an accuracy run.
fn accuracy_lines(a: &flow::Accuracy) -> Vec<String> {
    let mut lines = vec![format!("{} samples of {}", a.samples, a.model)];
    if let Some(top1) = a.top1 {
        lines.push(format!("Top 1% = {top1:.3}"));
    }
    match (&a.auc, &a.auc_skipped) {
        (Some(auc), _) => lines.push(format!("AUC = {auc:.3}")),
        (None, Some(why)) => {
            eprintln!("warning: no AUC: {why}");
            lines.push(format!("AUC not computed: {why}"));
        }
        (None, None) => {}
    }
    lines
}

/// `MMDD.HHMMSS`, as the official runner stamps its lines (UTC here).
fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:02}{:02}.{:02}{:02}{:02}",
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))
}
