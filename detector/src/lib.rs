//! cameo's detector: finds which people appear in a video, and when.
//!
//! The work is a pipeline of stages with plain data between them, each in its own module:
//! [`video`] (frames) -> [`detect`] (faces) -> [`align`] (112x112 crops) -> [`embed`]
//! (embeddings) -> [`track`] (tracks, each with its [`best_faces`] by [`quality`]) ->
//! [`identify`] (names) -> [`appearances`] (who appears when), wired together by
//! [`pipeline`]; then [`faces`] (the crops that show each group) and [`templates`] (their
//! fp32 embeddings), and the [`viewer`] report. [`display`] turns frames as players show them; [`shots`] tells the
//! tracker where the cuts are; [`gallery`] enrols the people to look for, under the
//! rules of [`photos`].

pub mod align;
pub mod analysis;
pub mod appearances;
pub mod best_faces;
pub mod cli;
#[cfg(feature = "cloud")]
pub mod cloud;
pub mod detect;
pub mod display;
pub mod embed;
pub mod error;
pub mod evaluate;
pub mod faces;
pub mod faces_dir;
pub mod gallery;
pub mod identify;
pub mod late_binding;
pub mod models;
pub mod output;
pub mod photos;
pub mod pipeline;
pub mod quality;
pub mod rematch;
pub mod report;
pub mod runtime;
pub mod shots;
pub mod suggest;
pub mod templates;
pub mod text;
pub mod timeline;
pub mod track;
pub mod video;
pub mod viewer;

#[cfg(test)]
mod fixtures;

// The results document and its boxes are shared with the API: one definition, imported.
pub use cameo_model::{exports, geometry, results, summary};
