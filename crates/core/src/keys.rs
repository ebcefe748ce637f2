//! Key-column analysis: which filters become API parameters.
//!
//! A filter of the form `col = 'x'`, `'x' = col`, `col IN ('x', 'y')` or an `OR`
//! of equalities on one column gives that column a finite set of values. The
//! scan hands those values to the table's fetch function (for example, as
//! `repositoryName` or `taskDefinition`), so it asks the API for exactly those
//! rows instead of listing everything.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::{Column, ScalarValue};
use datafusion::functions::string::expr_fn::starts_with;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, lit};

use crate::spec::TableSpec;

/// The values each key column is constrained to, as the query states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValues {
    // Shared: a fetch context (and its keys) is cloned per request, and a
    // join can hand a scan many thousands of keys.
    values: Arc<BTreeMap<String, Vec<String>>>,
    /// Combinations from a multi-column join, when the join gave them: the
    /// columns, then one row of values per combination. Each column's values
    /// above are these rows' values, so a fetch may ignore the combinations,
    /// at the cost of asking for pairs that do not exist.
    tuples: Option<Arc<KeyTuples>>,
}

/// Join key combinations: the columns, then one row of values per combination.
pub type KeyTuples = (Vec<String>, Vec<Vec<String>>);

/// Key combinations whose rows do not have one value per column (a plan
/// that did not come from skyglue's own join, e.g. sent to a worker).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key combination has {found} values for {expected} columns")]
pub struct KeyTuplesMismatch {
    /// How many columns the combinations name.
    pub expected: usize,
    /// How many values the first row that differs has.
    pub found: usize,
}

impl KeyValues {
    /// No constraints.
    pub fn new() -> Self {
        Self::default()
    }

    /// The values of `column`, if the query constrains it.
    pub fn get(&self, column: &str) -> Option<&[String]> {
        self.values.get(column).map(Vec::as_slice)
    }

    /// Whether the query constrains `column`.
    pub fn contains(&self, column: &str) -> bool {
        self.values.contains_key(column)
    }

    /// Constrains `column` to `values`; a second constraint keeps the intersection.
    pub fn insert(&mut self, column: &str, mut values: Vec<String>) {
        values.sort();
        values.dedup();
        match Arc::make_mut(&mut self.values).get_mut(column) {
            Some(existing) => existing.retain(|v| values.contains(v)),
            None => {
                Arc::make_mut(&mut self.values).insert(column.to_string(), values);
            }
        }
    }

    /// Keeps only the values of `column` that `keep` accepts (combinations too).
    pub fn retain(&mut self, column: &str, keep: impl Fn(&str) -> bool) {
        if let Some(values) = Arc::make_mut(&mut self.values).get_mut(column) {
            values.retain(|v| keep(v));
        }
        if let Some(tuples) = &mut self.tuples {
            let (cols, rows) = Arc::make_mut(tuples);
            if let Some(i) = cols.iter().position(|c| c == column) {
                rows.retain(|r| r.get(i).is_some_and(|v| keep(v)));
            }
        }
    }

    /// Sets the combinations a multi-column join produced; each row holds
    /// one value per column, else nothing is set and the error says so.
    pub fn set_tuples(
        &mut self,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    ) -> Result<(), KeyTuplesMismatch> {
        if let Some(row) = rows.iter().find(|r| r.len() != columns.len()) {
            return Err(KeyTuplesMismatch { expected: columns.len(), found: row.len() });
        }
        self.tuples = Some(Arc::new((columns, rows)));
        Ok(())
    }

    /// The combinations of `columns` (in that order) a join produced, if any.
    pub fn tuples(&self, columns: &[&str]) -> Option<Vec<Vec<String>>> {
        let (cols, rows) = self.tuples.as_deref()?;
        let idx: Vec<usize> =
            columns.iter().map(|c| cols.iter().position(|x| x == c)).collect::<Option<_>>()?;
        rows.iter().map(|r| idx.iter().map(|&i| r.get(i).cloned()).collect()).collect()
    }

    /// Whether a fetch with these keys returns every row a fetch with
    /// `narrower` would: the same key columns, each narrower's values among
    /// these. Keys that came with combinations match only themselves (their
    /// fetch may have asked for the combinations alone).
    pub fn covers(&self, narrower: &KeyValues) -> bool {
        if self.tuples.is_some() {
            return self == narrower;
        }
        self.values.len() == narrower.values.len()
            && self.values.iter().all(|(column, mine)| {
                narrower
                    .values
                    .get(column)
                    .is_some_and(|theirs| theirs.iter().all(|v| mine.binary_search(v).is_ok()))
            })
    }

