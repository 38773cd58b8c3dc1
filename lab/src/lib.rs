//! The vlab lab server (docs/lab.md): the dAIEdge-VLab user API that the
//! public `daiedge-vlab` Python client speaks, a SQLite store, a scheduler
//! that places benchmarks on target instances by capability, and two
//! backends that run them: child processes on this machine, or Nomad jobs.
//!
//! The `vlab` binary builds the [`catalog::Catalog`] from its board
//! definitions and engines and calls [`serve`]; nothing here knows boards,
//! engines or transports.

pub mod api;
pub mod auth;
pub mod backend;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod dispatcher;
pub mod error;
pub mod lab;
pub mod scheduler;
pub mod signing;
pub mod store;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::local::Local;
use crate::catalog::Catalog;
use crate::config::{BackendConfig, LabConfig};
use crate::error::LabError;
use crate::lab::Lab;

/// How jobs are started: the `vlab` binary to run as `vlab job`, and
/// variables every job gets (e.g. `VLAB_BOARDS_DIR`).
#[derive(Debug, Clone)]
pub struct JobProgram {
    /// The `vlab` executable.
    pub program: PathBuf,
    /// Extra environment of every job.
    pub env: Vec<(String, String)>,
}

/// The backend the config asks for.
pub fn backend(config: &LabConfig, job: &JobProgram) -> Arc<dyn Backend> {
    match &config.backend {
        BackendConfig::Local => Arc::new(Local::new(job.program.clone(), job.env.clone())),
        BackendConfig::Nomad {
            address,
            token,
            job_prefix,
            poll_s,
        } => Arc::new(backend::nomad::Nomad::new(
            address.clone(),
            token.clone(),
            job_prefix.clone(),
            std::time::Duration::from_secs_f64(*poll_s),
        )),
    }
}

/// A lab bound to its address, not yet serving.
pub struct Server {
    listener: tokio::net::TcpListener,
    /// The lab's shared state.
    pub lab: Arc<Lab>,
    /// The address it listens on.
    pub address: std::net::SocketAddr,
}

impl Server {
    /// Binds `config.listen`, opens the store (recovering from an earlier
    /// stop) and starts the dispatcher; jobs run on `backend`.
    pub async fn bind(
        config: LabConfig,
        catalog: Catalog,
        backend: Arc<dyn Backend>,
    ) -> Result<Self, LabError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| LabError::system(format!("cannot listen on {}: {e}", config.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| LabError::system(format!("cannot read the listening address: {e}")))?;
        let lab = Arc::new(Lab::open(config, catalog, backend, address)?);
        tokio::spawn(dispatcher::run(Arc::clone(&lab)));
        Ok(Self {
            listener,
            lab,
            address,
        })
    }

    /// Answers requests until `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LabError> {
        axum::serve(self.listener, api::router(self.lab))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| LabError::system(format!("the server stopped: {e}")))
    }
}

/// Serves the lab with the backend its config names until `shutdown`
/// resolves. Prints the address it listens on (useful with port 0) once it
/// accepts connections.
pub async fn serve(
    config: LabConfig,
    catalog: Catalog,
    job: JobProgram,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LabError> {
    let backend = backend(&config, &job);
    let server = Server::bind(config, catalog, backend).await?;
    println!(
        "vlab lab: serving on http://{} ({} backend)",
        server.address,
        server.lab.backend.name()
    );
    server.run(shutdown).await
}
