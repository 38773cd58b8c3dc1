//! A benchmark on a board: launch or reach it, make sure it holds the
//! model, send the inputs, run, read the ticks and outputs back, and write
//! the same artifacts as a benchmark on this machine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use vlab_harness::inputs::InputSource;
use vlab_harness::{
    BenchmarkSpec, DeviceInfo, EngineOptions, Error, LayerStats, Measurement, ModelFile,
    ModelFormat, Observer, OutputDir, Phase, Reports, Result, TargetInfo, TensorSpec,
    write_reports,
};

use crate::board::{BoardDef, LaunchDef, TransportDef};
use crate::board_log::{DefmtDecoder, Level, LogLine};
use crate::firmware_image::FirmwareImage;
use crate::qemu::{Qemu, Serial};
use crate::session::{LogSink, Session};
use crate::transport::{
    Connection, FaultRates, FaultyLink, ProbeRtt, connect_tcp, open_rtt, open_serial,
};

/// How to reach and drive a board.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// The board.
    pub board: BoardDef,
    /// Transport kind instead of the board's (`tcp`, `serial`).
    pub transport: Option<String>,
    /// Firmware ELF instead of the board's.
    pub firmware: Option<PathBuf>,
    /// Longest a run may take on the board.
    pub run_timeout: Duration,
    /// Corrupt the link at this per-byte rate, for robustness tests.
    pub inject_faults: Option<f64>,
    /// Put the model in the board's flash slot at launch (emulated boards).
    pub preload: bool,
    /// Show every firmware log line on stderr as it arrives.
    pub verbose: bool,
    /// Which debug probe, instead of board.toml's `probe`: `VID:PID[:SERIAL]`.
    pub probe: Option<String>,
}

impl BoardOptions {
    /// The transport to use: `--transport`, else board.toml's.
    fn transport_kind(&self) -> &str {
        self.transport
            .as_deref()
            .unwrap_or(self.board.transport.kind())
    }
}

/// Benchmarks `spec` on the board and writes every artifact into `out`:
/// the reports on success, `error.log` on failure.
pub fn bench_on_board(
    options: &BoardOptions,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))
        .and_then(|rt| {
            rt.block_on(async {
                // A signal drops the run where it waits, and with it the
                // session and the QEMU it launched.
                tokio::select! {
                    result = bench(options, spec, out, observer) => result,
                    interrupted = interruption() => Err(interrupted),
                }
            })
        });
    if let Err(e) = &result {
        out.write_failure(e);
    }
    result
}

/// How often a board run looks for SIGINT or SIGTERM while it waits.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// The error of the run's interruption, once SIGINT or SIGTERM arrived.
async fn interruption() -> Error {
    loop {
        if let Err(e) = vlab_harness::interrupt::check() {
            return e;
        }
        tokio::time::sleep(INTERRUPT_POLL).await;
    }
}

/// The model as the host's copy of the board's interpreter sees it.
struct HostView {
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
    /// Arena bytes the board needs at least: activations and variables
    /// (the interpreter's tables are smaller on a 32-bit core than here).
    arena_bytes: usize,
    operators: usize,
}

fn host_view(model: &ModelFile, spec: &BenchmarkSpec) -> Result<HostView> {
    if model.format() != ModelFormat::Tflite {
        return Err(model.error(format!(
            "boards run vlab-micro, which loads .tflite models, not {}",
            model.format()
        )));
    }
    let parsed = vlab_micro::Model::parse(model.bytes()).map_err(|e| model.error(e))?;
    // Loading checks every operator and lists every problem at once.
    let session = vlab_runtimes::engine("micro")?.load(model, &spec.load)?;
    let mut arena =
        vec![0u8; vlab_micro::arena_bytes_required(&parsed).map_err(|e| model.error(e))?];
    let usage = vlab_micro::Interpreter::new(parsed, &mut arena)
        .map_err(|e| model.error(e))?
        .arena_use();
    let arena_bytes = usage.activations + usage.variables;
    let operators = parsed.operator_count();
    Ok(HostView {
        inputs: session.inputs().to_vec(),
        outputs: session.outputs().to_vec(),
        arena_bytes,
        operators,
    })
}

