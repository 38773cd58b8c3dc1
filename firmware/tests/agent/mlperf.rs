//! The agent with the MLPerf Tiny KWS model and its reference input
//! (skipped where the reference data is absent).

use std::time::Instant;

use heapless::Vec;
use vlab_firmware::{Agent, Memory};
use vlab_protocol::{CHUNK, ErrorCode, Event, PROTOCOL_VERSION, Request, Stream, chunk_crc};

use crate::support::{
    HostClock, INFO, arena_used, ask, flash_image, hello, reference_data, shared, upload,
};

#[test]
fn runs_mlperf_kws_and_matches_tflite_micro() {
    let Some(reference) = reference_data() else {
        return;
    };
    let (mut slot, mut arena, mut samples) =
        (vec![0u8; 1 << 17], vec![0u8; 1 << 16], vec![0u32; 100]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);

    let id = hello(&mut agent);
    assert_eq!(
        (id.protocol_version, id.board.as_str(), id.arena_bytes),
        (PROTOCOL_VERSION, "host-test", 1 << 16)
    );

    let model = shared(&reference, "kws_ref_model.tflite");
    let query = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model),
    };
    assert_eq!(
        ask(&mut agent, query.clone()),
        vec![Event::ModelStatus {
            present: false,
            arena_bytes: 0
        }]
    );
    assert_eq!(
        upload(&mut agent, &model),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );
    assert_eq!(
        ask(&mut agent, query),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );

    let input = shared(&reference, "kws01_reference_inputs.int8.bin");
    let chunk = Request::InputChunk {
        index: 0,
        offset: 0,
        data: Vec::from_slice(&input[..CHUNK]).unwrap(),
    };
    assert_eq!(
        ask(&mut agent, chunk),
        vec![Event::Received {
            stream: Stream::Input(0),
            end: CHUNK as u32
        }]
    );
    let chunk = Request::InputChunk {
        index: 0,
        offset: CHUNK as u32,
        data: Vec::from_slice(&input[CHUNK..]).unwrap(),
    };
    assert_eq!(
        ask(&mut agent, chunk),
        vec![Event::Received {
            stream: Stream::Input(0),
            end: input.len() as u32
        }]
    );

    let run = Request::Run {
        id: 1,
        warmup: 1,
        iterations: 70,
        samples: true,
        per_layer: true,
    };
    let [Event::Done(summary)] = ask(&mut agent, run.clone())[..] else {
        panic!("no Done")
    };
    assert_eq!(
        (summary.id, summary.iterations, summary.arena_used),
        (1, 70, arena_used(&model))
    );
    assert!(summary.min_ticks <= summary.max_ticks && summary.total_ticks >= summary.max_ticks);
    // The same run resent (its Done lost) is answered, not run again.
    assert_eq!(ask(&mut agent, run), vec![Event::Done(summary)]);

    let mut ticks = std::vec::Vec::new();
    while ticks.len() < 70 {
        let first = ticks.len() as u32;
        match &ask(&mut agent, Request::ReadSamples { first })[..] {
            [Event::Samples { first: f, ticks: t }] if *f == first && !t.is_empty() => {
                ticks.extend_from_slice(t)
            }
            other => panic!("ReadSamples {first}: {other:?}"),
        }
    }
    assert_eq!(ticks.len(), 70, "every inference accounted for");
    assert_eq!(u64::from(*ticks.iter().max().unwrap()), summary.max_ticks);
    for index in 0..13 {
        match &ask(&mut agent, Request::ReadLayer { index })[..] {
            [Event::LayerSample { index: i, .. }] => assert_eq!(*i, index),
            other => panic!("ReadLayer {index}: {other:?}"),
        }
    }
    assert!(
        matches!(
            &ask(&mut agent, Request::ReadLayer { index: 13 })[..],
            [Event::Error {
                code: ErrorCode::NoRun,
                ..
            }]
        ),
        "kws_ref_model has 13 operators"
    );

    let Event::Output { len, data, .. } = &ask(
        &mut agent,
        Request::ReadOutput {
            index: 0,
            offset: 0,
        },
    )[0] else {
        panic!("no Output")
    };
    let scores: std::vec::Vec<i8> = data.iter().map(|&b| b as i8).collect();
    assert_eq!(*len, 12);
    // TFLite Micro's answer (shared/mlperf-tiny/README.md).
    assert_eq!(
        scores,
        [
            -128, -128, -128, -128, -128, 127, -128, -128, -128, -128, -128, -128
        ]
    );
}

#[test]
fn refuses_what_does_not_fit_and_keeps_serving() {
    let Some(reference) = reference_data() else {
        return;
    };
    let (mut slot, mut arena, mut samples) = (vec![0u8; 60_000], vec![0u8; 1000], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);
    let code = |events: std::vec::Vec<Event>| match &events[..] {
        [Event::Error { code, .. }] => *code,
        other => panic!("expected one error, got {other:?}"),
    };
    assert_eq!(
        code(ask(&mut agent, Request::ModelBegin { len: 2_000_000 })),
        ErrorCode::ModelTooLarge
    );
    assert_eq!(
        code(upload(
            &mut agent,
            &shared(&reference, "kws_ref_model.tflite")
        )),
        ErrorCode::ArenaTooSmall
    );
    assert_eq!(
        code(ask(
            &mut agent,
            Request::ReadOutput {
                index: 0,
                offset: 0
            }
        )),
        ErrorCode::NoRun
    );
    assert_eq!(
        ask(&mut agent, Request::ModelBegin { len: 10 }),
        vec![Event::Received {
            stream: Stream::Model,
            end: 0
        }]
    );
    let bad_chunk = Request::ModelChunk {
        offset: 999,
        crc: 0,
        data: Vec::new(),
    };
    assert_eq!(code(ask(&mut agent, bad_chunk)), ErrorCode::BadChunk);
}

#[test]
fn a_model_in_the_flash_slot_is_used_without_an_upload() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = shared(&reference, "kws_ref_model.tflite");
    let flash = flash_image(&model, "kws01", 1000);
    let (mut slot, mut arena, mut samples) = (vec![0u8; 16], vec![0u8; 1 << 16], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &flash,
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);
    let id = hello(&mut agent);
    assert!(id.capabilities.has(vlab_protocol::Capabilities::FLASH_SLOT));
    // A model that is not there is not found.
    let other = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model) ^ 1,
    };
    assert_eq!(
        ask(&mut agent, other),
        vec![Event::ModelStatus {
            present: false,
            arena_bytes: 0
        }]
    );
    let query = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model),
    };
    assert_eq!(
        ask(&mut agent, query),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );
    let input = shared(&reference, "kws01_reference_inputs.int8.bin");
    for (offset, chunk) in [(0, &input[..CHUNK]), (CHUNK, &input[CHUNK..])] {
        let request = Request::InputChunk {
            index: 0,
            offset: offset as u32,
            data: Vec::from_slice(chunk).unwrap(),
        };
        assert!(matches!(
            ask(&mut agent, request)[..],
            [Event::Received { .. }]
        ));
    }
    let run = Request::Run {
        id: 1,
        warmup: 0,
        iterations: 1,
        samples: false,
        per_layer: false,
    };
    assert!(matches!(ask(&mut agent, run)[..], [Event::Done(_)]));
    let Event::Output { data, .. } = &ask(
        &mut agent,
        Request::ReadOutput {
            index: 0,
            offset: 0,
        },
    )[0] else {
        panic!("no Output")
    };
    assert_eq!(data[5] as i8, 127, "TFLite Micro's answer: class 5");
}
