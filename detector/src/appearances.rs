//! Appearances stage: a person's tracks become time intervals and a screen time;
//! tracks that match nobody are grouped into anonymous clusters. Each group gets an id
//! made from its tracks' ids, which a later analysis merged again keeps (where
//! `unknown-N` is renumbered), and each appearance names the tracks it is made of.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::embed::Embedding;
use crate::identify::{IdentifiedTrack, Sighting};
use crate::models::Precision;
use crate::results::{Appearance, DecidedBy, PersonAppearances, SampleFace};

/// A sighting and the id of the track it belongs to.
type TrackSighting = (String, Sighting);

#[derive(Debug, Clone, Copy)]
pub struct AppearanceConfig {
    /// Each sampled face stands for this long (one sample period).
    pub sample_period_seconds: f64,
    /// Intervals of one person closer than this merge into one appearance.
    pub gap_tolerance_seconds: f64,
    /// Video length: no interval ends after it.
    pub duration_seconds: f64,
}

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

/// Sightings with their track's id, in time order.
fn sorted(sightings: impl Iterator<Item = TrackSighting>) -> Vec<TrackSighting> {
    let mut all: Vec<TrackSighting> = sightings.collect();
    all.sort_by(|(_, a), (_, b)| a.seconds.total_cmp(&b.seconds));
    all
}

/// A group's id: `c` and 12 hex digits of a hash of its tracks' ids, so the same tracks
/// always make the same id.
pub fn group_id<'a>(track_ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = track_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let digest = Sha256::digest(ids.join("\n").as_bytes());
    format!("c{}", digest.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

/// Merges time-ordered sightings into appearances; `None` when there are none.
fn summarize(name: String, sightings: Vec<TrackSighting>, config: &AppearanceConfig) -> Option<PersonAppearances> {
    let mut groups: Vec<Vec<TrackSighting>> = Vec::new();
    for (track, s) in sightings {
        match groups.last_mut() {
            Some(group) if s.seconds - interval_end(group, config) <= config.gap_tolerance_seconds => {
                group.push((track, s))
            }
            _ => groups.push(vec![(track, s)]),
        }
    }
    let appearances: Vec<Appearance> = groups
        .iter()
        .map(|group| {
            let (_, best) = group.iter().max_by(|(_, a), (_, b)| a.score.total_cmp(&b.score)).unwrap_or(&group[0]);
            let mut track_ids: Vec<String> = Vec::new();
            for (track, _) in group {
                if !track_ids.contains(track) {
                    track_ids.push(track.clone());
                }
            }
            Appearance {
                start_seconds: group[0].1.seconds,
                end_seconds: interval_end(group, config),
                confidence: mean(group.iter().map(|(_, s)| s.similarity)),
                faces: group.len(),
                sample: SampleFace { seconds: best.seconds, bbox: best.bbox },
                track_ids,
                crop: None,
            }
        })
        .collect();
    let first = appearances.first()?;
    Some(PersonAppearances {
        person_id: None,
        id: group_id(groups.iter().flatten().map(|(track, _)| track.as_str())),
        name,
        screen_time_seconds: appearances.iter().map(|a| a.end_seconds - a.start_seconds).sum(),
        first_seen_seconds: first.start_seconds,
        confidence: mean(groups.iter().flatten().map(|(_, s)| s.similarity)),
        decided_by: None,
        thumbnail: None,
        crops: Vec::new(),
        appearances,
    })
}

/// A group of sightings lasts until one sample period after its last sighting.
fn interval_end(group: &[TrackSighting], config: &AppearanceConfig) -> f64 {
    let last = group.last().map_or(0.0, |(_, s)| s.seconds);
    (last + config.sample_period_seconds).min(config.duration_seconds.max(last))
}

fn mean(values: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f32 }
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
        assert_eq!(people[0].decided_by, Some(DecidedBy { int8_tracks: 3, fp32_tracks: 0 }));
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