async fn bench(
    options: &BoardOptions,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let started = OffsetDateTime::now_utc();
    spec.validate()?;
    spec.load.engine.check_supported("micro", &[])?;
    let board = &options.board;
    let model = ModelFile::read(&spec.model, &board.model_capacity())?;
    let view = host_view(&model, spec)?;
    out.log(&format!(
        "vlab {}: {} {} on board {}",
        env!("CARGO_PKG_VERSION"),
        spec.benchmark_type().as_str(),
        model.file_name(),
        board.name
    ))?;

    observer.phase(Phase::Load, 1);
    let load_start = Instant::now();
    let elf = options.firmware.clone().unwrap_or_else(|| board.elf());
    let launched = matches!(
        board.launch,
        LaunchDef::Qemu { .. } | LaunchDef::Probe { .. }
    );
    if launched && !elf.is_file() {
        return Err(Error::runtime(format!(
            "the firmware of board {} is not built ({} is missing): run `{}`",
            board.name,
            elf.display(),
            board.build_command()
        )));
    }
    let rtt_logs = match options.transport_kind() == "rtt" {
        true => board_logs(&elf, out, options.verbose)?,
        false => None,
    };
    let Reached {
        connection,
        qemu,
        model_in_slot,
    } = connect(options, &elf, &model, rtt_logs).await?;
    let transport = connection.description.clone();
    let link = match options.inject_faults {
        Some(rate) => Box::new(FaultyLink::new(
            connection.link,
            FaultRates::uniform(rate),
            0x766c_6162,
        )),
        None => connection.link,
    };
    let watch = qemu.clone();
    let on_link_error = Box::new(move || {
        let qemu = watch.as_ref()?;
        let mut qemu = qemu.lock().ok()?;
        let status = qemu.exit_status()?;
        Some(qemu.describe_exit(status))
    });
    let mut session = Session::open(link, options.run_timeout, on_link_error).await?;
    let id = session.identify().clone();
    if id.capabilities.has(vlab_protocol::Capabilities::DEFMT_LOG)
        && let Some(sink) = board_logs(&elf, out, options.verbose)?
    {
        session.on_log(sink);
    }
    if id.board.as_str() != board.name {
        return Err(Error::runtime(format!(
            "the board at {transport} runs firmware for {}, not {}",
            id.board, board.name
        )));
    }
    if launched {
        let image = FirmwareImage::read(&elf)?;
        if let Some((_, hash)) = image.build_hash.filter(|(_, h)| *h != id.build_hash) {
            return Err(Error::runtime(format!(
                "board {} runs firmware build {}, but {} is build {}: reset the board and run again",
                board.name,
                crate::firmware_image::hex(&id.build_hash),
                elf.display(),
                crate::firmware_image::hex(&hash)
            )));
        }
    }
    let model_len = model.bytes().len() as u64;
    if view.arena_bytes > id.arena_bytes as usize {
        return Err(model.error(format!(
            "the model needs a tensor arena of at least {} B; board {}'s firmware has {} B",
            view.arena_bytes, board.name, id.arena_bytes
        )));
    }
    let uploaded = !session.has_model(model.bytes()).await?;
    if uploaded {
        if model_in_slot {
            return Err(Error::runtime(format!(
                "board {} does not find the model in its flash slot, where vlab put it \
                 (the firmware checks its length and CRC)",
                board.name
            )));
        }
        if model_len > u64::from(id.model_slot_bytes) {
            return Err(model.error(format!(
                "the model is {model_len} B; board {}'s model slot holds {} B",
                board.name, id.model_slot_bytes
            )));
        }
        session.upload_model(model.bytes()).await?;
    }
    let init_ns = elapsed_ns(load_start);
    observer.step();

    let to_ns = |ticks: u64| (ticks as f64 * 1e9 / f64::from(id.timer_hz)).round() as u64;
    let warmup = u32::try_from(spec.warmup).map_err(|_| Error::input("--warmup is too large"))?;
    let wall_start = Instant::now();
    let mut source = InputSource::open(&spec.workload, &view.inputs, &spec.input_values)?;
    let dataset = source.dataset_info();
    let mut buffers = Vec::new();
    let (first_ticks, samples_ticks, summary, raw_output_bytes) =
        if let Some(iterations) = source.random_iterations() {
            let iterations =
                u32::try_from(iterations).map_err(|_| Error::input("--iterations is too large"))?;
            source.first(&mut buffers)?;
            session.send_inputs(&buffers).await?;
            observer.phase(Phase::Measure, 1);
            let first = session.run(0, 1, true, false).await?;
            let summary = session
                .run(warmup, iterations, true, spec.per_layer)
                .await?;
            let ticks = session.read_samples(iterations).await?;
            observer.step();
            (first.max_ticks, ticks, summary, 0)
        } else {
            let mut raw = out.raw_output_writer()?;
            let mut ticks = Vec::with_capacity(source.count());
            let (mut first, mut profiled, mut written) = (0, None, 0u64);
            observer.phase(Phase::Measure, source.count());
            while source.next_sample(&mut buffers)? {
                session.send_inputs(&buffers).await?;
                if ticks.is_empty() {
                    first = session.run(0, 1, true, false).await?.max_ticks;
                    if warmup > 0 {
                        session.run(warmup, 0, false, false).await?;
                    }
                    // The samples are one stream from the model's state at
                    // load, as on the host: asking for the model again
                    // resets it (a stateless model does not notice).
                    session.has_model(model.bytes()).await?;
                }
                let summary = session.run(0, 1, true, false).await?;
                ticks.extend(session.read_samples(1).await?);
                profiled.get_or_insert(summary);
                for index in 0..view.outputs.len() {
                    let bytes = session.read_output(index as u8).await?;
                    raw.write_all(&bytes)
                        .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
                    written += bytes.len() as u64;
                }
                observer.step();
            }
            raw.flush()
                .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
            let mut summary = profiled.ok_or_else(|| Error::input("the dataset has no samples"))?;
            if spec.per_layer {
                // After the stream, so that the profiled inference does not
                // advance a stateful model's state between two samples.
                let layers = session.run(0, 0, false, true).await?;
                summary.stack_used = summary.stack_used.max(layers.stack_used);
            }
            (first, ticks, summary, written)
        };
    let measured_wall_ns = elapsed_ns(wall_start);
    let layers = if spec.per_layer {
        observer.phase(Phase::Profile, view.operators);
        let mut times = Vec::with_capacity(view.operators);
        for index in 0..view.operators {
            let (opcode, ticks) = session.read_layer(index as u16).await?;
            times.push((index, opcode, to_ns(ticks)));
            observer.step();
        }
        Some(layer_stats(&times))
    } else {
        None
    };

    let ram_used = model_len
        + u64::from(summary.arena_used)
        + u64::from(summary.stack_used)
        + view
            .inputs
            .iter()
            .filter_map(TensorSpec::byte_size)
            .sum::<usize>() as u64;
    let device = DeviceInfo {
        board: id.board.to_string(),
        firmware_version: format!(
            "{}.{}.{}",
            id.firmware_version >> 16,
            (id.firmware_version >> 8) & 0xff,
            id.firmware_version & 0xff
        ),
        build_hash: crate::firmware_image::hex(&id.build_hash),
        protocol_version: id.protocol_version,
        core_clock_hz: id.core_clock_hz,
        timer: format!("{:?}", id.timer),
        timer_hz: id.timer_hz,
        samples_ticks: samples_ticks.clone(),
        arena_bytes: u64::from(id.arena_bytes),
        arena_used_bytes: u64::from(summary.arena_used),
        stack_used_bytes: u64::from(summary.stack_used),
        model_slot_bytes: u64::from(id.model_slot_bytes),
        model_uploaded: uploaded,
        transport,
        resent_requests: session.resent(),
    };
    let measurement = Measurement {
        engine: "micro".to_owned(),
        engine_version: format!(
            "{} (firmware {}, build {})",
            env!("CARGO_PKG_VERSION"),
            device.firmware_version,
            device.build_hash
        ),
        engine_options: EngineOptions::default(),
        benchmark_type: spec.benchmark_type(),
        seed: source.seed(),
        dataset,
        warmup: spec.warmup,
        inputs: view.inputs.clone(),
        outputs: view.outputs.clone(),
        init_ns,
        first_inference_ns: to_ns(first_ticks),
        warmup_ns: Vec::new(),
        samples_ns: samples_ticks.iter().map(|&t| to_ns(t)).collect(),
        measured_wall_ns,
        measured_cpu_ns: None,
        rss_before_load: None,
        rss_after_load: None,
        peak_rss: None,
        raw_output_bytes,
        layers,
        device: Some(device),
    };
    let target = TargetInfo {
        name: board.name.clone(),
        id: None,
        ram_bytes: Some(board.memory.ram_bytes),
        flash_bytes: Some(board.memory.flash_bytes),
        flash_used_bytes: if elf.is_file() {
            Some(FirmwareImage::read(&elf)?.flash_bytes)
        } else {
            None
        },
        ram_used_bytes: Some(ram_used),
        temperature_celsius: None,
    };
    drop(session);
    drop(qemu);
    write_reports(&measurement, &model, target, started, out)
}

