//! Status step: what a VideoJob's status should say, from its validation, its Jobs and
//! what their pods said, as a pure function. Conditions keep their transition time while
//! their status holds.

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::crd::{Phase, ResultSummary, ShardCounts, VideoJob, VideoJobStatus};
use crate::job::Stage;
use crate::validate::Invalid;
use kube::ResourceExt;

pub const ACCEPTED: &str = "Accepted";
pub const WAITING: &str = "Waiting";
pub const SUSPENDED: &str = "Suspended";
pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";

/// What keeps an accepted VideoJob's shards from running, outside cameo: a reason
/// (CamelCase) and what the cluster said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: &'static str,
    pub message: String,
}

impl Waiting {
    /// The API server refused the Job (an admission policy, a ResourceQuota on Jobs).
    pub const JOB_REJECTED: &'static str = "JobRejected";
    /// The Job controller cannot create the pods (a quota on pods or GPUs, a webhook).
    pub const POD_CREATION_FAILED: &'static str = "PodCreationFailed";
    /// No node fits a shard pod (the scheduler's message says why).
    pub const UNSCHEDULABLE: &'static str = "Unschedulable";
    /// Someone else (a queue such as Kueue) holds the Job suspended until it admits it.
    pub const QUEUED: &'static str = "Queued";
}

/// What the status step looks at.
#[derive(Default)]
pub struct Observed<'a> {
    /// Why the spec cannot run, if it cannot.
    pub invalid: Option<&'a Invalid>,
    /// What the cluster keeps the shards waiting for, if anything.
    pub waiting: Option<Waiting>,
    /// The shards' Job.
    pub detect: Option<&'a Job>,
    /// The shards all succeeded earlier (the status said Merging), though their Job may be
    /// gone since (its TTL).
    pub detected: bool,
    /// The merge Job.
    pub merge: Option<&'a Job>,
    /// What a failed pod said (its termination message), naming the cause of a failure.
    pub failure_detail: Option<String>,
    /// Who appears in the video, from the merge pod, once it succeeded.
    pub result: Option<ResultSummary>,
}

/// A Job's `True` condition of one of these types.
fn job_condition<'a>(job: Option<&'a Job>, types: &[&str]) -> Option<&'a JobCondition> {
    job.and_then(|j| j.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| types.contains(&c.type_.as_str()) && c.status == "True"))
}

pub fn failed(job: Option<&Job>) -> Option<&JobCondition> {
    job_condition(job, &["Failed", "FailureTarget"])
}

pub fn succeeded(job: Option<&Job>) -> Option<&JobCondition> {
    job_condition(job, &["Complete", "SuccessCriteriaMet"])
}

