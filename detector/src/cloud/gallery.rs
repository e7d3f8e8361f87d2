//! The gallery a shard enrols: the registry's manifest ([`cameo_model::people`]) as it was
//! when the VideoJob was created, so that every shard of a video and its merge see one
//! gallery however the registry changes meanwhile; or, where there is no manifest yet, a
//! gallery folder filled by hand (`<gallery>/<Person Name>/*.jpg`).
//!
//! The bucket is versioned: the pinned version is the newest one written in a whole
//! second before the second of the job's creation (S3 and Kubernetes both keep whole
//! seconds), so a manifest written in the very second the job was created is left to the
//! next job, the same way by every shard whenever it starts.
//!
//! With the manifest come each person's rejected examples (faces people said are not
//! them): a face nearer one of those than to the person's photos is not named after them.

use cameo_model::people::{GalleryManifest, ManifestRejected, manifest_key};
use cameo_model::templates::TemplatesDocument;
use jiff::Timestamp;

use super::aws::{Aws, sdk_error};
use super::s3::{S3Cache, S3Uri};
use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::gallery::{Gallery, GalleryPhoto, content_hash, enroll};
use crate::models::Models;
use crate::results::SkippedPhoto;

/// One version of the manifest object as listed, in S3's order: newest first, so that of
/// two versions written in one second the first listed is the later.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestVersion {
    pub version_id: String,
    pub last_modified: Timestamp,
    /// A delete marker: the manifest did not exist from then on.
    pub deleted: bool,
}

/// The version current when a job was created at `created`, if any (see the module).
pub fn pinned(versions: &[ManifestVersion], created: Timestamp) -> Option<&ManifestVersion> {
    let second = created.as_second();
    versions
        .iter()
        .enumerate()
        .filter(|(_, v)| v.last_modified.as_second() < second)
        .max_by_key(|(listed, v)| (v.last_modified.as_second(), std::cmp::Reverse(*listed)))
        .map(|(_, v)| v)
        .filter(|v| !v.deleted)
}

impl Aws {
    /// The manifest of the gallery at `gallery` as of a job created at `created`, with
    /// its version id; `None` when there was none.
    pub fn manifest_as_of(&self, gallery: &S3Uri, created: Timestamp) -> Result<Option<(String, GalleryManifest)>> {
        let key = manifest_key(&gallery_prefix(gallery));
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let request = self
                .s3
                .list_object_versions()
                .bucket(&gallery.bucket)
                .prefix(&key)
                .set_key_marker(key_marker)
                .set_version_id_marker(version_marker);
            let page = self
                .block_on(request.send())
                .map_err(|e| sdk_error(format!("cannot list the versions of s3://{}/{key}", gallery.bucket), &e))?;
            let listed = page.versions().iter().map(|v| (v.key(), v.version_id(), v.last_modified(), false));
            let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id(), m.last_modified(), true));
            for (listed_key, id, modified, deleted) in listed.chain(markers) {
                let (Some(id), Some(modified)) = (id, modified) else { continue };
                if listed_key != Some(key.as_str()) {
                    continue;
                }
                let last_modified =
                    Timestamp::from_second(modified.secs()).map_err(|e| Error::Config(e.to_string()))?;
                versions.push(ManifestVersion { version_id: id.into(), last_modified, deleted });
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            (key_marker, version_marker) = (page.next_key_marker, page.next_version_id_marker);
        }
        let Some(version) = pinned(&versions, created) else { return Ok(None) };
        let request = self.s3.get_object().bucket(&gallery.bucket).key(&key).version_id(&version.version_id);
        let uri = format!("s3://{}/{key}?versionId={}", gallery.bucket, version.version_id);
        let object = self.block_on(request.send()).map_err(|e| sdk_error(format!("cannot read {uri}"), &e))?;
        let bytes = self
            .block_on(object.body.collect())
            .map_err(|e| Error::io(format!("cannot read {uri}"), std::io::Error::other(e.to_string())))?
            .into_bytes();
        let manifest = serde_json::from_slice(&bytes).map_err(|e| Error::bad_gallery(&uri, e))?;
        Ok(Some((version.version_id.clone(), manifest)))
    }
}

impl Aws {
    /// The embeddings of a person's rejected examples, if they are the bytes the manifest
    /// (or the registry) lists and were made by the recogniser whose sha256 is `recognizer`.
    pub(super) fn rejected_examples(
        &self,
        listed: &ManifestRejected,
        recognizer: &str,
    ) -> std::result::Result<Vec<Embedding>, String> {
        let uri = S3Uri::parse(&listed.uri).ok_or("not an s3:// URI")?;
        let bytes = self.get(&uri).map_err(|e| e.to_string())?.ok_or("it is gone")?;
        if content_hash(&bytes) != listed.sha256 {
            return Err("it changed since the manifest listed it".into());
        }
        let document: TemplatesDocument = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if document.recognizer.sha256 != recognizer {
            return Err(format!("made by another recogniser ({})", document.recognizer.name));
        }
        Ok(document.groups.into_iter().flat_map(|g| g.embeddings).map(|e| Embedding(e.embedding)).collect())
    }
}

