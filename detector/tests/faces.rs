//! Faces you can see: `detect` writes each group's faces, their templates, the exports and
//! an HTML report; the crops show who they claim to; the report works in a real browser.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cameo_detector::embed::Embedding;
use cameo_detector::gallery::decode_photo;
use cameo_detector::identify::{MatchConfig, match_embedding};
use cameo_detector::models::Models;
use cameo_detector::pipeline::PipelineConfig;
use cameo_detector::results::ResultsDocument;
use cameo_model::templates::TemplatesDocument;
use support::{load_models, testdata};

const BIN: &str = env!("CARGO_BIN_EXE_cameo-detector");

fn detect(out: &Path, extra: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .args(["detect", "--log-format", "json", "--video"])
        .arg(testdata().join("demo.mp4"))
        .arg("--gallery")
        .arg(testdata().join("galleries/demo"))
        .args(extra)
        .current_dir(out)
        .env("CAMEO_CACHE_DIR", cache.path())
        .output()
        .expect("cameo-detector runs")
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The face of a crop, embedded as a gallery photo is: the face nearest its centre.
fn embed_crop(models: &mut Models, path: &Path) -> Embedding {
    let image = decode_photo(&std::fs::read(path).unwrap()).unwrap();
    let faces = models.faces_in_image(&image).unwrap();
    let centre = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    let distance = |b: &cameo_detector::geometry::BBox| {
        (b.x + b.width / 2.0 - centre.0).powi(2) + (b.y + b.height / 2.0 - centre.1).powi(2)
    };
    let (_, embedding) = faces
        .into_iter()
        .min_by(|(a, _), (b, _)| distance(&a.bbox).total_cmp(&distance(&b.bbox)))
        .unwrap_or_else(|| panic!("no face in {}", path.display()));
    embedding
}

#[test]
fn every_group_gets_its_faces_and_templates_and_each_crop_is_who_it_claims() {
    let out = tempfile::tempdir().unwrap();
    let run = detect(out.path(), &["--json", "demo.json", "--export", "csv", "demo.csv"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let document: ResultsDocument = read_json(&out.path().join("demo.json"));
    let groups: Vec<_> = document.people.iter().chain(&document.unknown).collect();
    assert_eq!(groups.len(), 9, "1 known and 8 unknown, as in the README");

    // Every crop the document names exists, beside it, under the group's id.
    for group in &groups {
        assert_eq!(group.thumbnail.as_deref(), group.crops.first().map(String::as_str));
        assert!(group.crops.len() >= 2, "{} has faces from different moments: {:?}", group.name, group.crops);
        let appearance_crops = group.appearances.iter().map(|a| a.crop.as_ref().expect("each appearance has a crop"));
        for path in group.crops.iter().chain(appearance_crops) {
            assert!(path.starts_with(&format!("demo.faces/{}/", group.id)), "{path}");
            let image = decode_photo(&std::fs::read(out.path().join(path)).unwrap()).unwrap();
            assert!(image.width().max(image.height()) <= 256, "{path} is {:?}", image.dimensions());
        }
        assert!(group.appearances.iter().all(|a| !a.track_ids.is_empty()));
    }
    let csv = std::fs::read_to_string(out.path().join("demo.csv")).unwrap();
    assert!(csv.contains(&format!(",{}\r\n", groups[0].appearances[0].crop.as_ref().unwrap())));

    // Templates: each group's fp32 embeddings of its chosen crops, from the fp32 model.
    let templates: TemplatesDocument = read_json(&out.path().join("demo.faces/templates.json"));
    let fp32 = document.models.fp32_recognizer.as_ref().unwrap_or(&document.models.recognizer);
    assert_eq!(templates.recognizer.sha256, fp32.sha256);
    assert_eq!(
        templates.groups.iter().map(|g| &g.id).collect::<Vec<_>>(),
        groups.iter().map(|g| &g.id).collect::<Vec<_>>()
    );
    for (template, group) in templates.groups.iter().zip(&groups) {
        assert!(!template.embeddings.is_empty() && template.embeddings.len() <= group.crops.len(), "{}", group.name);
        assert_eq!(template.known, document.people.iter().any(|p| p.id == group.id));
        assert_eq!(template.faces, group.appearances.iter().map(|a| a.faces).sum::<usize>());
        for crop in &template.embeddings {
            assert!(group.crops.contains(&crop.crop));
            let norm: f32 = crop.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!(crop.embedding.len() == 128 && (norm - 1.0).abs() < 1e-3);
        }
    }

    // A known person's thumbnail, embedded again, matches them in the gallery.
    let (_runtime, mut models) = load_models();
    let gallery = cameo_detector::gallery::GalleryFolder::scan(&testdata().join("galleries/demo")).unwrap();
    let gallery = cameo_detector::gallery::enroll(
        gallery.photos(),
        vec![],
        &mut models,
        &mut cameo_detector::gallery::NoCache,
        || {},
    )
    .unwrap();
    let rule = MatchConfig { threshold: PipelineConfig::DEFAULT_THRESHOLD, margin: PipelineConfig::DEFAULT_MARGIN };
    for person in &document.people {
        let thumbnail = embed_crop(&mut models, &out.path().join(person.thumbnail.as_ref().unwrap()));
        let matched = match_embedding(&thumbnail, &gallery.people, &rule).map(|i| gallery.people[i].name.as_str());
        assert_eq!(matched, Some(person.name.as_str()), "{}'s thumbnail", person.name);
    }
    // An unknown face's thumbnail resembles its own group's other face (another moment)
    // more than any other group's.
    let second: Vec<Embedding> =
        groups.iter().map(|g| embed_crop(&mut models, &out.path().join(&g.crops[1]))).collect();
    for (n, group) in groups.iter().enumerate().filter(|(_, g)| g.name.starts_with("unknown")) {
        let thumbnail = embed_crop(&mut models, &out.path().join(group.thumbnail.as_ref().unwrap()));
        let closest =
            (0..groups.len()).max_by(|&a, &b| thumbnail.cosine(&second[a]).total_cmp(&thumbnail.cosine(&second[b])));
        assert_eq!(closest, Some(n), "{}'s thumbnail resembles {}", group.name, groups[closest.unwrap()].name);
    }
}

#[test]
fn a_rerun_keeps_the_ids_and_replaces_the_faces_and_without_a_folder_nothing_refers_to_crops() {
    let out = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let run = detect(out.path(), &["--json", "demo.json"]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let document: ResultsDocument = read_json(&out.path().join("demo.json"));
    let folders: Vec<String> = std::fs::read_dir(out.path().join("demo.faces"))
        .unwrap()
        .filter_map(|e| e.ok().filter(|e| e.path().is_dir()).map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(folders.len(), document.people.len() + document.unknown.len(), "{folders:?}");
    assert!(document.unknown.iter().all(|g| folders.contains(&g.id)), "the second run found the same groups");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2, "demo.json and demo.faces, nothing staged");

    let stdout = detect(out.path(), &["--json", "-"]);
    let document: ResultsDocument = serde_json::from_slice(&stdout.stdout).unwrap();
    assert!(document.unknown.iter().all(|g| g.thumbnail.is_none() && g.appearances.iter().all(|a| a.crop.is_none())));

    // A folder the user keeps other files in is refused before anything is analysed.
    std::fs::create_dir(out.path().join("photos")).unwrap();
    std::fs::write(out.path().join("photos/holiday.jpg"), b"x").unwrap();
    let refused = detect(out.path(), &["--json", "demo.json", "--faces", "photos"]);
    assert_eq!(refused.status.code(), Some(3), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(out.path().join("photos/holiday.jpg").exists());
}

/// `web/`, where the browser tests live.
fn web() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

#[test]
fn the_report_opened_from_a_file_seeks_the_player_where_an_appearance_is_clicked() {
    let playwright = web().join("node_modules/.bin/playwright");
    assert!(playwright.exists(), "{} is missing: run `make test-tools` (npm ci in web/)", playwright.display());
    let chromium = std::env::var("CAMEO_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: run `make test-tools` (Debian's chromium)");

    let out = tempfile::tempdir().unwrap();
    let run = detect(out.path(), &["--report", "demo.html"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "the report alone: it is self-contained");

    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let test = Command::new(&playwright)
        .args(["test", "report.spec.js"])
        .current_dir(web())
        .env("CAMEO_REPORT", out.path().join("demo.html"))
        .env("CAMEO_SCREENSHOTS", &screenshots)
        .env("CAMEO_CHROMIUM", &chromium)
        .output()
        .expect("playwright runs");
    let said = format!("{}{}", String::from_utf8_lossy(&test.stdout), String::from_utf8_lossy(&test.stderr));
    assert!(test.status.success(), "the browser test failed:\n{said}");
    println!("screenshots in {}", screenshots.display());
}
