//! End-to-end tests: the real `vlab` binary on the real models that
//! `models/fetch.sh` downloads.

mod bad_input;
mod bench;
mod support;
