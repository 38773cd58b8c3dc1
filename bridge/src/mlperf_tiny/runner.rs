//! An MLPerf Tiny device under test as the measured loop's [`Runner`]: the
//! loop's phases map onto the protocol's commands. Loading is identifying
//! the device; setting inputs is `db load` with a readback; a timed
//! inference is an `infer N W` window on the device's timer, N set once by
//! [`SamplePlan`]; outputs are `m-results-[...]` as float32.

use std::io::Write;
use std::time::Duration;

use tokio::runtime::Runtime;
use vlab_harness::runner::{Finished, Loaded, Runner, Timed};
use vlab_harness::{
    BenchmarkSpec, DType, DutInfo, EngineSettings, Error, HeldModel, ModelFile, OperatorTime,
    Result, TargetInfo, TensorSpec,
};

use super::dut::{Dut, MAX_CHUNK, Window};
use super::plan::SamplePlan;
use crate::board::BoardDef;
use crate::interruptible::wait;
use crate::transport::{self, Endpoint, Transport};

/// The engine name reports give a device under test: whatever engine its
/// vendor's port runs, vlab knows it only by the protocol.
pub const ENGINE: &str = "mlperf-tiny";

/// How long a device may take to accept a connection.
const PATIENCE: Duration = Duration::from_secs(5);

/// A device under test, identified once [`Runner::load`] has run.
pub struct DutRunner<'a> {
    board: &'a BoardDef,
    transport: Transport,
    at: String,
    baud: u32,
    runtime: Runtime,
    linked: Option<Linked>,
}

/// What an identified device keeps while the loop runs.
struct Linked {
    dut: Dut,
    transport: String,
    /// The inputs the loop set last, and whether the device holds them.
    input: Vec<u8>,
    uploaded: bool,
    uploads: u64,
    /// Warmups asked for and not run yet: the next window's W.
    warmup: u32,
    plan: Option<SamplePlan>,
    results: Vec<f32>,
    windows_us: Vec<u64>,
    wrapped: u64,
}

impl<'a> DutRunner<'a> {
    /// A runner for the device `board` describes, reached over `transport`
    /// at `at` (`baud` for a serial port).
    pub fn new(board: &'a BoardDef, transport: Transport, at: String, baud: u32) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))?;
        Ok(Self {
            board,
            transport,
            at,
            baud,
            runtime,
            linked: None,
        })
    }

    fn linked(&mut self) -> Result<(&Runtime, &mut Linked)> {
        match &mut self.linked {
            Some(linked) => Ok((&self.runtime, linked)),
            None => Err(Error::runtime("the measured loop ran before loading")),
        }
    }

    /// Runs one window of `iterations` with the warmups pending, after
    /// uploading the inputs if the device does not hold them yet.
    fn window(&mut self, iterations: u32) -> Result<Window> {
        let (runtime, linked) = self.linked()?;
        if !linked.uploaded {
            wait(runtime, linked.dut.load(&linked.input, MAX_CHUNK, true))?;
            linked.uploaded = true;
            linked.uploads += 1;
        }
        let hint = linked
            .plan
            .map(|p| Duration::from_secs_f64(p.latency_us / 1e6));
        let warmup = std::mem::take(&mut linked.warmup);
        let window = wait(runtime, linked.dut.infer(iterations, warmup, hint))?;
        linked.wrapped += u64::from(window.wrapped);
        linked.results.clone_from(&window.results);
        Ok(window)
    }
}

