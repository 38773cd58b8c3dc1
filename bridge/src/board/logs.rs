//! Where a board's decoded firmware logs go: info and above (and
//! `println!`) to user.log, errors also to error.log, everything to stderr
//! with `--verbose`.

use vlab_harness::{OutputDir, Result};

use super::defmt::{Level, LogLine};
use super::firmware::Firmware;
use crate::session::LogSink;

/// The sink of the firmware's defmt bytes (from its Log frames or RTT
/// channel), decoded with `firmware`'s table; `None`, said in user.log,
/// when there is no table to decode with.
pub fn sink(
    firmware: Option<&Firmware>,
    out: &OutputDir,
    verbose: bool,
) -> Result<Option<LogSink>> {
    let Some(firmware) = firmware else {
        out.log("board logs not decoded: vlab has no ELF of the board's firmware")?;
        return Ok(None);
    };
    match firmware.defmt() {
        Ok(Some(mut decoder)) => {
            let out = out.clone();
            Ok(Some(Box::new(move |bytes| {
                for line in decoder.received(bytes) {
                    route(&line, &out, verbose);
                }
            })))
        }
        Ok(None) => {
            out.log(&format!(
                "board logs not decoded: {} has no defmt table",
                firmware.path.display()
            ))?;
            Ok(None)
        }
        Err(e) => {
            out.log(&format!("board logs not decoded: {}", e.message()))?;
            Ok(None)
        }
    }
}

/// Writes one firmware log line where it belongs. Writing is best effort:
/// a log line never fails the benchmark.
fn route(line: &LogLine, out: &OutputDir, verbose: bool) {
    if verbose {
        eprintln!("board: {line}");
    }
    if line.level.is_none_or(|level| level >= Level::Info) {
        let _ = out.log(&format!("board: {line}"));
    }
    if line.level == Some(Level::Error) {
        let _ = out.log_error(&format!("board: {}", line.text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: Option<Level>, text: &str) -> LogLine {
        LogLine {
            level,
            text: text.to_owned(),
        }
    }

    #[test]
    fn firmware_logs_go_to_user_log_and_errors_also_to_error_log() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(dir.path()).unwrap();
        route(&line(Some(Level::Debug), "debug detail"), &out, false);
        route(&line(Some(Level::Info), "model received"), &out, false);
        route(&line(Some(Level::Warn), "bad frame"), &out, false);
        route(
            &line(Some(Level::Error), "request failed: arena"),
            &out,
            false,
        );
        route(&line(None, "println"), &out, false);
        let user = std::fs::read_to_string(dir.path().join("user.log")).unwrap();
        assert_eq!(
            user,
            "board: INFO  model received\nboard: WARN  bad frame\n\
             board: ERROR request failed: arena\nboard: println\n"
        );
        let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
        assert_eq!(errors, "board: request failed: arena\n");
    }
}
