//! The stand-in answers as Nomad would for the lab's subset of the API,
//! and a dispatched job runs for real: its artifact fetched over HTTP, its
//! template rendered into its environment, its process stopped on DELETE.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use super::NomadStandin;

const TOKEN: &str = "the-nomad-token";

/// `method` `url` with `body` and the `X-Nomad-Token` `token`: the status
/// and the body, whatever the status.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = token.unwrap_or("");
    let response = match method {
        "POST" => agent
            .post(url)
            .header("X-Nomad-Token", token)
            .send_json(body.unwrap_or(json!({}))),
        "DELETE" => agent.delete(url).header("X-Nomad-Token", token).call(),
        _ => agent.get(url).header("X-Nomad-Token", token).call(),
    };
    let mut response = response.unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// GETs `url` expecting 200 and JSON.
fn get_json(url: &str) -> Value {
    let (status, body) = call("GET", url, None, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The meta the lab sends, with `files_url`.
fn meta(files_url: &str) -> Value {
    json!({
        "model": "model.tflite",
        "files_url": files_url,
        "engine": "tract",
        "benchmark_type": "TYPE1",
        "job_id": "j1",
    })
}

/// Dispatches `parent` with `meta` (no token), expecting success: the
/// dispatched job's id.
fn dispatch(nomad: &NomadStandin, parent: &str, meta: Value) -> String {
    let url = format!("{}/v1/job/{parent}/dispatch", nomad.url());
    let (status, body) = call("POST", &url, None, Some(json!({ "Meta": meta })));
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert!(reply["EvalID"].as_str().is_some_and(|id| id.len() == 36));
    reply["DispatchedJobID"].as_str().unwrap().to_owned()
}

/// The URL of dispatched job `id`, its slash percent-encoded as clients do.
fn job_url(nomad: &NomadStandin, id: &str) -> String {
    format!("{}/v1/job/{}", nomad.url(), id.replace('/', "%2F"))
}

/// Polls `check` until it gives a value; fails after 30 s.
fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for job `id` to be dead: the job and its one allocation.
fn dead(nomad: &NomadStandin, id: &str) -> (Value, Value) {
    let job = until("the job to end", || {
        let job = get_json(&job_url(nomad, id));
        (job["Status"] == "dead").then_some(job)
    });
    let allocs = get_json(&format!("{}/allocations", job_url(nomad, id)));
    assert_eq!(allocs.as_array().unwrap().len(), 1, "{allocs}");
    (job, allocs[0].clone())
}

/// The types of the `vlab` task's events.
fn event_types(alloc: &Value) -> Vec<&str> {
    alloc["TaskStates"]["vlab"]["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Type"].as_str().unwrap())
        .collect()
}

/// An executable shell script running `body`.
fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("task.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A server on loopback answering `/files/j1/job.tar.gz` with a tar.gz of
/// job.env and model.tflite, as the lab's API does; 404 for anything else.
fn files_server() -> SocketAddr {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    let entries: [(&str, &[u8]); 2] = [
        (
            "job.env",
            b"VLAB_API_URL=http://lab.invalid\nVLAB_API_TOKEN=the-job-token\n",
        ),
        ("model.tflite", b"not really a model"),
    ];
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, name, bytes).unwrap();
    }
    let tar_gz = archive.into_inner().unwrap().finish().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new().route("/files/j1/job.tar.gz", get(move || async { tar_gz }));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

#[test]
fn the_nomad_standin_checks_tokens_jobs_and_meta_as_nomad_does() {
    let nomad = NomadStandin::start(&["host"], Some(TOKEN), Path::new("/bin/true"), &[]);
    let url = nomad.url();
    let dispatch = format!("{url}/v1/job/vlab-benchmark-host/dispatch");
    let full = meta("http://127.0.0.1:9/files/j1/job.tar.gz");
    let with = |meta: Value| Some(json!({ "Meta": meta }));

    let denied = (403, "Permission denied".to_owned());
    assert_eq!(call("POST", &dispatch, None, with(full.clone())), denied);
    assert_eq!(
        call(
            "GET",
            &format!("{url}/v1/job/vlab-benchmark-host"),
            Some("wrong"),
            None
        ),
        denied
    );

    let post = |url: &str, body| call("POST", url, Some(TOKEN), body);
    let unknown = format!("{url}/v1/job/vlab-benchmark-nope/dispatch");
    assert_eq!(
        post(&unknown, with(full.clone())),
        (404, "job not found".to_owned())
    );
    let mut missing = full.clone();
    missing.as_object_mut().unwrap().remove("files_url");
    assert_eq!(
        post(&dispatch, with(missing)),
        (
            400,
            "Dispatch did not provide required meta keys: [files_url]".to_owned()
        )
    );
    let mut extra = full.clone();
    extra["foo"] = json!("bar");
    assert_eq!(
        post(&dispatch, with(extra)),
        (
            400,
            "Dispatch request included unpermitted metadata keys: [foo]".to_owned()
        )
    );
    let payload = Some(json!({ "Meta": full, "Payload": "aGk=" }));
    assert_eq!(post(&dispatch, payload).0, 400);

    let get = |path: &str| call("GET", &format!("{url}{path}"), Some(TOKEN), None);
    assert_eq!(get("/v1/job/vlab-benchmark-nope").0, 404);
    assert_eq!(
        get("/v1/job/vlab-benchmark-host%2Fdispatch-1-00000000").0,
        404
    );
    assert_eq!(get("/v1/nodes").0, 404);
    let (status, parent) = get("/v1/job/vlab-benchmark-host");
    assert_eq!(status, 200, "{parent}");
    let parent: Value = serde_json::from_str(&parent).unwrap();
    assert_eq!(parent["Meta"]["target"], "host");
    assert_eq!(parent["Meta"]["engine"], "micro");
    assert!(nomad.dispatched().is_empty());
}

#[test]
fn a_job_the_nomad_standin_dispatches_runs_as_the_job_file_says() {
    let files = files_server();
    let dir = tempfile::tempdir().unwrap();
    let program = script(
        dir.path(),
        "echo args=$*; echo cwd=$(pwd); ls; env; cat ../secrets/api.env",
    );
    let nomad = NomadStandin::start(
        &["host", "nucleo-l4r5zi"],
        None,
        &program,
        &[("VLAB_EXTRA", "extra")],
    );
    let files_url = format!("http://{files}/files/j1/job.tar.gz?expires=1&sig=abc");
    let id = dispatch(&nomad, "vlab-benchmark-host", meta(&files_url));
    assert!(id.starts_with("vlab-benchmark-host/dispatch-"), "{id}");

    let (job, alloc) = dead(&nomad, &id);
    let logs = nomad.logs(&id);
    assert_eq!(job["ParentID"], "vlab-benchmark-host");
    assert_eq!(job["Stop"], false);
    assert_eq!(job["Meta"]["target"], "host");
    assert_eq!(job["Meta"]["engine"], "tract");
    assert_eq!(job["Meta"]["nb_inference"], "100");
    assert_eq!(alloc["ClientStatus"], "complete", "{alloc}\n{logs}");
    assert_eq!(alloc["DesiredStatus"], "run");
    let task = &alloc["TaskStates"]["vlab"];
    assert_eq!(task["State"], "dead");
    assert_eq!(task["Failed"], false);
    let events = task["Events"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["Type"], "Terminated", "{alloc}");
    assert_eq!(last["ExitCode"], 0);
    assert!(event_types(&alloc).contains(&"Started"), "{alloc}");

    let line = |key: &str| {
        logs.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in\n{logs}"))
            .to_owned()
    };
    assert_eq!(line("args"), "job");
    assert_eq!(line("TARGET"), "host");
    assert_eq!(line("RUNTIME"), "tract");
    assert_eq!(line("NB_INFERENCE"), "100");
    assert_eq!(line("VLAB_JOB_ID"), "j1");
    assert_eq!(line("VLAB_API_TOKEN"), "the-job-token");
    assert_eq!(line("VLAB_EXTRA"), "extra");
    let workdir = line("VLAB_WORKDIR");
    assert!(workdir.ends_with("/vlab/local"), "{workdir}");
    assert_eq!(line("cwd"), workdir);
    assert!(logs.lines().any(|l| l == "model.tflite"), "{logs}");
    assert!(logs.lines().any(|l| l == "job.env"), "{logs}");

    let dispatched = nomad.dispatched();
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0].id, id);
    assert_eq!(dispatched[0].parent, "vlab-benchmark-host");
    assert_eq!(dispatched[0].meta["engine"], "tract");
    assert!(!dispatched[0].meta.contains_key("target"));

    // A files URL that answers 404 fails the task before it starts.
    let missing = format!("http://{files}/files/j2/job.tar.gz?expires=1&sig=abc");
    let id = dispatch(&nomad, "vlab-benchmark-nucleo-l4r5zi", meta(&missing));
    let (_, alloc) = dead(&nomad, &id);
    assert_eq!(alloc["ClientStatus"], "failed", "{alloc}");
    assert_eq!(alloc["TaskStates"]["vlab"]["Failed"], true);
    let types = event_types(&alloc);
    assert_eq!(types.last(), Some(&"Failed Artifact Download"), "{alloc}");
    assert!(!types.contains(&"Started"), "{alloc}");
    assert_eq!(nomad.logs(&id), "");
}