impl Runner for DutRunner<'_> {
    fn engine(&self) -> &str {
        ENGINE
    }

    fn in_this_process(&self) -> bool {
        false
    }

    fn load(&mut self, model: Option<&ModelFile>, spec: &BenchmarkSpec) -> Result<Loaded> {
        if let Some(model) = model {
            return Err(model.error(format!(
                "board {} is an MLPerf Tiny device that runs the model it holds; vlab cannot send it one",
                self.board.name
            )));
        }
        if !spec.load.engine.is_empty() {
            return Err(Error::input(format!(
                "board {} is an MLPerf Tiny device: its vendor's port takes no engine options",
                self.board.name
            )));
        }
        let endpoint = Endpoint::Address {
            at: self.at.clone(),
            baud: self.baud,
            patience: PATIENCE,
            alive: Box::new(|| Ok(())),
        };
        let transport = self.transport;
        let dut = wait(&self.runtime, async move {
            let connection = transport::open(transport, endpoint).await?;
            let description = connection.description.clone();
            Dut::connect(connection.link, connection.description)
                .await
                .map(|dut| (dut, description))
        });
        let (dut, description) = dut?;
        let inputs = vec![input_spec(&dut.model_key).ok_or_else(|| {
            Error::runtime(format!(
                "board {}: the device's model {:?} is not an MLPerf Tiny benchmark vlab knows the input of (kws01, vww01, ic01, ad01)",
                self.board.name, dut.model_key
            ))
        })?];
        let loaded = Loaded {
            // The port's engine and its version are the vendor's secret;
            // the vendor's name is what the device says.
            engine_version: dut.vendor.clone(),
            options: EngineSettings::default(),
            inputs,
            held: Some(HeldModel {
                device: dut.device.clone(),
                vendor: dut.vendor.clone(),
                profile: dut.profile.clone(),
                model_key: dut.model_key.clone(),
            }),
        };
        self.linked = Some(Linked {
            dut,
            transport: description,
            input: Vec::new(),
            uploaded: false,
            uploads: 0,
            warmup: 0,
            plan: None,
            results: Vec::new(),
            windows_us: Vec::new(),
            wrapped: 0,
        });
        Ok(loaded)
    }

    fn profiles_operators(&self) -> bool {
        false
    }

    fn set_inputs(&mut self, inputs: &[Vec<u8>]) -> Result<()> {
        let (_, linked) = self.linked()?;
        let [input] = inputs else {
            return Err(Error::runtime(format!(
                "an MLPerf Tiny device takes one input, not {}",
                inputs.len()
            )));
        };
        if *input != linked.input {
            linked.input.clone_from(input);
            linked.uploaded = false;
        }
        Ok(())
    }

    /// The first inference, then the calibration of [`SamplePlan`]: one
    /// more single-inference window and one of about 200 ms.
    fn first(&mut self) -> Result<u64> {
        let first = self.window(1)?;
        let single = self.window(1)?;
        let count = SamplePlan::calibration_count(single.elapsed_us);
        let long = self.window(count)?;
        let (_, linked) = self.linked()?;
        linked.plan = Some(SamplePlan::calibrate(
            single.elapsed_us,
            count,
            long.elapsed_us,
        ));
        Ok(first.elapsed_us * 1000)
    }

    fn run(&mut self, count: usize, timed: Timed<'_>) -> Result<()> {
        let per_sample = self.linked()?.1.plan.map_or(1, |plan| plan.per_sample);
        for _ in 0..count {
            let window = self.window(per_sample)?;
            self.linked()?.1.windows_us.push(window.elapsed_us);
            let ns = window.elapsed_us as f64 * 1000.0 / f64::from(per_sample);
            timed(ns.round() as u64)?;
        }
        Ok(())
    }

    /// The warmups go with the next window, as its W: the device runs them
    /// untimed right before the window.
    fn warm_up(&mut self, count: usize, _timed: Timed<'_>) -> Result<()> {
        let (_, linked) = self.linked()?;
        linked.warmup = u32::try_from(count).unwrap_or(u32::MAX);
        Ok(())
    }

    fn outputs(&mut self) -> Result<Vec<TensorSpec>> {
        let (_, linked) = self.linked()?;
        Ok(vec![TensorSpec {
            name: "m-results".to_owned(),
            dtype: DType::Float32,
            shape: vec![Some(linked.results.len())],
            quantization: None,
        }])
    }

    fn write_outputs(&mut self, sink: &mut dyn Write) -> Result<u64> {
        let (_, linked) = self.linked()?;
        let bytes: Vec<u8> = linked
            .results
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        sink.write_all(&bytes)
            .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
        Ok(bytes.len() as u64)
    }

    /// The MLPerf Tiny models keep no state between inferences, and the
    /// protocol has no reset: nothing to do.
    fn reset_state(&mut self) -> Result<()> {
        Ok(())
    }

    fn profile(&mut self) -> Result<Vec<OperatorTime>> {
        Err(Error::runtime(
            "an MLPerf Tiny device cannot time individual operators",
        ))
    }

    fn finish(&mut self) -> Result<Finished> {
        let board = self.board;
        let (_, linked) = self.linked()?;
        let plan = linked.plan.unwrap_or(SamplePlan {
            per_sample: 1,
            latency_us: 0.0,
            overhead_us: 0.0,
        });
        Ok(Finished {
            target: TargetInfo {
                name: board.name.clone(),
                id: None,
                ram_bytes: Some(board.memory.ram_bytes),
                flash_bytes: Some(board.memory.flash_bytes),
                flash_used_bytes: None,
                ram_used_bytes: None,
                temperature_celsius: None,
                temperature_before_celsius: None,
                system: None,
                over_run: Vec::new(),
            },
            device: None,
            dut: Some(DutInfo {
                board: board.name.clone(),
                transport: linked.transport.clone(),
                inferences_per_sample: plan.per_sample,
                sample_timing: plan.describe(),
                window_overhead_us: plan.overhead_us,
                calibrated_latency_us: plan.latency_us,
                samples_window_us: linked.windows_us.clone(),
                wrapped_windows: linked.wrapped,
                uploads: linked.uploads,
                uploads_verified: true,
                warnings: linked.dut.warnings.clone(),
            }),
        })
    }
}

/// The input an MLPerf Tiny benchmark's device takes, as its dataset's
/// `.bin` files hold it: KWS int8 MFCCs, VWW and IC uint8 RGB, AD the
/// float32 log-mel window of five frames.
fn input_spec(model_key: &str) -> Option<TensorSpec> {
    let (dtype, shape): (DType, &[usize]) = match model_key {
        "kws01" => (DType::Int8, &[1, 49, 10, 1]),
        "vww01" => (DType::Uint8, &[1, 96, 96, 3]),
        "ic01" | "ic02" => (DType::Uint8, &[1, 32, 32, 3]),
        "ad01" => (DType::Float32, &[1, 640]),
        _ => return None,
    };
    Some(TensorSpec {
        name: format!("{model_key} input"),
        dtype,
        shape: shape.iter().copied().map(Some).collect(),
        quantization: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlperf_tiny::input_bytes;

    #[test]
    fn every_known_key_takes_the_bytes_the_driver_uploads() {
        for key in ["kws01", "vww01", "ic01", "ic02", "ad01"] {
            let spec = input_spec(key).unwrap();
            assert_eq!(spec.byte_size(), input_bytes(key), "{key}");
        }
        assert!(input_spec("str01").is_none());
    }
}
