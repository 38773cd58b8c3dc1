//! The stand-in's HTTP routes: Nomad's job endpoints the lab uses, behind
//! the `X-Nomad-Token` check. As Nomad does, a job id with a slash (a
//! dispatched job's) may come percent-encoded in one path segment or not:
//! the path after `/v1/job/` is split on its known suffixes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State as Shared};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{Alloc, Dispatched, Event, Job, State, task, uuid};

/// An answer: JSON on success, Nomad's plain-text error otherwise.
type Reply = Result<axum::Json<Value>, (StatusCode, String)>;

/// The routes, on `state`.
pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/job/{*rest}", get(read).post(dispatch).delete(stop))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), acl))
        .with_state(state)
}

/// Nomad's answer to anything it does not serve here.
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Invalid URL")
}

fn job_not_found() -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, "job not found".to_owned())
}

/// With an ACL token, a request without it is denied.
async fn acl(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.acl_token {
        let given = request.headers().get("x-nomad-token");
        if given.map(|v| v.as_bytes()) != Some(token.as_bytes()) {
            return (StatusCode::FORBIDDEN, "Permission denied").into_response();
        }
    }
    next.run(request).await
}

/// `GET /v1/job/{id}` and `GET /v1/job/{id}/allocations`.
async fn read(Shared(state): Shared<Arc<State>>, Path(rest): Path<String>) -> Reply {
    if let Some(id) = rest.strip_suffix("/allocations") {
        if state.registered.contains_key(id) {
            return Ok(axum::Json(json!([])));
        }
        let jobs = state.lock();
        let job = visible(&jobs.list, id).ok_or_else(job_not_found)?;
        let task = &state.registered[&job.dispatched.parent].task.name;
        return Ok(axum::Json(json!([alloc_json(job, task)])));
    }
    if let Some(registration) = state.registered.get(&rest) {
        return Ok(axum::Json(json!({
            "ID": registration.id,
            "ParentID": "",
            "Type": "batch",
            "Status": "running",
            "Stop": false,
            "Dispatched": false,
            "Meta": registration.meta,
            "ParameterizedJob": {
                "Payload": registration.payload,
                "MetaRequired": registration.meta_required,
                "MetaOptional": registration.meta_optional,
            },
        })));
    }
    let jobs = state.lock();
    let job = visible(&jobs.list, &rest).ok_or_else(job_not_found)?;
    Ok(axum::Json(json!({
        "ID": job.dispatched.id,
        "ParentID": job.dispatched.parent,
        "Type": "batch",
        "Status": job.status(),
        "Stop": job.stop,
        "Dispatched": true,
        "Meta": job.meta,
    })))
}

/// `POST /v1/job/{id}/dispatch` with `{"Meta": {..}, "Payload": ".."}`.
async fn dispatch(
    Shared(state): Shared<Arc<State>>,
    Path(rest): Path<String>,
    body: Bytes,
) -> Reply {
    let parent = rest
        .strip_suffix("/dispatch")
        .ok_or((StatusCode::NOT_FOUND, "Invalid URL".to_owned()))?;
    let registration = state.registered.get(parent).ok_or_else(job_not_found)?;
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| bad(format!("failed to decode request: {e}")))?
    };
    let meta: BTreeMap<String, String> = match request.get("Meta") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(meta) => serde_json::from_value(meta.clone())
            .map_err(|e| bad(format!("failed to decode Meta: {e}")))?,
    };
    let has_payload = request
        .get("Payload")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.is_empty());
    if registration.payload == "required" && !has_payload {
        return Err(bad(
            "Payload is not provided but required by parameterized job".to_owned(),
        ));
    }
    if registration.payload == "forbidden" && has_payload {
        return Err(bad(
            "Payload provided but forbidden by parameterized job".to_owned()
        ));
    }
    let unpermitted: Vec<&str> = meta
        .keys()
        .map(String::as_str)
        .filter(|k| {
            !registration.meta_required.iter().any(|r| r == k)
                && !registration.meta_optional.iter().any(|o| o == k)
        })
        .collect();
    if !unpermitted.is_empty() {
        return Err(bad(format!(
            "Dispatch request included unpermitted metadata keys: [{}]",
            unpermitted.join(" ")
        )));
    }
    let missing: Vec<&str> = registration
        .meta_required
        .iter()
        .map(String::as_str)
        .filter(|k| !meta.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "Dispatch did not provide required meta keys: [{}]",
            missing.join(" ")
        )));
    }

    let mut merged = registration.meta.clone();
    merged.extend(meta.clone());
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let id = format!("{parent}/dispatch-{secs}-{}", &uuid()[..8]);
    let alloc_id = uuid();
    let log = state
        .dir
        .join(&alloc_id)
        .join("alloc/logs")
        .join(format!("{}.log", registration.task.name));
    let mut jobs = state.lock();
    let index = jobs.next_index();
    jobs.list.push(Job {
        dispatched: Dispatched {
            parent: parent.to_owned(),
            id: id.clone(),
            meta,
        },
        meta: merged,
        stop: false,
        purged: false,
        alloc: Alloc {
            id: alloc_id,
            create_index: index,
            client_status: "pending",
            desired_status: "run",
            task_state: "pending",
            failed: false,
            events: vec![Event::new("Received", "Task received by client")],
        },
        log,
        process: None,
    });
    drop(jobs);
    let runner = (state.clone(), id.clone());
    std::thread::spawn(move || task::run(&runner.0, &runner.1));
    Ok(axum::Json(json!({
        "Index": index,
        "JobCreateIndex": index,
        "EvalID": uuid(),
        "EvalCreateIndex": index,
        "DispatchedJobID": id,
    })))
}

/// `DELETE /v1/job/{id}` (`?purge=true`): stops the job's task.
async fn stop(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let mut jobs = state.lock();
    let index = jobs.next_index();
    let job = jobs
        .job_mut(&id)
        .filter(|job| !job.purged)
        .ok_or_else(job_not_found)?;
    let registration = &state.registered[&job.dispatched.parent];
    task::stop(&state, job, registration.task.kill_timeout);
    job.purged = query.get("purge").is_some_and(|p| p == "true");
    Ok(axum::Json(json!({
        "EvalID": uuid(),
        "EvalCreateIndex": index,
        "JobModifyIndex": index,
    })))
}

/// Dispatched job `id`, unless purged.
fn visible<'a>(list: &'a [Job], id: &str) -> Option<&'a Job> {
    list.iter()
        .find(|job| job.dispatched.id == id && !job.purged)
}

/// The allocation stub Nomad's `allocations` endpoint lists for `job`,
/// whose task is named `task`.
fn alloc_json(job: &Job, task: &str) -> Value {
    let alloc = &job.alloc;
    let events: Vec<Value> = alloc
        .events
        .iter()
        .map(|e| {
            json!({
                "Type": e.kind,
                "Time": e.time,
                "ExitCode": e.exit_code,
                "Signal": e.signal,
                "DisplayMessage": e.message,
            })
        })
        .collect();
    json!({
        "ID": alloc.id,
        "JobID": job.dispatched.id,
        "CreateIndex": alloc.create_index,
        "ClientStatus": alloc.client_status,
        "DesiredStatus": alloc.desired_status,
        "TaskStates": {
            task: {
                "State": alloc.task_state,
                "Failed": alloc.failed,
                "Events": events,
            },
        },
    })
}
