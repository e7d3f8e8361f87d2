//! `cameo-detector merge`: joins the shards of a VideoJob into one results document,
//! written to `results/<job>/result.json` in one request (a reader never sees part of
//! it), and into the MovieEntities table. It picks the faces that show each group among
//! the shards' candidates and writes them beside the document (`results/<job>/faces/`),
//! and the groups' templates (`templates/<job>.json`).

use std::collections::{BTreeMap, HashSet};

use cameo_model::exports::Format;
use cameo_model::table::movie_id;
use cameo_model::templates::TemplatesDocument;
use cameo_model::unknown_index::entries_of;
use jiff::Timestamp;

use super::aws::Aws;
use super::candidates::CandidateCrops;
use super::curator::Curator;
use super::s3::S3Uri;
use super::shard::{JobOutput, SHARD_SCHEMA_VERSION, ShardDocument, owned_tracks};
use super::table::{Provenance, items};
use super::unknown_index::UnknownIndex;
use crate::analysis::analysis;
use crate::best_faces::BEST_FACES;
use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::faces::{self, ChosenCrop, FaceCrops};
use crate::identify::{Evidence, FaceVerdict, IdentifiedTrack, one_face_one_person};
use crate::models::Models;
use crate::pipeline::results_document;
use crate::results::{GallerySummary, Movie, ResultsDocument, VideoSummary};
use crate::summary::{ActorSummary, ResultSummary};
use crate::video::TimeRange;

/// A track cut by a shard boundary is seen whole by both shards in their overlap: its two
/// halves share sightings there, in the same frame and place (within this IoU).
const SAME_FACE_MIN_IOU: f32 = 0.5;

/// Joins shard documents: every shard's tracks, identified people by name across shard
/// boundaries (a person on screen across one stays one appearance), and unknown faces
/// grouped over the whole video. A track cut by a boundary is joined to its other half and
/// named on the evidence of both (each shard saw only part of it, and may have named it
/// otherwise); then one face is one person at a time over the whole video. Returns the
/// document and the tracks it was made of.
pub fn merge_shards(
    mut shards: Vec<ShardDocument>,
    movie: Option<Movie>,
) -> Result<(ResultsDocument, Vec<IdentifiedTrack>)> {
    shards.sort_by_key(|s| s.shard);
    let expected = shards.first().map_or(0, |s| s.shards);
    let complete =
        shards.len() == expected && shards.iter().enumerate().all(|(i, s)| s.shard == i && s.shards == expected);
    if expected == 0 || !complete {
        return Err(Error::Inference(format!(
            "the shard documents do not form a whole: {} of {expected}",
            shards.len()
        )));
    }
    if let Some(other) = shards.iter().find(|s| s.schema_version != SHARD_SCHEMA_VERSION) {
        return Err(Error::Inference(format!("shard {} has schema {}", other.shard, other.schema_version)));
    }
    let first = &shards[0];
    // Every shard enrols the manifest version pinned when the VideoJob was created; if
    // one did not, the video was not analysed against one gallery.
    if let Some(other) = shards.iter().find(|s| s.gallery.manifest_version != first.gallery.manifest_version) {
        return Err(Error::Inference(format!(
            "shard {} enrolled gallery version {:?} where shard 0 enrolled {:?}",
            other.shard, other.gallery.manifest_version, first.gallery.manifest_version
        )));
    }
    let video = VideoSummary {
        frames_decoded: shards.iter().map(|s| s.video.frames_decoded).sum(),
        frames_analysed: shards.iter().map(|s| s.video.frames_analysed).sum(),
        faces_detected: shards.iter().map(|s| s.video.faces_detected).sum(),
        ..first.video.clone()
    };
    let (models, parameters) = (first.models.clone(), first.parameters.clone());
    let gallery = merged_gallery(&shards);
    let mut tracks = joined_tracks(shards);
    one_face_one_person(&mut tracks);
    let document = results_document(video, models, parameters, Some(gallery), movie, &tracks);
    Ok((document, tracks))
}

/// The shards' galleries: what the first enrolled, and everything any of them skipped.
fn merged_gallery(shards: &[ShardDocument]) -> GallerySummary {
    let mut gallery = GallerySummary { skipped: Vec::new(), ..shards[0].gallery.clone() };
    for skipped in shards.iter().flat_map(|s| &s.gallery.skipped) {
        if !gallery.skipped.iter().any(|known| known.location == skipped.location) {
            gallery.skipped.push(skipped.clone());
        }
    }
    gallery
}

