//! The three open endpoints: the API's status, login and token refresh.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::verify_password;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::accounts::TokenKind;

/// The API version the client checks (it needs `1.` or `dev`).
pub const API_VERSION: &str = "1.0.0";

/// How long a refresh token lives: a month.
const REFRESH_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;

/// `GET /api/benchmarks/status`.
pub async fn status() -> Json<Value> {
    Json(json!({ "version": API_VERSION, "status": "OK" }))
}

/// The login body.
#[derive(Deserialize)]
pub struct Login {
    email: String,
    password: String,
}

/// `POST /api/users/login`: `{"access_token", "refresh_token"}` or 401.
pub async fn login(
    State(lab): State<Arc<Lab>>,
    body: Result<Json<Login>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body.map_err(|e| bad_body(&e))?;
    let hash = lab.passwords.get(&body.email).cloned();
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            // Same work for an unknown email, so timing does not tell.
            let _ = crate::auth::hash_password(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    if !ok {
        let delay = lab.throttle.failed(&body.email);
        tokio::time::sleep(delay).await;
        return Err(ApiError::unauthorized("wrong email or password"));
    }
    lab.throttle.succeeded(&body.email);
    let user = lab.store.user_id(&body.email)?;
    let lifetime = i64::try_from(lab.config.token_lifetime().as_millis()).unwrap_or(i64::MAX);
    let access = lab.store.issue_token(user, TokenKind::Access, lifetime)?;
    let refresh = lab
        .store
        .issue_token(user, TokenKind::Refresh, REFRESH_LIFETIME_MS)?;
    Ok(Json(
        json!({ "access_token": access, "refresh_token": refresh }),
    ))
}

/// The refresh body.
#[derive(Deserialize)]
pub struct Refresh {
    refresh: String,
}

/// `POST /api/users/token/refresh`: a new access token; the refresh token
/// stays valid.
pub async fn refresh(
    State(lab): State<Arc<Lab>>,
    body: Result<Json<Refresh>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body.map_err(|e| bad_body(&e))?;
    let user = lab
        .store
        .token_user(&body.refresh, TokenKind::Refresh)?
        .ok_or_else(|| {
            ApiError::unauthorized("the refresh token is unknown or expired; log in again")
        })?;
    let lifetime = i64::try_from(lab.config.token_lifetime().as_millis()).unwrap_or(i64::MAX);
    let access = lab.store.issue_token(user, TokenKind::Access, lifetime)?;
    Ok(Json(json!({ "access": access })))
}

/// A JSON body that could not be read, as a 400 with serde's reason.
fn bad_body(e: &JsonRejection) -> ApiError {
    ApiError::bad_request(format!("the JSON body is not usable: {}", e.body_text()))
}
