//! The registry of people in the table ([`cameo_model::people`]): reading a person, their
//! photos and who holds a name, and writing in one transaction guarded by the person's
//! version, so that two editors cannot overwrite each other. After every change the
//! gallery checker is told, so that the manifest follows.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use cameo_model::people::{
    MERGED_SK, NAME_SK, NameItem, PERSON_SK, PHOTO_SK_PREFIX, PersonItem, PhotoItem, RegistryChanged, name_pk,
    person_pk,
};
use serde::Serialize;

use crate::app::App;
use crate::error::{ApiError, ApiResult};

/// Which items of a partition a query reads, by their sort keys.
#[derive(Clone, Copy)]
pub(crate) enum SortKeys<'a> {
    BeginningWith(&'a str),
    Between(&'a str, &'a str),
}

/// A person's version as `If-Match` and `ETag` carry it: `"<version>"`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`).
pub fn if_match(header: Option<&str>) -> ApiResult<u64> {
    let header = header.ok_or(ApiError::PreconditionRequired)?;
    let value = header.trim().trim_start_matches("W/").trim_matches('"');
    value.parse().map_err(|_| {
        ApiError::invalid("invalid_if_match", "If-Match must be the ETag a person was answered with, such as \"3\"")
    })
}

/// Refuses a write based on an old read.
pub fn check_version(person: &PersonItem, expected: u64) -> ApiResult<()> {
    if person.version == expected { Ok(()) } else { Err(stale(person.version)) }
}

fn stale(current: u64) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "the person changed since you read them (now at version {current}): read them again and retry"
    ))
}

pub fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk)), ("sk".to_string(), AttributeValue::S(sk.into()))])
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A transaction's part that puts `item`, under `condition` if any.
pub fn put<T: Serialize>(table: &str, item: &T, condition: Option<&str>) -> ApiResult<TransactWriteItem> {
    let item = serde_dynamo::to_item(item).map_err(|e| ApiError::upstream("encoding an item", e))?;
    let put = Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition.map(Into::into));
    let put = put.build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction's part that puts `item` over the one at version `read` (0: none yet).
pub fn put_over<T: Serialize>(table: &str, item: &T, read: u64) -> ApiResult<TransactWriteItem> {
    if read == 0 {
        return put(table, item, Some("attribute_not_exists(pk)"));
    }
    let item = serde_dynamo::to_item(item).map_err(|e| ApiError::upstream("encoding an item", e))?;
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("version = :read")
        .expression_attribute_values(":read", n(read));
    let put = put.build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction's part that deletes an item.
pub fn delete(table: &str, pk: String, sk: &str) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder().table_name(table).set_key(Some(key(pk, sk)));
    let delete = delete.build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction's part that deletes a person, if they are still at `version`.
pub fn guarded_delete(table: &str, person: &PersonItem, version: u64) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key(person_pk(&person.person_id), PERSON_SK)))
        .condition_expression("version = :expected")
        .expression_attribute_values(":expected", n(version));
    let delete = delete.build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction's part that deletes a name claim, if it is still `person_id`'s.
pub fn release_name(table: &str, name_key: &str, person_id: &str) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key(name_pk(name_key), NAME_SK)))
        .condition_expression("personId = :id")
        .expression_attribute_values(":id", s(person_id));
    let delete = delete.build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction's part that claims a name for `person_id`, if nobody holds it.
pub fn claim_name(table: &str, name_key: &str, person_id: &str) -> ApiResult<TransactWriteItem> {
    put(table, &NameItem::new(name_key, person_id), Some("attribute_not_exists(pk)"))
}

/// A transaction's part that moves a person from `version` to the next, setting `names`
/// (the name's key and its display form) when given: the guard of every write to them.
pub fn bump(
    table: &str,
    person: &PersonItem,
    version: u64,
    names: Option<(&str, &str)>,
) -> ApiResult<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key(person_pk(&person.person_id), PERSON_SK)))
        .condition_expression("version = :expected")
        .expression_attribute_values(":expected", n(version))
        .expression_attribute_values(":next", n(version + 1))
        .expression_attribute_values(":now", s(&jiff::Timestamp::now().to_string()));
    let mut expression = "SET version = :next, updatedAt = :now".to_string();
    if let Some((name_key, display)) = names {
        expression.push_str(", #name = :key, displayName = :display");
        update = update
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":key", s(name_key))
            .expression_attribute_values(":display", s(display));
    }
    let update = update.update_expression(expression).build().map_err(|e| ApiError::upstream("building a write", e))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

