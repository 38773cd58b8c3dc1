//! `vlab lab serve` on its Nomad backend, end to end: the lab dispatches
//! each benchmark to the job `deploy/nomad/vlab-benchmark.nomad.hcl`
//! registers for its target, and the dispatched job fetches its files from
//! the lab, runs the real `vlab job` and delivers its artifacts back.
//!
//! Nomad itself cannot be installed here, so its HTTP API is the stand-in
//! of [`crate::nomad_standin`], the one test double the project allows. It
//! runs a dispatched job as the job file says (artifact, template, env,
//! args), as a process instead of a container. Everything else is real:
//! the server, its SQLite store, the `daiedge-vlab` client, the engines.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lab::{ALICE, Http, LabServer, path, type2_twice, upload};
use crate::nomad_standin::{Dispatched, NomadStandin};
use crate::support::{model, root};

/// The ACL token the stand-in demands, as a secured cluster would.
const ACL: &str = "nomad-acl-token-7f3a";

fn standin() -> NomadStandin {
    let boards = root().join("boards");
    NomadStandin::start(
        &["host"],
        Some(ACL),
        Path::new(env!("CARGO_BIN_EXE_vlab")),
        &[("VLAB_BOARDS_DIR", boards.to_str().unwrap())],
    )
}

/// A lab on the host target whose backend is the stand-in at `nomad`.
fn nomad_lab(dir: &Path, nomad: &NomadStandin, token: &str) -> LabServer {
    LabServer::configure(
        dir,
        &format!(
            "[[targets]]\nname = \"host\"\n[backend]\nkind = \"nomad\"\naddress = \"{}\"\ntoken = \"{token}\"\npoll_s = 0.2\n",
            nomad.url()
        ),
    );
    LabServer::start(dir)
}

/// The stand-in's view of dispatched job `id`.
fn nomad_job(nomad: &NomadStandin, id: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(format!("{}/v1/job/{}", nomad.url(), id.replace('/', "%2F")))
        .header("X-Nomad-Token", ACL)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

#[test]
fn benchmarks_dispatched_to_nomad_run_the_job_file_and_deliver_back() {
    let nomad = standin();
    let dir = tempfile::tempdir().unwrap();
    let lab = nomad_lab(dir.path(), &nomad, ACL);

    // TYPE1 with tract, through the public client.
    let squeezenet = model("light_squeezenet.onnx");
    let type1 = lab.client(ALICE, "run", &["host", "tract", path(&squeezenet), "5"]);
    assert_eq!(type1["status"], "success", "{type1:#}");
    assert_eq!(type1["report"]["benchmark_type"], "TYPE1");
    assert_eq!(type1["report"]["nb_infernece"], 5);
    assert!(!type1["user_log"].as_str().unwrap().is_empty());

    let dispatched = nomad.dispatched();
    assert_eq!(dispatched.len(), 1);
    let job = &dispatched[0];
    assert_eq!(job.parent, "vlab-benchmark-host");
    assert_eq!(job.meta["job_id"], type1["id"].as_str().unwrap());
    assert_eq!(job.meta["engine"], "tract");
    assert_eq!(job.meta["benchmark_type"], "TYPE1");
    assert_eq!(job.meta["nb_inference"], "5");
    assert!(job.meta["model"].ends_with(".onnx"));
    assert!(
        job.meta["files_url"].starts_with(&format!("{}/files/", lab.url)),
        "{:?}",
        job.meta
    );
    // The job's token travels in the files archive, never in the meta.
    let keys: BTreeSet<&str> = job.meta.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "benchmark_type",
            "engine",
            "files_url",
            "job_id",
            "model",
            "nb_inference"
        ])
    );
    let logs = nomad.logs(&job.id);
    assert!(logs.contains("delivered report.json"), "{logs}");

    // TYPE2 with a dataset: the archive carries it, the outputs come back.
    type2_twice(&lab, dir.path());
    let type2_meta = &nomad.dispatched()[1].meta;
    assert_eq!(type2_meta["dataset"], "dataset.bin", "{type2_meta:?}");
    lab.stop();
}

/// Submits a TYPE1 tract benchmark that runs for minutes; its id.
fn long_benchmark(lab: &LabServer, http: &Http) -> String {
    let model_ref = upload(lab, ALICE, &model("light_squeezenet.onnx"));
    let (status, body) = http.run(&[
        ("device", "host"),
        ("engine", "tract"),
        ("nb_inference", "1000000"),
        ("model_ref", model_ref.as_str()),
    ]);
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Waits until the `nth` dispatch (from 0) of benchmark `id` runs.
fn wait_dispatch_running(nomad: &NomadStandin, id: &str, nth: usize) -> Dispatched {
    let start = Instant::now();
    loop {
        let mine: Vec<Dispatched> = nomad
            .dispatched()
            .into_iter()
            .filter(|j| j.meta["job_id"] == id)
            .collect();
        if let Some(job) = mine.get(nth)
            && nomad_job(nomad, &job.id)["Status"] == "running"
        {
            return job.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until Nomad job `id` was stopped and is dead.
fn wait_stopped(nomad: &NomadStandin, id: &str) {
    let start = Instant::now();
    loop {
        let job = nomad_job(nomad, id);
        if job["Status"] == "dead" && job["Stop"] == true {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not stopped: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_restarted_lab_stops_the_dispatch_it_left_and_dispatches_again() {
    let nomad = standin();
    let dir = tempfile::tempdir().unwrap();
    let lab = nomad_lab(dir.path(), &nomad, ACL);
    let http = Http::login(&lab, ALICE);
    let id = long_benchmark(&lab, &http);
    let first = wait_dispatch_running(&nomad, &id, 0);
    lab.kill();
    assert_eq!(nomad_job(&nomad, &first.id)["Status"], "running");

    let lab = LabServer::start(dir.path());
    wait_stopped(&nomad, &first.id);
    let second = wait_dispatch_running(&nomad, &id, 1);
    assert_ne!(second.id, first.id);
    let http = Http::login(&lab, ALICE);
    assert_eq!(http.get(&format!("/api/benchmarks/{id}")).1["attempts"], 2);
    assert_eq!(http.delete(&format!("/api/benchmarks/{id}")), 200);
    wait_stopped(&nomad, &second.id);
    lab.stop();
}

#[test]
fn deleting_a_running_benchmark_stops_its_nomad_job_and_a_refusal_is_explained() {
    let nomad = standin();
    let dir = tempfile::tempdir().unwrap();
    let lab = nomad_lab(dir.path(), &nomad, ACL);
    let http = Http::login(&lab, ALICE);
    let id = long_benchmark(&lab, &http);
    let dispatched = wait_dispatch_running(&nomad, &id, 0);
    assert_eq!(http.delete(&format!("/api/benchmarks/{id}")), 200);
    wait_stopped(&nomad, &dispatched.id);
    assert_eq!(http.get(&format!("/api/benchmarks/{id}")).0, 404);
    lab.stop();

    // A lab with the wrong ACL token: Nomad refuses, and the benchmark
    // fails with Nomad's words in its error.log.
    let dir = tempfile::tempdir().unwrap();
    let lab = nomad_lab(dir.path(), &nomad, "not-the-token");
    let refused = lab.client(
        ALICE,
        "run",
        &["host", "tract", path(&model("light_squeezenet.onnx")), "1"],
    );
    assert_eq!(refused["status"], "failed", "{refused:#}");
    let error_log = refused["error_log"].as_str().unwrap_or_default();
    assert!(
        error_log.contains("Nomad answered 403") && error_log.contains("Permission denied"),
        "{refused:#}"
    );
    lab.stop();
}
