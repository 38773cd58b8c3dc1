//! The Nomad backend (being written on branch lab-nomad).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Backend, Ended, Launch, Running};

/// Dispatches jobs to Nomad.
pub struct Nomad;

impl Nomad {
    /// A Nomad backend.
    pub fn new(_address: String, _token: Option<String>, _prefix: String, _poll: Duration) -> Self {
        Self
    }
}

impl Backend for Nomad {
    fn name(&self) -> &'static str {
        "nomad"
    }

    fn run(&self, _launch: Launch, _cancel: CancellationToken) -> Running {
        Box::pin(async { Ended::Lost("the Nomad backend is not built yet".into()) })
    }
}
