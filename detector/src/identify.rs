//! Identify stage: open-set matching of tracks against the gallery of enrolled people.
//!
//! A track gets a name only when its mean embedding is close enough to one person
//! (threshold), clearly closer than to anyone else (margin), and no other person wins
//! more of its individual frames. Everything else stays unknown: a stranger must
//! never be given an enrolled name.

use serde::{Deserialize, Serialize};

use crate::embed::Embedding;
use crate::geometry::BBox;
use crate::track::Track;

/// One enrolled person: a name and the embeddings of their gallery photos.
#[derive(Debug, Clone)]
pub struct EnrolledPerson {
    pub name: String,
    pub embeddings: Vec<Embedding>,
}

#[derive(Debug, Clone, Copy)]
pub struct MatchConfig {
    /// Minimum cosine similarity to a person's closest gallery photo. OpenCV's published
    /// SFace threshold is 0.363.
    pub threshold: f32,
    /// Minimum lead of the best person's similarity over the runner-up's.
    pub margin: f32,
}

/// A track and who it is: the plain data later stages (and other shards' merge) need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifiedTrack {
    /// The enrolled person's name, or `None` for an unknown face.
    pub person: Option<String>,
    /// The mean embedding of the whole track, for grouping unknown faces.
    pub template: Embedding,
    pub sightings: Vec<Sighting>,
}

/// One face of a track in one sampled frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sighting {
    pub seconds: f64,
    pub bbox: BBox,
    /// Detection score.
    pub score: f32,
    /// Similarity to the identified person's gallery (0 for unknown faces).
    pub similarity: f32,
}

/// The best and second-best person for an embedding, by similarity to each person's closest photo.
fn ranked(embedding: &Embedding, gallery: &[EnrolledPerson]) -> (Option<(usize, f32)>, f32) {
    let mut best: Option<(usize, f32)> = None;
    let mut second = f32::NEG_INFINITY;
    for (index, person) in gallery.iter().enumerate() {
        let similarity = similarity_to(embedding, person);
        match best {
            Some((_, b)) if similarity <= b => second = second.max(similarity),
            _ => {
                if let Some((_, b)) = best {
                    second = b;
                }
                best = Some((index, similarity));
            }
        }
    }
    (best, second)
}

pub fn similarity_to(embedding: &Embedding, person: &EnrolledPerson) -> f32 {
    person.embeddings.iter().map(|g| embedding.cosine(g)).fold(f32::NEG_INFINITY, f32::max)
}

/// The person an embedding matches under `config`, if any.
pub fn match_embedding(embedding: &Embedding, gallery: &[EnrolledPerson], config: &MatchConfig) -> Option<usize> {
    match ranked(embedding, gallery) {
        (Some((index, best)), second) if best >= config.threshold && best - second >= config.margin => Some(index),
        _ => None,
    }
}

pub fn identify_tracks(tracks: Vec<Track>, gallery: &[EnrolledPerson], config: &MatchConfig) -> Vec<IdentifiedTrack> {
    tracks
        .into_iter()
        .map(|track| {
            let person = identify_track(&track, gallery, config).map(|p| &gallery[p]);
            let sightings = track
                .observations
                .iter()
                .map(|o| Sighting {
                    seconds: o.seconds,
                    bbox: o.bbox,
                    score: o.score,
                    similarity: person.map_or(0.0, |p| similarity_to(&o.embedding, p)),
                })
                .collect();
            IdentifiedTrack { person: person.map(|p| p.name.clone()), template: track.template(), sightings }
        })
        .collect()
}

fn identify_track(track: &Track, gallery: &[EnrolledPerson], config: &MatchConfig) -> Option<usize> {
    let candidate = match_embedding(&track.template(), gallery, config)?;
    let mut votes = vec![0usize; gallery.len()];
    for observation in &track.observations {
        if let Some(p) = match_embedding(&observation.embedding, gallery, config) {
            votes[p] += 1;
        }
    }
    let contested = votes.iter().enumerate().any(|(p, &v)| p != candidate && v >= votes[candidate] && v > 0);
    (!contested).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::unit;
    use crate::track::FaceObservation;

    fn track(angles: &[f32]) -> Track {
        Track {
            observations: angles
                .iter()
                .enumerate()
                .map(|(i, &a)| FaceObservation {
                    seconds: i as f64,
                    shot: 0,
                    bbox: BBox::default(),
                    score: 0.9,
                    embedding: unit(a),
                })
                .collect(),
        }
    }

    const CONFIG: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

    /// A unit vector along axis 2, orthogonal to every `unit(angle)`.
    fn axis_two() -> Embedding {
        let mut v = vec![0.0; 128];
        v[2] = 1.0;
        Embedding(v)
    }

    /// Ada at angle 0 in the plane of axes 0 and 1 (a face at angle a has similarity
    /// cos(a) to her: 0.5 at 60 deg, 0.17 at 80 deg); Bea orthogonal to that plane.
    fn gallery() -> Vec<EnrolledPerson> {
        vec![
            EnrolledPerson { name: "Ada".into(), embeddings: vec![unit(0.0)] },
            EnrolledPerson { name: "Bea".into(), embeddings: vec![axis_two()] },
        ]
    }

    #[test]
    fn a_close_track_is_named_and_a_distant_one_stays_unknown() {
        let found = identify_tracks(vec![track(&[10.0, 20.0]), track(&[75.0, 80.0])], &gallery(), &CONFIG);
        assert_eq!(found[0].person.as_deref(), Some("Ada"));
        assert!(found[0].sightings.iter().all(|s| s.similarity > 0.9));
        assert_eq!(found[1].person, None);
    }

    #[test]
    fn one_lucky_frame_does_not_name_a_stranger() {
        // One frame at 60 deg (0.5 to Ada) among frames at 80 deg (0.17): the template stays far.
        let found = identify_tracks(vec![track(&[80.0, 80.0, 60.0, 80.0, 80.0])], &gallery(), &CONFIG);
        assert_eq!(found[0].person, None);
    }

    #[test]
    fn a_face_between_two_people_needs_the_margin() {
        let between = |ada: f32, bea: f32| {
            let mut v = vec![0.0; 128];
            v[0] = ada;
            v[2] = bea;
            Embedding::normalized(v)
        };
        assert_eq!(match_embedding(&between(1.0, 1.0), &gallery(), &CONFIG), None);
        assert_eq!(match_embedding(&between(1.0, 0.8), &gallery(), &CONFIG), Some(0));
        assert_eq!(match_embedding(&between(0.8, 1.0), &gallery(), &CONFIG), Some(1));
    }
}
