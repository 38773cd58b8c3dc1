//! `POST /api/benchmarks/run`: a benchmark submission, checked against
//! what the lab offers before it is queued.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use serde_json::{Value, json};

use super::form::{self, Form};
use super::models::safe_file_name;
use super::user::User;
use crate::catalog::{EngineInfo, Requirement};
use crate::clock::file_stamp;
use crate::error::{ApiError, ApiResult};
use crate::lab::Lab;
use crate::store::accounts::UserId;
use crate::store::benchmarks::{NewBenchmark, Status};
use crate::store::now_ms;

/// Most inferences a TYPE1 benchmark may ask for.
const MAX_INFERENCES: u32 = 1_000_000;

/// The client's default `nb_inference`.
const DEFAULT_INFERENCES: u32 = 20;

/// `POST /api/benchmarks/run`: 200 `{"id"}` once the benchmark is queued.
pub async fn run(
    State(lab): State<Arc<Lab>>,
    User(user): User,
    request: Request,
) -> ApiResult<Json<Value>> {
    let form = form::read(&lab, request).await?;
    match submit(&lab, user, &form) {
        Ok(id) => {
            lab.dispatcher.wake();
            Ok(Json(json!({ "id": id })))
        }
        Err(e) => {
            form.discard(&lab);
            Err(e)
        }
    }
}

fn submit(lab: &Lab, user: UserId, form: &Form) -> ApiResult<String> {
    let device = form.required("device")?;
    let engine_name = form.required("engine")?;
    let engine = lab.catalog.engine(engine_name).ok_or_else(|| {
        let names: Vec<&str> = lab
            .catalog
            .engines
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        ApiError::bad_request(format!(
            "engine {engine_name} is not offered here (engines: {})",
            names.join(", ")
        ))
    })?;
    let (original_name, model_sha, model_size) =
        match (form.files.get("model"), form.field("model_ref")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "send either a model file or a model_ref, not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::bad_request(
                    "send a model file (part model) or a model_ref",
                ));
            }
            (Some(upload), None) => (
                upload.file_name.clone(),
                upload.blob.sha256.clone(),
                upload.blob.size,
            ),
            (None, Some(model_ref)) => {
                let model = lab.store.model(user, model_ref)?.ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "model_ref {model_ref} is not one of your models"
                    ))
                })?;
                (model.file_name, model.sha256, model.size)
            }
        };
    let model_file_name = job_model_name(&original_name, engine)?;
    let dataset = match form.field("dataset_name") {
        Some(name) => {
            let row = lab.store.dataset(user, name)?.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "dataset {name} is not on the server; upload it first"
                ))
            })?;
            Some((row.name, row.sha256))
        }
        None => None,
    };
    let benchmark_type = if dataset.is_some() { "TYPE2" } else { "TYPE1" };
    let nb_inference = match (dataset.is_some(), form.field("nb_inference")) {
        (true, _) => None,
        (false, None) => Some(DEFAULT_INFERENCES),
        (false, Some(text)) => Some(
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_INFERENCES).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "nb_inference {text:?} is not a whole number from 1 to {MAX_INFERENCES}"
                    ))
                })?,
        ),
    };
    let target_uids = match form.field("target_uids") {
        Some(text) => Some(serde_json::from_str::<Vec<String>>(text).map_err(|_| {
            ApiError::bad_request(format!(
                "target_uids {text:?} is not a JSON list of strings"
            ))
        })?),
        None => None,
    };
    let parameters = match form.field("parameters") {
        Some(text) => Some(parameters_file(engine, text)?),
        None => None,
    };
    let need = Requirement {
        kind: device.to_owned(),
        engine: engine.name.clone(),
        benchmark_type: benchmark_type.to_owned(),
        model_size,
        uids: target_uids.clone(),
    };
    lab.catalog.check(&need).map_err(ApiError::bad_request)?;
    let id = lab.store.insert_benchmark(&NewBenchmark {
        user,
        benchmark_type: benchmark_type.to_owned(),
        device: device.to_owned(),
        engine: engine.name.clone(),
        model_file_name,
        model_sha256: model_sha,
        dataset,
        parameters,
        nb_inference,
        target_uids,
    })?;
    lab.store.transition(&id, Status::Pending, Status::Queued)?;
    Ok(id)
}

/// The model's name in the job's folder: the user's file name made safe,
/// with the submission time in it (the contract's `MODEL_FILENAME`). Its
/// extension must be one the engine loads.
fn job_model_name(original: &str, engine: &EngineInfo) -> ApiResult<String> {
    let safe = safe_file_name(original, "model");
    let (stem, extension) = match safe.rfind('.') {
        Some(dot) if dot > 0 => (&safe[..dot], &safe[dot..]),
        _ => (safe.as_str(), ""),
    };
    if !engine
        .file_extensions
        .iter()
        .any(|e| e.eq_ignore_ascii_case(extension))
    {
        return Err(ApiError::bad_request(format!(
            "engine {} loads {} models; the model is named {original:?}",
            engine.name,
            engine.file_extensions.join(" or ")
        )));
    }
    Ok(format!(
        "{stem}-{}{}",
        file_stamp(now_ms()),
        extension.to_ascii_lowercase()
    ))
}

