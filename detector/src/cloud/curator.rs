//! The curation worker (`cameo-detector curation-worker`): the one writer of curated
//! results. The API records each action in the curation ledger and queues the movie; the
//! worker replays the movie's active changes on its analysis
//! ([`cameo_model::curation`]), writes the results document and rewrites the table items
//! in one transaction conditioned on the movie's version, trying again when a merge or
//! another write got there first. It always brings a movie to its latest head, so a
//! message repeated, late or out of order does no harm.
//!
//! Then it brings the gallery in line with the corrections ([`super::evidence`]), and
//! looks for what a naming teaches in every other video ([`super::learner`]). When the
//! queue is quiet, it looks for the gallery's new photos in every video
//! ([`super::photo_learning`]) and brings the suggestions for naming up to date
//! ([`super::survey`]).

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_model::curation::ledger::{
    ACTION_SK_PREFIX, ActionItem, CurationHead, CurationQueued, HEAD_SK, changes_on, curation_pk,
};
use cameo_model::curation::{Analysis, Curation};
use cameo_model::table::{MovieItem, movie_pk_of_id};
use cameo_model::templates::TemplatesDocument;
use jiff::Timestamp;

use super::aws::{Aws, sdk_error};
use super::learner::{Learned, Learning};
use super::merge::put_results;
use super::registry::decode;
use super::s3::S3Uri;
use super::shard::JobOutput;
use super::table::{Item, MAX_RACES, Provenance, items};
use crate::error::{Error, Result};

pub struct Curator<'a> {
    pub aws: &'a Aws,
    pub table: String,
    /// `s3://<raw>/<gallery prefix>`: where a named cluster's crops go as the person's
    /// photos. Unset, naming adds no photos.
    pub gallery: Option<S3Uri>,
    /// The gallery checker's queue, told when the gallery's evidence changes (it rebuilds
    /// the manifest); unset, nobody is told.
    pub gallery_queue_url: Option<String>,
    /// Whether it keeps what corrections teach the gallery ([`super::evidence`]): the
    /// worker does; a merge replaying corrections on a new analysis does not (nor may).
    pub teaches: bool,
    /// Late binding ([`super::learner`]); unset, a naming relabels no other video.
    pub learning: Option<&'a Learning>,
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

impl<'a> Curator<'a> {
    /// What a merge replays corrections with: the results and items only.
    pub fn replaying(aws: &'a Aws, table: &str) -> Self {
        Curator { aws, table: table.into(), gallery: None, gallery_queue_url: None, teaches: false, learning: None }
    }

    /// Serves the curation queue; with `once`, stops when it is empty.
    pub fn serve(&self, queue_url: &str, wait: Duration, once: bool) -> Result<()> {
        loop {
            let messages = self.aws.receive(queue_url, wait, "the curation queue")?;
            if messages.is_empty() {
                // A quiet queue: time to learn from the gallery's new photos, then to bring
                // the suggestions up to date.
                if let Some(learning) = self.learning {
                    match self.learn_photos(learning) {
                        Ok(learned) if learned != Learned::default() => tracing::info!(?learned, "learned from photos"),
                        Ok(_) => {}
                        Err(e) => tracing::error!("the gallery's new photos could not be learned from: {e}"),
                    }
                    if let Err(e) = self.survey(learning) {
                        tracing::error!("the suggestions could not be surveyed: {e}");
                    }
                }
                if once {
                    return Ok(());
                }
            }
            for message in &messages {
                let outcome = serde_json::from_str::<CurationQueued>(message.body().unwrap_or_default())
                    .map_err(|e| Error::Inference(format!("not a curation message ({e}); left for the dead letters")))
                    .and_then(|queued| {
                        let applied = self.apply(&queued.movie_id)?;
                        let learned = self.learning.map(|l| self.learn(l, &queued.movie_id)).transpose()?;
                        Ok((applied, learned))
                    });
                match outcome {
                    Ok((applied, learned)) => {
                        tracing::info!(?applied, ?learned, "curated");
                        self.aws.delete_message(queue_url, message.receipt_handle().unwrap_or_default())?;
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
            let written = movie.curation_version.is_some_and(|v| v >= head.version);
            if written && !self.teaches {
                return Ok(Applied::UpToDate(head.version));
            }
            let output = output_of(&movie)?;
            let analysis = self.analysis(&output)?;
            let actions = self.actions(movie_id)?;
            if written {
                // Written already (by this worker before it stopped, or by a merge that
                // replayed the corrections): the gallery's evidence may still be owed.
                if self.teaches {
                    self.teach(movie_id, &output, &analysis, &actions)?;
                }
                return Ok(Applied::UpToDate(head.version));
            }
            let map = self.track_map(movie_id, &output, &analysis, &actions)?;
            let (curation, refused) = Curation::replay(&analysis, &changes_on(&actions, map.as_ref()));
            let document = curation.document(Some(head.version));
            put_results(self.aws, &output, &document)?;
            let items = items(&document, &provenance(&movie)?);
            if self.aws.rewrite_items(&self.table, &movie, &current, items, head.version)? {
                if self.teaches {
                    self.teach(movie_id, &output, &analysis, &actions)?;
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

    pub(super) fn head(&self, movie_id: &str) -> Result<Option<CurationHead>> {
        self.aws.get_item(&self.table, curation_pk(movie_id), HEAD_SK)?.map(decode).transpose()
    }

    pub(super) fn actions(&self, movie_id: &str) -> Result<Vec<ActionItem>> {
        self.query_prefix(&curation_pk(movie_id), ACTION_SK_PREFIX)?.into_iter().map(decode).collect()
    }

    /// The items of a partition whose sort keys begin with `prefix`, read consistently.
    pub(super) fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>> {
        let pages = self
            .aws
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>();
        self.aws
            .block_on(pages)
            .into_iter()
            .map(|item| item.map_err(|e| sdk_error("cannot read the curation ledger", &e)))
            .collect()
    }

    /// The analysis beside a job's results document.
    pub(super) fn analysis(&self, output: &JobOutput) -> Result<Analysis> {
        self.read_analysis(output)?.ok_or_else(|| {
            Error::Inference(format!(
                "{} is missing: the video was analysed before corrections were kept; analyse it again",
                output.analysis()
            ))
        })
    }

    pub(super) fn read_analysis(&self, output: &JobOutput) -> Result<Option<Analysis>> {
        self.read_json(&output.analysis(), "an analysis")
    }

    /// A job's face templates.
    pub(super) fn templates(&self, output: &JobOutput) -> Result<TemplatesDocument> {
        self.read_templates(output)?.ok_or_else(|| Error::Inference(format!("{} is missing", output.templates())))
    }

    pub(super) fn read_templates(&self, output: &JobOutput) -> Result<Option<TemplatesDocument>> {
        self.read_json(&output.templates(), "a templates document")
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, uri: &S3Uri, what: &str) -> Result<Option<T>> {
        let Some(bytes) = self.aws.get(uri)? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Inference(format!("{uri} is not {what}: {e}")))
    }
}

/// The outputs of the job a movie's results are of.
pub(super) fn output_of(movie: &MovieItem) -> Result<JobOutput> {
    let result = S3Uri::parse(&movie.result_uri)
        .ok_or_else(|| Error::Inference(format!("the movie {} has no results URI", movie.pk)))?;
    JobOutput::of_result(&result, &movie.job)
        .ok_or_else(|| Error::Inference(format!("{result} is not where job {} writes", movie.job)))
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