/// The status `vj` should have, given its `current` one (what this operator last wrote,
/// which the cached `vj` may not show yet) and what was observed.
pub fn desired_status(vj: &VideoJob, current: &VideoJobStatus, observed: &Observed, now: &Time) -> VideoJobStatus {
    let detect_status = observed.detect.and_then(|j| j.status.as_ref());
    let shards = match detect_status {
        None if observed.detected => current.shards.clone(),
        _ => ShardCounts {
            total: vj.spec.shards,
            succeeded: detect_status.and_then(|s| s.completed_indexes.as_deref()).map_or(0, count_indexes),
            failed: detect_status.and_then(|s| s.failed_indexes.as_deref()).map_or(0, count_indexes),
            active: detect_status.and_then(|s| s.active).unwrap_or(0),
        },
    };
    let detect_failure = failed(observed.detect);
    let merge_failure = failed(observed.merge);
    let merged = succeeded(observed.merge);
    let phase = if observed.invalid.is_some() {
        Phase::Invalid
    } else if detect_failure.is_some() || merge_failure.is_some() {
        Phase::Failed
    } else if merged.is_some() {
        Phase::Succeeded
    } else if succeeded(observed.detect).is_some() || observed.detected {
        Phase::Merging
    } else if vj.spec.suspend {
        Phase::Suspended
    } else if shards.active > 0 || shards.succeeded > 0 || shards.failed > 0 {
        Phase::Detecting
    } else {
        Phase::Pending
    };

    let (accepted_reason, accepted_message) = match observed.invalid {
        Some(i) => (i.reason.to_string(), i.message.clone()),
        None => ("Valid".to_string(), "The spec is valid".to_string()),
    };
    // Waiting means waiting to run: a finished, suspended or invalid VideoJob is not.
    let waiting =
        observed.waiting.as_ref().filter(|_| matches!(phase, Phase::Pending | Phase::Detecting | Phase::Merging));
    let (failed_reason, failed_message) = match (detect_failure, merge_failure) {
        (Some(c), _) => failure_explanation(c, Stage::Detect, observed.failure_detail.as_deref()),
        (None, Some(c)) => failure_explanation(c, Stage::Merge, observed.failure_detail.as_deref()),
        (None, None) => ("NotFailed".to_string(), String::new()),
    };
    // A failure explained once stays explained: pods may be gone by the next reconcile.
    let failed_message = match current.conditions.iter().find(|c| c.type_ == FAILED && c.status == "True") {
        Some(known) if observed.failure_detail.is_none() && phase == Phase::Failed => known.message.clone(),
        _ => failed_message,
    };
    let generation = vj.metadata.generation;
    let mut conditions = Vec::new();
    let mut set = |type_: &str, holds: bool, reason: String, message: String| {
        conditions.push(condition(&current.conditions, type_, holds, reason, message, generation, now));
    };
    set(ACCEPTED, observed.invalid.is_none(), accepted_reason.clone(), accepted_message);
    match waiting {
        Some(w) => set(WAITING, true, w.reason.into(), w.message.clone()),
        None => set(WAITING, false, "NotWaiting".into(), String::new()),
    }
    let suspended = phase == Phase::Suspended;
    set(SUSPENDED, suspended, if suspended { "SpecSuspend" } else { "NotSuspended" }.into(), String::new());
    let complete = phase == Phase::Succeeded;
    let result = observed.result.as_ref().or(current.result.as_ref());
    let complete_message = if complete { result.map(complete_message).unwrap_or_default() } else { String::new() };
    set(COMPLETE, complete, if complete { "ResultsWritten" } else { "NotComplete" }.into(), complete_message);
    set(FAILED, phase == Phase::Failed, failed_reason.clone(), failed_message);
    let reason = match phase {
        Phase::Invalid => Some(accepted_reason),
        Phase::Failed => Some(failed_reason),
        Phase::Succeeded => Some("ResultsWritten".to_string()),
        Phase::Suspended => Some("SpecSuspend".to_string()),
        Phase::Pending | Phase::Detecting | Phase::Merging => waiting.map(|w| w.reason.to_string()),
    };

    let completion_time = match phase {
        Phase::Succeeded => observed
            .merge
            .and_then(|j| j.status.as_ref())
            .and_then(|s| s.completion_time.clone())
            .or_else(|| merged.and_then(|c| c.last_transition_time.clone())),
        Phase::Failed => detect_failure.or(merge_failure).and_then(|c| c.last_transition_time.clone()),
        _ => None,
    };
    let kept = |value: Option<String>, current: &Option<String>| value.or_else(|| current.clone());
    VideoJobStatus {
        phase,
        reason,
        observed_generation: generation,
        conditions,
        progress: Some(format!("{}/{}", shards.succeeded, shards.total)),
        shards,
        job_name: kept(observed.detect.map(|job| job.name_any()), &current.job_name),
        // The shards' first start: the Job resets its own when it is resumed.
        start_time: current.start_time.clone().or_else(|| detect_status.and_then(|s| s.start_time.clone())),
        completion_time,
        result: observed.result.clone().or_else(|| current.result.clone()),
    }
}

/// What a finished analysis found, and what of the gallery it could not use.
fn complete_message(result: &ResultSummary) -> String {
    let people = if result.actors_found == 1 { "person" } else { "people" };
    let found = format!("{} known {people} found; results at {}", result.actors_found, result.uri);
    match result.gallery_skipped {
        0 => found,
        1 => format!("{found}; 1 gallery photo was skipped (the results' gallery.skipped says why)"),
        n => format!("{found}; {n} gallery photos were skipped (the results' gallery.skipped says why)"),
    }
}

