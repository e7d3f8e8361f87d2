//! Comparing a results document with a video's ground truth (`<video>.truth.json`, as
//! `hack/synth.py` writes it beside each synthesised video): what the tests, local and
//! in the cluster, hold cameo to.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::results::{PersonAppearances, ResultsDocument};

/// Who is on screen when.
#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    pub duration: f64,
    /// Named people and the `[start, end)` seconds they are on screen.
    pub people: BTreeMap<String, Vec<[f64; 2]>>,
    /// Shots with faces of unnamed people.
    pub strangers: Vec<StrangerShot>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StrangerShot {
    pub start: f64,
    pub end: f64,
    pub faces: usize,
}

/// How `document` departs from `truth`, for a gallery of `enrolled` people, each interval
/// end allowed one sample period of error. Empty when the results are right:
/// - every enrolled person on screen is found in exactly their intervals;
/// - no enrolled person is reported who is not on screen;
/// - people on screen who are not enrolled, and unnamed faces, are unknown clusters then.
pub fn mismatches(document: &ResultsDocument, truth: &Truth, enrolled: &[&str]) -> Vec<String> {
    let tolerance = 1.0 / document.video.sampled_fps + 1e-6;
    let mut problems = Vec::new();
    for name in enrolled {
        let expected = truth.people.get(*name);
        let found = document.people.iter().find(|p| p.name == *name);
        match (expected, found) {
            (None, None) => {}
            (None, Some(found)) => problems.push(format!("{name} is enrolled but absent, yet reported: {found:?}")),
            (Some(expected), None) => problems.push(format!("{name} is on screen at {expected:?} but was not found")),
            (Some(expected), Some(found)) => {
                let spans: Vec<[f64; 2]> = found.appearances.iter().map(|a| [a.start_seconds, a.end_seconds]).collect();
                let close = |a: f64, b: f64| (a - b).abs() <= tolerance;
                let matches = spans.len() == expected.len()
                    && spans.iter().zip(expected).all(|(s, t)| close(s[0], t[0]) && close(s[1], t[1]));
                if !matches {
                    problems.push(format!("{name}: found {spans:?}, truth {expected:?} (tolerance {tolerance} s)"));
                }
            }
        }
    }
    for person in &document.people {
        if !enrolled.contains(&person.name.as_str()) {
            problems.push(format!("{} is reported but not enrolled", person.name));
        }
    }
    let mut shots: Vec<(f64, f64, usize)> = truth.strangers.iter().map(|s| (s.start, s.end, s.faces)).collect();
    for (name, spans) in &truth.people {
        if !enrolled.contains(&name.as_str()) {
            shots.extend(spans.iter().map(|s| (s[0], s[1], 1)));
        }
    }
    // An unknown face where only enrolled people are on screen is one of them split off.
    for unknown in &document.unknown {
        for a in &unknown.appearances {
            if !shots.iter().any(|&(start, end, _)| a.start_seconds < end && a.end_seconds > start) {
                problems.push(format!(
                    "{} at [{}, {}) while only enrolled people are on screen",
                    unknown.name, a.start_seconds, a.end_seconds
                ));
            }
        }
    }
    for (start, end, faces) in shots {
        let clusters = document
            .unknown
            .iter()
            .filter(|u| u.appearances.iter().any(|a| a.start_seconds < end && a.end_seconds > start))
            .count();
        if clusters < faces {
            problems.push(format!(
                "{faces} unenrolled face(s) on screen in [{start}, {end}) but {clusters} unknown cluster(s)"
            ));
        }
    }
    problems
}

/// The fraction of `name`'s time on screen in `truth` in which `document` names them
/// (1 for someone who is not on screen).
pub fn recall(document: &ResultsDocument, truth: &Truth, name: &str) -> f64 {
    let expected = truth.people.get(name).map_or(&[][..], Vec::as_slice);
    let total: f64 = expected.iter().map(|t| t[1] - t[0]).sum();
    let named = document.people.iter().find(|p| p.name == name).map_or(0.0, |found| named_in(found, expected));
    if total > 0.0 { named / total } else { 1.0 }
}