/// The `parameters` JSON object as a vlab parameters file (TOML): each key
/// an engine option the engine declares, with a value of its kind, and
/// `inputs` the per-input settings (docs/parameters.md).
pub fn parameters_file(engine: &EngineInfo, text: &str) -> ApiResult<String> {
    let bad = |m: String| ApiError::bad_request(format!("parameters: {m}"));
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e})")))?;
    let Value::Object(entries) = value else {
        return Err(bad("must be a JSON object".into()));
    };
    let mut engine_table = toml::Table::new();
    let mut inputs = None;
    for (key, value) in entries {
        if key == "inputs" {
            inputs = Some(toml_value(&value).map_err(|e| bad(format!("inputs: {e}")))?);
            continue;
        }
        let Some(declared) = engine.parameters.iter().find(|p| p.key == key) else {
            let keys: Vec<&str> = engine.parameters.iter().map(|p| p.key.as_str()).collect();
            return Err(bad(format!(
                "engine {} has no parameter {key}; it takes {}",
                engine.name,
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            )));
        };
        let fits = match declared.kind.as_str() {
            "integer" => value.as_u64().is_some(),
            "boolean" => value.is_boolean(),
            "enum" => value.as_str().is_some_and(|v| {
                declared
                    .default_values
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c == v))
            }),
            _ => false,
        };
        if !fits {
            return Err(bad(format!(
                "{key} = {value} is not a valid {} for engine {}",
                declared.kind, engine.name
            )));
        }
        let value = toml_value(&value).map_err(|e| bad(format!("{key}: {e}")))?;
        engine_table.insert(key, value);
    }
    let mut file = toml::Table::new();
    file.insert("engine".into(), toml::Value::Table(engine_table));
    if let Some(inputs) = inputs {
        file.insert("inputs".into(), inputs);
    }
    toml::to_string(&file).map_err(|e| bad(e.to_string()))
}

/// One JSON value as TOML, converted by hand: through serde, a workspace
/// that enables serde_json's `arbitrary_precision` (defmt-decoder does) would turn
/// every number into a one-key table.
fn toml_value(json: &Value) -> Result<toml::Value, String> {
    Ok(match json {
        Value::Null => return Err("null has no TOML form".into()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(f)) => toml::Value::Float(f),
            (None, None) => return Err(format!("{n} does not fit a TOML number")),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(items) => {
            toml::Value::Array(items.iter().map(toml_value).collect::<Result<_, _>>()?)
        }
        Value::Object(entries) => toml::Value::Table(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// `POST /api/benchmarks/train` (TYPE3, on-device training): not offered.
pub async fn train(_user: User) -> ApiError {
    ApiError::not_implemented("on-device training (TYPE3)")
}

/// `/api/benchmarks/fl/...` (federated learning): not offered.
pub async fn federated(_user: User) -> ApiError {
    ApiError::not_implemented("federated learning")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ParameterInfo;

    fn tflite() -> EngineInfo {
        EngineInfo {
            name: "tflite".into(),
            display_name: "TensorFlow Lite".into(),
            file_extensions: vec![".tflite".into()],
            parameters: vec![
                ParameterInfo {
                    key: "threads".into(),
                    display_name: "threads".into(),
                    description: String::new(),
                    kind: "integer".into(),
                    default_values: json!(1),
                },
                ParameterInfo {
                    key: "xnnpack".into(),
                    display_name: "xnnpack".into(),
                    description: String::new(),
                    kind: "boolean".into(),
                    default_values: json!(true),
                },
            ],
        }
    }

    #[test]
    fn parameters_become_a_checked_parameters_file() {
        let text = parameters_file(
            &tflite(),
            r#"{"threads": 2, "inputs": {"sr": {"value": 16000}}}"#,
        )
        .unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(table["engine"]["threads"].as_integer(), Some(2));
        assert_eq!(table["inputs"]["sr"]["value"].as_integer(), Some(16000));
        let m = parameters_file(&tflite(), r#"{"num_threads": 2}"#)
            .unwrap_err()
            .message;
        assert_eq!(
            m,
            "parameters: engine tflite has no parameter num_threads; it takes threads, xnnpack"
        );
        let m = parameters_file(&tflite(), r#"{"xnnpack": "on"}"#)
            .unwrap_err()
            .message;
        assert!(m.contains("is not a valid boolean"), "{m}");
        assert!(parameters_file(&tflite(), "[1]").is_err());
    }

    #[test]
    fn model_names_keep_a_known_extension_and_get_a_time() {
        let name = job_model_name("my model.TFLITE", &tflite()).unwrap();
        assert!(
            name.starts_with("my_model-20") && name.ends_with(".tflite"),
            "{name}"
        );
        let m = job_model_name("m.onnx", &tflite()).unwrap_err().message;
        assert_eq!(
            m,
            "engine tflite loads .tflite models; the model is named \"m.onnx\""
        );
    }
}
