//! End-to-end tests: the real `vlab` binary on the real models that
//! `models/fetch.sh` downloads.

// A failed unwrap in a test helper is a test failure, which is the point.
#![allow(clippy::unwrap_used)]

mod api;
mod bad_input;
mod bench;
mod board;
mod compare;
mod conformance;
mod deploy;
mod dynamic;
mod engines;
mod goldens;
mod interrupt;
mod isolation;
mod job;
mod lab;
mod lab_nomad;
mod mlperf_tiny;
mod mlperf_tiny_bench;
mod mlperf_tiny_driver;
mod nomad;
mod nomad_standin;
mod per_layer;
mod probe;
mod report;
mod ssh_aarch64;
mod ssh_board;
mod support;