/// A condition reason and message that say what failed and why: the Job's reason, and
/// what the failed pod said.
fn failure_explanation(condition: &JobCondition, stage: Stage, detail: Option<&str>) -> (String, String) {
    let reason = condition.reason.clone().unwrap_or_else(|| "JobFailed".into());
    let message = condition.message.clone().unwrap_or_default();
    let what = match stage {
        Stage::Detect => "A shard",
        Stage::Merge => "The merge",
    };
    let explained = match reason.as_str() {
        "PodFailurePolicy" => format!("{what}'s input cannot be analysed (exit code 2), so no retry was made"),
        "BackoffLimitExceeded" | "FailedIndexes" => format!("{what} failed more often than its retries allow"),
        "DeadlineExceeded" => "The analysis ran longer than spec.activeDeadlineSeconds".to_string(),
        _ => format!("{what} failed"),
    };
    let reason = match stage {
        Stage::Detect => reason,
        Stage::Merge => format!("Merge{reason}"),
    };
    let detail = detail.map(|d| format!(": {}", d.trim())).unwrap_or_default();
    (reason, format!("{explained}{detail} ({message})"))
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

    /// The status of a VideoJob that has none yet.
    fn first_status(vj: &VideoJob, observed: &Observed) -> VideoJobStatus {
        desired_status(vj, &VideoJobStatus::default(), observed, &now())
    }

    fn get<'a>(status: &'a VideoJobStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    fn complete() -> Job {
        job(JobStatus {
            completed_indexes: Some("0-3".into()),
            conditions: Some(vec![job_condition("Complete", "CompletionsReached")]),
            completion_time: Some(now()),
            ..JobStatus::default()
        })
    }

    #[test]
    fn running_shards_are_detecting_with_progress() {
        let vj = videojob("x", spec());
        let running = job(JobStatus { active: Some(2), completed_indexes: Some("0,2".into()), ..JobStatus::default() });
        let status = first_status(&vj, &Observed { detect: Some(&running), ..Observed::default() });
        assert_eq!(status.phase, Phase::Detecting);
        assert_eq!(status.progress.as_deref(), Some("2/4"));
        assert_eq!(status.shards, ShardCounts { total: 4, succeeded: 2, failed: 0, active: 2 });
        assert_eq!(get(&status, ACCEPTED).status, "True");
        assert_eq!(status.observed_generation, Some(1));
    }

    #[test]
    fn shards_done_is_merging_and_a_merged_result_succeeds_with_the_summary() {
        let vj = videojob("x", spec());
        let detect = complete();
        let status = first_status(&vj, &Observed { detect: Some(&detect), ..Observed::default() });
        assert_eq!(status.phase, Phase::Merging);

        let merge = complete();
        let result = ResultSummary { uri: "s3://p/r.json".into(), actors_found: 1, ..ResultSummary::default() };
        let observed = Observed {
            detect: Some(&detect),
            merge: Some(&merge),
            result: Some(result.clone()),
            ..Observed::default()
        };
        let status = first_status(&vj, &observed);
        assert_eq!((status.phase, get(&status, COMPLETE).status.as_str()), (Phase::Succeeded, "True"));
        assert_eq!(get(&status, COMPLETE).message, "1 known person found; results at s3://p/r.json");
        assert_eq!((status.completion_time, status.result), (Some(now()), Some(result)));

        // Skipped gallery photos are said where a user looks first.
        let skipped = ResultSummary { gallery_skipped: 2, ..observed.result.clone().unwrap() };
        let status = first_status(&vj, &Observed { result: Some(skipped), ..observed });
        let message = &get(&status, COMPLETE).message;
        assert!(
            message.ends_with("2 gallery photos were skipped (the results' gallery.skipped says why)"),
            "{message}"
        );
    }

    #[test]
    fn a_bad_input_failure_names_the_object_and_the_reason() {
        let vj = videojob("x", spec());
        let failed = job(JobStatus {
            conditions: Some(vec![job_condition("Failed", "PodFailurePolicy")]),
            ..JobStatus::default()
        });
        let detail = "error (exit code 2): cannot read video s3://raw/missing.mp4: the object does not exist";
        let observed = Observed { detect: Some(&failed), failure_detail: Some(detail.into()), ..Observed::default() };
        let status = first_status(&vj, &observed);
        assert_eq!(status.phase, Phase::Failed);
        let condition = get(&status, FAILED);
        assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("True", "PodFailurePolicy"));
        assert!(condition.message.contains("s3://raw/missing.mp4: the object does not exist"), "{}", condition.message);

        // The explanation survives a later reconcile that no longer finds the pod.
        let again = desired_status(&vj, &status, &Observed { detect: Some(&failed), ..Observed::default() }, &now());
        assert!(get(&again, FAILED).message.contains("the object does not exist"));
    }

    #[test]
    fn a_failed_merge_fails_the_videojob_with_a_merge_reason() {
        let vj = videojob("x", spec());
        let (detect, merge) = (
            complete(),
            job(JobStatus {
                conditions: Some(vec![job_condition("Failed", "BackoffLimitExceeded")]),
                ..JobStatus::default()
            }),
        );
        let status = first_status(&vj, &Observed { detect: Some(&detect), merge: Some(&merge), ..Observed::default() });
        assert_eq!((status.phase, get(&status, FAILED).reason.as_str()), (Phase::Failed, "MergeBackoffLimitExceeded"));
    }

    #[test]
    fn an_invalid_spec_is_a_false_accepted_condition() {
        let vj = videojob("x", spec());
        let invalid = Invalid { reason: "TooManyShards", message: "too many".into() };
        let status = first_status(&vj, &Observed { invalid: Some(&invalid), ..Observed::default() });
        assert_eq!(status.phase, Phase::Invalid);
        let accepted = get(&status, ACCEPTED);
        assert_eq!((accepted.status.as_str(), accepted.reason.as_str()), ("False", "TooManyShards"));
    }

    #[test]
    fn what_the_cluster_keeps_waiting_is_a_condition_and_the_reason() {
        let vj = videojob("x", spec());
        let waiting = Waiting { reason: Waiting::UNSCHEDULABLE, message: "0/3 nodes are available".into() };
        let pending = job(JobStatus { active: Some(1), ..JobStatus::default() });
        let observed = Observed { waiting: Some(waiting.clone()), detect: Some(&pending), ..Observed::default() };
        let status = first_status(&vj, &observed);
        assert_eq!((status.phase, status.reason.as_deref()), (Phase::Detecting, Some("Unschedulable")));
        let condition = get(&status, WAITING);
        assert_eq!((condition.status.as_str(), condition.message.as_str()), ("True", "0/3 nodes are available"));

        // Once it runs, the condition is False with a reason of its own, and no reason shows.
        let running = job(JobStatus { active: Some(1), ready: Some(1), ..JobStatus::default() });
        let status = desired_status(&vj, &status, &Observed { detect: Some(&running), ..Observed::default() }, &now());
        assert_eq!(
            (get(&status, WAITING).status.as_str(), get(&status, WAITING).reason.as_str()),
            ("False", "NotWaiting")
        );
        assert_eq!(status.reason, None);

        // A finished VideoJob waits for nothing.
        let done = complete();
        let observed =
            Observed { waiting: Some(waiting), detect: Some(&done), merge: Some(&done), ..Observed::default() };
        let status = first_status(&vj, &observed);
        assert_eq!((status.phase, status.reason.as_deref()), (Phase::Succeeded, Some("ResultsWritten")));
        assert_eq!(get(&status, WAITING).status, "False");
    }

    #[test]
    fn false_conditions_have_reasons_of_their_own() {
        let status = first_status(&videojob("x", spec()), &Observed::default());
        let reasons: Vec<(&str, &str)> =
            status.conditions.iter().map(|c| (c.type_.as_str(), c.reason.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                (ACCEPTED, "Valid"),
                (WAITING, "NotWaiting"),
                (SUSPENDED, "NotSuspended"),
                (COMPLETE, "NotComplete"),
                (FAILED, "NotFailed")
            ]
        );
    }

    #[test]
    fn shards_that_succeeded_stay_counted_when_their_job_expired_during_the_merge() {
        let vj = videojob("x", spec());
        let detect = complete();
        let merging = first_status(&vj, &Observed { detect: Some(&detect), ..Observed::default() });
        let status = desired_status(&vj, &merging, &Observed { detected: true, ..Observed::default() }, &now());
        assert_eq!(status.phase, Phase::Merging);
        assert_eq!((status.shards.succeeded, status.job_name), (4, merging.job_name));
    }

    #[test]
    fn a_suspended_videojob_is_suspended() {
        let vj = videojob("x", VideoJobSpec { suspend: true, ..spec() });
        let idle = job(JobStatus::default());
        let status = first_status(&vj, &Observed { detect: Some(&idle), ..Observed::default() });
        assert_eq!(status.phase, Phase::Suspended);
        assert_eq!(get(&status, SUSPENDED).status, "True");
    }

    #[test]
    fn conditions_keep_their_transition_time_while_their_status_holds() {
        let vj = videojob("x", spec());
        let earlier = Time("2026-11-28T09:00:00Z".parse().unwrap());
        let first = desired_status(&vj, &VideoJobStatus::default(), &Observed::default(), &earlier);
        let later = desired_status(&vj, &first, &Observed::default(), &now());
        assert_eq!(get(&later, ACCEPTED).last_transition_time, earlier);
    }

    #[test]
    fn index_ranges_are_counted() {
        assert_eq!(count_indexes(""), 0);
        assert_eq!(count_indexes("3"), 1);
        assert_eq!(count_indexes("0-3,5,7-8"), 7);
    }
}
