//! Writing the `MovieEntities` DynamoDB table: one item per movie and one per person found
//! in it, keyed so a rerun writes the same keys. The items are typed, and the key schema
//! and GSIs defined, once in `cameo-model` (from `schemas/movie-entities.table.json`,
//! which Terraform and the tests read too); the API reads what this writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ScalarAttributeType, TransactWriteItem, Update,
};
use cameo_model::table::{EntityItem, EntityType, MOVIE_SK, MovieItem, TableDefinition, movie_pk};
use jiff::Timestamp;

use super::aws::{Aws, sdk_error};
use crate::error::{Error, Result};
use crate::results::{PersonAppearances, ResultsDocument};

pub type Item = HashMap<String, AttributeValue>;

/// How often a write conditioned on what it read is tried again after losing a race.
pub const MAX_RACES: usize = 5;

/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// When and from what the items are written.
pub struct Provenance<'a> {
    pub source: &'a str,
    pub job: &'a str,
    pub result_uri: &'a str,
    /// When the VideoJob was submitted: the same for every rerun of it.
    pub processed_at: Timestamp,
    /// When this merge wrote the results.
    pub finished_at: Timestamp,
}

/// A result's items, and the keys their writes are conditioned on.
pub struct ResultItems {
    /// The partition key of the movie and all its entities.
    pub pk: String,
    /// The submission time: an item is only replaced by the same or a later submission.
    pub processed_at: String,
    pub movie: MovieItem,
    /// One per person, known and unknown.
    pub entities: Vec<EntityItem>,
}

