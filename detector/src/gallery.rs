//! The gallery of known people: one folder per person, named after them, holding their
//! photos (`<gallery>/<Person Name>/*.{jpg,jpeg,png}`), on disk or under an S3 prefix.
//!
//! Each photo must show exactly one face. Embeddings are cached by the sha256 of the
//! photo and of both models, so an unchanged gallery costs no inference the second time.

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

/// One gallery photo: whose it is, where it came from (for messages), and its bytes.
pub struct GalleryPhoto {
    pub person: String,
    pub location: String,
    pub bytes: Vec<u8>,
}

/// Where gallery embeddings are kept between runs, by content hash.
pub trait EmbeddingCache {
    fn get(&mut self, key: &str) -> Option<Embedding>;
    /// Best effort: a cache that cannot be written only costs time next run.
    fn put(&mut self, key: &str, embedding: &Embedding);
}

/// A cache folder on disk.
pub struct DirCache(pub PathBuf);

impl EmbeddingCache for DirCache {
    fn get(&mut self, key: &str) -> Option<Embedding> {
        embedding_from_bytes(&std::fs::read(self.0.join(key)).ok()?)
    }

    fn put(&mut self, key: &str, embedding: &Embedding) {
        let written = std::fs::create_dir_all(&self.0)
            .and_then(|()| crate::output::write_atomically(&self.0.join(key), &embedding_to_bytes(embedding)));
        if let Err(e) = written {
            tracing::warn!("cannot cache a gallery embedding in {}: {e}", self.0.display());
        }
    }
}

/// No caching.
pub struct NoCache;

impl EmbeddingCache for NoCache {
    fn get(&mut self, _: &str) -> Option<Embedding> {
        None
    }

    fn put(&mut self, _: &str, _: &Embedding) {}
}

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
            let folder = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let name = person_name(folder, &path.display().to_string())?;
            let photos: Vec<PathBuf> =
                read_dir_sorted(&path)?.into_iter().filter(|p| p.is_file() && is_photo(p)).collect();
            if photos.is_empty() {
                return Err(Error::bad_gallery(path.display(), "has no .jpg or .png photos"));
            }
            people.push((name, photos));
        }
        if people.is_empty() {
            return Err(Error::bad_gallery(
                dir.display(),
                "has no person folders (expected <gallery>/<Person Name>/*.jpg)",
            ));
        }
        Ok(GalleryFolder { people })
    }

    pub fn photo_count(&self) -> usize {
        self.people.iter().map(|(_, photos)| photos.len()).sum()
    }

    /// The photos, read one at a time.
    pub fn photos(&self) -> impl Iterator<Item = Result<GalleryPhoto>> + '_ {
        self.people.iter().flat_map(|(person, photos)| {
            photos.iter().map(move |path| {
                let bytes = std::fs::read(path).map_err(|e| Error::bad_gallery(path.display(), e))?;
                Ok(GalleryPhoto { person: person.clone(), location: path.display().to_string(), bytes })
            })
        })
    }
}

/// Embeds every photo (or takes it from `cache`), calling `progress` after each. People
/// come out in the order their first photo comes in.
pub fn enroll(
    photos: impl IntoIterator<Item = Result<GalleryPhoto>>,
    models: &mut Models,
    cache: &mut dyn EmbeddingCache,
    mut progress: impl FnMut(),
) -> Result<Vec<EnrolledPerson>> {
    let model_key = format!("{}{}", models.detector_file.sha256, models.recognizer_file.sha256);
    let mut people: Vec<EnrolledPerson> = Vec::new();
    for photo in photos {
        let photo = photo?;
        let key = format!("{:x}", Sha256::new().chain_update(&photo.bytes).chain_update(&model_key).finalize());
        let embedding = match cache.get(&key) {
            Some(embedding) => embedding,
            None => {
                let embedding = embed_photo(&photo, models)?;
                cache.put(&key, &embedding);
                embedding
            }
        };
        match people.iter_mut().find(|p| p.name == photo.person) {
            Some(person) => person.embeddings.push(embedding),
            None => people.push(EnrolledPerson { name: photo.person, embeddings: vec![embedding] }),
        }
        progress();
    }
    Ok(people)
}

fn embed_photo(photo: &GalleryPhoto, models: &mut Models) -> Result<Embedding> {
    let image = decode_photo(&photo.location, &photo.bytes)?;
    let mut faces = models.faces_in_image(&image)?;
    match faces.len() {
        1 => Ok(faces.remove(0).1),
        0 => Err(Error::bad_gallery(&photo.location, "no face found; use a photo where the face is clearly visible")),
        n => Err(Error::bad_gallery(
            &photo.location,
            format!("{n} faces found; a gallery photo must show exactly one person"),
        )),
    }
}

/// Decodes a photo upright (applying its EXIF orientation).
pub fn decode_photo(location: &str, bytes: &[u8]) -> Result<RgbImage> {
    let bad = |e: image::ImageError| Error::bad_gallery(location, format!("not a readable image ({e})"));
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::bad_gallery(location, e))?;
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(Error::bad_gallery(
            location,
            format!("{width}x{height} is too large; use a photo under 50 megapixels"),
        ));
    }
    let orientation = decoder.orientation().map_err(bad)?;
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    Ok(image.to_rgb8())
}

/// A person's name from their folder's name: printable, not empty.
pub fn person_name(folder: &str, location: &str) -> Result<String> {
    if folder.trim().is_empty() || folder.chars().any(char::is_control) {
        return Err(Error::bad_gallery(location, "a person's folder name must be a printable name"));
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

/// An embedding as stored in a cache: 128 little-endian f32.
pub fn embedding_to_bytes(embedding: &Embedding) -> Vec<u8> {
    embedding.0.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn embedding_from_bytes(bytes: &[u8]) -> Option<Embedding> {
    (bytes.len() == EMBEDDING_DIM * 4)
        .then(|| Embedding(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
}
