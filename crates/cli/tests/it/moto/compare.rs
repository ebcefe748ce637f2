//! Comparing what skyglue returned with what the seeding created, with a
//! failure message that lists only the differences.

use std::collections::BTreeSet;
use std::fmt::Debug;

/// Asserts `actual == expected`, naming the missing and the unexpected items.
#[track_caller]
pub fn assert_same<T: Ord + Debug>(actual: &BTreeSet<T>, expected: &BTreeSet<T>) {
    let missing: Vec<&T> = expected.difference(actual).collect();
    let unexpected: Vec<&T> = actual.difference(expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing ({}): {missing:#?}\nunexpected ({}): {unexpected:#?}",
        missing.len(),
        unexpected.len()
    );
}
