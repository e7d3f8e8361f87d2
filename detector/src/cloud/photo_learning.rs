//! Late binding from the gallery: photos a person's gallery gained (given through the API,
//! imported from a folder, or joined by a merge) are looked for in every video's unknown
//! clusters once the gallery checker has accepted them into its manifest, as a naming's
//! crops are ([`super::learner`]); each relabel cites the photos as its cause. Photos given
//! by naming a cluster are left: that naming looked already.
//!
//! What the worker has learned from, each person's photos by key, is kept beside the
//! index ([`LEARNED_PHOTOS_KEY`]). The first time, it records the gallery as it stands and
//! binds nothing: the videos were analysed against it (a gallery with no manifest yet is
//! empty, and every photo it is given later is new). A rename gives no new evidence; a
//! rename onto another person's name is a merge.

use std::collections::{BTreeMap, BTreeSet};

use cameo_model::curation::PersonRef;
use cameo_model::curation::ledger::{Cause, PhotosRef};
use cameo_model::people::{GalleryManifest, ManifestPerson, PhotoSource, manifest_key};
use serde::{Deserialize, Serialize};

use super::curator::Curator;
use super::gallery::gallery_prefix;
use super::learner::{Learned, Learning};
use super::s3::S3Uri;
use super::unknown_index::UnknownIndex;
use crate::error::{Error, Result};
use crate::pipeline::PipelineConfig;

/// Under the index's root: the photos learned from, by person.
pub const LEARNED_PHOTOS_KEY: &str = "learned-photos.json";

/// Each person's photos (keys) the worker has looked for in the index.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LearnedPhotos {
    people: BTreeMap<String, BTreeSet<String>>,
}

impl LearnedPhotos {
    fn of(people: &[ManifestPerson]) -> Self {
        let people = people.iter().map(|p| (p.id.clone(), p.photos.iter().map(|f| f.key.clone()).collect()));
        LearnedPhotos { people: people.collect() }
    }

    /// The photos of `person_id` in `now` that are not in `self`.
    fn gained<'a>(&self, now: &'a LearnedPhotos, person_id: &str) -> Vec<&'a String> {
        let before = self.people.get(person_id);
        let photos = now.people.get(person_id).into_iter().flatten();
        photos.filter(|key| before.is_none_or(|b| !b.contains(*key))).collect()
    }
}

impl Curator<'_> {
    /// Looks for the photos every person's gallery gained since it last did in the index
    /// of unknown faces, and names each cluster they win after them.
    pub fn learn_photos(&self, learning: &Learning) -> Result<Learned> {
        let mut learned = Learned::default();
        let Some(gallery) = &self.gallery else { return Ok(learned) };
        let manifest_uri = S3Uri::new(&gallery.bucket, manifest_key(&gallery_prefix(gallery)));
        // No manifest yet: an empty gallery, all of whose photos will be new.
        let people = match self.aws.get(&manifest_uri)? {
            Some(bytes) => {
                serde_json::from_slice::<GalleryManifest>(&bytes)
                    .map_err(|e| Error::Inference(format!("{manifest_uri}: {e}")))?
                    .people
            }
            None => Vec::new(),
        };
        let now = LearnedPhotos::of(&people);
        let state_uri = S3Uri::new(&learning.index.bucket, format!("{}{LEARNED_PHOTOS_KEY}", learning.index.key));
        let before: Option<LearnedPhotos> = match self.aws.get(&state_uri)? {
            Some(bytes) => {
                Some(serde_json::from_slice(&bytes).map_err(|e| Error::Inference(format!("{state_uri}: {e}")))?)
            }
            None => None,
        };
        let Some(before) = before else {
            // The first time: the gallery as it stands is recorded, nothing is bound.
            self.put_learned_photos(&state_uri, &now)?;
            return Ok(learned);
        };
        if before == now {
            return Ok(learned);
        }
        let index = UnknownIndex { aws: self.aws, root: learning.index.clone() };
        for listed in &people {
            let gained = before.gained(&now, &listed.id);
            if gained.is_empty() {
                continue;
            }
            let registry = self.aws.photos(&self.table, &listed.id)?;
            let by_naming = |key: &String| registry.iter().any(|p| p.key == *key && p.source == PhotoSource::Video);
            let photos: Vec<String> = gained.into_iter().filter(|k| !by_naming(k)).cloned().collect();
            if photos.is_empty() {
                continue;
            }
            let person = PersonRef { person_id: Some(listed.id.clone()), name: listed.name.clone() };
            let cause = Cause::Photos(PhotosRef { person_id: listed.id.clone(), photos });
            let (gallery, place) = self.gallery_with(learning, None, &person)?;
            let rule = PipelineConfig::default().matching;
            for (movie, seqs) in self.bind_in(learning, &index, (&gallery, place), &rule, &person, &cause)? {
                learned.relabelled.entry(movie).or_default().extend(seqs);
            }
        }
        self.put_learned_photos(&state_uri, &now)?;
        Ok(learned)
    }

    fn put_learned_photos(&self, uri: &S3Uri, learned: &LearnedPhotos) -> Result<()> {
        let json = serde_json::to_vec(learned).map_err(|e| Error::Inference(e.to_string()))?;
        self.aws.put(uri, json, "application/json")?;
        self.aws.erase_old_versions(uri).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(people: &[(&str, &[&str])]) -> LearnedPhotos {
        let people = people.iter().map(|(id, keys)| (id.to_string(), keys.iter().map(|k| k.to_string()).collect()));
        LearnedPhotos { people: people.collect() }
    }

    #[test]
    fn a_person_gains_the_photos_they_did_not_have_and_a_new_person_all_of_theirs() {
        let before = learned(&[("grace", &["g1"]), ("double", &["d1"])]);
        let now = learned(&[("grace", &["g1", "d1"]), ("ada", &["a1", "a2"])]);
        assert_eq!(before.gained(&now, "grace"), ["d1"]);
        assert_eq!(before.gained(&now, "ada"), ["a1", "a2"]);
        assert!(before.gained(&now, "double").is_empty(), "gone: nothing gained");
    }
}
