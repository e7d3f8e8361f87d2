//! Checks on what a client sends, before anything is presigned or created: pure, so each
//! rule is tested alone.

use cameo_model::people::is_bidi_control;
use cameo_model::results::Movie;
use serde::Deserialize;

use crate::config::Config;
use crate::error::{ApiError, ApiResult};

/// The body of `POST /videos`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadRequest {
    /// The file's name: one path segment with a video extension.
    pub file_name: String,
    /// A `video/*` media type, signed into the upload.
    pub content_type: String,
    /// The exact size, signed into a single PUT and checked after a multipart upload.
    pub size_bytes: u64,
    #[serde(default)]
    pub movie: Option<Movie>,
}

/// S3 keys are at most 1024 bytes; a file name's 255 is what file systems allow.
const MAX_FILE_NAME_BYTES: usize = 255;

/// Extensions of the containers FFmpeg reads that carry video.
const VIDEO_EXTENSIONS: &[&str] =
    &["mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "m2ts", "mts", "wmv", "flv", "3gp", "mxf", "ogv"];

pub fn check_upload(request: &UploadRequest, config: &Config) -> ApiResult<()> {
    check_file_name(&request.file_name)?;
    check_content_type(&request.content_type)?;
    if request.size_bytes == 0 {
        return Err(ApiError::invalid("invalid_size", "sizeBytes must be the file's size in bytes, more than 0"));
    }
    if request.size_bytes > config.max_upload_bytes {
        return Err(ApiError::TooLarge(format!(
            "the video is {} bytes; this API accepts at most {} bytes",
            request.size_bytes, config.max_upload_bytes
        )));
    }
    if let Some(movie) = &request.movie {
        check_movie(movie)?;
    }
    Ok(())
}

pub fn check_file_name(name: &str) -> ApiResult<()> {
    let invalid = |why: &str| Err(ApiError::invalid("invalid_file_name", format!("fileName {why}")));
    if name.is_empty() {
        return invalid("is empty");
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return invalid(&format!("is {} bytes of UTF-8; at most {MAX_FILE_NAME_BYTES} are allowed", name.len()));
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return invalid("must be a single name: no '/', '\\' or '..'");
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return invalid("contains control or bidirectional-override characters");
    }
    if has_percent_escape(name) {
        return invalid("must be the name itself, not URL-encoded");
    }
    if name.trim() != name {
        return invalid("starts or ends with white space");
    }
    let extension = name.rsplit_once('.').map(|(stem, ext)| (stem, ext.to_ascii_lowercase()));
    match extension {
        Some((stem, ext)) if !stem.is_empty() && VIDEO_EXTENSIONS.contains(&ext.as_str()) => Ok(()),
        _ => invalid(&format!("needs a video extension: one of {}", VIDEO_EXTENSIONS.join(", "))),
    }
}

fn has_percent_escape(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// A `video/<subtype>` media type without parameters (it is signed as it is).
pub fn check_content_type(content_type: &str) -> ApiResult<()> {
    let subtype = content_type.strip_prefix("video/").unwrap_or_default();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c);
    if subtype.is_empty() || subtype.len() > 100 || !subtype.chars().all(token) {
        return Err(ApiError::invalid(
            "invalid_content_type",
            format!("contentType must be a video media type such as video/mp4, not {content_type:?}"),
        ));
    }
    Ok(())
}

/// The first films are from the 1880s; a few years ahead allows announced releases.
const YEARS: std::ops::RangeInclusive<i32> = 1870..=2100;

pub fn check_movie(movie: &Movie) -> ApiResult<()> {
    for (field, value, max) in
        [("title", &movie.title, 256), ("genre", &movie.genre, 64), ("director", &movie.director, 128)]
    {
        let Some(value) = value else { continue };
        let invalid = |why: String| Err(ApiError::invalid("invalid_movie", format!("movie.{field} {why}")));
        if value.trim().is_empty() {
            return invalid("is empty; leave it out instead".into());
        }
        if value.chars().count() > max {
            return invalid(format!("is longer than {max} characters"));
        }
        if value.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return invalid("contains control or bidirectional-override characters".into());
        }
    }
    match movie.year {
        Some(year) if !YEARS.contains(&year) => Err(ApiError::invalid(
            "invalid_movie",
            format!("movie.year must be in {}..={}, not {year}", YEARS.start(), YEARS.end()),
        )),
        _ => Ok(()),
    }
}

