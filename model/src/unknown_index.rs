//! The index of unknown faces: every analysed video's unknown clusters with the fp32
//! embeddings of their chosen crops (up to five each), packed so that a name given once
//! can be looked for in every past video without reading one templates file per video.
//!
//! The index is split into 256 shards by the first two hex digits of the movie id. In a
//! shard, each analysis's merge adds one small segment (`added/<movie id>-<job key>.bin`);
//! the curation worker, its one other writer, packs them into `packed.bin` and keeps the
//! shard's [`Tombstones`]: clusters named or dismissed since, analyses replaced by a later
//! one, videos erased. A scan reads each shard's packed segment, its added segments and
//! its tombstones, and looks only at the entries that are still unknown.
//!
//! The entries are biometric data: they live in the processed bucket under a prefix the
//! API cannot read, and they leave with their video.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::curation::{Analysis, track_ids};
use crate::templates::TemplatesDocument;

/// The first bytes of a segment; changes when its layout does.
const MAGIC: &[u8; 8] = b"CAMEOUX1";

/// The index's prefix under the processed bucket's prefix.
pub const INDEX_PREFIX: &str = "index/unknown/";

/// The shard a movie's clusters are kept in: two hex digits of its id.
pub fn shard_of(movie_id: &str) -> String {
    match movie_id.get(..2) {
        Some(head) if head.bytes().all(|b| b.is_ascii_hexdigit()) => head.to_ascii_lowercase(),
        _ => format!("{:02x}", Sha256::digest(movie_id.as_bytes())[0]),
    }
}

/// Every shard, in order.
pub fn shards() -> impl Iterator<Item = String> {
    (0..=255u8).map(|n| format!("{n:02x}"))
}

/// The key (under the index's root) of the segment an analysis adds.
pub fn added_key(movie_id: &str, job: &str) -> String {
    let job_key = &format!("{:x}", Sha256::digest(job.as_bytes()))[..16];
    format!("{}{movie_id}-{job_key}.bin", added_prefix(movie_id))
}

/// Where a movie's added segments are.
pub fn added_prefix(movie_id: &str) -> String {
    format!("{}/added/{movie_id}", shard_of(movie_id))
}

/// Where a shard's added segments are.
pub fn shard_added_prefix(shard: &str) -> String {
    format!("{shard}/added/")
}

pub fn packed_key(shard: &str) -> String {
    format!("{shard}/packed.bin")
}

pub fn tombstones_key(shard: &str) -> String {
    format!("{shard}/tombstones.json")
}

/// One unknown cluster of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub movie_id: String,
    /// The VideoJob whose analysis it is of.
    pub job: String,
    /// The cluster's id in that analysis.
    pub cluster_id: String,
    /// Its tracks there: what a relabel names.
    pub tracks: Vec<String>,
    pub screen_time_seconds: f64,
    /// One per chosen crop, best first: unit-length fp32 embeddings (not in the JSON
    /// header of an entry; packed after it).
    #[serde(skip)]
    pub embeddings: Vec<Vec<f32>>,
}

/// A segment: entries whose embeddings were all made by one recogniser.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// The sha256 of the recogniser: only embeddings of one model compare.
    pub recognizer: String,
    pub entries: Vec<IndexEntry>,
}

