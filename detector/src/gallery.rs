//! The gallery of known people: `<gallery>/<Person Name>/*.{jpg,jpeg,png}`.
//!
//! Each photo must show exactly one face. Embeddings are cached by the sha256 of
//! the photo and of both models, so re-running on an unchanged gallery costs no
//! inference.

use std::path::{Path, PathBuf};

use image::{ImageDecoder, ImageReader, RgbImage};
use sha2::{Digest, Sha256};

use crate::embed::{EMBEDDING_DIM, Embedding};
use crate::error::{Error, Result};
use crate::identify::EnrolledPerson;
use crate::models::Models;

const PHOTO_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Photos larger than this are refused rather than decoded (a decompression bomb guard).
const MAX_PHOTO_PIXELS: u64 = 50_000_000;

/// A gallery on disk: each person's name and photo files, sorted by name.
#[derive(Debug, Clone)]
pub struct GalleryFolder {
    pub people: Vec<(String, Vec<PathBuf>)>,
}

impl GalleryFolder {
    /// Lists the gallery; an empty gallery, a person without photos or an unusable name is an error.
    pub fn scan(dir: &Path) -> Result<Self> {
        let entries = read_dir_sorted(dir)?;
        let mut people = Vec::new();
        for path in entries.into_iter().filter(|p| p.is_dir()) {
            let name = person_name(&path)?;
            let photos: Vec<PathBuf> = read_dir_sorted(&path)?.into_iter().filter(|p| is_photo(p)).collect();
            if photos.is_empty() {
                return Err(Error::bad_gallery(&path, "has no .jpg or .png photos"));
            }
            people.push((name, photos));
        }
        if people.is_empty() {
            return Err(Error::bad_gallery(dir, "has no person folders (expected <gallery>/<Person Name>/*.jpg)"));
        }
        Ok(GalleryFolder { people })
    }

    pub fn photo_count(&self) -> usize {
        self.people.iter().map(|(_, photos)| photos.len()).sum()
    }
}

/// Embeds every photo (or reads it from `cache_dir`), calling `progress` after each.
pub fn enroll(
    folder: &GalleryFolder,
    models: &mut Models,
    cache_dir: Option<&Path>,
    mut progress: impl FnMut(),
) -> Result<Vec<EnrolledPerson>> {
    let model_key = format!("{}{}", models.detector_file.sha256, models.recognizer_file.sha256);
    let mut people = Vec::with_capacity(folder.people.len());
    for (name, photos) in &folder.people {
        let mut embeddings = Vec::with_capacity(photos.len());
        for photo in photos {
            let bytes = std::fs::read(photo).map_err(|e| Error::bad_gallery(photo, e))?;
            let key = format!("{:x}", Sha256::new().chain_update(&bytes).chain_update(&model_key).finalize());
            let cached = cache_dir.and_then(|dir| read_cached(&dir.join(&key)));
            let embedding = match cached {
                Some(e) => e,
                None => {
                    let embedding = embed_photo(photo, &bytes, models)?;
                    if let Some(dir) = cache_dir {
                        write_cached(dir, &key, &embedding);
                    }
                    embedding
                }
            };
            embeddings.push(embedding);
            progress();
        }
        people.push(EnrolledPerson { name: name.clone(), embeddings });
    }
    Ok(people)
}

fn embed_photo(path: &Path, bytes: &[u8], models: &mut Models) -> Result<Embedding> {
    let image = decode_photo(path, bytes)?;
    let mut faces = models.faces_in_image(&image)?;
    match faces.len() {
        1 => Ok(faces.remove(0).1),
        0 => Err(Error::bad_gallery(path, "no face found; use a photo where the face is clearly visible")),
        n => Err(Error::bad_gallery(path, format!("{n} faces found; a gallery photo must show exactly one person"))),
    }
}

/// Decodes a photo upright (applying its EXIF orientation).
pub fn decode_photo(path: &Path, bytes: &[u8]) -> Result<RgbImage> {
    let bad = |e: image::ImageError| Error::bad_gallery(path, format!("not a readable image ({e})"));
    let reader =
        ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| Error::bad_gallery(path, e))?;
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(Error::bad_gallery(
            path,
            format!("{width}x{height} is too large; use a photo under 50 megapixels"),
        ));
    }
    let orientation = decoder.orientation().map_err(bad)?;
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    Ok(image.to_rgb8())
}

fn person_name(dir: &Path) -> Result<String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::bad_gallery(dir, "the folder name is not valid UTF-8"))?;
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(Error::bad_gallery(dir, "a person's folder name must be a printable name"));
    }
    Ok(name.to_string())
}

fn is_photo(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::bad_gallery(dir, e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
        .collect();
    paths.sort();
    Ok(paths)
}

fn read_cached(path: &Path) -> Option<Embedding> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() != EMBEDDING_DIM * 4 {
        return None;
    }
    let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Some(Embedding(values))
}

/// Best effort: a cache that cannot be written only costs time next run.
fn write_cached(dir: &Path, key: &str, embedding: &Embedding) {
    let bytes: Vec<u8> = embedding.0.iter().flat_map(|v| v.to_le_bytes()).collect();
    let written = std::fs::create_dir_all(dir).and_then(|()| crate::output::write_atomically(&dir.join(key), &bytes));
    if let Err(e) = written {
        tracing::warn!("cannot cache a gallery embedding in {}: {e}", dir.display());
    }
}
