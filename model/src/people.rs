//! People known to cameo, first-class: each has a minted id, a display name (an attribute:
//! renaming moves nothing), gallery photos (each checked before it counts) and, for
//! curation, rejected examples. This module holds what every component shares about
//! them: the name rules, where a person's photos and the gallery manifest live, the
//! registry's table items, and the manifest built from them.
//!
//! The registry lives in the MovieEntities table, outside the `MOVIE#` partitions:
//! `PERSON#<id>` holds the person (`sk = PERSON`, listed by `byEntityType` under
//! `PERSON`, sorted by the name's case-folded key) and one item per photo
//! (`PHOTO#<photo id>`); `PERSONNAME#<key>` claims a name, so two people cannot share
//! one however it is cased. The manifest is a JSON object in the (versioned) raw bucket,
//! written by one writer (the gallery checker): a VideoJob reads the version current
//! when it was created.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::table::EntityType;

/// A display name is at most this many characters (after normalisation).
pub const MAX_NAME_CHARS: usize = 128;

/// Embedding, override and isolate controls of bidirectional text (and the marks), which
/// make a name display other than it is (`film\u{202e}4pm.exe` shows as `filmexe.mp4`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A person's display name, NFC-normalised and trimmed, and the key it is unique by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub display: String,
    /// Lower-cased: "ada lovelace" and "Ada Lovelace" are one name.
    pub key: String,
}

impl PersonName {
    /// The name as stored, or why it cannot be one.
    pub fn parse(raw: &str) -> Result<PersonName, String> {
        let display: String = raw.trim().nfc().collect();
        if display.is_empty() {
            return Err("a person's name must not be empty".into());
        }
        if display.chars().count() > MAX_NAME_CHARS {
            return Err(format!("a person's name is at most {MAX_NAME_CHARS} characters"));
        }
        if display.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err("a person's name must not contain control or bidirectional-override characters".into());
        }
        let key = display.to_lowercase();
        Ok(PersonName { display, key })
    }
}

/// A deterministic id from text (32 hex digits): what is derived from the same thing
/// twice (an import, a correction applied again) is added once.
pub fn derived_id(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))[..32].to_string()
}

/// Person and photo ids are minted by the API: 32 lowercase hex digits.
pub fn is_minted_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The folder of a gallery that is cameo's own: the manifest and the photos uploaded
/// through the API. A dot folder is never a person (hand-filled galleries list people as
/// `<gallery>/<Person Name>/`).
pub const OWN_FOLDER: &str = ".cameo/";

/// The manifest's key under the gallery prefix (`gallery/` or empty).
pub fn manifest_key(gallery_prefix: &str) -> String {
    format!("{gallery_prefix}{OWN_FOLDER}manifest.json")
}

/// Where photos uploaded through the API land (the prefix the bucket notifies).
pub fn photos_prefix(gallery_prefix: &str) -> String {
    format!("{gallery_prefix}{OWN_FOLDER}photos/")
}

/// A photo's key: minted ids only, so no name a client sends reaches a key.
pub fn photo_key(gallery_prefix: &str, person_id: &str, photo_id: &str, extension: &str) -> String {
    format!("{}{person_id}/{photo_id}.{extension}", photos_prefix(gallery_prefix))
}

/// The person and photo ids of an uploaded photo's key, if it is one.
pub fn parse_photo_key<'a>(gallery_prefix: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = key.strip_prefix(&photos_prefix(gallery_prefix))?;
    let (person, file) = rest.split_once('/')?;
    let (photo, _extension) = file.split_once('.')?;
    (is_minted_id(person) && is_minted_id(photo)).then_some((person, photo))
}

/// The image types a gallery photo may be (those the detector decodes), and the extension
/// its key gets.
pub const PHOTO_TYPES: [(&str, &str); 2] = [("image/jpeg", "jpg"), ("image/png", "png")];

/// A person holds at most this many photos (a merge may take them past it): enough for
/// every angle and age, and a merge stays one DynamoDB transaction.
pub const MAX_PHOTOS_PER_PERSON: usize = 40;

