//! The gallery of known people: one folder per person, named after them, holding their
//! photos (`<gallery>/<Person Name>/*.{jpg,jpeg,png}`), on disk or under an S3 prefix.
//!
//! A photo must show one face, large and sharp enough ([`crate::photos`]). A photo that
//! does not, or that cannot be read, is skipped with its reason and the rest are used: a
//! curated gallery contains mistakes, and one of them must not fail every video. Photos
//! are embedded in fp32, the precision the match threshold is calibrated for, and each
//! photo's verdict (its embedding, or why it was skipped) is cached by the sha256 of the
//! photo and then by both models and the photo rules' version, so an unchanged gallery
//! costs no inference the second time, N shards do not each look at a bad photo again,
//! and erasing a photo can erase every verdict about it.
//!
//! In the cloud the gallery is the registry's manifest ([`cameo_model::people`]): its
//! photos come with their person's id and the hash they were checked with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{ImageDecoder, ImageReader, RgbImage};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::identify::EnrolledPerson;
use crate::models::Models;
use crate::photos::{PHOTO_RULES_VERSION, Unusable, usable_face};
use crate::results::{GallerySummary, SkippedPhoto};

const PHOTO_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Photos larger than this are refused rather than decoded (a decompression bomb guard).
const MAX_PHOTO_PIXELS: u64 = 50_000_000;

/// The format of a cached verdict; bumped when it changes (older records are then ignored).
const CACHE_RECORD_VERSION: u32 = 1;

/// One gallery photo: whose it is, where it came from (for messages), and its bytes, or
/// why there are none (it vanished between listing and reading, or may not be read).
pub struct GalleryPhoto {
    pub person: String,
    pub location: String,
    pub bytes: std::result::Result<Vec<u8>, String>,
}

/// The people enrolled from a gallery, and what of it was skipped; from a manifest, which
/// version it was and the people's registry ids.
#[derive(Debug, Clone, Default)]
pub struct Gallery {
    pub people: Vec<EnrolledPerson>,
    pub skipped: Vec<SkippedPhoto>,
    pub manifest_version: Option<String>,
    pub person_ids: BTreeMap<String, String>,
}

impl Gallery {
    pub fn summary(&self) -> GallerySummary {
        GallerySummary {
            people: self.people.len(),
            photos: self.people.iter().map(|p| p.embeddings.len()).sum(),
            skipped: self.skipped.clone(),
            manifest_version: self.manifest_version.clone(),
            person_ids: self.person_ids.clone(),
        }
    }

    /// Says in the log what was skipped, and when nobody could be enrolled.
    pub fn warn(&self, location: &str) {
        for skipped in &self.skipped {
            tracing::warn!(photo = %skipped.location, "gallery photo skipped: {}", skipped.reason);
        }
        if self.people.is_empty() {
            tracing::warn!(gallery = location, "nobody is enrolled: every face will be unknown");
        }
    }

    /// With `--strict-gallery`: anything skipped, or nobody enrolled, is bad input.
    pub fn strict(self, location: &str) -> Result<Self> {
        if let Some(first) = self.skipped.first() {
            let more = match self.skipped.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            return Err(Error::bad_gallery(&first.location, format!("{}{more}", first.reason)));
        }
        if self.people.is_empty() {
            return Err(Error::bad_gallery(location, "has nobody with a usable photo"));
        }
        Ok(self)
    }
}

/// Where photo verdicts are kept between runs, as bytes by key.
pub trait VerdictCache {
    fn get(&mut self, key: &str) -> Option<Vec<u8>>;
    /// Best effort: a cache that cannot be written only costs time next run.
    fn put(&mut self, key: &str, bytes: Vec<u8>);
}

/// A cache folder on disk.
pub struct DirCache(pub PathBuf);

impl VerdictCache for DirCache {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(key)).ok()
    }

    fn put(&mut self, key: &str, bytes: Vec<u8>) {
        let path = self.0.join(key);
        let folder = path.parent().unwrap_or(&self.0);
        let written = std::fs::create_dir_all(folder).and_then(|()| crate::output::write_atomically(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!("cannot cache a gallery verdict in {}: {e}", self.0.display());
        }
    }
}

/// No caching.
pub struct NoCache;

impl VerdictCache for NoCache {
    fn get(&mut self, _: &str) -> Option<Vec<u8>> {
        None
    }

    fn put(&mut self, _: &str, _: Vec<u8>) {}
}

/// What was concluded about a photo's content: cached, as it cannot change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Usable(Embedding),
    Skipped(String),
}

