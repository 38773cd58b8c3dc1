//! `--per-layer` on every engine that times operators: ONNX Runtime's own
//! profiler, tract's per-node evaluation hook and TensorFlow Lite's
//! telemetry profiler give the same table and chart as micro.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{bench_ok, json, model};

/// Runs `vlab bench --per-layer` with `args` and checks what every
/// per-layer table must hold: rows in execution order, times that are
/// real (positive, median at least the minimum) and shares that add up to
/// 100%, the same rows in the text summary and a per-layer chart in
/// report.html. Returns the operators, in order.
fn per_layer(out: &Path, args: &[&str]) -> Vec<String> {
    per_layer_at(out, args, 1.0)
}

/// [`per_layer`] where an operator's time may be 0 below `resolution_ns`:
/// XNNPACK times its own operators in whole microseconds.
fn per_layer_at(out: &Path, args: &[&str], resolution_ns: f64) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--iterations", "5", "--per-layer"]);
    let output = bench_ok(out, &all);
    let report = json(&out.join("vlab-report.json"));
    let layers = report["layers"].as_array().expect("a per-layer table");
    assert!(!layers.is_empty());
    for (i, layer) in layers.iter().enumerate() {
        assert_eq!(layer["index"].as_u64(), Some(i as u64), "{layer}");
        let (median, min) = (number(layer, "median_ns"), number(layer, "min_ns"));
        assert!(
            min > 0.0 || resolution_ns > 1.0,
            "every operator takes time: {layer}"
        );
        assert!(median >= min, "{layer}");
    }
    let share: f64 = layers.iter().map(|l| number(l, "share_percent")).sum();
    assert!((share - 100.0).abs() < 1e-6, "shares add up to {share}%");
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    let ops: Vec<String> = layers
        .iter()
        .map(|l| l["op"].as_str().unwrap().to_owned())
        .collect();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = html
        .split("<section id=\"layers\">")
        .nth(1)
        .expect("report.html has the per-layer section");
    assert!(section.contains("<svg"), "with its chart");
    assert!(
        summary.contains("layers   index operator"),
        "the summary has the table: {summary}"
    );
    ops
}

fn number(layer: &Value, key: &str) -> f64 {
    layer[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {layer}"))
}

/// How many times each operator occurs.
fn counts(ops: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for op in ops {
        *counts.entry(op.as_str()).or_default() += 1;
    }
    counts
}

/// light_squeezenet.onnx's 105 nodes (ONNX's light test model: its weights
/// are ConstantOfShape nodes), by operator.
const SQUEEZENET_NODES: [(&str, usize); 8] = [
    ("Concat", 8),
    ("ConstantOfShape", 39),
    ("Conv", 26),
    ("Dropout", 1),
    ("GlobalAveragePool", 1),
    ("MaxPool", 3),
    ("Relu", 26),
    ("Softmax", 1),
];

#[test]
fn ort_times_every_node_of_the_model_with_its_profiler() {
    let out = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    // Without graph optimisations ONNX Runtime runs the model's own nodes.
    let ops = per_layer(
        out.path(),
        &[
            "--engine",
            "ort",
            "--optimization",
            "disable",
            "--model",
            squeezenet.to_str().unwrap(),
        ],
    );
    assert_eq!(ops.len(), 105, "{ops:?}");
    assert_eq!(counts(&ops), BTreeMap::from(SQUEEZENET_NODES));
    assert_eq!(ops[1], "Conv");
    assert_eq!(ops.last().map(String::as_str), Some("Softmax"));
}

#[test]
fn ort_times_the_nodes_it_runs_after_optimising() {
    let out = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let ops = per_layer(
        out.path(),
        &["--engine", "ort", "--model", squeezenet.to_str().unwrap()],
    );
    // Constants folded, each Relu fused into its Conv: fewer nodes, and
    // none of the folded operators.
    let counts = counts(&ops);
    assert_eq!(counts.get("Conv"), Some(&26), "{ops:?}");
    assert_eq!(counts.get("Concat"), Some(&8), "{ops:?}");
    assert!(!counts.contains_key("Relu") && !counts.contains_key("ConstantOfShape"));
    assert_eq!(ops.last().map(String::as_str), Some("Softmax"));
}

#[test]
fn tract_times_every_node_of_its_plan() {
    let out = tempfile::tempdir().unwrap();
    let squeezenet = model("light_squeezenet.onnx");
    let ops = per_layer(
        out.path(),
        &["--engine", "tract", "--model", squeezenet.to_str().unwrap()],
    );
    // tract 0.23.9 lowers each Conv to packing and matrix products and
    // folds the constants: 126 nodes that compute, none of them an input
    // or a constant.
    assert_eq!(ops.len(), 126, "{ops:?}");
    let counts = counts(&ops);
    assert_eq!(counts.get("OptMatMul"), Some(&32), "{ops:?}");
    assert_eq!(counts.get("OptMaxPool"), Some(&3), "{ops:?}");
    assert!(!counts.contains_key("Source") && !counts.contains_key("Const"));
    assert_eq!(ops.last().map(String::as_str), Some("Softmax"));
}

#[test]
fn tflite_times_every_operator_with_its_telemetry_profiler() {
    let out = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    // Without XNNPACK every operator runs in TensorFlow Lite's own kernels.
    let ops = per_layer(
        out.path(),
        &[
            "--engine",
            "tflite",
            "--xnnpack",
            "off",
            "--model",
            kws.to_str().unwrap(),
        ],
    );
    assert_eq!(ops.len(), 15, "keyword_spotting has 15 operators: {ops:?}");
    assert_eq!(
        (ops[0].as_str(), ops[1].as_str(), ops[14].as_str()),
        ("QUANTIZE", "CONV_2D", "DEQUANTIZE")
    );
}

#[test]
fn tflite_with_xnnpack_times_the_delegates_operators_and_the_rest() {
    let out = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let ops = per_layer_at(
        out.path(),
        &["--engine", "tflite", "--model", kws.to_str().unwrap()],
        1000.0,
    );
    // XNNPACK reports each operator it runs (`Convolution (NHWC, QC8)
    // GEMM`, ...), in execution order with the two operators it leaves to
    // TensorFlow Lite.
    let xnnpack = ops
        .iter()
        .filter(|op| op.contains("(NHWC") || op.contains("(NC"))
        .count();
    assert!(xnnpack >= 9, "{ops:?}");
    assert_eq!(xnnpack + 2, ops.len(), "{ops:?}");
    for kept in ["AVERAGE_POOL_2D", "SOFTMAX"] {
        assert!(ops.iter().any(|op| op == kept), "{ops:?}");
    }
}
