//! Commands on a Linux board through the system's OpenSSH client.
//!
//! Why `ssh` and not an SSH library (russh, ssh2): users reach their boards
//! with their ssh config (`Host` aliases, `ProxyJump` through a lab
//! gateway, agents, certificates, known_hosts), which only OpenSSH reads
//! the way they expect; a library would take a second configuration and
//! miss some of it. `ssh` is on every machine that reaches a board, and
//! one connection is shared by every command of a run (ControlMaster), so
//! only the first pays for the handshake.
//!
//! `ssh` fails with exit status 255 and says why on stderr; [`classify`]
//! turns that into an error of its own kind: the board unreachable (exit
//! code 5) or refusing vlab's credentials (6).

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};

use vlab_harness::{Error, ErrorKind, Result};

use super::def::LinuxBoardDef;

/// `ssh`'s own failures: connecting, authenticating, a lost connection.
pub const SSH_FAILED: i32 = 255;

/// Seconds `ssh` waits for the board to answer a connection.
const CONNECT_TIMEOUT: u32 = 10;

/// Keepalive: a board silent for 3 × 5 s is a lost connection.
const ALIVE_INTERVAL: u32 = 5;
const ALIVE_COUNT: u32 = 3;

/// SSH to one board: the destination and options every command uses.
pub struct Ssh {
    /// The board's name, for messages.
    board: String,
    destination: String,
    options: Vec<OsString>,
    /// Holds the shared connection's socket; removed with it.
    _control: tempfile::TempDir,
}

impl Ssh {
    /// SSH to `board` as its board.toml says.
    pub fn new(board: &LinuxBoardDef) -> Result<Self> {
        let control = tempfile::Builder::new()
            .prefix("vlab-ssh-")
            .tempdir()
            .map_err(|e| Error::runtime(format!("cannot create a folder for ssh's socket: {e}")))?;
        let def = &board.launch;
        let mut options: Vec<OsString> = Vec::new();
        let mut option = |o: String| {
            options.push("-o".into());
            options.push(o.into());
        };
        option("BatchMode=yes".to_owned());
        option(format!("ConnectTimeout={CONNECT_TIMEOUT}"));
        option(format!("ServerAliveInterval={ALIVE_INTERVAL}"));
        option(format!("ServerAliveCountMax={ALIVE_COUNT}"));
        option("ControlMaster=auto".to_owned());
        option(format!(
            "ControlPath={}",
            control.path().join("%C").display()
        ));
        option("ControlPersist=60".to_owned());
        if let Some(port) = def.port {
            option(format!("Port={port}"));
        }
        if let Some(user) = &def.user {
            option(format!("User={user}"));
        }
        if let Some(key) = &def.identity_file {
            option(format!("IdentityFile={}", board.resolve(key).display()));
            option("IdentitiesOnly=yes".to_owned());
        }
        if let Some(known) = &def.known_hosts {
            option(format!(
                "UserKnownHostsFile={}",
                board.resolve(known).display()
            ));
            option("StrictHostKeyChecking=yes".to_owned());
        }
        Ok(Self {
            board: board.name.clone(),
            destination: def.host.clone(),
            options,
            _control: control,
        })
    }

    /// The program and arguments that run `script` (POSIX sh) on the board.
    pub fn invocation(&self, script: &str) -> (PathBuf, Vec<OsString>) {
        let mut args = self.options.clone();
        args.push("--".into());
        args.push(self.destination.clone().into());
        // The login shell may be any; sh runs the script the same way on
        // every board.
        args.push(format!("exec sh -c {}", quote(script)).into());
        (PathBuf::from("ssh"), args)
    }

    fn command(&self, script: &str) -> Command {
        let (program, args) = self.invocation(script);
        let mut command = Command::new(program);
        command.args(args);
        command
    }

    /// Runs `script`, for `what` (as messages say it); its stdout.
    pub fn run(&self, what: &str, script: &str) -> Result<String> {
        let output = self
            .command(script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.spawn_error(&e))?;
        self.checked(what, output)
    }

