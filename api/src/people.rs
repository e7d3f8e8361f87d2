//! `/people`: the registry of known people. A person has a minted id and a display name
//! (unique however it is cased; renaming to a name someone holds merges the two, as Azure
//! Video Indexer and PhotoPrism do), photos ([`crate::photos`]) and the videos that name
//! them. Every write names the version it read (`If-Match`).

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use cameo_model::curation::ledger::PERSON_ACTION_SK_PREFIX;
use cameo_model::people::{
    MAX_PHOTOS_PER_PERSON, MERGED_SK, PersonItem, PersonName, PhotoItem, PhotoSource, PhotoStatus, REJECTED_SK_PREFIX,
    RejectedItem, is_minted_id, photo_sk,
};
use cameo_model::table::EntityType;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::aws::key_in;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::pages::Listing;
use crate::queries::{ActorVideo, IndexQuery, PageQuery};
use crate::registry::{SortKeys, bump, check_version, claim_name, delete, guarded_delete, put, release_name};

/// The body of `POST /people` and `PATCH /people/{personId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameRequest {
    pub name: String,
}

/// The body of `POST /people/{personId}/merge`: who joins the person of the path.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeRequest {
    pub person_id: String,
}

/// A person as listed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonSummary {
    pub person_id: String,
    pub name: String,
    pub version: u64,
    pub photos: PhotoCounts,
    /// A short-lived URL of their first usable photo.
    pub thumbnail: Option<String>,
    /// Videos whose results name them.
    pub videos: u32,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoCounts {
    pub pending: u32,
    pub usable: u32,
    pub rejected: u32,
}

impl PhotoCounts {
    pub fn of(photos: &[PhotoItem]) -> PhotoCounts {
        let count = |status| photos.iter().filter(|p| p.status == status).count() as u32;
        PhotoCounts {
            pending: count(PhotoStatus::Pending),
            usable: count(PhotoStatus::Usable),
            rejected: count(PhotoStatus::Rejected),
        }
    }
}

/// A person with their photos and videos.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonDetail {
    pub person_id: String,
    pub name: String,
    pub version: u64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub photos: Vec<PhotoView>,
    /// The first page of the videos whose results name them (`GET /actors/{name}/videos`
    /// pages on).
    pub videos: Listing<ActorVideo>,
    /// When the photos' URLs stop working.
    pub urls_expire_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoView {
    pub photo_id: String,
    pub status: PhotoStatus,
    /// Why it cannot be used.
    pub reason: Option<String>,
    pub source: PhotoSource,
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
    pub added_by: String,
    pub added_at: String,
    pub checked_at: Option<String>,
    /// A short-lived URL of the photo.
    pub url: String,
}

/// A person id from a path: minted ids only.
pub fn check_person_id(id: &str) -> ApiResult<()> {
    if is_minted_id(id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no person {id:?}: person ids are the 32 hex digits POST /people answered")))
    }
}

