//! Framing: postcard payload + CRC-32 (XOR a direction mask), COBS-encoded,
//! zero-terminated.

use crc::{CRC_32_ISO_HDLC, Crc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A message type of one direction. Its frames' CRC is XORed with
/// [`Message::DIRECTION`], so a frame sent one way never decodes as a
/// message of the other way.
pub trait Message: Serialize + DeserializeOwned {
    /// The direction's CRC mask.
    const DIRECTION: u32;
}

impl Message for crate::Request {
    /// ASCII `"HOST"`.
    const DIRECTION: u32 = u32::from_le_bytes(*b"HOST");
}

impl Message for crate::Event {
    /// ASCII `"BORD"`.
    const DIRECTION: u32 = u32::from_le_bytes(*b"BORD");
}

/// The CRC-32 of frames and chunks (ISO-HDLC, the common "CRC-32").
pub(crate) const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// Largest serialised message, bytes.
pub const MAX_PAYLOAD: usize = 320;
/// Largest frame on the wire, delimiter included.
pub const MAX_FRAME: usize = cobs::max_encoding_length(MAX_PAYLOAD + 4) + 1;

/// Why a frame was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes than [`MAX_FRAME`] before a delimiter; they were dropped.
    Overflow,
    /// Not valid COBS.
    Cobs,
    /// Shorter than a CRC.
    Short,
    /// The CRC does not match.
    Crc,
    /// The payload is not a message of the expected type.
    Decode,
    /// The message does not fit in [`MAX_PAYLOAD`] (encoding only).
    TooLarge,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::Overflow => "frame longer than the maximum",
            FrameError::Cobs => "frame is not valid COBS",
            FrameError::Short => "frame shorter than its CRC",
            FrameError::Crc => "frame CRC mismatch",
            FrameError::Decode => "frame payload is not a valid message",
            FrameError::TooLarge => "message larger than the maximum payload",
        })
    }
}

/// Encodes `message` into `out` as one frame (delimiter included) and
/// returns its length.
pub fn encode<T: Message>(message: &T, out: &mut [u8; MAX_FRAME]) -> Result<usize, FrameError> {
    let mut payload = [0u8; MAX_PAYLOAD + 4];
    let used = postcard::to_slice(message, &mut payload[..MAX_PAYLOAD])
        .map_err(|_| FrameError::TooLarge)?
        .len();
    let crc = CRC32.checksum(&payload[..used]) ^ T::DIRECTION;
    payload[used..used + 4].copy_from_slice(&crc.to_le_bytes());
    let n = cobs::encode(&payload[..used + 4], &mut out[..MAX_FRAME - 1]);
    out[n] = 0;
    Ok(n + 1)
}

/// CRC-32 of a chunk of data.
pub fn chunk_crc(data: &[u8]) -> u32 {
    CRC32.checksum(data)
}

/// Reassembles frames from a byte stream, one byte at a time.
pub struct Decoder {
    buf: [u8; MAX_FRAME],
    len: usize,
    overflowed: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME],
            len: 0,
            overflowed: false,
        }
    }

    /// Feeds one byte. Returns a decoded message or an error when a frame
    /// ends (at a zero byte), and `None` in the middle of a frame. After an
    /// error the decoder is ready for the next frame.
    pub fn push<T: Message>(&mut self, byte: u8) -> Option<Result<T, FrameError>> {
        if byte != 0 {
            if self.len < MAX_FRAME {
                self.buf[self.len] = byte;
                self.len += 1;
            } else {
                self.overflowed = true;
            }
            return None;
        }
        let (len, overflowed) = (self.len, self.overflowed);
        self.len = 0;
        self.overflowed = false;
        if len == 0 {
            return None;
        }
        Some(if overflowed {
            Err(FrameError::Overflow)
        } else {
            decode_frame(&mut self.buf[..len])
        })
    }
}

/// Decodes one COBS-encoded frame (without its delimiter), in place.
fn decode_frame<T: Message>(frame: &mut [u8]) -> Result<T, FrameError> {
    let n = cobs::decode_in_place(frame).map_err(|_| FrameError::Cobs)?;
    let payload = frame.get(..n).ok_or(FrameError::Cobs)?;
    if payload.len() < 4 {
        return Err(FrameError::Short);
    }
    let (body, crc) = payload.split_at(payload.len() - 4);
    if (CRC32.checksum(body) ^ T::DIRECTION).to_le_bytes() != crc {
        return Err(FrameError::Crc);
    }
    postcard::from_bytes(body).map_err(|_| FrameError::Decode)
}
