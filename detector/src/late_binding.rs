//! Late binding: which unknown clusters of past videos a person's new evidence names,
//! decided on stored evidence with no video decoded again.
//!
//! The rule is the detector's own ([`crate::identify`]): each of a cluster's crop
//! embeddings (fp32, up to five) is held to the per-face threshold and margin against
//! every enrolled person, not only the one who changed (a stranger close to two people
//! stays unknown), and a face nearer one of the person's rejected examples than to their
//! photos is nobody's; the cluster is named on a strict majority of its crops. A cluster's
//! mean embedding is never held to a threshold calibrated on single faces.

use cameo_model::unknown_index::IndexEntry;

use crate::embed::Embedding;
use crate::identify::{EnrolledPerson, MatchConfig, majority, match_embedding, similarity_to};

/// An unknown cluster the rule now names after the person.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound<'a> {
    pub entry: &'a IndexEntry,
    /// Its crops that match the person, of all it has.
    pub votes: usize,
    /// The mean similarity of those crops to the person's closest evidence.
    pub similarity: f32,
}

/// The entries whose crops' majority now match `gallery[person]` under `rule`.
pub fn bound_to<'a>(
    entries: impl IntoIterator<Item = &'a IndexEntry>,
    gallery: &[EnrolledPerson],
    person: usize,
    rule: &MatchConfig,
) -> Vec<Bound<'a>> {
    let Some(them) = gallery.get(person) else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|entry| {
            let crops: Vec<Embedding> = entry.embeddings.iter().map(|e| Embedding(e.clone())).collect();
            // Most clusters are far from the person: one pass against them alone first.
            let near: Vec<f32> = crops.iter().map(|c| similarity_to(c, them)).collect();
            if near.iter().filter(|s| **s >= rule.threshold).count() * 2 <= crops.len() {
                return None;
            }
            let verdicts: Vec<Option<usize>> = crops.iter().map(|c| match_embedding(c, gallery, rule)).collect();
            if majority(verdicts.iter().copied()).flatten() != Some(person) {
                return None;
            }
            let matching: Vec<f32> =
                verdicts.iter().zip(&near).filter(|(v, _)| **v == Some(person)).map(|(_, s)| *s).collect();
            Some(Bound {
                entry,
                votes: matching.len(),
                similarity: matching.iter().sum::<f32>() / matching.len() as f32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

    /// A unit vector at `degrees` from the first axis, in the plane of the first two.
    fn at(degrees: f32) -> Vec<f32> {
        let r = degrees.to_radians();
        let mut v = vec![0.0; 4];
        (v[0], v[1]) = (r.cos(), r.sin());
        v
    }

    fn entry(cluster: &str, crops: Vec<Vec<f32>>) -> IndexEntry {
        IndexEntry {
            movie_id: "m".into(),
            job: "media/m".into(),
            cluster_id: cluster.into(),
            tracks: vec![format!("t{cluster}")],
            screen_time_seconds: 2.0,
            embeddings: crops,
        }
    }

    #[test]
    fn a_cluster_is_named_on_a_majority_of_its_crops_and_held_to_the_margin_against_everyone() {
        let gallery = vec![
            EnrolledPerson::new("Ingrid", vec![Embedding(at(0.0))]),
            EnrolledPerson::new("Greta", vec![Embedding(at(80.0))]),
        ];
        let hers = entry("hers", vec![at(10.0), at(20.0), at(95.0)]);
        let one_in_three = entry("one", vec![at(10.0), at(90.0), at(200.0)]);
        // cos 40 deg = 0.77 to both: over the threshold, and no lead.
        let between = entry("between", vec![at(40.0), at(40.0), at(40.0)]);
        let entries = [hers.clone(), one_in_three, between];
        let bound = bound_to(&entries, &gallery, 0, &RULE);
        assert_eq!(bound.iter().map(|b| b.entry.cluster_id.as_str()).collect::<Vec<_>>(), ["hers"]);
        assert_eq!(bound[0].votes, 2);
        assert!((bound[0].similarity - (10f32.to_radians().cos() + 20f32.to_radians().cos()) / 2.0).abs() < 1e-5);
        assert!(bound_to(&entries, &gallery, 1, &RULE).is_empty(), "Greta holds only one crop of any");
        assert!(bound_to(&entries, &gallery, 7, &RULE).is_empty());
    }

    #[test]
    fn a_face_nearer_a_rejected_example_than_the_photos_is_nobodys() {
        let mut ingrid = EnrolledPerson::new("Ingrid", vec![Embedding(at(0.0))]);
        ingrid.rejected = vec![Embedding(at(30.0))];
        let gallery = vec![ingrid, EnrolledPerson::new("Greta", vec![Embedding(at(150.0))])];
        let entries = [entry("near-rejected", vec![at(25.0), at(28.0)]), entry("hers", vec![at(5.0), at(8.0)])];
        let bound = bound_to(&entries, &gallery, 0, &RULE);
        assert_eq!(bound.iter().map(|b| b.entry.cluster_id.as_str()).collect::<Vec<_>>(), ["hers"]);
    }
}
