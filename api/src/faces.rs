//! `GET /videos/{id}/faces`: short-lived presigned GETs for the face crops a video's
//! results refer to, a page at a time (an `<img>` cannot send a bearer token, and every
//! crop of a crowded film in one answer would pass a Lambda's 6 MB).

use cameo_model::results::ResultsDocument;
use cameo_model::table::MovieItem;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::pages::OffsetPage;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FacesQuery {
    /// Only this group's crops (a person's or an unknown cluster's `id` in the results).
    pub group: Option<String>,
    /// `thumbnail` (each group's first face), `face` or `appearance`.
    pub role: Option<String>,
    pub limit: Option<String>,
    pub next: Option<String>,
}

/// One crop and where to GET it until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceUrl {
    pub group_id: String,
    pub name: String,
    pub known: bool,
    /// `face` (a group's faces, the first its thumbnail) or `appearance`.
    pub role: String,
    /// From 1: the face's rank, or the appearance's place in time.
    pub index: usize,
    /// As the results document refers to it.
    pub path: String,
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceListing {
    pub items: Vec<FaceUrl>,
    pub next: Option<String>,
    /// When the URLs stop working: ask again.
    pub expires_at: String,
}

/// A crop the document refers to, before it is presigned.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop<'a> {
    pub group_id: &'a str,
    pub name: &'a str,
    pub known: bool,
    pub role: &'static str,
    pub index: usize,
    pub path: &'a str,
}

/// Every crop of `document` that `query` asks for, groups in the document's order.
pub fn crops<'a>(document: &'a ResultsDocument, query: &FacesQuery) -> ApiResult<Vec<Crop<'a>>> {
    let role = query.role.as_deref();
    if role.is_some_and(|r| !["thumbnail", "face", "appearance"].contains(&r)) {
        return Err(ApiError::invalid("invalid_role", "role must be thumbnail, face or appearance"));
    }
    let known = document.people.iter().map(|p| (p, true));
    let groups = known.chain(document.unknown.iter().map(|p| (p, false)));
    let mut crops = Vec::new();
    for (group, known) in groups.filter(|(g, _)| query.group.as_deref().is_none_or(|id| id == g.id)) {
        let crop = |role, index, path| Crop { group_id: &group.id, name: &group.name, known, role, index, path };
        let faces = group.crops.iter().enumerate().map(|(n, path)| crop("face", n + 1, path.as_str()));
        let appearances = group
            .appearances
            .iter()
            .enumerate()
            .filter_map(|(n, a)| Some(crop("appearance", n + 1, a.crop.as_deref()?)));
        crops.extend(faces.chain(appearances).filter(|c| match role {
            None => true,
            Some("thumbnail") => c.role == "face" && c.index == 1,
            Some(role) => c.role == role,
        }));
    }
    Ok(crops)
}

/// The key of a crop at `path` (relative to the results document at `result_key`): only
/// a plain path under `faces/` beside the document, so that a document can never point
/// the API at another object.
pub fn crop_key(result_key: &str, path: &str) -> Option<String> {
    let folder = result_key.rsplit_once('/').map_or("", |(folder, _)| folder);
    let plain = |segment: &str| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let segments: Vec<&str> = path.split('/').collect();
    (segments.len() > 1 && segments[0] == "faces" && segments[1..].iter().all(|s| plain(s)))
        .then(|| format!("{folder}/{path}"))
}

impl App {
    pub async fn face_urls(&self, movie: &MovieItem, query: FacesQuery) -> ApiResult<FaceListing> {
        let page = OffsetPage::parse(query.limit.as_deref(), query.next.as_deref())?;
        let document = self.read_result(movie).await?;
        let (page, next) = page.of(crops(&document, &query)?);
        let result_key = self.result_key(movie)?;
        let ttl = self.config.result_url_ttl();
        let expires_at = jiff::Timestamp::now() + ttl;
        let mut items = Vec::new();
        for crop in page {
            let key = crop_key(result_key, crop.path)
                .ok_or_else(|| ApiError::upstream("reading the results", format!("a crop path {:?}", crop.path)))?;
            let url = self.presigned_get(&self.config.processed_bucket, &key, "a crop").await?;
            items.push(FaceUrl {
                group_id: crop.group_id.into(),
                name: crop.name.into(),
                known: crop.known,
                role: crop.role.into(),
                index: crop.index,
                path: crop.path.into(),
                url,
            });
        }
        Ok(FaceListing { items, next, expires_at: expires_at.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_is_only_ever_a_plain_path_under_faces_beside_the_document() {
        let result = "results/media/demo/result.json";
        assert_eq!(
            crop_key(result, "faces/c01/face-1.jpg").as_deref(),
            Some("results/media/demo/faces/c01/face-1.jpg")
        );
        for hostile in [
            "../shards/0.json",
            "faces/../../x",
            "faces/.hidden",
            "/faces/a.jpg",
            "faces",
            "faces//a.jpg",
            "faces/a b.jpg",
            "other/a.jpg",
        ] {
            assert_eq!(crop_key(result, hostile), None, "{hostile}");
        }
    }
}
