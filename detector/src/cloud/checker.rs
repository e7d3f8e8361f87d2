//! The gallery checker: the one writer of the gallery manifest. It consumes the gallery
//! queue, where S3 says a photo arrived (a PUT the API presigned) and the API says the
//! registry changed. A photo is looked at with the detector's own photo rules (one face,
//! large and sharp enough; [`crate::photos`]), embedded in fp32 into the cache the shards
//! read, and its verdict (`usable`, or `rejected` with the reason) written to its item;
//! only then does the manifest list it. Erased photos' cached verdicts are erased.
//!
//! Galleries filled by hand (`<gallery>/<Person Name>/*.jpg`) are imported into the
//! registry: on first use (when there is no manifest yet) and on demand (`gallery-import`).
//! A message is deleted only once its effect (verdicts, the manifest) is written; one that
//! cannot be understood is left to the dead-letter queue.

use std::collections::BTreeMap;
use std::time::Duration;

use cameo_model::people::{
    GalleryManifest, PersonItem, PersonName, PhotoItem, PhotoSource, PhotoStatus, RegistryChanged, derived_id,
    manifest_key, parse_photo_key,
};
use cameo_model::s3_event::{Notice, parse};

use super::aws::Aws;
use super::gallery::gallery_prefix;
use super::registry::Checked;
use super::s3::{S3Cache, S3Uri};
use crate::error::{Error, Result};
use crate::gallery::{Verdict, cache_folder, content_hash, photo_verdict};
use crate::models::Models;

/// Who the registry says added what an import adds.
const IMPORTER: &str = "cameo:import";

/// Where the checker reads and writes.
pub struct GalleryChecker<'a> {
    pub aws: &'a Aws,
    pub table: String,
    /// `s3://<raw>/<gallery prefix>`.
    pub gallery: S3Uri,
    /// Where photo verdicts are cached (`s3://<processed>/cache/gallery/`), read by shards.
    pub cache: S3Uri,
    /// Photos larger than this are rejected unread.
    pub max_photo_bytes: u64,
}

/// What one message asked for.
#[derive(Debug, PartialEq)]
pub enum Work {
    /// S3's test event, or objects that are not gallery photos.
    Nothing,
    /// Photos to check, by key.
    Photos(Vec<String>),
    /// The registry changed; the verdicts about these photo contents must go.
    Registry(RegistryChanged),
}

/// A message's work, or why it cannot be understood.
pub fn work_of(body: &str, gallery_prefix: &str) -> std::result::Result<Work, String> {
    if let Ok(changed) = serde_json::from_str::<RegistryChanged>(body) {
        return Ok(Work::Registry(changed));
    }
    match parse(body).map_err(|e| e.to_string())? {
        Notice::Test => Ok(Work::Nothing),
        Notice::Created(objects) => {
            let keys: Vec<String> = objects
                .into_iter()
                .filter(|o| parse_photo_key(gallery_prefix, &o.key).is_some())
                .map(|o| o.key)
                .collect();
            Ok(if keys.is_empty() { Work::Nothing } else { Work::Photos(keys) })
        }
    }
}

/// What an import added.
#[derive(Debug, Default, PartialEq)]
pub struct Imported {
    pub people: usize,
    pub photos: usize,
}

