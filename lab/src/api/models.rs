//! A user's models: upload (`POST /api/models/download`) and list.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::form;
use super::user::User;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;

/// `POST /api/models/download?platform=user_models&resource_identifier`:
/// a multipart `model` file becomes a model reference (201). A
/// `resource_identifier=<id>` without a file names a model in some other
/// platform's catalogue; this lab has none, so an unknown id is a 404 and
/// a known reference of the user's is answered with itself.
pub async fn upload(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let identifier = request
        .uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "resource_identifier")
                .map(|(_, v)| v.to_owned())
        })
        .filter(|v| !v.is_empty());
    let form = form::read(&lab, request).await?;
    let Some(upload) = form.files.get("model") else {
        return match identifier {
            Some(id) if lab.store.model(user, &id)?.is_some() => {
                Ok((StatusCode::OK, Json(json!({ "model": id }))))
            }
            Some(id) => Err(ApiError::not_found(format!("model {id}"))),
            None => Err(ApiError::bad_request(
                "send the model as a multipart file part named model",
            )),
        };
    };
    let file_name = safe_file_name(&upload.file_name, "model");
    let model_ref = format!("{}_{file_name}", hex::encode(rand::random::<[u8; 8]>()));
    if let Err(e) = lab
        .store
        .add_model(user, &model_ref, &upload.file_name, &upload.blob)
    {
        form.discard(&lab);
        return Err(e.into());
    }
    Ok((StatusCode::CREATED, Json(json!({ "model": model_ref }))))
}

/// `GET /api/models/list[?platform=]`: the user's models, newest first.
pub async fn list(State(lab): State<Arc<Lab>>, User(user): User) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "models": lab.store.models(user)? })))
}

/// `POST /api/models/convert`: not offered (501).
pub async fn convert(_user: User) -> ApiError {
    ApiError::not_implemented("model conversion")
}

/// `name` reduced to `[A-Za-z0-9._-]`, without a leading dot, at most 100
/// characters; `fallback` if nothing is left. For references and job file
/// names; never for host paths.
pub fn safe_file_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    let mut cleaned: String = cleaned
        .chars()
        .rev()
        .take(100)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if cleaned.is_empty() {
        cleaned = fallback.to_owned();
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn user_names_become_safe_file_names() {
        assert_eq!(safe_file_name("kws ref.tflite", "m"), "kws_ref.tflite");
        assert_eq!(safe_file_name("../../etc/passwd", "m"), "passwd");
        assert_eq!(safe_file_name("..", "m"), "m");
        assert_eq!(safe_file_name(".hidden.onnx", "m"), "hidden.onnx");
        assert_eq!(safe_file_name("modèle.onnx", "m"), "mod_le.onnx");
    }
}
