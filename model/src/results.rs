//! The results document: who appears when, written as JSON by `--json` and, in the
//! cloud, to `results/<job>/result.json`. Its JSON Schema is generated from these
//! types (`cameo-detector schema`) and committed as `detector/schema/results.v1.json`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::geometry::BBox;

/// How many of its best faces a group shows.
pub const GROUP_FACES: usize = 5;

/// Changes only when a field's meaning changes or a field is removed; added fields keep it.
pub const SCHEMA_VERSION: &str = "cameo.dev/results/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "cameo results", description = "Which people appear in a video, and when.")]
pub struct ResultsDocument {
    /// Always `cameo.dev/results/v1` for this schema.
    pub schema_version: String,
    pub video: VideoSummary,
    /// What the video is, when known (VideoJobs may say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<Movie>,
    pub models: ModelsUsed,
    pub parameters: Parameters,
    /// The gallery the video was analysed against, and the photos of it that could not be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery: Option<GallerySummary>,
    /// Enrolled people found in the video, by first appearance.
    pub people: Vec<PersonAppearances>,
    /// Faces that match nobody in the gallery, grouped by likeness as `unknown-1`, `unknown-2`, ...
    pub unknown: Vec<PersonAppearances>,
    /// Unknown groups a person dismissed (a passer-by, a face on a poster): kept, not listed
    /// among the people, as `dismissed-1`, `dismissed-2`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dismissed: Vec<PersonAppearances>,
    /// The corrections people made to the analysis that this document includes; absent
    /// while it is the analysis as the detector wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation: Option<CurationApplied>,
}

/// Which of a video's corrections a document includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CurationApplied {
    /// The video's curation version: every action up to it (and its undos) is in.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VideoSummary {
    /// The video as given: a file path or an s3:// URI.
    pub source: String,
    /// Seconds from the first to the end of the last decoded frame.
    pub duration_seconds: f64,
    /// Displayed size, as players show the video (boxes are in these pixels).
    pub width: u32,
    pub height: u32,
    /// How the stored frames were turned for display, from the stream's display matrix or
    /// `rotate` tag (`rotate90`, `rotate180`, `rotate270`, `flipHorizontal`, `flipVertical`,
    /// `transpose`, `transverse`); absent when upright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_orientation: Option<String>,
    /// What the analysis could not take at face value, such as a nonsense rotation tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Native frame rate of the video stream (0 when the container does not say).
    pub frame_rate: f64,
    pub codec: String,
    /// Frames analysed per second of video.
    pub sampled_fps: f64,
    pub frames_decoded: usize,
    pub frames_analysed: usize,
    pub faces_detected: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelsUsed {
    pub detector: ModelInfo,
    /// The recogniser faces are tracked and grouped with.
    pub recognizer: ModelInfo,
    /// The fp32 recogniser, when `recognizer` is int8: the match threshold is calibrated for
    /// it, so it embeds the gallery and decides the names int8's evidence leaves too close
    /// to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32_recognizer: Option<ModelInfo>,
    /// `cpu` or `cuda`.
    pub execution_provider: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelInfo {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    pub match_threshold: f32,
    pub match_margin: f32,
    /// Faces smaller than this (box height, frame pixels) are not promised to be found.
    pub min_face_size_px: f32,
    pub detection_score_threshold: f32,
    /// Sightings of a person closer than this are one appearance.
    pub gap_tolerance_seconds: f64,
    /// Faces at least this similar are linked into one track, and unknown tracks into one cluster.
    pub link_similarity: f32,
    /// How far an int8 similarity may be from the fp32 one: a track whose int8 evidence is
    /// within this of the threshold or of the margin is decided again in fp32. Absent when
    /// the recogniser is fp32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_shift: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GallerySummary {
    /// People with at least one usable photo.
    pub people: usize,
    /// Usable photos.
    pub photos: usize,
    /// Photos (or person folders) that could not be used, and why. They are left out; the
    /// video is analysed against the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedPhoto>,
    /// The version of the registry's gallery manifest the video was analysed against
    /// (absent for a gallery folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_version: Option<String>,
    /// The registry's id of each enrolled person, by name (absent for a gallery folder).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub person_ids: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkippedPhoto {
    /// A file path or an s3:// URI.
    pub location: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Movie {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonAppearances {
    /// This group's id in this video: derived from its tracks, so it stays the same when the
    /// same analysis is merged again, where `unknown-N` is renumbered. Curation names it.
    #[serde(default)]
    pub id: String,
    /// The gallery folder's name, or `unknown-N`.
    pub name: String,
    /// The person's id in the registry, when the gallery was the registry's manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// Sum of the appearances' lengths.
    pub screen_time_seconds: f64,
    pub first_seen_seconds: f64,
    /// Mean similarity of this person's faces to their gallery photos (to their cluster, for unknowns), 0-1.
    pub confidence: f32,
    /// Which recogniser decided the name of this person's tracks. Absent for unknown faces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<DecidedBy>,
    /// Its best face by the quality score (at most 256 px a side): a JPEG's path relative
    /// to this document. Absent when no faces were written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// Up to 5 of its best faces from different moments, best first (the first is the
    /// thumbnail): paths relative to this document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crops: Vec<String>,
    pub appearances: Vec<Appearance>,
}

/// Tracks named on the tracking recogniser's evidence, on fp32 evidence because the
/// former was too close to the threshold or the margin to call, and by people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecidedBy {
    pub int8_tracks: usize,
    pub fp32_tracks: usize,
    /// Tracks a person named by correcting the result, whatever the recogniser said.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub curated_tracks: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One continuous stretch of time in which a person is on screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Appearance {
    pub start_seconds: f64,
    pub end_seconds: f64,
    /// Mean similarity of the faces in this appearance, 0-1.
    pub confidence: f32,
    /// Faces of this person seen in the sampled frames of this appearance.
    pub faces: usize,
    /// The most confidently detected face of this appearance.
    pub sample: SampleFace,
    /// The tracks (one face followed through one shot) this appearance is made of, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_ids: Vec<String>,
    /// The best face of this appearance (at most 128 px a side): a JPEG's path relative to
    /// this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SampleFace {
    pub seconds: f64,
    /// Box in frame pixels.
    pub bbox: BBox,
}

/// The JSON Schema of [`ResultsDocument`], as committed.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ResultsDocument)).unwrap_or_default()
}