/// What the API tells the gallery checker after it changed the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryChanged {
    /// Always true: the manifest must be rebuilt.
    pub rebuild: bool,
    /// Content hashes of photos erased: their cached embeddings must go too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased_photos: Vec<String>,
}

/// The partition of a person and their photos.
pub fn person_pk(person_id: &str) -> String {
    format!("PERSON#{person_id}")
}

pub const PERSON_SK: &str = "PERSON";

pub fn photo_sk(photo_id: &str) -> String {
    format!("PHOTO#{photo_id}")
}

pub const PHOTO_SK_PREFIX: &str = "PHOTO#";

/// A person's rejected examples from one correction of one video.
pub fn rejected_sk(movie_id: &str, seq: u64) -> String {
    format!("{REJECTED_SK_PREFIX}{movie_id}#{seq:010}")
}

pub const REJECTED_SK_PREFIX: &str = "REJECTED#";

/// Where the curation worker keeps a person's rejected examples from one correction: fp32
/// embeddings, biometric, under the processed bucket's `templates/` that the API cannot read.
pub fn rejected_key(person_id: &str, movie_id: &str, seq: u64) -> String {
    format!("templates/rejected/{person_id}/{movie_id}-{seq:010}.json")
}

/// The item that claims a name for one person.
pub fn name_pk(key: &str) -> String {
    format!("PERSONNAME#{key}")
}

pub const NAME_SK: &str = "NAME";

/// What a merged person's partition keeps: `mergedInto`, the person they became (their
/// photos moved there, under the same photo ids).
pub const MERGED_SK: &str = "MERGED";

/// A person in the registry. `version` grows with every write to the person (their name,
/// their photos), and is what `If-Match` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonItem {
    pub pk: String,
    /// Always [`PERSON_SK`].
    pub sk: String,
    /// Always `PERSON`: the `byEntityType` partition.
    pub entity_type: EntityType,
    /// The name's key: `byEntityType` lists people by it.
    pub name: String,
    pub display_name: String,
    pub person_id: String,
    pub version: u64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
}

impl PersonItem {
    /// A new person, at version 1, added by `by` at `at`.
    pub fn new(id: &str, name: &PersonName, by: &str, at: &str) -> PersonItem {
        PersonItem {
            pk: person_pk(id),
            sk: PERSON_SK.into(),
            entity_type: EntityType::Person,
            name: name.key.clone(),
            display_name: name.display.clone(),
            person_id: id.into(),
            version: 1,
            created_at: at.into(),
            created_by: by.into(),
            updated_at: at.into(),
        }
    }
}

/// Where a photo came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PhotoSource {
    /// Uploaded through the API.
    Upload,
    /// Found in a gallery folder filled by hand.
    Import,
    /// A face crop of a video's cluster that people named after the person.
    Video,
}

/// Where a photo's check stands. Only usable photos reach the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PhotoStatus {
    /// Not checked yet (or not uploaded yet).
    Pending,
    Usable,
    Rejected,
}

/// One photo of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoItem {
    pub pk: String,
    /// `PHOTO#<photo id>`.
    pub sk: String,
    pub person_id: String,
    pub photo_id: String,
    /// The object's key in the raw bucket.
    pub key: String,
    pub source: PhotoSource,
    pub status: PhotoStatus,
    /// Why the photo was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The sha256 of the bytes that were checked (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    pub added_by: String,
    pub added_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    /// For a photo from a video: the movie, and the correction that named the face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<u64>,
}

/// Faces people said are not this person ("not this person" on a video), kept by the
/// curation worker: `PERSON#<id>` / `REJECTED#<movie id>#<seq>`. The embeddings are in the
/// object at `uri` (a templates document of one group), never in the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedItem {
    pub pk: String,
    pub sk: String,
    pub person_id: String,
    pub movie_id: String,
    /// The correction that rejected them.
    pub seq: u64,
    /// `s3://<processed bucket>/templates/rejected/...`.
    pub uri: String,
    pub sha256: String,
    pub examples: usize,
    pub at: String,
}

