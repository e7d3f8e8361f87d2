//! Track stage: links the faces of consecutive samples that belong to one person on screen,
//! as the samples arrive, and keeps each open track's best faces ([`crate::best_faces`])
//! while their frames are still there.
//!
//! A face joins a track when its embedding resembles the track's recent faces. A face
//! too blurred or covered to resemble them is carried by its place instead: it joins
//! the track whose face was in the same place in the previous sample of the same shot,
//! so a name holds through motion blur, a passing hand or a focus pull. Nothing is
//! carried across a cut ([`crate::shots`]), so a cut from one person to another at the
//! same place on screen starts a new track instead of leaking the first person's
//! identity into the second shot.

use image::RgbImage;

use crate::best_faces::{BestFace, BestFaces};
use crate::embed::Embedding;
use crate::geometry::BBox;

/// A face in one sampled frame.
#[derive(Debug, Clone)]
pub struct FaceObservation {
    pub seconds: f64,
    /// The shot of the frame (see [`crate::shots`]).
    pub shot: u32,
    pub bbox: BBox,
    pub score: f32,
    /// See [`crate::quality::FaceQuality`].
    pub quality: f32,
    pub embedding: Embedding,
}

/// The faces of one person across consecutive samples, in time order, and the best of them.
#[derive(Debug, Clone)]
pub struct Track {
    /// Tracks are numbered in the order they start (faces of one frame in detection order).
    pub id: usize,
    pub observations: Vec<FaceObservation>,
    pub best: BestFaces,
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

    /// Adds a face, keeping it among the best faces (with its crops) if it is one of them.
    fn push(&mut self, face: FaceObservation, aligned: RgbImage, display: &mut impl FnMut(&BBox) -> RgbImage) {
        if self.best.wants(face.quality) {
            self.best.offer(BestFace {
                seconds: face.seconds,
                bbox: face.bbox,
                quality: face.quality,
                embedding: face.embedding.clone(),
                aligned,
                display: display(&face.bbox),
            });
        }
        self.observations.push(face);
    }
}

/// Faces compared when linking: a few, so a turning head still links, but not a whole shot.
const RECENT_FACES: usize = 3;

/// A face is carried by its place when its box overlaps the track's last one this much:
/// at 2 fps, faces of the test videos' pans overlap their previous box by 0.4-0.65.
const CARRY_MIN_IOU: f32 = 0.3;

/// ... and its embedding is not outright unlike the track's last face. Within a shot,
/// blurred and covered faces of one person measured 0.20-0.45 against their previous
/// face; this floor turns away a face that has nothing in common with it.
const CARRY_MIN_SIMILARITY: f32 = 0.1;

#[derive(Debug, Clone, Copy)]
pub struct TrackerConfig {
    /// Minimum cosine similarity between a face and a track's recent faces to link them.
    /// SFace gives 0.6-0.95 for one person within a shot and at most ~0.31 between people.
    pub link_similarity: f32,
    /// A track not seen for longer than this is closed.
    pub max_gap_seconds: f64,
    /// Time between sampled frames: a face is carried by its place only from the previous one.
    pub sample_period_seconds: f64,
}

/// Links faces into tracks sample by sample. Only open tracks (seen within the gap a
/// track bridges) are held, each with its best faces; closed ones are handed on.
pub struct Tracker {
    config: TrackerConfig,
    open: Vec<Track>,
    started: usize,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Tracker { config, open: Vec::new(), started: 0 }
    }

    /// Links one sampled frame's faces (each with its aligned crop; `display` cuts a face's
    /// display crop from the frame) and returns the tracks that closed before this frame.
    pub fn push(
        &mut self,
        seconds: f64,
        faces: Vec<(FaceObservation, RgbImage)>,
        mut display: impl FnMut(&BBox) -> RgbImage,
    ) -> Vec<Track> {
        let (closed, open): (Vec<Track>, Vec<Track>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|t| seconds - t.last_seconds() > self.config.max_gap_seconds);
        self.open = open;
        let assignment = link_frame(&self.open, &faces, &self.config);
        for ((face, aligned), track) in faces.into_iter().zip(assignment) {
            match track {
                Some(i) => self.open[i].push(face, aligned, &mut display),
                None => {
                    let mut track = Track { id: self.started, observations: Vec::new(), best: BestFaces::default() };
                    self.started += 1;
                    track.push(face, aligned, &mut display);
                    self.open.push(track);
                }
            }
        }
        closed
    }

    /// Closes every track still open.
    pub fn finish(self) -> Vec<Track> {
        self.open
    }
}

