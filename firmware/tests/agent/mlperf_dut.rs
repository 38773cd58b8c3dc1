//! The agent as an MLPerf Tiny device under test, served over a byte
//! stream in the official runner's command order (reference data needed;
//! skipped where it is absent), and its answers to bad commands.

use std::time::Instant;

use vlab_firmware::{Agent, Memory};
use vlab_micro::Model;
use vlab_protocol::Request;

use crate::support::{
    HostClock, INFO, Pipe, flash_image, read_output, reference_data, shared, with_agent,
    write_inputs,
};

/// Serves `script` (commands as the host sends them) with `flash` in the
/// flash slot and returns the lines the agent wrote.
fn serve(flash: &[u8], script: &str) -> Vec<String> {
    let (mut slot, mut arena, mut samples) =
        (vec![0u8; 1 << 15], vec![0u8; 1 << 16], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: flash,
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut pipe = Pipe::new(script.as_bytes().to_vec());
    Agent::new(INFO, HostClock(Instant::now()), mem)
        .serve(&mut pipe)
        .unwrap();
    let text = String::from_utf8(pipe.outgoing).expect("ASCII replies");
    assert!(text.is_empty() || text.ends_with("\r\n"), "{text:?}");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "every line ends with \\r\\n: {text:?}"
    );
    text.split_terminator("\r\n").map(str::to_owned).collect()
}

/// The replies to each command: the lines up to and including `m-ready`.
fn replies(lines: &[String]) -> Vec<Vec<String>> {
    let mut all = vec![];
    let mut current = vec![];
    for line in lines {
        current.push(line.clone());
        if line == "m-ready" {
            all.push(std::mem::take(&mut current));
        }
    }
    assert!(
        current.is_empty(),
        "lines after the last m-ready: {current:?}"
    );
    all
}

/// `db` commands of `chunk` bytes each, lowercase hex as the runner sends.
fn upload_script(data: &[u8], chunk: usize) -> String {
    let mut script = format!("db load {}%", data.len());
    for part in data.chunks(chunk) {
        script.push_str("db ");
        for byte in part {
            script.push_str(&format!("{byte:02x}"));
        }
        script.push('%');
    }
    script
}

/// The KWS model's outputs for `input`, through vlab's own protocol,
/// dequantized and printed as MLPerf Tiny mode prints them.
fn native_results(model: &[u8], input: &[u8]) -> String {
    let output = with_agent(&flash_image(model, "kws01", 0), |agent| {
        let query = Request::ModelQuery {
            len: model.len() as u32,
            crc: vlab_protocol::chunk_crc(model),
        };
        crate::support::ask(agent, query);
        write_inputs(agent, &[input.to_vec()]);
        let run = Request::Run {
            id: 1,
            warmup: 0,
            iterations: 1,
            samples: false,
            per_layer: false,
        };
        crate::support::ask(agent, run);
        read_output(agent, 0)
    });
    let parsed = Model::parse(model).unwrap();
    let main = parsed.main();
    let info = main.tensor(main.outputs().next().unwrap()).unwrap();
    let q = info.quant.unwrap();
    let values: Vec<String> = output
        .iter()
        .map(|&b| {
            format!(
                "{:.3}",
                (i32::from(b as i8) - q.zero_point) as f32 * q.scale
            )
        })
        .collect();
    format!("m-results-[{}]", values.join(","))
}