    /// The combinations a join produced, if any, as they are kept.
    pub fn all_tuples(&self) -> Option<&KeyTuples> {
        self.tuples.as_deref()
    }

    /// Whether there are no constraints at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The constrained columns and their values.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.values.iter()
    }
}

impl std::fmt::Display for KeyValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(col, vals)| {
                if vals.len() <= 5 {
                    format!("{col} IN ({})", vals.join(", "))
                } else {
                    format!("{col} IN ({} values)", vals.len())
                }
            })
            .collect();
        write!(f, "{}", parts.join(" AND "))
    }
}

/// If `expr` constrains one column to a finite set of text values, returns both.
pub fn column_values(expr: &Expr) -> Option<(String, Vec<String>)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => {
            match (column_name(left), literal_text(right)) {
                (Some(col), Some(v)) => Some((col, vec![v])),
                _ => match (column_name(right), literal_text(left)) {
                    (Some(col), Some(v)) => Some((col, vec![v])),
                    _ => None,
                },
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let (lc, mut lv) = column_values(left)?;
            let (rc, rv) = column_values(right)?;
            (lc == rc).then(|| {
                lv.extend(rv);
                (lc, lv)
            })
        }
        Expr::InList(in_list) if !in_list.negated => {
            let col = column_name(&in_list.expr)?;
            let values = in_list.list.iter().map(literal_text).collect::<Option<Vec<_>>>()?;
            Some((col, values))
        }
        _ => None,
    }
}

/// `(column, prefix)` for `column LIKE 'prefix...'`: the literal text before
/// the pattern's first wildcard (case-sensitive, not negated, no escape). Every
/// match starts with it, so listing by it is a superset the re-check narrows.
pub fn like_prefix(expr: &Expr) -> Option<(String, String)> {
    let Expr::Like(like) = expr else { return None };
    if like.negated || like.case_insensitive || like.escape_char.is_some() {
        return None;
    }
    let column = column_name(&like.expr)?;
    let pattern = literal_text(&like.pattern)?;
    let literal = pattern.split(['%', '_', '\\']).next().unwrap_or_default();
    (!literal.is_empty() && literal.len() < pattern.len()).then(|| (column, literal.to_string()))
}

/// The filter the framework re-checks on each page for the pushed `filter`.
///
/// A key filter on a prefix-matched column (see
/// [`ColumnSpec::prefix_key`](crate::ColumnSpec::prefix_key)), such as
/// `sha IN ('abc1234', 'def5678')`, becomes
/// `starts_with(sha, 'abc1234') OR starts_with(sha, 'def5678')`: the fetch
/// resolved each prefix to a row holding the full value, which the filter as
/// written would drop. Every other filter is re-checked as written.
pub fn recheck_filter(filter: &Expr, spec: &TableSpec) -> Expr {
    let Some((column, values)) = column_values(filter) else { return filter.clone() };
    if !spec.column(&column).is_some_and(|c| c.prefix) {
        return filter.clone();
    }
    let column = Expr::Column(Column::from_name(column));
    any_of(values.into_iter().map(|v| starts_with(column.clone(), lit(v))).collect())
}

/// `a OR b OR ...` as a balanced tree, so a long list does not nest deeply.
fn any_of(mut exprs: Vec<Expr>) -> Expr {
    if exprs.len() > 1 {
        let right = exprs.split_off(exprs.len() / 2);
        return any_of(exprs).or(any_of(right));
    }
    exprs.pop().unwrap_or_else(|| lit(false))
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(c) => Some(c.name.clone()),
        Expr::Cast(c) => column_name(&c.expr),
        Expr::TryCast(c) => column_name(&c.expr),
        _ => None,
    }
}

fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        Expr::Cast(c) => literal_text(&c.expr),
        Expr::TryCast(c) => literal_text(&c.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_the_same_columns_with_fewer_values() {
        let mut wide = KeyValues::new();
        wide.insert("repository_name", vec!["a".into(), "b".into(), "c".into()]);
        let mut narrow = KeyValues::new();
        narrow.insert("repository_name", vec!["c".into(), "a".into()]);
        assert!(wide.covers(&narrow));
        assert!(!narrow.covers(&wide));
        assert!(!KeyValues::new().covers(&narrow), "an unkeyed listing may mean another default");
        narrow.insert("image_digest", vec!["sha256:1".into()]);
        assert!(!wide.covers(&narrow), "another key column is another question");
        let mut paired = wide.clone();
        paired.set_tuples(vec!["repository_name".into()], vec![vec!["a".into()]]).expect("one value a row");
        assert!(!paired.covers(&wide) && paired.covers(&paired.clone()));
    }

    #[test]
    fn combinations_without_one_value_per_column_are_refused() {
        let mut keys = KeyValues::new();
        let columns = vec!["repository_name".to_string(), "image_digest".to_string()];
        let err = keys.set_tuples(columns, vec![vec!["web".into()]]).expect_err("a short row");
        assert_eq!(err, KeyTuplesMismatch { expected: 2, found: 1 });
        assert_eq!(keys.tuples(&["repository_name", "image_digest"]), None, "nothing was set");
    }

    #[test]
    fn like_pushes_the_literal_text_before_the_first_wildcard() {
        use datafusion::prelude::{col, lit};
        let prefix = |pattern: &str| like_prefix(&col("key").like(lit(pattern)));
        assert_eq!(prefix("builds/%"), Some(("key".into(), "builds/".into())));
        assert_eq!(prefix("builds/feature_x/%"), Some(("key".into(), "builds/feature".into())));
        assert_eq!(prefix("%.tar.gz"), None);
        assert_eq!(prefix("exact"), None, "no wildcard: an equality, not a prefix");
        assert_eq!(like_prefix(&col("key").not_like(lit("builds/%"))), None);
        assert_eq!(like_prefix(&col("key").ilike(lit("builds/%"))), None);
    }
    use datafusion::prelude::{col, lit};

    #[test]
    fn equality_either_side() {
        assert_eq!(
            column_values(&col("repository_name").eq(lit("web"))),
            Some(("repository_name".into(), vec!["web".into()]))
        );
        assert_eq!(
            column_values(&lit("web").eq(col("repository_name"))),
            Some(("repository_name".into(), vec!["web".into()]))
        );
    }

    #[test]
    fn in_list_and_or_chain() {
        let e = col("family").in_list(vec![lit("a"), lit("b")], false);
        assert_eq!(column_values(&e), Some(("family".into(), vec!["a".into(), "b".into()])));
        let e = col("family").eq(lit("a")).or(col("family").eq(lit("b")));
        assert_eq!(column_values(&e), Some(("family".into(), vec!["a".into(), "b".into()])));
    }

    #[test]
    fn rejects_what_is_not_a_finite_set() {
        assert_eq!(column_values(&col("family").in_list(vec![lit("a")], true)), None);
        assert_eq!(column_values(&col("family").gt(lit("a"))), None);
        assert_eq!(column_values(&col("a").eq(lit("x")).or(col("b").eq(lit("y")))), None);
        assert_eq!(column_values(&col("revision").eq(lit(3))), None);
    }

    #[test]
    fn prefix_keys_are_rechecked_as_prefixes() {
        use crate::spec::{ColumnSpec, Scope, text};
        let spec = TableSpec {
            name: "t",
            description: "",
            scope: Scope::Global,
            columns: vec![
                ColumnSpec::new("sha", text(), "").prefix_key(),
                ColumnSpec::new("repo", text(), ""),
            ],
            not_found_codes: &[],
            rate_limits: vec![],
            operations: &[],
        };
        let short = col("sha").in_list(vec![lit("abc1234"), lit("def5678")], false);
        assert_eq!(
            recheck_filter(&short, &spec).to_string(),
            "starts_with(sha, Utf8(\"abc1234\")) OR starts_with(sha, Utf8(\"def5678\"))"
        );
        let other = col("repo").eq(lit("web"));
        assert_eq!(recheck_filter(&other, &spec), other);
        let range = col("sha").gt(lit("a"));
        assert_eq!(recheck_filter(&range, &spec), range);
    }

    #[test]
    fn second_constraint_intersects() {
        let mut k = KeyValues::new();
        k.insert("family", vec!["a".into(), "b".into()]);
        k.insert("family", vec!["b".into(), "c".into()]);
        assert_eq!(k.get("family"), Some(&["b".to_string()][..]));
    }
}
