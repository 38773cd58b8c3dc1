//! The model slot the flasher fills: a memory region outside the
//! firmware's image (board.toml `[memory.flash_slot]`), which the agent
//! only reads. On QEMU it is the PSRAM, filled by vlab at launch; on a
//! board with a probe, flash that `vlab` writes the model into.

#![allow(unsafe_code)]

/// The slot's bytes: `bytes` from `address` (empty when `bytes` is 0).
///
/// # Safety
///
/// `address..address + bytes` must be memory that is always mapped, is
/// not part of the firmware's image, and that nothing writes while the
/// firmware runs (board.toml's `[memory.flash_slot]` says so).
pub unsafe fn contents(address: usize, bytes: usize) -> &'static [u8] {
    if bytes == 0 {
        return &[];
    }
    // SAFETY: the caller's contract above.
    unsafe { core::slice::from_raw_parts(address as *const u8, bytes) }
}