/// Numbers in the table keep three decimals.
fn rounded(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The items for a result: the movie's, then one per person (known and unknown).
pub fn items(result: &ResultsDocument, provenance: &Provenance) -> ResultItems {
    let pk = movie_pk(provenance.source);
    let movie = result.movie.clone().unwrap_or_default();
    let title = movie
        .title
        .clone()
        .unwrap_or_else(|| provenance.source.rsplit('/').next().unwrap_or(provenance.source).to_string());
    let processed_at = provenance.processed_at.to_string();
    let known = |v: Option<String>| v.filter(|v| !v.is_empty());
    let movie_item = MovieItem {
        pk: pk.clone(),
        sk: MOVIE_SK.into(),
        entity_type: EntityType::Movie,
        name: title.clone(),
        title: title.clone(),
        source: provenance.source.into(),
        job: provenance.job.into(),
        result_uri: provenance.result_uri.into(),
        processed_day: processed_at.get(..10).unwrap_or_default().to_string(),
        processed_at: processed_at.clone(),
        finished_at: provenance.finished_at.to_string(),
        duration_seconds: rounded(result.video.duration_seconds),
        actors_found: result.people.len() as u32,
        genre: known(movie.genre),
        director: known(movie.director),
        year: movie.year,
        // Set as it is written, one past the version it replaces.
        version: 0,
        curation_version: None,
    };
    let person = |p: &PersonAppearances, kind: EntityType| EntityItem {
        pk: pk.clone(),
        sk: format!("{}#{}", kind.as_str(), p.name),
        entity_type: kind,
        name: p.name.clone(),
        movie_title: title.clone(),
        source: provenance.source.into(),
        processed_at: processed_at.clone(),
        screen_time_seconds: rounded(p.screen_time_seconds),
        first_seen_seconds: rounded(p.first_seen_seconds),
        appearances: p.appearances.len() as u32,
        confidence: rounded(f64::from(p.confidence)),
        actor_name: (kind == EntityType::Actor).then(|| p.name.clone()),
    };
    let entities = result.people.iter().map(|p| person(p, EntityType::Actor));
    let entities = entities.chain(result.unknown.iter().map(|p| person(p, EntityType::Unknown))).collect();
    ResultItems { pk, processed_at, movie: movie_item, entities }
}

/// A typed item as DynamoDB attributes.
pub fn to_item<T: serde::Serialize>(item: &T) -> Result<Item> {
    serde_dynamo::to_item(item).map_err(|e| Error::Inference(format!("cannot encode a table item: {e}")))
}

impl Aws {
    /// Writes a result's items so that reruns converge: each put only replaces an item from
    /// the same or an earlier submission, entities a rerun no longer finds are removed, and
    /// the movie item comes last, so a reader who finds it finds its people too.
    pub fn write_items(&self, table: &str, items: ResultItems) -> Result<()> {
        let ResultItems { pk, processed_at, movie, entities } = items;
        let (pk, processed_at) = (AttributeValue::S(pk), AttributeValue::S(processed_at));
        let keep: Vec<AttributeValue> = entities.iter().map(|i| AttributeValue::S(i.sk.clone())).collect();
        for item in &entities {
            self.put_if_not_newer(table, to_item(item)?, &processed_at)?;
        }
        let stale = self.block_on(
            self.dynamodb
                .query()
                .table_name(table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", pk.clone())
                .send(),
        );
        let stale = stale.map_err(|e| table_error(table, &e))?;
        for item in stale.items() {
            let Some(sk) = item.get("sk").filter(|sk| !keep.contains(sk) && **sk != AttributeValue::S(MOVIE_SK.into()))
            else {
                continue;
            };
            let deleted = self.block_on(
                self.dynamodb
                    .delete_item()
                    .table_name(table)
                    .key("pk", pk.clone())
                    .key("sk", sk.clone())
                    .condition_expression("processedAt <= :at")
                    .expression_attribute_values(":at", processed_at.clone())
                    .send(),
            );
            match deleted {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(table_error(table, &e)),
            }
        }
        self.put_movie(table, movie)
    }

    /// Puts the movie item one version past the one it replaces, unless a later submission
    /// wrote it: a curation worker that read the older version then cannot overwrite this
    /// analysis's items (its transaction is conditioned on that version).
    fn put_movie(&self, table: &str, mut movie: MovieItem) -> Result<()> {
        for _ in 0..MAX_RACES {
            let current = self.movie_partition(table, &movie.pk)?.0;
            if current.as_ref().is_some_and(|c| c.processed_at > movie.processed_at) {
                return Ok(());
            }
            movie.version = current.as_ref().map_or(1, |c| c.version + 1);
            let condition = match current {
                Some(_) => "processedAt <= :at AND (attribute_not_exists(#version) OR #version = :read)",
                None => "attribute_not_exists(pk)",
            };
            let mut put = self
                .dynamodb
                .put_item()
                .table_name(table)
                .set_item(Some(to_item(&movie)?))
                .condition_expression(condition);
            if let Some(current) = &current {
                put = put
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":at", AttributeValue::S(movie.processed_at.clone()))
                    .expression_attribute_values(":read", AttributeValue::N(current.version.to_string()));
            }
            match self.block_on(put.send()) {
                Ok(_) => return Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => continue,
                Err(e) => return Err(table_error(table, &e)),
            }
        }
        Err(Error::Inference(format!("the movie item {} kept changing while it was written", movie.pk)))
    }

    /// A movie's item and its people's, read consistently.
    pub fn movie_partition(&self, table: &str, pk: &str) -> Result<(Option<MovieItem>, Vec<EntityItem>)> {
        let pages = self
            .dynamodb
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>();
        let (mut movie, mut people) = (None, Vec::new());
        for item in self.block_on(pages) {
            let item = item.map_err(|e| table_error(table, &e))?;
            let decode = |e: serde_dynamo::Error| Error::Inference(format!("an item of {pk} does not decode: {e}"));
            if item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == MOVIE_SK) {
                movie = Some(serde_dynamo::from_item(item).map_err(decode)?);
            } else {
                people.push(serde_dynamo::from_item(item).map_err(decode)?);
            }
        }
        Ok((movie, people))
    }

    /// Rewrites a curated result's items in one transaction: the people it no longer has
    /// are deleted and the changed ones put, each only while it is still of the analysis
    /// `read` was written by (the merge's `processedAt` condition), and the movie item moves
    /// to the next version only while it is still at `read`'s. `false` when a merge or
    /// another writer got there first: read again and retry.
    pub fn rewrite_items(
        &self,
        table: &str,
        read: &MovieItem,
        current: &[EntityItem],
        items: ResultItems,
        curation_version: u64,
    ) -> Result<bool> {
        let at = AttributeValue::S(read.processed_at.clone());
        let key = |sk: &str| {
            HashMap::from([
                ("pk".to_string(), AttributeValue::S(read.pk.clone())),
                ("sk".into(), AttributeValue::S(sk.into())),
            ])
        };
        let mut writes = Vec::new();
        for gone in current.iter().filter(|c| !items.entities.iter().any(|e| e.sk == c.sk)) {
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key(&gone.sk)))
                .condition_expression("processedAt = :at")
                .expression_attribute_values(":at", at.clone())
                .build()
                .map_err(|e| Error::Inference(e.to_string()))?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        for entity in items.entities.iter().filter(|e| !current.contains(e)) {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_item(entity)?))
                .condition_expression("attribute_not_exists(pk) OR processedAt = :at")
                .expression_attribute_values(":at", at.clone())
                .build()
                .map_err(|e| Error::Inference(e.to_string()))?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let movie = Update::builder()
            .table_name(table)
            .set_key(Some(key(MOVIE_SK)))
            .update_expression("SET #version = :next, curationVersion = :curation, actorsFound = :actors")
            .condition_expression("processedAt = :at AND #version = :read")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":at", at)
            .expression_attribute_values(":read", AttributeValue::N(read.version.to_string()))
            .expression_attribute_values(":next", AttributeValue::N((read.version + 1).to_string()))
            .expression_attribute_values(":curation", AttributeValue::N(curation_version.to_string()))
            .expression_attribute_values(":actors", AttributeValue::N(items.movie.actors_found.to_string()))
            .build()
            .map_err(|e| Error::Inference(e.to_string()))?;
        writes.push(TransactWriteItem::builder().update(movie).build());
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(Error::Inference(format!(
                "a correction of {} changes {} items, more than one transaction holds ({MAX_TRANSACTION_ITEMS})",
                read.pk,
                writes.len()
            )));
        }
        let written = self.block_on(self.dynamodb.transact_write_items().set_transact_items(Some(writes)).send());
        match written {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Ok(false),
            Err(e) => Err(table_error(table, &e)),
        }
    }

    fn put_if_not_newer(&self, table: &str, item: Item, processed_at: &AttributeValue) -> Result<()> {
        let put = self.block_on(
            self.dynamodb
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR processedAt <= :at")
                .expression_attribute_values(":at", processed_at.clone())
                .send(),
        );
        match put {
            Ok(_) => Ok(()),
            // A later submission already wrote this item: it wins.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(table_error(table, &e)),
        }
    }

    /// Creates the table as the definition says (tests and local stacks; Terraform in AWS).
    pub fn create_table(&self, definition: &TableDefinition, name: &str) -> Result<()> {
        let attribute = |(name, kind): (&String, &String)| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| Error::Config(e.to_string()))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| Error::Config(e.to_string()))
        };
        let mut indexes = Vec::new();
        for index in &definition.global_secondary_indexes {
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.name)
                    .key_schema(key(&index.partition_key, KeyType::Hash)?)
                    .key_schema(key(&index.sort_key, KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(|e| Error::Config(e.to_string()))?,
            );
        }
        let mut request = self
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(&definition.partition_key, KeyType::Hash)?)
            .key_schema(key(&definition.sort_key, KeyType::Range)?)
            .set_global_secondary_indexes(Some(indexes));
        for definition in &definition.attributes {
            request = request.attribute_definitions(attribute(definition)?);
        }
        self.block_on(request.send()).map(|_| ()).map_err(|e| table_error(name, &e))
    }
}

