//! The model slot the flasher fills: a memory region outside the
//! firmware's image (board.toml `[memory.flash_slot]`), which the agent
//! only reads. On QEMU it is the PSRAM, filled by vlab at launch.

#![allow(unsafe_code)]

/// Start of the slot.
const ADDRESS: usize = crate::decimal(env!("VLAB_FLASH_SLOT_ADDRESS"));
/// Size of the slot.
const BYTES: usize = crate::decimal(env!("VLAB_FLASH_SLOT_BYTES"));

/// The slot's bytes.
pub fn contents() -> &'static [u8] {
    // SAFETY: board.toml places the slot in memory that is always mapped
    // on this machine, is not part of the firmware's image, and nothing
    // writes while the firmware runs.
    unsafe { core::slice::from_raw_parts(ADDRESS as *const u8, BYTES) }
}
