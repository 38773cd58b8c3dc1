//! The HTTP API: the dAIEdge-VLab user API that the public `daiedge-vlab`
//! client speaks (../shared/reference/lab-api.md, docs/lab.md), plus the
//! two endpoints jobs use: artifact delivery and their signed input files.

mod artifacts;
mod benchmarks;
mod catalog;
mod datasets;
mod form;
mod jobs;
mod models;
mod run;
mod session;
mod user;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

use crate::lab::Lab;

/// Room for multipart boundaries and text fields beside the largest file.
const FORM_OVERHEAD: usize = 1 << 20;

/// The API's routes. Fixed paths come before `/{id}`: ids are hex and
/// never one of those words.
pub fn router(lab: Arc<Lab>) -> Router {
    let limit = lab.config.upload_limit().saturating_add(FORM_OVERHEAD);
    Router::new()
        .route("/api/benchmarks/status", get(session::status))
        .route("/api/users/login", post(session::login))
        .route("/api/users/token/refresh", post(session::refresh))
        .route("/api/benchmarks/config", get(catalog::config))
        .route("/api/targets/status", get(catalog::targets_status))
        .route(
            "/api/targets/hardware-types/all",
            get(catalog::hardware_types),
        )
        .route("/api/targets/engines/all", get(catalog::engines))
        .route("/api/models/download", post(models::upload))
        .route("/api/models/list", get(models::list))
        .route("/api/models/convert", post(models::convert))
        .route("/api/benchmarks/datasets", get(datasets::list))
        .route("/api/benchmarks/datasets/upload", post(datasets::upload))
        .route("/api/benchmarks/datasets/{name}", delete(datasets::remove))
        .route("/api/benchmarks/run", post(run::run))
        .route("/api/benchmarks/train", post(run::train))
        .route(
            "/api/benchmarks/fl/{*rest}",
            get(run::federated).post(run::federated),
        )
        .route("/api/benchmarks/public", get(benchmarks::public))
        .route("/api/benchmarks", get(benchmarks::list))
        .route(
            "/api/benchmarks/{id}",
            get(benchmarks::info).delete(benchmarks::remove),
        )
        .route("/api/benchmarks/{id}/status", get(benchmarks::status))
        .route("/api/benchmarks/{id}/results", get(artifacts::results))
        .route("/api/benchmarks/{id}/user-log", get(artifacts::user_log))
        .route("/api/benchmarks/{id}/error-log", get(artifacts::error_log))
        .route("/api/benchmarks/{id}/binary", get(artifacts::binary))
        .route(
            "/api/benchmarks/{id}/trained-model",
            get(artifacts::trained_model),
        )
        .route("/jobs/{id}/artifacts/{name}", put(jobs::deliver))
        .route("/files/{id}/job.tar.gz", get(jobs::files))
        .fallback(|| async { crate::error::ApiError::not_found("this path") })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(lab)
}
