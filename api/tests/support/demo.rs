//! A real analysis for the curation tests: a test video analysed against the demo gallery
//! (Obama, Collins, Hanks) with the real models, and written to moto as the merge writes
//! it (outputs, the table items, then the index of unknown faces). A test that uses it
//! declares it beside `support` (`#[path = "support/demo.rs"] mod demo;`): the ingest's
//! tests share `support` and need none of this.
#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

use cameo_detector::analysis::analysis;
use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::checker::GalleryChecker;
use cameo_detector::cloud::merge::put_results;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::cloud::shard::JobOutput;
use cameo_detector::cloud::table::{Provenance, items};
use cameo_detector::cloud::unknown_index::UnknownIndex;
use cameo_detector::embed::Embedding;
use cameo_detector::faces;
use cameo_detector::gallery::{GalleryFolder, NoCache, enroll};
use cameo_detector::pipeline::{PipelineConfig, analyse_tracks};
use cameo_detector::templates::templates;
use cameo_detector::video::VideoSource;
use cameo_model::curation::Analysis;
use cameo_model::results::ResultsDocument;
use cameo_model::table::movie_id;
use cameo_model::templates::TemplatesDocument;
use cameo_model::unknown_index::{INDEX_PREFIX, entries_of};

use crate::support::{models, with_moto};

pub fn testdata(name: &str) -> PathBuf {
    let dir = std::env::var_os("CAMEO_TESTDATA").expect("CAMEO_TESTDATA is set by make test");
    PathBuf::from(dir).join(name)
}

/// What is analysed and how: the video (in the test data), its sampling rate, and faces
/// people said are not Obama.
pub struct Analyse {
    pub video: &'static str,
    pub fps: f64,
    pub not_obama: Vec<Vec<f32>>,
}

impl Analyse {
    pub fn demo(fps: f64) -> Self {
        Analyse { video: "demo.mp4", fps, not_obama: Vec::new() }
    }
}

/// The outputs of one analysis, as the merge writes them.
#[derive(Clone)]
pub struct Outputs {
    pub document: ResultsDocument,
    pub analysis: Analysis,
    pub templates: TemplatesDocument,
    pub crops: Vec<(String, Vec<u8>)>,
}

/// A video analysed against the demo gallery with Obama as the registry's person
/// `obama`: the document with its chosen crops, its analysis, its templates and the crops'
/// JPEGs, as the merge makes them.
pub fn analysed(source: &str, obama: &str, how: Analyse) -> Outputs {
    let (runtime, mut models) = models();
    let folder = GalleryFolder::scan(&testdata("galleries/demo")).expect("the demo gallery");
    let mut gallery = enroll(folder.photos(), vec![], &mut models, &mut NoCache, || {}).expect("enrolled");
    let person = gallery.people.iter_mut().find(|p| p.name == "Barack Obama").expect("Obama is enrolled");
    person.rejected = how.not_obama.into_iter().map(Embedding).collect();
    let config = PipelineConfig { fps: how.fps, ..PipelineConfig::default() };
    let video = VideoSource::File(testdata(how.video));
    let hidden = indicatif::ProgressBar::hidden();
    let mut run = analyse_tracks(&video, None, &mut models, &gallery, &config, runtime.device().name(), &hidden)
        .unwrap_or_else(|e| panic!("{} is analysed: {e}", how.video));
    run.gallery.person_ids.insert("Barack Obama".into(), obama.into());
    let mut document = run.document();
    document.video.source = source.into();
    let (groups, chosen) = faces::choose(&mut document, &run.tracks, "faces/", &|id| run.crops.contains(id));
    let templates = templates(&document, &groups, &run.crops, &mut models).expect("templates");
    let analysis = analysis(&document, &run.tracks, &chosen);
    let crops = chosen.iter().map(|crop| (crop.path.clone(), faces::render(crop, &run.crops).unwrap())).collect();
    Outputs { document, analysis, templates, crops }
}

