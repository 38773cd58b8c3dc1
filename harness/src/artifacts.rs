//! The output folder of a run and the artifacts the pipeline expects in it:
//! `report.json`, `vlab-report.json`, `user.log`, `error.log` and, for TYPE2,
//! `raw_output.bin`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::platform::error::{Error, Result, describe_io};

/// The pipeline contract's report.
pub const REPORT: &str = "report.json";
/// vlab's full report.
pub const VLAB_REPORT: &str = "vlab-report.json";
/// What the user may see.
pub const USER_LOG: &str = "user.log";
/// Failures, in words a user can act on; empty after a successful run.
pub const ERROR_LOG: &str = "error.log";
/// TYPE2 outputs of every sample, in sample order.
pub const RAW_OUTPUT: &str = "raw_output.bin";
/// The raw output while it is being written; renamed to [`RAW_OUTPUT`] on
/// success and left in place (with its partial content) on failure.
pub const RAW_OUTPUT_PARTIAL: &str = "raw_output.bin.partial";
/// The page people read.
pub const HTML_REPORT: &str = "report.html";
/// What a run measured before it failed ([`crate::report::partial`]).
pub const VLAB_REPORT_PARTIAL: &str = "vlab-report.json.partial";

/// Artifacts of an earlier run that would pass for this run's results.
const STALE: [&str; 6] = [
    REPORT,
    VLAB_REPORT,
    HTML_REPORT,
    RAW_OUTPUT,
    RAW_OUTPUT_PARTIAL,
    VLAB_REPORT_PARTIAL,
];

/// A prepared, writable output folder.
#[derive(Debug, Clone)]
pub struct OutputDir {
    path: PathBuf,
}

impl OutputDir {
    /// Creates the folder if needed, checks that it is writable, removes the
    /// result files of an earlier run (so a failure never leaves a report that
    /// looks like a success) and starts empty `user.log` and `error.log`.
    pub fn prepare(path: &Path) -> Result<Self> {
        let unwritable = |e: &std::io::Error| {
            Error::input(format!(
                "output folder {}: not writable: {}",
                path.display(),
                describe_io(e)
            ))
        };
        std::fs::create_dir_all(path).map_err(|e| unwritable(&e))?;
        if !path.is_dir() {
            return Err(Error::input(format!(
                "output folder {}: exists and is not a folder",
                path.display()
            )));
        }
        for name in [USER_LOG, ERROR_LOG] {
            File::create(path.join(name)).map_err(|e| unwritable(&e))?;
        }
        for name in STALE {
            match std::fs::remove_file(path.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(unwritable(&e)),
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a line to `user.log`.
    pub fn log(&self, line: &str) -> Result<()> {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.path.join(USER_LOG))
            .map_err(|e| self.write_error(USER_LOG, &e))?;
        writeln!(f, "{line}").map_err(|e| self.write_error(USER_LOG, &e))
    }

    /// Appends a line to `error.log`: a failure in words a user can act on.
    pub fn log_error(&self, line: &str) -> Result<()> {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.path.join(ERROR_LOG))
            .map_err(|e| self.write_error(ERROR_LOG, &e))?;
        writeln!(f, "{line}").map_err(|e| self.write_error(ERROR_LOG, &e))
    }

    /// A buffered writer for the raw output of a TYPE2 run.
    pub fn raw_output_writer(&self) -> Result<BufWriter<File>> {
        let file = File::create(self.path.join(RAW_OUTPUT_PARTIAL))
            .map_err(|e| self.write_error(RAW_OUTPUT_PARTIAL, &e))?;
        Ok(BufWriter::new(file))
    }

    /// Writes `bytes` as the artifact `name`, whole or not at all (through
    /// a temporary file renamed into place).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self.path.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| self.write_error(name, &e))?;
        std::fs::rename(&tmp, self.path.join(name)).map_err(|e| self.write_error(name, &e))
    }

    /// Completes the raw output: `raw_output.bin.partial` becomes
    /// `raw_output.bin`.
    pub fn complete_raw_output(&self) -> Result<()> {
        std::fs::rename(
            self.path.join(RAW_OUTPUT_PARTIAL),
            self.path.join(RAW_OUTPUT),
        )
        .map_err(|e| self.write_error(RAW_OUTPUT, &e))
    }

    /// Records a failure in `error.log` and `user.log`. Writing is best
    /// effort: the caller reports the original error either way.
    pub fn write_failure(&self, err: &Error) {
        let _ = self.log_error(&format!("error: {}", err.message()));
        let _ = self.log(&format!("benchmark failed: {}", err.message()));
        if self.path.join(VLAB_REPORT_PARTIAL).exists() {
            let _ = self.log(&format!(
                "what was measured before the failure is kept in {VLAB_REPORT_PARTIAL}"
            ));
        }
        if self.path.join(RAW_OUTPUT_PARTIAL).exists() {
            let _ = self.log(&format!(
                "outputs written before the failure are kept in {RAW_OUTPUT_PARTIAL}"
            ));
        }
    }

    fn write_error(&self, name: &str, e: &std::io::Error) -> Error {
        Error::runtime(format!(
            "cannot write {}: {}",
            self.path.join(name).display(),
            describe_io(e)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vlab-artifacts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn prepare_clears_stale_results_and_failure_writes_error_log() {
        let dir = temp_dir("stale");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(REPORT), "{}").unwrap();
        std::fs::write(dir.join(ERROR_LOG), "old").unwrap();
        let out = OutputDir::prepare(&dir).unwrap();
        assert!(!dir.join(REPORT).exists());
        assert_eq!(std::fs::read_to_string(dir.join(ERROR_LOG)).unwrap(), "");
        out.write_failure(&Error::input("model.onnx: the file is empty"));
        let log = std::fs::read_to_string(dir.join(ERROR_LOG)).unwrap();
        assert_eq!(log, "error: model.onnx: the file is empty\n");
        assert!(
            std::fs::read_to_string(dir.join(USER_LOG))
                .unwrap()
                .contains("benchmark failed")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_in_the_way_is_an_input_error() {
        let dir = temp_dir("file");
        std::fs::write(&dir, "not a folder").unwrap();
        let err = OutputDir::prepare(&dir).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        std::fs::remove_file(dir).unwrap();
    }
}