/// Every shard's tracks cut to its own part, halves of one track joined into one.
fn joined_tracks(shards: Vec<ShardDocument>) -> Vec<IdentifiedTrack> {
    let mut tracks: Vec<(usize, TimeRange, IdentifiedTrack)> = Vec::new();
    for shard in shards {
        let owned = TimeRange { start: shard.start_seconds, end: shard.end_seconds.unwrap_or(f64::INFINITY) };
        tracks.extend(shard.tracks.into_iter().map(|t| (shard.shard, owned, t)));
    }
    // Halves of one track: in neighbouring shards, with a sighting in common.
    let crossing: Vec<usize> =
        (0..tracks.len()).filter(|&i| tracks[i].2.sightings.iter().any(|s| !tracks[i].1.contains(s.seconds))).collect();
    let mut group: Vec<usize> = (0..tracks.len()).collect();
    for (n, &i) in crossing.iter().enumerate() {
        for &j in &crossing[n + 1..] {
            if tracks[i].0.abs_diff(tracks[j].0) == 1 && same_face(&tracks[i].2, &tracks[j].2) {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a.max(b)] = a.min(b);
            }
        }
    }
    let mut joined: BTreeMap<usize, Vec<(TimeRange, IdentifiedTrack)>> = BTreeMap::new();
    for (i, (_, owned, track)) in tracks.into_iter().enumerate() {
        joined.entry(root(&mut group, i)).or_default().push((owned, track));
    }
    joined.into_values().filter_map(join).collect()
}

fn root(group: &mut [usize], mut i: usize) -> usize {
    while group[i] != i {
        group[i] = group[group[i]];
        i = group[i];
    }
    i
}

/// Whether two tracks have a face in the same frame and place.
fn same_face(a: &IdentifiedTrack, b: &IdentifiedTrack) -> bool {
    a.sightings
        .iter()
        .any(|s| b.sightings.iter().any(|t| t.seconds == s.seconds && t.bbox.iou(&s.bbox) >= SAME_FACE_MIN_IOU))
}

/// One track from its halves, each cut to its own shard's part, named on all their best
/// faces; `None` when nothing of it is in any shard's own part.
fn join(members: Vec<(TimeRange, IdentifiedTrack)>) -> Option<IdentifiedTrack> {
    if members.len() == 1 {
        let (owned, track) = members.into_iter().next()?;
        return owned_tracks(vec![track], owned).pop();
    }
    let evidence = joined_evidence(members.iter().map(|(_, t)| &t.evidence));
    let person = evidence.decision();
    let template = Embedding::mean(members.iter().map(|(_, t)| &t.template));
    let mut sightings = Vec::new();
    for (owned, track) in members {
        let renamed = track.person != person;
        let similarity = person.as_deref().map_or(0.0, |p| evidence.strength(p));
        sightings.extend(owned_tracks(vec![track], owned).into_iter().flat_map(|t| t.sightings).map(|mut s| {
            if renamed {
                // Named on the other half's faces: their similarity stands for these.
                s.similarity = similarity;
            }
            s
        }));
    }
    sightings.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    (!sightings.is_empty()).then_some(IdentifiedTrack { person, evidence, template, sightings })
}

/// The best faces of all halves (a frame both shards saw counted once).
fn joined_evidence<'a>(halves: impl Iterator<Item = &'a Evidence>) -> Evidence {
    let mut faces: Vec<FaceVerdict> = Vec::new();
    for evidence in halves {
        for face in &evidence.faces {
            if !faces.iter().any(|f| f.seconds == face.seconds && f.bbox.iou(&face.bbox) >= SAME_FACE_MIN_IOU) {
                faces.push(face.clone());
            }
        }
    }
    faces.sort_by(|a, b| b.quality.total_cmp(&a.quality).then(a.seconds.total_cmp(&b.seconds)));
    faces.truncate(BEST_FACES);
    Evidence { faces }
}