/// The sink of the firmware's defmt bytes (from its Log frames or RTT
/// channel), decoded with `elf`'s table; `None`, said in user.log, when
/// the ELF has none.
fn board_logs(elf: &Path, out: &OutputDir, verbose: bool) -> Result<Option<LogSink>> {
    match DefmtDecoder::from_elf(elf) {
        Ok(Some(decoder)) => Ok(Some(log_sink(decoder, out.clone(), verbose))),
        Ok(None) => {
            out.log(&format!(
                "board logs not decoded: {} has no defmt table",
                elf.display()
            ))?;
            Ok(None)
        }
        Err(e) => {
            out.log(&format!("board logs not decoded: {}", e.message()))?;
            Ok(None)
        }
    }
}

/// Where the firmware's decoded log lines go: info and above (and
/// `println!`) to user.log, errors also to error.log, everything to stderr
/// with `verbose`.
fn log_sink(mut decoder: DefmtDecoder, out: OutputDir, verbose: bool) -> LogSink {
    Box::new(move |bytes| {
        for line in decoder.received(bytes) {
            route(&line, &out, verbose);
        }
    })
}

/// Writes one firmware log line where it belongs. Writing is best effort:
/// a log line never fails the benchmark.
fn route(line: &LogLine, out: &OutputDir, verbose: bool) {
    if verbose {
        eprintln!("board: {line}");
    }
    if line.level.is_none_or(|level| level >= Level::Info) {
        let _ = out.log(&format!("board: {line}"));
    }
    if line.level == Some(Level::Error) {
        let _ = out.log_error(&format!("board: {}", line.text));
    }
}

