//! The index of unknown faces in S3 ([`cameo_model::unknown_index`]): the merge adds an
//! analysis's segment; the curation worker reads shards, packs them and keeps their
//! tombstones. Only the worker rewrites a shard's packed segment and tombstones, so a
//! read-modify-write of them races nobody; a merge only adds objects, and packing erases
//! only the added segments it packed. The buckets keep old versions: what leaves the
//! index is erased, every version, so an erased video's faces are not kept in an old one.

use std::collections::BTreeMap;

use cameo_model::unknown_index::{
    IndexEntry, MovieTombstones, Segment, Tombstones, added_key, added_prefix, packed_key, shard_added_prefix,
    shard_of, tombstones_key,
};

use super::aws::Aws;
use super::s3::S3Uri;
use crate::error::{Error, Result};

/// A shard packs its added segments once it holds this many: a scan then reads a few
/// large objects, not one per video.
pub const PACK_AFTER: usize = 16;

/// Shards read at once by a scan: their objects are fetched in parallel, and a batch is
/// what a scan holds in memory (at 2 million clusters, about 20 MiB a shard).
pub const SHARDS_AT_ONCE: usize = 8;

pub struct UnknownIndex<'a> {
    pub aws: &'a Aws,
    /// `s3://<processed>/<prefix>index/unknown/`.
    pub root: S3Uri,
}

/// One shard as read: its live and dead entries, its tombstones, and what it is made of.
#[derive(Debug, Default)]
pub struct Shard {
    pub name: String,
    /// The recogniser every entry's embeddings are of.
    pub recognizer: String,
    pub entries: Vec<IndexEntry>,
    pub tombstones: Tombstones,
    /// The added segments read (keys under the root).
    pub added: Vec<String>,
    /// Entries left out because another recogniser made them.
    pub other_recognizer: usize,
}

impl Shard {
    pub fn live(&self) -> impl Iterator<Item = &IndexEntry> {
        self.entries.iter().filter(|e| self.tombstones.live(e))
    }
}

