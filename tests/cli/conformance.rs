//! Cross-engine conformance: the same model file on different engines gives
//! the same outputs, within the tolerances stated here and in
//! docs/engines.md. Each check runs TYPE2 on every engine and compares the
//! `raw_output.bin` files byte for byte or value by value.

use std::path::Path;

use crate::support::{bench_ok, f32_bytes, json, model, reference_data};

/// `raw_output.bin` of a TYPE2 run of `model` over `data` with each set of
/// engine arguments (`["--engine", "tflite", "--xnnpack", "off"]`).
fn dataset_outputs(dir: &Path, engines: &[&[&str]], model: &Path, data: &Path) -> Vec<Vec<u8>> {
    engines
        .iter()
        .enumerate()
        .map(|(i, engine)| {
            let out = dir.join(format!("run{i}"));
            let mut args = engine.to_vec();
            args.extend_from_slice(&[
                "--model",
                model.to_str().unwrap(),
                "--dataset",
                data.to_str().unwrap(),
                "--warmup",
                "0",
            ]);
            bench_ok(&out, &args);
            std::fs::read(out.join("raw_output.bin")).unwrap()
        })
        .collect()
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Largest absolute difference between two runs' float outputs.
fn worst_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

const TFLITE_XNNPACK: &[&str] = &["--engine", "tflite", "--xnnpack", "on"];
const TFLITE_REFERENCE: &[&str] = &["--engine", "tflite", "--xnnpack", "off"];
const MICRO: &[&str] = &["--engine", "micro"];
const TRACT: &[&str] = &["--engine", "tract"];

#[test]
fn ort_and_tract_agree_on_an_onnx_model() {
    let dir = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let data = dir.path().join("images.bin");
    let count = 2 * 3 * 224 * 224;
    std::fs::write(
        &data,
        f32_bytes((0..count).map(|i| ((i % 997) as f32 / 500.0) - 1.0)),
    )
    .unwrap();
    let outputs = dataset_outputs(
        dir.path(),
        &[&["--engine", "ort"], TRACT],
        &squeezenet,
        &data,
    );
    let (ort, tract) = (floats(&outputs[0]), floats(&outputs[1]));
    assert_eq!(ort.len(), 2 * 1000);
    // Softmax probabilities: the engines' kernels sum in different orders.
    let worst = worst_difference(&ort, &tract);
    assert!(worst < 1e-5, "ort and tract differ by {worst}");
}

#[test]
fn tflite_tract_and_micro_agree_on_a_float_resnet() {
    let Some(reference) = reference_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let resnet = reference.join("pretrainedResnet.tflite");
    // The float model takes the raw 0..255 pixel values as float32.
    let image = std::fs::read(reference.join("ic01_reference_inputs.uint8.bin")).unwrap();
    let data = dir.path().join("ic01.f32.bin");
    std::fs::write(&data, f32_bytes(image.iter().map(|&p| f32::from(p)))).unwrap();
    let engines = [TFLITE_XNNPACK, TFLITE_REFERENCE, TRACT, MICRO];
    let outputs: Vec<Vec<f32>> = dataset_outputs(dir.path(), &engines, &resnet, &data)
        .iter()
        .map(|bytes| floats(bytes))
        .collect();
    for (engine, output) in engines.iter().zip(&outputs) {
        assert_eq!(output.len(), 10, "{engine:?}");
        let class = output
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(class, 0, "{engine:?} picks class {class}: {output:?}");
        // Softmax probabilities; the kernels sum in different orders, and
        // XNNPACK uses fused multiply-adds.
        let worst = worst_difference(output, &outputs[3]);
        assert!(worst < 1e-5, "{engine:?} and micro differ by {worst}");
    }
}

#[test]
fn tflite_matches_tflite_micro_exactly_on_int8_mlperf_models() {
    let Some(reference) = reference_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // MLPerf Tiny kws01 and ic01, with the answers TFLite Micro gives
    // (../shared/mlperf-tiny/README.md).
    let kws_input = std::fs::read(reference.join("kws01_reference_inputs.int8.bin")).unwrap();
    let ic_input: Vec<u8> = std::fs::read(reference.join("ic01_reference_inputs.uint8.bin"))
        .unwrap()
        .iter()
        .map(|&p| p.wrapping_sub(128))
        .collect();
    let cases: [(&str, Vec<u8>, Vec<i8>); 2] = [
        (
            "kws_ref_model.tflite",
            kws_input,
            vec![
                -128, -128, -128, -128, -128, 127, -128, -128, -128, -128, -128, -128,
            ],
        ),
        (
            "pretrainedResnet_quant.tflite",
            ic_input,
            vec![-48, -128, -127, -108, -48, -127, -71, -125, -116, -127],
        ),
    ];
    for (i, (name, input, expected)) in cases.into_iter().enumerate() {
        let data = dir.path().join(format!("{name}.bin"));
        std::fs::write(&data, input).unwrap();
        let expected: Vec<u8> = expected.iter().map(|&q| q as u8).collect();
        let outputs = dataset_outputs(
            &dir.path().join(i.to_string()),
            &[TFLITE_XNNPACK, TFLITE_REFERENCE, MICRO],
            &reference.join(name),
            &data,
        );
        for output in &outputs {
            assert_eq!(output, &expected, "{name}");
        }
    }
}

#[test]
fn tflite_and_micro_agree_exactly_on_keyword_spotting() {
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let data = dir.path().join("kws.bin");
    std::fs::write(
        &data,
        f32_bytes((0..3 * 500).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)),
    )
    .unwrap();
    let outputs = dataset_outputs(
        dir.path(),
        &[TFLITE_XNNPACK, TFLITE_REFERENCE, MICRO],
        &kws,
        &data,
    );
    assert_eq!(outputs[0].len(), 3 * 12 * 4);
    assert_eq!(outputs[0], outputs[2], "tflite (XNNPACK) and micro differ");
    assert_eq!(
        outputs[1], outputs[2],
        "tflite (reference) and micro differ"
    );
    let report = json(&dir.path().join("run0/report.json"));
    assert_eq!(report["inference_engine"], "tflite 2.17.1");
}
