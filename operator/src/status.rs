//! Status step: what a VideoJob's status should say, from its validation and its Job,
//! as a pure function. Conditions keep their transition time while their status holds.

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::crd::{Phase, ShardCounts, VideoJob, VideoJobStatus};
use crate::job::job_name;
use crate::validate::Invalid;
use kube::ResourceExt;

pub const ACCEPTED: &str = "Accepted";
pub const SUSPENDED: &str = "Suspended";
pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";

/// The status `vj` should have, given why it is invalid (if it is) and its Job (if any).
pub fn desired_status(vj: &VideoJob, invalid: Option<&Invalid>, job: Option<&Job>, now: &Time) -> VideoJobStatus {
    let current = vj.status.clone().unwrap_or_default();
    let job_status = job.and_then(|j| j.status.as_ref());
    let job_condition = |types: &[&str]| {
        job_status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| types.contains(&c.type_.as_str()) && c.status == "True"))
    };
    let failure = job_condition(&["Failed", "FailureTarget"]);
    let success = job_condition(&["Complete", "SuccessCriteriaMet"]);
    let shards = ShardCounts {
        total: vj.spec.shards,
        succeeded: job_status.and_then(|s| s.completed_indexes.as_deref()).map_or(0, count_indexes),
        failed: job_status.and_then(|s| s.failed_indexes.as_deref()).map_or(0, count_indexes),
        active: job_status.and_then(|s| s.active).unwrap_or(0),
    };
    let phase = match (invalid, failure, success) {
        (Some(_), _, _) => Phase::Invalid,
        (None, Some(_), _) => Phase::Failed,
        (None, None, Some(_)) => Phase::Succeeded,
        _ if vj.spec.suspend => Phase::Suspended,
        _ if shards.active > 0 || shards.succeeded > 0 || shards.failed > 0 => Phase::Detecting,
        _ => Phase::Pending,
    };

    let (accepted_reason, accepted_message) = match invalid {
        Some(i) => (i.reason.to_string(), i.message.clone()),
        None => ("Valid".to_string(), "The spec is valid and its shards are scheduled".to_string()),
    };
    let (failed_reason, failed_message) = match failure {
        Some(c) => failure_explanation(c),
        None => ("NotFailed".to_string(), String::new()),
    };
    let generation = vj.metadata.generation;
    let mut conditions = Vec::new();
    let mut set = |type_: &str, holds: bool, reason: String, message: String| {
        conditions.push(condition(&current.conditions, type_, holds, reason, message, generation, now));
    };
    set(ACCEPTED, invalid.is_none(), accepted_reason, accepted_message);
    set(SUSPENDED, phase == Phase::Suspended, "SpecSuspend".into(), String::new());
    set(COMPLETE, phase == Phase::Succeeded, "AllShardsSucceeded".into(), String::new());
    set(FAILED, phase == Phase::Failed, failed_reason, failed_message);

    let completion_time = match phase {
        Phase::Succeeded => job_status
            .and_then(|s| s.completion_time.clone())
            .or_else(|| success.and_then(|c| c.last_transition_time.clone())),
        Phase::Failed => failure.and_then(|c| c.last_transition_time.clone()),
        _ => None,
    };
    VideoJobStatus {
        phase,
        observed_generation: generation,
        conditions,
        progress: Some(format!("{}/{}", shards.succeeded, shards.total)),
        shards,
        job_name: job.map(|_| job_name(&vj.name_any())),
        start_time: job_status.and_then(|s| s.start_time.clone()),
        completion_time,
        result: current.result,
    }
}

/// A condition reason and message that say what failed, e.g. the exit code rule.
fn failure_explanation(condition: &JobCondition) -> (String, String) {
    let reason = condition.reason.clone().unwrap_or_else(|| "JobFailed".into());
    let message = condition.message.clone().unwrap_or_default();
    let explained = match reason.as_str() {
        "PodFailurePolicy" => {
            format!("A shard's input cannot be analysed (detector exit code 2), so no retry was made: {message}")
        }
        "BackoffLimitExceeded" | "FailedIndexes" => {
            format!("A shard failed more often than spec.backoffLimitPerShard allows: {message}")
        }
        "DeadlineExceeded" => format!("The analysis ran longer than spec.activeDeadlineSeconds: {message}"),
        _ => message,
    };
    (reason, explained)
}