/// A board made ready and linked to.
struct Reached {
    /// The link.
    connection: Connection,
    /// The emulator, for an emulated board.
    qemu: Option<Arc<Mutex<Qemu>>>,
    /// Whether vlab put the model into the board's flash slot (QEMU's
    /// `--preload`, or the probe).
    model_in_slot: bool,
}

/// Launches the board if it is emulated, or through its probe flashes it
/// if it runs another build and writes the model into its flash slot; then
/// opens the link. `rtt_logs` takes the defmt bytes of an RTT link's log
/// channel.
async fn connect(
    options: &BoardOptions,
    elf: &Path,
    model: &ModelFile,
    rtt_logs: Option<LogSink>,
) -> Result<Reached> {
    let board = &options.board;
    let kind = options.transport_kind();
    match (&board.launch, kind) {
        (
            LaunchDef::Qemu {
                machine,
                icount_shift,
            },
            "tcp" | "serial",
        ) => {
            let serial = if kind == "tcp" {
                Serial::Tcp
            } else {
                Serial::Pty
            };
            let preload = match (&board.memory.flash_slot, options.preload) {
                (_, false) => None,
                (Some(slot), true) => {
                    let len = model.bytes().len() as u64;
                    if len > slot.bytes {
                        return Err(Error::input(format!(
                            "--preload: the model is {len} B; board {}'s flash slot holds {} B",
                            board.name, slot.bytes
                        )));
                    }
                    Some((model.path(), slot.address))
                }
                (None, true) => {
                    return Err(Error::input(format!(
                        "--preload: board {} has no flash model slot",
                        board.name
                    )));
                }
            };
            let model_in_slot = preload.is_some();
            let qemu = Qemu::start(machine, elf, serial, *icount_shift, preload)?;
            let endpoint = qemu.endpoint().to_owned();
            let qemu = Arc::new(Mutex::new(qemu));
            let connection = if serial == Serial::Tcp {
                let watch = qemu.clone();
                connect_tcp(&endpoint, Duration::from_secs(20), move || {
                    watch
                        .lock()
                        .map_err(|_| Error::runtime("QEMU watcher poisoned"))?
                        .check_alive()
                })
                .await?
            } else {
                open_serial(&endpoint, 115_200)?
            };
            Ok(Reached {
                connection,
                qemu: Some(qemu),
                model_in_slot,
            })
        }
        (LaunchDef::Probe { .. }, _) if options.preload => Err(Error::input(format!(
            "--preload is for emulated boards; board {} gets its model over the link",
            board.name
        ))),
        (LaunchDef::Probe { chip, probe }, kind) => {
            let selector = options.probe.clone().or_else(|| probe.clone());
            let (name, chip, image_path) = (board.name.clone(), chip.clone(), elf.to_path_buf());
            let rtt = kind == "rtt";
            // The model goes into the flash slot when it fits there;
            // otherwise over the link into RAM.
            let slot = board
                .memory
                .flash_slot
                .as_ref()
                .filter(|slot| model.bytes().len() as u64 <= slot.bytes)
                .map(|slot| (slot.address, model.bytes().to_vec()));
            let model_in_slot = slot.is_some();
            let probe = tokio::task::spawn_blocking(move || {
                let mut session = ensure_firmware(&name, &chip, selector.as_deref(), &image_path)?;
                if let Some((address, model)) = slot {
                    crate::probe::with_progress(
                        "writing the model into the flash slot".into(),
                        |progress| {
                            crate::probe::fill_model_slot(&mut session, address, &model, progress)
                        },
                    )?;
                }
                match rtt {
                    true => ProbeRtt::attach(session, &image_path).map(Some),
                    false => Ok(None),
                }
            })
            .await
            .map_err(|e| Error::runtime(format!("the flashing task failed: {e}")))??;
            let connection = match probe {
                Some(port) => {
                    let description = format!("rtt through the {} probe", board.name);
                    open_rtt(port, description, rtt_logs)
                }
                None => connect_configured(board, kind).await?,
            };
            Ok(Reached {
                connection,
                qemu: None,
                model_in_slot,
            })
        }
        (LaunchDef::Running, _) if options.preload => Err(Error::input(format!(
            "--preload: board {} is not launched by vlab; flash the model into its slot",
            board.name
        ))),
        (LaunchDef::Running, _) => Ok(Reached {
            connection: connect_configured(board, kind).await?,
            qemu: None,
            model_in_slot: false,
        }),
        (LaunchDef::Qemu { .. }, "rtt") => Err(Error::input(format!(
            "--transport rtt: board {} is emulated and has no debug probe; use tcp or serial",
            board.name
        ))),
        (_, other) => Err(unknown_transport(other)),
    }
}

