//! Appearances stage: a person's tracks become time intervals and a screen time;
//! tracks that match nobody are grouped into anonymous clusters. The rule that makes a
//! group's appearances, and its id from its tracks' ids, is shared with curation
//! ([`cameo_model::appearances`]).

use std::collections::BTreeMap;

pub use cameo_model::appearances::{AppearanceConfig, group_id};
use cameo_model::appearances::{Sighting, TrackSighting, sorted, summarize};

use crate::embed::Embedding;
use crate::identify::IdentifiedTrack;
use crate::models::Precision;
use crate::results::{DecidedBy, PersonAppearances};

/// Enrolled people with at least one identified track, by first appearance.
pub fn known_people(tracks: &[IdentifiedTrack], config: &AppearanceConfig) -> Vec<PersonAppearances> {
    let mut by_name: BTreeMap<&str, (Vec<TrackSighting>, DecidedBy)> = BTreeMap::new();
    for track in tracks {
        if let Some(name) = track.person.as_deref() {
            let (sightings, decided_by) = by_name.entry(name).or_default();
            let id = track.id();
            sightings.extend(track.sightings.iter().map(|s| (id.clone(), *s)));
            match track.evidence.recognizer() {
                Precision::Int8 => decided_by.int8_tracks += 1,
                Precision::Fp32 => decided_by.fp32_tracks += 1,
            }
        }
    }
    let mut people: Vec<PersonAppearances> = by_name
        .into_iter()
        .filter_map(|(name, (sightings, decided_by))| {
            let person = summarize(name.to_string(), sorted(sightings.into_iter()), config)?;
            Some(PersonAppearances { decided_by: Some(decided_by), ..person })
        })
        .collect();
    people.sort_by(|a, b| a.first_seen_seconds.total_cmp(&b.first_seen_seconds));
    people
}

/// Unidentified tracks grouped by likeness into `unknown-1..N`, numbered by first appearance.
/// A face's confidence is its track's similarity to the cluster's mean.
pub fn unknown_people(
    tracks: &[IdentifiedTrack],
    cluster_similarity: f32,
    config: &AppearanceConfig,
) -> Vec<PersonAppearances> {
    let unknown: Vec<&IdentifiedTrack> = tracks.iter().filter(|t| t.person.is_none()).collect();
    let templates: Vec<Embedding> = unknown.iter().map(|t| t.template.clone()).collect();
    let clusters = cluster(&templates, cluster_similarity);
    let mut people: Vec<PersonAppearances> = clusters
        .iter()
        .filter_map(|members| {
            let centroid = Embedding::mean(members.iter().map(|&m| &templates[m]));
            let sightings = sorted(members.iter().flat_map(|&m| {
                let similarity = templates[m].cosine(&centroid);
                let id = unknown[m].id();
                unknown[m].sightings.iter().map(move |s| (id.clone(), Sighting { similarity, ..*s }))
            }));
            summarize(String::new(), sightings, config)
        })
        .collect();
    people.sort_by(|a, b| a.first_seen_seconds.total_cmp(&b.first_seen_seconds));
    for (n, person) in people.iter_mut().enumerate() {
        person.name = format!("unknown-{}", n + 1);
    }
    people
}

