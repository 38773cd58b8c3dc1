//! The agent serving a byte stream: an in-memory buffer stands in for the
//! UART.

use std::time::Instant;

use vlab_firmware::{Agent, Memory};
use vlab_protocol::{Decoder, ErrorCode, Event, MAX_FRAME, PROTOCOL_VERSION, Request, encode};

use crate::support::{HostClock, INFO};

struct Pipe {
    incoming: std::vec::Vec<u8>,
    read: usize,
    outgoing: std::vec::Vec<u8>,
}

impl embedded_io::ErrorType for Pipe {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.incoming.len() - self.read);
        buf[..n].copy_from_slice(&self.incoming[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

impl embedded_io::Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.outgoing.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

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
    let mut pipe = Pipe {
        incoming,
        read: 0,
        outgoing: std::vec::Vec::new(),
    };
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