impl UnknownIndex<'_> {
    fn uri(&self, key: &str) -> S3Uri {
        S3Uri::new(&self.root.bucket, format!("{}{key}", self.root.key))
    }

    /// The merge's part: an analysis's unknown clusters, as one added segment.
    pub fn add(&self, movie_id: &str, job: &str, segment: &Segment) -> Result<()> {
        self.aws.put(&self.uri(&added_key(movie_id, job)), segment.encode(), "application/octet-stream")
    }

    /// The shards that hold anything, with their added segments' keys: one listing.
    pub fn shards(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let mut shards: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for key in self.aws.list(&self.root)? {
            let Some(relative) = key.strip_prefix(&self.root.key) else { continue };
            let Some((shard, _)) = relative.split_once('/') else { continue };
            let added = shards.entry(shard.to_string()).or_default();
            if relative.starts_with(&shard_added_prefix(shard)) {
                added.push(relative.to_string());
            }
        }
        Ok(shards)
    }

    /// Reads a shard: its packed segment, the `added` segments and its tombstones. When
    /// segments of several recognisers meet, the newest added one's wins (the others can
    /// no longer be compared with the gallery).
    pub fn read(&self, shard: &str, added: &[String]) -> Result<Shard> {
        let mut read = self.read_many(&[(shard.to_string(), added.to_vec())])?;
        Ok(read.pop().unwrap_or_default())
    }

    /// Hands every shard that holds anything to `each`, in order, reading
    /// [`SHARDS_AT_ONCE`] shards' objects at a time (in parallel) while it holds one batch.
    pub fn scan(&self, mut each: impl FnMut(Shard) -> Result<()>) -> Result<()> {
        let shards: Vec<(String, Vec<String>)> = self.shards()?.into_iter().collect();
        for batch in shards.chunks(SHARDS_AT_ONCE) {
            for shard in self.read_many(batch)? {
                each(shard)?;
            }
        }
        Ok(())
    }

    /// Reads shards (each with its added segments' keys) with one batch of requests.
    fn read_many(&self, shards: &[(String, Vec<String>)]) -> Result<Vec<Shard>> {
        let mut uris = Vec::new();
        for (shard, added) in shards {
            uris.push(self.uri(&tombstones_key(shard)));
            uris.push(self.uri(&packed_key(shard)));
            uris.extend(added.iter().map(|key| self.uri(key)));
        }
        let mut objects = uris.iter().zip(self.aws.get_many(&uris)?);
        let mut read = Vec::with_capacity(shards.len());
        for (shard, added) in shards {
            let (uri, tombstones) = objects.next().ok_or_else(|| Error::Inference("a shard went unread".into()))?;
            let tombstones = match tombstones {
                Some(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Inference(format!("{uri} is not tombstones: {e}")))?,
                None => Tombstones::default(),
            };
            let mut segments = Vec::new();
            for (uri, bytes) in objects.by_ref().take(1 + added.len()) {
                let Some(bytes) = bytes else { continue };
                segments.push(Segment::decode(&bytes).map_err(|e| Error::Inference(format!("{uri}: {e}")))?);
            }
            let recognizer = segments.last().map(|s| s.recognizer.clone()).unwrap_or_default();
            let mut shard =
                Shard { name: shard.clone(), recognizer, tombstones, added: added.clone(), ..Shard::default() };
            for segment in segments {
                match segment.recognizer == shard.recognizer {
                    true => shard.entries.extend(segment.entries),
                    false => shard.other_recognizer += segment.entries.len(),
                }
            }
            read.push(shard);
        }
        Ok(read)
    }

    /// Packs a shard: one segment of the entries that may still be live, the added
    /// segments it took deleted, erased videos' tombstones dropped with their entries.
    pub fn pack(&self, shard: Shard) -> Result<()> {
        let Shard { name, recognizer, entries, mut tombstones, added, .. } = shard;
        let kept: Vec<IndexEntry> = entries.into_iter().filter(|e| !tombstones.gone(e)).collect();
        let packed = Segment { recognizer, entries: kept };
        let packed_uri = self.uri(&packed_key(&name));
        self.aws.put(&packed_uri, packed.encode(), "application/octet-stream")?;
        self.aws.erase_old_versions(&packed_uri)?;
        tombstones.forget_erased();
        self.put_tombstones(&name, &tombstones)?;
        for key in added {
            self.aws.erase_versions(&self.uri(&key))?;
        }
        tracing::info!(shard = name, entries = packed.entries.len(), "a shard of the unknown-face index packed");
        Ok(())
    }

    fn put_tombstones(&self, shard: &str, tombstones: &Tombstones) -> Result<()> {
        let json = serde_json::to_vec(tombstones).map_err(|e| Error::Inference(e.to_string()))?;
        self.aws.put(&self.uri(&tombstones_key(shard)), json, "application/json")
    }

    /// Changes a movie's tombstones (the worker's read-modify-write).
    pub fn mark(&self, movie_id: &str, change: impl FnOnce(&mut MovieTombstones)) -> Result<()> {
        let shard = shard_of(movie_id);
        let uri = self.uri(&tombstones_key(&shard));
        let mut tombstones: Tombstones = match self.aws.get(&uri)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Inference(format!("{uri}: {e}")))?,
            None => Tombstones::default(),
        };
        let before = tombstones.clone();
        change(tombstones.movies.entry(movie_id.to_string()).or_default());
        tombstones.movies.retain(|_, dead| *dead != MovieTombstones::default());
        if tombstones != before {
            self.put_tombstones(&shard, &tombstones)?;
        }
        Ok(())
    }

    /// An erased video leaves the index: its added segments at once, its packed entries
    /// when its shard is packed now.
    pub fn erase(&self, movie_id: &str) -> Result<()> {
        self.mark(movie_id, |dead| dead.erased = true)?;
        let shard = shard_of(movie_id);
        self.aws.erase_versions(&self.uri(&added_prefix(movie_id)))?;
        let mut added = Vec::new();
        for key in self.aws.list(&self.uri(&shard_added_prefix(&shard)))? {
            added.extend(key.strip_prefix(&self.root.key).map(str::to_string));
        }
        let read = self.read(&shard, &added)?;
        self.pack(read)
    }
}