/// The gallery's key prefix: empty or ending in `/`.
pub fn gallery_prefix(gallery: &S3Uri) -> String {
    match gallery.key.trim_matches('/') {
        "" => String::new(),
        prefix => format!("{prefix}/"),
    }
}

/// Enrols the gallery for a job created at `created` (`None`: no pin, the folder as it is).
pub fn enrol(
    gallery: &S3Uri,
    created: Option<Timestamp>,
    cache: S3Uri,
    aws: &Aws,
    models: &mut Models,
) -> Result<Gallery> {
    let mut cache = S3Cache { aws, prefix: cache };
    let pinned = match created {
        Some(created) => aws.manifest_as_of(gallery, created)?,
        None => None,
    };
    let Some((version, manifest)) = pinned else {
        let listing = aws.gallery(gallery)?;
        let read = listing.photos.iter().map(|(person, uri)| aws.gallery_photo(person, uri));
        return enroll(read, listing.skipped, models, &mut cache, || {});
    };
    let photos = manifest.people.iter().flat_map(|person| {
        person.photos.iter().map(move |photo| {
            let uri = S3Uri::new(&gallery.bucket, photo.key.clone());
            let read = aws.gallery_photo(&person.name, &uri)?;
            // Other bytes than those the checker saw are not used: they are checked first.
            let changed = read.bytes.as_ref().is_ok_and(|bytes| content_hash(bytes) != photo.sha256);
            Ok(match changed {
                true => GalleryPhoto { bytes: Err("the photo changed since it was checked".into()), ..read },
                false => read,
            })
        })
    });
    let mut enrolled = enroll(photos, Vec::<SkippedPhoto>::new(), models, &mut cache, || {})?;
    let recognizer = models.fp32_recognizer_info().unwrap_or_else(|| models.recognizer_info());
    for listed in &manifest.people {
        let Some(person) = enrolled.people.iter_mut().find(|p| p.name == listed.name) else { continue };
        for rejected in &listed.rejected {
            match aws.rejected_examples(rejected, &recognizer.sha256) {
                Ok(examples) => person.rejected.extend(examples),
                Err(reason) => {
                    tracing::warn!(uri = rejected.uri, "rejected examples skipped: {reason}");
                    enrolled.skipped.push(SkippedPhoto { location: rejected.uri.clone(), reason });
                }
            }
        }
    }
    enrolled.manifest_version = Some(version);
    enrolled.person_ids = manifest.people.iter().map(|p| (p.name.clone(), p.id.clone())).collect();
    Ok(enrolled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: &str, at: &str, deleted: bool) -> ManifestVersion {
        ManifestVersion { version_id: id.into(), last_modified: at.parse().unwrap(), deleted }
    }

    #[test]
    fn the_pinned_version_is_the_newest_written_in_a_second_before_the_jobs() {
        let versions = [
            version("a", "2026-12-05T10:00:00Z", false),
            version("b", "2026-12-05T10:00:05Z", false),
            version("c", "2026-12-05T10:00:09Z", false),
        ];
        let at = |t: &str| t.parse::<Timestamp>().unwrap();
        assert_eq!(pinned(&versions, at("2026-12-05T10:00:09.900Z")).unwrap().version_id, "b", "same second: not yet");
        assert_eq!(pinned(&versions, at("2026-12-05T10:00:10Z")).unwrap().version_id, "c");
        assert_eq!(pinned(&versions, at("2026-12-05T10:00:00Z")), None, "nothing before");
        let one_second = [version("new", "2026-12-05T10:00:05Z", false), version("old", "2026-12-05T10:00:05Z", false)];
        assert_eq!(
            pinned(&one_second, at("2026-12-05T10:00:06Z")).unwrap().version_id,
            "new",
            "S3 lists the newest first"
        );
        let deleted = [version("a", "2026-12-05T10:00:00Z", false), version("d", "2026-12-05T10:00:03Z", true)];
        assert_eq!(pinned(&deleted, at("2026-12-05T10:00:04Z")), None, "deleted by then");
        assert_eq!(pinned(&deleted, at("2026-12-05T10:00:02Z")).unwrap().version_id, "a");
    }

    #[test]
    fn the_gallery_prefix_is_empty_or_ends_in_a_slash() {
        assert_eq!(gallery_prefix(&S3Uri::new("raw", "gallery")), "gallery/");
        assert_eq!(gallery_prefix(&S3Uri::new("raw", "gallery/")), "gallery/");
        assert_eq!(gallery_prefix(&S3Uri::new("raw", "")), "");
    }
}
