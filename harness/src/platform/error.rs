//! The harness's error type and the exit codes it maps to.

use std::path::Path;

/// What went wrong, in terms of who can fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorKind {
    /// The user's request or input files are wrong (exit code 2).
    Input,
    /// The benchmark could not be carried out: engine or system failure (exit code 1).
    Runtime,
    /// The benchmark ran and its artifacts are written, but delivering them
    /// to the lab's API failed (exit code 3).
    Delivery,
    /// `vlab compare`: the candidate is significantly slower than the
    /// baseline by more than the threshold (exit code 4), so CI can gate
    /// on it.
    Regression,
    /// The target could not be reached, or the link to it was lost
    /// mid-run: a refused or timed-out connection, a dropped SSH session
    /// (exit code 5).
    Unreachable,
    /// The target refused vlab's credentials: a wrong key, an unknown or
    /// changed host key (exit code 6).
    Denied,
    /// The target has no room for what the run needs there: too little
    /// free disk for vlab, the engine's library and the model (exit code 7).
    NoRoom,
    /// SIGINT or SIGTERM (the signal's number) stopped the run (exit code
    /// 128 + the number: 130, 143), as [`crate::platform::interrupt`] describes.
    Interrupted(i32),
}

impl ErrorKind {
    /// The process exit code for this kind of failure.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Input => 2,
            ErrorKind::Runtime => 1,
            ErrorKind::Delivery => 3,
            ErrorKind::Regression => 4,
            ErrorKind::Unreachable => 5,
            ErrorKind::Denied => 6,
            ErrorKind::NoRoom => 7,
            ErrorKind::Interrupted(signal) => 128 + signal,
        }
    }
}

/// A failure with a one-line message a user can act on.
///
/// Messages name the file or field at fault and never contain absolute host
/// paths beyond what the user passed in.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// A problem with the user's request or input files.
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Input,
            message: message.into(),
        }
    }

    /// A failure while carrying out a valid request.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Runtime,
            message: message.into(),
        }
    }

    /// A failure of `kind`.
    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A failure to deliver finished artifacts to the lab's API.
    pub fn delivery(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Delivery,
            message: message.into(),
        }
    }

    /// A performance regression `vlab compare` found.
    pub fn regression(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Regression,
            message: message.into(),
        }
    }

    /// The run stopped on signal number `signal`, named `name`.
    pub fn interrupted(signal: i32, name: &str) -> Self {
        Self {
            kind: ErrorKind::Interrupted(signal),
            message: format!("interrupted by {name}"),
        }
    }

    /// A problem with a specific input file.
    pub fn file(path: &Path, problem: impl std::fmt::Display) -> Self {
        Self::input(format!("{}: {problem}", path.display()))
    }

    /// An I/O failure on a file, classified: a missing or unreadable file the
    /// user named is an input error.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Self::file(path, describe_io(err))
    }

    /// Which kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }

    /// Prefixes the message with context, keeping the kind.
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        Self {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

/// A short description of an I/O error without the OS error number noise.
pub fn describe_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory, expected a file".to_owned(),
        _ => err.to_string(),
    }
}

/// Result type of the harness.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The file name part of a path, for messages and reports that must not
/// reveal where on the host a file lives.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
