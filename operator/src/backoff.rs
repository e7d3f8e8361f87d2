//! Per-object exponential backoff: a VideoJob whose reconcile keeps failing (or that
//! keeps waiting on the cluster) is retried less and less often, and others are not held
//! up by it. The delay doubles from `first` up to `max`, with up to a quarter of jitter
//! so that many objects failing together do not retry in step.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct Backoff {
    first: Duration,
    max: Duration,
    attempts: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff { first, max, attempts: Mutex::default() }
    }

    /// The delay before the next try for `key`, counting this one.
    pub fn next(&self, key: &str) -> Duration {
        let mut attempts = self.attempts.lock().expect("not poisoned");
        let n = attempts.entry(key.to_string()).or_insert(0);
        let delay = delay(self.first, self.max, *n);
        *n = n.saturating_add(1);
        delay + jitter(key, *n, delay / 4)
    }

    /// `key` succeeded (or stopped waiting): its next failure starts from `first`.
    pub fn reset(&self, key: &str) {
        self.attempts.lock().expect("not poisoned").remove(key);
    }
}

fn delay(first: Duration, max: Duration, attempt: u32) -> Duration {
    first.saturating_mul(2u32.saturating_pow(attempt.min(31))).min(max)
}

/// Deterministic jitter in [0, spread): a hash of the key and attempt.
fn jitter(key: &str, attempt: u32, spread: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (key, attempt).hash(&mut hasher);
    let millis = spread.as_millis() as u64;
    Duration::from_millis(if millis == 0 { 0 } else { hasher.finish() % millis })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum_per_object_and_reset_on_success() {
        let s = Duration::from_secs;
        assert_eq!((0..8).map(|n| delay(s(1), s(60), n)).collect::<Vec<_>>(), [1, 2, 4, 8, 16, 32, 60, 60].map(s));

        let backoff = Backoff::new(s(1), s(60));
        let first = backoff.next("a");
        let second = backoff.next("a");
        assert!(first >= s(1) && first < s(2) && second >= s(2) && second < s(3), "{first:?} {second:?}");
        assert!(backoff.next("b") < s(2), "another object starts from the first delay");
        backoff.reset("a");
        assert!(backoff.next("a") < s(2));
    }
}
