//! Paging through an index: a page size and an opaque next-page token. The token is the
//! last key DynamoDB evaluated, so a page starts exactly after the previous one: nothing
//! is skipped or repeated. It also names the query it belongs to, and must hold exactly
//! that query's key attributes, so a token is refused on any other query.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: i32 = 25;
pub const MAX_PAGE_SIZE: i32 = 100;

pub type Key = HashMap<String, AttributeValue>;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub size: i32,
    pub start: Option<Key>,
}

/// A page of results and the token of the next, if there may be one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A page of a list held whole: where it starts and how long it is (its token is the
/// offset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OffsetPage {
    pub start: usize,
    pub size: usize,
}

impl OffsetPage {
    pub fn parse(limit: Option<&str>, next: Option<&str>) -> ApiResult<Self> {
        let size = match limit {
            None => DEFAULT_PAGE_SIZE as usize,
            Some(text) => text.parse().ok().filter(|n| (1..=MAX_PAGE_SIZE as usize).contains(n)).ok_or_else(|| {
                ApiError::invalid("invalid_limit", format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}"))
            })?,
        };
        let start = match next {
            None => 0,
            Some(token) => token
                .parse()
                .map_err(|_| ApiError::invalid("invalid_next", "next must be a token this route answered"))?,
        };
        Ok(OffsetPage { start, size })
    }

    /// This page of `all`, with the next page's token.
    pub fn of<T>(self, all: Vec<T>) -> (Vec<T>, Option<String>) {
        let OffsetPage { start, size } = self;
        let next = (start + size < all.len()).then(|| (start + size).to_string());
        (all.into_iter().skip(start).take(size).collect(), next)
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// The query the token continues.
    q: String,
    /// The last evaluated key; every key attribute of the table and its indexes is a string.
    k: BTreeMap<String, String>,
}

/// A query a token can continue: its name, and the key attributes of its index's items
/// (the table's and the index's keys), the index's partition key with its value.
pub struct Scope<'a> {
    pub query: String,
    pub keys: [&'a str; 4],
    pub partition: (&'a str, &'a str),
}

/// The page asked for by `limit` and `next` on the query `scope`.
pub fn page(limit: Option<&str>, next: Option<&str>, scope: &Scope) -> ApiResult<Page> {
    let size = match limit {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text.parse().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
            ApiError::invalid("invalid_limit", format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}"))
        })?,
    };
    let start = next.map(|token| decode(token, scope)).transpose()?;
    Ok(Page { size, start })
}

fn decode(token: &str, scope: &Scope) -> ApiResult<Key> {
    let invalid =
        || ApiError::invalid("invalid_page_token", "next is not a token this query answered: start over without it");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let same_keys = token.k.len() == scope.keys.len() && scope.keys.iter().all(|k| token.k.contains_key(*k));
    let (partition, value) = scope.partition;
    if token.q != scope.query || !same_keys || token.k.get(partition).map(String::as_str) != Some(value) {
        return Err(invalid());
    }
    Ok(token.k.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}

/// The token that continues after `last` (DynamoDB's LastEvaluatedKey), if any.
pub fn next_token(last: Option<&Key>, scope: &Scope) -> Option<String> {
    let k = last?.iter().map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone()))).collect::<Option<_>>()?;
    let json = serde_json::to_vec(&Token { q: scope.query.clone(), k }).ok()?;
    Some(URL_SAFE_NO_PAD.encode(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_follow_each_other_to_the_end_and_bad_tokens_are_refused() {
        let all: Vec<u32> = (0..5).collect();
        let first = OffsetPage::parse(Some("2"), None).unwrap().of(all.clone());
        assert_eq!((first.0, first.1.as_deref()), (vec![0, 1], Some("2")));
        assert_eq!(OffsetPage::parse(Some("3"), Some("2")).unwrap().of(all), (vec![2, 3, 4], None));
        assert!(OffsetPage::parse(Some("0"), None).is_err());
        assert!(OffsetPage::parse(Some("101"), None).is_err());
        assert!(OffsetPage::parse(None, Some("x")).is_err());
    }

    fn genre(value: &str) -> Scope<'_> {
        Scope {
            query: format!("byGenre={value}"),
            keys: ["pk", "sk", "genre", "processedAt"],
            partition: ("genre", value),
        }
    }

    fn key(pairs: &[(&str, &str)]) -> Key {
        pairs.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect()
    }

    #[test]
    fn a_token_continues_its_own_query_only() {
        let last =
            key(&[("pk", "MOVIE#1"), ("sk", "MOVIE"), ("genre", "Drama"), ("processedAt", "2026-12-01T10:00:00Z")]);
        let token = next_token(Some(&last), &genre("Drama")).unwrap();
        assert_eq!(
            page(Some("7"), Some(&token), &genre("Drama")).unwrap(),
            Page { size: 7, start: Some(last.clone()) }
        );
        let mut other_partition = last.clone();
        other_partition.insert("genre".into(), AttributeValue::S("Comedy".into()));
        let mut missing_key = last.clone();
        missing_key.remove("sk");
        let forged =
            [next_token(Some(&other_partition), &genre("Drama")), next_token(Some(&missing_key), &genre("Drama"))];
        let forged: Vec<String> = forged.into_iter().map(Option::unwrap).collect();
        for (token, scope) in [
            (token.as_str(), genre("Comedy")),
            (&forged[0], genre("Drama")),
            (&forged[1], genre("Drama")),
            ("not-base64!", genre("Drama")),
            ("e30", genre("Drama")),
        ] {
            assert_eq!(page(None, Some(token), &scope).unwrap_err().code(), "invalid_page_token", "{token}");
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page(None, None, &genre("Drama")).unwrap().size, DEFAULT_PAGE_SIZE);
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(page(Some(bad), None, &genre("Drama")).unwrap_err().code(), "invalid_limit", "{bad}");
        }
    }
}
