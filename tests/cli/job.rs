//! `vlab job`: the pipeline's environment contract, end to end on the host
//! target, delivering to a real HTTP server on loopback (tests/cli/api.rs).

use std::path::Path;
use std::process::{Command, Output};

use crate::api::Api;
use crate::support::{json, model};

/// Runs `vlab job` with exactly `vars` (plus PATH and the engines' library
/// variables of this process) in the job folder `workdir`.
fn job(workdir: &Path, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vlab"));
    command.arg("job").env_clear().env("VLAB_WORKDIR", workdir);
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(vars.iter().copied()).output().unwrap()
}

#[test]
fn a_type1_job_on_the_host_writes_the_contract_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        model("keyword_spotting.tflite"),
        dir.path().join("kws-2026-11-22T10-00-00.tflite"),
    )
    .unwrap();
    let output = job(
        dir.path(),
        &[
            ("TARGET", "host"),
            ("RUNTIME", "tract"),
            ("BENCHMARK_TYPE", "TYPE1"),
            ("NB_INFERENCE", "10"),
            ("MODEL_FILENAME", "kws-2026-11-22T10-00-00.tflite"),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("output");
    let report = json(&out.join("report.json"));
    assert_eq!(report["benchmark_type"], "TYPE1");
    assert_eq!(report["nb_infernece"], 10);
    assert_eq!(report["model_file_name"], "kws-2026-11-22T10-00-00.tflite");
    assert!(out.join("user.log").is_file());
    assert!(out.join("error.log").is_file());
    assert!(!out.join("raw_output.bin").exists());
}

#[test]
fn a_type2_job_writes_raw_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        model("keyword_spotting.tflite"),
        dir.path().join("kws.tflite"),
    )
    .unwrap();
    std::fs::write(dir.path().join("data.bin"), vec![0u8; 3 * 2000]).unwrap();
    let output = job(
        dir.path(),
        &[
            ("TARGET", "host"),
            ("RUNTIME", "micro"),
            ("BENCHMARK_TYPE", "TYPE2"),
            ("MODEL_FILENAME", "kws.tflite"),
            ("DATASET_FILENAME", "data.bin"),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("output");
    assert_eq!(json(&out.join("report.json"))["nb_infernece"], 3);
    assert_eq!(
        std::fs::metadata(out.join("raw_output.bin")).unwrap().len(),
        3 * 12 * 4
    );
}

#[test]
fn a_job_with_missing_variables_lists_all_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = job(dir.path(), &[("BENCHMARK_TYPE", "TYPE1")]);
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(dir.path().join("output/error.log")).unwrap();
    for missing in [
        "TARGET is not set",
        "RUNTIME is not set",
        "MODEL_FILENAME is not set",
        "NB_INFERENCE is not set (TYPE1 needs it)",
    ] {
        assert!(log.contains(missing), "{log}");
    }
}

