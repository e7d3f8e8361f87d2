//! Suggestions for naming unknown clusters, decided on stored evidence (no video decoded
//! again): how a cluster stands against each person of the gallery, and which clusters
//! look like one stranger. Both hold each crop to the detector's per-face rule
//! ([`crate::identify`]), as late binding does ([`crate::late_binding`]); what passes the
//! rule is bound there, and what comes within [`REACH`] of it is suggested here.

use crate::embed::Embedding;
use crate::identify::{EnrolledPerson, MatchConfig, match_embedding, similarity_to};

/// How far below the threshold a cluster's mean similarity to a person may be for the
/// person to be suggested: SFace's similarities between strangers mostly stay below 0.2.
pub const REACH: f32 = 0.1;

/// How a cluster stands against one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The person's place in the gallery.
    pub person: usize,
    /// The mean, over the crops, of each crop's similarity to the person's closest evidence.
    pub similarity: f32,
    /// The crops the rule names after the person.
    pub votes: usize,
    pub crops: usize,
}

impl Standing {
    /// Whether the rule names the cluster after the person (a strict majority of its crops).
    pub fn passes(&self) -> bool {
        self.votes * 2 > self.crops
    }
}

/// The people a cluster's crops come within [`REACH`] of `rule`'s threshold of, closest
/// first. A person is left out when most crops are nearer one of their rejected examples
/// than to their evidence: "not this person" sticks.
pub fn standings(crops: &[Embedding], gallery: &[EnrolledPerson], rule: &MatchConfig) -> Vec<Standing> {
    if crops.is_empty() {
        return Vec::new();
    }
    let verdicts: Vec<Option<usize>> = crops.iter().map(|c| match_embedding(c, gallery, rule)).collect();
    let mut found: Vec<Standing> = gallery
        .iter()
        .enumerate()
        .filter(|(_, person)| !person.embeddings.is_empty())
        .filter_map(|(place, person)| {
            let near: Vec<f32> = crops.iter().map(|c| similarity_to(c, person)).collect();
            let similarity = near.iter().sum::<f32>() / crops.len() as f32;
            let refused = crops.iter().zip(&near).filter(|(c, s)| person.rejected.iter().any(|r| c.cosine(r) > **s));
            if similarity < rule.threshold - REACH || refused.count() * 2 > crops.len() {
                return None;
            }
            let votes = verdicts.iter().filter(|v| **v == Some(place)).count();
            Some(Standing { person: place, similarity, votes, crops: crops.len() })
        })
        .collect();
    found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    found
}

/// Groups clusters that look like one stranger, in their given order (the most seen
/// first): each joins the first group whose first cluster it is alike, or starts one.
/// Two clusters are alike when most of one's crops reach the threshold with a crop of the
/// other. Returns each group's clusters by place.
pub fn by_likeness<C: AsRef<[Embedding]>>(clusters: &[C], rule: &MatchConfig) -> Vec<Vec<usize>> {
    let alike = |a: &[Embedding], b: &[Embedding]| {
        let close = a.iter().filter(|x| b.iter().any(|y| x.cosine(y) >= rule.threshold)).count();
        !a.is_empty() && close * 2 > a.len()
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (place, crops) in clusters.iter().enumerate() {
        match groups.iter_mut().find(|g| alike(crops.as_ref(), clusters[g[0]].as_ref())) {
            Some(group) => group.push(place),
            None => groups.push(vec![place]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

    /// A unit vector at `degrees` from the first axis, in the plane of the first two.
    fn at(degrees: f32) -> Embedding {
        let r = degrees.to_radians();
        let mut v = vec![0.0; 4];
        (v[0], v[1]) = (r.cos(), r.sin());
        Embedding(v)
    }

    fn person(name: &str, degrees: &[f32]) -> EnrolledPerson {
        EnrolledPerson::new(name, degrees.iter().map(|d| at(*d)).collect())
    }

    #[test]
    fn a_cluster_stands_closest_first_against_the_people_it_comes_near() {
        // Against crops at 0 deg: cos 10 deg = 0.98 passes, cos 72 deg = 0.31 is within
        // reach, cos 85 deg = 0.09 is not.
        let gallery = vec![person("near", &[72.0]), person("match", &[10.0]), person("far", &[85.0])];
        let crops = vec![at(0.0), at(0.0), at(0.0)];
        let found = standings(&crops, &gallery, &RULE);
        assert_eq!(found.iter().map(|s| s.person).collect::<Vec<_>>(), [1, 0]);
        assert!(found[0].passes() && !found[1].passes(), "{found:?}");
        assert_eq!((found[0].votes, found[0].crops, found[1].votes), (3, 3, 0));
        assert!((found[1].similarity - 72f32.to_radians().cos()).abs() < 1e-5);
    }

    #[test]
    fn a_close_second_person_is_suggested_but_takes_no_votes() {
        // 0 and 3 deg are both near: neither leads by the margin, so no crop votes.
        let gallery = vec![person("one", &[0.0]), person("two", &[3.0])];
        let found = standings(&[at(1.5), at(1.5)], &gallery, &RULE);
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|s| s.votes == 0 && !s.passes()), "{found:?}");
    }

    #[test]
    fn a_person_whose_rejected_example_covers_the_face_is_not_suggested() {
        let mut them = person("them", &[0.0]);
        let crops = vec![at(40.0), at(40.0), at(40.0)];
        assert_eq!(standings(&crops, std::slice::from_ref(&them), &RULE).len(), 1);
        them.rejected = vec![at(45.0)];
        assert!(standings(&crops, &[them], &RULE).is_empty());
    }

    #[test]
    fn near_duplicate_clusters_of_one_stranger_group_and_strangers_do_not() {
        let clusters = vec![
            vec![at(0.0), at(5.0), at(3.0)],
            vec![at(90.0), at(92.0)],
            vec![at(2.0), at(80.0), at(4.0)],
            vec![at(180.0)],
            vec![at(88.0), at(200.0), at(95.0)],
        ];
        assert_eq!(by_likeness(&clusters, &RULE), [vec![0, 2], vec![1, 4], vec![3]]);
    }
}
