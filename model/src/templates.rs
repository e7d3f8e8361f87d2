//! A video's face templates: for each group of its results (a person's faces in it, or an
//! unknown cluster), the fp32 embeddings of its chosen face crops, the per-face evidence
//! the match threshold is calibrated on (a group's mean embedding is not). They let a
//! face be named later, in every video, without decoding any video again.
//!
//! Templates are biometric data: in the cloud they live under `templates/` of the
//! processed bucket, which the API cannot read, and they are never returned by the API.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::results::ModelInfo;

/// Changes only when a field's meaning changes or a field is removed.
pub const TEMPLATES_VERSION: &str = "cameo.dev/templates/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplatesDocument {
    /// Always `cameo.dev/templates/v1` for this schema.
    pub schema_version: String,
    /// The recogniser that made every embedding: only embeddings of one model compare.
    pub recognizer: ModelInfo,
    pub groups: Vec<GroupTemplates>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupTemplates {
    /// The group's id in the results document.
    pub id: String,
    /// Its name there when the templates were made (a person's, or `unknown-N`).
    pub name: String,
    /// Whether it was named after an enrolled person.
    pub known: bool,
    /// Faces of it seen in the sampled frames.
    pub faces: usize,
    /// One per chosen crop, best first: unit-length fp32 embeddings.
    pub embeddings: Vec<CropEmbedding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CropEmbedding {
    /// The crop, as the results document refers to it.
    pub crop: String,
    pub embedding: Vec<f32>,
}
