//! The registry of people in the table, as the gallery checker and the curation worker
//! read and write it: the people, their photos and rejected examples (to build the
//! manifest), a photo's verdict, the people and photos an import adds, and the rejected
//! examples corrections record. The items and keys are `cameo-model`'s, shared with the API.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use cameo_model::people::{
    MERGED_SK, NAME_SK, NameItem, PERSON_SK, PHOTO_SK_PREFIX, PersonItem, PhotoItem, PhotoStatus, REJECTED_SK_PREFIX,
    RejectedItem, name_pk, person_pk, photo_sk,
};
use cameo_model::table::EntityType;

use super::aws::{Aws, sdk_error};
use super::table::{Item, to_item};
use crate::error::{Error, Result};

/// A person and how many merges to follow at most to find where their photos went.
const MAX_MERGES_FOLLOWED: usize = 16;

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(&pk)), ("sk".to_string(), s(sk))])
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Inference(format!("a registry item does not decode: {e}")))
}

/// A photo's verdict, as recorded.
pub struct Checked<'a> {
    pub status: PhotoStatus,
    pub reason: Option<&'a str>,
    pub sha256: &'a str,
    pub checked_at: jiff::Timestamp,
}

impl Aws {
    /// Every person of the registry.
    pub fn people(&self, table: &str) -> Result<Vec<PersonItem>> {
        let query = self
            .dynamodb
            .query()
            .table_name(table)
            .index_name("byEntityType")
            .key_condition_expression("entityType = :person")
            .expression_attribute_values(":person", s(EntityType::Person.as_str()));
        let items = self.block_on(query.into_paginator().items().send().collect::<Vec<_>>());
        items
            .into_iter()
            .map(|item| decode(item.map_err(|e| sdk_error("cannot list the registry's people", &e))?))
            .collect()
    }

    /// Every photo of a person.
    pub fn photos(&self, table: &str, person_id: &str) -> Result<Vec<PhotoItem>> {
        let query = self
            .dynamodb
            .query()
            .table_name(table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :photo)")
            .expression_attribute_values(":pk", s(&person_pk(person_id)))
            .expression_attribute_values(":photo", s(PHOTO_SK_PREFIX));
        let items = self.block_on(query.into_paginator().items().send().collect::<Vec<_>>());
        items
            .into_iter()
            .map(|item| decode(item.map_err(|e| sdk_error("cannot list a person's photos", &e))?))
            .collect()
    }

    /// A person's rejected examples (`rejected_of`: only those from one movie).
    pub fn rejected(&self, table: &str, person_id: &str, movie_id: Option<&str>) -> Result<Vec<RejectedItem>> {
        let prefix = match movie_id {
            Some(movie_id) => format!("{REJECTED_SK_PREFIX}{movie_id}#"),
            None => REJECTED_SK_PREFIX.to_string(),
        };
        let query = self
            .dynamodb
            .query()
            .table_name(table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :rejected)")
            .expression_attribute_values(":pk", s(&person_pk(person_id)))
            .expression_attribute_values(":rejected", s(&prefix));
        let items = self.block_on(query.into_paginator().items().send().collect::<Vec<_>>());
        items
            .into_iter()
            .map(|item| decode(item.map_err(|e| sdk_error("cannot list a person's rejected examples", &e))?))
            .collect()
    }

    /// An item, read consistently.
    pub(super) fn get_item(&self, table: &str, pk: String, sk: &str) -> Result<Option<Item>> {
        let get = self.dynamodb.get_item().table_name(table).set_key(Some(key(pk, sk))).consistent_read(true);
        Ok(self.block_on(get.send()).map_err(|e| sdk_error("cannot read the registry", &e))?.item)
    }