/// Which open track each face of a frame joins: by likeness first (best similarity
/// first), then by place; `None` starts a new track.
fn link_frame(open: &[Track], frame: &[(FaceObservation, RgbImage)], config: &TrackerConfig) -> Vec<Option<usize>> {
    let templates: Vec<Embedding> = open.iter().map(Track::recent_template).collect();
    let mut alike: Vec<(f32, usize, usize)> = Vec::new();
    let mut placed: Vec<(f32, usize, usize)> = Vec::new();
    for (face_index, (face, _)) in frame.iter().enumerate() {
        for (track_index, template) in templates.iter().enumerate() {
            let similarity = face.embedding.cosine(template);
            if similarity >= config.link_similarity {
                alike.push((similarity, face_index, track_index));
            }
            if let Some(overlap) = carried(face, &open[track_index], config) {
                placed.push((overlap, face_index, track_index));
            }
        }
    }
    let mut face_track: Vec<Option<usize>> = vec![None; frame.len()];
    let mut taken: Vec<usize> = Vec::new();
    for mut pairs in [alike, placed] {
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, face_index, track_index) in pairs {
            if face_track[face_index].is_none() && !taken.contains(&track_index) {
                face_track[face_index] = Some(track_index);
                taken.push(track_index);
            }
        }
    }
    face_track
}

