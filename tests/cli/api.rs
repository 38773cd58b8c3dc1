//! A real HTTP server on loopback standing in for the lab's API: it stores
//! every artifact `PUT` to `/jobs/{job}/artifacts/{name}`, records each
//! request, and can be told to answer 500 a number of times first.

use std::collections::BTreeMap;
use std::net::SocketAddr;
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
}

/// A running API on 127.0.0.1.
pub struct Api {
    /// Its address.
    pub addr: SocketAddr,
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
}

impl Api {
    /// Starts an API that answers 500 `failures` times before accepting.
    pub fn start(failures: u32) -> Self {
        let seen = Arc::new(Mutex::new(Seen {
            failures_left: failures,
            ..Seen::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = seen.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/jobs/{job}/artifacts/{name}", put(store))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Self { addr, seen }
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
    let mut seen = seen.lock().unwrap();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = if seen.failures_left > 0 {
        seen.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        seen.stored.insert(name.clone(), body.to_vec());
        StatusCode::CREATED
    };
    seen.requests.push((job, name, auth, status.as_u16()));
    status
}
