//! What corrections teach the gallery, kept by the curation worker after it rewrites a
//! movie's results:
//! - "not this person" sticks: the faces of a rejected (or reassigned) track become the
//!   person's rejected examples, the fp32 embeddings of its crops from the video's
//!   templates, kept under `templates/rejected/` with an item in the registry; the
//!   gallery checker lists them in the manifest, and every later analysis refuses faces
//!   nearer one of them than to the person's photos;
//! - a cluster named after a person gives them its chosen crops as photos (source: the
//!   video), which the gallery checker checks like any photo before the manifest lists
//!   them.
//!
//! What an action taught stays while the action is in force (even where a re-analysis no
//! longer finds its tracks) and is taken back when it is undone.

use std::collections::BTreeSet;

use cameo_model::curation::ledger::{ActionItem, active_changes};
use cameo_model::curation::{Analysis, Change, PersonRef};
use cameo_model::people::{
    MAX_PHOTOS_PER_PERSON, PhotoItem, PhotoSource, RegistryChanged, RejectedItem, derived_id, person_pk, photo_key,
    rejected_sk,
};
use cameo_model::templates::TemplatesDocument;
use jiff::Timestamp;

use super::aws::sdk_error;
use super::curator::Curator;
use super::gallery::gallery_prefix;
use super::s3::S3Uri;
use super::shard::JobOutput;
use crate::error::{Error, Result};
use crate::gallery::content_hash;
use crate::templates::of_tracks;

/// A person a change says some tracks are, or are not, and those tracks.
type Claim = (PersonRef, Vec<String>);

/// The person a change says some tracks are not.
fn not_them(change: &Change) -> Option<Claim> {
    match change {
        Change::Reject { tracks, person } => Some((person.clone(), tracks.clone())),
        Change::Reassign { tracks, from, .. } => Some((from.clone(), tracks.clone())),
        _ => None,
    }
}

/// The person a change names some tracks after (only people's naming adds photos).
fn named(change: &Change) -> Option<Claim> {
    match change {
        Change::Name { tracks, person } => Some((person.clone(), tracks.clone())),
        _ => None,
    }
}

/// The registry people `claim` finds in any of the actions, in force or undone.
fn people_in(actions: &[ActionItem], claim: fn(&Change) -> Option<Claim>) -> BTreeSet<String> {
    actions.iter().filter_map(|a| claim(a.change.as_ref()?)?.0.person_id).collect()
}

/// An action in force that claims something of a registry person.
struct InForce {
    seq: u64,
    person_id: String,
    name: String,
    /// Who made it.
    editor: String,
    tracks: Vec<String>,
}

/// The people's actions in force that `claim` finds, for registry people. Relabels late
/// binding made teach nothing: one wrong match would pull in more.
fn in_force(actions: &[ActionItem], claim: fn(&Change) -> Option<Claim>) -> Vec<InForce> {
    let editor = |seq: u64| actions.iter().find(|a| a.seq == seq).map_or_else(String::new, |a| a.by.id.clone());
    let by_system = |seq: u64| actions.iter().any(|a| a.seq == seq && a.by_system());
    active_changes(actions)
        .into_iter()
        .filter(|(seq, _)| !by_system(*seq))
        .filter_map(|(seq, change)| {
            let (person, tracks) = claim(&change)?;
            Some(InForce { seq, person_id: person.person_id?, name: person.name, editor: editor(seq), tracks })
        })
        .collect()
}

