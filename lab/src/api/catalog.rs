//! What the lab offers: `GET /api/benchmarks/config` and the read-only
//! target listings under `/api/targets/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

use super::user::User;
use crate::lab::Lab;

/// `GET /api/benchmarks/config`: devices (target types, their engines and
/// instances) and runtimes (engines, their file types and parameters).
/// Every configured instance is online while the server runs, so `full`
/// (`?full=True|False`) changes nothing but is accepted.
pub async fn config(State(lab): State<Arc<Lab>>, _user: User) -> Json<Value> {
    let mut devices = Map::new();
    for kind in lab.catalog.kinds() {
        let instances: Vec<_> = lab
            .catalog
            .targets
            .iter()
            .filter(|t| t.kind == kind)
            .collect();
        let mut engines: Vec<&str> = Vec::new();
        for target in &instances {
            for engine in &target.engines {
                if !engines.contains(&engine.as_str()) {
                    engines.push(engine);
                }
            }
        }
        let targets: Vec<Value> = instances
            .iter()
            .map(|t| {
                json!({
                    "target_uid": t.uid,
                    "available": lab.dispatcher.busy(&t.uid) < t.slots,
                    "slots": t.slots,
                    "memory": { "storage": t.storage, "ram": t.ram },
                    "supported_types": t.benchmark_types,
                })
            })
            .collect();
        devices.insert(
            kind.to_owned(),
            json!({
                "display_name": instances[0].display_name,
                "engines": engines,
                "targets": targets,
            }),
        );
    }
    let runtimes: Map<String, Value> = lab
        .catalog
        .engines
        .iter()
        .map(|engine| {
            (
                engine.name.clone(),
                json!({
                    "display_name": engine.display_name,
                    "supported_file_extensions": engine.file_extensions,
                    "supported_types": ["TYPE1", "TYPE2"],
                    "parameters": engine.parameters,
                }),
            )
        })
        .collect();
    Json(json!({ "devices": devices, "runtimes": runtimes }))
}

/// `GET /api/targets/status` (open).
pub async fn targets_status() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /api/targets/hardware-types/all` (open): the target types.
pub async fn hardware_types(State(lab): State<Arc<Lab>>) -> Json<Value> {
    let kinds: Vec<Value> = lab
        .catalog
        .kinds()
        .into_iter()
        .map(|kind| {
            let display = lab
                .catalog
                .targets
                .iter()
                .find(|t| t.kind == kind)
                .map_or(kind, |t| t.display_name.as_str());
            json!({ "name": kind, "display_name": display, "description": display })
        })
        .collect();
    Json(Value::Array(kinds))
}

/// `GET /api/targets/engines/all` (open): the engines.
pub async fn engines(State(lab): State<Arc<Lab>>) -> Json<Value> {
    Json(Value::Array(
        lab.catalog
            .engines
            .iter()
            .map(|e| json!({ "name": e.name, "display_name": e.display_name, "description": e.display_name }))
            .collect(),
    ))
}
