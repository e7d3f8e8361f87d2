//! Who appears when, on videos synthesised from real photos, against their ground truth.

mod support;

use cameo_detector::identify::{EnrolledPerson, MatchConfig, match_embedding};
use cameo_detector::pipeline::PipelineConfig;
use support::{load_image, load_models, photo, run_scenario};

#[test]
fn demo_finds_obama_from_other_photos_and_leaves_strangers_unknown() {
    let run = run_scenario("demo", "demo");
    run.assert_matches_truth();
}

#[test]
fn cuts_between_two_enrolled_people_leak_no_identity() {
    let run = run_scenario("cuts", "cuts");
    run.assert_matches_truth();
}

#[test]
fn small_greyscale_dark_blurred_and_compressed_faces_are_recognised() {
    let run = run_scenario("degraded", "demo");
    run.assert_matches_truth();
}

#[test]
fn a_video_without_faces_yields_no_appearances() {
    let run = run_scenario("no_faces", "demo");
    assert!(run.document.video.frames_analysed >= 17, "{:?}", run.document.video);
    assert_eq!(run.document.video.faces_detected, 0);
    assert!(run.document.people.is_empty() && run.document.unknown.is_empty(), "{:?}", run.document);
}

#[test]
fn a_group_photo_finds_all_six_faces() {
    let (_runtime, mut models) = load_models();
    let faces = models.faces_in_image(&load_image(&photo("friends.jpg"))).unwrap();
    assert_eq!(faces.len(), 6, "{:?}", faces.iter().map(|f| f.0.bbox).collect::<Vec<_>>());
}

#[test]
fn the_same_person_years_apart_matches_and_different_people_do_not() {
    let (_runtime, mut models) = load_models();
    let mut embed = |name: &str| {
        let faces = models.faces_in_image(&load_image(&photo(name))).unwrap();
        assert_eq!(faces.len(), 1, "{name}");
        faces[0].1.clone()
    };
    let gallery = vec![
        EnrolledPerson::new("Barack Obama", vec![embed("obama.jpg")]),
        EnrolledPerson::new("Joe Biden", vec![embed("biden.jpg")]),
    ];
    let config = MatchConfig { threshold: PipelineConfig::DEFAULT_THRESHOLD, margin: PipelineConfig::DEFAULT_MARGIN };
    // obama2.jpg (2009) and obama3.jpg (2010) against the 2012 portrait in the gallery.
    assert_eq!(match_embedding(&embed("obama2.jpg"), &gallery, &config), Some(0));
    assert_eq!(match_embedding(&embed("obama3.jpg"), &gallery, &config), Some(0));
    for stranger in ["grace_hopper.jpg", "astronaut.png", "camera.png"] {
        assert_eq!(match_embedding(&embed(stranger), &gallery, &config), None, "{stranger}");
    }
}
