//! `vlab compare` on real runs: identical runs raise no alarm, a 10%
//! slowdown is flagged with exit code 4 (JSON and text), a threshold above
//! the slowdown lets it pass, and the side-by-side page renders.
//!
//! The report comes from a real run, but its timed samples are replaced by a
//! fixed ±3% spread around that run's own median: on a shared CI machine a
//! real run's spread can be wide enough that a 10% change is, correctly, not
//! significant, and this test is about the verdicts, not the machine. How
//! the bootstrap treats noisy samples is tested in vlab-harness (compare.rs).

use std::path::Path;

use crate::support::{chromium, json, tiny_cnn_on_micro, vlab};

/// A baseline run: tiny_cnn on the micro engine, 200 timed inferences, its
/// samples then set to a ±3% spread around their median (see the module
/// docs).
fn baseline(out: &Path) {
    tiny_cnn_on_micro(out, &["--iterations", "200", "--warmup", "10"]);
    let path = out.join("vlab-report.json");
    let mut report = json(&path);
    let mut samples: Vec<u64> = report["timing"]["samples_ns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(samples.len(), 200);
    samples.sort_unstable();
    let median = samples[100] as f64;
    let steady: Vec<u64> = (0..samples.len())
        .map(|i| (median * (1.0 + ((i % 7) as f64 - 3.0) / 100.0)).round() as u64)
        .collect();
    report["timing"]["samples_ns"] = serde_json::json!(steady);
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
}

/// `from` copied to `to` with every timed sample multiplied by `factor`.
fn scaled_copy(from: &Path, to: &Path, factor: f64) {
    std::fs::create_dir_all(to).unwrap();
    let mut report = json(&from.join("vlab-report.json"));
    let samples: Vec<u64> = report["timing"]["samples_ns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_u64().unwrap() as f64 * factor).round() as u64)
        .collect();
    report["timing"]["samples_ns"] = serde_json::json!(samples);
    std::fs::write(
        to.join("vlab-report.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
}

fn compare(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    let output = vlab(&all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn identical_runs_pass_and_a_ten_percent_slowdown_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (base, same, slow) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    baseline(&base);
    scaled_copy(&base, &same, 1.0);
    scaled_copy(&base, &slow, 1.10);
    let s = |p: &Path| p.to_str().unwrap().to_owned();

    let (code, stdout, stderr) = compare(&[&s(&base), &s(&same)]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let latency = stdout.lines().find(|l| l.starts_with("latency")).unwrap();
    assert!(
        latency.contains("+0.0%") && latency.ends_with("no significant change"),
        "{latency}"
    );

    let (code, stdout, stderr) = compare(&[&s(&base), &s(&slow)]);
    assert_eq!(code, Some(4), "{stdout}{stderr}");
    let latency = stdout.lines().find(|l| l.starts_with("latency")).unwrap();
    assert!(
        latency.contains("+10.0%") && latency.ends_with("slower"),
        "{latency}"
    );
    assert!(stderr.contains("beyond the 5.0% threshold"), "{stderr}");

    let (code, stdout, _) = compare(&[&s(&base), &s(&slow), "--json"]);
    assert_eq!(code, Some(4));
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["regression"], true);
    assert_eq!(result["metrics"][0]["verdict"], "slower");
    let [low, high] = [0, 1].map(|i| result["metrics"][0]["interval"][i].as_f64().unwrap());
    assert!(low > 0.05 && low <= 0.1 && 0.1 <= high, "[{low}, {high}]");

    let (code, stdout, stderr) = compare(&[&s(&base), &s(&slow), "--threshold", "15%"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let page = dir.path().join("compare.html");
    let (code, _, _) = compare(&[&s(&base), &s(&slow), "--html", &s(&page)]);
    assert_eq!(code, Some(4));
    let url = format!("file://{}", page.display());
    let dom = chromium(&dir.path().join("profile"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Latency: slower"), "{dom}");
    assert_eq!(dom.matches("<svg").count(), 4, "two charts per run");
}

#[test]
fn compare_names_a_folder_without_a_run_and_a_bad_threshold() {
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let (code, _, stderr) = compare(&[e, e]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("vlab-report.json: no such file"),
        "{stderr}"
    );
    let (code, _, stderr) = compare(&[e, e, "--threshold", "five"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not a percentage"), "{stderr}");
}