#[test]
fn a_type3_job_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = job(
        dir.path(),
        &[
            ("TARGET", "host"),
            ("RUNTIME", "tract"),
            ("BENCHMARK_TYPE", "TYPE3"),
            ("MODEL_FILENAME", "m.tflite"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let log = std::fs::read_to_string(dir.path().join("output/error.log")).unwrap();
    assert!(
        log.contains("TYPE3 (on-device training) is not supported"),
        "{log}"
    );
}

/// The variables of a TYPE1 host job on keyword_spotting in `dir`.
fn kws_job(dir: &Path) -> Vec<(&'static str, &'static str)> {
    std::fs::copy(model("keyword_spotting.tflite"), dir.join("kws.tflite")).unwrap();
    vec![
        ("TARGET", "host"),
        ("RUNTIME", "tract"),
        ("BENCHMARK_TYPE", "TYPE1"),
        ("NB_INFERENCE", "5"),
        ("MODEL_FILENAME", "kws.tflite"),
        ("VLAB_JOB_ID", "j1"),
    ]
}

#[test]
fn a_job_delivers_exactly_its_artifacts_with_the_token() {
    let api = Api::start(0);
    let dir = tempfile::tempdir().unwrap();
    let url = api.url();
    let mut vars = kws_job(dir.path());
    vars.extend([("VLAB_API_URL", url.as_str()), ("VLAB_API_TOKEN", "s3cret")]);
    let output = job(dir.path(), &vars);
    assert!(output.status.success(), "{output:?}");
    let seen = api.seen.lock().unwrap();
    let names: Vec<&str> = seen.stored.keys().map(String::as_str).collect();
    assert_eq!(names, ["error.log", "report.json", "user.log"]);
    for (name, bytes) in &seen.stored {
        assert_eq!(
            bytes,
            &std::fs::read(dir.path().join("output").join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(seen.requests.len(), 3);
    assert!(
        seen.requests
            .iter()
            .all(|(job, _, auth, _)| job == "j1" && auth.as_deref() == Some("Bearer s3cret"))
    );
}

#[test]
fn a_job_retries_until_the_api_accepts() {
    let api = Api::start(2);
    let dir = tempfile::tempdir().unwrap();
    let url = api.url();
    let mut vars = kws_job(dir.path());
    vars.push(("VLAB_API_URL", url.as_str()));
    let output = job(dir.path(), &vars);
    assert!(output.status.success(), "{output:?}");
    let seen = api.seen.lock().unwrap();
    let statuses: Vec<u16> = seen.requests.iter().map(|r| r.3).collect();
    // report.json: 500, 500, then accepted; the others at once. Each stored once.
    assert_eq!(statuses, [500, 500, 201, 201, 201]);
    assert_eq!(seen.stored.len(), 3);
}

#[test]
fn an_unreachable_api_keeps_the_artifacts_and_exits_3() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let mut vars = kws_job(dir.path());
    vars.extend([
        ("VLAB_API_URL", url.as_str()),
        ("VLAB_API_TOKEN", "s3cret"),
        ("VLAB_DELIVERY_DEADLINE", "2"),
    ]);
    let output = job(dir.path(), &vars);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let out = dir.path().join("output");
    assert!(out.join("report.json").is_file());
    assert!(out.join("user.log").is_file());
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(
        log.contains("delivering report.json failed after")
            && log.contains("connection refused")
            && log.contains("the artifacts are kept in the output folder"),
        "{log}"
    );
    // error.log hygiene: no token, no internal address, no host path.
    assert!(!log.contains("s3cret"), "{log}");
    assert!(
        !log.contains("127.0.0.1") && !log.contains(&port.to_string()),
        "{log}"
    );
    assert!(!log.contains(dir.path().to_str().unwrap()), "{log}");
}

#[test]
fn a_type2_job_on_the_emulated_board_delivers_its_raw_output() {
    crate::support::qemu_firmware();
    let api = Api::start(0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        model("keyword_spotting.tflite"),
        dir.path().join("kws.tflite"),
    )
    .unwrap();
    let samples: Vec<u8> = (0..2 * 500)
        .flat_map(|i| ((i % 11) as f32 / 11.0 - 0.5).to_le_bytes())
        .collect();
    std::fs::write(dir.path().join("data.bin"), &samples).unwrap();
    let boards = crate::support::root().join("boards");
    let url = api.url();
    let output = job(
        dir.path(),
        &[
            ("TARGET", "qemu-mps2-an385"),
            ("RUNTIME", "micro"),
            ("BENCHMARK_TYPE", "TYPE2"),
            ("MODEL_FILENAME", "kws.tflite"),
            ("DATASET_FILENAME", "data.bin"),
            ("VLAB_BOARDS_DIR", boards.to_str().unwrap()),
            ("VLAB_API_URL", url.as_str()),
            ("VLAB_JOB_ID", "board-1"),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let seen = api.seen.lock().unwrap();
    let names: Vec<&str> = seen.stored.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["error.log", "raw_output.bin", "report.json", "user.log"]
    );
    assert_eq!(seen.stored["raw_output.bin"].len(), 2 * 12 * 4);
    let report: serde_json::Value = serde_json::from_slice(&seen.stored["report.json"]).unwrap();
    assert_eq!(report["target"], "qemu-mps2-an385");
    assert_eq!(report["nb_infernece"], 2);
}
