//! A board's firmware, read once per run: the ELF's bytes and what vlab
//! needs from them (what goes to flash, which build it is, where its RTT
//! control block is, and its defmt table, through [`Firmware::defmt`]).

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};
use vlab_harness::{Error, Result};

use super::defmt::DefmtDecoder;

/// The symbol holding a firmware's 8-byte build hash (the hash `Identify`
/// reports).
pub const BUILD_HASH_SYMBOL: &str = "VLAB_BUILD_HASH";

/// A firmware ELF and the facts vlab reads from it.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// Where the ELF was read from.
    pub path: PathBuf,
    /// The ELF's bytes.
    pub bytes: Vec<u8>,
    /// Bytes that go to flash: the loadable segments' file contents.
    pub flash_bytes: u64,
    /// The build hash and its address on the target, when the firmware
    /// has the [`BUILD_HASH_SYMBOL`].
    pub build_hash: Option<(u64, [u8; 8])>,
    /// The address of the RTT control block (`_SEGGER_RTT`), when the
    /// firmware has one.
    pub rtt_control_block: Option<u64>,
}

impl Firmware {
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
        let rtt_control_block = probe_rs::rtt::find_rtt_control_block_in_raw_file(&data)
            .ok()
            .flatten();
        Ok(Self {
            path: elf.to_path_buf(),
            bytes: data,
            flash_bytes,
            build_hash,
            rtt_control_block,
        })
    }

    /// The RTT control block's address, or why an RTT link cannot reach it.
    pub fn rtt_control_block(&self) -> Result<u64> {
        self.rtt_control_block.ok_or_else(|| {
            Error::input(format!(
                "{} has no RTT control block (_SEGGER_RTT): build the board with \
                 vlab-board-support's `rtt` feature, or use a serial transport",
                self.path.display()
            ))
        })
    }

    /// The decoder of the firmware's defmt logs, or `None` when it does not
    /// log with defmt.
    pub fn defmt(&self) -> Result<Option<DefmtDecoder>> {
        DefmtDecoder::from_elf(&self.path, &self.bytes)
    }
}

/// A build hash as the reports show it: 16 hex digits.
pub fn hex(hash: &[u8; 8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(board: &str, target: &str) -> Firmware {
        let elf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../boards/target")
            .join(target)
            .join("release")
            .join(format!("vlab-board-{board}"));
        assert!(elf.is_file(), "run scripts/build-firmware.sh first");
        Firmware::read(&elf).unwrap()
    }

    #[test]
    fn reads_the_qemu_firmware_build_hash_and_flash_size() {
        let image = built("qemu-mps2-an385", "thumbv7m-none-eabi");
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
        let err = Firmware::read(&path).unwrap_err();
        assert!(
            err.message().contains("fw.elf: not an ELF"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_rtt_control_block_is_found_in_an_rtt_board_elf_and_its_absence_is_named() {
        let rtt = built("nrf52840-dk", "thumbv7em-none-eabihf");
        let address = rtt.rtt_control_block().unwrap();
        assert!(
            (0x2000_0000..0x2004_0000).contains(&address),
            "{address:#x}"
        );

        let uart = built("qemu-mps2-an385", "thumbv7m-none-eabi");
        let error = uart.rtt_control_block().unwrap_err();
        assert!(
            error.message().contains("no RTT control block"),
            "{}",
            error.message()
        );
    }
}
