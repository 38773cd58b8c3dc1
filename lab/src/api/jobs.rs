//! The two endpoints a job uses: `PUT /jobs/{id}/artifacts/{name}` with its
//! own token (the delivery of `vlab job`, harness/src/pipeline/delivery.rs),
//! and `GET /files/{id}/job.tar.gz` with a signed URL (its inputs, for
//! backends whose jobs fetch them).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use super::form::blob_error;
use crate::dispatcher::{DATASET_FILE, PARAMETERS_FILE};
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::BlobError;

/// The files a job may deliver.
const ARTIFACTS: &[&str] = &[
    "report.json",
    "vlab-report.json",
    "report.html",
    "user.log",
    "error.log",
    "raw_output.bin",
    "raw_outpout.bin",
];

/// `PUT /jobs/{id}/artifacts/{name}`: stores one artifact of a running
/// job. Only that job's token may, and only while it runs.
pub async fn deliver(
    State(lab): State<Arc<Lab>>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("artifact delivery needs the job's token"))?;
    if !lab.store.job_token_matches(&id, token.trim())? {
        return Err(ApiError::unauthorized(
            "this token may not write artifacts of that job",
        ));
    }
    if !ARTIFACTS.contains(&name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "{name} is not an artifact a job delivers ({})",
            ARTIFACTS.join(", ")
        )));
    }
    if body.len() as u64 > lab.config.upload_limit() as u64 {
        return Err(blob_error(&lab, BlobError::TooLarge));
    }
    let blob = lab
        .store
        .blobs
        .put(&body)
        .map_err(|e| blob_error(&lab, e))?;
    lab.store.put_artifact(&id, &name, &blob)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /files/{id}/job.tar.gz?expires=&sig=`: the running job's model,
/// dataset and parameters file, and a `job.env` with the API's URL and the
/// job's token, as one archive that Nomad's artifact stanza unpacks.
pub async fn files(
    State(lab): State<Arc<Lab>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let path = format!("/files/{id}/job.tar.gz");
    let expires = query
        .get("expires")
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(0);
    let sig = query.get("sig").map_or("", String::as_str);
    if !lab
        .signer
        .verify(&path, expires, sig, crate::store::now_ms() / 1000)
    {
        return Err(ApiError::forbidden(
            "the files URL is not valid or has expired",
        ));
    }
    let row = lab
        .store
        .benchmark_any(&id)?
        .filter(|r| r.status == crate::store::benchmarks::Status::Running)
        .ok_or_else(|| ApiError::not_found(format!("running benchmark {id}")))?;
    let token = lab
        .dispatcher
        .job_token(&id)
        .ok_or_else(|| ApiError::not_found(format!("running benchmark {id}")))?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let read = |sha: &str| {
        std::fs::read(lab.store.blobs.path(sha))
            .map_err(|e| ApiError::internal("reading the job's files failed", e))
    };
    entries.push((
        row.spec.model_file_name.clone(),
        read(&row.spec.model_sha256)?,
    ));
    if let Some((_, sha)) = &row.spec.dataset {
        entries.push((DATASET_FILE.into(), read(sha)?));
    }
    if let Some(text) = &row.spec.parameters {
        entries.push((PARAMETERS_FILE.into(), text.clone().into_bytes()));
    }
    entries.push((
        "job.env".into(),
        format!("VLAB_API_URL={}\nVLAB_API_TOKEN={token}\n", lab.public_url).into_bytes(),
    ));
    let archive = tokio::task::spawn_blocking(move || tar_gz(&entries))
        .await
        .map_err(|e| ApiError::internal("packing the job's files failed", e))?
        .map_err(|e| ApiError::internal("packing the job's files failed", e))?;
    let mut response = Response::new(Body::from(archive));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/gzip"));
    Ok(response)
}

/// A gzipped tar of `entries` (name, bytes), mode 0644.
fn tar_gz(entries: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(&mut header, name, bytes.as_slice())?;
    }
    archive.into_inner()?.finish()
}
