//! How a dead Nomad job ended, read from its allocations: the newest
//! allocation (a rescheduled one replaces the one before) and its task's
//! events.

use super::client::Allocation;
use crate::backend::Ended;

/// The end of a job whose status is `dead`, from its `allocations`.
pub fn ended(allocations: &[Allocation]) -> Ended {
    let Some(newest) = allocations.iter().max_by_key(|a| a.create_index) else {
        return Ended::Lost("Nomad ended the benchmark's job without placing it".into());
    };
    if newest.client_status == "lost" {
        return Ended::Lost("Nomad lost the host the benchmark ran on".into());
    }
    let events: Vec<_> = newest
        .task_states
        .iter()
        .flat_map(|states| states.values())
        .flat_map(|state| state.events.iter().flatten())
        .collect();
    if let Some(end) = events.iter().rev().find(|e| e.kind == "Terminated") {
        let detail = if end.signal != 0 {
            format!("killed by signal {}", end.signal)
        } else {
            format!("exit status {}", end.exit_code)
        };
        return Ended::Finished {
            success: end.exit_code == 0 && end.signal == 0,
            detail,
        };
    }
    match events.iter().rev().find(|e| !e.display_message.is_empty()) {
        Some(last) => Ended::Lost(format!(
            "Nomad could not run the benchmark ({}: {})",
            last.kind, last.display_message
        )),
        None => Ended::Lost(format!(
            "Nomad's allocation ended {} before the benchmark started",
            newest.client_status
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allocations(json: &str) -> Vec<Allocation> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_newest_allocation_and_its_last_event_decide() {
        let two = allocations(
            r#"[
              {"ClientStatus": "failed", "CreateIndex": 7, "TaskStates": {"vlab": {"Events": [
                {"Type": "Started"}, {"Type": "Terminated", "ExitCode": 2}]}}},
              {"ClientStatus": "lost", "CreateIndex": 5, "TaskStates": null}
            ]"#,
        );
        assert_eq!(
            ended(&two),
            Ended::Finished {
                success: false,
                detail: "exit status 2".into()
            }
        );
        let ok = allocations(
            r#"[{"ClientStatus": "complete", "CreateIndex": 3, "TaskStates": {"vlab": {"Events": [
                {"Type": "Terminated", "ExitCode": 0, "Signal": 0}]}}}]"#,
        );
        assert!(matches!(ended(&ok), Ended::Finished { success: true, .. }));
        let killed = allocations(
            r#"[{"ClientStatus": "failed", "TaskStates": {"vlab": {"Events": [
                {"Type": "Terminated", "ExitCode": 137, "Signal": 9}]}}}]"#,
        );
        assert_eq!(
            ended(&killed),
            Ended::Finished {
                success: false,
                detail: "killed by signal 9".into()
            }
        );
    }

    #[test]
    fn a_job_that_never_ran_is_lost_with_nomads_reason() {
        assert!(matches!(ended(&[]), Ended::Lost(m) if m.contains("without placing")));
        let artifact = allocations(
            r#"[{"ClientStatus": "failed", "TaskStates": {"vlab": {"Events": [
                {"Type": "Received"},
                {"Type": "Failed Artifact Download", "DisplayMessage": "bad response code: 403"}]}}}]"#,
        );
        assert_eq!(
            ended(&artifact),
            Ended::Lost(
                "Nomad could not run the benchmark (Failed Artifact Download: bad response code: 403)"
                    .into()
            )
        );
        let lost = allocations(r#"[{"ClientStatus": "lost"}]"#);
        assert!(matches!(ended(&lost), Ended::Lost(m) if m.contains("lost the host")));
    }
}
