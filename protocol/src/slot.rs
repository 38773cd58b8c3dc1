//! The flash slot's header: what a flasher writes before the model, so that
//! the firmware knows the model without the host (an MLPerf Tiny runner
//! sends no model), and the host can ask for it by length and CRC.
//!
//! ```text
//! offset  bytes  field
//!      0      8  magic "vlabslot"
//!      8      4  header version (1), little-endian
//!     12      4  model length in bytes, little-endian
//!     16      4  CRC-32 of the model (as chunk_crc), little-endian
//!     20      8  MLPerf Tiny model key, ASCII, zero-padded ("kws01"; zeros if none)
//!     28      4  zero
//!     32      …  the model
//! ```
//!
//! The model starts 32 bytes in, so a slot aligned for a model stays so.

/// Bytes of the header; the model follows it.
pub const SLOT_HEADER_BYTES: usize = 32;

const MAGIC: &[u8; 8] = b"vlabslot";
const VERSION: u32 = 1;

/// Most bytes of an MLPerf Tiny model key.
pub const MAX_KEY: usize = 8;

/// What the flash slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotHeader {
    /// Model length in bytes.
    pub len: u32,
    /// CRC-32 of the model.
    pub crc: u32,
    /// MLPerf Tiny model key, zero-padded; all zeros when none was given.
    pub key: [u8; MAX_KEY],
}

impl SlotHeader {
    /// The header of `model` with MLPerf Tiny key `key` (at most
    /// [`MAX_KEY`] ASCII bytes; `None` if longer or not ASCII).
    pub fn new(model: &[u8], key: &str) -> Option<Self> {
        if key.len() > MAX_KEY || !key.is_ascii() || key.bytes().any(|b| b == 0) {
            return None;
        }
        let mut padded = [0u8; MAX_KEY];
        padded[..key.len()].copy_from_slice(key.as_bytes());
        Some(Self {
            len: u32::try_from(model.len()).ok()?,
            crc: crate::chunk_crc(model),
            key: padded,
        })
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; SLOT_HEADER_BYTES] {
        let mut out = [0u8; SLOT_HEADER_BYTES];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&self.len.to_le_bytes());
        out[16..20].copy_from_slice(&self.crc.to_le_bytes());
        out[20..28].copy_from_slice(&self.key);
        out
    }

    /// The header at the start of `slot`, if there is a valid one.
    pub fn decode(slot: &[u8]) -> Option<Self> {
        let header = slot.get(..SLOT_HEADER_BYTES)?;
        let word = |at: usize| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&header[at..at + 4]);
            u32::from_le_bytes(bytes)
        };
        if &header[..8] != MAGIC || word(8) != VERSION || word(28) != 0 {
            return None;
        }
        let mut key = [0u8; MAX_KEY];
        key.copy_from_slice(&header[20..28]);
        Some(Self {
            len: word(12),
            crc: word(16),
            key,
        })
    }

    /// The model key as text ("" when none, or not ASCII).
    pub fn key(&self) -> &str {
        let end = self.key.iter().position(|&b| b == 0).unwrap_or(MAX_KEY);
        core::str::from_utf8(&self.key[..end])
            .ok()
            .filter(|k| k.is_ascii())
            .unwrap_or("")
    }

    /// The model these bytes of a slot hold, if the header's length fits the
    /// slot and the CRC matches.
    pub fn model<'s>(&self, slot: &'s [u8]) -> Option<&'s [u8]> {
        let end = SLOT_HEADER_BYTES.checked_add(self.len as usize)?;
        let model = slot.get(SLOT_HEADER_BYTES..end)?;
        (!model.is_empty() && crate::chunk_crc(model) == self.crc).then_some(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_finds_its_model() {
        let model = [7u8, 1, 2, 3, 4];
        let header = SlotHeader::new(&model, "kws01").unwrap();
        let mut slot = [0xffu8; 64];
        slot[..SLOT_HEADER_BYTES].copy_from_slice(&header.encode());
        slot[SLOT_HEADER_BYTES..SLOT_HEADER_BYTES + 5].copy_from_slice(&model);
        let read = SlotHeader::decode(&slot).unwrap();
        assert_eq!(read, header);
        assert_eq!(read.key(), "kws01");
        assert_eq!(read.model(&slot), Some(&model[..]));
    }

    #[test]
    fn erased_short_or_corrupt_slots_hold_nothing() {
        assert_eq!(SlotHeader::decode(&[0xff; 64]), None);
        assert_eq!(SlotHeader::decode(&[0; 16]), None);
        let model = [1u8; 8];
        let header = SlotHeader::new(&model, "").unwrap();
        assert_eq!(header.key(), "");
        let mut slot = [0u8; 48];
        slot[..SLOT_HEADER_BYTES].copy_from_slice(&header.encode());
        slot[SLOT_HEADER_BYTES..40].copy_from_slice(&model);
        slot[35] ^= 1;
        assert_eq!(header.model(&slot), None, "a flipped bit fails the CRC");
        assert_eq!(header.model(&slot[..39]), None, "a slot too short");
        assert_eq!(SlotHeader::new(&model, "much-too-long"), None);
    }
}
