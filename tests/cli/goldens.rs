//! Conformance of engine `micro` with TFLite Micro: the outputs of every
//! model in tests/goldens/manifest.json, on the inputs TFLite Micro ran
//! (scripts/goldens.sh), through the real `vlab bench --engine micro`.
//! int8 outputs must be bit-exact; float32 outputs must agree within 1e-5
//! relative (plus 1e-7 absolute, for values that are zero in one of them).

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{bench_ok, json, root};

fn model_path(name: &str) -> PathBuf {
    let fetched = root().join("models").join(name);
    if fetched.is_file() {
        return fetched;
    }
    let op_model = root().join("tests/goldens/ops").join(name);
    if op_model.is_file() {
        return op_model;
    }
    let shared = root().join("../shared/mlperf-tiny").join(name);
    assert!(
        shared.is_file(),
        "{name}: not in models/ (run models/fetch.sh) nor in ../shared/mlperf-tiny"
    );
    shared
}

fn sha256(path: &PathBuf) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn micro_engine_matches_tflite_micro_goldens() {
    let goldens = root().join("tests/goldens");
    let manifest = json(&goldens.join("manifest.json"));
    let models = manifest["models"].as_object().unwrap();
    assert!(
        models.len() >= 9,
        "goldens for every fetched and MLPerf Tiny model"
    );
    let mut failures = Vec::new();
    for (name, entry) in models {
        let model = model_path(name);
        assert_eq!(
            sha256(&model),
            entry["sha256"].as_str().unwrap(),
            "{name}: the goldens are for another file"
        );
        let out = tempfile::tempdir().unwrap();
        let inputs = goldens.join(format!("{name}.inputs.bin"));
        bench_ok(
            out.path(),
            &[
                "--engine",
                "micro",
                "--model",
                model.to_str().unwrap(),
                "--dataset",
                inputs.to_str().unwrap(),
                "--warmup",
                "0",
            ],
        );
        let got = std::fs::read(out.path().join("raw_output.bin")).unwrap();
        let want = std::fs::read(goldens.join(format!("{name}.outputs.bin"))).unwrap();
        assert_eq!(got.len(), want.len(), "{name}: output size");
        match entry["output_dtype"].as_str().unwrap() {
            "float32" => {
                let floats = |b: &[u8]| {
                    b.chunks(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                        .collect::<Vec<_>>()
                };
                for (i, (g, w)) in floats(&got).iter().zip(floats(&want)).enumerate() {
                    if (g - w).abs() > 1e-5 * w.abs() + 1e-7 {
                        failures.push(format!(
                            "{name}: float output {i}: micro {g}, TFLite Micro {w}"
                        ));
                    }
                }
            }
            _ => {
                let differing = got.iter().zip(&want).filter(|(g, w)| g != w).count();
                if differing > 0 {
                    failures.push(format!(
                        "{name}: {differing} of {} output bytes differ from TFLite Micro",
                        want.len()
                    ));
                }
            }
        }
        let report: Value = json(&out.path().join("report.json"));
        assert_eq!(report["nb_infernece"], entry["samples"]);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
