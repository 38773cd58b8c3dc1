//! A real HTTP server on loopback standing in for the lab's API: it stores
//! every artifact `PUT` to `/jobs/{job}/artifacts/{name}`, records each
//! request, and can be told to answer 500 a number of times first. The
//! tests use it, and so does `cargo run -p vlab-bridge --example lab-api`,
//! which also saves what it receives (docs/nomad.md).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;

/// What the API saw.
#[derive(Default)]
pub struct Seen {
    /// Every request: (job, artifact name, Authorization header, status answered).
    pub requests: Vec<(String, String, Option<String>, u16)>,
    /// Stored artifacts by name.
    pub stored: BTreeMap<String, Vec<u8>>,
    /// Answers of 500 still to give.
    pub failures_left: u32,
    /// Where to save each stored artifact (`DIR/{job}/{name}`), if anywhere.
    pub save_to: Option<PathBuf>,
}

/// A running API on 127.0.0.1.
pub struct Api {
    /// Its address.
    pub addr: SocketAddr,
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
}

impl Api {
    /// Starts an API on a free port that answers 500 `failures` times
    /// before accepting.
    pub fn start(failures: u32) -> Self {
        Self::start_on("127.0.0.1:0", failures, None).expect("a free port on loopback")
    }

    /// Starts an API on `addr` that answers 500 `failures` times before
    /// accepting, saving what it stores under `save_to`.
    pub fn start_on(addr: &str, failures: u32, save_to: Option<PathBuf>) -> std::io::Result<Self> {
        let seen = Arc::new(Mutex::new(Seen {
            failures_left: failures,
            save_to,
            ..Seen::default()
        }));
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = seen.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/jobs/{job}/artifacts/{name}", put(store))
                    .with_state(state);
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                axum::serve(listener, app).await.expect("the server runs");
            });
        });
        Ok(Self { addr, seen })
    }

    /// The URL to give as VLAB_API_URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn store(
    State(seen): State<Arc<Mutex<Seen>>>,
    Path((job, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut seen = seen.lock().expect("no handler panicked");
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let plain = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\']);
    let status = if !plain(&job) || !plain(&name) {
        StatusCode::BAD_REQUEST
    } else if seen.failures_left > 0 {
        seen.failures_left -= 1;
        if seen.save_to.is_some() {
            println!("answered 500 to {job}/{name}");
        }
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        if let Some(dir) = &seen.save_to {
            let dir = dir.join(&job);
            if let Err(e) =
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(&name), &body))
            {
                println!("cannot save {job}/{name} in {}: {e}", dir.display());
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            println!(
                "stored {job}/{name} ({} bytes, {})",
                body.len(),
                auth.as_deref().unwrap_or("no token")
            );
        }
        seen.stored.insert(name.clone(), body.to_vec());
        StatusCode::CREATED
    };
    seen.requests.push((job, name, auth, status.as_u16()));
    status
}
