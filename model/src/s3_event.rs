//! S3 event notifications as SQS delivers them: a test event when the notification is
//! configured, else records of created objects. Keys arrive URL-encoded, with `+` for a
//! space (and, on some stand-ins, `/` as `%2F`): [`decode_key`] undoes both. The API
//! sends the same event again to have a video analysed again ([`analyse_again`]), with
//! the run that names the new analysis.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Deserialize;

/// What one message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// `s3:TestEvent`, sent once when the notification is configured: no work.
    Test,
    Created(Vec<ObjectCreated>),
}

/// An object that was created (PUT, POST, copy or a completed multipart upload).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectCreated {
    pub bucket: String,
    /// The key as stored, decoded.
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// Present on versioned buckets only.
    pub version_id: Option<String>,
    /// Which analysis of the object this asks for: 0 for S3's own event, n for the nth
    /// time someone asked for it again (`POST /videos/{id}/analyse`).
    pub run: u32,
}

/// Why a message cannot be understood; it is left for the dead-letter queue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Malformed {
    #[error("the body is not an S3 event notification: {0}")]
    NotAnEvent(String),
    #[error("the notification holds no records")]
    NoRecords,
    #[error("{0} is not an object-created event")]
    NotCreated(String),
    #[error("the key {0:?} is not valid URL-encoded UTF-8")]
    BadKey(String),
}

impl Malformed {
    /// The metric label of each cause.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Malformed::NotAnEvent(_) => "not_an_event",
            Malformed::NoRecords => "no_records",
            Malformed::NotCreated(_) => "not_object_created",
            Malformed::BadKey(_) => "bad_key",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Body {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    records: Option<Vec<Record>>,
    /// cameo's own, beside S3's fields: set when the API asks for the analysis again.
    #[serde(default)]
    cameo_analysis_run: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_source: String,
    event_name: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    bucket: BucketEntity,
    object: ObjectEntity,
}

#[derive(Deserialize)]
struct BucketEntity {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectEntity {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    version_id: Option<String>,
}

pub fn parse(body: &str) -> Result<Notice, Malformed> {
    let body: Body = serde_json::from_str(body).map_err(|e| Malformed::NotAnEvent(e.to_string()))?;
    if body.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notice::Test);
    }
    let run = body.cameo_analysis_run;
    let records = body.records.filter(|r| !r.is_empty()).ok_or(Malformed::NoRecords)?;
    records
        .into_iter()
        .map(|record| {
            if record.event_source != "aws:s3" || !record.event_name.starts_with("ObjectCreated:") {
                return Err(Malformed::NotCreated(format!("{} {}", record.event_source, record.event_name)));
            }
            let object = record.s3.object;
            Ok(ObjectCreated {
                bucket: record.s3.bucket.name,
                key: decode_key(&object.key)?,
                size: object.size,
                etag: object.e_tag.filter(|e| !e.is_empty()),
                version_id: object.version_id.filter(|v| !v.is_empty()),
                run,
            })
        })
        .collect::<Result<_, _>>()
        .map(Notice::Created)
}

/// Unreserved characters stay as they are; everything else is percent-encoded (which
/// [`decode_key`] reads back, `+` included).
const KEY_ENCODING: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// The message that has the ingest analyse `object` again, as run `object.run`: the
/// object's created event as S3 sends it, and the run, which names a new VideoJob.
pub fn analyse_again(object: &ObjectCreated) -> String {
    let mut entity = serde_json::json!({"key": utf8_percent_encode(&object.key, KEY_ENCODING).to_string()});
    if let Some(size) = object.size {
        entity["size"] = size.into();
    }
    if let Some(etag) = &object.etag {
        entity["eTag"] = etag.as_str().into();
    }
    if let Some(version) = &object.version_id {
        entity["versionId"] = version.as_str().into();
    }
    serde_json::json!({
        "Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                     "s3": {"bucket": {"name": object.bucket}, "object": entity}}],
        "CameoAnalysisRun": object.run,
    })
    .to_string()
}

/// A key as S3 notifications encode it: form encoding, so `+` is a space and `%2B` a plus.
pub fn decode_key(encoded: &str) -> Result<String, Malformed> {
    let spaced = encoded.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Malformed::BadKey(encoded.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(key: &str, name: &str) -> String {
        serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": name,
            "s3": {"bucket": {"name": "raw"}, "object": {"key": key, "size": 42, "eTag": "abc", "sequencer": "0A"}}
        }]})
        .to_string()
    }

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(decode_key("videos/a/My+Film+%282026%29.mp4").unwrap(), "videos/a/My Film (2026).mp4");
        assert_eq!(decode_key("videos%2Fa%2Fb%2Bc.mp4").unwrap(), "videos/a/b+c.mp4");
        assert_eq!(decode_key("videos/a/%C3%A9t%C3%A9.mp4").unwrap(), "videos/a/été.mp4");
        assert!(decode_key("videos/a/%FF.mp4").is_err(), "not UTF-8");
        assert!(decode_key("").is_err());
    }

    #[test]
    fn a_created_object_is_read_with_its_identity() {
        let Notice::Created(objects) = parse(&created("videos/v1/a+b.mp4", "ObjectCreated:Put")).unwrap() else {
            panic!("objects")
        };
        assert_eq!(
            objects,
            vec![ObjectCreated {
                bucket: "raw".into(),
                key: "videos/v1/a b.mp4".into(),
                size: Some(42),
                etag: Some("abc".into()),
                version_id: None,
                run: 0,
            }]
        );
        let multipart = parse(&created("videos/v1/a.mp4", "ObjectCreated:CompleteMultipartUpload")).unwrap();
        assert!(matches!(multipart, Notice::Created(o) if o.len() == 1));
    }

    #[test]
    fn an_analysis_asked_again_reads_back_as_the_same_object_with_its_run() {
        let object = ObjectCreated {
            bucket: "raw".into(),
            key: "videos/v1/Mon film + été (2026).mp4".into(),
            size: Some(7),
            etag: Some("\"e1\"".into()),
            version_id: Some("3/L4kqtJl".into()),
            run: 3,
        };
        assert_eq!(parse(&analyse_again(&object)).unwrap(), Notice::Created(vec![object.clone()]));
        let unversioned = ObjectCreated { version_id: None, run: 1, ..object };
        assert_eq!(parse(&analyse_again(&unversioned)).unwrap(), Notice::Created(vec![unversioned]));
    }

    #[test]
    fn the_test_event_is_no_work_and_anything_else_is_malformed_with_a_reason() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-02T10:00:00Z","Bucket":"raw"}"#;
        assert_eq!(parse(test).unwrap(), Notice::Test);
        assert_eq!(parse("not json").unwrap_err().metric_label(), "not_an_event");
        assert_eq!(parse(r#"{"Records": []}"#).unwrap_err(), Malformed::NoRecords);
        assert_eq!(parse("{}").unwrap_err(), Malformed::NoRecords);
        let removed = parse(&created("videos/v1/a.mp4", "ObjectRemoved:Delete")).unwrap_err();
        assert_eq!(removed.metric_label(), "not_object_created");
        assert_eq!(parse(&created("videos/%FF", "ObjectCreated:Put")).unwrap_err().metric_label(), "bad_key");
    }
}
