//! The one measured loop: load, first inference, warmup, timed
//! inferences, profiled inferences, written once for every target; a
//! [`Runner`] says how to reach it.
//!
//! This follows TFLite's `benchmark_model` and ONNX Runtime's `perf_test`:
//! init time (load and prepare) is timed once, then the first inference on
//! its own, then the warmup runs, then every timed inference, then the
//! profiled ones for per-layer statistics. How an inference is timed is
//! the runner's: the host's monotonic clock around the engine's run alone,
//! or a board's timer.

use std::io::Write;
use std::time::Instant;

use cpu_time::ProcessTime;

use crate::inputs::{InputSource, input_sizes};
use crate::platform::error::{Error, Result};
use crate::platform::field::Field;
use crate::platform::interrupt;
use crate::platform::memory::ProcessMemory;
use crate::record::{LayerStats, Measurement, Observer, Phase, Recorded};
use crate::report::ModelInfo;
use crate::runner::host::elapsed_ns;
use crate::runner::{Loaded, Runner};
use crate::seam::model::ModelFile;
use crate::spec::BenchmarkSpec;
use crate::stats::Statistics;

/// Most profiled inferences a run makes for per-layer statistics.
const MAX_PROFILED: usize = 100;

/// The one measured loop: loads the model with `runner` and measures it as
/// `spec` says, on whatever target the runner drives. Progress and every
/// measured value go to `observer`; TYPE2 outputs go to `raw_output`,
/// every sample's outputs in model order, samples in dataset order.
pub fn measure(
    runner: &mut dyn Runner,
    model: Option<&ModelFile>,
    spec: &BenchmarkSpec,
    observer: &mut dyn Observer,
    raw_output: &mut dyn Write,
) -> Result<Measurement> {
    spec.validate()?;
    let local = runner.in_this_process();

    observer.phase(Phase::Load, 1);
    let before_load = local.then(ProcessMemory::current);
    let start = Instant::now();
    let loaded = runner.load(model, spec)?;
    let init_ns = elapsed_ns(start);
    interrupt::check()?;
    let after_load = local.then(ProcessMemory::current);
    observer.step();

    if spec.per_layer && !runner.profiles_operators() {
        return Err(Error::input(format!(
            "{}: engine {} cannot time individual operators",
            Field::PerLayer,
            runner.engine()
        )));
    }
    let Loaded {
        engine_version,
        options,
        inputs,
        held,
    } = loaded;
    let model = match (model, held) {
        (Some(file), _) => ModelInfo::of(file),
        (None, Some(held)) => ModelInfo::held(held),
        (None, None) => {
            return Err(Error::runtime(format!(
                "engine {} loaded no model: it was given no file and holds none",
                runner.engine()
            )));
        }
    };
    input_sizes(&inputs)?;
    observer.recorded(&Recorded::Loaded {
        engine_version: engine_version.clone(),
        options: options.clone(),
        inputs: inputs.clone(),
        model: Box::new(model.clone()),
        init_ns,
    });
    let mut source = InputSource::open(&spec.workload, &inputs, &spec.input_values)?;
    let mut buffers = Vec::new();
    source.first(&mut buffers)?;
    runner.set_inputs(&buffers)?;

    let first_inference_ns = runner.first()?;
    observer.recorded(&Recorded::First(first_inference_ns));
    let outputs = runner.outputs()?;

    observer.phase(Phase::Warmup, spec.warmup);
    let mut warmup_ns = Vec::with_capacity(spec.warmup);
    interrupt::check()?;
    runner.warm_up(spec.warmup, &mut |ns| {
        warmup_ns.push(ns);
        observer.recorded(&Recorded::Warmup(ns));
        observer.step();
        interrupt::check()
    })?;

    let count = source.count();
    observer.phase(Phase::Measure, count);
    let mut samples_ns = Vec::with_capacity(count);
    let mut keep = |ns| {
        samples_ns.push(ns);
        observer.recorded(&Recorded::Sample(ns));
        observer.step();
        interrupt::check()
    };
    let mut raw_output_bytes = 0u64;
    let cpu_start = local.then(|| ProcessTime::try_now().ok()).flatten();
    let wall_start = Instant::now();
    interrupt::check()?;
    if let Some(iterations) = source.random_iterations() {
        runner.run(iterations, &mut keep)?;
    } else {
        // The first inference and the warmups ran on the first sample: the
        // dataset is one stream from the model's state at load.
        runner.reset_state()?;
        while source.next_sample(&mut buffers)? {
            runner.set_inputs(&buffers)?;
            runner.run(1, &mut keep)?;
            raw_output_bytes += runner.write_outputs(raw_output)?;
        }
    }
    let measured_wall_ns = elapsed_ns(wall_start);
    let layers = if spec.per_layer {
        let runs = runner.profiled_runs(count.clamp(1, MAX_PROFILED)).max(1);
        observer.phase(Phase::Profile, runs);
        Some(profile(runner, runs, observer)?)
    } else {
        None
    };
    let measured_cpu_ns = cpu_start
        .and_then(|c| c.try_elapsed().ok())
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let finished = runner.finish()?;

    Ok(Measurement {
        engine: runner.engine().to_owned(),
        engine_version,
        engine_options: options,
        model,
        benchmark_type: spec.benchmark_type(),
        seed: source.seed(),
        dataset: source.dataset_info(),
        warmup: spec.warmup,
        inputs,
        outputs,
        init_ns,
        first_inference_ns,
        warmup_ns,
        samples_ns,
        measured_wall_ns,
        measured_cpu_ns,
        rss_before_load: before_load.and_then(|m| m.rss),
        rss_after_load: after_load.and_then(|m| m.rss),
        peak_rss: local.then(ProcessMemory::current).and_then(|m| m.peak_rss),
        raw_output_bytes,
        layers,
        target: finished.target,
        device: finished.device,
        dut: finished.dut,
    })
}

