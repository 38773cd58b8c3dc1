//! Launching an emulated board: QEMU with the firmware, its UART on a
//! loopback TCP port or a pseudo-terminal, killed when dropped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use vlab_harness::{Error, Result};

/// The QEMU binary for Arm boards.
pub const QEMU: &str = "qemu-system-arm";

/// Where QEMU puts the board's UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// A TCP server on 127.0.0.1 that holds the CPU until vlab connects.
    Tcp,
    /// A TCP server on 127.0.0.1 with the CPU running from the start, for a
    /// device that hosts connect to and leave (an MLPerf Tiny DUT): the
    /// firmware is ready for the first byte of every connection.
    TcpRunning,
    /// A pseudo-terminal, opened as a serial port.
    Pty,
}

/// A running QEMU. Dropping it kills QEMU.
pub struct Qemu {
    child: Child,
    /// QEMU's stdout and stderr (semihosting output, QEMU's own messages).
    log: PathBuf,
    _log_dir: tempfile::TempDir,
    /// Where the UART is: `127.0.0.1:PORT` or the pty's path.
    endpoint: String,
}

impl Qemu {
    /// Starts `machine` with `elf`, the UART as `serial` says,
    /// `-icount shift=N` when given, and `preload` (bytes and an address)
    /// loaded into memory, as a flasher would.
    pub fn start(
        machine: &str,
        elf: &Path,
        serial: Serial,
        icount_shift: Option<u8>,
        preload: Option<(&[u8], u64)>,
    ) -> Result<Self> {
        let log_dir = tempfile::tempdir()
            .map_err(|e| Error::runtime(format!("cannot create a folder for QEMU's log: {e}")))?;
        let log = log_dir.path().join("qemu.log");
        let file = File::create(&log)
            .map_err(|e| Error::runtime(format!("cannot create QEMU's log: {e}")))?;
        let stderr = file
            .try_clone()
            .map_err(|e| Error::runtime(format!("cannot create QEMU's log: {e}")))?;
        let (serial_arg, endpoint) = match serial {
            Serial::Tcp => {
                let port = free_port()?;
                (
                    format!("tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"),
                    format!("127.0.0.1:{port}"),
                )
            }
            Serial::TcpRunning => {
                let port = free_port()?;
                (
                    format!("tcp:127.0.0.1:{port},server=on,wait=off,nodelay=on"),
                    format!("127.0.0.1:{port}"),
                )
            }
            Serial::Pty => ("pty".to_owned(), String::new()),
        };
        let mut command = Command::new(QEMU);
        command
            .args(["-M", machine, "-nographic", "-monitor", "none"])
            .arg("-kernel")
            .arg(elf)
            .args(["-serial", &serial_arg])
            .args(["-semihosting-config", "enable=on,target=native"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr);
        if let Some((bytes, address)) = preload {
            let file = log_dir.path().join("flash-slot.bin");
            std::fs::write(&file, bytes).map_err(|e| {
                Error::runtime(format!("cannot write the flash slot's image for QEMU: {e}"))
            })?;
            // QEMU's option syntax escapes a comma by doubling it.
            let file = file.to_string_lossy().replace(',', ",,");
            command.args([
                "-device",
                &format!("loader,file={file},addr={address:#x},force-raw=on"),
            ]);
        }
        if let Some(shift) = icount_shift {
            command.args(["-icount", &format!("shift={shift}")]);
        }
        let child = command.spawn().map_err(|e| {
            Error::runtime(format!(
                "cannot start {QEMU}: {e} (install it: apt-get install qemu-system-arm)"
            ))
        })?;
        let mut qemu = Self {
            child,
            log,
            _log_dir: log_dir,
            endpoint,
        };
        match serial {
            Serial::Pty => qemu.endpoint = qemu.wait_for_pty()?,
            Serial::Tcp => qemu.wait_for_listener()?,
            Serial::TcpRunning => qemu.wait_for_connection()?,
        }
        Ok(qemu)
    }

    /// Where the UART is: `127.0.0.1:PORT` (TCP) or the pty's path.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// QEMU's output so far, trimmed.
    pub fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text.trim().to_owned()
    }

    /// QEMU's exit status, if it has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// An error if QEMU has exited, with its status and output.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.exit_status() {
            None => Ok(()),
            Some(status) => Err(Error::runtime(self.describe_exit(status))),
        }
    }

    /// "QEMU exited with status 1: <its output>".
    pub fn describe_exit(&self, status: ExitStatus) -> String {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_owned(),
        };
        let output = self.output();
        if output.is_empty() {
            format!("QEMU {how}")
        } else {
            format!("QEMU {how}: {}", output.replace('\n', " | "))
        }
    }

    /// Waits (up to 10 s) for QEMU to listen on its TCP port, which it says
    /// ("QEMU waiting for connection on: ...") before it blocks in accept.
    fn wait_for_listener(&mut self) -> Result<()> {
        for _ in 0..200 {
            if self.output().contains("waiting for connection") {
                return Ok(());
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Error::runtime(
            "QEMU did not listen on its TCP port within 10 s",
        ))
    }

    /// Waits (up to 10 s) until a connection to QEMU's TCP port succeeds;
    /// with the CPU running, a connection that comes and goes changes
    /// nothing.
    fn wait_for_connection(&mut self) -> Result<()> {
        for _ in 0..200 {
            if std::net::TcpStream::connect(&self.endpoint).is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Error::runtime(
            "QEMU did not listen on its TCP port within 10 s",
        ))
    }

    /// Waits (up to 10 s) for QEMU to name its pty.
    fn wait_for_pty(&mut self) -> Result<String> {
        for _ in 0..200 {
            if let Some(path) = self
                .output()
                .split_whitespace()
                .find(|w| w.starts_with("/dev/pts/"))
            {
                return Ok(path.to_owned());
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Error::runtime("QEMU did not report its pty within 10 s"))
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port on 127.0.0.1 free right now.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::runtime(format!("no free TCP port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::runtime(format!("no free TCP port on 127.0.0.1: {e}")))
}
