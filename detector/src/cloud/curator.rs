//! The curation worker (`cameo-detector curation-worker`): the one writer of curated
//! results. The API records each action in the curation ledger and queues the movie; the
//! worker replays the movie's active changes on its analysis
//! ([`cameo_model::curation`]), writes the results document and rewrites the table items
//! in one transaction conditioned on the movie's version, trying again when a merge or
//! another write got there first. It always brings a movie to its latest head, so a
//! message repeated, late or out of order does no harm.
//!
//! "Not this person" sticks: the faces of a rejected (or reassigned) track become the
//! person's rejected examples, the fp32 embeddings of its crops from the video's
//! templates, kept under `templates/rejected/` with an item in the registry; the gallery
//! checker lists them in the manifest, and every later analysis refuses those faces.
//! Undoing the action takes them back.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_model::curation::ledger::{
    ACTION_SK_PREFIX, ActionItem, CurationHead, CurationQueued, HEAD_SK, active_changes, curation_pk,
};
use cameo_model::curation::{Analysis, Change, Curation, PersonRef};
use cameo_model::people::{RegistryChanged, RejectedItem, person_pk, rejected_sk};
use cameo_model::table::{MovieItem, movie_pk_of_id};
use cameo_model::templates::TemplatesDocument;
use jiff::Timestamp;

use super::aws::{Aws, sdk_error};
use super::s3::S3Uri;
use super::shard::JobOutput;
use super::table::{MAX_RACES, Provenance, items};
use crate::error::{Error, Result};
use crate::gallery::content_hash;
use crate::templates::of_tracks;

pub struct Curator<'a> {
    pub aws: &'a Aws,
    pub table: String,
    /// The gallery checker's queue, told when rejected examples change (it rebuilds the
    /// manifest); unset, nobody is told.
    pub gallery_queue_url: Option<String>,
}

/// What bringing a movie up to date did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The movie has no curation, or no results yet.
    Nothing,
    /// Its results already include this version.
    UpToDate(u64),
    /// Its results now include this version; the changes that no longer apply, by number.
    Curated { version: u64, skipped: Vec<u64> },
}