impl App {
    /// The person `id`; a person merged into another is answered as such.
    pub async fn load_person(&self, id: &str) -> ApiResult<PersonItem> {
        // `MERGED` and `PERSON` sort together, before the photos: read those two only.
        let items = self.query_partition(&person_pk(id), SortKeys::Between(MERGED_SK, PERSON_SK)).await?;
        let find = |sk: &str| items.iter().find(|i| i.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|v| v == sk));
        if let Some(item) = find(PERSON_SK) {
            return serde_dynamo::from_item(item.clone()).map_err(|e| ApiError::upstream("decoding a person", e));
        }
        match find(MERGED_SK).and_then(|i| i.get("mergedInto")?.as_s().ok().cloned()) {
            Some(into) => Err(ApiError::NotFound(format!("person {id} was merged into person {into}"))),
            None => Err(ApiError::NotFound(format!("no person {id}"))),
        }
    }

    /// Every photo of a person.
    pub async fn load_photos(&self, id: &str) -> ApiResult<Vec<PhotoItem>> {
        let items = self.query_partition(&person_pk(id), SortKeys::BeginningWith(PHOTO_SK_PREFIX)).await?;
        items
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding a photo", e)))
            .collect()
    }

    /// Who holds a name's key, if anyone.
    pub async fn name_holder(&self, name_key: &str) -> ApiResult<Option<String>> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.config.table)
            .set_key(Some(key(name_pk(name_key), NAME_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::upstream("reading a name", e))?;
        Ok(answer.item.and_then(|i| i.get("personId")?.as_s().ok().cloned()))
    }

    /// The items of partition `pk` whose sort keys are `sort`.
    pub(crate) async fn query_partition(
        &self,
        pk: &str,
        sort: SortKeys<'_>,
    ) -> ApiResult<Vec<HashMap<String, AttributeValue>>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .dynamodb
                .query()
                .table_name(&self.config.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start);
            query = match sort {
                SortKeys::BeginningWith(prefix) => query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix)),
                SortKeys::Between(from, to) => query
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to)),
            };
            let page = query.send().await.map_err(|e| ApiError::upstream("reading the registry", e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Writes `items` at once; a failed condition means someone else wrote first.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> ApiResult<()> {
        let stale = ApiError::PreconditionFailed(
            "someone else changed these people meanwhile: read them again and retry".into(),
        );
        self.transact_or(items, stale).await
    }

    /// Writes `items` at once, or answers `stale` when a condition failed.
    pub async fn transact_or(&self, items: Vec<TransactWriteItem>, stale: ApiError) -> ApiResult<()> {
        let answer = self.dynamodb.transact_write_items().set_transact_items(Some(items)).send().await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Err(stale),
            Err(e) => Err(ApiError::upstream("writing the table", e)),
        }
    }

    /// Tells the gallery checker the registry changed. Best effort: the change is already
    /// durable, and the checker also rebuilds the manifest when it starts.
    pub async fn registry_changed(&self, erased_photos: Vec<String>) {
        let Some(queue) = &self.config.gallery_queue_url else { return };
        let message = RegistryChanged { rebuild: true, erased_photos };
        let body = serde_json::to_string(&message).unwrap_or_default();
        if let Err(e) = self.sqs.send_message().queue_url(queue).message_body(body).send().await {
            tracing::error!(error = ?e, "cannot tell the gallery checker the registry changed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_the_etag_in_any_of_its_forms() {
        for header in ["\"3\"", "W/\"3\"", "3", " \"3\" "] {
            assert_eq!(if_match(Some(header)).unwrap(), 3, "{header}");
        }
        assert_eq!(if_match(None).unwrap_err().code(), "precondition_required");
        assert_eq!(if_match(Some("*")).unwrap_err().code(), "invalid_if_match");
        assert_eq!(etag(7), "\"7\"");
    }
}
