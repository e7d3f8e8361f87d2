//! Templates stage: the fp32 embeddings of each group's chosen face crops
//! ([`crate::faces`]), made exactly as a gallery photo's are (the face found in the JPEG,
//! aligned, embedded in fp32), so that they are the evidence a crop would give if it
//! were named and added to a person's photos.

use cameo_model::curation::Analysis;
use cameo_model::templates::{CropEmbedding, GroupTemplates, TEMPLATES_VERSION, TemplatesDocument};
use image::RgbImage;

use crate::error::{Error, Result};
use crate::faces::{FaceCrops, GroupFaces};
use crate::gallery::decode_photo;
use crate::models::Models;
use crate::results::ResultsDocument;

/// The templates of every group of `document` from its chosen crops. A crop in which the
/// detector finds no face again adds none.
pub fn templates(
    document: &ResultsDocument,
    groups: &[GroupFaces],
    crops: &FaceCrops,
    models: &mut Models,
) -> Result<TemplatesDocument> {
    // Every crop's face first, then one batch through the recogniser.
    let mut aligned: Vec<RgbImage> = Vec::new();
    let mut owners: Vec<(usize, String)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for crop in &group.crops {
            let bytes =
                crops.get(&crop.face_id).ok_or_else(|| Error::Inference(format!("no crop of {}", crop.face_id)))?;
            let image = decode_photo(bytes).map_err(Error::Inference)?;
            match central_face(models.aligned_faces(&image)?, &image) {
                Some(face) => {
                    aligned.push(face);
                    owners.push((g, crop.path.clone()));
                }
                None => tracing::debug!(crop = crop.path, "no face found again in a face crop"),
            }
        }
    }
    let embeddings = if aligned.is_empty() { Vec::new() } else { models.recognisers.embed_fp32(&aligned)? };
    let mut templates: Vec<GroupTemplates> = groups
        .iter()
        .map(|group| {
            let known = document.people.iter().find(|p| p.id == group.group_id);
            let person = known.or_else(|| document.unknown.iter().find(|p| p.id == group.group_id));
            GroupTemplates {
                id: group.group_id.clone(),
                name: person.map(|p| p.name.clone()).unwrap_or_default(),
                known: known.is_some(),
                faces: person.map_or(0, |p| p.appearances.iter().map(|a| a.faces).sum()),
                embeddings: Vec::new(),
            }
        })
        .collect();
    for ((g, crop), embedding) in owners.into_iter().zip(embeddings) {
        templates[g].embeddings.push(CropEmbedding { crop, embedding: embedding.0 });
    }
    Ok(TemplatesDocument {
        schema_version: TEMPLATES_VERSION.into(),
        recognizer: models.fp32_recognizer_info().unwrap_or_else(|| models.recognizer_info()),
        groups: templates,
    })
}

/// The templates of some tracks of an analysis (their crops'), as one group named `name`:
/// a person's rejected examples when people say those tracks are not them.
pub fn of_tracks(
    templates: &TemplatesDocument,
    analysis: &Analysis,
    name: &str,
    tracks: &[String],
) -> TemplatesDocument {
    let crops: Vec<&String> =
        analysis.tracks.iter().filter(|t| tracks.contains(&t.id)).flat_map(|t| &t.crops).collect();
    let embeddings: Vec<CropEmbedding> =
        templates.groups.iter().flat_map(|g| &g.embeddings).filter(|e| crops.contains(&&e.crop)).cloned().collect();
    TemplatesDocument {
        schema_version: TEMPLATES_VERSION.into(),
        recognizer: templates.recognizer.clone(),
        groups: vec![GroupTemplates {
            id: "rejected".into(),
            name: name.into(),
            known: true,
            faces: embeddings.len(),
            embeddings,
        }],
    }
}

/// The aligned face nearest the crop's centre, where the crop was cut around it.
fn central_face(faces: Vec<(crate::detect::Detection, RgbImage)>, image: &RgbImage) -> Option<RgbImage> {
    let centre = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    let distance = |d: &crate::detect::Detection| {
        let (x, y) = (d.bbox.x + d.bbox.width / 2.0, d.bbox.y + d.bbox.height / 2.0);
        (x - centre.0).powi(2) + (y - centre.1).powi(2)
    };
    faces.into_iter().min_by(|(a, _), (b, _)| distance(a).total_cmp(&distance(b))).map(|(_, aligned)| aligned)
}
