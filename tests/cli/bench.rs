//! `vlab bench` on real models: the reports, their keys and types, and TYPE2 outputs.

use serde_json::Value;

use crate::support::{bench_ok, f32_bytes, json, model, reference_data, vlab};

/// Every key of the contract's report.json, with its JSON type.
const CONTRACT_KEYS: [(&str, &str); 21] = [
    ("version", "string"),
    ("date", "string"),
    ("target", "string"),
    ("target_id", "string"),
    ("version_tag", "string"),
    ("inference_engine", "string"),
    ("model_file_name", "string"),
    ("benchmark_type", "string"),
    ("nb_infernece", "int"),
    ("ram_size", "int"),
    ("ram_peak", "number"),
    ("flash_size", "int"),
    ("flash_usage", "number"),
    ("load_cpu", "number"),
    ("load_accelerator", "number"),
    ("temperature", "number"),
    ("ambiant_temperature", "number"),
    ("power_consumption", "number"),
    ("enery_efficiency", "number"),
    ("FLOPs", "number"),
    ("inference_latency", "object"),
];

fn check_contract_report(report: &Value, iterations: u64) {
    let object = report.as_object().expect("report.json is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected: Vec<&str> = CONTRACT_KEYS.iter().map(|(k, _)| *k).collect();
    expected.sort_unstable();
    assert_eq!(
        keys, expected,
        "report.json has exactly the contract's keys"
    );
    for (key, kind) in CONTRACT_KEYS {
        let value = &report[key];
        let ok = match kind {
            _ if value.is_null() => true,
            "string" => value.is_string(),
            "int" => value.is_u64(),
            "number" => value.is_number(),
            _ => value.is_object(),
        };
        assert!(
            ok,
            "report.json key {key} should be {kind} or null, is {value}"
        );
    }
    assert_eq!(report["nb_infernece"], iterations);
    assert!(report["ram_size"].as_u64().unwrap() > 0);
    let date = report["date"].as_str().unwrap();
    assert_eq!(date.len(), "YY-MM-DD hh:mm:ss".len(), "date {date}");
    let lat = &report["inference_latency"];
    let get = |k: &str| {
        lat[k]
            .as_f64()
            .unwrap_or_else(|| panic!("inference_latency.{k} missing"))
    };
    let (min, median, max) = (get("min"), get("median"), get("max"));
    assert!(
        0.0 < min && min <= median && median <= max,
        "min {min} median {median} max {max}"
    );
    assert!(get("p90") <= get("p95") && get("p95") <= get("p99") && get("p99") <= max);
    assert!(get("mean") >= min && get("mean") <= max && get("std") >= 0.0);
    assert!(max < 10.0, "latency is in seconds, got max {max}");
}

#[test]
fn type1_keyword_spotting_writes_complete_reports() {
    let out = tempfile::tempdir().unwrap();
    let model = model("keyword_spotting.tflite");
    bench_ok(
        out.path(),
        &[
            "--model",
            model.to_str().unwrap(),
            "--iterations",
            "50",
            "--warmup",
            "3",
        ],
    );

    let report = json(&out.path().join("report.json"));
    check_contract_report(&report, 50);
    assert_eq!(report["benchmark_type"], "TYPE1");
    assert_eq!(report["model_file_name"], "keyword_spotting.tflite");
    assert!(
        report["inference_engine"]
            .as_str()
            .unwrap()
            .starts_with("tract 0.")
    );

    let full = json(&out.path().join("vlab-report.json"));
    assert_eq!(full["schema"], "vlab-report/1");
    assert_eq!(full["timing"]["samples_ns"].as_array().unwrap().len(), 50);
    assert_eq!(full["timing"]["warmup_ns"].as_array().unwrap().len(), 3);
    assert_eq!(full["engine"]["name"], "tract");
    assert_eq!(full["model"]["size_bytes"], 53736);
    assert_eq!(
        full["model"]["sha256"],
        "c37e039ac276600420eae56f3563f4adbb531e05dea2354d273da18b4612c58b"
    );
    assert_eq!(full["inputs"][0]["dtype"], "float32");
    assert_eq!(
        full["inputs"][0]["shape"],
        serde_json::json!([1, 50, 10, 1])
    );
    assert_eq!(full["outputs"][0]["shape"], serde_json::json!([1, 12]));
    assert_eq!(full["benchmark"]["seed"], 0);
    assert!(full["memory"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(full["host"]["cores"].as_u64().unwrap() >= 1);

    // The target's own facts, read where the engine ran: this machine's
    // CPU, kernel and frequency (x86's cpuinfo MHz here; no cpufreq, no
    // thermal zone in this VM, so those stay null), and the filesystem
    // that holds the model as flash.
    let system = &full["target"]["system"];
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    assert!(
        cpuinfo.contains(system["cpu_model"].as_str().unwrap()),
        "{system}"
    );
    assert_eq!(
        system["kernel"].as_str().unwrap(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap()
            .trim()
    );
    let exposes_frequency = cpuinfo.contains("cpu MHz")
        || std::path::Path::new("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq").exists();
    assert_eq!(
        system["frequency_mhz"].is_number(),
        exposes_frequency,
        "{system}"
    );
    let over_run = full["target"]["over_run"].as_array().unwrap();
    assert_eq!(!over_run.is_empty(), exposes_frequency, "{over_run:?}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(html.contains("Target over the run"), exposes_frequency);
    assert!(report["flash_size"].as_u64().unwrap() > 0);
    let usage = report["flash_usage"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&usage), "{usage}");

    assert_eq!(
        std::fs::read_to_string(out.path().join("error.log")).unwrap(),
        ""
    );
    let user_log = std::fs::read_to_string(out.path().join("user.log")).unwrap();
    assert!(
        user_log.contains("keyword_spotting.tflite") && user_log.contains("median"),
        "{user_log}"
    );
    assert!(
        !out.path().join("raw_output.bin").exists(),
        "TYPE1 writes no raw output"
    );
}

#[test]
fn type1_onnx_model_runs_and_json_goes_to_stdout() {
    let out = tempfile::tempdir().unwrap();
    let model = model("light_squeezenet.onnx");
    let output = bench_ok(
        out.path(),
        &[
            "--model",
            model.to_str().unwrap(),
            "--iterations",
            "3",
            "--json",
        ],
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    assert_eq!(printed, json(&out.path().join("vlab-report.json")));
    assert_eq!(printed["model"]["format"], "onnx");
    assert_eq!(printed["inputs"][0]["name"], "data_0");
    check_contract_report(&json(&out.path().join("report.json")), 3);
}

#[test]
fn type1_inputs_are_seeded() {
    let model = model("tiny_cnn.tflite");
    let run = |seed: &str| {
        let out = tempfile::tempdir().unwrap();
        bench_ok(
            out.path(),
            &[
                "--model",
                model.to_str().unwrap(),
                "--iterations",
                "2",
                "--seed",
                seed,
            ],
        );
        json(&out.path().join("vlab-report.json"))["benchmark"]["seed"].clone()
    };
    assert_eq!(run("42"), 42);
}

/// A dataset of `samples` keyword-spotting inputs (float32 1x50x10x1).
fn kws_dataset(samples: usize) -> Vec<u8> {
    f32_bytes((0..samples * 500).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0))
}

#[test]
fn type2_writes_raw_outputs_in_sample_order_identically_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("dataset.bin");
    std::fs::write(&dataset, kws_dataset(3)).unwrap();
    let model = model("keyword_spotting.tflite");
    let args = [
        "--model",
        model.to_str().unwrap(),
        "--dataset",
        dataset.to_str().unwrap(),
    ];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    bench_ok(&a, &args);
    bench_ok(&b, &args);

    let raw = std::fs::read(a.join("raw_output.bin")).unwrap();
    assert_eq!(raw.len(), 3 * 12 * 4, "3 samples of float32[1,12]");
    assert_eq!(
        raw,
        std::fs::read(b.join("raw_output.bin")).unwrap(),
        "TYPE2 outputs are reproducible"
    );
    let report = json(&a.join("report.json"));
    check_contract_report(&report, 3);
    assert_eq!(report["benchmark_type"], "TYPE2");
    let full = json(&a.join("vlab-report.json"));
    assert_eq!(full["benchmark"]["dataset"]["samples"], 3);
    assert_eq!(full["raw_output"]["bytes"], 144);
    assert!(!a.join("raw_output.bin.partial").exists());

    // Each sample's output depends on that sample only: a 1-sample dataset of
    // the second sample reproduces the second output.
    let single = dir.path().join("second.bin");
    std::fs::write(&single, &kws_dataset(3)[2000..4000]).unwrap();
    let c = dir.path().join("c");
    bench_ok(
        &c,
        &[
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            single.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(c.join("raw_output.bin")).unwrap(),
        raw[48..96]
    );
}

#[test]
fn type2_agrees_with_tflite_micro_reference_on_mlperf_image_classification() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = reference.join("pretrainedResnet.tflite");
    let image = reference.join("ic01_reference_inputs.uint8.bin");
    // The float model takes the raw 0..255 pixel values as float32.
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("ic01.f32.bin");
    std::fs::write(
        &dataset,
        f32_bytes(std::fs::read(image).unwrap().iter().map(|&p| f32::from(p))),
    )
    .unwrap();
    let out = dir.path().join("out");
    bench_ok(
        &out,
        &[
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            dataset.to_str().unwrap(),
        ],
    );
    let raw = std::fs::read(out.join("raw_output.bin")).unwrap();
    let probs: Vec<f32> = raw
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // TFLite Micro's int8 answer (shared/mlperf-tiny/README.md), dequantised
    // with the output's scale 1/256 and zero point -128.
    let reference = [-48i8, -128, -127, -108, -48, -127, -71, -125, -116, -127]
        .map(|q| (f32::from(q) + 128.0) / 256.0);
    for (class, (p, r)) in probs.iter().zip(reference).enumerate() {
        assert!(
            (p - r).abs() < 0.1,
            "class {class}: tract {p}, TFLite Micro {r}"
        );
    }
    let top = probs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(top, 0, "the reference image is class 0");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let output = vlab(&["schema"]);
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(crate::support::root().join("docs/vlab-report.schema.json"))
            .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        committed,
        "docs/vlab-report.schema.json is stale: regenerate it with `cargo run -p vlab-bridge -- schema`"
    );
}

#[test]
fn micro_engine_reports_per_layer_times() {
    let out = tempfile::tempdir().unwrap();
    let model = model("keyword_spotting.tflite");
    bench_ok(
        out.path(),
        &[
            "--engine",
            "micro",
            "--model",
            model.to_str().unwrap(),
            "--iterations",
            "5",
            "--per-layer",
        ],
    );
    let full = json(&out.path().join("vlab-report.json"));
    assert!(
        full["engine"]["version"]
            .as_str()
            .unwrap()
            .starts_with("vlab-micro ")
    );
    let layers = full["layers"].as_array().expect("per-layer table");
    let ops: Vec<&str> = layers.iter().map(|l| l["op"].as_str().unwrap()).collect();
    assert_eq!(ops.len(), 15, "keyword_spotting has 15 operators: {ops:?}");
    assert_eq!(
        (ops[0], ops[1], ops[14]),
        ("QUANTIZE", "CONV_2D", "DEQUANTIZE")
    );
    let share: f64 = layers
        .iter()
        .map(|l| l["share_percent"].as_f64().unwrap())
        .sum();
    assert!(
        (share - 100.0).abs() < 1e-6,
        "shares add up to 100%, got {share}"
    );
    assert!(
        layers
            .iter()
            .all(|l| l["median_ns"].as_f64().unwrap() >= l["min_ns"].as_f64().unwrap())
    );
    check_contract_report(&json(&out.path().join("report.json")), 5);
}

#[test]
fn micro_engine_runs_the_hybrid_mlperf_kws_model() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = reference.join("kws_ref_model_float32.tflite");
    let input = reference.join("kws01_reference_inputs.int8.bin");
    // The float model takes the int8 reference input dequantised (scale 0.5847029, zero point 83).
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("kws01.f32.bin");
    let q = std::fs::read(input).unwrap();
    std::fs::write(
        &dataset,
        f32_bytes(q.iter().map(|&b| (f32::from(b as i8) - 83.0) * 0.584_702_9)),
    )
    .unwrap();
    let out = dir.path().join("out");
    bench_ok(
        &out,
        &[
            "--engine",
            "micro",
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            dataset.to_str().unwrap(),
        ],
    );
    let raw = std::fs::read(out.join("raw_output.bin")).unwrap();
    let probs: Vec<f32> = raw
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let top = probs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    // TFLite Micro's int8 model answers class 5 (shared/mlperf-tiny/README.md).
    assert_eq!(top.0, 5, "{probs:?}");
    assert!(*top.1 > 0.99, "{probs:?}");
}