#[test]
fn the_official_runners_command_order_gets_the_replies_it_parses() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = shared(&reference, "kws_ref_model.tflite");
    let input = shared(&reference, "kws01_reference_inputs.int8.bin");
    let flash = flash_image(&model, "kws01", 100);
    // name, profile, then one window: db load, 31-byte chunks, infer N W.
    let script = format!(
        "name%profile%{}db print%infer 3 2%results%",
        upload_script(&input, 31)
    );
    let lines = serve(&flash, &script);
    let replies = replies(&lines);
    assert_eq!(replies[0], ["m-name-dut-[vlab]", "m-ready"]);
    assert_eq!(
        replies[1],
        [
            "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
            "m-model-[kws01]",
            "m-ready"
        ]
    );
    assert_eq!(replies[2], ["m-[Expecting 490 bytes]", "m-ready"]);
    let chunks = input.len().div_ceil(31);
    for reply in &replies[3..2 + chunks] {
        assert_eq!(reply, &["m-ready"]);
    }
    assert_eq!(replies[2 + chunks], ["m-load-done", "m-ready"]);
    // The readback is the input.
    let printed = &replies[3 + chunks];
    let readback: Vec<u8> = printed[..printed.len() - 1]
        .iter()
        .flat_map(|line| {
            line.strip_prefix("m-buffer-")
                .unwrap()
                .split('-')
                .map(|h| u8::from_str_radix(h, 16).unwrap())
                .collect::<Vec<u8>>()
        })
        .collect();
    assert_eq!(readback, input);
    let infer = &replies[4 + chunks];
    assert_eq!(infer[0], "m-warmup-start-2");
    assert_eq!(infer[1], "m-warmup-done");
    assert_eq!(infer[2], "m-infer-start-3");
    let t0 = lap_us(&infer[3]);
    let t1 = lap_us(&infer[4]);
    assert!(t1 > t0, "{infer:?}");
    assert_eq!(infer[5], "m-infer-done");
    let results = native_results(&model, &input);
    assert_eq!(infer[6], results);
    assert_eq!(infer[7], "m-ready");
    assert_eq!(infer.len(), 8);
    assert_eq!(replies[5 + chunks], [results.as_str(), "m-ready"]);
    // The scores sum to about 1 (a softmax): never a zero sum.
    let sum: f32 = results["m-results-[".len()..results.len() - 1]
        .split(',')
        .map(|v| v.parse::<f32>().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 0.05, "{results}");
}

/// The microseconds of a line matching the runner's `^m-lap-us-([0-9]+)$`.
fn lap_us(line: &str) -> u64 {
    let digits = line.strip_prefix("m-lap-us-").expect("m-lap-us-");
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "{line}"
    );
    digits.parse().unwrap()
}

#[test]
fn bad_commands_get_an_error_and_m_ready_and_the_agent_keeps_serving() {
    let long = format!("{}%", "x".repeat(81));
    let script = format!(
        "name\r\n%%   %{long}nope 1%db%db load%db load 0%db 00%db load 99999999%\
         db load 4%db 0%db 0g%db 01020304ff%db print%infer 0%infer 1 -1%infer 1 0%results%name%"
    );
    let lines = serve(&[], &script);
    let replies = replies(&lines);
    let expected: &[&[&str]] = &[
        &["m-name-dut-[vlab]"],
        &["e-[Empty command]"],
        &["e-[Empty command]"],
        &["e-[Command longer than 80 characters]"],
        &["e-[Unknown command: nope]"],
        &["e-[Command 'db' requires a subcommand]"],
        &["e-[Command 'db load' requires the # of bytes]"],
        &["e-[Command 'db load' must be >0 bytes]"],
        &["e-[db load must come before db data]"],
        &["e-[db load 99999999 exceeds the input buffer of 32768 bytes]"],
        &["m-[Expecting 4 bytes]"],
        &["e-[Insufficent number of hex digits]"],
        &["e-[Invalid hex digit '0g']"],
        &["m-load-done"],
        &["m-buffer-01-02-03-04"],
        &["e-[Inference iterations must be >0]"],
        &["e-[Inference warmup must be >=0]"],
        &["e-[No model in the flash slot: put one there with vlab]"],
        &["e-[No inference has run yet]"],
        &["m-name-dut-[vlab]"],
    ];
    assert_eq!(replies.len(), expected.len(), "{replies:#?}");
    for (reply, want) in replies.iter().zip(expected) {
        let mut want: Vec<&str> = want.to_vec();
        want.push("m-ready");
        assert_eq!(reply, &want);
    }
}

#[test]
fn an_input_of_the_wrong_size_is_refused_before_any_inference() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = shared(&reference, "kws_ref_model.tflite");
    let flash = flash_image(&model, "kws01", 0);
    let script = format!("{}infer 1 0%", upload_script(&[1, 2, 3], 31));
    let lines = serve(&flash, &script);
    assert_eq!(
        replies(&lines).last().unwrap(),
        &[
            "e-[Input db has 3 bytes, the model's input takes 490]",
            "m-ready"
        ]
    );
}
