//! Plain data for unit tests of the stages after detection.

use crate::embed::Embedding;
use crate::results::{
    Appearance, ModelInfo, ModelsUsed, Parameters, PersonAppearances, ResultsDocument, SCHEMA_VERSION, SampleFace,
    VideoSummary,
};

/// A unit vector at `angle_degrees` in the plane of the first two axes: two of them have
/// cosine similarity cos(difference of angles).
pub fn unit(angle_degrees: f32) -> Embedding {
    let mut v = vec![0.0; 128];
    v[0] = angle_degrees.to_radians().cos();
    v[1] = angle_degrees.to_radians().sin();
    Embedding::normalized(v)
}

/// A 720p video of `duration_seconds`, sampled at 2 fps.
pub fn video(duration_seconds: f64) -> VideoSummary {
    VideoSummary {
        source: "s3://raw/videos/film.mp4".into(),
        duration_seconds,
        width: 1280,
        height: 720,
        display_orientation: None,
        warnings: Vec::new(),
        frame_rate: 25.0,
        codec: "h264".into(),
        sampled_fps: 2.0,
        frames_decoded: 100,
        frames_analysed: 60,
        faces_detected: 10,
    }
}

pub fn models() -> ModelsUsed {
    let model = ModelInfo { name: "m".into(), sha256: "0".into() };
    ModelsUsed { detector: model.clone(), recognizer: model, fp32_recognizer: None, execution_provider: "cpu".into() }
}

pub fn parameters() -> Parameters {
    Parameters {
        match_threshold: 0.363,
        match_margin: 0.05,
        min_face_size_px: 27.0,
        detection_score_threshold: 0.8,
        gap_tolerance_seconds: 1.5,
        link_similarity: 0.45,
        int8_shift: None,
    }
}

/// Someone on screen over `spans` (start, end seconds).
pub fn person(name: &str, spans: &[(f64, f64)]) -> PersonAppearances {
    PersonAppearances {
        id: String::new(),
        person_id: None,
        name: name.into(),
        screen_time_seconds: spans.iter().map(|(start, end)| end - start).sum(),
        first_seen_seconds: spans.first().map_or(0.0, |s| s.0),
        confidence: 0.7,
        decided_by: None,
        thumbnail: None,
        crops: Vec::new(),
        appearances: spans
            .iter()
            .map(|&(start, end)| Appearance {
                start_seconds: start,
                end_seconds: end,
                confidence: 0.7,
                faces: 1,
                sample: SampleFace { seconds: start, bbox: Default::default() },
                track_ids: Vec::new(),
                crop: None,
            })
            .collect(),
    }
}

/// The results of a 20-second video.
pub fn results(people: Vec<PersonAppearances>, unknown: Vec<PersonAppearances>) -> ResultsDocument {
    ResultsDocument {
        schema_version: SCHEMA_VERSION.into(),
        video: video(20.0),
        movie: None,
        models: models(),
        parameters: parameters(),
        gallery: None,
        people,
        unknown,
        dismissed: vec![],
        curation: None,
    }
}
