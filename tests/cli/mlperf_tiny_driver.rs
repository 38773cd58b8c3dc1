//! vlab's MLPerf Tiny driver (`vlab_bridge::mlperf_tiny`): against vlab's
//! firmware in MLPerf Tiny mode on the emulated board, where its results
//! must equal the native protocol's outputs byte for byte; and against
//! devices that misbehave as real ones do (a stray banner, a late
//! `m-ready`, an `e-` reply, silence mid-`infer`, a corrupted upload).
//! Those devices are scripted here: no real board misbehaves on demand.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use vlab_bridge::mlperf_tiny::{Dut, dut::RUNNER_CHUNK};

use crate::mlperf_tiny::{Served, inputs, native};
use crate::support::{model, qemu_firmware};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(endpoint: &str) -> vlab_harness::Result<Dut> {
    let stream = tokio::net::TcpStream::connect(endpoint).await.unwrap();
    Dut::connect(Box::new(stream), format!("tcp {endpoint}")).await
}

#[test]
fn the_driver_reads_vlabs_firmware_and_its_results_are_the_native_outputs() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let ic = model("image_classification.tflite");
    let inputs = inputs();
    let served = Served::start(&ic, "tcp");
    let windows = runtime().block_on(async {
        let mut dut = connect(&served.endpoint).await.unwrap();
        assert_eq!(
            (
                dut.device.as_str(),
                dut.vendor.as_str(),
                dut.model_key.as_str()
            ),
            ("dut", "vlab", "ic01")
        );
        assert!(dut.warnings.is_empty(), "{:?}", dut.warnings);
        let mut windows = vec![];
        for input in &inputs {
            dut.load(input, RUNNER_CHUNK, true).await.unwrap();
            windows.push(dut.infer(1, 0, None).await.unwrap());
        }
        windows
    });
    drop(served);
    let (_, native_scores) = native(dir.path(), &ic, &inputs);
    let raw = std::fs::read(dir.path().join("native/raw_output.bin")).unwrap();
    // The output is int8 with scale 1/256 and zero point -128: three
    // decimals tell every level apart, so the bytes come back exactly.
    let from_dut: Vec<u8> = windows
        .iter()
        .flat_map(|w| {
            w.results
                .iter()
                .map(|v| ((v * 256.0).round() as i32 - 128) as i8 as u8)
        })
        .collect();
    assert_eq!(from_dut, raw, "byte for byte");
    assert_eq!(native_scores.len(), windows.len());
}

/// A scripted device on a loopback port: `answer` gets each command
/// (without `%`) and returns the bytes to send back; `greeting` is sent
/// on connection.
pub fn scripted(
    greeting: &'static str,
    mut answer: impl FnMut(&str) -> String + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.write_all(greeting.as_bytes());
        let mut command = String::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = stream.read(&mut byte) {
            if byte[0] == b'%' {
                let reply = answer(&command);
                if stream.write_all(reply.as_bytes()).is_err() {
                    return;
                }
                command.clear();
            } else {
                command.push(char::from(byte[0]));
            }
        }
    });
    address
}

/// A well-behaved ic01 device's answers, with `db print` giving `held`.
pub fn honest(command: &str, held: &mut Vec<u8>, expected: &mut usize) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    let body = match words.as_slice() {
        ["name"] => "m-name-dut-[scripted]\r\n".to_owned(),
        ["profile"] => {
            "m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[ic01]\r\n".to_owned()
        }
        ["db", "load", n] => {
            *expected = n.parse().unwrap();
            held.clear();
            format!("m-[Expecting {n} bytes]\r\n")
        }
        ["db", "print"] => held
            .chunks(8)
            .map(|c| {
                let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
                format!("m-buffer-{}\r\n", hex.join("-"))
            })
            .collect(),
        ["db", hex] => {
            for i in (0..hex.len()).step_by(2) {
                held.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
            }
            if held.len() == *expected {
                "m-load-done\r\n".to_owned()
            } else {
                String::new()
            }
        }
        ["infer", n, w] => format!(
            "m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-lap-us-4294967000\r\nm-lap-us-704\r\nm-infer-done\r\nm-results-[0.100,0.900]\r\n"
        ),
        _ => format!("e-[Unknown command: {command}]\r\n"),
    };
    format!("{body}m-ready\r\n")
}

#[test]
fn a_stray_banner_and_a_late_m_ready_are_dropped_and_a_wrapped_timer_is_read() {
    let (mut held, mut expected, mut names) = (vec![], 0, 0);
    let address = scripted(
        "m-timestamp-mode-performance\r\nm-lap-us-12\r\nm-init-done\r\nm-ready\r\n",
        move |command| {
            let mut reply = honest(command, &mut held, &mut expected);
            if command == "name" {
                names += 1;
                if names == 1 {
                    // A DUT that printed its banner again: an extra m-ready.
                    reply.push_str("m-ready\r\n");
                }
            }
            reply
        },
    );
    runtime().block_on(async {
        let mut dut = connect(&address).await.unwrap();
        assert_eq!(dut.vendor, "scripted");
        assert_eq!(dut.warnings.len(), 2, "{:?}", dut.warnings);
        assert!(dut.warnings[0].contains("before the first command"));
        assert!(dut.warnings[1].contains("after name%'s m-ready"));
        dut.load(&[7; 100], RUNNER_CHUNK, true).await.unwrap();
        let window = dut.infer(10, 1, None).await.unwrap();
        assert!(window.wrapped);
        assert_eq!(window.elapsed_us, 1000);
        assert_eq!(window.results, [0.1, 0.9]);
    });
}