#[derive(Serialize, Deserialize)]
struct CacheRecord {
    version: u32,
    verdict: Verdict,
}

/// A gallery on disk: each person's name and photo files, sorted by name, and what could
/// not be used as found (a folder without photos, a name that is no name).
#[derive(Debug, Clone)]
pub struct GalleryFolder {
    pub people: Vec<(String, Vec<PathBuf>)>,
    pub skipped: Vec<SkippedPhoto>,
}

impl GalleryFolder {
    /// Lists the gallery; a folder that cannot be read is an error, an empty one is not.
    pub fn scan(dir: &Path) -> Result<Self> {
        let entries = read_dir_sorted(dir)?;
        let (mut people, mut skipped) = (Vec::new(), Vec::new());
        for path in entries.into_iter().filter(|p| p.is_dir()) {
            let location = path.display().to_string();
            let folder = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let photos: Vec<PathBuf> = match read_dir_sorted(&path) {
                Ok(files) => files.into_iter().filter(|p| p.is_file() && is_photo(p)).collect(),
                Err(e) => {
                    skipped.push(SkippedPhoto { location, reason: e.to_string() });
                    continue;
                }
            };
            if photos.is_empty() {
                skipped.push(SkippedPhoto { location, reason: "has no .jpg, .jpeg or .png photos".into() });
                continue;
            }
            match person_name(folder) {
                Ok(name) => people.push((name, photos)),
                Err(reason) => skipped.extend(
                    photos.iter().map(|p| SkippedPhoto { location: p.display().to_string(), reason: reason.into() }),
                ),
            }
        }
        Ok(GalleryFolder { people, skipped })
    }

    pub fn photo_count(&self) -> usize {
        self.people.iter().map(|(_, photos)| photos.len()).sum()
    }

    /// The photos, read one at a time (one that cannot be read is skipped by [`enroll`]).
    pub fn photos(&self) -> impl Iterator<Item = Result<GalleryPhoto>> + '_ {
        self.people.iter().flat_map(|(person, photos)| {
            photos.iter().map(move |path| {
                Ok(GalleryPhoto {
                    person: person.clone(),
                    location: path.display().to_string(),
                    bytes: std::fs::read(path).map_err(|e| format!("cannot read it: {e}")),
                })
            })
        })
    }
}

/// Enrols every usable photo (embedding it, or taking its verdict from `cache`), calling
/// `progress` after each; `skipped` (from listing) heads the list of what was left out.
/// An error reading `photos` (not a photo that cannot be read: the storage) stops it.
/// People come out in the order their first usable photo comes in.
pub fn enroll(
    photos: impl IntoIterator<Item = Result<GalleryPhoto>>,
    skipped: Vec<SkippedPhoto>,
    models: &mut Models,
    cache: &mut dyn VerdictCache,
    mut progress: impl FnMut(),
) -> Result<Gallery> {
    let mut gallery = Gallery { skipped, ..Gallery::default() };
    for photo in photos {
        let photo = photo?;
        let verdict = match &photo.bytes {
            Err(reason) => Verdict::Skipped(reason.clone()),
            Ok(bytes) => photo_verdict(&photo.location, bytes, models, cache)?,
        };
        match verdict {
            Verdict::Skipped(reason) => gallery.skipped.push(SkippedPhoto { location: photo.location, reason }),
            Verdict::Usable(embedding) => match gallery.people.iter_mut().find(|p| p.name == photo.person) {
                Some(person) => person.embeddings.push(embedding),
                None => gallery.people.push(EnrolledPerson::new(photo.person, vec![embedding])),
            },
        }
        progress();
    }
    Ok(gallery)
}

/// The hex sha256 of a photo's bytes: the registry's and the cache's key for it.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Where the verdicts about a photo are cached (one per models and rules): a folder, so
/// erasing the photo erases them all.
pub fn cache_folder(content_hash: &str) -> String {
    format!("{content_hash}/")
}

/// A photo's verdict, from `cache` or by looking at it (and then cached).
pub fn photo_verdict(
    location: &str,
    bytes: &[u8],
    models: &mut Models,
    cache: &mut dyn VerdictCache,
) -> Result<Verdict> {
    let models_key =
        format!("{}{}{PHOTO_RULES_VERSION}", models.detector_file.sha256, models.fp32_recognizer_file.sha256);
    let key = format!("{}{:x}", cache_folder(&content_hash(bytes)), Sha256::digest(models_key.as_bytes()));
    if let Some(verdict) = cache.get(&key).and_then(|record| cached(&record)) {
        return Ok(verdict);
    }
    let verdict = match embed_photo(location, bytes, models)? {
        Ok(embedding) => Verdict::Usable(embedding),
        Err(unusable) => Verdict::Skipped(unusable.to_string()),
    };
    let record = CacheRecord { version: CACHE_RECORD_VERSION, verdict: verdict.clone() };
    cache.put(&key, serde_json::to_vec(&record).unwrap_or_default());
    Ok(verdict)
}

