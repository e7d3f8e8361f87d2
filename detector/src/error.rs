//! Errors at the detector's boundary, each mapped to a documented exit code.
//!
//! The exit codes are a contract with the operator: the Job's podFailurePolicy
//! fails a VideoJob at once on [`ExitCode::BadInput`] instead of retrying.

use std::path::PathBuf;

/// Process exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    /// Anything else: I/O failures, bugs. A retry may help.
    Other = 1,
    /// The input is unusable (unreadable, truncated or non-video file, bad gallery). A retry cannot help.
    BadInput = 2,
    /// Configuration or model problem (missing model, ONNX Runtime library, unavailable device).
    Config = 3,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read video {video}: {reason}")]
    BadVideo { video: String, reason: String },

    #[error("gallery {location}: {reason}")]
    BadGallery { location: String, reason: String },

    #[error("model {path}: {reason}")]
    Model { path: PathBuf, reason: String },

    #[error("{0}")]
    Config(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("inference failed: {0}")]
    Inference(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::BadVideo { .. } | Error::BadGallery { .. } => ExitCode::BadInput,
            Error::Model { .. } | Error::Config(_) => ExitCode::Config,
            Error::Io { .. } | Error::Inference(_) => ExitCode::Other,
        }
    }

    pub fn bad_video(video: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        Error::BadVideo { video: video.to_string(), reason: reason.to_string() }
    }

    pub fn bad_gallery(location: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        Error::BadGallery { location: location.to_string(), reason: reason.to_string() }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

impl From<ort::Error> for Error {
    fn from(e: ort::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
