//! Correcting a video's result (scope `cameo/curate`): `POST /videos/{id}/curation` names
//! an unknown cluster, rejects or reassigns a match, dismisses a stranger or splits a
//! cluster; `POST /videos/{id}/curation/{seq}/undo` undoes one action; `GET
//! /videos/{id}/curation` and `GET /people/{personId}/curation` read the audit trail.
//!
//! The API validates an action against the document the editor sees (the video's
//! analysis with its active changes replayed, [`cameo_model::curation`]), records it in
//! the ledger in one transaction guarded by the head's version (`If-Match`), and queues
//! the movie for the curation worker, which rewrites the results document and the table
//! items. Until the worker has, this video's own answers replay the ledger themselves
//! ([`App::curated`]): read your own writes.

use cameo_model::curation::ledger::{
    ACTION_SK_PREFIX, ActionItem, Cause, CurationHead, CurationQueued, Editor, HEAD_SK, PERSON_ACTION_SK_PREFIX,
    PersonActionItem, TrackMap, action_sk, changes_on, curation_pk, person_action_sk, track_map_sk,
};
use cameo_model::curation::{
    ANALYSIS_FILE, Analysis, Change, Curation, GroupRef, PersonRef, Refusal, resolve, undo_moves,
};
use cameo_model::people::{PersonItem, person_pk};
use cameo_model::results::ResultsDocument;
use cameo_model::table::{MovieItem, movie_id_of_pk};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::people::{check_person_id, new_id, parse_name};
use crate::registry::{SortKeys, claim_name, key, put, put_over};

/// `POST /videos/{id}/curation`'s body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CurationRequest {
    /// `name`, `reject`, `reassign`, `dismiss` or `split`.
    pub action: String,
    /// The cluster, by its `id` in the result the editor read.
    pub cluster_id: String,
    /// Some of its tracks (an appearance is its `trackIds`); all of them when absent.
    #[serde(default)]
    pub track_ids: Vec<String>,
    /// `name` and `reassign`: the person, by id ...
    pub person_id: Option<String>,
    /// ... or by name: its holder, or a new person.
    pub name: Option<String>,
}

/// An action as the audit trail shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    pub movie_id: String,
    pub seq: u64,
    /// `name`, `reject`, `reassign`, `dismiss`, `split` or `undo`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<u64>,
    pub by: Editor,
    pub at: String,
    pub before: Vec<GroupRef>,
    pub after: Vec<GroupRef>,
    /// A system relabel's cause: the action whose evidence it found here, or the photos
    /// a person's gallery gained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Why a change in force no longer applies (an earlier one it stood on was undone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_longer_applies: Option<String>,
}

impl ActionView {
    fn of(item: ActionItem, refused: &[(u64, Refusal)]) -> ActionView {
        let no_longer_applies = refused.iter().find(|(seq, _)| *seq == item.seq).map(|(_, r)| r.message.clone());
        ActionView {
            action: item.change.as_ref().map_or("undo", Change::kind).into(),
            movie_id: item.movie_id,
            seq: item.seq,
            change: item.change,
            undoes: item.undoes,
            undone_by: item.undone_by,
            by: item.by,
            at: item.at,
            before: item.before,
            after: item.after,
            cause: item.cause,
            no_longer_applies,
        }
    }
}

/// A video's audit trail, oldest first, and its curation version (its `ETag`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurationLog {
    pub movie_id: String,
    pub version: u64,
    pub actions: Vec<ActionView>,
    /// Tracks corrections named in an earlier analysis of the video that this one does
    /// not find (those corrections apply to the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<String>,
}

/// What a movie's curation stands on: its analysis, ledger and head.
struct Ledger {
    movie_id: String,
    version: u64,
    /// The VideoJob whose analysis the results are.
    job: String,
    analysis: Analysis,
    actions: Vec<ActionItem>,
    /// Where the tracks of earlier analyses are in this one, once the worker found them.
    map: Option<TrackMap>,
}

impl Ledger {
    fn changes(&self) -> Vec<(u64, Change)> {
        changes_on(
            &self.actions,
            Some(self.map.as_ref().unwrap_or(&TrackMap { job: self.job.clone(), ..TrackMap::default() })),
        )
    }

    fn replay(&self) -> (Curation<'_>, Vec<(u64, Refusal)>) {
        Curation::replay(&self.analysis, &self.changes())
    }
}

fn refused(refusal: Refusal) -> ApiError {
    ApiError::Refused { code: refusal.code, message: refusal.message }
}