/// Video ids are minted here: 32 lowercase hex digits.
pub fn check_video_id(id: &str) -> ApiResult<()> {
    if id.len() == 32 && is_hex(id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no video {id:?}: video ids are the 32 hex digits POST /videos answered")))
    }
}

fn is_hex(id: &str) -> bool {
    id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A video as the routes about its results name it: an upload's id, or (for a video
/// submitted with kubectl, which has none) its movie's id, as the lists answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoRef {
    Upload(String),
    Movie(String),
}

pub fn video_ref(id: &str) -> ApiResult<VideoRef> {
    match id.len() {
        32 if is_hex(id) => Ok(VideoRef::Upload(id.into())),
        20 if is_hex(id) => Ok(VideoRef::Movie(id.into())),
        _ => Err(ApiError::NotFound(format!(
            "no video {id:?}: name it by the 32 hex digits POST /videos answered, or by its 20-hex-digit movieId"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_is_named_by_its_upload_id_or_its_movie_id() {
        assert_eq!(
            video_ref("0123456789abcdef0123456789abcdef").unwrap(),
            VideoRef::Upload("0123456789abcdef0123456789abcdef".into())
        );
        assert_eq!(video_ref("0123456789abcdef0123").unwrap(), VideoRef::Movie("0123456789abcdef0123".into()));
        for bad in ["", "0123456789ABCDEF0123", "../../etc/passwd", "0123456789abcdef012"] {
            assert!(matches!(video_ref(bad), Err(ApiError::NotFound(_))), "{bad}");
        }
    }

    #[test]
    fn ordinary_names_pass() {
        for name in ["film.mp4", "Casablanca (1942).MOV", "東京物語.mkv", "a.b.c.webm", "50% off.mp4"] {
            assert!(check_file_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn hostile_names_fail_with_the_file_name_code() {
        let long = format!("{}.mp4", "a".repeat(300));
        let multibyte = format!("{}.mp4", "é".repeat(126)); // 252 + 4 bytes: over by bytes, not chars
        for name in [
            "",
            "../x.mp4",
            "..",
            "a/b.mp4",
            "a\\b.mp4",
            "x..mp4",
            "%2e%2e%2fx.mp4",
            "..%2fx.mp4",
            "x\0.mp4",
            "x\n.mp4",
            "film\u{202e}4pm.exe",
            "x\u{2066}.mp4",
            " film.mp4",
            "film.mp4 ",
            "film.exe",
            "film",
            ".mp4",
            &long,
            &multibyte,
        ] {
            let error = check_file_name(name).expect_err(name);
            assert_eq!(error.code(), "invalid_file_name", "{name}");
        }
    }

    #[test]
    fn content_types_are_video_media_types_without_parameters() {
        assert!(check_content_type("video/mp4").is_ok());
        assert!(check_content_type("video/x-matroska").is_ok());
        for bad in ["", "video/", "image/png", "application/octet-stream", "video/mp4; codecs=avc1", "VIDEO/MP4"] {
            assert_eq!(check_content_type(bad).unwrap_err().code(), "invalid_content_type", "{bad}");
        }
    }

    #[test]
    fn movie_fields_are_bounded() {
        let ok = Movie { title: Some("Casablanca".into()), year: Some(1942), ..Default::default() };
        assert!(check_movie(&ok).is_ok());
        for bad in [
            Movie { year: Some(99999), ..ok.clone() },
            Movie { year: Some(1700), ..ok.clone() },
            Movie { title: Some("x".repeat(257)), ..ok.clone() },
            Movie { genre: Some("  ".into()), ..ok.clone() },
            Movie { director: Some("a\u{0007}b".into()), ..ok.clone() },
        ] {
            assert_eq!(check_movie(&bad).unwrap_err().code(), "invalid_movie", "{bad:?}");
        }
    }

    #[test]
    fn video_ids_are_ours() {
        assert!(check_video_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "../etc", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde"] {
            assert!(check_video_id(bad).is_err(), "{bad}");
        }
    }
}
