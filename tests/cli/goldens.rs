//! Conformance of engine `micro` with TFLite Micro: the outputs of every
//! model in tests/goldens/manifest.json, on the inputs TFLite Micro ran
//! (scripts/goldens.sh), through the real `vlab bench --engine micro`.
//! int8 outputs must be bit-exact; float32 outputs must agree within 1e-5
//! relative (plus 1e-7 absolute, for values that are zero in one of them).
//! The int8 models with convolutions also run on both emulated boards'
//! firmware, whose kernels are the Cortex-M ones.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{bench_ok, json, qemu_firmware, reference_dir, root};

/// Where a golden model is: fetched, written by op_models.py, or MLPerf
/// Tiny reference data ([`reference_dir`]); `None` when it is not on this
/// machine.
fn model_path(name: &str) -> Option<PathBuf> {
    [
        root().join("models").join(name),
        root().join("tests/goldens/ops").join(name),
        reference_dir().join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn sha256(path: &PathBuf) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn micro_engine_matches_tflite_micro_goldens() {
    let manifest = json(&root().join("tests/goldens/manifest.json"));
    let models = manifest["models"].as_object().unwrap();
    assert!(
        models.len() >= 9,
        "goldens for every fetched and MLPerf Tiny model"
    );
    let mut failures = Vec::new();
    for (name, entry) in models {
        failures.extend(check(name, entry, &["--engine", "micro"]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The int8 models with convolutions whose goldens also run on the
/// emulated boards' firmware builds, whose kernels are the Cortex-M3's
/// (AN385) and the Cortex-M4's DSP ones (AN386), not the host's.
const ON_BOARDS: &[&str] = &[
    "ad01_int8.tflite",
    "anomaly_detection.tflite",
    "keyword_spotting.tflite",
    "kws_ref_model.tflite",
    "tflite_micro_speech.tflite",
    "tiny_cnn.tflite",
    "image_classification.tflite",
    "pretrainedResnet_quant.tflite",
];

/// The float32 convolution models whose goldens also run on the
/// Cortex-M4F's firmware (AN386), whose float kernels sum with the FPU's
/// VFMA; a Cortex-M3 without FPU would take minutes an inference.
const ON_FPU: &[&str] = &["pretrainedResnet.tflite"];

#[test]
fn board_builds_match_tflite_micro_goldens() {
    qemu_firmware();
    let manifest = json(&root().join("tests/goldens/manifest.json"));
    let boards = root().join("boards");
    let mut failures = Vec::new();
    let runs = ON_BOARDS
        .iter()
        .map(|name| (name, &["qemu-mps2-an385", "qemu-mps2-an386"][..]))
        .chain(ON_FPU.iter().map(|name| (name, &["qemu-mps2-an386"][..])));
    for (name, on) in runs {
        let entry = &manifest["models"][*name];
        assert!(entry.is_object(), "{name} has goldens");
        for board in on {
            let args = ["--board", board, "--boards-dir", boards.to_str().unwrap()];
            failures.extend(
                check(name, entry, &args)
                    .into_iter()
                    .map(|f| format!("{board}: {f}")),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `vlab bench` with `target` on golden `name`'s inputs and returns
/// how its outputs differ from TFLite Micro's (nothing when the model is
/// not on this machine).
fn check(name: &str, entry: &Value, target: &[&str]) -> Vec<String> {
    let goldens = root().join("tests/goldens");
    let Some(model) = model_path(name) else {
        eprintln!("skipped {name}: not on this machine (models/fetch.sh, VLAB_REFERENCE_DATA)");
        return Vec::new();
    };
    assert_eq!(
        sha256(&model),
        entry["sha256"].as_str().unwrap(),
        "{name}: the goldens are for another file"
    );
    let out = tempfile::tempdir().unwrap();
    let inputs = goldens.join(format!("{name}.inputs.bin"));
    let mut args = target.to_vec();
    args.extend([
        "--model",
        model.to_str().unwrap(),
        "--dataset",
        inputs.to_str().unwrap(),
        "--warmup",
        "0",
    ]);
    bench_ok(out.path(), &args);
    let got = std::fs::read(out.path().join("raw_output.bin")).unwrap();
    let want = std::fs::read(goldens.join(format!("{name}.outputs.bin"))).unwrap();
    assert_eq!(got.len(), want.len(), "{name}: output size");
    // Every output of a sample, in order (older entries: one output).
    let layout: Vec<(String, usize)> = match entry["outputs"].as_array() {
        Some(outs) => outs
            .iter()
            .map(|o| {
                let bytes = o["bytes"].as_u64().unwrap() as usize;
                (o["dtype"].as_str().unwrap().to_owned(), bytes)
            })
            .collect(),
        None => vec![(
            entry["output_dtype"].as_str().unwrap().to_owned(),
            want.len() / entry["samples"].as_u64().unwrap() as usize,
        )],
    };
    let floats = |b: &[u8]| {
        b.chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect::<Vec<_>>()
    };
    let mut failures = Vec::new();
    let (mut at, mut differing) = (0, 0);
    while at < want.len() {
        for (dtype, n) in &layout {
            let (g, w) = (&got[at..at + n], &want[at..at + n]);
            if dtype == "float32" {
                for (i, (g, w)) in floats(g).iter().zip(floats(w)).enumerate() {
                    if !floats_agree(*g, w) {
                        failures.push(format!(
                            "{name}: float output {}: micro {g}, TFLite Micro {w}",
                            at / 4 + i
                        ));
                    }
                }
            } else {
                differing += g.iter().zip(w).filter(|(g, w)| g != w).count();
            }
            at += n;
        }
    }
    if differing > 0 {
        failures.push(format!(
            "{name}: {differing} of {} output bytes differ from TFLite Micro",
            want.len()
        ));
    }
    let report: Value = json(&out.path().join("report.json"));
    assert_eq!(report["nb_infernece"], entry["samples"]);
    failures
}

/// Whether a float output agrees with TFLite Micro's: within 1e-5 relative
/// (plus 1e-7 absolute), NaN where it is NaN, the same infinity.
fn floats_agree(got: f32, want: f32) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    got == want || (got - want).abs() <= 1e-5 * want.abs() + 1e-7
}
