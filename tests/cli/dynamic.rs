//! Dynamic inputs on TensorFlow Lite: a model whose input has
//! shape_signature [-1, -1] (and the placeholder shape [1, 1]) runs at the
//! shape `--input-shape` or a parameters file gives, and without one vlab
//! says which input is dynamic and how to set it.

use crate::support::{bench_ok, json, root, vlab};

fn dynamic_model() -> String {
    root()
        .join("tests/models/dynamic_relu_f32.tflite")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_dynamic_input_without_a_shape_names_the_input_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let model = dynamic_model();
    let output = vlab(&[
        "bench", "--engine", "tflite", "--model", &model, "--out", out,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // The batch dimension defaults to the 1 the model allocates; the other must be given.
    let expected = "error: input 'x' has dynamic shape 1x?; give it with --input-shape x:1xN \
                    or in a parameters file (docs/parameters.md)";
    assert!(stderr.trim_end().ends_with(expected), "{stderr}");
    let error_log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert_eq!(error_log.trim_end(), expected);
}

#[test]
fn input_shape_resizes_a_dynamic_input() {
    for xnnpack in ["on", "off"] {
        let dir = tempfile::tempdir().unwrap();
        let model = dynamic_model();
        bench_ok(
            dir.path(),
            &[
                "--engine",
                "tflite",
                "--xnnpack",
                xnnpack,
                "--model",
                &model,
                "--input-shape",
                "x:3x7",
                "--iterations",
                "5",
            ],
        );
        let report = json(&dir.path().join("vlab-report.json"));
        assert_eq!(report["inputs"][0]["shape"], serde_json::json!([3, 7]));
        assert_eq!(report["outputs"][0]["shape"], serde_json::json!([3, 7]));
    }
}

#[test]
fn a_parameters_file_sets_a_dynamic_shape() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.toml");
    std::fs::write(&params, "[inputs.x]\nshape = [2, 16]\n").unwrap();
    let out = dir.path().join("out");
    let model = dynamic_model();
    bench_ok(
        &out,
        &[
            "--engine",
            "tflite",
            "--model",
            &model,
            "--params",
            params.to_str().unwrap(),
            "--iterations",
            "3",
        ],
    );
    let report = json(&out.join("vlab-report.json"));
    assert_eq!(report["inputs"][0]["shape"], serde_json::json!([2, 16]));
}

#[test]
fn a_shape_that_contradicts_a_fixed_dimension_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let model = root().join("tests/goldens/ops/relu_f32.tflite");
    let output = vlab(&[
        "bench",
        "--engine",
        "tflite",
        "--model",
        model.to_str().unwrap(),
        "--input-shape",
        "x:1x8x8x3",
        "--out",
        out,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--input-shape x:1x8x8x3: the model declares input 'x' as 1x4x4x3"),
        "{stderr}"
    );
}
