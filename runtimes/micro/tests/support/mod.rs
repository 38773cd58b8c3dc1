//! What vlab-micro's tests and examples share: where the repository is, and
//! the MLPerf Tiny reference data, which a clone may not have beside it.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The MLPerf Tiny reference data folder: `VLAB_REFERENCE_DATA` (a relative
/// path is taken from the repository root), by default
/// ../shared/mlperf-tiny beside the repository. `None` when it is absent,
/// after printing that what needs it is skipped and why.
pub fn reference_data() -> Option<PathBuf> {
    let dir = root().join(
        std::env::var_os("VLAB_REFERENCE_DATA")
            .map_or_else(|| PathBuf::from("../shared/mlperf-tiny"), PathBuf::from),
    );
    if dir.is_dir() {
        return Some(dir);
    }
    let thread = std::thread::current();
    eprintln!(
        "{}: skipped what needs the MLPerf Tiny reference data: not found at {} (set VLAB_REFERENCE_DATA)",
        thread.name().unwrap_or("vlab-micro"),
        dir.display()
    );
    None
}
