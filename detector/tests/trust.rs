//! Names a media team can trust: a stranger whose int8 evidence is just over the threshold
//! is decided again in fp32 (where it is under it), and a look-alike beside the person they
//! resemble never takes that person's name.

mod support;

use cameo_detector::models::Precision;
use support::run_scenario;

#[test]
fn a_stranger_just_over_the_threshold_in_int8_but_under_it_in_fp32_stays_unknown() {
    let run = run_scenario("stranger_int8", "cameraman");
    run.assert_matches_truth();
    // The int8 evidence was too close to call: fp32 decided (and the results say so).
    assert!(!run.tracks.is_empty());
    for track in &run.tracks {
        assert_eq!(track.evidence.recognizer(), Precision::Fp32, "{track:?}");
    }
    assert!(run.document.models.fp32_recognizer.is_some() && run.document.parameters.int8_shift.is_some());
}

#[test]
fn a_look_alike_beside_the_person_stays_unknown_and_the_person_keeps_the_name() {
    let run = run_scenario("lookalike", "demo");
    run.assert_matches_truth();
    // The look-alike alone would be named (their best faces match Obama), but Obama is on
    // screen beside them and matches better: right of centre in the first shot, left of it
    // in the last.
    let look_alike: Vec<_> = run.tracks.iter().filter(|t| t.person.is_none()).collect();
    assert!(!look_alike.is_empty());
    for track in look_alike {
        assert_eq!(track.evidence.decision().as_deref(), Some("Barack Obama"), "{track:?}");
        for sighting in &track.sightings {
            let centre = sighting.bbox.center().x;
            let expected_side = if sighting.seconds < 5.0 { centre > 640.0 } else { centre < 640.0 };
            assert!(expected_side, "the look-alike is where the real Obama is: {sighting:?}");
        }
    }
}
