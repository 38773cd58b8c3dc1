//! The board runner: the measured loop's [`Runner`] for a board. It
//! reaches the board, checks that it runs the right firmware, makes sure it
//! holds the model, and then runs what the loop asks through the protocol
//! session. The board times every inference with its own timer; this is
//! the one place its ticks become nanoseconds ([`Linked::ns`]).

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;
use vlab_harness::InjectedFaults;
use vlab_harness::platform::field::Field;
use vlab_harness::runner::{Finished, Loaded, Runner, Timed};
use vlab_harness::{
    BenchmarkSpec, DeviceInfo, EngineSettings, Error, ModelFile, OperatorTime, OutputDir, Result,
    TargetInfo, TensorSpec,
};
use vlab_protocol::{Capabilities, RunSummary};
use vlab_runtimes::micro::Footprint;

use super::def::{BoardDef, LaunchDef};
use super::firmware::{Firmware, hex};
use super::launch::qemu::Qemu;
use super::logs;
use super::reach::{Destination, reach};
use super::route::Route;
use super::target::BoardOptions;
use crate::interruptible::wait;
use crate::session::{RunRequest, Session};
use crate::transport::{FaultCounter, FaultRates, FaultyLink, Transport};

/// Seed of the fault generator of `--inject-faults`, so that a failure
/// can be replayed.
const FAULT_SEED: u64 = 0x766c_6162;

/// A board, reached once [`Runner::load`] has run.
pub struct BoardRunner<'a> {
    options: &'a BoardOptions,
    route: &'a Route,
    out: &'a OutputDir,
    firmware: Option<Arc<Firmware>>,
    footprint: Footprint,
    /// Runs the link's futures; every wait also watches for signals.
    runtime: Runtime,
    linked: Option<Linked>,
}

/// What a reached board keeps while the loop runs.
struct Linked {
    session: Session,
    /// Dropping it stops the emulator.
    _qemu: Option<Arc<Mutex<Qemu>>>,
    /// The model's bytes, to ask the board for it again (which resets its state).
    model: Vec<u8>,
    uploaded: bool,
    transport: String,
    /// What `--inject-faults` did to the link.
    faults: Option<FaultCounter>,
    /// The most arena and stack any run used.
    arena_used: u32,
    stack_used: u32,
    /// Each timed inference, in ticks.
    samples_ticks: Vec<u64>,
    /// Warmup inferences asked for and not run yet: they go with the next
    /// run, as one request.
    warmup: u32,
}

impl Linked {
    /// `ticks` of the board's timer in nanoseconds.
    fn ns(&self, ticks: u64) -> u64 {
        let hz = f64::from(self.session.identify().timer_hz);
        (ticks as f64 * 1e9 / hz).round() as u64
    }

    fn note(&mut self, summary: &RunSummary) {
        self.arena_used = self.arena_used.max(summary.arena_used);
        self.stack_used = self.stack_used.max(summary.stack_used);
    }
}

