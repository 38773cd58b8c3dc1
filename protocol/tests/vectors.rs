//! The test vectors of docs/protocol.md: each row of its vector table must be
//! exactly the frame this crate encodes for the message the row names, and
//! must decode back to it.

#![allow(missing_docs, clippy::unwrap_used)]

use heapless::Vec;
use vlab_protocol::{Decoder, ErrorCode, Event, MAX_FRAME, Message, Request, RunSummary, encode};

fn hex<T: Message>(m: &T) -> String {
    let mut out = [0u8; MAX_FRAME];
    let n = encode(m, &mut out).unwrap();
    out[..n]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<std::vec::Vec<_>>()
        .join(" ")
}

fn decodes_to<T: Message + PartialEq + std::fmt::Debug>(hex: &str, want: &T) {
    let bytes: std::vec::Vec<u8> = hex
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let mut d = Decoder::new();
    let got: std::vec::Vec<T> = bytes
        .iter()
        .filter_map(|&b| d.push::<T>(b))
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.as_slice(), std::slice::from_ref(want));
}

/// One vector: its name in the document, the frame this crate makes, and a
/// check that the documented bytes decode back to the message.
type Vector = (&'static str, String, Box<dyn Fn(&str)>);

/// Every vector of the document.
fn vectors() -> std::vec::Vec<Vector> {
    let hello = Request::Hello {
        protocol_version: 2,
    };
    let run = Request::Run {
        id: 1,
        warmup: 2,
        iterations: 20,
        samples: true,
        per_layer: false,
    };
    let chunk = Request::InputChunk {
        index: 0,
        offset: 0,
        data: Vec::from_slice(&[0, 1, 2, 0, 255]).unwrap(),
    };
    let samples = Event::Samples {
        first: 0,
        ticks: Vec::from_slice(&[1000, 1001, 130_000]).unwrap(),
    };
    let done = Event::Done(RunSummary {
        id: 1,
        iterations: 3,
        total_ticks: 132_001,
        min_ticks: 1000,
        max_ticks: 130_000,
        arena_used: 16000,
        stack_used: 0,
    });
    let error = Event::Error {
        code: ErrorCode::Version,
        detail: "v2".try_into().unwrap(),
    };
    vec![
        (
            "hello",
            hex(&hello),
            Box::new(move |h: &str| decodes_to(h, &hello)),
        ),
        (
            "run",
            hex(&run),
            Box::new(move |h: &str| decodes_to(h, &run)),
        ),
        (
            "input-chunk",
            hex(&chunk),
            Box::new(move |h: &str| decodes_to(h, &chunk)),
        ),
        (
            "samples",
            hex(&samples),
            Box::new(move |h: &str| decodes_to(h, &samples)),
        ),
        (
            "done",
            hex(&done),
            Box::new(move |h: &str| decodes_to(h, &done)),
        ),
        (
            "error",
            hex(&error),
            Box::new(move |h: &str| decodes_to(h, &error)),
        ),
    ]
}

#[test]
fn document_vectors_match_the_encoder() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .unwrap();
    for (name, frame, check) in vectors() {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| {
                panic!(
                    "docs/protocol.md has no vector row `{name}`; this crate encodes it as {frame}"
                )
            });
        let documented = row.rsplit('`').nth(1).unwrap();
        assert_eq!(documented, frame, "vector `{name}` in docs/protocol.md");
        check(documented);
    }
}