/// The unknown clusters of an analysis, with the embeddings of their crops from its
/// templates; clusters without an embedded crop are left out (nothing to compare).
pub fn entries_of(analysis: &Analysis, templates: &TemplatesDocument, movie_id: &str, job: &str) -> Segment {
    let entries = analysis
        .document
        .unknown
        .iter()
        .filter_map(|group| {
            let found = templates.groups.iter().find(|t| t.id == group.id && !t.known)?;
            let embeddings: Vec<Vec<f32>> = found.embeddings.iter().map(|e| e.embedding.clone()).collect();
            (!embeddings.is_empty()).then(|| IndexEntry {
                movie_id: movie_id.into(),
                job: job.into(),
                cluster_id: group.id.clone(),
                tracks: track_ids(group),
                screen_time_seconds: group.screen_time_seconds,
                embeddings,
            })
        })
        .collect();
    Segment { recognizer: templates.recognizer.sha256.clone(), entries }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SegmentHeader {
    recognizer: String,
    dimensions: usize,
}

impl Segment {
    /// `MAGIC`, a JSON header, then per entry its JSON and its embeddings as
    /// little-endian f32: compact, and read without parsing numbers as text.
    pub fn encode(&self) -> Vec<u8> {
        let dimensions = self.entries.iter().flat_map(|e| e.embeddings.first()).map(Vec::len).next().unwrap_or(0);
        let mut out = MAGIC.to_vec();
        let header = SegmentHeader { recognizer: self.recognizer.clone(), dimensions };
        put_block(&mut out, &serde_json::to_vec(&header).unwrap_or_default());
        for entry in &self.entries {
            put_block(&mut out, &serde_json::to_vec(entry).unwrap_or_default());
            let kept: Vec<&Vec<f32>> = entry.embeddings.iter().filter(|e| e.len() == dimensions).collect();
            out.extend_from_slice(&(kept.len() as u16).to_le_bytes());
            for embedding in kept {
                embedding.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Segment, String> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err("not a segment of the unknown-face index".into());
        }
        let header: SegmentHeader = serde_json::from_slice(reader.block()?).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        while !reader.done() {
            let mut entry: IndexEntry = serde_json::from_slice(reader.block()?).map_err(|e| e.to_string())?;
            let crops = u16::from_le_bytes(reader.take(2)?.try_into().map_err(|_| "truncated")?);
            for _ in 0..crops {
                let raw = reader.take(header.dimensions * 4)?;
                entry
                    .embeddings
                    .push(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
            }
            entries.push(entry);
        }
        Ok(Segment { recognizer: header.recognizer, entries })
    }
}

fn put_block(out: &mut Vec<u8>, block: &[u8]) {
    out.extend_from_slice(&(block.len() as u32).to_le_bytes());
    out.extend_from_slice(block);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or("a truncated segment")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn block(&mut self) -> Result<&'a [u8], String> {
        let length = u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| "truncated")?);
        self.take(length as usize)
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

/// What is no longer unknown in a shard, by movie.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstones {
    pub movies: BTreeMap<String, MovieTombstones>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovieTombstones {
    /// The video was erased: every entry of it goes at the next packing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
    /// Analyses a later one replaced.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub superseded: BTreeSet<String>,
    /// By job: its clusters that are not unknown now (named or dismissed since). A
    /// cluster unknown again (the naming undone) leaves the set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub named: BTreeMap<String, BTreeSet<String>>,
}

impl Tombstones {
    /// Whether an entry is still an unknown cluster of a current analysis.
    pub fn live(&self, entry: &IndexEntry) -> bool {
        match self.movies.get(&entry.movie_id) {
            None => true,
            Some(dead) => {
                !dead.erased
                    && !dead.superseded.contains(&entry.job)
                    && !dead.named.get(&entry.job).is_some_and(|named| named.contains(&entry.cluster_id))
            }
        }
    }

    /// Whether an entry can never be live again (it is dropped when the shard is packed).
    pub fn gone(&self, entry: &IndexEntry) -> bool {
        self.movies.get(&entry.movie_id).is_some_and(|dead| dead.erased || dead.superseded.contains(&entry.job))
    }

    /// Packing dropped every entry of these movies: their erasure need not be kept.
    pub fn forget_erased(&mut self) {
        self.movies.retain(|_, dead| !dead.erased);
    }
}

/// Which of an analysis's unknown clusters are not unknown in its curated document: those
/// whose tracks are no longer all in one unknown group.
pub fn named_since(analysis: &Analysis, curated: &crate::results::ResultsDocument) -> BTreeSet<String> {
    let unknown_now: Vec<BTreeSet<String>> =
        curated.unknown.iter().map(|g| track_ids(g).into_iter().collect()).collect();
    analysis
        .document
        .unknown
        .iter()
        .filter(|group| {
            let tracks = track_ids(group);
            !unknown_now.iter().any(|now| tracks.iter().all(|t| now.contains(t)))
        })
        .map(|group| group.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(movie: &str, job: &str, cluster: &str, embeddings: Vec<Vec<f32>>) -> IndexEntry {
        IndexEntry {
            movie_id: movie.into(),
            job: job.into(),
            cluster_id: cluster.into(),
            tracks: vec![format!("t-{cluster}")],
            screen_time_seconds: 3.5,
            embeddings,
        }
    }

    #[test]
    fn a_segment_comes_back_as_it_went_and_a_damaged_one_is_refused() {
        let segment = Segment {
            recognizer: "abc".into(),
            entries: vec![
                entry("0a1", "media/a", "g1", vec![vec![0.5, -0.25, 1.0], vec![0.0, 1.0, -1.0]]),
                entry("0a1", "media/a", "g2", vec![vec![1.0, 2.0, 3.0]]),
            ],
        };
        let bytes = segment.encode();
        assert_eq!(Segment::decode(&bytes), Ok(segment));
        assert!(Segment::decode(&bytes[..bytes.len() - 3]).is_err());
        assert!(Segment::decode(b"{\"not\": \"a segment\"}").is_err());
        assert_eq!(Segment::decode(&Segment::default().encode()), Ok(Segment::default()));
    }

    #[test]
    fn movies_spread_over_shards_by_their_id_and_a_job_has_one_added_segment() {
        assert_eq!(shard_of("3fa0b2c4d5e6f7a8b9c0"), "3f");
        assert_eq!(shard_of("Zz"), shard_of("Zz"));
        assert_eq!(shard_of("Zz").len(), 2);
        assert_eq!(shards().count(), 256);
        let key = added_key("3fa0b2c4d5e6f7a8b9c0", "media/film");
        assert!(key.starts_with(&added_prefix("3fa0b2c4d5e6f7a8b9c0")));
        assert!(key.starts_with(&shard_added_prefix("3f")));
        assert_ne!(key, added_key("3fa0b2c4d5e6f7a8b9c0", "media/film-2"));
    }

    #[test]
    fn tombstones_hide_named_replaced_and_erased_clusters_and_a_naming_undone_comes_back() {
        let named = entry("m1", "media/a", "g1", vec![]);
        let other = entry("m1", "media/a", "g2", vec![]);
        let replaced = entry("m2", "media/old", "g1", vec![]);
        let current = entry("m2", "media/new", "g1", vec![]);
        let erased = entry("m3", "media/c", "g1", vec![]);
        let mut tombstones = Tombstones::default();
        let m1 = tombstones.movies.entry("m1".into()).or_default();
        m1.named.insert("media/a".into(), ["g1".to_string()].into());
        tombstones.movies.entry("m2".into()).or_default().superseded.insert("media/old".into());
        tombstones.movies.entry("m3".into()).or_default().erased = true;
        let live: Vec<bool> = [&named, &other, &replaced, &current, &erased].map(|e| tombstones.live(e)).to_vec();
        assert_eq!(live, [false, true, false, true, false]);
        let gone: Vec<bool> = [&named, &replaced, &erased].map(|e| tombstones.gone(e)).to_vec();
        assert_eq!(gone, [false, true, true]);
        tombstones.movies.get_mut("m1").unwrap().named.clear();
        assert!(tombstones.live(&named));
        tombstones.forget_erased();
        assert!(tombstones.live(&erased));
    }
}
