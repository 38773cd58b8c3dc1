//! report.html, rendered for real in headless Chromium: the page opens
//! offline, every chart is drawn (its colour covers part of a screenshot),
//! and the histogram has as many bars in the DOM as the samples fill bins.

use std::path::Path;

use scraper::{Html, Selector};
use vlab_harness::views::charts::{
    Bins, HISTOGRAM_COLOR, LAYER_COLOR, MEMORY_COLOR, RGBColor, TIMED_COLOR, Unit, WARMUP_COLOR,
};

use crate::support::{chromium, json, tiny_cnn_on_micro, vlab};

/// A screenshot of `page`, decoded to RGB(A) pixels.
fn screenshot(page: &Path, dir: &Path) -> (Vec<u8>, usize) {
    let png = dir.join("page.png");
    let url = format!("file://{}", page.display());
    chromium(
        &dir.join("profile"),
        &[
            "--window-size=1000,4000",
            &format!("--screenshot={}", png.display()),
            &url,
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    (pixels, info.color_type.samples())
}

/// Pixels within 3 of `color` in every channel.
fn count(pixels: &[u8], channels: usize, color: RGBColor) -> usize {
    pixels
        .chunks_exact(channels)
        .filter(|p| {
            p[0].abs_diff(color.0) <= 3
                && p[1].abs_diff(color.1) <= 3
                && p[2].abs_diff(color.2) <= 3
        })
        .count()
}

/// The page as Chromium parsed it.
fn dom(page: &Path, dir: &Path) -> Html {
    let url = format!("file://{}", page.display());
    let output = chromium(&dir.join("profile-dom"), &["--dump-dom", &url]);
    Html::parse_document(&String::from_utf8_lossy(&output.stdout))
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

fn hex(color: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2)
}

#[test]
fn bench_leaves_a_report_html_that_chromium_draws_offline() {
    let out = tempfile::tempdir().unwrap();
    tiny_cnn_on_micro(
        out.path(),
        &["--iterations", "60", "--warmup", "5", "--per-layer"],
    );
    let page = out.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for outside in ["src=", "href=", "@import", "url(", "<script"] {
        assert!(
            !html.contains(outside),
            "the page refers outside itself: {outside}"
        );
    }

    let shots = tempfile::tempdir().unwrap();
    let (pixels, channels) = screenshot(&page, shots.path());
    for (chart, color) in [
        ("histogram", HISTOGRAM_COLOR),
        ("timeline", TIMED_COLOR),
        ("warmups", WARMUP_COLOR),
        ("per-layer", LAYER_COLOR),
        ("memory", MEMORY_COLOR),
    ] {
        let drawn = count(&pixels, channels, color);
        assert!(
            drawn > 50,
            "the {chart} chart is blank: {drawn} pixels of its colour"
        );
    }

    let doc = dom(&page, shots.path());
    let report = json(&out.path().join("vlab-report.json"));
    let samples: Vec<u64> = report["timing"]["samples_ns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let median = report["timing"]["statistics"]["median"].as_f64().unwrap();
    let unit = Unit::for_ns(median);
    let values: Vec<f64> = samples.iter().map(|&s| s as f64 / unit.ns).collect();
    let bars = select(
        &doc,
        &format!("#latency-histogram rect[fill=\"{}\"]", hex(HISTOGRAM_COLOR)),
    );
    assert_eq!(bars.len(), Bins::of(&values).bars());
    assert_eq!(select(&doc, "#layers svg").len(), 1);
    let title = select(&doc, "h1")[0].text().collect::<String>();
    assert_eq!(title, "tiny_cnn.tflite on host");
}

#[test]
fn the_histogram_of_known_samples_has_the_known_bars() {
    let out = tempfile::tempdir().unwrap();
    tiny_cnn_on_micro(out.path(), &["--iterations", "10"]);
    // 100 samples at 1.0, 1.5 and 2.0 ms: 10 bins of 0.1 ms from 1.0 to
    // 2.0, of which the first, the sixth and the last hold samples.
    let path = out.path().join("vlab-report.json");
    let mut report = json(&path);
    let samples: Vec<u64> = [(1_000_000u64, 50), (1_500_000, 30), (2_000_000, 20)]
        .iter()
        .flat_map(|&(ns, n)| std::iter::repeat_n(ns, n))
        .collect();
    report["timing"]["samples_ns"] = serde_json::json!(samples);
    report["timing"]["statistics"]["median"] = serde_json::json!(1_250_000.0);
    std::fs::write(&path, serde_json::to_string(&report).unwrap()).unwrap();
    let output = vlab(&["report", out.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let shots = tempfile::tempdir().unwrap();
    let page = out.path().join("report.html");
    let doc = dom(&page, shots.path());
    let section = select(&doc, "#latency-histogram");
    assert_eq!(section[0].value().attr("data-bars"), Some("3"));
    let bars = select(
        &doc,
        &format!("#latency-histogram rect[fill=\"{}\"]", hex(HISTOGRAM_COLOR)),
    );
    assert_eq!(bars.len(), 3);
    assert!(
        select(&doc, "#layers").is_empty(),
        "no per-layer data, no chart"
    );
}

#[test]
fn report_on_a_folder_without_a_run_names_the_file() {
    let empty = tempfile::tempdir().unwrap();
    let output = vlab(&["report", empty.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("vlab-report.json: no such file"),
        "{stderr}"
    );
}