fn stale(version: u64) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "the video's corrections changed since you read them (now at version {version}): read the result again and retry"
    ))
}

impl App {
    /// Records one action and queues it; answers it as the audit shows it.
    pub async fn curate(
        &self,
        caller: &Caller,
        movie: &MovieItem,
        expected: u64,
        request: CurationRequest,
    ) -> ApiResult<ActionView> {
        let ledger = self.ledger(movie).await?;
        if ledger.version != expected {
            return Err(stale(ledger.version));
        }
        let (mut curation, _) = ledger.replay();
        let seen = curation.document(None);
        let (group, tracks) = resolve(&seen, &request.cluster_id, &request.track_ids).map_err(refused)?;
        let needed = match request.action.as_str() {
            "reject" | "reassign" => "person",
            _ => "unknown",
        };
        if group.kind != needed {
            return Err(ApiError::Refused {
                code: if needed == "person" { "not_named" } else { "not_unknown" },
                message: format!("{} acts on a {needed} cluster, and {} is {}", request.action, group.name, group.kind),
            });
        }
        let named = PersonRef { person_id: group.person_id.clone(), name: group.name.clone() };
        let mut created = None;
        let change = match request.action.as_str() {
            "name" | "reassign" => {
                let (to, new) =
                    self.person_named(caller, request.person_id.as_deref(), request.name.as_deref()).await?;
                created = new;
                match request.action.as_str() {
                    "name" => Change::Name { tracks: tracks.clone(), person: to },
                    _ => Change::Reassign { tracks: tracks.clone(), from: named, to },
                }
            }
            "reject" => Change::Reject { tracks: tracks.clone(), person: named },
            "dismiss" => Change::Dismiss { tracks: tracks.clone() },
            "split" => Change::Split { tracks: tracks.clone() },
            other => {
                return Err(ApiError::invalid(
                    "invalid_action",
                    format!("action {other:?} is not one of name, reject, reassign, dismiss, split"),
                ));
            }
        };
        let seq = ledger.version + 1;
        let before = curation.groups_of(&tracks);
        curation.make(seq, &change).map_err(refused)?;
        let after = curation.groups_of(&tracks);
        let item = self.action_item(caller, &ledger, seq, Some(change), None, (before, after));
        self.record(&ledger, item.clone(), None, created.as_ref()).await?;
        Ok(ActionView::of(item, &[]))
    }

    /// Undoes action `seq` (and so whatever stood on it no longer applies).
    pub async fn undo(&self, caller: &Caller, movie: &MovieItem, expected: u64, seq: u64) -> ApiResult<ActionView> {
        let ledger = self.ledger(movie).await?;
        if ledger.version != expected {
            return Err(stale(ledger.version));
        }
        let target = ledger
            .actions
            .iter()
            .find(|a| a.seq == seq)
            .ok_or_else(|| ApiError::NotFound(format!("the video has no action {seq}")))?;
        if target.change.is_none() {
            return Err(ApiError::Refused {
                code: "not_undoable",
                message: "an undo cannot be undone: act again".into(),
            });
        }
        if let Some(by) = target.undone_by {
            return Err(ApiError::Refused { code: "already_undone", message: format!("action {by} undid it already") });
        }
        let moved = undo_moves(&ledger.analysis, &ledger.changes(), seq);
        let next = ledger.version + 1;
        let item = self.action_item(caller, &ledger, next, None, Some(seq), moved);
        self.record(&ledger, item.clone(), Some(target), None).await?;
        Ok(ActionView::of(item, &[]))
    }

    /// A video's audit trail.
    pub async fn curation_log(&self, movie: &MovieItem) -> ApiResult<CurationLog> {
        let ledger = self.ledger(movie).await?;
        let (_, refused) = ledger.replay();
        let Ledger { movie_id, version, actions, map, .. } = ledger;
        let actions = actions.into_iter().map(|a| ActionView::of(a, &refused)).collect();
        let lost = map.map(|m| m.lost).unwrap_or_default().into_values().flatten().collect();
        Ok(CurationLog { movie_id, version, actions, lost })
    }

