//! "Not this person" sticks: the faces of a track people rejected become rejected examples
//! of the person (the fp32 embeddings of its crops, as the curation worker takes them from
//! the video's templates), and the identify stage then refuses that face, in a
//! re-analysis of the same video and in another video holding it (the demo mirrored).
//! Real models, real videos.

mod support;

use cameo_detector::analysis::analysis;
use cameo_detector::embed::Embedding;
use cameo_detector::faces;
use cameo_detector::gallery::{Gallery, GalleryFolder, NoCache, enroll};
use cameo_detector::identify::IdentifiedTrack;
use cameo_detector::models::Models;
use cameo_detector::pipeline::{PipelineConfig, analyse_tracks};
use cameo_detector::templates::{of_tracks, templates};
use cameo_detector::video::VideoSource;
use support::{load_models, testdata};

/// Obama's name for the track first seen at `seconds`, if it is his.
fn named_at(tracks: &[IdentifiedTrack], seconds: f64) -> Option<String> {
    let track = tracks.iter().find(|t| (t.sightings[0].seconds - seconds).abs() < 0.6);
    track.unwrap_or_else(|| panic!("no track starts at {seconds} s")).person.clone()
}

fn analyse(video: &str, gallery: &Gallery, models: &mut Models) -> cameo_detector::pipeline::TrackAnalysis {
    let source = VideoSource::File(testdata().join(video));
    let hidden = indicatif::ProgressBar::hidden();
    analyse_tracks(&source, None, models, gallery, &PipelineConfig::default(), "cpu", &hidden).expect("analysed")
}

#[test]
fn a_rejected_face_is_not_named_again_in_a_reanalysis_nor_in_another_video() {
    let (_runtime, mut models) = load_models();
    let folder = GalleryFolder::scan(&testdata().join("galleries/demo")).expect("the demo gallery");
    let mut gallery = enroll(folder.photos(), vec![], &mut models, &mut NoCache, || {}).expect("enrolled");
    let run = analyse("demo.mp4", &gallery, &mut models);
    // The small, far face at 20 s is named Obama: people say it is not him.
    assert_eq!(named_at(&run.tracks, 20.0).as_deref(), Some("Barack Obama"));
    let rejected = run.tracks.iter().find(|t| t.sightings[0].seconds == 20.0).unwrap().id();
    let mirrored = analyse("demo_flip_horizontal.mp4", &gallery, &mut models);
    assert_eq!(named_at(&mirrored.tracks, 20.0).as_deref(), Some("Barack Obama"), "mirrored, it is him too");

    // The worker's evidence: the templates of the track's crops, as the merge made them.
    let mut document = run.document();
    let (groups, chosen) = faces::choose(&mut document, &run.tracks, "faces/", &|id| run.crops.contains(id));
    let templates = templates(&document, &groups, &run.crops, &mut models).expect("templates");
    let analysed = analysis(&document, &run.tracks, &chosen);
    let rejected = of_tracks(&templates, &analysed, "Barack Obama", &[rejected]);
    let examples: Vec<Embedding> =
        rejected.groups.iter().flat_map(|g| &g.embeddings).map(|e| Embedding(e.embedding.clone())).collect();
    assert!(!examples.is_empty(), "the rejected track's crops give examples");
    let obama = gallery.people.iter_mut().find(|p| p.name == "Barack Obama").unwrap();
    obama.rejected = examples;

    let again = analyse("demo.mp4", &gallery, &mut models);
    assert_eq!(named_at(&again.tracks, 20.0), None, "the re-analysis does not name it again");
    // Per face, not per person: the large frontal face at 0 s is still nearer his photo.
    assert_eq!(named_at(&again.tracks, 0.0).as_deref(), Some("Barack Obama"));
    let mirrored = analyse("demo_flip_horizontal.mp4", &gallery, &mut models);
    assert_eq!(named_at(&mirrored.tracks, 20.0), None, "nor does another video holding that face");
}
