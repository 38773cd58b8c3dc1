//! The filesystem that holds a file: on a Linux target the model lives
//! there, so its size and use are the contract's `flash_size` and
//! `flash_usage`.

use std::path::Path;

/// Size and use of a filesystem, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storage {
    /// Total size.
    pub total: u64,
    /// In use (total minus free).
    pub used: u64,
}

/// The filesystem holding `path`, if `statvfs` can tell.
pub fn holding(path: &Path) -> Option<Storage> {
    let folder = if path.is_dir() { path } else { path.parent()? };
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let stat = nix::sys::statvfs::statvfs(folder).ok()?;
    let block = stat.fragment_size();
    let total = stat.blocks().checked_mul(block)?;
    let free = stat.blocks_free().checked_mul(block)?;
    (total > 0).then(|| Storage {
        total,
        used: total.saturating_sub(free),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filesystem_of_a_file_has_a_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.tflite");
        std::fs::write(&file, b"x").unwrap();
        let storage = holding(&file).unwrap();
        assert!(storage.total > 0 && storage.used <= storage.total);
        assert_eq!(holding(&file), holding(dir.path()));
    }
}
