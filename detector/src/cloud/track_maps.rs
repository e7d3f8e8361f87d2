//! Corrections survive a re-analysis: when a video is analysed again (a new VideoJob),
//! the tracks its corrections name are found in the new analysis by their faces
//! ([`crate::rematch`]), and the answer is kept as the new analysis's track map
//! (`CURATION#<movie id>` / `TRACKS#<job>`), through which the API and the worker replay
//! the corrections. What could not be found is kept too, and the audit says so.

use std::collections::BTreeSet;

use cameo_model::curation::Analysis;
use cameo_model::curation::ledger::{ActionItem, TrackMap, curation_pk, track_map_sk};
use jiff::Timestamp;

use super::aws::sdk_error;
use super::curator::Curator;
use super::registry::decode;
use super::shard::JobOutput;
use super::table::to_item;
use crate::error::Result;
use crate::identify::MatchConfig;
use crate::rematch::{rematch, track_faces};

impl Curator<'_> {
    /// The track map of the analysis `output` holds, covering every earlier analysis a
    /// correction was made on; `None` when every correction was made on this one.
    pub(super) fn track_map(
        &self,
        movie_id: &str,
        output: &JobOutput,
        analysis: &Analysis,
        actions: &[ActionItem],
    ) -> Result<Option<TrackMap>> {
        let earlier: BTreeSet<&str> =
            actions.iter().map(|a| a.job.as_str()).filter(|job| !job.is_empty() && *job != output.job).collect();
        if earlier.is_empty() {
            return Ok(None);
        }
        let mut map = self.stored_map(movie_id, &output.job)?.unwrap_or_else(|| TrackMap {
            pk: curation_pk(movie_id),
            sk: track_map_sk(&output.job),
            job: output.job.clone(),
            ..TrackMap::default()
        });
        let missing: Vec<&str> =
            earlier.into_iter().filter(|job| !map.found.contains_key(*job) && !map.lost.contains_key(*job)).collect();
        if missing.is_empty() {
            return Ok(Some(map));
        }
        let rule = MatchConfig::of(&analysis.document.parameters);
        let later = track_faces(analysis, &self.templates(output)?);
        for job in missing {
            // Only the tracks corrections name are looked for.
            let named: BTreeSet<&String> = actions
                .iter()
                .filter(|a| a.job == job)
                .filter_map(|a| a.change.as_ref())
                .flat_map(|c| c.tracks())
                .collect();
            let before = JobOutput::new(&output.bucket, &output.prefix, job);
            let (found, lost) = match (self.read_analysis(&before)?, self.read_templates(&before)?) {
                (Some(analysis), Some(templates)) => {
                    let earlier: Vec<_> =
                        track_faces(&analysis, &templates).into_iter().filter(|t| named.contains(&t.id)).collect();
                    let (found, mut lost) = rematch(&earlier, &later, &rule);
                    lost.extend(named.iter().filter(|t| !earlier.iter().any(|e| e.id == ***t)).map(|t| t.to_string()));
                    (found, lost)
                }
                _ => {
                    tracing::warn!(
                        movie_id,
                        job,
                        "the earlier analysis is gone: its corrections cannot be found again"
                    );
                    (Default::default(), named.into_iter().cloned().collect())
                }
            };
            tracing::info!(
                movie_id,
                from = job,
                to = output.job,
                found = found.len(),
                lost = lost.len(),
                "tracks found again"
            );
            map.found.insert(job.to_string(), found);
            map.lost.insert(job.to_string(), lost);
        }
        map.at = Timestamp::now().to_string();
        let put = self.aws.dynamodb.put_item().table_name(&self.table).set_item(Some(to_item(&map)?));
        self.aws.block_on(put.send()).map_err(|e| sdk_error("cannot keep a track map", &e))?;
        Ok(Some(map))
    }

    fn stored_map(&self, movie_id: &str, job: &str) -> Result<Option<TrackMap>> {
        self.aws.get_item(&self.table, curation_pk(movie_id), &track_map_sk(job))?.map(decode).transpose()
    }
}