/// A scripted device that answers as [`honest`] does, except that a
/// command starting with `prefix` gets `reply`, or `edit` of the honest
/// reply.
fn honest_except(prefix: &'static str, edit: impl Fn(String) -> String + Send + 'static) -> String {
    let (mut held, mut expected) = (vec![], 0);
    scripted("", move |command| {
        let reply = honest(command, &mut held, &mut expected);
        if command.starts_with(prefix) {
            edit(reply)
        } else {
            reply
        }
    })
}

/// The error of uploading `bytes` to the device at `address`.
fn upload_error(address: &str, bytes: &[u8], readback: bool) -> String {
    runtime().block_on(async {
        let mut dut = connect(address).await.unwrap();
        let error = dut.load(bytes, RUNNER_CHUNK, readback).await.unwrap_err();
        error.message().to_owned()
    })
}

#[test]
fn an_error_reply_and_a_silent_oversize_load_are_clear_errors() {
    let refused = honest_except("db load", |_| {
        "e-[Supplied buffer size too large]\r\nm-ready\r\n".to_owned()
    });
    let message = upload_error(&refused, &[1; 64], false);
    assert!(
        message.contains("refused db load 64%: e-[Supplied buffer size too large]"),
        "{message}"
    );
    // The reference firmware takes an oversize load with an unprefixed line.
    let oversize = honest_except("db load", |reply| {
        format!("Supplied buffer size 64 exceeds maximum of 32\n{reply}")
    });
    let message = upload_error(&oversize, &[1; 64], false);
    assert!(
        message.contains("cannot hold 64 input bytes: Supplied buffer size 64"),
        "{message}"
    );
}

#[test]
fn a_corrupted_upload_is_caught_by_the_readback() {
    let address = honest_except("db print", |reply| {
        reply.replacen("m-buffer-05", "m-buffer-04", 1)
    });
    let message = upload_error(&address, &[5; 40], true);
    assert!(
        message.contains("upload was corrupted: byte 0 is 0x04 on the device, 0x05 sent"),
        "{message}"
    );
}

#[test]
fn a_device_silent_mid_infer_fails_at_the_latency_scaled_deadline() {
    let address = honest_except("infer", |_| {
        "m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-5\r\n".to_owned()
    });
    let started = std::time::Instant::now();
    let error = runtime().block_on(async {
        let mut dut = connect(&address).await.unwrap();
        dut.infer(5, 1, Some(Duration::from_millis(10)))
            .await
            .unwrap_err()
    });
    let message = error.message();
    assert!(
        message.contains("no answer to infer 5 1%") && message.contains("m-infer-start-5"),
        "{message}"
    );
    // The phase's deadline came from the latency, not a fixed 30 s.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn vlab_mlperf_tiny_run_measures_and_scores_a_board_as_the_runner_would() {
    qemu_firmware();
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&model("image_classification.tflite"), "tcp");
    let out = dir.path().join("performance");
    let run = crate::support::vlab(&[
        "mlperf-tiny",
        "run",
        "--port",
        &served.endpoint,
        "--warmup",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("results.txt")).unwrap();
    // The submission checker's pattern.
    let median = regex::Regex::new(r".* Median throughput is\s+([\d\.]+) inf\./sec\..*")
        .unwrap()
        .captures(&text)
        .unwrap_or_else(|| panic!("{text}"))[1]
        .parse::<f64>()
        .unwrap();
    let json = crate::support::json(&out.join("results.json"));
    let windows = json["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 5);
    for window in windows {
        assert!(
            window["elapsed_us"].as_u64().unwrap() >= 10_000_000,
            "{window}"
        );
    }
    assert!((median - json["median_throughput"].as_f64().unwrap()).abs() < 0.001);
    assert!(out.join("log.txt").is_file());

    // Accuracy over a dataset in the official layout that lacks most
    // classes: top-1 is scored, AUC is skipped with a reason, no crash.
    let dataset = dir.path().join("datasets");
    std::fs::create_dir_all(dataset.join("ic01")).unwrap();
    let mut labels = String::new();
    for (i, input) in inputs().iter().enumerate() {
        std::fs::write(dataset.join(format!("ic01/img{i}.bin")), input).unwrap();
        labels.push_str(&format!("img{i}.bin,10,{}\n", i % 2));
    }
    std::fs::write(dataset.join("ic01/y_labels.csv"), labels).unwrap();
    let out = dir.path().join("accuracy");
    let run = crate::support::vlab(&[
        "mlperf-tiny",
        "run",
        "--port",
        &served.endpoint,
        "--mode",
        "accuracy",
        "--dataset",
        dataset.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("warning: no AUC"), "{stderr}");
    let json = crate::support::json(&out.join("results.json"));
    assert_eq!(json["samples"], 5);
    assert!(json["top1"].as_f64().is_some());
    assert!(json["auc"].is_null());
    let text = std::fs::read_to_string(out.join("results.txt")).unwrap();
    assert!(
        regex::Regex::new(r".* Top[- ]1%?\s?[:=] ([\d\.]+).*")
            .unwrap()
            .is_match(&text),
        "{text}"
    );

    // Accuracy without a dataset is a usage error.
    let run = crate::support::vlab(&[
        "mlperf-tiny",
        "run",
        "--port",
        &served.endpoint,
        "--mode",
        "accuracy",
    ]);
    assert_eq!(run.status.code(), Some(2));
}
