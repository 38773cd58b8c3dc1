//! MLPerf Tiny's line layer from the host's side: a command out, `%`
//! appended, and its reply in: every line up to the one that is exactly
//! `m-ready`, each within a deadline. Stricter than the official runner,
//! which ends a reply at any line that merely contains `m-ready`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vlab_harness::{Error, Result};

use crate::transport::Link;

/// The end of every reply.
pub const READY: &str = "m-ready";

/// A DUT's UART, line by line.
pub struct Lines {
    link: Box<dyn Link>,
    pending: Vec<u8>,
    /// What the link is, for messages.
    pub description: String,
}

impl Lines {
    /// Lines over `link`, described as `description` in errors.
    pub fn new(link: Box<dyn Link>, description: String) -> Self {
        Self {
            link,
            pending: Vec::new(),
            description,
        }
    }

    /// Sends `command` and `%`.
    pub async fn send(&mut self, command: &str) -> Result<()> {
        let mut bytes = command.as_bytes().to_vec();
        bytes.push(b'%');
        self.link
            .write_all(&bytes)
            .await
            .and(self.link.flush().await)
            .map_err(|e| {
                Error::runtime(format!("{}: cannot send {command}%: {e}", self.description))
            })
    }

    /// The next line, `\r` and NUL dropped, waiting at most `within`;
    /// `None` when nothing complete came in time.
    pub async fn line(&mut self, within: Duration) -> Result<Option<String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.pending.drain(..=end).collect();
                let text: String = raw
                    .iter()
                    .filter(|&&b| b != b'\r' && b != b'\n' && b != 0)
                    .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
                    .collect();
                return Ok(Some(text));
            }
            let mut buf = [0u8; 512];
            let read = tokio::time::timeout_at(deadline, self.link.read(&mut buf)).await;
            match read {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => {
                    return Err(Error::runtime(format!(
                        "{}: the device closed the connection",
                        self.description
                    )));
                }
                Ok(Ok(n)) => self.pending.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => {
                    return Err(Error::runtime(format!(
                        "{}: reading the device failed: {e}",
                        self.description
                    )));
                }
            }
        }
    }

    /// Drops whatever arrives until `quiet` passes without a byte.
    pub async fn drain(&mut self, quiet: Duration) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        while let Some(line) = self.line(quiet).await? {
            dropped.push(line);
        }
        if !self.pending.is_empty() {
            dropped.push(String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned());
        }
        Ok(dropped)
    }

    /// Sends `command` and reads its reply: the lines before `m-ready`.
    /// `timeout(i)` is the deadline of the reply's line `i`. An `e-` line
    /// is an error naming the command.
    pub async fn command(
        &mut self,
        command: &str,
        timeout: &dyn Fn(usize) -> Duration,
    ) -> Result<Vec<String>> {
        self.send(command).await?;
        let mut reply = Vec::new();
        loop {
            let within = timeout(reply.len());
            let Some(line) = self.line(within).await? else {
                return Err(Error::runtime(format!(
                    "{}: no answer to {command}% within {:.1} s after {}",
                    self.description,
                    within.as_secs_f64(),
                    match reply.last() {
                        Some(last) => format!("{last:?}"),
                        None => "sending it".to_owned(),
                    }
                )));
            };
            if line == READY {
                break;
            }
            if !line.is_empty() {
                reply.push(line);
            }
        }
        if let Some(error) = reply.iter().find(|l| l.starts_with("e-")) {
            return Err(Error::runtime(format!(
                "{}: the device refused {command}%: {error}",
                self.description
            )));
        }
        Ok(reply)
    }
}
