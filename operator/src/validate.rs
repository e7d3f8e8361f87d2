//! Validate step: what admission (CEL) cannot check, because it depends on the
//! operator's configuration. A failure becomes the `Accepted=False` condition and the
//! VideoJob waits for a change instead of being retried.

use crate::config::OperatorConfig;
use crate::crd::VideoJobSpec;

/// Why a spec cannot run: a condition reason (CamelCase) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

pub fn validate(spec: &VideoJobSpec, config: &OperatorConfig) -> Result<(), Invalid> {
    if spec.shards > config.max_shards {
        return Err(Invalid {
            reason: "TooManyShards",
            message: format!("spec.shards is {}, but this operator allows at most {}", spec.shards, config.max_shards),
        });
    }
    for (field, keys) in [("podLabels", &spec.pod_labels), ("podAnnotations", &spec.pod_annotations)] {
        if let Some(key) = keys.iter().flat_map(|map| map.keys()).find(|key| reserved(key)) {
            return Err(Invalid {
                reason: "ReservedKey",
                message: format!(
                    "spec.{field} has {key:?}: cameo.dev/, batch.kubernetes.io/, kueue.x-k8s.io/ keys and \
                     app.kubernetes.io/name and managed-by are set by the operator (use spec.queueName for a queue)"
                ),
            });
        }
    }
    if output_bucket(spec, config).is_none() {
        return Err(Invalid {
            reason: "NoOutputBucket",
            message: "spec.output.bucket is not set and the operator has no default output bucket".into(),
        });
    }
    Ok(())
}

/// Label and annotation keys the operator, the Job controller or Kueue set themselves.
pub fn reserved(key: &str) -> bool {
    ["cameo.dev/", "batch.kubernetes.io/", "kueue.x-k8s.io/"].iter().any(|prefix| key.starts_with(prefix))
        || ["app.kubernetes.io/name", "app.kubernetes.io/managed-by", "controller-uid", "job-name"].contains(&key)
}

/// The bucket results go to: the VideoJob's own, else the operator's default.
pub fn output_bucket<'a>(spec: &'a VideoJobSpec, config: &'a OperatorConfig) -> Option<&'a str> {
    spec.output
        .as_ref()
        .and_then(|o| o.bucket.as_deref())
        .or(Some(config.output_bucket.as_str()))
        .filter(|b| !b.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{config, spec};

    #[test]
    fn a_spec_within_the_operators_limits_is_valid() {
        assert_eq!(validate(&spec(), &config()), Ok(()));
    }

    #[test]
    fn more_shards_than_allowed_is_invalid_with_a_reason() {
        let too_many = VideoJobSpec { shards: 65, ..spec() };
        assert_eq!(validate(&too_many, &config()).unwrap_err().reason, "TooManyShards");
    }

    #[test]
    fn labels_the_operator_or_kueue_set_cannot_be_given() {
        for key in ["cameo.dev/videojob", "kueue.x-k8s.io/queue-name", "app.kubernetes.io/managed-by"] {
            let labels = VideoJobSpec {
                pod_labels: Some(std::collections::BTreeMap::from([(key.into(), "x".into())])),
                ..spec()
            };
            let invalid = validate(&labels, &config()).unwrap_err();
            assert_eq!(invalid.reason, "ReservedKey");
            assert!(invalid.message.contains(key), "{}", invalid.message);
        }
        let fine = VideoJobSpec {
            pod_annotations: Some(std::collections::BTreeMap::from([("example.com/owner".into(), "x".into())])),
            ..spec()
        };
        assert_eq!(validate(&fine, &config()), Ok(()));
    }

    #[test]
    fn no_bucket_anywhere_is_invalid() {
        let config = OperatorConfig { output_bucket: String::new(), ..config() };
        assert_eq!(validate(&spec(), &config).unwrap_err().reason, "NoOutputBucket");
    }
}