#[test]
fn deleting_a_job_the_nomad_standin_runs_stops_its_task() {
    let files = files_server();
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "echo started; sleep 60");
    let nomad = NomadStandin::start(&["host"], None, &program, &[]);
    let files_url = format!("http://{files}/files/j1/job.tar.gz");
    let id = dispatch(&nomad, "vlab-benchmark-host", meta(&files_url));
    let allocs = format!("{}/allocations", job_url(&nomad, &id));
    until("the task to start", || {
        let alloc = get_json(&allocs)[0].clone();
        (alloc["ClientStatus"] == "running" && nomad.logs(&id).contains("started")).then_some(())
    });
    assert_eq!(get_json(&job_url(&nomad, &id))["Status"], "running");

    let (status, body) = call("DELETE", &job_url(&nomad, &id), None, None);
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert!(reply["EvalID"].is_string() && reply["JobModifyIndex"].is_u64());
    let (job, alloc) = dead(&nomad, &id);
    assert_eq!(job["Stop"], true);
    assert_eq!(alloc["DesiredStatus"], "stop");
    assert_eq!(alloc["ClientStatus"], "complete", "{alloc}");
    let types = event_types(&alloc);
    assert_eq!(
        types[types.len() - 3..],
        ["Killing", "Terminated", "Killed"],
        "{alloc}"
    );
    // SIGTERM ended it, not the SIGKILL that follows the kill timeout.
    let events = alloc["TaskStates"]["vlab"]["Events"].as_array().unwrap();
    assert_eq!(events[events.len() - 2]["Signal"], 15, "{alloc}");

    let purge = format!("{}?purge=true", job_url(&nomad, &id));
    assert_eq!(call("DELETE", &purge, None, None).0, 200);
    assert_eq!(call("GET", &job_url(&nomad, &id), None, None).0, 404);
    assert_eq!(nomad.dispatched().len(), 1);
}

#[test]
fn dropping_the_nomad_standin_kills_its_tasks_and_stops_serving() {
    let files = files_server();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let program = script(dir.path(), "echo $$ > \"$VLAB_PID_FILE\"; exec sleep 60");
    let nomad = NomadStandin::start(
        &["host"],
        None,
        &program,
        &[("VLAB_PID_FILE", pid_file.to_str().unwrap())],
    );
    let url = nomad.url();
    let files_url = format!("http://{files}/files/j1/job.tar.gz");
    dispatch(&nomad, "vlab-benchmark-host", meta(&files_url));
    let pid: i32 = until("the task to write its pid", || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });
    let task = nix::unistd::Pid::from_raw(pid);
    assert!(nix::sys::signal::kill(task, None).is_ok());

    drop(nomad);
    until("the task to die", || {
        nix::sys::signal::kill(task, None).is_err().then_some(())
    });
    until("the server to stop", || {
        ureq::get(format!("{url}/v1/job/vlab-benchmark-host"))
            .call()
            .is_err()
            .then_some(())
    });
}