/// Times every operator over `runs` profiled inferences.
fn profile(
    runner: &mut dyn Runner,
    runs: usize,
    observer: &mut dyn Observer,
) -> Result<Vec<LayerStats>> {
    let mut per_op: Vec<(usize, String, Vec<u64>)> = Vec::new();
    interrupt::check()?;
    runner.profile_runs(runs, &mut |times| {
        if per_op.is_empty() {
            per_op = times
                .iter()
                .map(|t| (t.index, t.op.clone(), Vec::with_capacity(runs)))
                .collect();
        }
        let same = times.len() == per_op.len()
            && per_op.iter().zip(&times).all(|(slot, t)| slot.1 == t.op);
        if !same {
            return Err(Error::runtime(
                "the engine timed different operators in different profiled inferences",
            ));
        }
        for (slot, t) in per_op.iter_mut().zip(times) {
            slot.2.push(t.ns);
        }
        observer.step();
        interrupt::check()
    })?;
    let stats: Vec<(usize, String, Statistics)> = per_op
        .into_iter()
        .filter_map(|(index, op, ns)| Statistics::from_samples(&ns).map(|s| (index, op, s)))
        .collect();
    let total: f64 = stats.iter().map(|(_, _, s)| s.median).sum();
    Ok(stats
        .into_iter()
        .map(|(index, op, s)| LayerStats {
            index,
            op,
            median_ns: s.median,
            mean_ns: s.mean,
            min_ns: s.min,
            share_percent: if total > 0.0 {
                s.median / total * 100.0
            } else {
                0.0
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::host::HostInfo;
    use crate::record::TargetInfo;
    use crate::runner::{Finished, Loaded, Timed};
    use crate::seam::engine::OperatorTime;
    use crate::seam::tensor::{DType, TensorSpec};

    /// A runner whose profiled inferences time the operators it is given,
    /// one list per inference, in turn.
    struct Scripted {
        profiles: bool,
        runs: Vec<Vec<(&'static str, u64)>>,
        next: usize,
    }

    fn spec() -> TensorSpec {
        TensorSpec {
            name: "x".into(),
            dtype: DType::Float32,
            shape: vec![Some(1)],
            quantization: None,
        }
    }

    impl Runner for Scripted {
        fn engine(&self) -> &str {
            "scripted"
        }
        fn in_this_process(&self) -> bool {
            false
        }
        fn load(&mut self, _: Option<&ModelFile>, _: &BenchmarkSpec) -> Result<Loaded> {
            Ok(Loaded {
                engine_version: "1".into(),
                options: Default::default(),
                inputs: vec![spec()],
                held: None,
            })
        }
        fn profiles_operators(&self) -> bool {
            self.profiles
        }
        fn set_inputs(&mut self, _: &[Vec<u8>]) -> Result<()> {
            Ok(())
        }
        fn run(&mut self, count: usize, timed: Timed<'_>) -> Result<()> {
            (0..count).try_for_each(|_| timed(1000))
        }
        fn outputs(&mut self) -> Result<Vec<TensorSpec>> {
            Ok(vec![spec()])
        }
        fn write_outputs(&mut self, _: &mut dyn Write) -> Result<u64> {
            Ok(0)
        }
        fn reset_state(&mut self) -> Result<()> {
            Ok(())
        }
        fn profile(&mut self) -> Result<Vec<OperatorTime>> {
            let run = &self.runs[self.next % self.runs.len()];
            self.next += 1;
            Ok(run
                .iter()
                .enumerate()
                .map(|(index, &(op, ns))| OperatorTime {
                    index,
                    op: op.into(),
                    ns,
                })
                .collect())
        }
        fn finish(&mut self) -> Result<Finished> {
            Ok(Finished {
                target: TargetInfo::host(&HostInfo::current()),
                device: None,
                dut: None,
            })
        }
    }

    fn per_layer(runner: &mut Scripted) -> Result<Measurement> {
        let path = std::path::Path::new("relu.tflite");
        let bytes = include_bytes!("../../../tests/models/dynamic_relu_f32.tflite").to_vec();
        let model = ModelFile::from_bytes(path, bytes)?;
        let mut spec = BenchmarkSpec::random(path, 4);
        spec.per_layer = true;
        measure(runner, Some(&model), &spec, &mut (), &mut std::io::sink())
    }

    #[test]
    fn the_medians_of_every_profiled_run_make_the_layers() {
        let mut runner = Scripted {
            profiles: true,
            runs: vec![
                vec![("CONV_2D", 300), ("RELU", 100)],
                vec![("CONV_2D", 500), ("RELU", 100)],
            ],
            next: 0,
        };
        let layers = per_layer(&mut runner).unwrap().layers.unwrap();
        assert_eq!(runner.next, 4, "one profiled run per timed one");
        assert_eq!(layers.len(), 2);
        assert_eq!(
            (layers[0].op.as_str(), layers[0].median_ns),
            ("CONV_2D", 400.0)
        );
        assert_eq!((layers[1].min_ns, layers[1].share_percent), (100.0, 20.0));
    }

    #[test]
    fn runs_that_time_different_operators_are_refused() {
        let mut runner = Scripted {
            profiles: true,
            runs: vec![vec![("CONV_2D", 300)], vec![("ADD", 300)]],
            next: 0,
        };
        let err = per_layer(&mut runner).unwrap_err();
        assert!(
            err.message().contains("different operators"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn an_engine_that_cannot_profile_is_named() {
        let mut runner = Scripted {
            profiles: false,
            runs: vec![],
            next: 0,
        };
        let err = per_layer(&mut runner).unwrap_err();
        assert!(
            err.message()
                .ends_with("engine scripted cannot time individual operators"),
            "{}",
            err.message()
        );
        assert_eq!(err.exit_code(), 2);
    }
}