impl PhotoItem {
    /// A photo of `person_id` at `key`, waiting for the gallery checker's verdict.
    pub fn pending(person_id: &str, photo_id: &str, key: String, source: PhotoSource, by: &str, at: &str) -> Self {
        PhotoItem {
            pk: person_pk(person_id),
            sk: photo_sk(photo_id),
            person_id: person_id.into(),
            photo_id: photo_id.into(),
            key,
            source,
            status: PhotoStatus::Pending,
            reason: None,
            sha256: None,
            content_type: None,
            size_bytes: None,
            added_by: by.into(),
            added_at: at.into(),
            checked_at: None,
            movie_id: None,
            action: None,
        }
    }
}

/// The name claim: `PERSONNAME#<key>` / `NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameItem {
    pub pk: String,
    pub sk: String,
    pub person_id: String,
}

impl NameItem {
    /// The claim on the name whose key is `key`, for `person_id`.
    pub fn new(key: &str, person_id: &str) -> NameItem {
        NameItem { pk: name_pk(key), sk: NAME_SK.into(), person_id: person_id.into() }
    }
}

/// Changes only when a field's meaning changes or a field is removed.
pub const MANIFEST_VERSION: &str = "cameo.dev/gallery/v1";

/// The gallery a video is analysed against: every person with a usable photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GalleryManifest {
    /// Always `cameo.dev/gallery/v1` for this schema.
    pub schema_version: String,
    /// By person id.
    pub people: Vec<ManifestPerson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestPerson {
    pub id: String,
    pub name: String,
    /// By key.
    pub photos: Vec<ManifestPhoto>,
    /// Faces people said are not them, by URI: a face nearer one of these than to the
    /// photos is not named after them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<ManifestRejected>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestRejected {
    /// A templates document (`cameo.dev/templates/v1`) of one group.
    pub uri: String,
    /// The sha256 of its bytes: other bytes there are not used.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestPhoto {
    /// The photo's key in the gallery's bucket.
    pub key: String,
    /// The sha256 of the bytes that were checked: other bytes at that key are not used.
    pub sha256: String,
}

