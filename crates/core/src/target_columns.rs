//! A target's columns, compact: a run over 100,000 images holds one
//! [`crate::sink::Target`] per image through its check, report and journal.
//!
//! [`Columns`] is a map from column name to value with `BTreeMap`'s order,
//! equality and serde form, kept as the sorted names and values in one string
//! and where each ends: two allocations a target instead of a tree node (half
//! a kilobyte whatever it holds) and a string per name and per value.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Column name to value, sorted by name (see the module doc).
#[derive(Clone, Default)]
pub struct Columns {
    /// Name, value, name, value... one after another.
    text: Box<str>,
    /// Where each name and each value in `text` ends.
    ends: Box<[u32]>,
}

impl Columns {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The (name, value) pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0;
        self.ends.chunks_exact(2).map(move |pair| {
            let (name_end, value_end) = (pair[0] as usize, pair[1] as usize);
            let name = &self.text[start..name_end];
            let value = &self.text[name_end..value_end];
            start = value_end;
            (name, value)
        })
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(name, _)| name)
    }

    /// How many columns.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Sets `name` to `value`, replacing its old value. Setting the value a
    /// column already has changes nothing (and costs no copy: a check that
    /// fills in the columns that locate a target usually finds them there).
    pub fn insert(&mut self, name: &str, value: &str) {
        if self.get(name) == Some(value) {
            return;
        }
        let mut pairs: Vec<(&str, &str)> = self.iter().filter(|(n, _)| *n != name).collect();
        let at = pairs.partition_point(|(n, _)| *n < name);
        pairs.insert(at, (name, value));
        *self = Self::from_sorted(&pairs);
    }

    /// From pairs sorted by name, each name once.
    fn from_sorted(pairs: &[(&str, &str)]) -> Self {
        let mut text = String::with_capacity(pairs.iter().map(|(n, v)| n.len() + v.len()).sum());
        let mut ends = Vec::with_capacity(pairs.len() * 2);
        for (name, value) in pairs {
            text.push_str(name);
            ends.push(offset(text.len()));
            text.push_str(value);
            ends.push(offset(text.len()));
        }
        Columns { text: text.into_boxed_str(), ends: ends.into_boxed_slice() }
    }
}

/// A position in a target's text: a few hundred bytes, far below `u32::MAX`.
fn offset(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Columns {
    /// The last value of a repeated name wins, as in a map.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let pairs: Vec<(K, V)> = pairs.into_iter().collect();
        let mut sorted: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
        // Stable: of the pairs with one name, the last given sorts last.
        sorted.sort_by_key(|(name, _)| *name);
        let mut unique: Vec<(&str, &str)> = Vec::with_capacity(sorted.len());
        for pair in sorted {
            match unique.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => unique.push(pair),
            }
        }
        Self::from_sorted(&unique)
    }
}

// Equal maps have equal text and ends (sorted, each name once), so equality
// and hashing look at those; the order is a map's: pair by pair.
impl PartialEq for Columns {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.ends == other.ends
    }
}

impl Eq for Columns {}

impl Hash for Columns {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
        self.ends.hash(state);
    }
}

impl PartialOrd for Columns {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Columns {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl fmt::Debug for Columns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Columns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(|map| map.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_sets_and_orders_as_a_map() {
        let mut c: Columns =
            [("region", "eu-west-1"), ("account_id", "1"), ("region", "us-east-1")].into_iter().collect();
        assert_eq!(c.get("region"), Some("us-east-1"), "the last value of a name wins");
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("regio"), None);
        c.insert("image_digest", "sha256:a");
        c.insert("region", "eu-west-1");
        c.insert("", "");
        let pairs: Vec<(&str, &str)> = c.iter().collect();
        assert_eq!(
            pairs,
            [("", ""), ("account_id", "1"), ("image_digest", "sha256:a"), ("region", "eu-west-1")]
        );
        assert_eq!(c.len(), 4);
        assert_eq!(serde_json::to_string(&c).ok(), serde_json::to_string(&map(&pairs)).ok());
    }

    #[test]
    fn equality_and_order_are_the_maps_not_the_texts() {
        // Same text ("ab" + "c"), other boundaries: other maps.
        let a: Columns = [("ab", "c")].into_iter().collect();
        let b: Columns = [("a", "bc")].into_iter().collect();
        assert_ne!(a, b);
        let samples = [
            vec![("a", "bc")],
            vec![("ab", "c")],
            vec![("a", "b"), ("c", "d")],
            vec![("a", "b")],
            vec![],
            vec![("account_id", "2"), ("region", "a")],
            vec![("account_id", "10"), ("region", "b")],
        ];
        for x in &samples {
            for y in &samples {
                let (cx, cy): (Columns, Columns) = (x.iter().copied().collect(), y.iter().copied().collect());
                assert_eq!(cx.cmp(&cy), map(x).cmp(&map(y)), "{x:?} against {y:?}");
                assert_eq!(cx == cy, map(x) == map(y));
            }
        }
    }

    #[test]
    fn deserializes_what_it_serializes() {
        let c: Columns = [("repository_name", "web"), ("image_digest", "sha256:a")].into_iter().collect();
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(json, r#"{"image_digest":"sha256:a","repository_name":"web"}"#);
        let back: Columns = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, c);
    }
}
