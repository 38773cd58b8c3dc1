//! Facts vlab reads from a firmware ELF: what it puts in flash and which
//! build it is.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};
use vlab_harness::{Error, Result};

/// The symbol holding a firmware's 8-byte build hash (the hash `Identify`
/// reports).
pub const BUILD_HASH_SYMBOL: &str = "VLAB_BUILD_HASH";

/// A firmware image.
#[derive(Debug, Clone)]
pub struct FirmwareImage {
    /// Bytes that go to flash: the loadable segments' file contents.
    pub flash_bytes: u64,
    /// The build hash and its address on the target, when the firmware
    /// has the [`BUILD_HASH_SYMBOL`].
    pub build_hash: Option<(u64, [u8; 8])>,
}

impl FirmwareImage {
    /// Reads the ELF at `elf`.
    pub fn read(elf: &Path) -> Result<Self> {
        let data = std::fs::read(elf).map_err(|e| Error::io(elf, &e))?;
        let not_elf = |e: object::Error| {
            Error::runtime(format!("firmware {}: not an ELF: {e}", elf.display()))
        };
        let file = object::File::parse(&*data).map_err(not_elf)?;
        let flash_bytes = file.segments().map(|s| s.file_range().1).sum();
        let build_hash = file
            .symbols()
            .find(|s| s.name() == Ok(BUILD_HASH_SYMBOL))
            .and_then(|symbol| {
                let section = file.section_by_index(symbol.section_index()?).ok()?;
                let offset = symbol.address().checked_sub(section.address())?;
                let bytes = section.data().ok()?;
                let start = usize::try_from(offset).ok()?;
                let hash: [u8; 8] = bytes.get(start..start + 8)?.try_into().ok()?;
                Some((symbol.address(), hash))
            });
        Ok(Self {
            flash_bytes,
            build_hash,
        })
    }
}

/// A build hash as the reports show it: 16 hex digits.
pub fn hex(hash: &[u8; 8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_qemu_firmware_build_hash_and_flash_size() {
        let elf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../boards/target/thumbv7m-none-eabi/release/vlab-board-qemu-mps2-an385");
        assert!(elf.is_file(), "run scripts/build-firmware.sh first");
        let image = FirmwareImage::read(&elf).unwrap();
        let (address, hash) = image.build_hash.unwrap();
        assert!(address < 0x0040_0000, "in the AN385's code memory");
        assert_ne!(hash, [0; 8]);
        assert!(image.flash_bytes > 10_000);
    }

    #[test]
    fn a_file_that_is_not_an_elf_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fw.elf");
        std::fs::write(&path, b"\x7fELF but not really").unwrap();
        let err = FirmwareImage::read(&path).unwrap_err();
        assert!(
            err.message().contains("fw.elf: not an ELF"),
            "{}",
            err.message()
        );
    }
}