/// How much a face overlaps `track`'s face in the previous sample of the same shot, when
/// it may be carried into the track by its place.
fn carried(face: &FaceObservation, track: &Track, config: &TrackerConfig) -> Option<f32> {
    let last = track.observations.last()?;
    let previous_sample = face.seconds - last.seconds <= 1.5 * config.sample_period_seconds;
    let overlap = face.bbox.iou(&last.bbox);
    (last.shot == face.shot
        && previous_sample
        && overlap >= CARRY_MIN_IOU
        && face.embedding.cosine(&last.embedding) >= CARRY_MIN_SIMILARITY)
        .then_some(overlap)
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
            shot: 0,
            bbox: BBox { x, y: 0.0, width: 50.0, height: 50.0 },
            score: 0.95,
            quality: 0.5,
            embedding: Embedding::normalized(v),
        }
    }

    /// Every face through a tracker, frame by frame (faces of one frame share `seconds`):
    /// the tracks closed on the way and those left open, by start.
    fn build_tracks(observations: Vec<FaceObservation>, config: &TrackerConfig) -> Vec<Track> {
        let mut tracker = Tracker::new(*config);
        let mut tracks = Vec::new();
        let mut faces = observations.into_iter().peekable();
        while let Some(first) = faces.next() {
            let seconds = first.seconds;
            let mut frame = vec![(first, RgbImage::new(1, 1))];
            while let Some(next) = faces.next_if(|o| o.seconds == seconds) {
                frame.push((next, RgbImage::new(1, 1)));
            }
            tracks.extend(tracker.push(seconds, frame, |_| RgbImage::new(1, 1)));
        }
        tracks.extend(tracker.finish());
        tracks.sort_by_key(|t| t.id);
        tracks
    }

    fn after_a_cut(face: FaceObservation) -> FaceObservation {
        FaceObservation { shot: 1, ..face }
    }

    const CONFIG: TrackerConfig =
        TrackerConfig { link_similarity: 0.45, max_gap_seconds: 1.5, sample_period_seconds: 0.5 };

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
        let tracks = build_tracks(vec![face(0.0, 0.0, [1.0, 0.0]), after_a_cut(face(0.5, 0.0, [0.2, 1.0]))], &CONFIG);
        assert_eq!(tracks.len(), 2);
    }

    #[test]
    fn a_blurred_face_in_the_same_place_of_the_same_shot_is_carried_and_an_unlike_one_is_not() {
        let sharp = [1.0, 0.0];
        let blurred = [0.25, 1.0]; // similarity 0.24 to the sharp face: too unlike to link by likeness
        let tracks =
            build_tracks(vec![face(0.0, 0.0, sharp), face(0.5, 10.0, blurred), face(1.0, 10.0, sharp)], &CONFIG);
        assert_eq!(tracks.len(), 1, "{tracks:?}");
        // A face with nothing in common with the last one is turned away, in place or not.
        assert_eq!(build_tracks(vec![face(0.0, 0.0, sharp), face(0.5, 0.0, [0.0, 1.0])], &CONFIG).len(), 2);
        // Only from the previous sample: after a sample without the face, likeness must link it.
        assert_eq!(build_tracks(vec![face(0.0, 0.0, sharp), face(1.0, 0.0, blurred)], &CONFIG).len(), 2);
        // And only where the face was.
        assert_eq!(build_tracks(vec![face(0.0, 0.0, sharp), face(0.5, 40.0, blurred)], &CONFIG).len(), 2);
    }

    #[test]
    fn a_face_alike_to_a_track_goes_to_it_before_another_track_carries_it_by_place() {
        let (a, b) = ([1.0, 0.0], [0.0, 1.0]);
        // Two people cross: at 0.5 s, b's face is where a's was, and a's face is hidden.
        let tracks = build_tracks(vec![face(0.0, 0.0, a), face(0.0, 30.0, b), face(0.5, 5.0, b)], &CONFIG);
        let with_b = tracks.iter().find(|t| t.observations[0].embedding == face(0.0, 0.0, b).embedding).unwrap();
        assert_eq!(with_b.observations.len(), 2);
    }

    #[test]
    fn a_short_gap_is_bridged_and_a_long_one_is_not() {
        let a = [1.0, 0.0];
        assert_eq!(build_tracks(vec![face(0.0, 0.0, a), face(1.5, 0.0, a)], &CONFIG).len(), 1);
        assert_eq!(build_tracks(vec![face(0.0, 0.0, a), face(2.0, 0.0, a)], &CONFIG).len(), 2);
    }

    #[test]
    fn a_track_is_handed_on_when_it_closes_with_its_best_faces_and_their_crops() {
        let a = [1.0, 0.0];
        let mut tracker = Tracker::new(CONFIG);
        let mut cut = 0;
        for (i, quality) in [0.2, 0.9, 0.8, 0.3, 0.7, 0.1, 0.6].into_iter().enumerate() {
            let seconds = i as f64 * 0.5;
            let face = FaceObservation { quality, ..face(seconds, 0.0, a) };
            let aligned = RgbImage::from_pixel(1, 1, image::Rgb([i as u8, 0, 0]));
            let closed = tracker.push(seconds, vec![(face, aligned)], |_| {
                cut += 1;
                RgbImage::new(2, 2)
            });
            assert!(closed.is_empty());
        }
        // A display crop is cut only for a face that enters the best: 0.1 came after five better ones.
        assert_eq!(cut, 6);
        let closed = tracker.push(10.0, vec![], |_| RgbImage::new(2, 2));
        assert_eq!(closed.len(), 1);
        let best: Vec<(f32, u8)> =
            closed[0].best.faces().iter().map(|f| (f.quality, f.aligned.get_pixel(0, 0).0[0])).collect();
        assert_eq!(best, vec![(0.9, 1), (0.8, 2), (0.7, 4), (0.6, 6), (0.3, 3)]);
        assert_eq!(closed[0].observations.len(), 7);
        assert!(tracker.finish().is_empty());
    }
}
