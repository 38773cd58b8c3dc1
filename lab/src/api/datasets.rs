//! A user's datasets, named `<file name>_<sha256>` as the client computes
//! the name. The name is only a key in the database; the bytes live in
//! the blob named by their hash.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::form;
use super::user::User;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;

/// `GET /api/benchmarks/datasets`: the user's dataset names.
pub async fn list(State(lab): State<Arc<Lab>>, User(user): User) -> ApiResult<Json<Value>> {
    Ok(Json(json!(lab.store.dataset_names(user)?)))
}

/// `POST /api/benchmarks/datasets/upload`: multipart `hash` and file
/// `dataset`. Answers 207 (what the client expects) with the name; a
/// hash that does not match the bytes is a 400.
pub async fn upload(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let form = form::read(&lab, request).await?;
    let outcome = (|| {
        let hash = form.required("hash")?.to_ascii_lowercase();
        let upload = form.files.get("dataset").ok_or_else(|| {
            ApiError::bad_request("send the dataset as a multipart file part named dataset")
        })?;
        if hash != upload.blob.sha256 {
            return Err(ApiError::bad_request(format!(
                "the dataset's sha256 is {}, not the hash field's {hash}; the upload was damaged",
                upload.blob.sha256
            )));
        }
        if upload.file_name.is_empty() || upload.file_name.contains(['/', '\\']) {
            return Err(ApiError::bad_request(
                "the dataset part needs a plain file name",
            ));
        }
        let name = format!("{}_{hash}", upload.file_name);
        lab.store.add_dataset(user, &name, &upload.blob)?;
        Ok(name)
    })();
    match outcome {
        Ok(name) => Ok((StatusCode::MULTI_STATUS, Json(json!({ "dataset": name })))),
        Err(e) => {
            form.discard(&lab);
            Err(e)
        }
    }
}

/// `DELETE /api/benchmarks/datasets/{name}`: 200 `{}`, or 404.
pub async fn remove(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if lab.store.delete_dataset(user, &name)? {
        Ok(Json(json!({})))
    } else {
        Err(ApiError::not_found(format!("dataset {name}")))
    }
}
