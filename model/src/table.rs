//! The `MovieEntities` DynamoDB table: its key schema and GSIs, defined once in
//! `schemas/movie-entities.table.json` (which Terraform and the tests read too), and the
//! items written to it, as typed records that the writers and the readers share.
//!
//! Items of one movie share the partition `MOVIE#<movie id>`: the movie (`sk = MOVIE`) and
//! one per person found (`ACTOR#<name>`, `UNKNOWN#unknown-N`). An uploaded video has the
//! partition `VIDEO#<video id>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const DEFINITION_JSON: &str = include_str!("../../schemas/movie-entities.table.json");

/// The sort key of a movie's own item.
pub const MOVIE_SK: &str = "MOVIE";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDefinition {
    pub table_name: String,
    pub partition_key: String,
    pub sort_key: String,
    /// Every key attribute of the table and its indexes, and its type (`S`, `N`, `B`).
    pub attributes: BTreeMap<String, String>,
    pub global_secondary_indexes: Vec<IndexDefinition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDefinition {
    pub name: String,
    pub partition_key: String,
    pub sort_key: String,
}

impl TableDefinition {
    pub fn load() -> Self {
        // The file is part of the binary and checked by a test.
        serde_json::from_str(DEFINITION_JSON).expect("schemas/movie-entities.table.json is valid")
    }

    pub fn index(&self, name: &str) -> Option<&IndexDefinition> {
        self.global_secondary_indexes.iter().find(|i| i.name == name)
    }
}

/// A movie's id: the same video is the same movie, however often it is analysed.
pub fn movie_id(source: &str) -> String {
    format!("{:x}", Sha256::digest(source.as_bytes()))[..20].to_string()
}

const MOVIE_PK_PREFIX: &str = "MOVIE#";

/// The partition of a movie and its people.
pub fn movie_pk(source: &str) -> String {
    movie_pk_of_id(&movie_id(source))
}

/// The partition of the movie `movie_id`.
pub fn movie_pk_of_id(movie_id: &str) -> String {
    format!("{MOVIE_PK_PREFIX}{movie_id}")
}

/// The movie id in a movie's partition key.
pub fn movie_id_of_pk(pk: &str) -> &str {
    pk.strip_prefix(MOVIE_PK_PREFIX).unwrap_or(pk)
}

/// The partition of an uploaded video's own items.
pub fn video_pk(video_id: &str) -> String {
    format!("VIDEO#{video_id}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EntityType {
    Movie,
    Actor,
    Unknown,
    /// A person of the registry ([`crate::people`]).
    Person,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Movie => "MOVIE",
            EntityType::Actor => "ACTOR",
            EntityType::Unknown => "UNKNOWN",
            EntityType::Person => "PERSON",
        }
    }
}

/// A movie: what it is, where its results are, when it was analysed. GSI keys are only
/// present where known (the indexes are sparse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovieItem {
    pub pk: String,
    /// Always [`MOVIE_SK`].
    pub sk: String,
    pub entity_type: EntityType,
    /// The title (or the file name): the `byEntityType` sort key.
    pub name: String,
    pub title: String,
    /// The video's S3 URI.
    pub source: String,
    /// The VideoJob, `<namespace>/<name>`.
    pub job: String,
    pub result_uri: String,
    /// When the VideoJob was submitted: the same for every rerun of it.
    pub processed_at: String,
    /// `YYYY-MM-DD` of `processed_at`.
    pub processed_day: String,
    /// When the merge wrote the results.
    pub finished_at: String,
    pub duration_seconds: f64,
    pub actors_found: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Bumped by every writer of the movie's items (a merge, the curation worker), each
    /// conditioned on the version it read: neither loses the other's writes.
    #[serde(default)]
    pub version: u64,
    /// The curation version its items and results document include, once curated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation_version: Option<u64>,
}

/// A person found in a movie, known (`ACTOR`) or not (`UNKNOWN`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityItem {
    pub pk: String,
    /// `ACTOR#<name>` or `UNKNOWN#<name>`.
    pub sk: String,
    pub entity_type: EntityType,
    pub name: String,
    pub movie_title: String,
    /// The movie's video, as in its movie item.
    pub source: String,
    pub processed_at: String,
    pub screen_time_seconds: f64,
    pub first_seen_seconds: f64,
    pub appearances: u32,
    pub confidence: f64,
    /// The `byActor` key: enrolled people only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_file_parses_and_every_index_key_is_an_attribute() {
        let definition = TableDefinition::load();
        assert_eq!((definition.partition_key.as_str(), definition.sort_key.as_str()), ("pk", "sk"));
        for index in &definition.global_secondary_indexes {
            assert!(definition.attributes.contains_key(&index.partition_key), "{}", index.name);
            assert!(definition.attributes.contains_key(&index.sort_key), "{}", index.name);
        }
    }

    #[test]
    fn a_movie_partition_names_its_movie_id() {
        let source = "s3://raw/videos/a.mp4";
        assert_eq!(movie_id_of_pk(&movie_pk(source)), movie_id(source));
    }

    #[test]
    fn every_index_key_is_a_field_of_the_items_it_indexes() {
        // The items' field names must match the definition's attribute names, or an index
        // silently stays empty.
        let movie = MovieItem {
            pk: movie_pk("s3://raw/videos/a.mp4"),
            sk: MOVIE_SK.into(),
            entity_type: EntityType::Movie,
            name: "A".into(),
            title: "A".into(),
            source: "s3://raw/videos/a.mp4".into(),
            job: "media/a".into(),
            result_uri: "s3://processed/results/media/a/result.json".into(),
            processed_at: "2026-11-28T10:00:00Z".into(),
            processed_day: "2026-11-28".into(),
            finished_at: "2026-11-28T10:05:00Z".into(),
            duration_seconds: 1.0,
            actors_found: 1,
            genre: Some("Drama".into()),
            director: Some("D".into()),
            year: Some(1942),
            version: 1,
            curation_version: None,
        };
        let actor = EntityItem {
            pk: movie.pk.clone(),
            sk: "ACTOR#Ada".into(),
            entity_type: EntityType::Actor,
            name: "Ada".into(),
            movie_title: "A".into(),
            source: movie.source.clone(),
            processed_at: movie.processed_at.clone(),
            screen_time_seconds: 1.0,
            first_seen_seconds: 0.0,
            appearances: 1,
            confidence: 0.7,
            actor_name: Some("Ada".into()),
        };
        let fields = |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let (movie, actor) =
            (fields(serde_json::to_value(movie).unwrap()), fields(serde_json::to_value(actor).unwrap()));
        // The API's upload records are its own type: cameo-api checks `byUploadedAt`.
        for index in TableDefinition::load().global_secondary_indexes.into_iter().filter(|i| i.name != "byUploadedAt") {
            let indexed = |f: &Vec<String>| f.contains(&index.partition_key) && f.contains(&index.sort_key);
            assert!(indexed(&movie) || indexed(&actor), "no item carries the keys of {}", index.name);
        }
    }
}
