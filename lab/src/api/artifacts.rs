//! A benchmark's artifacts: 200 with the file once it is terminal (even if
//! empty), 204 when terminal without that file, 428 before.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::user::User;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::accounts::UserId;

/// The report, unwrapped: the client hands report.json's object through.
pub async fn results(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    artifact(&lab, user, &id, &["report.json"], "application/json").await
}

/// `user.log` as UTF-8 text.
pub async fn user_log(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    artifact(&lab, user, &id, &["user.log"], "text/plain; charset=utf-8").await
}

/// `error.log` as UTF-8 text.
pub async fn error_log(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    artifact(&lab, user, &id, &["error.log"], "text/plain; charset=utf-8").await
}

/// TYPE2's raw output (either of the contract's two spellings).
pub async fn binary(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    artifact(
        &lab,
        user,
        &id,
        &["raw_output.bin", "raw_outpout.bin"],
        "application/octet-stream",
    )
    .await
}

/// A trained model: this lab runs no TYPE3 jobs, so always 204 for a
/// benchmark the user owns (the client asks for every benchmark).
pub async fn trained_model(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    lab.store
        .status(user, &id)?
        .ok_or_else(|| ApiError::not_found(format!("benchmark {id}")))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn artifact(
    lab: &Lab,
    user: UserId,
    id: &str,
    names: &[&str],
    content_type: &'static str,
) -> ApiResult<Response> {
    let status = lab
        .store
        .status(user, id)?
        .ok_or_else(|| ApiError::not_found(format!("benchmark {id}")))?;
    if !status.is_terminal() {
        return Ok((
            StatusCode::PRECONDITION_REQUIRED,
            axum::Json(serde_json::json!({
                "error": format!("benchmark {id} is {}; its artifacts are not ready yet", status.as_str())
            })),
        )
            .into_response());
    }
    let Some(blob) = lab.store.artifact(id, names)? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let bytes = tokio::fs::read(lab.store.blobs.path(&blob.sha256))
        .await
        .map_err(|e| ApiError::internal("reading the artifact failed", e))?;
    let mut response = Response::new(Body::from(bytes));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