/// Where one analysis is written: the table, the processed bucket, the video and its job.
#[derive(Clone, Copy)]
pub struct Merged<'a> {
    pub table: &'a str,
    pub bucket: &'a str,
    pub source: &'a str,
    pub job: &'a str,
    /// When it was processed (RFC 3339).
    pub at: &'a str,
}

/// Writes what the merge writes, on moto: outputs (the results with their exports, by
/// the merge's own code), items, then the unknown faces' index segment.
pub fn write_merged(to: &Merged, outputs: &Outputs) {
    let (table, bucket, source, job, at) =
        (to.table.to_string(), to.bucket.to_string(), to.source.to_string(), to.job.to_string(), to.at.to_string());
    let outputs = outputs.clone();
    with_moto(move |aws| {
        let to = Merged { table: &table, bucket: &bucket, source: &source, job: &job, at: &at };
        write_merged_with(aws, &to, &outputs)
    });
}

/// [`write_merged`] through `aws` (whose S3 may be another than moto's).
pub fn write_merged_with(aws: &Aws, to: &Merged, outputs: &Outputs) {
    let Merged { table, bucket, source, job, at } = *to;
    let put = |key: String, body: Vec<u8>| aws.put(&S3Uri::new(bucket, key), body, "application/json").unwrap();
    put(format!("results/{job}/analysis.json"), serde_json::to_vec(&outputs.analysis).unwrap());
    put_results(aws, &JobOutput::new(bucket, "", job), &outputs.document).unwrap();
    put(format!("templates/{job}.json"), serde_json::to_vec(&outputs.templates).unwrap());
    for (path, jpeg) in &outputs.crops {
        put(format!("results/{job}/{path}"), jpeg.clone());
    }
    let provenance = Provenance {
        source,
        job,
        result_uri: &format!("s3://{bucket}/results/{job}/result.json"),
        processed_at: at.parse().unwrap(),
        finished_at: at.parse().unwrap(),
    };
    aws.write_items(table, items(&outputs.document, &provenance)).unwrap();
    let movie = movie_id(source);
    let index = UnknownIndex { aws, root: S3Uri::new(bucket, INDEX_PREFIX) };
    index.add(&movie, job, &entries_of(&outputs.analysis, &outputs.templates, &movie, job)).unwrap();
}

pub fn group<'a>(document: &'a ResultsDocument, name: &str) -> &'a cameo_model::results::PersonAppearances {
    let all = document.people.iter().chain(&document.unknown).chain(&document.dismissed);
    all.into_iter().find(|g| g.name == name).unwrap_or_else(|| panic!("no {name} in {:#?}", names(document)))
}

/// The people and unknown clusters of a document, with their first appearances.
pub fn names(document: &ResultsDocument) -> Vec<(String, f64)> {
    let all = document.people.iter().chain(&document.unknown);
    all.map(|g| (g.name.clone(), g.first_seen_seconds)).collect()
}

/// The unknown cluster first seen at `seconds`.
pub fn unknown_at(document: &ResultsDocument, seconds: f64) -> &cameo_model::results::PersonAppearances {
    let found = document.unknown.iter().find(|g| (g.first_seen_seconds - seconds).abs() < 0.6);
    found.unwrap_or_else(|| panic!("no unknown cluster at {seconds} s in {:#?}", names(document)))
}

/// The real gallery checker of a library's gallery (`s3://<raw>/gallery/`), with its cache
/// in the processed bucket.
pub fn checker<'a>(aws: &'a Aws, table: &str, raw: &str, processed: &str) -> GalleryChecker<'a> {
    GalleryChecker {
        aws,
        table: table.into(),
        gallery: S3Uri::new(raw, "gallery/"),
        cache: S3Uri::new(processed, "cache/gallery/"),
        max_photo_bytes: 10 << 20,
    }
}