/// Picks each group's faces among the shards' candidate crops, writes them beside the
/// results document and the groups' templates; returns the crops written and the templates.
fn write_faces(
    job: &MergeJob,
    aws: &Aws,
    models: &mut Models,
    result: &mut ResultsDocument,
    tracks: &[IdentifiedTrack],
) -> Result<(Vec<ChosenCrop>, TemplatesDocument)> {
    let mut crops = FaceCrops::default();
    for index in 0..job.shards {
        let uri = job.output.candidates(index);
        match aws.get(&uri)? {
            Some(bytes) => serde_json::from_slice::<CandidateCrops>(&bytes)
                .map_err(|e| Error::Inference(format!("{uri} is not a shard's candidate crops: {e}")))?
                .add_to(&mut crops),
            None => tracing::warn!(shard = index, "the shard left no candidate crops: its faces are not shown"),
        }
    }
    let (groups, chosen) = faces::choose(result, tracks, "faces/", &|id| crops.contains(id));
    let folder = job.output.results_folder();
    let mut objects = Vec::with_capacity(chosen.len());
    for crop in &chosen {
        objects
            .push((S3Uri::new(&folder.bucket, format!("{}{}", folder.key, crop.path)), faces::render(crop, &crops)?));
    }
    aws.put_many(objects, "image/jpeg")?;
    let templates = crate::templates::templates(result, &groups, &crops, models)?;
    let json = serde_json::to_vec(&templates).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&job.output.templates(), json, "application/json")?;
    tracing::info!(crops = chosen.len(), groups = groups.len(), "faces written");
    Ok((chosen, templates))
}

/// Termination messages are cut at 4096 bytes; stay well inside.
const SUMMARY_LIMIT: usize = 3500;

/// What the operator reads from the merge pod's termination message (at most 4 KiB):
/// the people with the most screen time, as many as fit.
pub fn summary(result: &ResultsDocument, uri: &str) -> String {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let mut people: Vec<_> = result.people.iter().collect();
    people.sort_by(|a, b| b.screen_time_seconds.total_cmp(&a.screen_time_seconds));
    let mut summary = ResultSummary {
        uri: uri.into(),
        actors_found: count(result.people.len()),
        actors: Vec::new(),
        gallery_skipped: count(result.gallery.as_ref().map_or(0, |g| g.skipped.len())),
    };
    for person in people {
        summary.actors.push(ActorSummary {
            name: person.name.clone(),
            screen_time_seconds: (person.screen_time_seconds * 10.0).round() / 10.0,
            appearances: count(person.appearances.len()),
            first_seen_seconds: (person.first_seen_seconds * 10.0).round() / 10.0,
            confidence: (f64::from(person.confidence) * 1000.0).round() / 1000.0,
        });
        if serde_json::to_string(&summary).map_or(0, |s| s.len()) > SUMMARY_LIMIT {
            summary.actors.pop();
            break;
        }
    }
    serde_json::to_string(&summary).unwrap_or_default()
}

/// Writes a results document, then the same results in every export format beside it
/// (what the API presigns for players and downloads).
pub fn put_results(aws: &Aws, output: &JobOutput, document: &ResultsDocument) -> Result<()> {
    let json = serde_json::to_vec_pretty(document).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&output.result(), json, "application/json")?;
    for format in Format::ALL {
        aws.put(&output.export(format), format.render(document).into_bytes(), format.content_type())?;
    }
    Ok(())
}

pub struct MergeJob<'a> {
    pub source: &'a str,
    pub shards: usize,
    pub output: &'a JobOutput,
    pub table: &'a str,
    pub movie: Option<Movie>,
    pub processed_at: Timestamp,
}

