//! Track stage: links the faces of consecutive samples that belong to one person on screen.
//!
//! A face joins a track only when its embedding resembles the track's recent faces,
//! so a cut from one person to another at the same place on screen starts a new
//! track instead of leaking the first person's identity into the second shot.

use crate::embed::Embedding;
use crate::geometry::BBox;

/// A face in one sampled frame.
#[derive(Debug, Clone)]
pub struct FaceObservation {
    pub seconds: f64,
    pub bbox: BBox,
    pub score: f32,
    pub embedding: Embedding,
}

/// The faces of one person across consecutive samples, in time order.
#[derive(Debug, Clone)]
pub struct Track {
    pub observations: Vec<FaceObservation>,
}

impl Track {
    pub fn first_seconds(&self) -> f64 {
        self.observations.first().map_or(0.0, |o| o.seconds)
    }

    pub fn last_seconds(&self) -> f64 {
        self.observations.last().map_or(0.0, |o| o.seconds)
    }

    /// The mean embedding of the whole track.
    pub fn template(&self) -> Embedding {
        Embedding::mean(self.observations.iter().map(|o| &o.embedding))
    }

    /// The mean embedding of the latest faces, which a new face is compared with.
    fn recent_template(&self) -> Embedding {
        let start = self.observations.len().saturating_sub(RECENT_FACES);
        Embedding::mean(self.observations[start..].iter().map(|o| &o.embedding))
    }
}

/// Faces compared when linking: a few, so a turning head still links, but not a whole shot.
const RECENT_FACES: usize = 3;

#[derive(Debug, Clone, Copy)]
pub struct TrackerConfig {
    /// Minimum cosine similarity between a face and a track's recent faces to link them.
    /// SFace gives 0.6-0.95 for one person within a shot and at most ~0.31 between people.
    pub link_similarity: f32,
    /// A track not seen for longer than this is closed.
    pub max_gap_seconds: f64,
}

/// Groups observations (in time order; faces of one frame share `seconds`) into tracks.
pub fn build_tracks(observations: Vec<FaceObservation>, config: &TrackerConfig) -> Vec<Track> {
    let mut tracks: Vec<Track> = Vec::new();
    let mut frames = observations.into_iter().peekable();
    while let Some(first) = frames.next() {
        let seconds = first.seconds;
        let mut frame = vec![first];
        while let Some(next) = frames.next_if(|o| o.seconds == seconds) {
            frame.push(next);
        }
        link_frame(&mut tracks, frame, seconds, config);
    }
    tracks.sort_by(|a, b| a.first_seconds().total_cmp(&b.first_seconds()));
    tracks
}

/// Links one frame's faces to open tracks, best similarity first; the rest start tracks.
fn link_frame(tracks: &mut Vec<Track>, frame: Vec<FaceObservation>, seconds: f64, config: &TrackerConfig) {
    let open: Vec<(usize, Embedding)> = tracks
        .iter()
        .enumerate()
        .filter(|(_, t)| seconds - t.last_seconds() <= config.max_gap_seconds)
        .map(|(i, t)| (i, t.recent_template()))
        .collect();
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (face_index, face) in frame.iter().enumerate() {
        for (track_index, template) in &open {
            let similarity = face.embedding.cosine(template);
            if similarity >= config.link_similarity {
                pairs.push((similarity, face_index, *track_index));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut face_track: Vec<Option<usize>> = vec![None; frame.len()];
    let mut taken: Vec<usize> = Vec::new();
    for (_, face_index, track_index) in pairs {
        if face_track[face_index].is_none() && !taken.contains(&track_index) {
            face_track[face_index] = Some(track_index);
            taken.push(track_index);
        }
    }
    for (face, track) in frame.into_iter().zip(face_track) {
        match track {
            Some(i) => tracks[i].observations.push(face),
            None => tracks.push(Track { observations: vec![face] }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(seconds: f64, x: f32, direction: [f32; 2]) -> FaceObservation {
        let mut v = vec![0.0; 128];
        v[0] = direction[0];
        v[1] = direction[1];
        FaceObservation {
            seconds,
            bbox: BBox { x, y: 0.0, width: 50.0, height: 50.0 },
            score: 0.95,
            embedding: Embedding::normalized(v),
        }
    }

    const CONFIG: TrackerConfig = TrackerConfig { link_similarity: 0.45, max_gap_seconds: 1.5 };

    #[test]
    fn two_people_in_one_shot_get_one_track_each() {
        let a = [1.0, 0.0];
        let b = [0.0, 1.0];
        let faces =
            vec![face(0.0, 0.0, a), face(0.0, 500.0, b), face(0.5, 10.0, a), face(0.5, 490.0, b), face(1.0, 20.0, a)];
        let tracks = build_tracks(faces, &CONFIG);
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks[0].observations.len() + tracks[1].observations.len(), 5);
        assert!(tracks.iter().all(|t| { t.observations.iter().all(|o| o.embedding == t.observations[0].embedding) }));
    }

    #[test]
    fn a_cut_to_another_person_in_the_same_place_starts_a_new_track() {
        let tracks = build_tracks(vec![face(0.0, 0.0, [1.0, 0.0]), face(0.5, 0.0, [0.2, 1.0])], &CONFIG);
        assert_eq!(tracks.len(), 2);
    }

    #[test]
    fn a_short_gap_is_bridged_and_a_long_one_is_not() {
        let a = [1.0, 0.0];
        assert_eq!(build_tracks(vec![face(0.0, 0.0, a), face(1.5, 0.0, a)], &CONFIG).len(), 1);
        assert_eq!(build_tracks(vec![face(0.0, 0.0, a), face(2.0, 0.0, a)], &CONFIG).len(), 2);
    }
}