impl GalleryManifest {
    /// The manifest of a registry: people with at least one usable photo, each photo as
    /// checked, with their rejected examples. Pure, so the one writer and the tests build
    /// the same thing.
    pub fn of(people: &[PersonItem], photos: &[PhotoItem], rejected: &[RejectedItem]) -> GalleryManifest {
        let mut listed: Vec<ManifestPerson> = people
            .iter()
            .filter_map(|person| {
                let mut usable: Vec<ManifestPhoto> = photos
                    .iter()
                    .filter(|p| p.person_id == person.person_id && p.status == PhotoStatus::Usable)
                    .filter_map(|p| Some(ManifestPhoto { key: p.key.clone(), sha256: p.sha256.clone()? }))
                    .collect();
                usable.sort_by(|a, b| a.key.cmp(&b.key));
                let mut not_them: Vec<ManifestRejected> = rejected
                    .iter()
                    .filter(|r| r.person_id == person.person_id)
                    .map(|r| ManifestRejected { uri: r.uri.clone(), sha256: r.sha256.clone() })
                    .collect();
                not_them.sort_by(|a, b| a.uri.cmp(&b.uri));
                (!usable.is_empty()).then(|| ManifestPerson {
                    id: person.person_id.clone(),
                    name: person.display_name.clone(),
                    photos: usable,
                    rejected: not_them,
                })
            })
            .collect();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        GalleryManifest { schema_version: MANIFEST_VERSION.into(), people: listed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_keyed_case_insensitively() {
        let composed = PersonName::parse("  Pen\u{e9}lope Cruz ").unwrap();
        let decomposed = PersonName::parse("PENE\u{301}LOPE CRUZ").unwrap();
        assert_eq!(composed.display, "Pen\u{e9}lope Cruz");
        assert_eq!(composed.key, decomposed.key, "one name however it is composed or cased");
        for bad in ["", "   ", "Ada\u{7}", "Ada\u{202e}", "Ada\nLovelace"] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PersonName::parse(&"a".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(PersonName::parse(&"a".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn derived_ids_are_the_same_every_time() {
        assert_eq!(derived_id("s3://raw/gallery/Ada/1.jpg"), derived_id("s3://raw/gallery/Ada/1.jpg"));
        assert_ne!(derived_id("s3://raw/gallery/Ada/1.jpg"), derived_id("s3://raw/gallery/Ada/2.jpg"));
        assert_eq!(derived_id("x").len(), 32);
    }

    #[test]
    fn photo_keys_hold_minted_ids_only() {
        let (person, photo) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        let key = photo_key("gallery/", person, photo, "jpg");
        assert_eq!(key, format!("gallery/.cameo/photos/{person}/{photo}.jpg"));
        assert_eq!(parse_photo_key("gallery/", &key), Some((person, photo)));
        for other in ["gallery/Ada/1.jpg", "gallery/.cameo/photos/x/y.jpg", "gallery/.cameo/manifest.json"] {
            assert_eq!(parse_photo_key("gallery/", other), None, "{other}");
        }
    }

    #[test]
    fn a_person_and_a_merge_note_sort_together_before_the_photos() {
        // The API reads a person with one query between the two.
        assert!(MERGED_SK < PERSON_SK && PERSON_SK < PHOTO_SK_PREFIX);
        assert!(crate::curation::ledger::PERSON_ACTION_SK_PREFIX < MERGED_SK && PHOTO_SK_PREFIX < REJECTED_SK_PREFIX);
    }

    #[test]
    fn the_manifest_lists_usable_photos_of_people_who_have_one() {
        let person = |id: &str, name: &str| PersonItem::new(id, &PersonName::parse(name).unwrap(), "c", "t");
        let photo = |person: &str, id: &str, status, sha: Option<&str>| PhotoItem {
            pk: person_pk(person),
            sk: photo_sk(id),
            person_id: person.into(),
            photo_id: id.into(),
            key: format!("k/{id}"),
            source: PhotoSource::Upload,
            status,
            reason: None,
            sha256: sha.map(str::to_string),
            content_type: None,
            size_bytes: None,
            added_by: "c".into(),
            added_at: "t".into(),
            checked_at: None,
            movie_id: None,
            action: None,
        };
        let people = [person("b", "Bea"), person("a", "Ada"), person("c", "Cy")];
        let photos = [
            photo("a", "2", PhotoStatus::Usable, Some("h2")),
            photo("a", "1", PhotoStatus::Usable, Some("h1")),
            photo("a", "3", PhotoStatus::Rejected, Some("h3")),
            photo("b", "4", PhotoStatus::Pending, None),
            photo("c", "5", PhotoStatus::Usable, Some("h5")),
        ];
        let not = |person: &str, seq: u64| RejectedItem {
            pk: person_pk(person),
            sk: rejected_sk("m", seq),
            person_id: person.into(),
            movie_id: "m".into(),
            seq,
            uri: format!("s3://p/{}", rejected_key(person, "m", seq)),
            sha256: format!("r{seq}"),
            examples: 2,
            at: "t".into(),
        };
        // Bea has rejected examples but no usable photo: she is not enrolled at all.
        let rejected = [not("a", 7), not("b", 8), not("a", 3)];
        let manifest = GalleryManifest::of(&people, &photos, &rejected);
        let listed: Vec<(&str, Vec<&str>, Vec<&str>)> = manifest
            .people
            .iter()
            .map(|p| {
                let photos = p.photos.iter().map(|f| f.sha256.as_str()).collect();
                (p.name.as_str(), photos, p.rejected.iter().map(|r| r.sha256.as_str()).collect())
            })
            .collect();
        assert_eq!(listed, vec![("Ada", vec!["h1", "h2"], vec!["r3", "r7"]), ("Cy", vec!["h5"], vec![])]);
    }
}