impl GalleryChecker<'_> {
    fn prefix(&self) -> String {
        gallery_prefix(&self.gallery)
    }

    fn manifest(&self) -> S3Uri {
        S3Uri::new(&self.gallery.bucket, manifest_key(&self.prefix()))
    }

    /// Serves the queue: imports a gallery filled by hand on first use, writes the
    /// manifest, then handles messages as they come. With `once`, stops when the queue
    /// is empty.
    pub fn serve(&self, queue_url: &str, wait: Duration, once: bool, models: &mut Models) -> Result<()> {
        if self.aws.object_size(&self.manifest())?.is_none() {
            let imported = self.import(models)?;
            tracing::info!(people = imported.people, photos = imported.photos, "imported the gallery's folders");
        }
        self.rebuild_manifest()?;
        loop {
            let messages = self.aws.receive(queue_url, wait, "the gallery queue")?;
            if messages.is_empty() && once {
                return Ok(());
            }
            let mut done = Vec::new();
            for message in &messages {
                let body = message.body().unwrap_or_default();
                let outcome = work_of(body, &self.prefix())
                    .map_err(|why| {
                        Error::Inference(format!("not a gallery message ({why}); left for the dead letters"))
                    })
                    .and_then(|work| self.handle(work, models));
                match outcome {
                    Ok(()) => done.extend(message.receipt_handle().map(str::to_string)),
                    Err(e) => tracing::error!(message = message.message_id().unwrap_or_default(), "{e}"),
                }
            }
            if !done.is_empty() {
                // The verdicts are written; the manifest follows before the messages go.
                self.rebuild_manifest()?;
            }
            for receipt in done {
                self.aws.delete_message(queue_url, &receipt)?;
            }
        }
    }

    fn handle(&self, work: Work, models: &mut Models) -> Result<()> {
        match work {
            Work::Nothing => Ok(()),
            Work::Photos(keys) => keys.iter().try_for_each(|key| self.check_photo(key, models).map(|_| ())),
            Work::Registry(changed) => changed.erased_photos.iter().try_for_each(|hash| self.erase_verdicts(hash)),
        }
    }

    /// Checks an uploaded photo and records its verdict; `None` when its item is gone (the
    /// photo or its person was erased) or the object is not there (yet).
    pub fn check_photo(&self, key: &str, models: &mut Models) -> Result<Option<PhotoStatus>> {
        let Some((person_id, photo_id)) = parse_photo_key(&self.prefix(), key) else { return Ok(None) };
        let Some(photo) = self.aws.find_photo(&self.table, person_id, photo_id)? else {
            tracing::warn!(key, "a photo arrived for no photo of the registry: ignored");
            return Ok(None);
        };
        self.check(&photo, models)
    }

    /// Looks at a photo of the registry and records what was found.
    fn check(&self, photo: &PhotoItem, models: &mut Models) -> Result<Option<PhotoStatus>> {
        let uri = S3Uri::new(&self.gallery.bucket, photo.key.clone());
        let Some(size) = self.aws.object_size(&uri)? else { return Ok(None) };
        let (verdict, hash) = if size > self.max_photo_bytes {
            (Verdict::Skipped(format!("{size} bytes is over the limit of {}", self.max_photo_bytes)), String::new())
        } else {
            let Some(bytes) = self.aws.get(&uri)? else { return Ok(None) };
            let mut cache = S3Cache { aws: self.aws, prefix: self.cache.clone() };
            (photo_verdict(&uri.to_string(), &bytes, models, &mut cache)?, content_hash(&bytes))
        };
        let (status, reason) = match &verdict {
            Verdict::Usable(_) => (PhotoStatus::Usable, None),
            Verdict::Skipped(reason) => (PhotoStatus::Rejected, Some(reason.as_str())),
        };
        let checked = Checked { status, reason, sha256: &hash, checked_at: jiff::Timestamp::now() };
        let recorded = self.aws.record_verdict(&self.table, photo, &checked)?;
        tracing::info!(key = %photo.key, person = %photo.person_id, ?status, reason, "photo checked");
        Ok(recorded.then_some(status))
    }

    /// Erases every cached verdict about a photo's content, every version of it.
    pub fn erase_verdicts(&self, content_hash: &str) -> Result<()> {
        if content_hash.len() != 64 || !content_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Inference(format!("{content_hash:?} is not a photo's sha256")));
        }
        let folder = S3Uri::new(&self.cache.bucket, format!("{}{}", self.cache.key, cache_folder(content_hash)));
        let erased = self.aws.erase_versions(&folder)?;
        tracing::info!(photo = content_hash, erased, "cached verdicts erased");
        Ok(())
    }

    /// Writes the manifest of the registry as it is now, if it changed; true when written.
    pub fn rebuild_manifest(&self) -> Result<bool> {
        let people = self.aws.people(&self.table)?;
        let (mut photos, mut rejected) = (Vec::new(), Vec::new());
        for person in &people {
            photos.extend(self.aws.photos(&self.table, &person.person_id)?);
            rejected.extend(self.aws.rejected(&self.table, &person.person_id, None)?);
        }
        let manifest = GalleryManifest::of(&people, &photos, &rejected);
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Inference(e.to_string()))?;
        if self.aws.get(&self.manifest())?.as_deref() == Some(bytes.as_slice()) {
            return Ok(false);
        }
        self.aws.put(&self.manifest(), bytes, "application/json")?;
        tracing::info!(people = manifest.people.len(), "gallery manifest written");
        Ok(true)
    }

    /// Imports the gallery's hand-filled folders: each folder's name becomes a person (or
    /// is the person who holds that name already), each photo one of theirs, checked.
    /// Photos already imported are left as they are.
    pub fn import(&self, models: &mut Models) -> Result<Imported> {
        let listing = self.aws.gallery(&self.gallery)?;
        for skipped in &listing.skipped {
            tracing::warn!(photo = %skipped.location, "not imported: {}", skipped.reason);
        }
        let mut by_name: BTreeMap<&str, Vec<&S3Uri>> = BTreeMap::new();
        for (name, uri) in &listing.photos {
            by_name.entry(name.as_str()).or_default().push(uri);
        }
        let mut imported = Imported::default();
        let now = jiff::Timestamp::now().to_string();
        for (folder, uris) in by_name {
            let name = match PersonName::parse(folder) {
                Ok(name) => name,
                Err(why) => {
                    tracing::warn!(folder, "not imported: {why}");
                    continue;
                }
            };
            let person_id = match self.aws.name_holder(&self.table, &name.key)? {
                Some(holder) => holder,
                None => {
                    let id = derived_id(&format!("{}|{}", self.gallery, name.key));
                    if self.aws.add_person(&self.table, &PersonItem::new(&id, &name, IMPORTER, &now))? {
                        imported.people += 1;
                        id
                    } else {
                        // Someone took the name meanwhile: the photos are theirs.
                        self.aws.name_holder(&self.table, &name.key)?.unwrap_or(id)
                    }
                }
            };
            let mut added = false;
            for uri in uris {
                let photo_id = derived_id(&uri.to_string());
                let photo =
                    PhotoItem::pending(&person_id, &photo_id, uri.key.clone(), PhotoSource::Import, IMPORTER, &now);
                if self.aws.add_photo(&self.table, &photo)? {
                    self.check(&photo, models)?;
                    imported.photos += 1;
                    added = true;
                }
            }
            if added {
                self.aws.bump_person(&self.table, &person_id)?;
            }
        }
        Ok(imported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_a_registry_change_photos_to_check_or_nothing() {
        let (person, photo) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        let key = format!("gallery/.cameo/photos/{person}/{photo}.jpg");
        let created = |key: &str| {
            serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "raw"}, "object": {"key": key, "size": 9}}}]})
            .to_string()
        };
        assert_eq!(work_of(&created(&key), "gallery/"), Ok(Work::Photos(vec![key.clone()])));
        assert_eq!(work_of(&created("gallery/Ada/1.jpg"), "gallery/"), Ok(Work::Nothing));
        assert_eq!(work_of(r#"{"Event": "s3:TestEvent"}"#, "gallery/"), Ok(Work::Nothing));
        let changed = RegistryChanged { rebuild: true, erased_photos: vec!["ab".into()] };
        assert_eq!(work_of(&serde_json::to_string(&changed).unwrap(), "gallery/"), Ok(Work::Registry(changed)));
        assert!(work_of("{}", "gallery/").is_err());
        assert!(work_of("not json", "gallery/").is_err());
    }
}
