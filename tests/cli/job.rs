//! `vlab job`: the pipeline's environment contract, end to end on the host
//! target. (Delivery to the lab's API is issue 6's next part.)

use std::path::Path;
use std::process::{Command, Output};

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
