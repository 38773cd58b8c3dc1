//! The agent serving a byte stream: an in-memory buffer stands in for the
//! UART.

use std::time::Instant;

use vlab_firmware::{Agent, Memory};
use vlab_protocol::{Decoder, ErrorCode, Event, MAX_FRAME, PROTOCOL_VERSION, Request, encode};

use crate::support::{HostClock, INFO, Pipe};

#[test]
fn a_bad_frame_gets_an_error_frame_and_the_agent_keeps_serving() {
    let mut hello = [0u8; MAX_FRAME];
    let n = encode(
        &Request::Hello {
            protocol_version: PROTOCOL_VERSION,
        },
        &mut hello,
    )
    .unwrap();
    let mut corrupt = hello[..n].to_vec();
    corrupt[2] ^= 0x40;
    let mut incoming = corrupt;
    incoming.extend_from_slice(&hello[..n]);
    let mut pipe = Pipe::new(incoming);
    let (mut slot, mut arena, mut samples) = (vec![0u8; 1024], vec![0u8; 1024], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    Agent::new(INFO, HostClock(Instant::now()), mem)
        .serve(&mut pipe)
        .unwrap();
    let mut decoder = Decoder::new();
    let events: std::vec::Vec<Event> = pipe
        .outgoing
        .iter()
        .filter_map(|&b| decoder.push::<Event>(b))
        .map(Result::unwrap)
        .collect();
    assert!(
        matches!(
            &events[0],
            Event::Error {
                code: ErrorCode::BadFrame,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(matches!(&events[1], Event::Identify(_)), "{events:?}");
    assert_eq!(events.len(), 2);
}
