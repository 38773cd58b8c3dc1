//! The lab's errors: [`LabError`] for starting the server and its
//! commands, [`ApiError`] for an answer to one request.

use std::fmt;
use std::path::Path;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the lab could not start or a lab command failed.
#[derive(Debug)]
pub struct LabError {
    /// What went wrong, naming the file or field.
    pub message: String,
    /// The `vlab` exit code: 2 for bad configuration, 5 for the store or
    /// the network.
    pub exit_code: i32,
}

impl LabError {
    /// A configuration file that cannot be used.
    pub fn config(path: &Path, message: impl fmt::Display) -> Self {
        Self {
            message: format!("{}: {message}", path.display()),
            exit_code: 2,
        }
    }

    /// Bad input that is not a file (a flag, an email).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 2,
        }
    }

    /// The store, the data folder or the listening socket failed.
    pub fn system(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 5,
        }
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LabError {}

impl From<rusqlite::Error> for LabError {
    fn from(e: rusqlite::Error) -> Self {
        Self::system(format!("the lab's database failed: {e}"))
    }
}

/// An error answer: a status and `{"error": message}`. Messages never name
/// host paths: internal failures are logged in full and answered in words.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the user reads.
    pub message: String,
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// 400: the request is wrong; the message says which field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no token, an unknown one or an expired one.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: a signed URL that is wrong or expired.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: nothing of that name that this user may see.
    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 409: the request conflicts with the resource's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 413: an upload over the configured limit.
    pub fn too_large(limit_mib: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is larger than this lab's limit of {limit_mib} MiB"),
        )
    }

    /// 501: a part of the API this lab does not offer.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{what} is not offered by this lab"),
        )
    }

    /// 507 for a full disk, 500 otherwise. `context` is logged with the
    /// cause; the user reads only what failed.
    pub fn internal(context: &str, cause: impl fmt::Display) -> Self {
        tracing::error!("{context}: {cause}");
        let full = cause.to_string().contains("No space left on device");
        if full {
            Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                format!("{context}: the lab's disk is full"),
            )
        } else {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{context}: internal error (see the server's log)"),
            )
        }
    }

    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal("the lab's database failed", e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