impl<'a> BoardRunner<'a> {
    /// A runner for the board of `options` along `route`, for a model with
    /// `footprint`, writing firmware logs into `out`.
    pub fn new(
        options: &'a BoardOptions,
        route: &'a Route,
        out: &'a OutputDir,
        firmware: Option<Arc<Firmware>>,
        footprint: Footprint,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))?;
        Ok(Self {
            options,
            route,
            out,
            firmware,
            footprint,
            runtime,
            linked: None,
        })
    }

    fn board(&self) -> &BoardDef {
        &self.options.board
    }

    /// Reaches the board and opens the session.
    fn link(&mut self, model: &ModelFile) -> Result<Linked> {
        let firmware = self.firmware.as_ref().map(|f| f.as_ref());
        let rtt_logs = match self.route.transport {
            Transport::Rtt => logs::sink(firmware, self.out, self.options.verbose)?,
            _ => None,
        };
        let destination = Destination {
            board: self.board(),
            route: self.route,
            firmware: self.firmware.as_ref(),
            probe: self.options.probe.as_deref(),
            rtt_logs,
        };
        let reached = wait(&self.runtime, reach(destination, model))?;
        let transport = reached.connection.description.clone();
        let (link, faults) = match self.options.inject_faults {
            Some(rate) => {
                let faulty = FaultyLink::new(
                    reached.connection.link,
                    FaultRates::uniform(rate),
                    FAULT_SEED,
                );
                let counter = faulty.counter();
                (Box::new(faulty) as _, Some(counter))
            }
            None => (reached.connection.link, None),
        };
        let watch = reached.qemu.clone();
        let on_link_error = Box::new(move || {
            let qemu = watch.as_ref()?;
            let mut qemu = qemu.lock().ok()?;
            let status = qemu.exit_status()?;
            Some(qemu.describe_exit(status))
        });
        let session = wait(
            &self.runtime,
            Session::open(link, self.options.run_timeout, on_link_error),
        )?;
        let mut linked = Linked {
            session,
            _qemu: reached.qemu,
            model: model.bytes().to_vec(),
            uploaded: false,
            transport,
            faults,
            arena_used: 0,
            stack_used: 0,
            samples_ticks: Vec::new(),
            warmup: 0,
        };
        if linked
            .session
            .identify()
            .capabilities
            .has(Capabilities::DEFMT_LOG)
            && let Some(sink) = logs::sink(firmware, self.out, self.options.verbose)?
        {
            linked.session.on_log(sink);
        }
        self.check_identity(&linked, model)?;
        self.ensure_model(&mut linked, model, reached.model_in_slot)?;
        Ok(linked)
    }

    /// The board must be this board, run the ELF's build when vlab
    /// launched or flashed it, and have arena room for the model.
    fn check_identity(&self, linked: &Linked, model: &ModelFile) -> Result<()> {
        let board = self.board();
        let id = linked.session.identify();
        if id.board.as_str() != board.name {
            return Err(Error::runtime(format!(
                "the board at {} runs firmware for {}, not {}",
                linked.transport, id.board, board.name
            )));
        }
        let launched = !matches!(self.route.launch, LaunchDef::Running);
        if let Some(firmware) = self.firmware.as_ref().filter(|_| launched)
            && let Some((_, hash)) = firmware.build_hash.filter(|(_, h)| *h != id.build_hash)
        {
            return Err(Error::runtime(format!(
                "board {} runs firmware build {}, but {} is build {}: reset the board and run again",
                board.name,
                hex(&id.build_hash),
                firmware.path.display(),
                hex(&hash)
            )));
        }
        if self.footprint.arena_bytes > id.arena_bytes as usize {
            return Err(model.error(format!(
                "the model needs a tensor arena of at least {} B; board {}'s firmware has {} B",
                self.footprint.arena_bytes, board.name, id.arena_bytes
            )));
        }
        Ok(())
    }

    /// Makes sure the board holds the model: in the flash slot where vlab
    /// put it, or uploaded into its RAM slot.
    fn ensure_model(&self, linked: &mut Linked, model: &ModelFile, in_slot: bool) -> Result<()> {
        let board = self.board();
        let bytes = model.bytes();
        if wait(&self.runtime, linked.session.has_model(bytes))? {
            return Ok(());
        }
        if in_slot {
            return Err(Error::runtime(format!(
                "board {} does not find the model in its flash slot, where vlab put it \
                 (the firmware checks its length and CRC)",
                board.name
            )));
        }
        let slot = linked.session.identify().model_slot_bytes;
        if bytes.len() as u64 > u64::from(slot) {
            return Err(model.error(format!(
                "the model is {} B; board {}'s model slot holds {slot} B",
                bytes.len(),
                board.name
            )));
        }
        wait(&self.runtime, linked.session.upload_model(bytes))?;
        linked.uploaded = true;
        Ok(())
    }

    fn parts(&mut self) -> Result<(&Runtime, &mut Linked)> {
        match &mut self.linked {
            Some(linked) => Ok((&self.runtime, linked)),
            None => Err(Error::runtime("the measured loop ran before loading")),
        }
    }
}