/// Reads every shard, writes the faces, the templates, the result and the table items;
/// returns the summary.
pub fn run_merge(job: &MergeJob, aws: &Aws, models: &mut Models) -> Result<String> {
    let mut documents = Vec::with_capacity(job.shards);
    for index in 0..job.shards {
        let uri = job.output.shard(index);
        let bytes =
            aws.get(&uri)?.ok_or_else(|| Error::Inference(format!("shard {index} wrote no results at {uri}")))?;
        let document: ShardDocument = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Inference(format!("{uri} is not a shard document: {e}")))?;
        documents.push(document);
    }
    let (mut result, tracks) = merge_shards(documents, job.movie.clone())?;
    let (chosen, templates) = write_faces(job, aws, models, &mut result, &tracks)?;
    // What curation starts from, before the document: whoever finds one finds both.
    let analysed = analysis(&result, &tracks, &chosen);
    let json = serde_json::to_vec(&analysed).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&job.output.analysis(), json, "application/json")?;
    let uri = job.output.result();
    put_results(aws, job.output, &result)?;
    // Only now that no document refers to them: an earlier analysis's crops.
    let folder = job.output.results_folder();
    let written: HashSet<String> = chosen.iter().map(|crop| format!("{}{}", folder.key, crop.path)).collect();
    let faces_folder = S3Uri::new(&folder.bucket, format!("{}faces/", folder.key));
    for key in aws.list(&faces_folder)?.into_iter().filter(|key| !written.contains(key)) {
        aws.delete(&S3Uri::new(&folder.bucket, key))?;
    }
    let provenance = Provenance {
        source: job.source,
        job: &job.output.job,
        result_uri: &uri.to_string(),
        processed_at: job.processed_at,
        finished_at: Timestamp::now(),
    };
    aws.write_items(job.table, items(&result, &provenance))?;
    // Its unknown faces, where late binding looks for them when someone is named; only
    // now that the movie's items are this analysis's, so the worker never takes them for
    // an analysis replaced.
    let movie_id = movie_id(job.source);
    let index = UnknownIndex { aws, root: job.output.unknown_index() };
    index.add(&movie_id, &job.output.job, &entries_of(&analysed, &templates, &movie_id, &job.output.job))?;
    tracing::info!(result = %uri, people = result.people.len(), unknown = result.unknown.len(), "merged");
    // A video analysed again keeps the corrections people made to it: they are replayed
    // on this analysis now. The results stand whatever happens here; the curation worker
    // replays them again when the video is next corrected.
    match Curator::replaying(aws, job.table).apply(&movie_id) {
        Ok(applied) => tracing::info!(?applied, "corrections replayed"),
        Err(e) => tracing::warn!("the corrections could not be replayed on this analysis: {e}"),
    }
    Ok(summary(&result, &uri.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{models, parameters, person, results, unit, video};
    use crate::geometry::BBox;
    use crate::identify::Sighting;
    use crate::models::Precision;

    /// A face at x = 100 sampled every 0.5 s over `halves` (half-seconds), named `person`
    /// on best faces whose verdicts are `verdicts` (person, quality), taken at its first sightings.
    fn track(
        person: Option<&str>,
        halves: std::ops::Range<u32>,
        angle: f32,
        verdicts: &[(Option<&str>, f32)],
    ) -> IdentifiedTrack {
        let bbox = BBox { x: 100.0, y: 100.0, width: 80.0, height: 80.0 };
        let sightings: Vec<Sighting> =
            halves.map(|s| Sighting { seconds: f64::from(s) / 2.0, bbox, score: 0.9, similarity: 0.7 }).collect();
        let faces = verdicts
            .iter()
            .zip(&sightings)
            .map(|(&(person, quality), s)| FaceVerdict {
                seconds: s.seconds,
                bbox,
                quality,
                person: person.map(str::to_string),
                similarity: if person.is_some() { 0.6 } else { 0.2 },
                recognizer: Precision::Fp32,
            })
            .collect();
        IdentifiedTrack {
            person: person.map(str::to_string),
            evidence: Evidence { faces },
            template: unit(angle),
            sightings,
        }
    }

    fn shard(index: usize, tracks: Vec<IdentifiedTrack>) -> ShardDocument {
        ShardDocument {
            schema_version: SHARD_SCHEMA_VERSION.into(),
            job: "media/x".into(),
            shard: index,
            shards: 2,
            start_seconds: 30.0 * index as f64,
            end_seconds: (index == 0).then_some(30.0),
            video: video(60.0),
            models: models(),
            parameters: parameters(),
            gallery: GallerySummary::default(),
            tracks,
        }
    }

    const ADA: &[(Option<&str>, f32)] = &[(Some("Ada"), 0.9)];

    #[test]
    fn a_person_on_screen_across_a_shard_boundary_is_one_appearance() {
        // Ada from 20 s to 40 s: shard 0 decodes 20-33 s, shard 1 27-40 s (sightings every 0.5 s).
        let (merged, _) = merge_shards(
            vec![
                shard(1, vec![track(Some("Ada"), 54..80, 0.0, ADA)]),
                shard(0, vec![track(Some("Ada"), 40..66, 0.0, ADA)]),
            ],
            None,
        )
        .unwrap();
        let ada = &merged.people[0];
        assert_eq!(ada.appearances.len(), 1);
        assert_eq!((ada.appearances[0].start_seconds, ada.appearances[0].end_seconds), (20.0, 40.0));
        assert_eq!(ada.appearances[0].faces, 40, "the overlap's faces counted once");
        assert_eq!((merged.video.frames_analysed, merged.video.faces_detected), (120, 20));
    }

    #[test]
    fn a_face_named_differently_on_each_side_of_a_boundary_is_named_on_the_best_faces_of_both() {
        // Shard 0 saw Ada's best faces (she turns away later); shard 1 only her turned face.
        let sharp = [(Some("Ada"), 0.9), (Some("Ada"), 0.8), (Some("Ada"), 0.7)];
        let turned = [(None, 0.3), (None, 0.2), (None, 0.1), (None, 0.1), (None, 0.1)];
        let (merged, _) = merge_shards(
            vec![
                shard(0, vec![track(Some("Ada"), 50..66, 0.0, &sharp)]),
                shard(1, vec![track(None, 54..80, 0.0, &turned)]),
            ],
            None,
        )
        .unwrap();
        assert!(merged.unknown.is_empty(), "{:?}", merged.unknown);
        assert_eq!(merged.people[0].appearances.len(), 1);
        assert_eq!(
            (merged.people[0].appearances[0].start_seconds, merged.people[0].appearances[0].end_seconds),
            (25.0, 40.0)
        );

        // The other way round: one lucky face in shard 0 does not name what shard 1 saw well.
        let lucky = [(Some("Ada"), 0.9)];
        let stranger = [(None, 0.95), (None, 0.9), (None, 0.8)];
        let (merged, _) = merge_shards(
            vec![
                shard(0, vec![track(Some("Ada"), 50..66, 0.0, &lucky)]),
                shard(1, vec![track(None, 54..80, 0.0, &stranger)]),
            ],
            None,
        )
        .unwrap();
        assert!(merged.people.is_empty(), "{:?}", merged.people);
        assert_eq!(merged.unknown.len(), 1);
        assert_eq!(merged.unknown[0].appearances[0].start_seconds, 25.0);
    }

    #[test]
    fn an_unknown_face_in_two_shards_is_one_cluster() {
        let (merged, _) = merge_shards(
            vec![shard(0, vec![track(None, 10..20, 90.0, &[])]), shard(1, vec![track(None, 100..110, 92.0, &[])])],
            None,
        )
        .unwrap();
        assert_eq!(merged.unknown.len(), 1);
        assert_eq!(merged.unknown[0].appearances.len(), 2);
    }

    #[test]
    fn what_any_shard_skipped_of_the_gallery_is_reported_once() {
        let skipped =
            |location: &str| crate::results::SkippedPhoto { location: location.into(), reason: "no face".into() };
        let mut shards = vec![shard(0, vec![]), shard(1, vec![])];
        shards[0].gallery =
            GallerySummary { people: 2, photos: 3, skipped: vec![skipped("a"), skipped("b")], ..Default::default() };
        shards[1].gallery = GallerySummary { people: 2, photos: 3, skipped: vec![skipped("b")], ..Default::default() };
        let (merged, _) = merge_shards(shards, None).unwrap();
        assert_eq!(
            merged.gallery,
            Some(GallerySummary {
                people: 2,
                photos: 3,
                skipped: vec![skipped("a"), skipped("b")],
                ..Default::default()
            })
        );
        let text = summary(&merged, "s3://p/r.json");
        assert_eq!(serde_json::from_str::<ResultSummary>(&text).unwrap().gallery_skipped, 2);
    }

    #[test]
    fn a_missing_shard_is_an_error() {
        assert!(merge_shards(vec![shard(0, vec![])], None).is_err());
    }

    #[test]
    fn the_summary_fits_a_termination_message_and_counts_everyone() {
        let people = (0..500)
            .map(|i| person(&format!("A person with a rather long name number {i}"), &[(0.0, f64::from(i))]))
            .collect();
        let result = results(people, vec![]);
        let text = summary(&result, "s3://p/results/x/result.json");
        assert!(text.len() <= SUMMARY_LIMIT, "{}", text.len());
        let parsed: ResultSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.actors_found, 500);
        assert_eq!(parsed.actors[0].screen_time_seconds, 499.0);
    }
}
