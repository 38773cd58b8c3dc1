//! Statistics over latency samples: the cost of summarising a run, and of
//! comparing two runs (`vlab compare`'s bootstrap).
//!
//! ```sh
//! cargo bench -p vlab-harness --bench statistics
//! ```

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use vlab_harness::Statistics;
use vlab_harness::compare::{CompareOptions, compare_samples};

fn statistics(c: &mut Criterion) {
    let mut group = c.benchmark_group("statistics");
    for n in [1_000usize, 100_000, 1_000_000] {
        // Latency-like samples: a base with deterministic jitter.
        let samples: Vec<u64> = (0..n as u64)
            .map(|i| 12_000_000 + (i * 7919) % 250_000)
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &samples, |b, s| {
            b.iter(|| Statistics::from_samples(black_box(s)))
        });
    }
    group.finish();
}

fn bootstrap(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare");
    group.sample_size(10);
    let options = CompareOptions::default();
    for n in [1_000usize, 10_000] {
        let base: Vec<u64> = (0..n as u64)
            .map(|i| 12_000_000 + (i * 7919) % 250_000)
            .collect();
        let candidate: Vec<u64> = base.iter().map(|s| s + s / 10).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| compare_samples("latency", black_box(&base), black_box(&candidate), &options))
        });
    }
    group.finish();
}

criterion_group!(benches, statistics, bootstrap);
criterion_main!(benches);