impl Curator<'_> {
    /// Serves the curation queue; with `once`, stops when it is empty.
    pub fn serve(&self, queue_url: &str, wait: Duration, once: bool) -> Result<()> {
        loop {
            let receive = self
                .aws
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait.as_secs().min(20) as i32);
            let messages = self
                .aws
                .block_on(receive.send())
                .map_err(|e| sdk_error("cannot receive from the curation queue", &e))?
                .messages
                .unwrap_or_default();
            if messages.is_empty() && once {
                return Ok(());
            }
            for message in &messages {
                let outcome = serde_json::from_str::<CurationQueued>(message.body().unwrap_or_default())
                    .map_err(|e| Error::Inference(format!("not a curation message ({e}); left for the dead letters")))
                    .and_then(|queued| self.apply(&queued.movie_id));
                match outcome {
                    Ok(applied) => {
                        tracing::info!(?applied, "curated");
                        let receipt = message.receipt_handle().unwrap_or_default();
                        let delete = self.aws.sqs.delete_message().queue_url(queue_url).receipt_handle(receipt);
                        self.aws
                            .block_on(delete.send())
                            .map_err(|e| sdk_error("cannot delete a handled message", &e))?;
                    }
                    Err(e) => tracing::error!(message = message.message_id().unwrap_or_default(), "{e}"),
                }
            }
        }
    }

    /// Brings a movie's results document and items up to its curation head.
    pub fn apply(&self, movie_id: &str) -> Result<Applied> {
        for _ in 0..MAX_RACES {
            let Some(head) = self.head(movie_id)? else { return Ok(Applied::Nothing) };
            let (Some(movie), current) = self.aws.movie_partition(&self.table, &movie_pk_of_id(movie_id))? else {
                return Ok(Applied::Nothing);
            };
            if movie.curation_version.is_some_and(|v| v >= head.version) {
                return Ok(Applied::UpToDate(head.version));
            }
            let result = S3Uri::parse(&movie.result_uri)
                .ok_or_else(|| Error::Inference(format!("the movie {movie_id} has no results URI")))?;
            let output = JobOutput::of_result(&result, &movie.job)
                .ok_or_else(|| Error::Inference(format!("{result} is not where job {} writes", movie.job)))?;
            let analysis = self.analysis(&output)?;
            let actions = self.actions(movie_id)?;
            let (curation, refused) = Curation::replay(&analysis, &active_changes(&actions));
            let document = curation.document(Some(head.version));
            let json = serde_json::to_vec_pretty(&document).map_err(|e| Error::Inference(e.to_string()))?;
            self.aws.put(&result, json, "application/json")?;
            let items = items(&document, &provenance(&movie)?);
            if self.aws.rewrite_items(&self.table, &movie, &current, items, head.version)? {
                if self.keep_rejected(movie_id, &output, &analysis, &actions)? {
                    self.registry_changed();
                }
                let skipped = refused.iter().map(|(seq, _)| *seq).collect();
                for (seq, refusal) in &refused {
                    tracing::info!(
                        movie_id,
                        seq,
                        code = refusal.code,
                        "a change no longer applies: {}",
                        refusal.message
                    );
                }
                return Ok(Applied::Curated { version: head.version, skipped });
            }
            tracing::info!(movie_id, "the movie changed while it was curated: again");
        }
        Err(Error::Inference(format!("the movie {movie_id} kept changing while it was curated")))
    }

    fn head(&self, movie_id: &str) -> Result<Option<CurationHead>> {
        let get = self
            .aws
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(curation_pk(movie_id)))
            .key("sk", AttributeValue::S(HEAD_SK.into()))
            .consistent_read(true);
        let item = self.aws.block_on(get.send()).map_err(|e| sdk_error("cannot read a curation head", &e))?.item;
        item.map(|item| serde_dynamo::from_item(item).map_err(|e| Error::Inference(format!("a curation head: {e}"))))
            .transpose()
    }

    fn actions(&self, movie_id: &str) -> Result<Vec<ActionItem>> {
        let pages = self
            .aws
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :actions)")
            .expression_attribute_values(":pk", AttributeValue::S(curation_pk(movie_id)))
            .expression_attribute_values(":actions", AttributeValue::S(ACTION_SK_PREFIX.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>();
        self.aws
            .block_on(pages)
            .into_iter()
            .map(|item| {
                let item = item.map_err(|e| sdk_error("cannot read the curation ledger", &e))?;
                serde_dynamo::from_item(item).map_err(|e| Error::Inference(format!("a curation action: {e}")))
            })
            .collect()
    }

    /// The analysis beside a job's results document.
    fn analysis(&self, output: &JobOutput) -> Result<Analysis> {
        let uri = output.analysis();
        let bytes = self.aws.get(&uri)?.ok_or_else(|| {
            Error::Inference(format!(
                "{uri} is missing: the video was analysed before corrections were kept; analyse it again"
            ))
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Inference(format!("{uri} is not an analysis: {e}")))
    }
}

impl Curator<'_> {
    /// Keeps each person's rejected examples from this movie as its actions stand: those
    /// of every rejection and reassignment in force (made from the video's templates when
    /// first kept; one that no longer applies keeps what it had), none of those undone.
    /// True when any were added or taken back.
    fn keep_rejected(
        &self,
        movie_id: &str,
        output: &JobOutput,
        analysis: &Analysis,
        actions: &[ActionItem],
    ) -> Result<bool> {
        let wanted: Vec<(u64, PersonRef, Vec<String>)> = active_changes(actions)
            .into_iter()
            .filter_map(|(seq, change)| not_them(&change).map(|(person, tracks)| (seq, person, tracks)))
            .filter(|(_, person, _)| person.person_id.is_some())
            .collect();
        let people: BTreeSet<String> =
            actions.iter().filter_map(|a| not_them(a.change.as_ref()?)?.0.person_id).collect();
        let mut kept = Vec::new();
        for person_id in &people {
            kept.extend(self.aws.rejected(&self.table, person_id, Some(movie_id))?);
        }
        let is_wanted = |k: &RejectedItem| {
            wanted.iter().any(|(seq, person, _)| k.seq == *seq && person.person_id.as_deref() == Some(&k.person_id))
        };
        let mut changed = false;
        for undone in kept.iter().filter(|k| !is_wanted(k)) {
            self.aws.delete_rejected(&self.table, undone)?;
            if let Some(uri) = S3Uri::parse(&undone.uri) {
                self.aws.erase_versions(&uri)?;
            }
            tracing::info!(movie_id, seq = undone.seq, person = undone.person_id, "rejected examples taken back");
            changed = true;
        }
        let mut templates = None;
        for (seq, person, tracks) in &wanted {
            let person_id = person.person_id.as_deref().unwrap_or_default();
            if kept.iter().any(|k| k.seq == *seq && k.person_id == person_id) {
                continue;
            }
            let templates = match &templates {
                Some(templates) => templates,
                None => templates.insert(self.templates(output)?),
            };
            let document = of_tracks(templates, analysis, &person.name, tracks);
            let examples = document.groups.iter().map(|g| g.embeddings.len()).sum::<usize>();
            if examples == 0 {
                tracing::warn!(movie_id, seq, "the rejected tracks have no face templates: nothing to keep");
                continue;
            }
            let bytes = serde_json::to_vec(&document).map_err(|e| Error::Inference(e.to_string()))?;
            let uri = output.rejected(person_id, movie_id, *seq);
            let item = RejectedItem {
                pk: person_pk(person_id),
                sk: rejected_sk(movie_id, *seq),
                person_id: person_id.into(),
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

    fn templates(&self, output: &JobOutput) -> Result<TemplatesDocument> {
        let uri = output.templates();
        let bytes = self.aws.get(&uri)?.ok_or_else(|| Error::Inference(format!("{uri} is missing")))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Inference(format!("{uri} is not a templates document: {e}")))
    }

    /// Tells the gallery checker to rebuild the manifest. Best effort: the checker also
    /// rebuilds it whenever it starts.
    fn registry_changed(&self) {
        let Some(queue) = &self.gallery_queue_url else { return };
        let body = serde_json::to_string(&RegistryChanged { rebuild: true, erased_photos: vec![] }).unwrap_or_default();
        let send = self.aws.sqs.send_message().queue_url(queue).message_body(body);
        if let Err(e) = self.aws.block_on(send.send()) {
            tracing::error!("{}", sdk_error("cannot tell the gallery checker the registry changed", &e));
        }
    }
}

/// The person a change says some tracks are not, and those tracks.
fn not_them(change: &Change) -> Option<(PersonRef, Vec<String>)> {
    match change {
        Change::Reject { tracks, person } => Some((person.clone(), tracks.clone())),
        Change::Reassign { tracks, from, .. } => Some((from.clone(), tracks.clone())),
        _ => None,
    }
}

/// Where a movie item says its items came from.
fn provenance(movie: &MovieItem) -> Result<Provenance<'_>> {
    let time = |text: &str| {
        text.parse::<Timestamp>()
            .map_err(|e| Error::Inference(format!("the movie item {} has a bad time: {e}", movie.pk)))
    };
    Ok(Provenance {
        source: &movie.source,
        job: &movie.job,
        result_uri: &movie.result_uri,
        processed_at: time(&movie.processed_at)?,
        finished_at: time(&movie.finished_at)?,
    })
}
