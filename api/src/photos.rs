//! `/people/{personId}/photos`: a person's gallery photos. A photo is added by a presigned
//! PUT to a key the API mints (its type and length signed), and counts only once the
//! gallery checker found it usable (one face, large and sharp enough). Photos are shown
//! through short-lived presigned GETs.

use std::collections::BTreeMap;

use cameo_model::people::{MAX_PHOTOS_PER_PERSON, PHOTO_TYPES, PhotoItem, PhotoSource, is_minted_id, photo_key};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::registry::{bump, check_version, delete, put};
use crate::upload::UploadInstructions;

/// The body of `POST /people/{personId}/photos`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhotoRequest {
    /// `image/jpeg` or `image/png`, signed into the upload.
    pub content_type: String,
    /// The exact size, signed into the upload.
    pub size_bytes: u64,
}

/// Where and how to upload a photo.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoUpload {
    pub person_id: String,
    pub photo_id: String,
    /// The person's version after the photo was added (their new `ETag`).
    pub version: u64,
    /// Always a single PUT.
    pub upload: UploadInstructions,
    pub expires_at: String,
}

/// The extension of an accepted photo type, or why it is refused.
pub fn check_photo(request: &PhotoRequest, max_bytes: u64) -> ApiResult<&'static str> {
    let extension = PHOTO_TYPES.iter().find(|(t, _)| *t == request.content_type).map(|(_, e)| *e).ok_or_else(|| {
        let types: Vec<&str> = PHOTO_TYPES.iter().map(|(t, _)| *t).collect();
        ApiError::invalid("invalid_content_type", format!("contentType must be one of {}", types.join(", ")))
    })?;
    if request.size_bytes == 0 {
        return Err(ApiError::invalid("invalid_size", "sizeBytes must be the photo's size in bytes, more than 0"));
    }
    if request.size_bytes > max_bytes {
        return Err(ApiError::TooLarge(format!(
            "the photo is {} bytes; at most {max_bytes} are accepted",
            request.size_bytes
        )));
    }
    Ok(extension)
}

impl App {
    pub async fn add_photo(
        &self,
        caller: &Caller,
        id: &str,
        version: u64,
        request: PhotoRequest,
    ) -> ApiResult<PhotoUpload> {
        let extension = check_photo(&request, self.config.max_photo_bytes)?;
        let person = self.load_person(id).await?;
        check_version(&person, version)?;
        let photos = self.load_photos(id).await?;
        if photos.len() >= MAX_PHOTOS_PER_PERSON {
            return Err(ApiError::Conflict(format!(
                "{} has {} photos, the most a person may have: delete one first",
                person.display_name,
                photos.len()
            )));
        }
        let photo_id = uuid::Uuid::new_v4().simple().to_string();
        let now = jiff::Timestamp::now();
        let key = photo_key(&self.config.gallery_prefix, id, &photo_id, extension);
        let photo = PhotoItem {
            content_type: Some(request.content_type.clone()),
            size_bytes: Some(request.size_bytes),
            ..PhotoItem::pending(id, &photo_id, key, PhotoSource::Upload, &caller.id, &now.to_string())
        };
        let table = &self.config.table;
        self.transact(vec![
            put(table, &photo, Some("attribute_not_exists(pk)"))?,
            bump(table, &person, version, None)?,
        ])
        .await?;
        let (bucket, content_type) = (&self.config.raw_bucket, &request.content_type);
        let upload = self.presign_put(bucket, &photo.key, content_type, request.size_bytes, BTreeMap::new()).await?;
        tracing::info!(person = id, photo = %photo_id, by = %caller.id, "photo upload minted");
        Ok(PhotoUpload {
            person_id: id.into(),
            photo_id,
            version: version + 1,
            upload,
            expires_at: (now + self.config.upload_url_ttl()).to_string(),
        })
    }

    /// Erases a photo (every version) and its item; the checker drops its cached embedding.
    pub async fn delete_photo(&self, caller: &Caller, id: &str, photo_id: &str, version: u64) -> ApiResult<u64> {
        if !is_minted_id(photo_id) {
            return Err(ApiError::NotFound(format!("no photo {photo_id:?}")));
        }
        let person = self.load_person(id).await?;
        check_version(&person, version)?;
        let photos = self.load_photos(id).await?;
        let photo = photos
            .into_iter()
            .find(|p| p.photo_id == photo_id)
            .ok_or_else(|| ApiError::NotFound(format!("person {id} has no photo {photo_id}")))?;
        self.erase_object(&self.config.raw_bucket, &photo.key).await?;
        let table = &self.config.table;
        self.transact(vec![delete(table, person.pk.clone(), &photo.sk)?, bump(table, &person, version, None)?]).await?;
        tracing::info!(person = id, photo = photo_id, by = %caller.id, "photo erased");
        self.registry_changed(photo.sha256.into_iter().collect()).await;
        Ok(version + 1)
    }

    /// A short-lived URL to see a gallery photo.
    pub async fn photo_url(&self, key: &str) -> ApiResult<String> {
        self.presigned_get(&self.config.raw_bucket, key, "a photo").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_of_a_bounded_size_are_accepted() {
        let request = |content_type: &str, size_bytes| PhotoRequest { content_type: content_type.into(), size_bytes };
        assert_eq!(check_photo(&request("image/jpeg", 1000), 2000).unwrap(), "jpg");
        assert_eq!(check_photo(&request("image/png", 2000), 2000).unwrap(), "png");
        for (bad, code) in [
            (request("image/svg+xml", 10), "invalid_content_type"),
            (request("text/html", 10), "invalid_content_type"),
            (request("image/jpeg; charset=x", 10), "invalid_content_type"),
            (request("image/jpeg", 0), "invalid_size"),
            (request("image/jpeg", 2001), "too_large"),
        ] {
            assert_eq!(check_photo(&bad, 2000).unwrap_err().code(), code, "{bad:?}");
        }
    }
}
