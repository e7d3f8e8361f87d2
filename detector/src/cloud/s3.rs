//! S3 locations and the few operations the job mode needs.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use super::aws::{Aws, sdk_error};
use crate::error::{Error, Result};
use crate::gallery::{GalleryPhoto, VerdictCache, is_photo, person_name};
use crate::results::SkippedPhoto;

/// How long a presigned URL for the video stays valid: a long shard must finish reading in it.
const VIDEO_URL_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    pub fn parse(uri: &str) -> Option<S3Uri> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        valid_bucket.then(|| S3Uri { bucket: bucket.into(), key: key.into() })
    }

    pub fn new(bucket: &str, key: impl Into<String>) -> Self {
        S3Uri { bucket: bucket.into(), key: key.into() }
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl Aws {
    /// The video's size, or a bad-input error naming the object when it is missing.
    pub fn video_size(&self, uri: &S3Uri) -> Result<u64> {
        self.object_size(uri)?.ok_or_else(|| Error::bad_video(uri, "the object does not exist"))
    }

    /// An object's size; `None` when it does not exist.
    pub fn object_size(&self, uri: &S3Uri) -> Result<Option<u64>> {
        let head = self.block_on(self.s3.head_object().bucket(&uri.bucket).key(&uri.key).send());
        match head {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(sdk_error(format!("cannot read {uri}"), &e)),
        }
    }

    /// An object's version and ETag, which change whenever it is written; `None` when it
    /// is not there.
    pub fn stamp(&self, uri: &S3Uri) -> Result<Option<String>> {
        let head = self.block_on(self.s3.head_object().bucket(&uri.bucket).key(&uri.key).send());
        match head {
            Ok(head) => {
                Ok(Some(format!("{}/{}", head.version_id().unwrap_or_default(), head.e_tag().unwrap_or_default())))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(sdk_error(format!("cannot read {uri}"), &e)),
        }
    }

    /// A presigned GET URL, so FFmpeg reads the video with ranged requests.
    pub fn presigned_get(&self, uri: &S3Uri) -> Result<String> {
        let config = PresigningConfig::expires_in(VIDEO_URL_VALIDITY).map_err(|e| Error::Config(e.to_string()))?;
        let request = self
            .block_on(self.s3.get_object().bucket(&uri.bucket).key(&uri.key).presigned(config))
            .map_err(|e| sdk_error(format!("cannot presign {uri}"), &e))?;
        Ok(request.uri().to_string())
    }

    /// An object's bytes; `None` when it does not exist.
    pub fn get(&self, uri: &S3Uri) -> Result<Option<Vec<u8>>> {
        let response = self.block_on(self.s3.get_object().bucket(&uri.bucket).key(&uri.key).send());
        match response {
            Ok(object) => {
                let bytes = self
                    .block_on(object.body.collect())
                    .map_err(|e| Error::io(format!("cannot read {uri}"), std::io::Error::other(e.to_string())))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(sdk_error(format!("cannot read {uri}"), &e)),
        }
    }

    /// Many objects' bytes (`None` where one does not exist), a few requests at a time.
    pub fn get_many(&self, uris: &[S3Uri]) -> Result<Vec<Option<Vec<u8>>>> {
        const AT_ONCE: usize = 16;
        let mut read = Vec::with_capacity(uris.len());
        for batch in uris.chunks(AT_ONCE) {
            let mut done = self.block_on(async {
                let mut requests = tokio::task::JoinSet::new();
                for (place, uri) in batch.iter().cloned().enumerate() {
                    let request = self.s3.get_object().bucket(&uri.bucket).key(&uri.key);
                    requests.spawn(async move {
                        let bytes = match request.send().await {
                            Ok(object) => {
                                object.body.collect().await.map(|b| Some(b.into_bytes().to_vec())).map_err(|e| {
                                    Error::io(format!("cannot read {uri}"), std::io::Error::other(e.to_string()))
                                })
                            }
                            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                            Err(e) => Err(sdk_error(format!("cannot read {uri}"), &e)),
                        };
                        (place, bytes)
                    });
                }
                requests.join_all().await
            });
            done.sort_by_key(|(place, _)| *place);
            for (_, bytes) in done {
                read.push(bytes?);
            }
        }
        Ok(read)
    }

    /// Writes an object in one request: readers see the old object or the whole new one.
    pub fn put(&self, uri: &S3Uri, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.block_on(
            self.s3
                .put_object()
                .bucket(&uri.bucket)
                .key(&uri.key)
                .content_type(content_type)
                .body(ByteStream::from(bytes))
                .send(),
        )
        .map(|_| ())
        .map_err(|e| sdk_error(format!("cannot write {uri}"), &e))
    }

    /// Writes many objects, a few requests at a time.
    pub fn put_many(&self, objects: Vec<(S3Uri, Vec<u8>)>, content_type: &str) -> Result<()> {
        const AT_ONCE: usize = 16;
        let mut objects = objects.into_iter().peekable();
        while objects.peek().is_some() {
            let batch: Vec<(S3Uri, Vec<u8>)> = objects.by_ref().take(AT_ONCE).collect();
            let done = self.block_on(async {
                let mut requests = tokio::task::JoinSet::new();
                for (uri, bytes) in batch {
                    let request = self.s3.put_object().bucket(&uri.bucket).key(&uri.key).content_type(content_type);
                    requests.spawn(async move { (request.body(ByteStream::from(bytes)).send().await, uri) });
                }
                requests.join_all().await
            });
            for done in done {
                if let (Err(e), uri) = done {
                    return Err(sdk_error(format!("cannot write {uri}"), &e));
                }
            }
        }
        Ok(())
    }

    /// Erases every version of every object under `prefix`, leaving no delete marker (on a
    /// store without versions, the objects). Returns how many were erased.
    pub fn erase_versions(&self, prefix: &S3Uri) -> Result<usize> {
        let mut erased = 0;
        // What is erased leaves the listing, so each round lists from the start again.
        loop {
            let listing = self.s3.list_object_versions().bucket(&prefix.bucket).prefix(&prefix.key);
            let page = self
                .block_on(listing.send())
                .map_err(|e| sdk_error(format!("cannot list the versions under {prefix}"), &e))?;
            if page.versions().is_empty() {
                return Ok(erased);
            }
            for version in page.versions() {
                let Some(key) = version.key() else { continue };
                let id = version.version_id().filter(|v| *v != "null").map(str::to_string);
                let delete = self.s3.delete_object().bucket(&prefix.bucket).key(key).set_version_id(id);
                self.block_on(delete.send())
                    .map_err(|e| sdk_error(format!("cannot erase s3://{}/{key}", prefix.bucket), &e))?;
                erased += 1;
            }
        }
    }

    /// Erases every version of an object but the current one (on a store without
    /// versions, nothing): what it held before is gone, not merely hidden.
    pub fn erase_old_versions(&self, uri: &S3Uri) -> Result<usize> {
        let mut erased = 0;
        let listing = self.s3.list_object_versions().bucket(&uri.bucket).prefix(&uri.key);
        let page =
            self.block_on(listing.send()).map_err(|e| sdk_error(format!("cannot list the versions of {uri}"), &e))?;
        for version in page.versions() {
            let old = version.key() == Some(uri.key.as_str()) && version.is_latest() == Some(false);
            let Some(id) = version.version_id().filter(|_| old) else { continue };
            let delete = self.s3.delete_object().bucket(&uri.bucket).key(&uri.key).version_id(id);
            self.block_on(delete.send()).map_err(|e| sdk_error(format!("cannot erase a version of {uri}"), &e))?;
            erased += 1;
        }
        Ok(erased)
    }

    /// Deletes an object (nothing happens when it is not there).
    pub fn delete(&self, uri: &S3Uri) -> Result<()> {
        self.block_on(self.s3.delete_object().bucket(&uri.bucket).key(&uri.key).send())
            .map(|_| ())
            .map_err(|e| sdk_error(format!("cannot delete {uri}"), &e))
    }

    /// Creates a bucket in the client's region (tests and local stacks; Terraform in AWS).
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        let mut request = self.s3.create_bucket().bucket(bucket);
        // us-east-1 is the one region that takes no location constraint.
        if let Some(region) = self.s3.config().region().map(|r| r.to_string()).filter(|r| r != "us-east-1") {
            let constraint = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
            let configuration =
                aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(constraint).build();
            request = request.create_bucket_configuration(configuration);
        }
        self.block_on(request.send()).map(|_| ()).map_err(|e| sdk_error(format!("cannot create bucket {bucket}"), &e))
    }

    /// Every key under a prefix, in key order.
    pub fn list(&self, prefix: &S3Uri) -> Result<Vec<String>> {
        Ok(self.list_stamped(prefix)?.into_iter().map(|(key, _)| key).collect())
    }

    /// Every key under a prefix with its ETag, in key order: what changes when anything
    /// under it is written.
    pub fn list_stamped(&self, prefix: &S3Uri) -> Result<Vec<(String, String)>> {
        let mut listed = Vec::new();
        let mut pages = self.s3.list_objects_v2().bucket(&prefix.bucket).prefix(&prefix.key).into_paginator().send();
        while let Some(page) = self.block_on(pages.next()) {
            let page = page.map_err(|e| match e.as_service_error() {
                Some(s) if s.is_no_such_bucket() => Error::bad_gallery(prefix, "the bucket does not exist"),
                _ => sdk_error(format!("cannot list {prefix}"), &e),
            })?;
            let objects = page.contents().iter();
            listed.extend(
                objects.filter_map(|o| Some((o.key()?.to_string(), o.e_tag().unwrap_or_default().to_string()))),
            );
        }
        listed.sort();
        Ok(listed)
    }

    /// The gallery under an S3 prefix, `<prefix>/<Person Name>/<photo>`. A prefix that
    /// cannot be listed is an error; an empty one is not.
    pub fn gallery(&self, prefix: &S3Uri) -> Result<GalleryListing> {
        let mut base = prefix.clone();
        if !base.key.is_empty() && !base.key.ends_with('/') {
            base.key.push('/');
        }
        let (mut photos, mut skipped) = (Vec::new(), Vec::new());
        for key in self.list(&base)? {
            let relative = &key[base.key.len()..];
            let Some((folder, file)) = relative.split_once('/') else { continue };
            // A dot folder is never a person: `.cameo/` is the registry's own.
            if folder.starts_with('.') || file.contains('/') || !is_photo(std::path::Path::new(file)) {
                continue;
            }
            let uri = S3Uri::new(&base.bucket, key.clone());
            match person_name(folder) {
                Ok(name) => photos.push((name, uri)),
                Err(reason) => skipped.push(SkippedPhoto { location: uri.to_string(), reason: reason.into() }),
            }
        }
        Ok(GalleryListing { photos, skipped })
    }

    /// A gallery photo's bytes, or why there are none: it vanished after the listing, or
    /// this role may not read it (a photo's problem, not the video's). Other failures are
    /// errors, which a retry may mend.
    pub fn gallery_photo(&self, person: &str, uri: &S3Uri) -> Result<GalleryPhoto> {
        let response = self.block_on(self.s3.get_object().bucket(&uri.bucket).key(&uri.key).send());
        let bytes = match response {
            Ok(object) => Ok(self
                .block_on(object.body.collect())
                .map_err(|e| Error::io(format!("cannot read {uri}"), std::io::Error::other(e.to_string())))?
                .into_bytes()
                .to_vec()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err("the photo was deleted after the gallery was listed".to_string())
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                Err("access denied: the detector may not read this photo".to_string())
            }
            Err(e) => return Err(sdk_error(format!("cannot read {uri}"), &e)),
        };
        Ok(GalleryPhoto { person: person.to_string(), location: uri.to_string(), bytes })
    }
}

/// A gallery's photos as listed: each photo's person and location, in key order, and the
/// photos whose folder is no name.
pub struct GalleryListing {
    pub photos: Vec<(String, S3Uri)>,
    pub skipped: Vec<SkippedPhoto>,
}

/// Gallery verdicts cached in S3, shared by every shard of every job.
pub struct S3Cache<'a> {
    pub aws: &'a Aws,
    pub prefix: S3Uri,
}

impl S3Cache<'_> {
    fn uri(&self, key: &str) -> S3Uri {
        S3Uri::new(&self.prefix.bucket, format!("{}{key}", self.prefix.key))
    }
}

impl VerdictCache for S3Cache<'_> {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.aws.get(&self.uri(key)).ok().flatten()
    }

    fn put(&mut self, key: &str, bytes: Vec<u8>) {
        if let Err(e) = self.aws.put(&self.uri(key), bytes, "application/json") {
            tracing::warn!("cannot cache a gallery verdict: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse_into_bucket_and_key() {
        assert_eq!(S3Uri::parse("s3://raw-bucket/videos/1/a.mp4"), Some(S3Uri::new("raw-bucket", "videos/1/a.mp4")));
        assert_eq!(S3Uri::parse("s3://raw-bucket"), Some(S3Uri::new("raw-bucket", "")));
        assert_eq!(S3Uri::parse("https://raw-bucket/a"), None);
        assert_eq!(S3Uri::parse("s3://Bad_Bucket/a"), None);
        assert_eq!(S3Uri::new("b", "k/x").to_string(), "s3://b/k/x");
    }
}
