//! The image graph in `image_check`: which of the targets still in the run
//! go, once index children and referrers are accounted for.
//!
//! - **A kept index keeps its children.** A manifest that an image index
//!   outside the run lists is kept ("referenced by image index ...").
//! - **A kept image keeps its referrers.** A referrer (OCI 1.1 `subject`, or
//!   a cosign tag `sha256-<hex>.sig|.att|.sbom` naming the digest in the same
//!   repository) goes only when every image it names that still exists goes
//!   too; a target that names a kept image is skipped ("referrer of kept
//!   image ...").
//! - **A deleted image takes its referrers** (`delete_ecr_images` only):
//!   each referrer of a going image, and theirs in turn, is added to the run
//!   unless something keeps it (in use, a kept index, another kept subject),
//!   with a note "referrer of sha256:..." that the report shows beside it.
//!   The runner counts them against `max_deletes`.
//!
//! These rules feed each other (a referrer kept by its index keeps its own
//! referrers), so they are applied until nothing changes. Index children are
//! read once per index (BatchGetImage), however many rounds it takes.
//!
//! **Order.** Referrers go before what they refer to (deepest first), then
//! indexes before their children (ECR refuses a child an index still lists).
//! If the run stops midway with referrers first, what is left is an image
//! that lost some signatures or SBOMs, but is still selected by the policy
//! that chose it, so the next run deletes it and nothing is orphaned. With
//! subjects first, the run could leave referrers whose image is gone, which
//! carry no commit tag, so no policy would ever select them again.

use std::collections::{HashMap, HashSet};

use skyglue_core::sink::{Outcome, Target};
use skyglue_core::{Engine, Result};

use super::listed::{Copy, Listed, Place, Present, Referrer};
use crate::manifests;

/// What the graph decided.
#[derive(Debug, Default)]
pub(super) struct Plan<'a> {
    /// The targets that go, in the order to act on them, with their copies.
    pub(super) going: Vec<(Target, &'a Copy)>,
    /// Targets (and referrers that would have followed) that stay, and why.
    pub(super) skipped: Vec<Outcome>,
    /// Why each target the check added is in the run.
    pub(super) notes: HashMap<Target, String>,
}

/// Applies the rules of the module doc to `targets` (each resolved to its
/// copy, not in use, not left by the action); `follow` adds the referrers
/// of what goes.
pub(super) async fn plan<'a>(
    engine: &Engine,
    targets: Vec<(Target, &'a Copy)>,
    listed: &'a Listed,
    follow: bool,
    leave: fn(&str) -> Option<String>,
) -> Result<Plan<'a>> {
    let graph = Graph::new(&listed.referrers, &listed.present);
    let mut blocked: HashMap<&'a Place, String> = HashMap::new();
    let mut children: HashMap<Place, Vec<String>> = HashMap::new();
    loop {
        let going = graph.settle(&targets, &blocked, follow, leave);
        let kept: Vec<&Place> = listed.indexes.iter().filter(|p| !going.contains(p)).collect();
        read_children(engine, &kept, &mut children).await?;
        let mut newly = false;
        for index in kept {
            for child in children.get(index).into_iter().flatten() {
                let place = Place { digest: child.clone(), ..index.clone() };
                if let Some(p) = going.get(&place).copied()
                    && !blocked.contains_key(p)
                {
                    blocked.insert(p, index.digest.clone());
                    newly = true;
                }
            }
        }
        if !newly {
            return Ok(graph.finish(targets, going, &blocked, follow, leave));
        }
    }
}

/// Where a going copy is acted on: its repository's rank, then deepest
/// referrers first, then indexes first.
type Order = (usize, std::cmp::Reverse<usize>, bool);

/// The referrers by their own place.
struct Graph<'a> {
    of: HashMap<&'a Place, &'a Referrer>,
    present: &'a Present,
}

/// Rounds of adding referrers before the graph stops adding (only a loop of
/// cosign tags naming each other could need more); then it only removes.
const ROUNDS: usize = 64;

impl<'a> Graph<'a> {
    fn new(referrers: &'a [Referrer], present: &'a Present) -> Self {
        let of = referrers.iter().map(|r| (&r.copy.place, r)).collect();
        Graph { of, present }
    }

