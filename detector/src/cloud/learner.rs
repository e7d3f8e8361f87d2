//! Late binding, the curation worker's second job: a name given once relabels every past
//! video where that face was unknown, with no video decoded again.
//!
//! When a person names a cluster (or reassigns one) in video A, the worker scans the
//! index of unknown faces ([`super::unknown_index`]) with the person's evidence as it now
//! stands (the gallery's newest manifest, the named tracks' crop embeddings, the person's
//! rejected examples) under the detector's own rule ([`crate::late_binding`]), and names
//! each matching cluster of another video (or of A) after them: an action in that video's
//! ledger made by cameo itself, citing A's action as its cause, replayed like any other.
//! One face is one person at a time: a cluster on screen with the person there is left.
//! System relabels teach the gallery nothing ([`super::evidence`]).
//!
//! When A's action is undone, the relabels it caused are undone with it, each unless a
//! later action of a person in that video touched its tracks. How far the worker has
//! learned from a movie's actions is kept (`LEARNED`), so a message repeated or a worker
//! stopped half way neither learns twice nor forgets.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use cameo_model::curation::ledger::{
    ActionItem, ActionRef, Cause, CausedItem, CurationHead, HEAD_SK, LEARNED_SK, LearnedItem, PersonActionItem,
    action_sk, caused_prefix, caused_sk, changes_on, curation_pk, person_action_sk, system_editor,
};
use cameo_model::curation::{Analysis, Change, Curation, GroupRef, PersonRef, undo_moves};
use cameo_model::people::{ManifestRejected, person_pk};
use cameo_model::table::{MovieItem, movie_pk_of_id};
use cameo_model::unknown_index::{IndexEntry, named_since};
use jiff::{SignedDuration, Timestamp};

use super::curator::{Curator, output_of};
use super::gallery::enrol;
use super::registry::decode;
use super::s3::S3Uri;
use super::shard::JobOutput;
use super::table::{MAX_RACES, to_item};
use super::unknown_index::{PACK_AFTER, UnknownIndex};
use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::gallery::Gallery;
use crate::identify::{EnrolledPerson, MatchConfig};
use crate::late_binding::bound_to;
use crate::models::Models;
use crate::templates::of_tracks;

/// What late binding needs beside the curator: the index, the gallery's verdict cache,
/// and the models (to embed a photo the cache lacks; the checker embedded the rest); and
/// where its suggestions go ([`super::survey`]).
pub struct Learning {
    /// `s3://<processed>/<prefix>index/unknown/`.
    pub index: S3Uri,
    /// `s3://<processed>/<prefix>cache/gallery/`.
    pub cache: S3Uri,
    /// `s3://<processed>/<prefix>suggestions/`.
    pub suggestions: S3Uri,
    pub models: Mutex<Models>,
    /// The fingerprint of the last survey written, once read or made.
    pub(super) surveyed: Mutex<Option<String>>,
}

impl Learning {
    /// Late binding over the outputs under `output`'s bucket and prefix.
    pub fn of(output: &JobOutput, models: Models) -> Self {
        Learning {
            index: output.unknown_index(),
            cache: output.gallery_cache(),
            suggestions: output.suggestions(),
            models: Mutex::new(models),
            surveyed: Mutex::new(None),
        }
    }

    /// The sha256 of the fp32 recogniser: only the index's and the gallery's embeddings of
    /// it compare.
    pub(super) fn recognizer(&self) -> String {
        self.models.lock().map(|m| m.fp32_recognizer_file.sha256.clone()).unwrap_or_default()
    }
}

/// A movie's curation as read once: its item, analysis, ledger (head version and
/// actions), and its changes in force on this analysis (through its track map).
pub(super) struct MovieState {
    movie: MovieItem,
    analysis: Analysis,
    actions: Vec<ActionItem>,
    version: u64,
    changes: Vec<(u64, Change)>,
}

impl MovieState {
    /// Its curation now.
    fn curation(&self) -> Curation<'_> {
        Curation::replay(&self.analysis, &self.changes).0
    }
}

/// What one movie's new actions taught.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Learned {
    /// Relabels made, by movie.
    pub relabelled: BTreeMap<String, Vec<u64>>,
    /// Relabels undone, by movie.
    pub undone: BTreeMap<String, Vec<u64>>,
}

