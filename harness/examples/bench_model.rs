//! Benchmark a model with the tract engine and write the pipeline's artifacts,
//! as the pipeline container does when it links vlab-harness.
//!
//! ```sh
//! cargo run --release -p vlab-harness --example bench_model -- models/keyword_spotting.tflite vlab-out
//! ```

use vlab_harness::{BenchmarkSpec, benchmark_to_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .unwrap_or_else(|| "models/keyword_spotting.tflite".to_owned());
    let out = args.next().unwrap_or_else(|| "vlab-out".to_owned());

    let engine = vlab_runtimes::engine("tract")?;
    let spec = BenchmarkSpec::random(model, 100);
    let reports = benchmark_to_dir(engine, &spec, out.as_ref())?;

    let latency = &reports.contract.inference_latency;
    println!(
        "{}: median {:.3} ms, p99 {:.3} ms",
        reports.contract.model_file_name,
        latency.median * 1e3,
        latency.p99 * 1e3
    );
    println!("artifacts written to {out}");
    Ok(())
}
