//! ONNX Runtime's profiling trace, read back into per-run node times.
//!
//! A session created with profiling on records events in memory and
//! writes them, when profiling ends, as a JSON array in Chrome's trace
//! format. Each event has a category (`cat`), a name, a start (`ts`) and a
//! duration (`dur`), both in microseconds from the start of profiling:
//! every `Session.model_run` event spans one inference, and every
//! `Node` event named `<node>_kernel_time` is one node's kernel in one
//! inference, with the operator type in `args.op_name`. ONNX Runtime
//! records no run number on a node's event, so a node belongs to the run
//! whose span holds its start.

use serde::Deserialize;

/// One node's kernel in one inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTime {
    /// The node's name in the graph ONNX Runtime runs (after its graph
    /// optimisations: a fused node has a name of ONNX Runtime's making).
    pub node: String,
    /// The operator type (`Conv`, `MatMul`, ...).
    pub op: String,
    /// The kernel's duration in nanoseconds, at ONNX Runtime's microsecond
    /// resolution.
    pub ns: u64,
}

/// One trace event, as far as vlab reads it.
#[derive(Debug, Deserialize)]
struct Event {
    cat: String,
    name: String,
    /// Start, µs.
    ts: Option<u64>,
    /// Duration, µs.
    dur: Option<u64>,
    #[serde(default)]
    args: Args,
}

#[derive(Debug, Default, Deserialize)]
struct Args {
    op_name: Option<String>,
}

/// The suffix of a node's kernel event name.
const KERNEL_TIME: &str = "_kernel_time";

/// Every inference in the trace `json`, in the order they ran, each with
/// its nodes' kernel times in the order they started.
pub fn runs(json: &str) -> Result<Vec<Vec<NodeTime>>, String> {
    let events: Vec<Event> = serde_json::from_str(json)
        .map_err(|e| format!("ONNX Runtime's profiling trace is not what vlab reads: {e}"))?;
    let mut spans: Vec<(u64, u64)> = events
        .iter()
        .filter(|e| e.cat == "Session" && e.name == "model_run")
        .filter_map(|e| Some((e.ts?, e.ts?.saturating_add(e.dur?))))
        .collect();
    spans.sort_unstable();
    let mut runs: Vec<Vec<(u64, NodeTime)>> = vec![Vec::new(); spans.len()];
    for event in events {
        let Some(node) = event.name.strip_suffix(KERNEL_TIME) else {
            continue;
        };
        if event.cat != "Node" {
            continue;
        }
        let (Some(ts), Some(dur)) = (event.ts, event.dur) else {
            return Err(format!(
                "ONNX Runtime's profiling trace: node {node} has no start or duration"
            ));
        };
        let op = event.args.op_name.ok_or_else(|| {
            format!("ONNX Runtime's profiling trace: node {node} has no operator type")
        })?;
        // The last run that started at or before the node did.
        let run = spans.partition_point(|&(start, _)| start <= ts);
        let Some(run) = run.checked_sub(1).filter(|&r| ts <= spans[r].1) else {
            return Err(format!(
                "ONNX Runtime's profiling trace: node {node} ran outside every inference"
            ));
        };
        runs[run].push((
            ts,
            NodeTime {
                node: node.to_owned(),
                op,
                ns: dur.saturating_mul(1000),
            },
        ));
    }
    Ok(runs
        .into_iter()
        .map(|mut nodes| {
            nodes.sort_by_key(|(ts, _)| *ts);
            nodes.into_iter().map(|(_, node)| node).collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace ONNX Runtime 1.31.1 wrote for light_squeezenet.onnx
    /// (models/fetch.sh) run three times with every graph optimisation.
    const SQUEEZENET: &str = include_str!("testdata/light_squeezenet_3_runs.json");

    #[test]
    fn a_real_trace_splits_into_its_runs_with_every_node_in_order() {
        let runs = runs(SQUEEZENET).unwrap();
        assert_eq!(runs.len(), 3);
        for run in &runs {
            assert_eq!(run.len(), runs[0].len(), "every run has the same nodes");
            let names: Vec<&str> = run.iter().map(|n| n.node.as_str()).collect();
            let first: Vec<&str> = runs[0].iter().map(|n| n.node.as_str()).collect();
            assert_eq!(names, first);
            assert!(run.iter().any(|n| n.ns > 0));
        }
        let ops: Vec<&str> = runs[0].iter().map(|n| n.op.as_str()).collect();
        assert_eq!(ops.first(), Some(&"Conv"));
        assert_eq!(ops.last(), Some(&"Softmax"));
        assert!(
            ops.contains(&"Concat") && ops.contains(&"MaxPool"),
            "{ops:?}"
        );
    }

    #[test]
    fn durations_are_nanoseconds() {
        let json = r#"[
            {"cat":"Session","name":"model_run","ts":100,"dur":50,"args":{}},
            {"cat":"Node","name":"b_kernel_time","ts":120,"dur":7,"args":{"op_name":"Relu"}},
            {"cat":"Node","name":"a_kernel_time","ts":101,"dur":12,"args":{"op_name":"Conv"}},
            {"cat":"Session","name":"model_run","ts":200,"dur":50,"args":{}},
            {"cat":"Node","name":"a_kernel_time","ts":201,"dur":11,"args":{"op_name":"Conv"}}
        ]"#;
        let runs = runs(json).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            runs[0],
            vec![
                NodeTime {
                    node: "a".into(),
                    op: "Conv".into(),
                    ns: 12_000
                },
                NodeTime {
                    node: "b".into(),
                    op: "Relu".into(),
                    ns: 7_000
                },
            ]
        );
        assert_eq!(runs[1].len(), 1);
    }

    #[test]
    fn a_broken_trace_is_an_error_not_a_panic() {
        assert!(runs("{").is_err());
        assert!(runs("[]").unwrap().is_empty());
        let outside =
            r#"[{"cat":"Node","name":"a_kernel_time","ts":1,"dur":1,"args":{"op_name":"Conv"}}]"#;
        assert!(
            runs(outside)
                .unwrap_err()
                .contains("outside every inference")
        );
        let untyped = r#"[
            {"cat":"Session","name":"model_run","ts":0,"dur":9,"args":{}},
            {"cat":"Node","name":"a_kernel_time","ts":1,"dur":1,"args":{}}]"#;
        assert!(runs(untyped).unwrap_err().contains("no operator type"));
    }
}