/// Average-linkage agglomerative clustering: repeatedly merges the two most similar
/// clusters while their mean pairwise similarity is at least `min_similarity`.
fn cluster(templates: &[Embedding], min_similarity: f32) -> Vec<Vec<usize>> {
    let mut clusters: Vec<Vec<usize>> = (0..templates.len()).map(|i| vec![i]).collect();
    let linkage = |a: &[usize], b: &[usize]| {
        let total: f32 = a.iter().flat_map(|&i| b.iter().map(move |&j| templates[i].cosine(&templates[j]))).sum();
        total / (a.len() * b.len()) as f32
    };
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for i in 0..clusters.len() {
            for j in i + 1..clusters.len() {
                let similarity = linkage(&clusters[i], &clusters[j]);
                if similarity >= min_similarity && best.is_none_or(|(s, _, _)| similarity > s) {
                    best = Some((similarity, i, j));
                }
            }
        }
        let Some((_, i, j)) = best else {
            return clusters;
        };
        let merged = clusters.swap_remove(j);
        clusters[i].extend(merged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::unit;
    use crate::geometry::BBox;
    use crate::identify::Evidence;

    fn track(person: Option<&str>, seconds: &[f64], angle: f32) -> IdentifiedTrack {
        IdentifiedTrack {
            person: person.map(str::to_string),
            evidence: Evidence { faces: vec![] },
            template: unit(angle),
            sightings: seconds
                .iter()
                .map(|&s| Sighting { seconds: s, bbox: BBox::default(), score: 0.9, similarity: 0.8 })
                .collect(),
        }
    }

    const CONFIG: AppearanceConfig =
        AppearanceConfig { sample_period_seconds: 0.5, gap_tolerance_seconds: 1.5, duration_seconds: 20.0 };

    #[test]
    fn close_tracks_merge_and_distant_ones_make_separate_appearances() {
        let tracks = vec![
            track(Some("Ada"), &[1.0, 1.5, 2.0], 0.0),
            track(Some("Ada"), &[3.5, 4.0], 0.0),
            track(Some("Ada"), &[9.0], 0.0),
        ];
        let people = known_people(&tracks, &CONFIG);
        assert_eq!(people.len(), 1);
        let spans: Vec<(f64, f64)> = people[0].appearances.iter().map(|a| (a.start_seconds, a.end_seconds)).collect();
        assert_eq!(spans, vec![(1.0, 4.5), (9.0, 9.5)]);
        assert_eq!(people[0].screen_time_seconds, 4.0);
        assert_eq!(people[0].first_seen_seconds, 1.0);
        assert_eq!(people[0].decided_by, Some(DecidedBy { int8_tracks: 3, ..DecidedBy::default() }));
    }

    #[test]
    fn people_are_reported_by_first_appearance_and_only_when_seen() {
        let people = known_people(&[track(Some("Bea"), &[2.0], 90.0), track(Some("Ada"), &[5.0], 0.0)], &CONFIG);
        assert_eq!(people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), vec!["Bea", "Ada"]);
    }

    #[test]
    fn groups_and_appearances_carry_ids_made_from_their_tracks() {
        let tracks =
            vec![track(Some("Ada"), &[1.0, 1.5], 0.0), track(Some("Ada"), &[3.0], 0.0), track(None, &[8.0], 90.0)];
        let people = known_people(&tracks, &CONFIG);
        assert_eq!(people[0].appearances[0].track_ids, vec!["t1000-0-0", "t3000-0-0"]);
        assert!(people[0].id.starts_with('c') && people[0].id.len() == 13, "{}", people[0].id);
        let reversed: Vec<IdentifiedTrack> = tracks.iter().rev().cloned().collect();
        assert_eq!(known_people(&reversed, &CONFIG)[0].id, people[0].id, "the order tracks come in does not matter");
        let unknown = unknown_people(&tracks, 0.4, &CONFIG);
        assert_eq!(unknown[0].appearances[0].track_ids, vec!["t8000-0-0"]);
        assert_ne!(unknown[0].id, people[0].id);
    }

    #[test]
    fn unknown_tracks_of_one_face_cluster_together_and_are_numbered_by_first_sighting() {
        let tracks = vec![
            track(None, &[8.0], 90.0),
            track(None, &[1.0], 0.0),
            track(None, &[5.0], 5.0),
            track(Some("Ada"), &[3.0], 45.0),
        ];
        let unknown = unknown_people(&tracks, 0.4, &CONFIG);
        assert_eq!(unknown.len(), 2);
        assert_eq!(unknown[0].name, "unknown-1");
        assert_eq!(unknown[0].appearances.len(), 2); // 1.0 and 5.0, the same face
        assert_eq!(unknown[1].name, "unknown-2");
        assert_eq!(unknown[1].first_seen_seconds, 8.0);
    }
}