pub(crate) fn parse_name(raw: &str) -> ApiResult<PersonName> {
    PersonName::parse(raw).map_err(|why| ApiError::invalid("invalid_name", why))
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl App {
    pub async fn create_person(&self, caller: &Caller, request: NameRequest) -> ApiResult<PersonDetail> {
        let name = parse_name(&request.name)?;
        if let Some(holder) = self.name_holder(&name.key).await? {
            return Err(name_taken(&name, &holder));
        }
        let person = PersonItem::new(&new_id(), &name, &caller.id, &jiff::Timestamp::now().to_string());
        let table = &self.config.table;
        let written = self
            .transact(vec![
                claim_name(table, &name.key, &person.person_id)?,
                put(table, &person, Some("attribute_not_exists(pk)"))?,
            ])
            .await;
        if written.is_err()
            && let Some(holder) = self.name_holder(&name.key).await?
        {
            return Err(name_taken(&name, &holder));
        }
        written?;
        tracing::info!(person = %person.person_id, by = %caller.id, "person created");
        self.person_detail(&person.person_id).await
    }

    pub async fn list_people(&self, query: PageQuery) -> ApiResult<Listing<PersonSummary>> {
        let index_query = IndexQuery {
            index: "byEntityType",
            value: EntityType::Person.as_str(),
            descending: false,
            sort_prefix: None,
        };
        let (people, next) =
            self.query_index::<PersonItem>(&index_query, query.limit.as_deref(), query.next.as_deref()).await?;
        let mut items = Vec::with_capacity(people.len());
        for person in people {
            let photos = self.load_photos(&person.person_id).await?;
            let first_usable = photos.iter().find(|p| p.status == PhotoStatus::Usable);
            let thumbnail = match first_usable {
                Some(photo) => Some(self.photo_url(&photo.key).await?),
                None => None,
            };
            items.push(PersonSummary {
                videos: self.count_videos(&person.display_name).await?,
                person_id: person.person_id,
                name: person.display_name,
                version: person.version,
                photos: PhotoCounts::of(&photos),
                thumbnail,
            });
        }
        Ok(Listing { items, next })
    }

    pub async fn person_detail(&self, id: &str) -> ApiResult<PersonDetail> {
        let person = self.load_person(id).await?;
        let mut photos = Vec::new();
        for photo in self.load_photos(id).await? {
            photos.push(PhotoView {
                url: self.photo_url(&photo.key).await?,
                photo_id: photo.photo_id,
                status: photo.status,
                reason: photo.reason,
                source: photo.source,
                content_type: photo.content_type,
                size_bytes: photo.size_bytes,
                added_by: photo.added_by,
                added_at: photo.added_at,
                checked_at: photo.checked_at,
            });
        }
        let videos = self.actor_videos(&person.display_name, PageQuery::default()).await?;
        Ok(PersonDetail {
            person_id: person.person_id,
            name: person.display_name,
            version: person.version,
            created_at: person.created_at,
            created_by: person.created_by,
            updated_at: person.updated_at,
            photos,
            videos,
            urls_expire_at: (jiff::Timestamp::now() + self.config.result_url_ttl()).to_string(),
        })
    }

    /// Renames a person; to a name someone else holds, merges them into that person, and
    /// answers the person they became.
    pub async fn rename_person(
        &self,
        caller: &Caller,
        id: &str,
        version: u64,
        request: NameRequest,
    ) -> ApiResult<PersonDetail> {
        let name = parse_name(&request.name)?;
        let person = self.load_person(id).await?;
        check_version(&person, version)?;
        let table = &self.config.table;
        let items = match self.name_holder(&name.key).await? {
            Some(holder) if holder != id => {
                let survivor = self.load_person(&holder).await?;
                self.merge(caller, &survivor, survivor.version, &person, version).await?;
                return self.person_detail(&holder).await;
            }
            Some(_) => vec![bump(table, &person, version, Some((&name.key, &name.display)))?],
            None => vec![
                release_name(table, &person.name, id)?,
                claim_name(table, &name.key, id)?,
                bump(table, &person, version, Some((&name.key, &name.display)))?,
            ],
        };
        self.transact(items).await?;
        tracing::info!(person = id, by = %caller.id, "person renamed");
        self.registry_changed(Vec::new()).await;
        self.person_detail(id).await
    }

    /// `POST /people/{personId}/merge`: `request.person_id` joins the person of the path.
    pub async fn merge_people(
        &self,
        caller: &Caller,
        id: &str,
        version: u64,
        request: MergeRequest,
    ) -> ApiResult<PersonDetail> {
        check_person_id(&request.person_id)?;
        if request.person_id == id {
            return Err(ApiError::invalid("invalid_merge", "a person cannot be merged into themselves"));
        }
        let survivor = self.load_person(id).await?;
        check_version(&survivor, version)?;
        let absorbed = self.load_person(&request.person_id).await?;
        self.merge(caller, &survivor, version, &absorbed, absorbed.version).await?;
        self.person_detail(id).await
    }

    /// Moves `absorbed`'s photos to `survivor` and leaves a note where `absorbed` was, in
    /// one transaction guarded by both versions.
    async fn merge(
        &self,
        caller: &Caller,
        survivor: &PersonItem,
        survivor_version: u64,
        absorbed: &PersonItem,
        absorbed_version: u64,
    ) -> ApiResult<()> {
        let photos = self.load_photos(&absorbed.person_id).await?;
        if photos.len() > MAX_PHOTOS_PER_PERSON {
            return Err(ApiError::Conflict(format!(
                "person {} has {} photos; delete some until at most {MAX_PHOTOS_PER_PERSON} remain, then merge",
                absorbed.person_id,
                photos.len()
            )));
        }
        let table = &self.config.table;
        let mut items = Vec::with_capacity(2 * photos.len() + 4);
        for photo in photos {
            let moved = PhotoItem { pk: survivor.pk.clone(), person_id: survivor.person_id.clone(), ..photo.clone() };
            items.push(put(table, &moved, Some("attribute_not_exists(pk)"))?);
            items.push(delete(table, absorbed.pk.clone(), &photo_sk(&photo.photo_id))?);
        }
        // Where the absorbed person was, a note of where they went.
        let note = serde_json::json!({"pk": absorbed.pk, "sk": MERGED_SK, "mergedInto": survivor.person_id});
        items.push(bump(table, survivor, survivor_version, None)?);
        items.push(guarded_delete(table, absorbed, absorbed_version)?);
        items.push(release_name(table, &absorbed.name, &absorbed.person_id)?);
        items.push(put(table, &note, None)?);
        self.transact(items).await?;
        tracing::info!(person = %absorbed.person_id, into = %survivor.person_id, by = %caller.id, "people merged");
        self.registry_changed(Vec::new()).await;
        Ok(())
    }

    /// Erases a person: their photos (every version), their items and their name; the
    /// gallery checker erases the photos' cached embeddings and rebuilds the manifest.
    pub async fn delete_person(&self, caller: &Caller, id: &str, version: u64) -> ApiResult<()> {
        let person = self.load_person(id).await?;
        check_version(&person, version)?;
        let photos = self.load_photos(id).await?;
        let table = &self.config.table;
        for photo in &photos {
            self.erase_object(&self.config.raw_bucket, &photo.key).await?;
        }
        for chunk in photos.chunks(90) {
            let deletes = chunk.iter().map(|p| delete(table, person.pk.clone(), &photo_sk(&p.photo_id)));
            self.transact(deletes.collect::<ApiResult<_>>()?).await?;
        }
        // Faces people said are not them (biometric), and the pointers to the corrections
        // that named them.
        let rejected = self.query_partition(&person.pk, SortKeys::BeginningWith(REJECTED_SK_PREFIX)).await?;
        let pointers = self.query_partition(&person.pk, SortKeys::BeginningWith(PERSON_ACTION_SK_PREFIX)).await?;
        let mut also = Vec::new();
        for item in rejected {
            let rejected: RejectedItem =
                serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding rejected examples", e))?;
            if let Some(key) = key_in(&rejected.uri, &self.config.processed_bucket) {
                self.erase_object(&self.config.processed_bucket, key).await?;
            }
            also.push(rejected.sk);
        }
        also.extend(pointers.iter().filter_map(|item| item.get("sk")?.as_s().ok().cloned()));
        for chunk in also.chunks(90) {
            let deletes = chunk.iter().map(|sk| delete(table, person.pk.clone(), sk));
            self.transact(deletes.collect::<ApiResult<_>>()?).await?;
        }
        self.transact(vec![guarded_delete(table, &person, version)?, release_name(table, &person.name, id)?]).await?;
        tracing::info!(person = id, photos = photos.len(), by = %caller.id, "person erased");
        self.registry_changed(photos.into_iter().filter_map(|p| p.sha256).collect()).await;
        Ok(())
    }

    /// How many videos' results name `name`.
    async fn count_videos(&self, name: &str) -> ApiResult<u32> {
        let mut count = 0;
        let mut start = None;
        loop {
            let answer = self
                .dynamodb
                .query()
                .table_name(&self.config.table)
                .index_name("byActor")
                .key_condition_expression("actorName = :name")
                .expression_attribute_values(":name", AttributeValue::S(name.into()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| ApiError::upstream("counting a person's videos", e))?;
            count += answer.count.max(0) as u32;
            start = answer.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }
}

fn name_taken(name: &PersonName, holder: &str) -> ApiError {
    ApiError::Conflict(format!(
        "{:?} is person {holder}'s name (names are unique however they are cased): add photos to them, or rename them",
        name.display
    ))
}