    /// The actions that named a person, newest first (at most `limit`).
    pub async fn person_curation(&self, person_id: &str, limit: usize) -> ApiResult<Vec<ActionView>> {
        check_person_id(person_id)?;
        self.load_person(person_id).await?;
        let pointers =
            self.query_partition(&person_pk(person_id), SortKeys::BeginningWith(PERSON_ACTION_SK_PREFIX)).await?;
        let mut pointers: Vec<PersonActionItem> = pointers
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding an audit pointer", e)))
            .collect::<ApiResult<_>>()?;
        pointers.sort_by(|a, b| b.at.cmp(&a.at).then(b.seq.cmp(&a.seq)));
        let mut actions = Vec::new();
        for pointer in pointers.into_iter().take(limit) {
            let item = self
                .dynamodb
                .get_item()
                .table_name(&self.config.table)
                .set_key(Some(key(curation_pk(&pointer.movie_id), &action_sk(pointer.seq))))
                .send()
                .await
                .map_err(|e| ApiError::upstream("reading an action", e))?
                .item;
            if let Some(item) = item {
                let action = serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding an action", e))?;
                actions.push(ActionView::of(action, &[]));
            }
        }
        Ok(actions)
    }

    /// The results document as this video's corrections stand now: the worker's when it
    /// has caught up with the head, else the ledger replayed here. `None`: nothing to
    /// replay, the stored document is current.
    pub async fn curated(&self, movie: &MovieItem) -> ApiResult<Option<ResultsDocument>> {
        let Some(head) = self.curation_head(movie_id_of_pk(&movie.pk)).await? else { return Ok(None) };
        if movie.curation_version.is_some_and(|v| v >= head.version) {
            return Ok(None);
        }
        let ledger = self.ledger_at(movie, head.version).await?;
        Ok(Some(ledger.replay().0.document(Some(ledger.version))))
    }

    /// Whether corrections were made that the curation worker has not written yet.
    pub(crate) async fn corrections_pending(&self, movie: &MovieItem) -> ApiResult<bool> {
        let head = self.curation_head(movie_id_of_pk(&movie.pk)).await?;
        Ok(head.is_some_and(|head| movie.curation_version.is_none_or(|v| v < head.version)))
    }

