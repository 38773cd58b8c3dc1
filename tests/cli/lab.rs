//! `vlab lab serve` end to end: a real server on loopback, the real
//! `daiedge-vlab==1.2.12` client (from PyPI, in .venv/lab-client, which
//! scripts/setup.sh installs) driving it, real `vlab job` processes on the
//! host and on the emulated board, and a real SQLite store.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{model, qemu_firmware, root};

/// The users every test lab has; passwords are read from stdin by
/// `vlab lab add-user`.
pub const ALICE: (&str, &str) = ("alice@lab", "alice-password");
const BOB: (&str, &str) = ("bob@lab", "bob-password-2");

/// A running `vlab lab serve`.
pub struct LabServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The lab's folder: lab.toml, data/.
    pub dir: PathBuf,
}

impl LabServer {
    /// Writes `dir/lab.toml` (port 0, data in `dir/data`, the boards
    /// folder, `extra` appended) with Alice and Bob, unless it exists.
    pub fn configure(dir: &Path, extra: &str) {
        Self::configure_with_boards(dir, &root().join("boards"), extra);
    }

    /// [`LabServer::configure`] with the boards folder `boards`.
    pub fn configure_with_boards(dir: &Path, boards: &Path, extra: &str) {
        let config = dir.join("lab.toml");
        if config.exists() {
            return;
        }
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nboards_dir = \"{}\"\n{extra}\n",
                boards.display()
            ),
        )
        .unwrap();
        for (email, password) in [ALICE, BOB] {
            let mut add = Command::new(env!("CARGO_BIN_EXE_vlab"))
                .args(["lab", "add-user", "--config"])
                .arg(&config)
                .args(["--email", email])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
            assert!(add.wait().unwrap().success(), "vlab lab add-user {email}");
        }
    }

    /// Starts the server on `dir/lab.toml` and waits until it listens.
    pub fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vlab"))
            .args(["lab", "serve", "--config"])
            .arg(dir.join("lab.toml"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server printed where it listens")
                .unwrap();
            if let Some(rest) = line.strip_prefix("vlab lab: serving on ") {
                break rest.split(' ').next().unwrap().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            url,
            dir: dir.to_owned(),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> &str {
        self.url.rsplit(':').next().unwrap()
    }

    /// The client's setup YAML for `user`, as its README shows it.
    pub fn setup(&self, user: (&str, &str)) -> PathBuf {
        let path = self.dir.join(format!("setup-{}.yaml", user.0));
        std::fs::write(
            &path,
            format!(
                "api:\n    url: \"127.0.0.1\"\n    port: \"{}\"\n    ssl: false\nuser:\n    email: \"{}\"\n    password: \"{}\"\n",
                self.port(),
                user.0,
                user.1
            ),
        )
        .unwrap();
        path
    }

    /// Runs `scenario` of tests/cli/lab/client.py as `user` and returns the
    /// JSON it prints.
    pub fn client(&self, user: (&str, &str), scenario: &str, args: &[&str]) -> Value {
        let script = root().join("tests/cli/lab/client.py");
        let setup = self.setup(user);
        let mut all = vec![path(&script), path(&setup), scenario];
        all.extend_from_slice(args);
        let stdout = client_python(&all, &root());
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap()
    }

    /// Stops the server as a crash would: SIGKILL, no clean-up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for LabServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the daiedge-vlab client's Python (.venv/lab-client, from
/// scripts/setup.sh) with `args` in `cwd`; its stdout, after checking that
/// it succeeded.
fn client_python(args: &[&str], cwd: &Path) -> String {
    let python = root().join(".venv/lab-client/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let output = Command::new(python)
        .args(args)
        .current_dir(cwd)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A plain HTTP client for what the Python client cannot do quickly
/// (many submissions, raw status codes).
pub struct Http {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl Http {
    /// Logs `user` in.
    pub fn login(lab: &LabServer, user: (&str, &str)) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let body = serde_json::json!({ "email": user.0, "password": user.1 });
        let mut response = agent
            .post(format!("{}/api/users/login", lab.url))
            .send_json(&body)
            .unwrap();
        assert_eq!(response.status(), 200);
        let json: Value = response.body_mut().read_json().unwrap();
        Self {
            url: lab.url.clone(),
            token: json["access_token"].as_str().unwrap().to_owned(),
            agent,
        }
    }

    /// GET `path`: status and JSON body (Null when there is none).
    pub fn get(&self, path: &str) -> (u16, Value) {
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

    /// POST an urlencoded form to `/api/benchmarks/run` (the client's
    /// encoding for a model reference): status and JSON.
    pub fn run(&self, fields: &[(&str, &str)]) -> (u16, Value) {
        let mut response = self
            .agent
            .post(format!("{}/api/benchmarks/run", self.url))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_form(fields.iter().copied())
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    /// DELETE `path`: its status.
    pub fn delete(&self, path: &str) -> u16 {
        self.agent
            .delete(format!("{}{path}", self.url))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap()
            .status()
            .as_u16()
    }

    /// Polls until every benchmark in `ids` is terminal; their infos.
    pub fn wait_all(&self, ids: &[String], limit: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let infos: Vec<Value> = ids
                .iter()
                .map(|id| self.get(&format!("/api/benchmarks/{id}")).1)
                .collect();
            if infos.iter().all(|i| {
                matches!(
                    i["status"].as_str(),
                    Some("success" | "failed" | "canceled")
                )
            }) {
                return infos;
            }
            assert!(start.elapsed() < limit, "not done in {limit:?}: {infos:#?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Milliseconds of an RFC 3339 time.
fn ms(time: &Value) -> i128 {
    let text = time.as_str().expect("a time");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp_nanos()
        / 1_000_000
}

/// `p` as text.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// keyword_spotting's TYPE2 dataset: `n` float32 samples of 500 values.
pub fn kws_dataset(dir: &Path, n: usize) -> PathBuf {
    let samples: Vec<u8> = (0..n * 500)
        .flat_map(|i| ((i % 13) as f32 / 13.0 - 0.5).to_le_bytes())
        .collect();
    let file = dir.join("kws-samples.bin");
    std::fs::write(&file, samples).unwrap();
    file
}

/// keyword_spotting on the host's micro engine with a 3-sample dataset
/// (client.py's `dataset` scenario: uploaded, then reused by name), both
/// runs checked to succeed with the same outputs; the client's answer and
/// the dataset file.
pub fn type2_twice(lab: &LabServer, dir: &Path) -> (Value, PathBuf) {
    let kws = model("keyword_spotting.tflite");
    let data = kws_dataset(dir, 3);
    let type2 = lab.client(
        ALICE,
        "dataset",
        &["host", "micro", path(&kws), path(&data)],
    );
    for run in [&type2["first"], &type2["second"]] {
        assert_eq!(run["status"], "success", "{run:#}");
        assert_eq!(run["report"]["benchmark_type"], "TYPE2");
        assert_eq!(run["report"]["nb_infernece"], 3);
    }
    let raw = &type2["first"]["raw_output"];
    assert!(raw.is_string(), "{type2:#}");
    assert_eq!(
        raw, &type2["second"]["raw_output"],
        "same dataset, same outputs"
    );
    (type2, data)
}

#[test]
fn the_python_client_runs_benchmarks_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure(dir.path(), "[[targets]]\nname = \"host\"\n");
    let lab = LabServer::start(dir.path());

    let config = lab.client(ALICE, "config", &[]);
    assert!(
        config["config"]["devices"]["host"]["engines"]
            .as_array()
            .unwrap()
            .contains(&"tract".into())
    );
    assert!(
        config["config"]["runtimes"]["tract"]["supported_file_extensions"]
            .as_array()
            .unwrap()
            .contains(&".onnx".into())
    );
    assert_eq!(
        config["tract"],
        serde_json::json!([]),
        "tract takes no parameters"
    );

    // TYPE1 with tract.
    let squeezenet = model("light_squeezenet.onnx");
    let type1 = lab.client(ALICE, "run", &["host", "tract", path(&squeezenet), "5"]);
    assert_eq!(type1["status"], "success", "{type1:#}");
    let report = &type1["report"];
    assert!(
        report["inference_engine"]
            .as_str()
            .unwrap()
            .starts_with("tract ")
    );
    assert_eq!(report["benchmark_type"], "TYPE1");
    assert_eq!(report["nb_infernece"], 5);
    assert!(report["inference_latency"]["mean"].as_f64().unwrap() > 0.0);
    assert!(!type1["user_log"].as_str().unwrap().is_empty());
    assert_eq!(type1["raw_output"], Value::Null, "TYPE1 has no raw output");
    assert_eq!(type1["model_output"], Value::Null);
    assert_eq!(type1["info"]["target_uid"], "host-0");

    // TYPE2: uploaded, then reused by name; then the dataset deleted.
    let (type2, data) = type2_twice(&lab, dir.path());
    let kws = model("keyword_spotting.tflite");
    let raw = &type2["first"]["raw_output"];
    // The outputs equal a local run of the same benchmark.
    let local = dir.path().join("local");
    crate::support::bench_ok(
        &local,
        &[
            "--engine",
            "micro",
            "--model",
            path(&kws),
            "--dataset",
            path(&data),
        ],
    );
    let expected = std::fs::read(local.join("raw_output.bin")).unwrap();
    assert_eq!(
        hex::decode(raw.as_str().unwrap()).unwrap(),
        expected,
        "the lab's raw output equals vlab bench's"
    );
    assert!(
        type2["name"]
            .as_str()
            .unwrap()
            .starts_with("kws-samples.bin_")
    );
    assert_eq!(type2["deleted"], true);
    assert_eq!(type2["after_delete"], serde_json::json!([]));

    // A model by reference (the urlencoded submission).
    let by_ref = lab.client(ALICE, "by_reference", &["host", "micro", path(&kws)]);
    assert_eq!(by_ref["status"], "success", "{by_ref:#}");
    assert_eq!(by_ref["models"]["models"][0]["model"], by_ref["ref"]);

    // A job that fails: not a model at all.
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"this is not a model").unwrap();
    let failed = lab.client(ALICE, "run", &["host", "tract", path(&junk)]);
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let error_log = failed["error_log"].as_str().unwrap();
    assert!(error_log.contains("junk"), "{error_log}");
    assert!(
        !error_log.contains(path(dir.path())),
        "no host paths: {error_log}"
    );

    // Delete.
    let deleted = lab.client(ALICE, "delete", &["host", "micro", path(&kws)]);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["status_after"], Value::Null);

    // Bob sees none of Alice's benchmarks and cannot delete them.
    let id = type1["id"].as_str().unwrap();
    let bob = lab.client(BOB, "peek", &[id]);
    assert_eq!(bob["status"], Value::Null);
    assert_eq!(bob["info"], Value::Null);
    assert_eq!(bob["report"], Value::Null);
    assert_eq!(bob["deleted"], false);
    assert_eq!(bob["listed"]["total"], 0);
    let alice = Http::login(&lab, ALICE);
    assert_eq!(alice.get(&format!("/api/benchmarks/{id}/status")).0, 200);
    lab.stop();
}

#[test]
fn the_python_client_runs_a_benchmark_on_the_emulated_board() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure(dir.path(), "[[targets]]\nname = \"qemu-mps2-an385\"\n");
    let lab = LabServer::start(dir.path());
    let tiny = model("tiny_cnn.tflite");
    let run = lab.client(
        ALICE,
        "run",
        &["qemu-mps2-an385", "micro", path(&tiny), "10"],
    );
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["report"]["target"], "qemu-mps2-an385");
    assert_eq!(run["report"]["nb_infernece"], 10);
    assert_eq!(run["info"]["target_uid"], "qemu-mps2-an385-0");
    assert!(!run["user_log"].as_str().unwrap().is_empty());
    lab.stop();
}

/// The first Python block of docs/lab.md.
fn docs_snippet() -> String {
    let docs = std::fs::read_to_string(root().join("docs/lab.md")).unwrap();
    let start = docs
        .find("```python\n")
        .expect("docs/lab.md has a Python block")
        + 10;
    let end = start + docs[start..].find("```").unwrap();
    docs[start..end].to_owned()
}

#[test]
fn the_python_snippet_in_docs_lab_md_runs_as_written() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    // No targets: the lab's defaults, the emulated board and the host.
    LabServer::configure(dir.path(), "");
    let lab = LabServer::start(dir.path());
    let work = dir.path().join("user");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(lab.setup(ALICE), work.join("setup.yaml")).unwrap();
    std::os::unix::fs::symlink(root().join("models"), work.join("models")).unwrap();
    // Two samples of light_squeezenet's 1x3x224x224 float32 input.
    let samples: Vec<u8> = (0..2 * 3 * 224 * 224)
        .flat_map(|i| ((i % 255) as f32 / 255.0).to_le_bytes())
        .collect();
    std::fs::write(work.join("samples.bin"), samples).unwrap();
    let script = format!("{}print('raw_output bytes', len(raw))\n", docs_snippet());
    let stdout = client_python(&["-c", &script], &work);
    // The board's latency statistics, its user log, and 2 x 1000 float32
    // class scores from the host.
    assert!(stdout.contains("'mean'"), "{stdout}");
    assert!(stdout.contains("qemu-mps2-an385"), "{stdout}");
    assert!(stdout.contains("raw_output bytes 8000"), "{stdout}");
    lab.stop();
}

/// Uploads `model` as `user` and returns its reference.
pub fn upload(lab: &LabServer, user: (&str, &str), model: &Path) -> String {
    let out = lab.client(user, "upload", &[path(model)]);
    out["ref"].as_str().expect("a model reference").to_owned()
}

#[test]
fn twenty_jobs_on_two_targets_all_complete_and_a_board_never_runs_two() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure(
        dir.path(),
        "[[targets]]\nname = \"qemu-mps2-an385\"\n[[targets]]\nname = \"host\"\n",
    );
    let lab = LabServer::start(dir.path());
    let tiny = model("tiny_cnn.tflite");
    let users = [
        (ALICE, upload(&lab, ALICE, &tiny)),
        (BOB, upload(&lab, BOB, &tiny)),
    ];
    let clients: Vec<Http> = users.iter().map(|(u, _)| Http::login(&lab, *u)).collect();
    let mut ids = Vec::new();
    for i in 0..20 {
        let who = i % 2;
        let device = if i % 4 < 2 { "qemu-mps2-an385" } else { "host" };
        let (status, body) = clients[who].run(&[
            ("device", device),
            ("engine", "micro"),
            ("nb_inference", "5"),
            ("model_ref", users[who].1.as_str()),
        ]);
        assert_eq!(status, 200, "{body}");
        ids.push((who, body["id"].as_str().unwrap().to_owned()));
    }
    let mut infos = Vec::new();
    for (who, client) in clients.iter().enumerate() {
        let mine: Vec<String> = ids
            .iter()
            .filter(|(w, _)| *w == who)
            .map(|(_, id)| id.clone())
            .collect();
        infos.extend(client.wait_all(&mine, Duration::from_secs(900)));
    }
    assert!(infos.iter().all(|i| i["status"] == "success"), "{infos:#?}");
    for uid in ["qemu-mps2-an385-0", "host-0"] {
        let mut spans: Vec<(i128, i128)> = infos
            .iter()
            .filter(|i| i["target_uid"] == uid)
            .map(|i| (ms(&i["started_at"]), ms(&i["finished_at"])))
            .collect();
        assert_eq!(spans.len(), 10, "{uid}");
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "{uid} ran two jobs at once: {pair:?}"
            );
        }
    }
    lab.stop();
}

/// Waits until benchmark `id` runs its `attempt`-th time; returns the
/// process group of its `vlab job`.
fn wait_running(lab: &LabServer, http: &Http, id: &str, attempt: u64) -> i32 {
    let start = Instant::now();
    loop {
        let (_, info) = http.get(&format!("/api/benchmarks/{id}"));
        let pgid = std::fs::read_to_string(lab.dir.join(format!("data/jobs/{id}/job.pgid")));
        if info["status"] == "running"
            && info["attempts"] == attempt
            && let Ok(pgid) = pgid
        {
            return pgid.trim().parse().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{id} never ran: {info}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether group `pgid` has no running process within a few seconds
/// (a killed process takes a moment to go).
fn group_ends(pgid: i32) -> bool {
    let start = Instant::now();
    while group_alive(pgid) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Whether a process of group `pgid` still runs. Zombies do not count: a
/// killed server's children are reparented, and a container's init may
/// not reap them.
fn group_alive(pgid: i32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...
        let Some(after) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
            return false;
        };
        let fields: Vec<&str> = after.split(' ').collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

#[test]
fn a_server_killed_mid_queue_loses_nothing_and_reruns_a_running_job_once() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure(dir.path(), "[[targets]]\nname = \"qemu-mps2-an385\"\n");
    let lab = LabServer::start(dir.path());
    let kws = model("keyword_spotting.tflite");
    let model_ref = upload(&lab, ALICE, &kws);
    let http = Http::login(&lab, ALICE);
    // The first never ends on its own: it is interrupted twice.
    let ids: Vec<String> = ["100000", "20", "20"]
        .iter()
        .map(|nb| {
            let (status, body) = http.run(&[
                ("device", "qemu-mps2-an385"),
                ("engine", "micro"),
                ("nb_inference", nb),
                ("model_ref", model_ref.as_str()),
            ]);
            assert_eq!(status, 200, "{body}");
            body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let first = wait_running(&lab, &http, &ids[0], 1);
    lab.kill();
    assert!(group_alive(first), "the job outlives a killed server");

    // First restart: the running job is queued again, the queue kept.
    let lab = LabServer::start(dir.path());
    assert!(group_ends(first), "the restarted server stopped the orphan");
    let http = Http::login(&lab, ALICE);
    let second = wait_running(&lab, &http, &ids[0], 2);
    lab.kill();

    // Second restart while it runs again: now it fails, and says why.
    let lab = LabServer::start(dir.path());
    assert!(group_ends(second));
    let http = Http::login(&lab, ALICE);
    let infos = http.wait_all(&ids, Duration::from_secs(600));
    assert_eq!(infos[0]["status"], "failed", "{infos:#?}");
    assert_eq!(infos[1]["status"], "success", "{infos:#?}");
    assert_eq!(infos[2]["status"], "success", "{infos:#?}");
    let (code, _) = http.get(&format!("/api/benchmarks/{}/results", ids[1]));
    assert_eq!(code, 200);
    let errors = ureq_text(
        &lab,
        &http,
        &format!("/api/benchmarks/{}/error-log", ids[0]),
    );
    assert!(
        errors.contains("the lab server restarted while this benchmark ran"),
        "{errors}"
    );
    lab.stop();
}

fn ureq_text(lab: &LabServer, http: &Http, path: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(format!("{}{path}", lab.url))
        .header("Authorization", &format!("Bearer {}", http.token))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

#[test]
fn a_job_past_its_timeout_fails_and_bad_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure(
        dir.path(),
        "job_timeout_s = 2\nupload_limit_mib = 1\n[[targets]]\nname = \"host\"\n",
    );
    let lab = LabServer::start(dir.path());
    let squeezenet = model("light_squeezenet.onnx");
    let timed_out = lab.client(
        ALICE,
        "run",
        &["host", "tract", path(&squeezenet), "1000000"],
    );
    assert_eq!(timed_out["status"], "failed", "{timed_out:#}");
    let log = timed_out["error_log"].as_str().unwrap();
    assert!(log.contains("job timeout (2 s)"), "{log}");

    let http = Http::login(&lab, ALICE);
    // A job process that dies: failed, with an error.log that says how.
    let squeezenet_ref = upload(&lab, ALICE, &squeezenet);
    let (status, body) = http.run(&[
        ("device", "host"),
        ("engine", "tract"),
        ("nb_inference", "1000000"),
        ("model_ref", &squeezenet_ref),
    ]);
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let pgid = wait_running(&lab, &http, &id, 1);
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let info = &http.wait_all(std::slice::from_ref(&id), Duration::from_secs(60))[0];
    assert_eq!(info["status"], "failed", "{info}");
    let errors = ureq_text(&lab, &http, &format!("/api/benchmarks/{id}/error-log"));
    assert!(
        errors.contains("killed by signal 9") && errors.contains("without delivering a report"),
        "{errors}"
    );

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    // No token, and someone else's token on a job's artifact endpoint.
    let open = agent
        .get(format!("{}/api/benchmarks", lab.url))
        .call()
        .unwrap();
    assert_eq!(open.status(), 401);
    let id = timed_out["id"].as_str().unwrap();
    let forged = agent
        .put(format!("{}/jobs/{id}/artifacts/report.json", lab.url))
        .header("Authorization", &format!("Bearer {}", http.token))
        .send("{}")
        .unwrap();
    assert_eq!(forged.status(), 401);
    // A wrong password.
    let wrong = agent
        .post(format!("{}/api/users/login", lab.url))
        .send_json(serde_json::json!({ "email": ALICE.0, "password": "guess" }))
        .unwrap();
    assert_eq!(wrong.status(), 401);
    // An upload over the limit: 413, and nothing stored.
    let boundary = "vlabboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"model\"; filename=\"big.onnx\"\r\n\r\n"
    )
    .into_bytes();
    // 1.5 MiB: over the 1 MiB limit, within what the server reads and
    // drops before answering, so the 413 always reaches the client.
    body.extend(std::iter::repeat_n(7u8, 3 << 19));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let mut big = agent
        .post(format!(
            "{}/api/models/download?platform=user_models&resource_identifier",
            lab.url
        ))
        .header("Authorization", &format!("Bearer {}", http.token))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .unwrap();
    assert_eq!(big.status(), 413);
    let text = big.body_mut().read_to_string().unwrap();
    assert!(text.contains("limit of 1 MiB"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/tmp"))
            .unwrap()
            .count(),
        0
    );
    let models = http.get("/api/models/list").1;
    assert!(
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["file_name"] != "big.onnx"),
        "{models}"
    );
    // A target no one offers, and an engine the target lacks: 400 with why.
    let tiny = upload(&lab, ALICE, &model("tiny_cnn.tflite"));
    let (status, body) = http.run(&[
        ("device", "rpi5"),
        ("engine", "micro"),
        ("model_ref", &tiny),
    ]);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "this lab has no target rpi5 (it has host)");
    let (status, body) = http.run(&[
        ("device", "host"),
        ("engine", "micro"),
        ("model_ref", "nope"),
    ]);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "model_ref nope is not one of your models");
    lab.stop();
}

#[test]
fn a_bad_lab_config_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lab.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\njob_timeout = 5\n").unwrap();
    let output = crate::support::vlab(&["lab", "serve", "--config", path(&config)]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lab.toml: line 2: unknown field `job_timeout`"),
        "{stderr}"
    );

    std::fs::write(&config, "[[targets]]\nname = \"no-such-board\"\n").unwrap();
    let output = crate::support::vlab(&["lab", "serve", "--config", path(&config)]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("target no-such-board"), "{stderr}");

    let mut add = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args([
            "lab",
            "add-user",
            "--config",
            path(&config),
            "--email",
            "x@lab",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "short").unwrap();
    let output = add.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 8 characters"));
}
