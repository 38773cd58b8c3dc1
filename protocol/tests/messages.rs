//! Round trips, corruption, limits and wire efficiency of the frame format.

#![allow(missing_docs, clippy::unwrap_used)]

use heapless::Vec;
use vlab_protocol::{
    CHUNK, Capabilities, Decoder, ErrorCode, Event, FrameError, Identify, MAX_FRAME, MAX_SAMPLES,
    Message, Request, RunSummary, Stream, TimerKind, encode,
};

fn frame<T: Message>(m: &T) -> std::vec::Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let n = encode(m, &mut out).unwrap();
    out[..n].to_vec()
}

fn decode_all<T: Message>(bytes: &[u8]) -> std::vec::Vec<Result<T, FrameError>> {
    let mut d = Decoder::new();
    bytes.iter().filter_map(|&b| d.push::<T>(b)).collect()
}

pub fn sample_requests() -> std::vec::Vec<Request> {
    vec![
        Request::Hello {
            protocol_version: 1,
        },
        Request::ModelQuery {
            len: 53736,
            crc: 0xdead_beef,
        },
        Request::ModelBegin { len: 53736 },
        Request::ModelChunk {
            offset: 256,
            crc: 7,
            data: Vec::from_slice(&[0xab; CHUNK]).unwrap(),
        },
        Request::ModelCommit { crc: 0x1234_5678 },
        Request::InputChunk {
            index: 0,
            offset: 0,
            data: Vec::from_slice(&[0, 1, 2, 0, 255]).unwrap(),
        },
        Request::Run {
            id: 7,
            warmup: 2,
            iterations: 20,
            samples: true,
            per_layer: true,
        },
        Request::ReadOutput {
            index: 0,
            offset: 0,
        },
        Request::ReadSamples { first: 64 },
        Request::ReadLayer { index: 12 },
    ]
}

pub fn sample_events() -> std::vec::Vec<Event> {
    vec![
        Event::Identify(Identify {
            protocol_version: 1,
            firmware_version: 0x0001_0000,
            build_hash: [1, 2, 3, 4, 5, 6, 7, 8],
            board: "qemu-mps2-an385".try_into().unwrap(),
            core_clock_hz: 25_000_000,
            timer: TimerKind::SysTick,
            timer_hz: 25_000_000,
            arena_bytes: 262_144,
            model_slot_bytes: 1_048_576,
            max_samples: 10_000,
            capabilities: Capabilities(Capabilities::PER_LAYER | Capabilities::DEFMT_LOG),
        }),
        Event::Received {
            stream: Stream::Input(1),
            end: 512,
        },
        Event::ModelStatus {
            present: true,
            arena_bytes: 16000,
        },
        Event::Samples {
            first: 0,
            ticks: Vec::from_slice(&[14_500_000; MAX_SAMPLES]).unwrap(),
        },
        Event::LayerSample {
            index: 3,
            opcode: 3,
            ticks: 123_456,
        },
        Event::Done(RunSummary {
            id: 7,
            iterations: 20,
            total_ticks: 290_000_000,
            min_ticks: 14_400_000,
            max_ticks: 14_600_000,
            arena_used: 16000,
            stack_used: 2048,
        }),
        Event::Output {
            index: 0,
            offset: 0,
            len: 12,
            data: Vec::from_slice(&[0x80; 12]).unwrap(),
        },
        Event::Log(Vec::from_slice(&[1, 0, 2]).unwrap()),
        Event::Error {
            code: ErrorCode::ModelTooLarge,
            detail: "model 2000000 B > slot 1048576 B".try_into().unwrap(),
        },
    ]
}

#[test]
fn every_message_round_trips_through_a_byte_stream() {
    let requests = sample_requests();
    let stream: std::vec::Vec<u8> = requests.iter().flat_map(frame).collect();
    let decoded: std::vec::Vec<Request> = decode_all(&stream)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(decoded, requests);
    let events = sample_events();
    let stream: std::vec::Vec<u8> = events.iter().flat_map(frame).collect();
    let decoded: std::vec::Vec<Event> = decode_all(&stream)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(decoded, events);
}

#[test]
fn frames_contain_no_zero_byte_but_their_delimiter() {
    for m in sample_requests() {
        let f = frame(&m);
        assert_eq!(f.last(), Some(&0));
        assert!(!f[..f.len() - 1].contains(&0), "{m:?}");
        assert!(f.len() <= MAX_FRAME);
    }
}

#[test]
fn every_single_and_double_bit_flip_is_rejected() {
    for m in sample_requests() {
        let f = frame(&m);
        for bit in 0..(f.len() - 1) * 8 {
            for second in [None, Some((bit * 7 + 3) % ((f.len() - 1) * 8))] {
                let mut bad = f.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                if let Some(b) = second.filter(|&b| b != bit) {
                    bad[b / 8] ^= 1 << (b % 8);
                }
                for result in decode_all::<Request>(&bad) {
                    assert!(
                        result.as_ref() != Ok(&m) || bad == f,
                        "corrupted frame accepted"
                    );
                    assert!(
                        result.is_err(),
                        "corrupted frame of {m:?} decoded as {result:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_decoder_recovers_after_garbage_and_overflow() {
    let hello = Request::Hello {
        protocol_version: 1,
    };
    let mut stream = vec![0x55; MAX_FRAME + 10];
    stream.push(0);
    stream.extend(frame(&hello));
    let results = decode_all::<Request>(&stream);
    assert_eq!(results, vec![Err(FrameError::Overflow), Ok(hello)]);
    assert_eq!(
        decode_all::<Request>(&[2, 1, 0]),
        vec![Err(FrameError::Short)]
    );
    assert_eq!(
        decode_all::<Request>(&[3, 1, 0]),
        vec![Err(FrameError::Cobs)]
    );
}

#[test]
fn a_frame_never_decodes_as_the_other_direction() {
    for r in sample_requests() {
        assert_eq!(
            decode_all::<Event>(&frame(&r)),
            vec![Err(FrameError::Crc)],
            "{r:?}"
        );
    }
    for e in sample_events() {
        assert_eq!(
            decode_all::<Request>(&frame(&e)),
            vec![Err(FrameError::Crc)],
            "{e:?}"
        );
    }
}

/// Wire efficiency (byte counts, not time): per-inference samples must cost
/// 6 bytes or fewer each, and uploads must use 85% or more of the link.
#[test]
fn wire_efficiency() {
    // 14.5 M ticks: MLPerf Tiny KWS at 80 MHz, a 4-byte varint each.
    let samples = frame(&Event::Samples {
        first: 1_000,
        ticks: Vec::from_slice(&[14_500_000; MAX_SAMPLES]).unwrap(),
    });
    let per_sample = samples.len() as f64 / MAX_SAMPLES as f64;
    assert!(per_sample <= 6.0, "{per_sample} bytes per sample");
    let chunk = frame(&Request::ModelChunk {
        offset: 1 << 20,
        crc: u32::MAX,
        data: Vec::from_slice(&[0x5a; CHUNK]).unwrap(),
    });
    let efficiency = CHUNK as f64 / chunk.len() as f64;
    assert!(efficiency >= 0.85, "upload efficiency {efficiency}");
    println!(
        "samples: {per_sample:.3} bytes each; upload: {:.1}% of the link",
        efficiency * 100.0
    );
}
