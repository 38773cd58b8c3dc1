//! Reading a form the client sends: `multipart/form-data` (file parts
//! without a Content-Type, as `requests` sends them) or
//! `application/x-www-form-urlencoded`. File parts are streamed into blobs
//! as they arrive, within the upload limit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::{Blob, BlobError};

/// A file part, stored.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's file name as the client gave it (never used as a path).
    pub file_name: String,
    /// The stored bytes.
    pub blob: Blob,
}

/// A read form.
#[derive(Debug, Default)]
pub struct Form {
    /// Text fields.
    pub text: HashMap<String, String>,
    /// File parts by field name.
    pub files: HashMap<String, Upload>,
}

impl Form {
    /// Text field `name`, trimmed, if present and non-empty.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.text
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// Text field `name`, or a 400 naming it.
    pub fn required(&self, name: &str) -> ApiResult<&str> {
        self.field(name)
            .ok_or_else(|| ApiError::bad_request(format!("the form has no {name} field")))
    }

    /// Removes the blobs of the files if nothing else uses them: for a
    /// request that failed after its uploads were stored.
    pub fn discard(&self, lab: &Lab) {
        let hashes: Vec<String> = self.files.values().map(|u| u.blob.sha256.clone()).collect();
        if let Err(e) = lab.store.forget(&hashes) {
            tracing::error!("cannot remove the blobs of a refused upload: {e}");
        }
    }
}

/// Reads `request`'s form.
pub async fn read(lab: &Arc<Lab>, request: Request) -> ApiResult<Form> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, &()).await.map_err(|e| {
            ApiError::bad_request(format!(
                "the multipart body is not usable: {}",
                e.body_text()
            ))
        })?;
        read_multipart(lab, multipart).await
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(text) = axum::Form::<HashMap<String, String>>::from_request(request, &())
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("the form body is not usable: {}", e.body_text()))
            })?;
        Ok(Form {
            text,
            files: HashMap::new(),
        })
    } else if content_type.is_empty() {
        Ok(Form::default())
    } else {
        Err(ApiError::bad_request(format!(
            "the body is {content_type}; send multipart/form-data or application/x-www-form-urlencoded"
        )))
    }
}

async fn read_multipart(lab: &Arc<Lab>, mut multipart: Multipart) -> ApiResult<Form> {
    let mut form = Form::default();
    let outcome = async {
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(lab, &e))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    let mut writer = lab
                        .store
                        .blobs
                        .writer(lab.config.upload_limit() as u64)
                        .map_err(|e| ApiError::internal("storing the upload failed", e))?;
                    while let Some(chunk) =
                        field.chunk().await.map_err(|e| multipart_error(lab, &e))?
                    {
                        if let Err(e) = writer.write(&chunk) {
                            if matches!(e, BlobError::TooLarge) {
                                drain_field(field).await;
                                drain_fields(&mut multipart).await;
                            }
                            return Err(blob_error(lab, e));
                        }
                    }
                    let blob = lab
                        .store
                        .blobs
                        .commit(writer)
                        .map_err(|e| blob_error(lab, e))?;
                    form.files.insert(name, Upload { file_name, blob });
                }
                None => {
                    let text = field.text().await.map_err(|e| multipart_error(lab, &e))?;
                    form.text.insert(name, text);
                }
            }
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(form),
        Err(e) => {
            form.discard(lab);
            Err(e)
        }
    }
}

/// Reads and drops the rest of a field of a body refused as too large, so
/// that a client still sending gets to read the 413 instead of a connection
/// reset in the middle of its upload. The router's body limit (the upload
/// limit plus 1 MiB) bounds what is read.
async fn drain_field(mut field: axum::extract::multipart::Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

/// [`drain_field`] for every field left in `multipart`.
async fn drain_fields(multipart: &mut Multipart) {
    while let Ok(Some(field)) = multipart.next_field().await {
        drain_field(field).await;
    }
}

fn multipart_error(lab: &Lab, e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(lab.config.upload_limit_mib)
    } else {
        ApiError::bad_request(format!(
            "the multipart body is not usable: {}",
            e.body_text()
        ))
    }
}

/// A blob that could not be written, as an answer.
pub fn blob_error(lab: &Lab, e: BlobError) -> ApiError {
    match e {
        BlobError::TooLarge => ApiError::too_large(lab.config.upload_limit_mib),
        BlobError::Io(e) => ApiError::internal("storing the upload failed", e),
    }
}