    /// A photo by the ids in its key, following the person's merges (a merged person's
    /// photos moved to who they became); `None` when it was erased.
    pub fn find_photo(&self, table: &str, person_id: &str, photo_id: &str) -> Result<Option<PhotoItem>> {
        let mut person = person_id.to_string();
        for _ in 0..MAX_MERGES_FOLLOWED {
            if let Some(item) = self.get_item(table, person_pk(&person), &photo_sk(photo_id))? {
                return decode(item).map(Some);
            }
            let note = self.get_item(table, person_pk(&person), MERGED_SK)?;
            match note.and_then(|n| n.get("mergedInto")?.as_s().ok().cloned()) {
                Some(into) => person = into,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Records a photo's verdict; false when the photo was erased meanwhile.
    pub fn record_verdict(&self, table: &str, photo: &PhotoItem, checked: &Checked) -> Result<bool> {
        let status = serde_dynamo::to_attribute_value(checked.status).map_err(|e| Error::Inference(e.to_string()))?;
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(table)
            .set_key(Some(key(photo.pk.clone(), &photo.sk)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", status)
            .expression_attribute_values(":sha", s(checked.sha256))
            .expression_attribute_values(":at", s(&checked.checked_at.to_string()));
        let mut expression = "SET #status = :status, sha256 = :sha, checkedAt = :at".to_string();
        match checked.reason {
            Some(reason) => {
                expression.push_str(", reason = :reason");
                update = update.expression_attribute_values(":reason", s(reason));
            }
            None => expression.push_str(" REMOVE reason"),
        }
        match self.block_on(update.update_expression(expression).send()) {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error("cannot record a photo's verdict", &e)),
        }
    }

    /// Who holds a name's key, if anyone.
    pub fn name_holder(&self, table: &str, name_key: &str) -> Result<Option<String>> {
        let item = self.get_item(table, name_pk(name_key), NAME_SK)?;
        Ok(item.and_then(|i| i.get("personId")?.as_s().ok().cloned()))
    }

    /// Adds a person with a name nobody holds; false when someone took it first.
    pub fn add_person(&self, table: &str, person: &PersonItem) -> Result<bool> {
        let claim = NameItem::new(&person.name, &person.person_id);
        let puts = [to_item(&claim)?, to_item(person)?].into_iter().map(|item| {
            let put =
                Put::builder().table_name(table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
            put.build().map(|put| TransactWriteItem::builder().put(put).build())
        });
        let items = puts.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| Error::Inference(e.to_string()))?;
        match self.block_on(self.dynamodb.transact_write_items().set_transact_items(Some(items)).send()) {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Ok(false),
            Err(e) => Err(sdk_error("cannot add a person", &e)),
        }
    }

    /// Adds a photo unless it is there already; true when it was added.
    pub fn add_photo(&self, table: &str, photo: &PhotoItem) -> Result<bool> {
        let put = self
            .dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(to_item(photo)?))
            .condition_expression("attribute_not_exists(pk)");
        match self.block_on(put.send()) {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error("cannot add a photo", &e)),
        }
    }

    /// Forgets a photo (its object is erased first).
    pub fn delete_photo(&self, table: &str, photo: &PhotoItem) -> Result<()> {
        let delete = self.dynamodb.delete_item().table_name(table).set_key(Some(key(photo.pk.clone(), &photo.sk)));
        self.block_on(delete.send()).map(|_| ()).map_err(|e| sdk_error("cannot forget a photo", &e))
    }

    /// Records rejected examples (their object is written first).
    pub fn put_rejected(&self, table: &str, rejected: &RejectedItem) -> Result<()> {
        let put = self.dynamodb.put_item().table_name(table).set_item(Some(to_item(rejected)?));
        self.block_on(put.send()).map(|_| ()).map_err(|e| sdk_error("cannot record rejected examples", &e))
    }

    /// Forgets rejected examples (their object is erased after).
    pub fn delete_rejected(&self, table: &str, rejected: &RejectedItem) -> Result<()> {
        let delete =
            self.dynamodb.delete_item().table_name(table).set_key(Some(key(rejected.pk.clone(), &rejected.sk)));
        self.block_on(delete.send()).map(|_| ()).map_err(|e| sdk_error("cannot forget rejected examples", &e))
    }

    /// Moves a person to their next version (their photos changed under them).
    pub fn bump_person(&self, table: &str, person_id: &str) -> Result<()> {
        let update = self
            .dynamodb
            .update_item()
            .table_name(table)
            .set_key(Some(key(person_pk(person_id), PERSON_SK)))
            .condition_expression("attribute_exists(pk)")
            .update_expression("ADD version :one SET updatedAt = :at")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":at", s(&jiff::Timestamp::now().to_string()));
        match self.block_on(update.send()) {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(sdk_error("cannot update a person", &e)),
        }
    }
}
