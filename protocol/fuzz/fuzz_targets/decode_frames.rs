//! Fuzzes the frame decoder with arbitrary byte streams, as both directions
//! see them. A panic is a finding; every decoded message must re-encode to a
//! frame that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vlab_protocol::{Decoder, Event, MAX_FRAME, Message, Request, encode};

fn check<T: Message + PartialEq + core::fmt::Debug>(data: &[u8]) {
    let mut decoder = Decoder::new();
    for &byte in data {
        if let Some(Ok(message)) = decoder.push::<T>(byte) {
            let mut frame = [0u8; MAX_FRAME];
            let n = encode(&message, &mut frame).expect("a decoded message re-encodes");
            let mut again = Decoder::new();
            let back = frame[..n].iter().find_map(|&b| again.push::<T>(b));
            assert_eq!(back, Some(Ok(message)));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<Request>(data);
    check::<Event>(data);
});
