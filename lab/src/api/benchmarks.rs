//! A user's benchmarks: status, info, the filtered list, delete.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::user::User;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::benchmarks::{ListFilter, Status};

/// Default and largest page length of a list.
const PAGE_LENGTH: u32 = 100;
const MAX_PAGE_LENGTH: u32 = 1000;

/// `GET /api/benchmarks/{id}/status`: one indexed lookup, always 200 for
/// a benchmark the user owns.
pub async fn status(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let status = lab
        .store
        .status(user, &id)?
        .ok_or_else(|| ApiError::not_found(format!("benchmark {id}")))?;
    Ok(Json(json!({ "id": id, "status": status.as_str() })))
}

/// `GET /api/benchmarks/{id}`.
pub async fn info(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = lab
        .store
        .benchmark(user, &id)?
        .ok_or_else(|| ApiError::not_found(format!("benchmark {id}")))?;
    Ok(Json(row.info()))
}

/// `DELETE /api/benchmarks/{id}`: stops it if it runs, then deletes it and
/// its artifacts. 200 `{}`.
pub async fn remove(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if lab.store.benchmark(user, &id)?.is_none() {
        return Err(ApiError::not_found(format!("benchmark {id}")));
    }
    lab.dispatcher.cancel(&id);
    lab.store.delete_benchmark(&id)?;
    Ok(Json(json!({})))
}

/// `GET /api/benchmarks?engine&platform&benchmark_type&model&status&page&page_length`:
/// the user's benchmarks, newest first.
pub async fn list(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let number = |key: &str, default: u32, max: u32| -> ApiResult<u32> {
        match query.get(key) {
            None => Ok(default),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{key} {text:?} is not a whole number from 1 to {max}"
                    ))
                }),
        }
    };
    let page = number("page", 1, u32::MAX)?;
    let page_length = number("page_length", PAGE_LENGTH, MAX_PAGE_LENGTH)?;
    let status = match query.get("status") {
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status {text:?} is not one of pending, queued, running, success, failed, canceled"
            ))
        })?),
        None => None,
    };
    let filter = ListFilter {
        engine: query.get("engine").cloned(),
        device: query.get("platform").cloned(),
        benchmark_type: query.get("benchmark_type").cloned(),
        model: query.get("model").cloned(),
        status,
    };
    let (total, rows) = lab.store.list(user, &filter, page, page_length)?;
    Ok(Json(json!({
        "page": page,
        "page_length": page_length,
        "total": total,
        "benchmarks": rows.iter().map(|r| r.info()).collect::<Vec<_>>(),
    })))
}

/// `GET /api/benchmarks/public`: this lab publishes nothing, so an empty
/// page.
pub async fn public(_user: User) -> Json<Value> {
    Json(json!({ "page": 1, "page_length": PAGE_LENGTH, "total": 0, "benchmarks": [] }))
}
