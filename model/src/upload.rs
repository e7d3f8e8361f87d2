//! What an upload carries beside its bytes: the object metadata (`x-amz-meta-*`) that the
//! API signs into the upload URL, so a client cannot change it, and that the ingest reads
//! back to start the VideoJob.
//!
//! Header values must be visible ASCII, so each value is percent-encoded UTF-8 (`%` and
//! every byte outside printable ASCII); [`decode_value`] reverses it.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::results::Movie;

/// The key prefix under which uploads land: `videos/<video id>/<file name>`.
pub const VIDEO_PREFIX: &str = "videos/";

pub const META_VIDEO_ID: &str = "video-id";
pub const META_UPLOADED_BY: &str = "uploaded-by";
pub const META_TITLE: &str = "title";
pub const META_GENRE: &str = "genre";
pub const META_DIRECTOR: &str = "director";
pub const META_YEAR: &str = "year";

/// Controls, `%` and (implicitly) every non-ASCII byte.
const ENCODED: &AsciiSet = &CONTROLS.add(b'%');

pub fn encode_value(value: &str) -> String {
    utf8_percent_encode(value, ENCODED).to_string()
}

/// The original text of an encoded value; `None` when it is not valid UTF-8.
pub fn decode_value(value: &str) -> Option<String> {
    percent_decode_str(value).decode_utf8().ok().map(|v| v.into_owned())
}

/// The user metadata of an uploaded video (keys without the `x-amz-meta-` prefix).
pub fn object_metadata(video_id: &str, uploaded_by: &str, movie: &Movie) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::from([
        (META_VIDEO_ID.to_string(), encode_value(video_id)),
        (META_UPLOADED_BY.to_string(), encode_value(uploaded_by)),
    ]);
    let year = movie.year.map(|y| y.to_string());
    for (key, value) in
        [(META_TITLE, &movie.title), (META_GENRE, &movie.genre), (META_DIRECTOR, &movie.director), (META_YEAR, &year)]
    {
        if let Some(value) = value {
            metadata.insert(key.to_string(), encode_value(value));
        }
    }
    metadata
}

/// The video id of an uploaded object's key (`videos/<id>/<file name>`).
pub fn video_id_of_key(key: &str) -> Option<&str> {
    let (id, file) = key.strip_prefix(VIDEO_PREFIX)?.split_once('/')?;
    (!id.is_empty() && !file.is_empty() && !file.contains('/')).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_visible_ascii_and_decode_to_the_original() {
        for value in ["Casablanca", "Amélie", "50% off", "東京物語", "a  b", "tab\there"] {
            let encoded = encode_value(value);
            assert!(encoded.bytes().all(|b| (0x20..0x7f).contains(&b)), "{encoded}");
            assert_eq!(decode_value(&encoded).as_deref(), Some(value));
        }
        assert_eq!(encode_value("Amélie"), "Am%C3%A9lie");
        assert_eq!(decode_value("%FF"), None);
    }

    #[test]
    fn metadata_names_only_what_is_known() {
        let movie = Movie { title: Some("Amélie".into()), year: Some(2001), ..Default::default() };
        let metadata = object_metadata("abc", "user-1", &movie);
        assert_eq!(metadata.get(META_TITLE).map(String::as_str), Some("Am%C3%A9lie"));
        assert_eq!(metadata.get(META_YEAR).map(String::as_str), Some("2001"));
        assert!(!metadata.contains_key(META_GENRE));
        assert_eq!(metadata.get(META_UPLOADED_BY).map(String::as_str), Some("user-1"));
    }

    #[test]
    fn the_video_id_comes_from_keys_of_uploads_only() {
        assert_eq!(video_id_of_key("videos/abc/film.mp4"), Some("abc"));
        for key in ["videos/film.mp4", "gallery/abc/x.jpg", "videos//x.mp4", "videos/abc/", "videos/a/b/c.mp4"] {
            assert_eq!(video_id_of_key(key), None, "{key}");
        }
    }
}