/// A cache record's verdict, if it is one of this version.
fn cached(record: &[u8]) -> Option<Verdict> {
    serde_json::from_slice::<CacheRecord>(record).ok().filter(|r| r.version == CACHE_RECORD_VERSION).map(|r| r.verdict)
}

/// The photo's face embedded in fp32, or why the photo cannot be used. Errors are the
/// models' (exit 1 or 3), never the photo's.
fn embed_photo(location: &str, bytes: &[u8], models: &mut Models) -> Result<std::result::Result<Embedding, Unusable>> {
    let image = match decode_photo(bytes) {
        Ok(image) => image,
        Err(why) => return Ok(Err(Unusable::Unreadable(why))),
    };
    let faces = models.aligned_faces(&image)?;
    match usable_face(&faces) {
        Ok(face) => Ok(Ok(models.recognisers.embed_fp32(&[faces[face].1.clone()])?.remove(0))),
        Err(unusable) => {
            tracing::debug!(photo = location, "{unusable}");
            Ok(Err(unusable))
        }
    }
}

/// Decodes a photo upright (applying its EXIF orientation), or says why it cannot.
pub fn decode_photo(bytes: &[u8]) -> std::result::Result<RgbImage, String> {
    let bad = |e: image::ImageError| format!("not a readable image ({e})");
    let reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(format!("{width}x{height} is too large; use a photo under 50 megapixels"));
    }
    let orientation = decoder.orientation().map_err(bad)?;
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    Ok(image.to_rgb8())
}

/// A person's name from their folder's name: printable, not empty.
pub fn person_name(folder: &str) -> std::result::Result<String, &'static str> {
    if folder.trim().is_empty() || folder.chars().any(char::is_control) {
        return Err("a person's folder name must be a printable name");
    }
    Ok(folder.to_string())
}

/// Whether a file name is a photo by its extension.
pub fn is_photo(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::bad_gallery(dir.display(), e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
        .collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_photos_and_a_nameless_folder_are_skipped_and_the_rest_listed() {
        let dir = tempfile::tempdir().unwrap();
        for (folder, file) in [("Ada", "a.jpg"), ("Empty", "notes.txt"), ("Bad\u{7}Name", "b.png")] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join(file), b"x").unwrap();
        }
        let folder = GalleryFolder::scan(dir.path()).unwrap();
        assert_eq!(folder.people.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), vec!["Ada"]);
        let reasons: Vec<&str> = folder.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec!["a person's folder name must be a printable name", "has no .jpg, .jpeg or .png photos"]
        );
        assert!(folder.skipped[0].location.ends_with("b.png"));
        assert!(GalleryFolder::scan(&dir.path().join("absent")).is_err(), "an unreadable location is an error");
        assert!(GalleryFolder::scan(tempfile::tempdir().unwrap().path()).unwrap().people.is_empty());
    }

    #[test]
    fn a_cached_verdict_of_another_record_version_is_ignored() {
        let record = |version| serde_json::to_vec(&CacheRecord { version, verdict: Verdict::Skipped("no".into()) });
        assert_eq!(cached(&record(CACHE_RECORD_VERSION).unwrap()), Some(Verdict::Skipped("no".into())));
        assert_eq!(cached(&record(CACHE_RECORD_VERSION + 1).unwrap()), None);
        assert_eq!(cached(b"\x00\x01"), None, "an old raw embedding");
    }

    #[test]
    fn strict_galleries_refuse_what_others_skip() {
        let skipped = vec![SkippedPhoto { location: "g/Ada/a.jpg".into(), reason: "no face found".into() }];
        let person = EnrolledPerson::new("Bea", vec![Embedding(vec![1.0])]);
        let gallery = Gallery { people: vec![person.clone()], skipped, ..Gallery::default() };
        let summary = GallerySummary { people: 1, photos: 1, skipped: gallery.skipped.clone(), ..Default::default() };
        assert_eq!(gallery.summary(), summary);
        let error = gallery.strict("g").unwrap_err().to_string();
        assert!(error.contains("g/Ada/a.jpg") && error.contains("no face found"), "{error}");
        assert!(Gallery::default().strict("g").is_err());
        assert!(Gallery { people: vec![person], ..Gallery::default() }.strict("g").is_ok());
    }
}
