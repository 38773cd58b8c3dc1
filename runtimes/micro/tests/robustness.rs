//! vlab-micro on real and damaged models: hostile bytes give an error,
//! never a panic or a hang; load-time errors say what and where.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use vlab_micro::error::OpRef;
use vlab_micro::{Error, Interpreter, Model, Opcode, arena_bytes_required};

use support::{reference_data, root};

/// The fetched models and, where it is on this machine, the MLPerf Tiny
/// reference data's.
fn models() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = [Some(root().join("models")), reference_data()]
        .into_iter()
        .flatten()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
        .collect();
    all.sort();
    assert!(all.len() >= 5, "no models: run models/fetch.sh first");
    all
}

/// Parses, plans and prepares; runs one inference when everything loads.
fn load_and_run(bytes: &[u8]) -> Result<(), Error> {
    let model = Model::parse(bytes)?;
    let mut arena = vec![0u8; arena_bytes_required(&model)?];
    let mut interpreter = Interpreter::new(model, &mut arena)?;
    interpreter.invoke(&mut ())
}

/// How many damaged copies of a model to try: 300 for the small models,
/// fewer for models of more than 256 KiB, whose every load prepares and
/// runs megabytes (the test stays within seconds in CI).
fn cuts(bytes: &[u8]) -> usize {
    if bytes.len() <= 256 << 10 { 300 } else { 12 }
}

#[test]
fn every_truncation_of_every_model_is_an_error() {
    for path in models() {
        let bytes = std::fs::read(&path).unwrap();
        let step = (bytes.len() / cuts(&bytes)).max(1);
        for len in (0..bytes.len()).step_by(step) {
            // The tail of a file may hold only metadata; below 90% the weights are cut.
            let result = load_and_run(&bytes[..len]);
            assert!(
                len * 10 >= bytes.len() * 9 || result.is_err(),
                "{path:?} cut to {len} bytes loaded"
            );
        }
    }
}

#[test]
fn corrupted_models_never_panic() {
    // A fixed xorshift sequence: the same corruptions on every run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for path in models() {
        let original = std::fs::read(&path).unwrap();
        for _ in 0..cuts(&original) * 2 / 3 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let _ = load_and_run(&bytes);
        }
    }
}

#[test]
fn too_small_an_arena_says_how_much_is_needed() {
    let Some(reference) = reference_data() else {
        return;
    };
    let bytes = std::fs::read(reference.join("kws_ref_model.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let needed = arena_bytes_required(&model).unwrap();
    let mut arena = vec![0u8; needed - 1];
    let Err(err) = Interpreter::new(model, &mut arena) else {
        panic!("arena too small accepted")
    };
    assert_eq!(
        err,
        Error::ArenaTooSmall {
            needed,
            available: needed - 1,
            exact: true,
        }
    );
    assert!(err.to_string().contains(&format!("needs {needed} bytes")));
}

#[test]
fn unsupported_operators_are_named_with_their_index() {
    // Written by scripts/op_models.py: one GELU, which vlab-micro does not implement.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models/unsupported/gelu_f32.tflite");
    let bytes = std::fs::read(path).unwrap();
    let mut arena = vec![0u8; 1 << 20];
    let Err(err) = Interpreter::new(Model::parse(&bytes).unwrap(), &mut arena) else {
        panic!("GELU accepted")
    };
    assert!(
        matches!(
            err,
            Error::Unsupported {
                at: OpRef {
                    subgraph: 0,
                    index: 0,
                    op: Opcode(150),
                },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "operator 0 (GELU): unsupported: operator not implemented"
    );
}

#[test]
fn hybrid_models_run_on_dequantised_weights() {
    let Some(reference) = reference_data() else {
        return;
    };
    let bytes = std::fs::read(reference.join("kws_ref_model_float32.tflite")).unwrap();
    assert!(load_and_run(&bytes).is_ok());
}

#[test]
fn check_lists_every_problem_and_names_unsupported_types() {
    // Written by scripts/op_models.py: GELU on two COMPLEX64 tensors.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models/unsupported/gelu_complex64.tflite");
    let bytes = std::fs::read(path).unwrap();
    let model = Model::parse(&bytes).expect("a valid model, though unsupported");
    let mut problems = Vec::new();
    assert_eq!(
        vlab_micro::check(&model, |e| problems.push(e.to_string())),
        3
    );
    assert_eq!(
        problems,
        [
            "tensor 0 (\"x\") has type COMPLEX64, which vlab-micro does not support",
            "tensor 1 (\"y\") has type COMPLEX64, which vlab-micro does not support",
            "operator 0 (GELU): unsupported: operator not implemented",
        ]
    );
    let mut arena = vec![0u8; 1 << 16];
    let Err(err) = Interpreter::new(model, &mut arena) else {
        panic!("COMPLEX64 accepted")
    };
    assert!(
        matches!(
            err,
            Error::UnsupportedType {
                tensor: 0,
                dtype: "COMPLEX64",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_supported_model_has_no_problems() {
    for path in models() {
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let mut arena = vec![0u8; 8 << 20];
        if Interpreter::new(model, &mut arena).is_ok() {
            let mut problems = Vec::new();
            vlab_micro::check(&model, |e| problems.push(e));
            assert!(problems.is_empty(), "{path:?}: {problems:?}");
        }
    }
}

#[test]
fn detection_postprocess_refuses_what_tflite_micro_cannot_run() {
    // Written by scripts/op_models.py (scripts/op_cases/detection.py).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models/unsupported");
    for (name, what) in [
        (
            "detection_uint8",
            "inputs other than float32 (TFLite Micro decodes float32 only)",
        ),
        (
            "detection_fast_2_classes_per_box_f32",
            "fast suppression of several classes per box",
        ),
    ] {
        let bytes = std::fs::read(dir.join(format!("{name}.tflite"))).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let mut problems = Vec::new();
        vlab_micro::check(&model, |e| problems.push(e.to_string()));
        assert_eq!(
            problems,
            [format!("operator 0 (CUSTOM): unsupported: {what}")],
            "{name}"
        );
    }
}

#[test]
fn corrupted_detection_models_never_panic() {
    // Every byte of each TFLite_Detection_PostProcess model (its FlexBuffer
    // options included) set to a few values.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/goldens/ops");
    for name in ["detection_fast_f32", "detection_regular_f32"] {
        let original = std::fs::read(dir.join(format!("{name}.tflite"))).unwrap();
        for at in 0..original.len() {
            for v in [0x00, 0x01, 0x80, 0xff] {
                let mut bytes = original.clone();
                bytes[at] = v;
                let _ = load_and_run(&bytes);
            }
        }
    }
}