impl Curator<'_> {
    /// Learns from a movie's actions since it last did: binds what people named, takes
    /// back what undone namings had bound. Also brings the movie's tombstones in line.
    pub fn learn(&self, learning: &Learning, movie_id: &str) -> Result<Learned> {
        let mut learned = Learned::default();
        let index = UnknownIndex { aws: self.aws, root: learning.index.clone() };
        let Some(head) = self.head(movie_id)? else {
            if self.aws.movie_partition(&self.table, &movie_pk_of_id(movie_id))?.0.is_none() {
                index.erase(movie_id)?;
            }
            return Ok(learned);
        };
        self.refresh_tombstones(&index, movie_id)?;
        let since = self.learned_version(movie_id)?;
        if head.version <= since {
            return Ok(learned);
        }
        let actions = self.actions(movie_id)?;
        for action in actions.iter().filter(|a| a.seq > since && a.seq <= head.version && !a.by_system()) {
            match (&action.change, action.undoes) {
                (Some(Change::Name { person, .. } | Change::Reassign { to: person, .. }), _)
                    if action.undone_by.is_none() =>
                {
                    for (movie, seqs) in self.bind(learning, &index, action, person)? {
                        learned.relabelled.entry(movie).or_default().extend(seqs);
                    }
                }
                (None, Some(undone)) => {
                    let cause = Cause::Action(ActionRef { movie_id: movie_id.into(), seq: action.seq });
                    for (movie, seq) in self.unbind(&index, movie_id, undone, &cause)? {
                        learned.undone.entry(movie).or_default().push(seq);
                    }
                }
                _ => {}
            }
        }
        let item = LearnedItem { pk: curation_pk(movie_id), sk: LEARNED_SK.into(), version: head.version };
        self.aws
            .block_on(self.aws.dynamodb.put_item().table_name(&self.table).set_item(Some(to_item(&item)?)).send())
            .map_err(|e| Error::Inference(format!("cannot record what was learned from {movie_id}: {e}")))?;
        Ok(learned)
    }

    fn learned_version(&self, movie_id: &str) -> Result<u64> {
        let item = self.aws.get_item(&self.table, curation_pk(movie_id), LEARNED_SK)?;
        Ok(item.map(decode::<LearnedItem>).transpose()?.map_or(0, |l| l.version))
    }

    /// The person's evidence now, against everyone's: the gallery's newest manifest, the
    /// tracks an action named in a movie (their crops' embeddings), the person's rejected
    /// examples. Returns the gallery and the person's place in it.
    pub(super) fn gallery_with(
        &self,
        learning: &Learning,
        named: Option<(&MovieState, &ActionItem)>,
        person: &PersonRef,
    ) -> Result<(Gallery, usize)> {
        let recognizer = learning.recognizer();
        let mut gallery = self.newest_gallery(learning)?;
        let place = match gallery.people.iter().position(|p| p.name == person.name) {
            Some(place) => place,
            None => {
                gallery.people.push(EnrolledPerson::new(person.name.clone(), Vec::new()));
                gallery.people.len() - 1
            }
        };
        if let Some((named_in, action)) = named
            && named_in.movie.job == action.job
        {
            let templates = self.templates(&output_of(&named_in.movie)?)?;
            let named = of_tracks(&templates, &named_in.analysis, &person.name, action_tracks(action));
            if named.recognizer.sha256 == recognizer {
                let crops = named.groups.into_iter().flat_map(|g| g.embeddings);
                gallery.people[place].embeddings.extend(crops.map(|e| Embedding(e.embedding)));
            }
        }
        if let Some(person_id) = &person.person_id {
            gallery.people[place].rejected = self.rejected_embeddings(person_id, &recognizer)?;
        }
        Ok((gallery, place))
    }

    /// The gallery as its newest manifest lists it (one written after any job that could
    /// pin it), enrolled from the verdict cache.
    pub(super) fn newest_gallery(&self, learning: &Learning) -> Result<Gallery> {
        let Some(uri) = &self.gallery else { return Ok(Gallery::default()) };
        let mut models = learning.models.lock().map_err(|_| Error::Inference("the models are poisoned".into()))?;
        let now = Timestamp::now() + SignedDuration::from_secs(2);
        enrol(uri, Some(now), learning.cache.clone(), self.aws, &mut models)
    }

    /// A person's rejected examples as the registry holds them now (the manifest may lag);
    /// those that cannot be used are left out, as a shard leaves them.
    fn rejected_embeddings(&self, person_id: &str, recognizer: &str) -> Result<Vec<Embedding>> {
        let mut examples = Vec::new();
        for kept in self.aws.rejected(&self.table, person_id, None)? {
            let listed = ManifestRejected { uri: kept.uri, sha256: kept.sha256 };
            match self.aws.rejected_examples(&listed, recognizer) {
                Ok(found) => examples.extend(found),
                Err(reason) => tracing::warn!(uri = listed.uri, "rejected examples skipped: {reason}"),
            }
        }
        Ok(examples)
    }

    /// Names after `person` every unknown cluster of the index the evidence `action` gave
    /// them now wins; returns the relabels made, by movie.
    fn bind(
        &self,
        learning: &Learning,
        index: &UnknownIndex,
        action: &ActionItem,
        person: &PersonRef,
    ) -> Result<BTreeMap<String, Vec<u64>>> {
        if person.person_id.is_none() {
            return Ok(BTreeMap::new());
        }
        let named_in = self
            .state(&action.movie_id)?
            .ok_or_else(|| Error::Inference(format!("the movie {} is gone", action.movie_id)))?;
        let (gallery, place) = self.gallery_with(learning, Some((&named_in, action)), person)?;
        let rule = MatchConfig::of(&named_in.analysis.document.parameters);
        let cause = Cause::Action(ActionRef { movie_id: action.movie_id.clone(), seq: action.seq });
        self.bind_in(learning, index, (&gallery, place), &rule, person, &cause)
    }

    /// Names after `person` (`gallery[place]`) every unknown cluster of the index that
    /// `rule` gives them, as cameo's actions citing `cause`; returns them, by movie.
    pub(super) fn bind_in(
        &self,
        learning: &Learning,
        index: &UnknownIndex,
        (gallery, place): (&Gallery, usize),
        rule: &MatchConfig,
        person: &PersonRef,
        cause: &Cause,
    ) -> Result<BTreeMap<String, Vec<u64>>> {
        if gallery.people[place].embeddings.is_empty() {
            return Ok(BTreeMap::new());
        }
        let recognizer = learning.recognizer();
        let mut found: BTreeMap<String, Vec<IndexEntry>> = BTreeMap::new();
        index.scan(|read| {
            if !read.entries.is_empty() && read.recognizer != recognizer {
                tracing::warn!(shard = read.name, "the index shard is of another recogniser: analyse its videos again");
                return Ok(());
            }
            for bound in bound_to(read.live(), &gallery.people, place, rule) {
                found.entry(bound.entry.movie_id.clone()).or_default().push(bound.entry.clone());
            }
            if read.added.len() >= PACK_AFTER {
                index.pack(read)?;
            }
            Ok(())
        })?;
        let mut relabelled = BTreeMap::new();
        for (movie_id, entries) in found {
            let seqs = self.relabel(index, &movie_id, entries, person, cause)?;
            if !seqs.is_empty() {
                relabelled.insert(movie_id, seqs);
            }
        }
        tracing::info!(person = person.name, movies = relabelled.len(), "late binding");
        Ok(relabelled)
    }

    /// A movie's curation as it stands; `None` when the movie is gone.
    fn state(&self, movie_id: &str) -> Result<Option<MovieState>> {
        let (Some(movie), _) = self.aws.movie_partition(&self.table, &movie_pk_of_id(movie_id))? else {
            return Ok(None);
        };
        let version = self.head(movie_id)?.map_or(0, |h| h.version);
        let output = output_of(&movie)?;
        let analysis = self.analysis(&output)?;
        let actions = self.actions(movie_id)?;
        let map = self.track_map(movie_id, &output, &analysis, &actions)?;
        let changes = changes_on(&actions, map.as_ref());
        Ok(Some(MovieState { movie, analysis, actions, version, changes }))
    }

    /// Records, as cameo's, the namings of `entries` (one movie's) that can still be made,
    /// then brings the movie up to date. Returns their numbers.
    fn relabel(
        &self,
        index: &UnknownIndex,
        movie_id: &str,
        entries: Vec<IndexEntry>,
        person: &PersonRef,
        cause: &Cause,
    ) -> Result<Vec<u64>> {
        for _ in 0..MAX_RACES {
            let Some(state) = self.state(movie_id)? else {
                index.mark(movie_id, |dead| dead.erased = true)?;
                return Ok(Vec::new());
            };
            let job = &state.movie.job;
            let (current, replaced): (Vec<&IndexEntry>, Vec<&IndexEntry>) = entries.iter().partition(|e| e.job == *job);
            if !replaced.is_empty() {
                index.mark(movie_id, |dead| dead.superseded.extend(replaced.iter().map(|e| e.job.clone())))?;
            }
            let mut curation = state.curation();
            let mut made = Vec::new();
            for entry in current {
                let seq = state.version + 1 + made.len() as u64;
                let change = Change::Name { tracks: entry.tracks.clone(), person: person.clone() };
                let before = curation.groups_of(&entry.tracks);
                // Named, split or dismissed since, or on screen with the person: left.
                if curation.make(seq, &change).is_err() {
                    continue;
                }
                let after = curation.groups_of(&entry.tracks);
                if after == before {
                    continue;
                }
                made.push(system_action(movie_id, job, seq, (Some(change), None), (before, after), cause));
            }
            if !made.is_empty() {
                if !self.record(state.version, &made, None)? {
                    continue;
                }
                Curator::replaying(self.aws, &self.table).apply(movie_id)?;
            }
            self.mark_named(index, movie_id, &state, &curation)?;
            return Ok(made.iter().map(|a| a.seq).collect());
        }
        Err(Error::Inference(format!("the movie {movie_id} kept changing while it was relabelled")))
    }

    /// Undoes the relabels that action `undone` of `movie_id` caused, each unless a later
    /// action of a person in its video touched its tracks; returns those undone.
    fn unbind(&self, index: &UnknownIndex, movie_id: &str, undone: u64, cause: &Cause) -> Result<Vec<(String, u64)>> {
        let pointers = self.query_prefix(&curation_pk(movie_id), &caused_prefix(undone))?;
        let mut taken_back = Vec::new();
        for pointer in pointers {
            let pointer: CausedItem = decode(pointer)?;
            if self.take_back(index, &pointer.movie_id, pointer.seq, cause)? {
                taken_back.push((pointer.movie_id, pointer.seq));
            }
        }
        Ok(taken_back)
    }

    /// Undoes relabel `seq` of a movie, as cameo's, unless it is undone already or a
    /// person acted on its tracks since; then brings the movie up to date.
    fn take_back(&self, index: &UnknownIndex, movie_id: &str, seq: u64, cause: &Cause) -> Result<bool> {
        for _ in 0..MAX_RACES {
            let Some(state) = self.state(movie_id)? else { return Ok(false) };
            let actions = &state.actions;
            let Some(relabel) = actions.iter().find(|a| a.seq == seq) else { return Ok(false) };
            let tracks = action_tracks(relabel);
            let touched = actions.iter().any(|a| {
                a.seq > seq && !a.by_system() && {
                    let theirs = a.change.as_ref().or_else(|| {
                        let undone = a.undoes.and_then(|u| actions.iter().find(|b| b.seq == u));
                        undone.and_then(|b| b.change.as_ref())
                    });
                    theirs.is_some_and(|c| c.tracks().iter().any(|t| tracks.contains(t)))
                }
            });
            if relabel.undone_by.is_some() || touched {
                return Ok(false);
            }
            let moved = undo_moves(&state.analysis, &state.changes, seq);
            let next = state.version + 1;
            let undo = system_action(movie_id, &state.movie.job, next, (None, Some(seq)), moved, cause);
            if self.record(state.version, std::slice::from_ref(&undo), Some(relabel))? {
                Curator::replaying(self.aws, &self.table).apply(movie_id)?;
                let remaining: Vec<(u64, Change)> = state.changes.iter().filter(|(s, _)| *s != seq).cloned().collect();
                self.mark_named(index, movie_id, &state, &Curation::replay(&state.analysis, &remaining).0)?;
                return Ok(true);
            }
        }
        Err(Error::Inference(format!("the movie {movie_id} kept changing while a relabel was undone")))
    }

    /// Writes cameo's actions in one transaction guarded by the head's version (as the API
    /// writes a person's): the head, the actions, the person pointers, the cause's
    /// pointers, and the mark of the action undone. `false` when the head moved.
    fn record(&self, version: u64, made: &[ActionItem], undone: Option<&ActionItem>) -> Result<bool> {
        let Some(last) = made.last() else { return Ok(true) };
        let movie_id = &last.movie_id;
        let head = CurationHead {
            pk: curation_pk(movie_id),
            sk: HEAD_SK.into(),
            version: last.seq,
            updated_at: last.at.clone(),
        };
        let head_condition = match version {
            0 => "attribute_not_exists(pk)",
            _ => "version = :read",
        };
        let mut head_put =
            Put::builder().table_name(&self.table).set_item(Some(to_item(&head)?)).condition_expression(head_condition);
        if version > 0 {
            head_put = head_put.expression_attribute_values(":read", AttributeValue::N(version.to_string()));
        }
        let mut writes = vec![head_put];
        for action in made {
            writes.push(self.put(action)?.condition_expression("attribute_not_exists(pk)"));
            let change = action.change.as_ref().or_else(|| undone.and_then(|u| u.change.as_ref()));
            for person_id in change.map(Change::people).unwrap_or_default().iter().filter_map(|p| p.person_id.as_ref())
            {
                let pointer = PersonActionItem {
                    pk: person_pk(person_id),
                    sk: person_action_sk(movie_id, action.seq),
                    movie_id: movie_id.clone(),
                    seq: action.seq,
                    at: action.at.clone(),
                };
                writes.push(self.put(&pointer)?);
            }
            if let (Some(cause), Some(_)) = (action.cause.as_ref().and_then(Cause::action), &action.change) {
                let pointer = CausedItem {
                    pk: curation_pk(&cause.movie_id),
                    sk: caused_sk(cause.seq, movie_id, action.seq),
                    movie_id: movie_id.clone(),
                    seq: action.seq,
                };
                writes.push(self.put(&pointer)?);
            }
        }
        if let Some(undone) = undone {
            let marked = ActionItem { undone_by: Some(last.seq), ..undone.clone() };
            writes.push(self.put(&marked)?.condition_expression("attribute_not_exists(undoneBy)"));
        }
        let writes = writes
            .into_iter()
            .map(|put| put.build().map(|p| TransactWriteItem::builder().put(p).build()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Inference(e.to_string()))?;
        let written =
            self.aws.block_on(self.aws.dynamodb.transact_write_items().set_transact_items(Some(writes)).send());
        match written {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Ok(false),
            Err(e) => Err(Error::Inference(format!("cannot record a relabel of {movie_id}: {e:?}"))),
        }
    }

    fn put<T: serde::Serialize>(&self, item: &T) -> Result<aws_sdk_dynamodb::types::builders::PutBuilder> {
        Ok(Put::builder().table_name(&self.table).set_item(Some(to_item(item)?)))
    }

    /// The movie's analysed unknown clusters that are not unknown now, and its analyses
    /// replaced, as its index shard's tombstones.
    fn refresh_tombstones(&self, index: &UnknownIndex, movie_id: &str) -> Result<()> {
        match self.state(movie_id)? {
            Some(state) => self.mark_named(index, movie_id, &state, &state.curation()),
            None => index.mark(movie_id, |dead| dead.erased = true),
        }
    }

    /// Marks in the tombstones the clusters of the movie's analysis that `curation` (its
    /// corrections as they now stand) no longer holds unknown.
    fn mark_named(&self, index: &UnknownIndex, movie_id: &str, state: &MovieState, curation: &Curation) -> Result<()> {
        let named = named_since(&state.analysis, &curation.document(None));
        let job = &state.movie.job;
        index.mark(movie_id, |dead| {
            // An analysis replaced by this one is over.
            let replaced: Vec<String> = dead.named.keys().filter(|j| *j != job).cloned().collect();
            dead.superseded.extend(replaced);
            dead.named.retain(|j, _| j == job);
            match named.is_empty() {
                true => dead.named.remove(job),
                false => dead.named.insert(job.clone(), named),
            };
        })
    }
}

/// An action of cameo's in a movie's ledger: a change, or the undo of one; `moved` are the
/// groups before and after it.
fn system_action(
    movie_id: &str,
    job: &str,
    seq: u64,
    (change, undoes): (Option<Change>, Option<u64>),
    (before, after): (Vec<GroupRef>, Vec<GroupRef>),
    cause: &Cause,
) -> ActionItem {
    ActionItem {
        pk: curation_pk(movie_id),
        sk: action_sk(seq),
        movie_id: movie_id.into(),
        seq,
        job: job.into(),
        change,
        undoes,
        undone_by: None,
        by: system_editor(),
        at: Timestamp::now().to_string(),
        before,
        after,
        cause: Some(cause.clone()),
    }
}

/// The tracks an action names.
fn action_tracks(action: &ActionItem) -> &[String] {
    action.change.as_ref().map(Change::tracks).unwrap_or_default()
}
