//! Conformance of vlab-micro with TensorFlow Lite Micro, in the crate
//! itself: every model of tests/goldens/manifest.json runs on the inputs
//! TFLite Micro ran (scripts/goldens.sh). int8 (and every integer) output
//! must be bit-exact, float32 within 1e-5 relative (plus 1e-7 absolute for
//! values near zero). Stateful models see their samples in order, as one
//! stream, from a freshly loaded interpreter. The end-to-end counterpart,
//! through `vlab bench`, is tests/cli/goldens.rs.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use vlab_micro::{Interpreter, Model, arena_bytes_required};

use support::{reference_data, root};

/// Where a golden model is: fetched, written by op_models.py, or in the
/// MLPerf Tiny reference data (`reference`, where it is on this machine);
/// `None` when it is not on this machine.
fn model_path(name: &str, reference: Option<&Path>) -> Option<PathBuf> {
    [
        Some(root().join("models").join(name)),
        Some(root().join("tests/goldens/ops").join(name)),
        reference.map(|r| r.join(name)),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())
}

#[test]
fn every_golden_matches_tflite_micro() {
    let goldens = root().join("tests/goldens");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(goldens.join("manifest.json")).unwrap()).unwrap();
    let reference = reference_data();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, entry) in manifest["models"].as_object().unwrap() {
        let Some(path) = model_path(name, reference.as_deref()) else {
            eprintln!("skipped {name}: not on this machine (models/fetch.sh, VLAB_REFERENCE_DATA)");
            continue;
        };
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let size = match arena_bytes_required(&model) {
            Ok(size) => size,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut arena = vec![0u8; size];
        let mut it = match Interpreter::new(model, &mut arena) {
            Ok(it) => it,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let inputs = std::fs::read(goldens.join(format!("{name}.inputs.bin"))).unwrap();
        let want = std::fs::read(goldens.join(format!("{name}.outputs.bin"))).unwrap();
        let samples = entry["samples"].as_u64().unwrap() as usize;
        let n_in = model.inputs().count();
        let in_sizes: Vec<usize> = (0..n_in)
            .map(|i| it.input_info(i).unwrap().bytes())
            .collect();
        let n_out = model.outputs().count();
        let out_size: usize = (0..n_out).map(|i| it.output_info(i).unwrap().bytes()).sum();
        assert_eq!(
            inputs.len(),
            samples * in_sizes.iter().sum::<usize>(),
            "{name}: inputs"
        );
        assert_eq!(want.len(), samples * out_size, "{name}: outputs");
        let mut got = Vec::new();
        let mut at = 0;
        for _ in 0..samples {
            for (i, &n) in in_sizes.iter().enumerate() {
                it.input_mut(i)
                    .unwrap()
                    .copy_from_slice(&inputs[at..at + n]);
                at += n;
            }
            if let Err(e) = it.invoke(&mut ()) {
                failures.push(format!("{name}: {e}"));
                break;
            }
            for i in 0..n_out {
                got.extend_from_slice(it.output(i).unwrap());
            }
        }
        ran += 1;
        if got.len() != want.len() {
            continue;
        }
        // Every output of a sample, in order (older entries: one output).
        let layout: Vec<(String, usize)> = match entry["outputs"].as_array() {
            Some(outs) => outs
                .iter()
                .map(|o| {
                    (
                        o["dtype"].as_str().unwrap().to_owned(),
                        o["bytes"].as_u64().unwrap() as usize,
                    )
                })
                .collect(),
            None => vec![(entry["output_dtype"].as_str().unwrap().to_owned(), out_size)],
        };
        let (mut bad_floats, mut bad_bytes, mut at) = (0, 0, 0);
        for _ in 0..samples {
            for (dtype, n) in &layout {
                let (g, w) = (&got[at..at + n], &want[at..at + n]);
                at += n;
                if dtype == "float32" {
                    let floats = |b: &[u8]| -> Vec<f32> {
                        b.chunks(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                            .collect()
                    };
                    bad_floats += floats(g)
                        .iter()
                        .zip(floats(w))
                        .filter(|&(g, w)| !floats_agree(*g, w))
                        .count();
                } else {
                    bad_bytes += g.iter().zip(w).filter(|(g, w)| g != w).count();
                }
            }
        }
        if bad_floats > 0 {
            failures.push(format!(
                "{name}: {bad_floats} float outputs differ beyond 1e-5"
            ));
        }
        if bad_bytes > 0 {
            failures.push(format!(
                "{name}: {bad_bytes} of {} output bytes differ",
                want.len()
            ));
        }
    }
    assert!(ran > 0, "no golden model found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether a float output agrees with TFLite Micro's: within 1e-5 relative
/// (plus 1e-7 absolute), NaN where it is NaN, the same infinity.
fn floats_agree(got: f32, want: f32) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    got == want || (got - want).abs() <= 1e-5 * want.abs() + 1e-7
}
