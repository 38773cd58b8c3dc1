//! The lab server's own cost and its scale (docs/performance.md, "The lab
//! server"):
//!
//! 1. The server's cost per job over JOBS queued TYPE1 jobs of a tiny model
//!    on one host slot, each a real `vlab job` process: the submission
//!    request, plus the gap between one job's process ending and the next
//!    one's starting (settling the first, placing and starting the next).
//!    The job's own run, from starting its process to its exit, is the
//!    benchmark's time and is left out.
//! 2. With FINISHED finished benchmarks in the store: the latency of status,
//!    info, results and list requests, and the server's memory.
//!
//! ```sh
//! cargo build --release -p vlab-bridge
//! cargo bench -p vlab-lab --bench lab_scale -- 1000 10000
//! ```
//!
//! `VLAB_BIN` names the `vlab` binary [default: target/release/vlab].

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vlab_lab::backend::local::Local;
use vlab_lab::backend::{Backend, Launch, Running};
use vlab_lab::catalog::{Catalog, EngineInfo, TargetOffer};
use vlab_lab::config::{LabConfig, UserEntry};
use vlab_lab::store::benchmarks::{NewBenchmark, Status};

/// One job's run as the backend saw it.
type Span = (Instant, Instant);

/// A backend that records when each job's run starts and ends.
struct Timed {
    inner: Local,
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Backend for Timed {
    fn name(&self) -> &'static str {
        "local (timed)"
    }

    fn run(&self, launch: Launch, cancel: CancellationToken) -> Running {
        let spans = Arc::clone(&self.spans);
        let running = self.inner.run(launch, cancel);
        Box::pin(async move {
            let start = Instant::now();
            let ended = running.await;
            spans.lock().unwrap().push((start, Instant::now()));
            ended
        })
    }

