//! What the ECR check keeps of a fresh listing ([`Listed`]): the copies its
//! targets name ([`Place`], [`Copy`]), the image indexes, the referrers and
//! which images exist. Shared by the check (`image_check.rs`, which reads the
//! listing) and the image graph (`image_graph.rs`, which decides what goes).

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One copy of an image: a digest in one repository of one registry and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Place {
    pub(super) account: Arc<str>,
    pub(super) region: Arc<str>,
    pub(super) registry: Arc<str>,
    pub(super) repository: Arc<str>,
    pub(super) digest: String,
}

/// What the fresh listing says about one copy a target may name. Its tags
/// are looked at while its row is read (for uses by tag) and not kept.
#[derive(Debug, Clone)]
pub(super) struct Copy {
    pub(super) place: Place,
    pub(super) index: bool,
    pub(super) size: i64,
    /// `image_status`: ACTIVE, ARCHIVED or ACTIVATING.
    pub(super) status: Arc<str>,
    /// Who uses this copy: the first use in the check's order that names it.
    pub(super) used_by: Option<String>,
}

/// What the check keeps from the fresh listing: the copies some target's
/// (repository, digest) names, every image index (an index that stays
/// protects its children), every referrer, and which images exist.
#[derive(Debug, Default)]
pub(super) struct Listed {
    pub(super) copies: Copies,
    pub(super) indexes: Vec<Place>,
    pub(super) referrers: Vec<Referrer>,
    pub(super) present: Present,
}

/// The listed copies the targets name, in one vector sorted by (repository,
/// digest) once the listing is read: one copy per target is the common case,
/// and a map of vectors cost five times the copies themselves at 100,000
/// targets (BENCHMARKS.md).
#[derive(Debug, Default)]
pub(super) struct Copies(pub(super) Vec<Copy>);

impl Copies {
    pub(super) fn push(&mut self, copy: Copy) {
        self.0.push(copy);
    }

    pub(super) fn sort(&mut self) {
        self.0.sort_by(|a, b| Self::key(a).cmp(&Self::key(b)));
        self.0.shrink_to_fit();
    }

    fn key(copy: &Copy) -> (&str, &str) {
        (&copy.place.repository, &copy.place.digest)
    }

    /// Every copy of `digest` in repositories named `repository` (after [`Copies::sort`]).
    pub(super) fn of(&self, repository: &str, digest: &str) -> &[Copy] {
        let start = self.0.partition_point(|c| Self::key(c) < (repository, digest));
        let len = self.0[start..].partition_point(|c| Self::key(c) == (repository, digest));
        &self.0[start..start + len]
    }
}

/// A listed image that names other images of its repository (OCI subject or cosign tag).
#[derive(Debug, Clone)]
pub(super) struct Referrer {
    pub(super) copy: Copy,
    /// The digests it names, sorted, each once.
    pub(super) subjects: Vec<String>,
}

/// Every image the listing saw, by a hash of its place: enough to tell that
/// an image does not exist (a collision only ever keeps more).
#[derive(Debug, Default)]
pub(super) struct Present(HashSet<u64>);

impl Present {
    pub(super) fn insert(&mut self, place: &Place) {
        self.0.insert(hash(place));
    }

    pub(super) fn contains(&self, place: &Place) -> bool {
        self.0.contains(&hash(place))
    }
}

fn hash(place: &Place) -> u64 {
    let mut h = DefaultHasher::new();
    place.hash(&mut h);
    h.finish()
}