    async fn curation_head(&self, movie_id: &str) -> ApiResult<Option<CurationHead>> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.config.table)
            .set_key(Some(key(curation_pk(movie_id), HEAD_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::upstream("reading the corrections", e))?
            .item;
        item.map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding the corrections", e)))
            .transpose()
    }

    async fn ledger(&self, movie: &MovieItem) -> ApiResult<Ledger> {
        let version = self.curation_head(movie_id_of_pk(&movie.pk)).await?.map_or(0, |h| h.version);
        self.ledger_at(movie, version).await
    }

    /// The ledger whose head is at `version`, as just read.
    async fn ledger_at(&self, movie: &MovieItem, version: u64) -> ApiResult<Ledger> {
        let movie_id = movie_id_of_pk(&movie.pk).to_string();
        let items = self.query_partition(&curation_pk(&movie_id), SortKeys::BeginningWith(ACTION_SK_PREFIX)).await?;
        let actions = items
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding an action", e)))
            .collect::<ApiResult<Vec<ActionItem>>>()?;
        let result_key = self.result_key(movie)?;
        let folder = result_key.rsplit_once('/').map_or("", |(folder, _)| folder);
        let analysis_key = format!("{folder}/{ANALYSIS_FILE}");
        let object = self.s3.get_object().bucket(&self.config.processed_bucket).key(&analysis_key).send().await;
        let object = match object {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(ApiError::Conflict(format!(
                    "{} was analysed before corrections were kept: analyse it again to correct it",
                    movie.title
                )));
            }
            Err(e) => return Err(ApiError::upstream("reading the analysis", e)),
        };
        let bytes = object.body.collect().await.map_err(|e| ApiError::upstream("reading the analysis", e))?;
        let analysis =
            serde_json::from_slice(&bytes.into_bytes()).map_err(|e| ApiError::upstream("parsing the analysis", e))?;
        let map = self
            .dynamodb
            .get_item()
            .table_name(&self.config.table)
            .set_key(Some(key(curation_pk(&movie_id), &track_map_sk(&movie.job))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::upstream("reading the track map", e))?
            .item
            .map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding the track map", e)))
            .transpose()?;
        Ok(Ledger { movie_id, version, job: movie.job.clone(), analysis, actions, map })
    }

    /// The person a `name` or `reassign` names: by id, or by name (its holder, or a person
    /// created with the action).
    async fn person_named(
        &self,
        caller: &Caller,
        person_id: Option<&str>,
        name: Option<&str>,
    ) -> ApiResult<(PersonRef, Option<PersonItem>)> {
        let person = match (person_id, name) {
            (Some(id), None) => {
                check_person_id(id)?;
                self.load_person(id).await?
            }
            (None, Some(name)) => {
                let name = parse_name(name)?;
                match self.name_holder(&name.key).await? {
                    Some(holder) => self.load_person(&holder).await?,
                    None => {
                        let person = PersonItem::new(&new_id(), &name, &caller.id, &jiff::Timestamp::now().to_string());
                        let named = PersonRef { person_id: Some(person.person_id.clone()), name: name.display };
                        return Ok((named, Some(person)));
                    }
                }
            }
            _ => return Err(ApiError::invalid("invalid_person", "give personId or name, not both")),
        };
        Ok((PersonRef { person_id: Some(person.person_id), name: person.display_name }, None))
    }

    /// An action of `caller`'s; `moved` are the groups before and after it.
    fn action_item(
        &self,
        caller: &Caller,
        ledger: &Ledger,
        seq: u64,
        change: Option<Change>,
        undoes: Option<u64>,
        (before, after): (Vec<GroupRef>, Vec<GroupRef>),
    ) -> ActionItem {
        ActionItem {
            pk: curation_pk(&ledger.movie_id),
            sk: action_sk(seq),
            movie_id: ledger.movie_id.clone(),
            seq,
            job: ledger.job.clone(),
            change,
            undoes,
            undone_by: None,
            by: Editor { id: caller.id.clone(), display_name: caller.name.clone() },
            at: jiff::Timestamp::now().to_string(),
            before,
            after,
            cause: None,
        }
    }

    /// Writes an action in one transaction: the head moves from the version read to the
    /// action's (a second editor who read the same version gets 412), the action, the
    /// undone action's mark, a pointer for each person it names, and a person it
    /// created; then queues the movie for the worker.
    async fn record(
        &self,
        ledger: &Ledger,
        item: ActionItem,
        undone: Option<&ActionItem>,
        created: Option<&PersonItem>,
    ) -> ApiResult<()> {
        let table = &self.config.table;
        let at = item.at.clone();
        let head = CurationHead {
            pk: curation_pk(&ledger.movie_id),
            sk: HEAD_SK.into(),
            version: item.seq,
            updated_at: at.clone(),
        };
        let mut writes =
            vec![put_over(table, &head, ledger.version)?, put(table, &item, Some("attribute_not_exists(pk)"))?];
        let change = item.change.as_ref().or_else(|| undone.and_then(|u| u.change.as_ref()));
        let people = change.map(|c| c.people()).unwrap_or_default();
        for person_id in people.iter().filter_map(|p| p.person_id.as_deref()) {
            let pointer = PersonActionItem {
                pk: person_pk(person_id),
                sk: person_action_sk(&ledger.movie_id, item.seq),
                movie_id: ledger.movie_id.clone(),
                seq: item.seq,
                at: at.clone(),
            };
            writes.push(put(table, &pointer, None)?);
        }
        if let Some(undone) = undone {
            let mut marked = undone.clone();
            marked.undone_by = Some(item.seq);
            writes.push(put(table, &marked, Some("attribute_not_exists(undoneBy)"))?);
        }
        if let Some(person) = created {
            writes.push(claim_name(table, &person.name, &person.person_id)?);
            writes.push(put(table, person, Some("attribute_not_exists(pk)"))?);
        }
        let written = self.transact_or(writes, stale(ledger.version)).await;
        if written.is_err()
            && let Some(person) = created
            && let Some(holder) = self.name_holder(&person.name).await?
        {
            return Err(ApiError::Conflict(format!(
                "{:?} was created meanwhile as person {holder}: name the cluster after them",
                person.display_name
            )));
        }
        written?;
        self.curation_queued(&ledger.movie_id, item.seq).await;
        Ok(())
    }

    /// Tells the curation worker a movie's corrections moved on (or, at version 0 with the
    /// movie gone, that it was erased: its unknown faces leave the index). Best effort: the
    /// action is durable, this video's answers replay it meanwhile, and the worker brings
    /// a movie to its latest head whenever it is told of it again.
    pub(crate) async fn curation_queued(&self, movie_id: &str, version: u64) {
        let Some(queue) = &self.config.curation_queue_url else { return };
        let body = serde_json::to_string(&CurationQueued { movie_id: movie_id.into(), version }).unwrap_or_default();
        if let Err(e) = self.sqs.send_message().queue_url(queue).message_body(body).send().await {
            tracing::error!(error = ?e, movie_id, "cannot queue a curation for the worker");
        }
    }
}