    fn stop_orphan(&self, work_dir: &std::path::Path) {
        self.inner.stop_orphan(work_dir);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn row(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<44} n={:<6} median {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.99),
        values[values.len() - 1]
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Client {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GET `path` `n` times; each request's latency in ms.
    fn timed(&self, n: usize, path: impl Fn(usize) -> String) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let start = Instant::now();
                let (status, _) = self.get(&path(i));
                assert!(status == 200, "{} answered {status}", path(i));
                ms(start.elapsed())
            })
            .collect()
    }
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let jobs = args.first().copied().unwrap_or(1000);
    let finished = args.get(1).copied().unwrap_or(10_000).max(jobs);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let vlab: PathBuf = std::env::var_os("VLAB_BIN")
        .map_or_else(|| root.join("target/release/vlab"), PathBuf::from);
    assert!(
        vlab.exists(),
        "{} is missing: cargo build --release -p vlab-bridge",
        vlab.display()
    );
    let model =
        std::fs::read(root.join("models/tiny_cnn.tflite")).expect("models/fetch.sh has run");

    let dir = tempfile::tempdir().unwrap();
    let password = "bench-password";
    let config = LabConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        users: vec![UserEntry {
            email: "bench@lab".into(),
            password_hash: vlab_lab::auth::hash_password(password).unwrap(),
        }],
        ..LabConfig::default()
    };
    let catalog = Catalog {
        engines: vec![EngineInfo {
            name: "micro".into(),
            display_name: "micro".into(),
            file_extensions: vec![".tflite".into()],
            parameters: vec![],
        }],
        targets: vec![TargetOffer {
            kind: "host".into(),
            display_name: "host".into(),
            uid: "host-0".into(),
            engines: vec!["micro".into()],
            benchmark_types: vec!["TYPE1".into(), "TYPE2".into()],
            storage: None,
            ram: None,
            slots: 1,
        }],
    };
    let spans = Arc::new(Mutex::new(Vec::new()));
    let backend = Arc::new(Timed {
        inner: Local::new(vlab, vec![]),
        spans: Arc::clone(&spans),
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(vlab_lab::Server::bind(config, catalog, backend))
        .unwrap();
    let url = format!("http://{}", server.address);
    let lab = Arc::clone(&server.lab);
    runtime.spawn(server.run(std::future::pending()));

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let login: Value = agent
        .post(format!("{url}/api/users/login"))
        .send_json(serde_json::json!({ "email": "bench@lab", "password": password }))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let client = Client {
        url: url.clone(),
        token: login["access_token"].as_str().unwrap().to_owned(),
        agent,
    };
    let user = lab.store.user_id("bench@lab").unwrap();
    let blob = lab.store.blobs.put(&model).unwrap();
    lab.store
        .add_model(user, "bench_tiny_cnn.tflite", "tiny_cnn.tflite", &blob)
        .unwrap();

    // 1. The cost per job.
    println!(
        "lab_scale: {jobs} TYPE1 jobs of tiny_cnn on micro, one host slot, real `vlab job` processes"
    );
    let mut submit = Vec::new();
    let started = Instant::now();
    for _ in 0..jobs {
        let start = Instant::now();
        let mut response = client
            .agent
            .post(format!("{url}/api/benchmarks/run"))
            .header("Authorization", &format!("Bearer {}", client.token))
            .send_form([
                ("device", "host"),
                ("engine", "micro"),
                ("nb_inference", "10"),
                ("model_ref", "bench_tiny_cnn.tflite"),
            ])
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.body_mut().read_to_string().unwrap()
        );
        submit.push(ms(start.elapsed()));
    }
    loop {
        let (_, done) = client.get("/api/benchmarks?status=success&page_length=1");
        let (_, failed) = client.get("/api/benchmarks?status=failed&page_length=1");
        assert_eq!(failed["total"], 0, "a job failed");
        if done["total"].as_u64() == Some(jobs as u64) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let drain = started.elapsed();
    let mut spans = spans.lock().unwrap().clone();
    spans.sort();
    let runs: Vec<f64> = spans.iter().map(|(s, e)| ms(*e - *s)).collect();
    let gaps: Vec<f64> = spans.windows(2).map(|w| ms(w[1].0 - w[0].1)).collect();
    let cost: Vec<f64> = gaps.iter().zip(&submit[1..]).map(|(g, s)| g + s).collect();
    row("submission (POST /api/benchmarks/run)", submit.clone());
    row("settle one job + place and start the next", gaps);
    row("server cost per job (the two above)", cost);
    row("the job's own run (vlab job process)", runs.clone());
    println!(
        "drained in {:.1} s; the jobs' own runs sum to {:.1} s",
        drain.as_secs_f64(),
        runs.iter().sum::<f64>() / 1e3
    );

    // 2. A store of `finished` benchmarks.
    let report = lab.store.blobs.put(b"{\"version\": \"1.0\"}").unwrap();
    for _ in jobs..finished {
        let id = lab
            .store
            .insert_benchmark(&NewBenchmark {
                user,
                benchmark_type: "TYPE1".into(),
                device: "host".into(),
                engine: "micro".into(),
                model_file_name: "tiny_cnn.tflite".into(),
                model_sha256: blob.sha256.clone(),
                dataset: None,
                parameters: None,
                nb_inference: Some(10),
                target_uids: None,
            })
            .unwrap();
        lab.store
            .transition(&id, Status::Pending, Status::Queued)
            .unwrap();
        lab.store.start(&id, "host-0", "t").unwrap();
        lab.store.put_artifact(&id, "report.json", &report).unwrap();
        lab.store
            .transition(&id, Status::Running, Status::Success)
            .unwrap();
    }
    let (_, page) = client.get("/api/benchmarks?page_length=1000");
    let ids: Vec<String> = page["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page["total"].as_u64(), Some(finished as u64));
    println!("\nlab_scale: {finished} finished benchmarks in the store");
    let pick = |i: usize| &ids[(i * 7919) % ids.len()];
    row(
        "GET /api/benchmarks/{id}/status",
        client.timed(2000, |i| format!("/api/benchmarks/{}/status", pick(i))),
    );
    row(
        "GET /api/benchmarks/{id}",
        client.timed(1000, |i| format!("/api/benchmarks/{}", pick(i))),
    );
    row(
        "GET /api/benchmarks/{id}/results",
        client.timed(1000, |i| format!("/api/benchmarks/{}/results", pick(i))),
    );
    row(
        "GET /api/benchmarks (a page of 100)",
        client.timed(200, |i| format!("/api/benchmarks?page={}", i % 100 + 1)),
    );
    let db = std::fs::metadata(dir.path().join("data/lab.sqlite3")).map_or(0, |m| m.len());
    println!(
        "memory: VmRSS {} KiB, VmHWM {} KiB (server and this client, one process); database {} KiB",
        rss_kib("VmRSS:"),
        rss_kib("VmHWM:"),
        db / 1024
    );
}