    /// Runs `script` with `input` on its stdin; its stdout.
    pub fn run_with_input(&self, what: &str, script: &str, input: impl Read) -> Result<String> {
        let mut child = self
            .command(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(&e))?;
        let mut stdin = child.stdin.take();
        let copied = match &mut stdin {
            Some(pipe) => std::io::copy(&mut { input }, pipe).map(|_| ()),
            None => Ok(()),
        };
        drop(stdin);
        let output = child
            .wait_with_output()
            .map_err(|e| Error::runtime(format!("cannot wait for ssh: {e}")))?;
        let stdout = self.checked(what, output)?;
        copied.map_err(|e| {
            Error::of_kind(
                ErrorKind::Unreachable,
                format!("board {}: {what}: the connection broke: {e}", self.board),
            )
        })?;
        Ok(stdout)
    }

    fn spawn_error(&self, e: &std::io::Error) -> Error {
        Error::runtime(format!(
            "cannot run ssh to reach board {} ({e}): install OpenSSH's client",
            self.board
        ))
    }

    fn checked(&self, what: &str, output: Output) -> Result<String> {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        if output.status.code() == Some(SSH_FAILED) {
            return Err(classify(&self.board, &self.destination, &stderr));
        }
        Err(Error::runtime(format!(
            "board {}: {what} failed ({}): {}",
            self.board,
            status_text(output.status),
            match last_line(&stderr) {
                "" => "no message",
                line => line,
            }
        )))
    }

    /// The error of `ssh` ending with status 255 mid-run, once the worker
    /// was started: the connection, not the benchmark, failed.
    pub fn lost(&self) -> Error {
        Error::of_kind(
            ErrorKind::Unreachable,
            format!(
                "board {}: the SSH connection to {} was lost mid-run",
                self.board, self.destination
            ),
        )
    }
}

impl Drop for Ssh {
    /// Ends the shared connection now rather than after ControlPersist.
    fn drop(&mut self) {
        let _ = Command::new("ssh")
            .args(&self.options)
            .args(["-O", "exit", "--", &self.destination])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The error `ssh`'s stderr describes, for board `board` at `destination`.
pub fn classify(board: &str, destination: &str, stderr: &str) -> Error {
    let said = match last_line(stderr) {
        "" => "it said nothing",
        line => line,
    };
    let has = |needle: &str| stderr.contains(needle);
    if has("Permission denied") {
        return Error::of_kind(
            ErrorKind::Denied,
            format!(
                "board {board} ({destination}) refused vlab's key: {said}; check launch.identity_file and launch.user in board.toml, and the board's authorized_keys"
            ),
        );
    }
    if has("Host key verification failed") || has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return Error::of_kind(
            ErrorKind::Denied,
            format!(
                "board {board} ({destination}): its host key is not the one in launch.known_hosts (or the user's known_hosts): {said}"
            ),
        );
    }
    let why = if has("Connection refused") {
        "refused the connection: is sshd running there, on that port?"
    } else if has("timed out") {
        "did not answer in time"
    } else if has("Could not resolve hostname") {
        "has a name that does not resolve"
    } else if has("No route to host") || has("Network is unreachable") {
        "is not reachable from here"
    } else {
        "closed the SSH connection"
    };
    Error::of_kind(
        ErrorKind::Unreachable,
        format!("board {board} ({destination}) {why} (ssh: {said})"),
    )
}

/// `value` as one word of a POSIX shell command line.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

fn status_text(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_failures_become_errors_of_their_own_kind() {
        let refused = classify(
            "rpi5",
            "127.0.0.1",
            "ssh: connect to host 127.0.0.1 port 2222: Connection refused\r\n",
        );
        assert_eq!(refused.kind(), ErrorKind::Unreachable);
        assert_eq!(refused.exit_code(), 5);
        assert!(refused.message().contains("refused the connection"));
        let denied = classify(
            "rpi5",
            "pi5.lab",
            "pi@pi5.lab: Permission denied (publickey).\r\n",
        );
        assert_eq!(denied.exit_code(), 6);
        assert!(
            denied
                .message()
                .contains("refused vlab's key: pi@pi5.lab: Permission denied (publickey).")
        );
        let key = classify("rpi5", "h", "Host key verification failed.\n");
        assert_eq!(key.kind(), ErrorKind::Denied);
    }

    #[test]
    fn a_script_is_one_shell_word() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