/// `--transport` names no transport vlab has.
fn unknown_transport(kind: &str) -> Error {
    Error::input(format!(
        "--transport {kind}: known transports are tcp, serial and rtt"
    ))
}

/// Opens the link board.toml configures for a board vlab does not launch:
/// its TCP address or its serial port.
async fn connect_configured(board: &BoardDef, kind: &str) -> Result<Connection> {
    match (&board.transport, kind) {
        (
            TransportDef::Tcp {
                address: Some(address),
            },
            "tcp",
        ) => connect_tcp(address, Duration::from_secs(5), || Ok(())).await,
        (
            TransportDef::Serial {
                path: Some(path),
                baud,
            },
            "serial",
        ) => open_serial(path, *baud),
        (_, "tcp" | "serial") => Err(Error::input(format!(
            "board {}: board.toml gives no {kind} address or path",
            board.name
        ))),
        (_, "rtt") => Err(Error::input(format!(
            "--transport rtt: board {} has no debug probe in board.toml (launch kind \"probe\")",
            board.name
        ))),
        (_, other) => Err(unknown_transport(other)),
    }
}

/// Attaches to the board's probe and flashes `elf` unless the board already
/// runs that build (its build hash in flash is the ELF's). Returns the
/// probe's session, for RTT.
fn ensure_firmware(
    board: &str,
    chip: &str,
    selector: Option<&str>,
    elf: &Path,
) -> Result<probe_rs::Session> {
    let image = FirmwareImage::read(elf)?;
    let mut session = crate::probe::attach(board, chip, selector)?;
    if crate::probe::runs(&mut session, &image)? {
        return Ok(session);
    }
    crate::probe::with_progress("flashing".into(), |progress| {
        crate::probe::flash_elf(&mut session, elf, progress)
    })?;
    Ok(session)
}

/// Per-operator statistics from one profiled inference.
fn layer_stats(times: &[(usize, u16, u64)]) -> Vec<LayerStats> {
    let total: u64 = times.iter().map(|t| t.2).sum();
    times
        .iter()
        .map(|&(index, opcode, ns)| LayerStats {
            index,
            op: vlab_micro::Opcode(i32::from(opcode)).name().to_owned(),
            median_ns: ns as f64,
            mean_ns: ns as f64,
            min_ns: ns as f64,
            share_percent: if total > 0 {
                ns as f64 / total as f64 * 100.0
            } else {
                0.0
            },
        })
        .collect()
}

fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: Option<Level>, text: &str) -> LogLine {
        LogLine {
            level,
            text: text.to_owned(),
        }
    }

    #[test]
    fn firmware_logs_go_to_user_log_and_errors_also_to_error_log() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(dir.path()).unwrap();
        route(&line(Some(Level::Debug), "debug detail"), &out, false);
        route(&line(Some(Level::Info), "model received"), &out, false);
        route(&line(Some(Level::Warn), "bad frame"), &out, false);
        route(
            &line(Some(Level::Error), "request failed: arena"),
            &out,
            false,
        );
        route(&line(None, "println"), &out, false);
        let user = std::fs::read_to_string(dir.path().join("user.log")).unwrap();
        assert_eq!(
            user,
            "board: INFO  model received\nboard: WARN  bad frame\n\
             board: ERROR request failed: arena\nboard: println\n"
        );
        let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
        assert_eq!(errors, "board: request failed: arena\n");
    }
}