impl Runner for BoardRunner<'_> {
    fn engine(&self) -> &str {
        "micro"
    }

    fn in_this_process(&self) -> bool {
        false
    }

    fn load(&mut self, model: Option<&ModelFile>, _spec: &BenchmarkSpec) -> Result<Loaded> {
        let linked = self.link(ModelFile::needed(model)?)?;
        let id = linked.session.identify();
        let engine_version = format!(
            "{} (firmware {}, build {})",
            env!("CARGO_PKG_VERSION"),
            firmware_version(id.firmware_version),
            hex(&id.build_hash)
        );
        self.linked = Some(linked);
        Ok(Loaded {
            engine_version,
            options: EngineSettings::default(),
            inputs: self.footprint.inputs.clone(),
            held: None,
        })
    }

    fn profiles_operators(&self) -> bool {
        true
    }

    fn set_inputs(&mut self, inputs: &[Vec<u8>]) -> Result<()> {
        let (runtime, linked) = self.parts()?;
        wait(runtime, linked.session.send_inputs(inputs))
    }

    fn first(&mut self) -> Result<u64> {
        let (runtime, linked) = self.parts()?;
        let summary = wait(runtime, linked.session.run(RunRequest::timed(1)))?;
        linked.note(&summary);
        Ok(linked.ns(summary.max_ticks))
    }

    fn run(&mut self, count: usize, timed: Timed<'_>) -> Result<()> {
        let (runtime, linked) = self.parts()?;
        // The board keeps a bounded number of samples a run: a longer
        // measurement is several runs, read back one after the other.
        let most = linked.session.identify().max_samples.max(1);
        let mut left = count;
        while left > 0 {
            let n = u32::try_from(left).unwrap_or(u32::MAX).min(most);
            let request = RunRequest {
                warmup: std::mem::take(&mut linked.warmup),
                ..RunRequest::timed(n)
            };
            let summary = wait(runtime, linked.session.run(request))?;
            linked.note(&summary);
            let ticks = wait(runtime, linked.session.read_samples(n))?;
            for t in ticks {
                linked.samples_ticks.push(t);
                timed(linked.ns(t))?;
            }
            left -= n as usize;
        }
        Ok(())
    }

    /// The board runs the warmups in the same request as the timed
    /// inferences that follow, with no round trip between them.
    fn warm_up(&mut self, count: usize, _timed: Timed<'_>) -> Result<()> {
        let count = u32::try_from(count)
            .map_err(|_| Error::input(format!("{} is too large", Field::Warmup)))?;
        let (_, linked) = self.parts()?;
        linked.warmup = count;
        Ok(())
    }

    fn outputs(&mut self) -> Result<Vec<TensorSpec>> {
        Ok(self.footprint.outputs.clone())
    }

    fn write_outputs(&mut self, sink: &mut dyn Write) -> Result<u64> {
        let outputs = self.footprint.outputs.len();
        let (runtime, linked) = self.parts()?;
        let mut written = 0u64;
        for index in 0..outputs {
            let index = u8::try_from(index)
                .map_err(|_| Error::input("the model has more than 255 outputs"))?;
            let bytes = wait(runtime, linked.session.read_output(index))?;
            sink.write_all(&bytes)
                .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
            written += bytes.len() as u64;
        }
        Ok(written)
    }

    fn reset_state(&mut self) -> Result<()> {
        let (runtime, linked) = self.parts()?;
        // The warmups run on the state they would have run on, before the
        // reset.
        let warmup = std::mem::take(&mut linked.warmup);
        if warmup > 0 {
            let summary = wait(runtime, linked.session.run(RunRequest::warmup(warmup)))?;
            linked.note(&summary);
        }
        // Asking for the model again resets its state (a stateless model
        // does not notice).
        wait(runtime, linked.session.has_model(&linked.model)).map(|_| ())
    }

    fn profile(&mut self) -> Result<Vec<OperatorTime>> {
        let operators = self.footprint.operators;
        let (runtime, linked) = self.parts()?;
        let summary = wait(runtime, linked.session.run(RunRequest::profiled()))?;
        linked.note(&summary);
        let mut times = Vec::with_capacity(operators);
        for index in 0..operators {
            let at = u16::try_from(index)
                .map_err(|_| Error::input("the model has more than 65,535 operators"))?;
            let (opcode, ticks) = wait(runtime, linked.session.read_layer(at))?;
            times.push(OperatorTime {
                index,
                op: vlab_micro::Opcode(i32::from(opcode)).name().to_owned(),
                ns: linked.ns(ticks),
            });
        }
        Ok(times)
    }

    /// A board's timer makes every profiled inference alike, and each
    /// costs a round trip per operator: one is enough.
    fn profiled_runs(&self, _wanted: usize) -> usize {
        1
    }

    fn finish(&mut self) -> Result<Finished> {
        let board = self.board();
        let (name, ram_bytes, flash_bytes) = (
            board.name.clone(),
            board.memory.ram_bytes,
            board.memory.flash_bytes,
        );
        let fault_rate = self.options.inject_faults;
        let input_bytes: usize = self
            .footprint
            .inputs
            .iter()
            .filter_map(TensorSpec::byte_size)
            .sum();
        let flash_used_bytes = self.firmware.as_ref().map(|f| f.flash_bytes);
        let (_, linked) = self.parts()?;
        let id = linked.session.identify().clone();
        let ram_used = linked.model.len() as u64
            + u64::from(linked.arena_used)
            + u64::from(linked.stack_used)
            + input_bytes as u64;
        let device = DeviceInfo {
            board: id.board.to_string(),
            firmware_version: firmware_version(id.firmware_version),
            build_hash: hex(&id.build_hash),
            protocol_version: id.protocol_version,
            core_clock_hz: id.core_clock_hz,
            timer: format!("{:?}", id.timer),
            timer_hz: id.timer_hz,
            samples_ticks: std::mem::take(&mut linked.samples_ticks),
            arena_bytes: u64::from(id.arena_bytes),
            arena_used_bytes: u64::from(linked.arena_used),
            stack_used_bytes: u64::from(linked.stack_used),
            model_slot_bytes: u64::from(id.model_slot_bytes),
            model_uploaded: linked.uploaded,
            transport: linked.transport.clone(),
            resent_requests: linked.session.resent(),
            injected_faults: linked
                .faults
                .as_ref()
                .zip(fault_rate)
                .map(|(counter, rate)| {
                    let counts = counter.get();
                    InjectedFaults {
                        rate,
                        dropped: counts.dropped,
                        flipped: counts.flipped,
                        duplicated: counts.duplicated,
                    }
                }),
        };
        Ok(Finished {
            target: TargetInfo {
                name,
                id: None,
                ram_bytes: Some(ram_bytes),
                flash_bytes: Some(flash_bytes),
                flash_used_bytes,
                ram_used_bytes: Some(ram_used),
                temperature_celsius: None,
                temperature_before_celsius: None,
                system: None,
                over_run: Vec::new(),
            },
            device: Some(device),
            dut: None,
        })
    }
}

/// `major.minor.patch` of the firmware's packed version.
fn firmware_version(packed: u32) -> String {
    format!(
        "{}.{}.{}",
        packed >> 16,
        (packed >> 8) & 0xff,
        packed & 0xff
    )
}