/// The share of the time `document` names `name` in which they are on screen in `truth`,
/// within `tolerance` seconds (a sampled video knows when someone leaves only to within a
/// sample period): 1 when every second they are named is right; `None` when they are
/// never named.
pub fn precision(document: &ResultsDocument, truth: &Truth, name: &str, tolerance: f64) -> Option<f64> {
    let found = document.people.iter().find(|p| p.name == name)?;
    let named: f64 = found.appearances.iter().map(|a| a.end_seconds - a.start_seconds).sum();
    let mut widened: Vec<[f64; 2]> = Vec::new();
    for t in truth.people.get(name).map_or(&[][..], Vec::as_slice) {
        let t = [t[0] - tolerance, t[1] + tolerance];
        match widened.last_mut() {
            Some(last) if t[0] <= last[1] => last[1] = last[1].max(t[1]),
            _ => widened.push(t),
        }
    }
    Some(if named > 0.0 { named_in(found, &widened) / named } else { 1.0 })
}

/// Seconds of `found`'s appearances inside the `expected` intervals.
fn named_in(found: &PersonAppearances, expected: &[[f64; 2]]) -> f64 {
    expected
        .iter()
        .flat_map(|t| {
            found.appearances.iter().map(move |a| (a.end_seconds.min(t[1]) - a.start_seconds.max(t[0])).max(0.0))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results as document};

    fn truth() -> Truth {
        serde_json::from_value(serde_json::json!({
            "duration": 20.0,
            "people": {"Ada": [[0.0, 5.0], [10.0, 15.0]], "Bea": [[5.0, 8.0]]},
            "strangers": [{"start": 15.0, "end": 20.0, "faces": 1}],
        }))
        .unwrap()
    }

    #[test]
    fn results_within_a_sample_period_of_the_truth_match() {
        let found = document(
            vec![person("Ada", &[(0.0, 4.6), (10.4, 15.0)])],
            vec![person("unknown-1", &[(5.0, 8.0)]), person("unknown-2", &[(15.0, 20.0)])],
        );
        assert_eq!(mismatches(&found, &truth(), &["Ada"]), Vec::<String>::new());
    }

    #[test]
    fn a_missed_interval_a_leaked_name_and_a_missing_stranger_are_reported() {
        let found = document(vec![person("Ada", &[(0.0, 5.0)]), person("Cy", &[(1.0, 2.0)])], vec![]);
        let problems = mismatches(&found, &truth(), &["Ada", "Cy"]);
        assert_eq!(problems.len(), 4, "{problems:#?}"); // Ada's intervals, Cy absent, Bea and the stranger not unknown
    }

    #[test]
    fn an_unknown_face_while_only_enrolled_people_are_on_screen_is_reported() {
        let found = document(
            vec![person("Ada", &[(0.0, 5.0), (10.0, 15.0)])],
            vec![
                person("unknown-1", &[(5.0, 8.0)]),
                person("unknown-2", &[(15.0, 20.0)]),
                person("unknown-3", &[(1.0, 2.0)]),
            ],
        );
        let problems = mismatches(&found, &truth(), &["Ada"]);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].starts_with("unknown-3"), "{problems:#?}");
    }

    #[test]
    fn recall_is_the_share_of_the_true_time_named() {
        let found = document(vec![person("Ada", &[(1.0, 5.0), (10.0, 16.0)])], vec![]);
        assert!((recall(&found, &truth(), "Ada") - 0.9).abs() < 1e-9);
        assert_eq!(recall(&found, &truth(), "Bea"), 0.0);
        assert_eq!(recall(&found, &truth(), "Cy"), 1.0);
    }

    #[test]
    fn precision_is_the_share_of_the_named_time_that_is_right() {
        let found = document(vec![person("Ada", &[(1.0, 5.0), (10.0, 16.0)]), person("Cy", &[(0.0, 2.0)])], vec![]);
        // Ada is named 10 s, 1 s of it after she left at 15 s.
        assert!((precision(&found, &truth(), "Ada", 0.0).unwrap() - 0.9).abs() < 1e-9);
        assert!((precision(&found, &truth(), "Ada", 0.5).unwrap() - 0.95).abs() < 1e-9);
        assert_eq!(precision(&found, &truth(), "Ada", 1.0), Some(1.0));
        assert_eq!(precision(&found, &truth(), "Cy", 0.5), Some(0.0));
        assert_eq!(precision(&found, &truth(), "Bea", 0.5), None);
    }
}