    /// A subject of the copy at `place` that exists and is not `going`.
    fn kept_subject(&self, place: &Place, going: &HashSet<&Place>) -> Option<&'a str> {
        let r = self.of.get(place)?;
        r.subjects
            .iter()
            .find(|s| {
                let s = subject(place, s);
                !going.contains(&s) && self.present.contains(&s)
            })
            .map(String::as_str)
    }

    /// The first subject of `r` that is going, when every one that exists is.
    fn follows(&self, r: &'a Referrer, going: &HashSet<&Place>) -> Option<&'a str> {
        if self.kept_subject(&r.copy.place, going).is_some() {
            return None;
        }
        r.subjects.iter().find(|s| going.contains(&subject(&r.copy.place, s))).map(String::as_str)
    }

    /// The places that go: the targets not blocked, less the referrers of
    /// kept images, plus (`follow`) the referrers of what goes that nothing keeps.
    fn settle(
        &self,
        targets: &[(Target, &'a Copy)],
        blocked: &HashMap<&'a Place, String>,
        follow: bool,
        leave: fn(&str) -> Option<String>,
    ) -> HashSet<&'a Place> {
        let mut going: HashSet<&'a Place> =
            targets.iter().map(|(_, c)| &c.place).filter(|p| !blocked.contains_key(p)).collect();
        for round in 0.. {
            let removed: Vec<&'a Place> = self
                .of
                .keys()
                .copied()
                .filter(|p| going.contains(p) && self.kept_subject(p, &going).is_some())
                .collect();
            for p in &removed {
                going.remove(p);
            }
            let mut added = Vec::new();
            if follow && round < ROUNDS {
                added = self
                    .of
                    .values()
                    .filter(|r| !going.contains(&r.copy.place) && !blocked.contains_key(&r.copy.place))
                    .filter(|r| r.copy.used_by.is_none() && leave(&r.copy.status).is_none())
                    .filter(|r| self.follows(r, &going).is_some())
                    .map(|r| &r.copy.place)
                    .collect();
                going.extend(added.iter().copied());
            }
            if removed.is_empty() && added.is_empty() {
                break;
            }
        }
        going
    }

    /// The plan for the places that go: the targets in their order, the
    /// referrers added, and why the rest stay.
    fn finish(
        &self,
        targets: Vec<(Target, &'a Copy)>,
        going: HashSet<&'a Place>,
        blocked: &HashMap<&'a Place, String>,
        follow: bool,
        leave: fn(&str) -> Option<String>,
    ) -> Plan<'a> {
        let mut plan = Plan::default();
        let mut targeted: HashSet<&Place> = HashSet::new();
        for (target, copy) in targets {
            targeted.insert(&copy.place);
            if going.contains(&copy.place) {
                plan.going.push((target, copy));
            } else if let Some(index) = blocked.get(&copy.place) {
                plan.skipped.push(Outcome::skipped(target, format!("referenced by image index {index}")));
            } else {
                let kept = self.kept_subject(&copy.place, &going).unwrap_or("(unknown)");
                plan.skipped.push(Outcome::skipped(target, format!("referrer of kept image {kept}")));
            }
        }
        if follow {
            let mut referrers: Vec<&Referrer> =
                self.of.values().copied().filter(|r| !targeted.contains(&r.copy.place)).collect();
            referrers.sort_by(|a, b| a.copy.place.cmp(&b.copy.place));
            for r in referrers {
                let Some(of) = self.follows(r, &going) else { continue };
                let target = target_of(&r.copy.place);
                let note = format!("referrer of {of}");
                if going.contains(&r.copy.place) {
                    plan.going.push((target.clone(), &r.copy));
                    plan.notes.insert(target, note);
                    continue;
                }
                let why = match (&r.copy.used_by, leave(&r.copy.status), blocked.get(&r.copy.place)) {
                    (Some(user), _, _) => format!("in use by {user}"),
                    (None, Some(reason), _) => reason,
                    (None, None, Some(index)) => format!("referenced by image index {index}"),
                    (None, None, None) => continue,
                };
                plan.skipped.push(Outcome::skipped(target.clone(), format!("{note}; {why}")));
                plan.notes.insert(target, note);
            }
        }
        // Within each repository (in the order they first appear): referrers
        // first (deepest first), then indexes, each in the check's order.
        let mut depth = HashMap::new();
        let mut repositories: HashMap<(&str, &str, &str, &str), usize> = HashMap::new();
        let mut keyed: Vec<(Order, (Target, &'a Copy))> = Vec::new();
        for (t, c) in plan.going.drain(..) {
            let p = &c.place;
            let next = repositories.len();
            let repository =
                *repositories.entry((&p.account, &p.region, &p.registry, &p.repository)).or_insert(next);
            let d = self.depth(p, &going, &mut depth, 0);
            keyed.push(((repository, std::cmp::Reverse(d), !c.index), (t, c)));
        }
        keyed.sort_by_key(|(order, _)| *order);
        plan.going = keyed.into_iter().map(|(_, tc)| tc).collect();
        plan
    }

    /// How many referrer hops `place` is above an image that refers to
    /// nothing going (0 for such an image).
    fn depth(
        &self,
        place: &Place,
        going: &HashSet<&Place>,
        memo: &mut HashMap<Place, usize>,
        hops: usize,
    ) -> usize {
        let Some(r) = self.of.get(place) else { return 0 };
        if let Some(d) = memo.get(place) {
            return *d;
        }
        if hops > ROUNDS {
            return 0;
        }
        let d = r
            .subjects
            .iter()
            .map(|s| subject(place, s))
            .filter(|s| going.contains(s))
            .map(|s| 1 + self.depth(&s, going, memo, hops + 1))
            .max()
            .unwrap_or(0);
        memo.insert(place.clone(), d);
        d
    }
}

/// The place of `digest` in the repository of `place`.
fn subject(place: &Place, digest: &str) -> Place {
    Place { digest: digest.to_string(), ..place.clone() }
}

/// The target for a copy the check adds, with every column that locates it.
fn target_of(place: &Place) -> Target {
    Target::from_pairs([
        ("account_id", &*place.account),
        ("region", &*place.region),
        ("registry_id", &*place.registry),
        ("repository_name", &*place.repository),
        ("image_digest", place.digest.as_str()),
    ])
}

/// Reads the children of each index in `indexes` not read yet (BatchGetImage,
/// per repository, 100 per call).
async fn read_children(
    engine: &Engine,
    indexes: &[&Place],
    children: &mut HashMap<Place, Vec<String>>,
) -> Result<()> {
    let mut by_repository: HashMap<(&str, &str, &str, &str), Vec<&Place>> = HashMap::new();
    for p in indexes.iter().filter(|p| !children.contains_key(**p)) {
        by_repository.entry((&p.account, &p.region, &p.registry, &p.repository)).or_default().push(p);
    }
    let mut repositories: Vec<_> = by_repository.into_iter().collect();
    repositories.sort();
    for ((account, region, registry, repository), places) in repositories {
        let conn = engine.connections().find_aws(Some(account), Some(region)).await?;
        let digests: Vec<String> = places.iter().map(|p| p.digest.clone()).collect();
        let read =
            manifests::index_children(engine.connections(), &conn, Some(registry), repository, &digests)
                .await?;
        for p in places {
            children.insert((*p).clone(), read.get(&p.digest).cloned().unwrap_or_default());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn copy(digest: &str, used: bool) -> Copy {
        Copy {
            place: Place {
                account: Arc::from("1"),
                region: Arc::from("us-east-1"),
                registry: Arc::from("1"),
                repository: Arc::from("web"),
                digest: digest.into(),
            },
            index: false,
            size: 1,
            status: Arc::from("ACTIVE"),
            used_by: used.then(|| "svc (ecs_service)".to_string()),
        }
    }

    fn referrer(digest: &str, of: &str, used: bool) -> Referrer {
        Referrer { copy: copy(digest, used), subjects: vec![of.into()] }
    }

    fn world(digests: &[&str], referrers: Vec<Referrer>) -> (Vec<Copy>, Vec<Referrer>, Present) {
        let copies: Vec<Copy> = digests.iter().map(|d| copy(d, false)).collect();
        let mut present = Present::default();
        for c in copies.iter().chain(referrers.iter().map(|r| &r.copy)) {
            present.insert(&c.place);
        }
        (copies, referrers, present)
    }

    fn names(going: &HashSet<&Place>) -> Vec<String> {
        let mut v: Vec<String> = going.iter().map(|p| p.digest.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn referrers_follow_their_image_unless_something_keeps_them() {
        let (copies, referrers, present) = world(
            &["img"],
            vec![
                referrer("sig", "img", false),
                referrer("sbom", "img", true),
                referrer("sig-of-sig", "sig", false),
            ],
        );
        let graph = Graph::new(&referrers, &present);
        let targets = vec![(Target::default(), &copies[0])];
        let going = graph.settle(&targets, &HashMap::new(), true, |_| None);
        assert_eq!(names(&going), ["img", "sig", "sig-of-sig"], "the used SBOM stays");
        let alone = graph.settle(&targets, &HashMap::new(), false, |_| None);
        assert_eq!(names(&alone), ["img"], "archiving does not follow");
        assert_eq!(graph.depth(&referrers[2].copy.place, &going, &mut HashMap::new(), 0), 2);
    }

    #[test]
    fn a_referrer_of_a_kept_image_stays_and_an_orphan_may_go() {
        let (copies, referrers, present) =
            world(&["img"], vec![referrer("sig", "img", false), referrer("orphan", "gone", false)]);
        let graph = Graph::new(&referrers, &present);
        let targets = vec![(Target::default(), &referrers[0].copy), (Target::default(), &referrers[1].copy)];
        let going = graph.settle(&targets, &HashMap::new(), true, |_| None);
        assert_eq!(names(&going), ["orphan"]);
        assert_eq!(graph.kept_subject(&referrers[0].copy.place, &going), Some("img"));
        drop(copies);
    }
}
