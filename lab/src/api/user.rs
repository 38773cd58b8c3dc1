//! The signed-in user of a request: `Authorization: Bearer <access token>`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::lab::Lab;
use crate::store::accounts::{TokenKind, UserId};

/// The user a request's access token belongs to.
#[derive(Debug, Clone, Copy)]
pub struct User(pub UserId);

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<Arc<Lab>> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, lab: &Arc<Lab>) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "this endpoint needs an Authorization: Bearer token (log in first)",
            )
        })?;
        match lab.store.token_user(token, TokenKind::Access)? {
            Some(user) => Ok(Self(user)),
            None => Err(ApiError::unauthorized(
                "the access token is unknown or expired; log in again or refresh it",
            )),
        }
    }
}