impl Curator<'_> {
    /// Brings the gallery in line with a movie's corrections, and tells the gallery
    /// checker when anything changed.
    pub(super) fn teach(
        &self,
        movie_id: &str,
        output: &JobOutput,
        analysis: &Analysis,
        actions: &[ActionItem],
    ) -> Result<()> {
        let rejected = self.keep_rejected(movie_id, output, analysis, actions)?;
        let mut erased = Vec::new();
        let photos = self.keep_named_photos(movie_id, output, analysis, actions, &mut erased)?;
        if rejected || photos {
            self.registry_changed(erased);
        }
        Ok(())
    }

    /// Keeps each person's rejected examples from this movie; true when any were added or
    /// taken back.
    fn keep_rejected(
        &self,
        movie_id: &str,
        output: &JobOutput,
        analysis: &Analysis,
        actions: &[ActionItem],
    ) -> Result<bool> {
        let wanted = in_force(actions, not_them);
        let mut kept = Vec::new();
        for person_id in people_in(actions, not_them) {
            kept.extend(self.aws.rejected(&self.table, &person_id, Some(movie_id))?);
        }
        let mut changed = false;
        for undone in kept.iter().filter(|k| !wanted.iter().any(|w| k.seq == w.seq && w.person_id == k.person_id)) {
            self.aws.delete_rejected(&self.table, undone)?;
            if let Some(uri) = S3Uri::parse(&undone.uri) {
                self.aws.erase_versions(&uri)?;
            }
            tracing::info!(movie_id, seq = undone.seq, person = undone.person_id, "rejected examples taken back");
            changed = true;
        }
        let mut templates: Option<TemplatesDocument> = None;
        for InForce { seq, person_id, name, tracks, .. } in &wanted {
            if kept.iter().any(|k| k.seq == *seq && k.person_id == *person_id) {
                continue;
            }
            let templates = match &mut templates {
                Some(templates) => templates,
                None => templates.insert(self.templates(output)?),
            };
            let document = of_tracks(templates, analysis, name, tracks);
            let examples = document.groups.iter().map(|g| g.embeddings.len()).sum::<usize>();
            if examples == 0 {
                tracing::warn!(movie_id, seq, "the rejected tracks have no face templates here: nothing to keep");
                continue;
            }
            let bytes = serde_json::to_vec(&document).map_err(|e| Error::Inference(e.to_string()))?;
            let uri = output.rejected(person_id, movie_id, *seq);
            let item = RejectedItem {
                pk: person_pk(person_id),
                sk: rejected_sk(movie_id, *seq),
                person_id: person_id.clone(),
                movie_id: movie_id.into(),
                seq: *seq,
                uri: uri.to_string(),
                sha256: content_hash(&bytes),
                examples,
                at: Timestamp::now().to_string(),
            };
            // The object first: an item never points at nothing.
            self.aws.put(&uri, bytes, "application/json")?;
            self.aws.put_rejected(&self.table, &item)?;
            tracing::info!(movie_id, seq, person = person_id, examples, "rejected examples kept");
            changed = true;
        }
        Ok(changed)
    }

    /// Keeps the photos named clusters of this movie gave their people; true when any
    /// were added or taken back. The content hashes of those taken back go to `erased`.
    fn keep_named_photos(
        &self,
        movie_id: &str,
        output: &JobOutput,
        analysis: &Analysis,
        actions: &[ActionItem],
        erased: &mut Vec<String>,
    ) -> Result<bool> {
        let Some(gallery) = &self.gallery else { return Ok(false) };
        let wanted = in_force(actions, named);
        let mut changed = false;
        for person_id in people_in(actions, named) {
            let photos = self.aws.photos(&self.table, &person_id)?;
            let from_here = |p: &&PhotoItem| p.source == PhotoSource::Video && p.movie_id.as_deref() == Some(movie_id);
            let in_force = |p: &PhotoItem| wanted.iter().any(|w| p.action == Some(w.seq) && w.person_id == person_id);
            let mut touched = false;
            for undone in photos.iter().filter(from_here).filter(|p| !in_force(p)) {
                self.aws.erase_versions(&S3Uri::new(&gallery.bucket, undone.key.clone()))?;
                self.aws.delete_photo(&self.table, undone)?;
                erased.extend(undone.sha256.clone());
                tracing::info!(movie_id, action = undone.action, person = person_id, "a named crop taken back");
                touched = true;
            }
            let mut count = photos.iter().filter(|p| !from_here(p) || in_force(p)).count();
            for InForce { seq, editor, tracks, .. } in wanted.iter().filter(|w| w.person_id == person_id) {
                let crops = analysis.tracks.iter().filter(|t| tracks.contains(&t.id)).flat_map(|t| &t.crops);
                for crop in crops {
                    let photo_id = derived_id(&format!("{movie_id}|{seq}|{crop}"));
                    if photos.iter().any(|p| p.photo_id == photo_id) {
                        continue;
                    }
                    if count >= MAX_PHOTOS_PER_PERSON {
                        tracing::warn!(
                            person = person_id,
                            "{MAX_PHOTOS_PER_PERSON} photos already: a named crop left out"
                        );
                        break;
                    }
                    let folder = output.results_folder();
                    let Some(bytes) = self.aws.get(&S3Uri::new(&folder.bucket, format!("{}{crop}", folder.key)))?
                    else {
                        tracing::warn!(movie_id, crop, "a named crop is gone");
                        continue;
                    };
                    let key = photo_key(&gallery_prefix(gallery), &person_id, &photo_id, "jpg");
                    let at = Timestamp::now().to_string();
                    let photo = PhotoItem {
                        content_type: Some("image/jpeg".into()),
                        size_bytes: Some(bytes.len() as u64),
                        movie_id: Some(movie_id.into()),
                        action: Some(*seq),
                        ..PhotoItem::pending(&person_id, &photo_id, key.clone(), PhotoSource::Video, editor, &at)
                    };
                    // The item first: the checker, told of the object, finds what it is.
                    if self.aws.add_photo(&self.table, &photo)? {
                        self.aws.put(&S3Uri::new(&gallery.bucket, key), bytes, "image/jpeg")?;
                        count += 1;
                        touched = true;
                    }
                }
            }
            if touched {
                self.aws.bump_person(&self.table, &person_id)?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Tells the gallery checker to rebuild the manifest (and erase the verdicts of the
    /// photos `erased`). Best effort: the checker also rebuilds it whenever it starts.
    fn registry_changed(&self, erased_photos: Vec<String>) {
        let Some(queue) = &self.gallery_queue_url else { return };
        let body = serde_json::to_string(&RegistryChanged { rebuild: true, erased_photos }).unwrap_or_default();
        let send = self.aws.sqs.send_message().queue_url(queue).message_body(body);
        if let Err(e) = self.aws.block_on(send.send()) {
            tracing::error!("{}", sdk_error("cannot tell the gallery checker the registry changed", &e));
        }
    }
}