fn condition(
    existing: &[Condition],
    type_: &str,
    holds: bool,
    reason: String,
    message: String,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if holds { "True" } else { "False" };
    let since = existing
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason,
        message,
        observed_generation: generation,
        last_transition_time: since,
    }
}

/// Counts the indexes in a Job's `completedIndexes`/`failedIndexes`, e.g. `1,3-5` is 4.
pub fn count_indexes(ranges: &str) -> i32 {
    ranges
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.trim().parse::<i32>().unwrap_or(0) - a.trim().parse::<i32>().unwrap_or(0) + 1,
            None => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::VideoJobSpec;
    use crate::fixtures::{spec, videojob};
    use k8s_openapi::api::batch::v1::JobStatus;

    fn now() -> Time {
        Time("2026-11-28T10:00:00Z".parse().unwrap())
    }

    fn job(status: JobStatus) -> Job {
        Job { status: Some(status), ..Job::default() }
    }

    fn job_condition(type_: &str, reason: &str) -> JobCondition {
        JobCondition {
            type_: type_.into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some("Container detector for pod media/x-0 failed with exit code 2".into()),
            last_transition_time: Some(now()),
            ..JobCondition::default()
        }
    }

    fn get<'a>(status: &'a VideoJobStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn running_shards_are_detecting_with_progress() {
        let vj = videojob("x", spec());
        let running = job(JobStatus { active: Some(2), completed_indexes: Some("0,2".into()), ..JobStatus::default() });
        let status = desired_status(&vj, None, Some(&running), &now());
        assert_eq!(status.phase, Phase::Detecting);
        assert_eq!(status.progress.as_deref(), Some("2/4"));
        assert_eq!(status.shards, ShardCounts { total: 4, succeeded: 2, failed: 0, active: 2 });
        assert_eq!(get(&status, ACCEPTED).status, "True");
        assert_eq!(status.observed_generation, Some(1));
    }

    #[test]
    fn a_complete_job_succeeds_and_a_bad_input_failure_says_why() {
        let vj = videojob("x", spec());
        let done = job(JobStatus {
            completed_indexes: Some("0-3".into()),
            conditions: Some(vec![job_condition("Complete", "CompletionsReached")]),
            ..JobStatus::default()
        });
        let status = desired_status(&vj, None, Some(&done), &now());
        assert_eq!((status.phase, get(&status, COMPLETE).status.as_str()), (Phase::Succeeded, "True"));
        assert_eq!(status.completion_time, Some(now()));

        let failed = job(JobStatus {
            conditions: Some(vec![job_condition("Failed", "PodFailurePolicy")]),
            ..JobStatus::default()
        });
        let status = desired_status(&vj, None, Some(&failed), &now());
        assert_eq!(status.phase, Phase::Failed);
        let condition = get(&status, FAILED);
        assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("True", "PodFailurePolicy"));
        assert!(condition.message.contains("exit code 2"), "{}", condition.message);
    }

    #[test]
    fn an_invalid_spec_is_a_false_accepted_condition() {
        let vj = videojob("x", spec());
        let invalid = Invalid { reason: "TooManyShards", message: "too many".into() };
        let status = desired_status(&vj, Some(&invalid), None, &now());
        assert_eq!(status.phase, Phase::Invalid);
        let accepted = get(&status, ACCEPTED);
        assert_eq!((accepted.status.as_str(), accepted.reason.as_str()), ("False", "TooManyShards"));
    }

    #[test]
    fn a_suspended_videojob_is_suspended() {
        let vj = videojob("x", VideoJobSpec { suspend: true, ..spec() });
        let status = desired_status(&vj, None, Some(&job(JobStatus::default())), &now());
        assert_eq!(status.phase, Phase::Suspended);
        assert_eq!(get(&status, SUSPENDED).status, "True");
    }

    #[test]
    fn conditions_keep_their_transition_time_while_their_status_holds() {
        let mut vj = videojob("x", spec());
        let earlier = Time("2026-11-28T09:00:00Z".parse().unwrap());
        vj.status = Some(desired_status(&vj, None, None, &earlier));
        let later = desired_status(&vj, None, None, &now());
        assert_eq!(get(&later, ACCEPTED).last_transition_time, earlier);
    }

    #[test]
    fn index_ranges_are_counted() {
        assert_eq!(count_indexes(""), 0);
        assert_eq!(count_indexes("3"), 1);
        assert_eq!(count_indexes("0-3,5,7-8"), 7);
    }
}