fn table_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    table: &str,
    error: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> Error {
    sdk_error(format!("DynamoDB table {table}"), error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results};
    use crate::results::Movie;
    use cameo_model::table::movie_id;

    fn result() -> ResultsDocument {
        let mut result =
            results(vec![person("Ingrid Bergman", &[(1.0, 31.0)])], vec![person("unknown-1", &[(2.0, 6.0)])]);
        result.movie = Some(Movie {
            title: Some("Casablanca".into()),
            genre: Some("Drama".into()),
            director: None,
            year: Some(1942),
        });
        result
    }

    #[test]
    fn a_result_becomes_a_movie_item_and_one_item_per_person_with_stable_keys() {
        let provenance = Provenance {
            source: "s3://raw/v/film.mp4",
            job: "media/casablanca",
            result_uri: "s3://processed/results/media/casablanca/result.json",
            processed_at: "2026-11-28T10:00:00Z".parse().unwrap(),
            finished_at: "2026-11-28T10:07:00Z".parse().unwrap(),
        };
        let ResultItems { movie, entities, .. } = items(&result(), &provenance);
        let movie = to_item(&movie).unwrap();
        let entities: Vec<Item> = entities.iter().map(|e| to_item(e).unwrap()).collect();
        let text = |item: &Item, key: &str| item.get(key).and_then(|v| v.as_s().ok()).cloned();
        assert_eq!(text(&movie, "sk").as_deref(), Some("MOVIE"));
        assert_eq!(text(&movie, "entityType").as_deref(), Some("MOVIE"));
        assert_eq!(text(&movie, "genre").as_deref(), Some("Drama"));
        assert_eq!(text(&movie, "processedDay").as_deref(), Some("2026-11-28"));
        assert_eq!(movie.get("year").and_then(|v| v.as_n().ok()).map(String::as_str), Some("1942"));
        assert!(!movie.contains_key("director"), "sparse: no director, no index entry");
        assert_eq!(entities.len(), 2);
        assert_eq!(text(&entities[0], "sk").as_deref(), Some("ACTOR#Ingrid Bergman"));
        assert_eq!(text(&entities[0], "actorName").as_deref(), Some("Ingrid Bergman"));
        assert_eq!(entities[0].get("screenTimeSeconds").and_then(|v| v.as_n().ok()).map(String::as_str), Some("30"));
        assert_eq!(text(&entities[1], "entityType").as_deref(), Some("UNKNOWN"));
        assert!(!entities[1].contains_key("actorName"));
        assert_eq!(text(&movie, "pk"), Some(format!("MOVIE#{}", movie_id(provenance.source))));

        // A rerun whose numbers differ still writes the same keys: it replaces, never adds.
        let mut rerun = result();
        rerun.people[0].screen_time_seconds += 4.0;
        rerun.video.duration_seconds += 1.0;
        let again = items(&rerun, &provenance);
        let keys = |item: &Item| (text(item, "pk"), text(item, "sk"));
        assert_eq!(keys(&to_item(&again.movie).unwrap()), keys(&movie));
        let again: Vec<_> = again.entities.iter().map(|e| keys(&to_item(e).unwrap())).collect();
        assert_eq!(again, entities.iter().map(keys).collect::<Vec<_>>());
    }
}
