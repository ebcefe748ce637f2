//! Join-key pushdown: the keys a join's build side produced, read from
//! DataFusion's dynamic join filter, become API parameters of the probe scan.
//!
//! # Why dynamic filters, and not an optimizer rule with a lookup join
//!
//! DataFusion 55's hash join builds its build side first and then publishes a
//! `DynamicFilterPhysicalExpr` to the probe side: `key IN (SET)` of the build
//! keys (a struct of keys for multi-column joins, a `CASE` over hash partitions
//! in partitioned mode). It does so for exactly the join types where dropping
//! probe rows that match no build key cannot change the result: inner joins,
//! the non-preserved side of outer joins (the right of a `LEFT JOIN`), and semi
//! joins (`IN (SELECT ...)`, `EXISTS`). So correctness in every join shape is
//! decided by DataFusion's own rule rather than one we would have to re-derive
//! for each shape, CTEs and subqueries are already planned into joins by the
//! time the filter exists, and the join itself still checks every row: the
//! filter only narrows what we fetch, it never decides what matches.
//!
//! A lookup-join rule would also have to re-implement outer-join null
//! semantics and would block DataFusion's join reordering; this route keeps both.
//!
//! The session raises `hash_join_inlist_pushdown_max_distinct_values` (see
//! [`crate::session_config`]) so the filter carries the exact key set rather
//! than only min/max bounds. When a filter carries no usable key set (bounds
//! only, an opaque hash lookup, or nothing yet) the scan falls back to listing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, CastExpr, Column, DynamicFilterPhysicalExpr, InListExpr, Literal, TryCastExpr,
};
use datafusion::physical_plan::PhysicalExpr;

/// What a filter says about the rows that can pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// No row passes (an empty build side).
    Nothing,
    /// Rows pass only if each named column holds one of its values; columns
    /// not named are unconstrained.
    Keys(BTreeMap<String, BTreeSet<String>>),
}

impl Constraint {
    fn any() -> Self {
        Constraint::Keys(BTreeMap::new())
    }

    /// Both must hold: the tighter of each column.
    fn and(self, other: Constraint) -> Constraint {
        match (self, other) {
            (Constraint::Nothing, _) | (_, Constraint::Nothing) => Constraint::Nothing,
            (Constraint::Keys(mut a), Constraint::Keys(b)) => {
                for (col, values) in b {
                    match a.get_mut(&col) {
                        Some(existing) => existing.retain(|v| values.contains(v)),
                        None => {
                            a.insert(col, values);
                        }
                    }
                }
                Constraint::Keys(a)
            }
        }
    }

    /// Either may hold: a column stays constrained only if both constrain it.
    fn or(self, other: Constraint) -> Constraint {
        match (self, other) {
            (Constraint::Nothing, x) | (x, Constraint::Nothing) => x,
            (Constraint::Keys(a), Constraint::Keys(mut b)) => Constraint::Keys(
                a.into_iter()
                    .filter_map(|(col, mut values)| {
                        let other = b.remove(&col)?;
                        values.extend(other);
                        Some((col, values))
                    })
                    .collect(),
            ),
        }
    }
}

/// The constraint `filter` puts on the text columns of `schema`.
pub fn constraint(filter: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Constraint {
    let expr = filter.as_ref();
    if let Some(dynamic) = expr.downcast_ref::<DynamicFilterPhysicalExpr>() {
        return match dynamic.current() {
            Ok(current) => constraint(&current, schema),
            Err(_) => Constraint::any(),
        };
    }
    if let Some(lit) = expr.downcast_ref::<Literal>() {
        return match lit.value() {
            ScalarValue::Boolean(Some(false)) | ScalarValue::Boolean(None) => Constraint::Nothing,
            _ => Constraint::any(),
        };
    }
    if let Some(bin) = expr.downcast_ref::<BinaryExpr>() {
        return match bin.op() {
            Operator::And => constraint(bin.left(), schema).and(constraint(bin.right(), schema)),
            Operator::Or => constraint(bin.left(), schema).or(constraint(bin.right(), schema)),
            _ => Constraint::any(),
        };
    }
    if let Some(case) = expr.downcast_ref::<CaseExpr>() {
        let mut branches = case.when_then_expr().iter().map(|(_, then)| constraint(then, schema));
        let first = branches.next().unwrap_or(Constraint::Nothing);
        let all = branches.fold(first, Constraint::or);
        return match case.else_expr() {
            Some(e) => all.or(constraint(e, schema)),
            None => all,
        };
    }
    if let Some(in_list) = expr.downcast_ref::<InListExpr>() {
        if in_list.negated() {
            return Constraint::any();
        }
        return in_list_keys(in_list, schema);
    }
    Constraint::any()
}

fn in_list_keys(in_list: &InListExpr, schema: &Schema) -> Constraint {
    let values: Vec<&ScalarValue> =
        in_list.list().iter().filter_map(|e| e.downcast_ref::<Literal>().map(Literal::value)).collect();
    if values.len() != in_list.list().len() {
        return Constraint::any();
    }
    if values.is_empty() {
        return Constraint::Nothing;
    }
    let target = in_list.expr().as_ref();
    if let Some(name) = column_name(target, schema) {
        let set = values.iter().filter_map(|v| text(v)).collect();
        return Constraint::Keys(BTreeMap::from([(name, set)]));
    }
    if let Some(func) = target.downcast_ref::<ScalarFunctionExpr>()
        && func.name() == "struct"
    {
        let mut keys = BTreeMap::new();
        for (i, arg) in func.args().iter().enumerate() {
            let Some(name) = column_name(arg.as_ref(), schema) else { continue };
            let set: BTreeSet<String> = values.iter().filter_map(|v| struct_field_text(v, i)).collect();
            keys.insert(name, set);
        }
        return Constraint::Keys(keys);
    }
    Constraint::any()
}

fn column_name(expr: &dyn PhysicalExpr, schema: &Schema) -> Option<String> {
    if let Some(col) = expr.downcast_ref::<Column>() {
        return schema.fields().get(col.index()).map(|f| f.name().clone());
    }
    if let Some(cast) = expr.downcast_ref::<CastExpr>() {
        return column_name(cast.expr().as_ref(), schema);
    }
    if let Some(cast) = expr.downcast_ref::<TryCastExpr>() {
        return column_name(cast.expr().as_ref(), schema);
    }
    None
}

fn text(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            Some(s.clone())
        }
        _ => None,
    }
}

fn struct_field_text(v: &ScalarValue, i: usize) -> Option<String> {
    let ScalarValue::Struct(array) = v else { return None };
    let column = array.columns().get(i)?;
    if column.is_null(0) {
        return None;
    }
    text(&ScalarValue::try_from_array(column.as_ref(), 0).ok()?)
}

/// The combinations of a multi-column join's keys, when `filter` carries
/// them (a struct `IN` list over columns of `schema`): the columns, then the
/// rows of values.
pub fn key_tuples(
    filter: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let expr = filter.as_ref();
    if let Some(dynamic) = expr.downcast_ref::<DynamicFilterPhysicalExpr>() {
        return key_tuples(&dynamic.current().ok()?, schema);
    }
    if let Some(bin) = expr.downcast_ref::<BinaryExpr>() {
        if *bin.op() == Operator::And {
            return key_tuples(bin.left(), schema).or_else(|| key_tuples(bin.right(), schema));
        }
        return None;
    }
    let in_list = expr.downcast_ref::<InListExpr>()?;
    if in_list.negated() {
        return None;
    }
    let func = in_list.expr().downcast_ref::<ScalarFunctionExpr>()?;
    if func.name() != "struct" {
        return None;
    }
    let columns: Vec<String> =
        func.args().iter().map(|a| column_name(a.as_ref(), schema)).collect::<Option<_>>()?;
    if in_list.list().iter().any(|e| e.downcast_ref::<Literal>().is_none()) {
        return None;
    }
    // A combination with a NULL matches nothing in an equi-join: skip it.
    // DataFusion lists one value per build-side row, so a combination comes
    // once per row that has it (the benchmark's GitHub join: about 90,000
    // image tags naming 5,000 commits): keep each once.
    let rows: BTreeSet<Vec<String>> = in_list
        .list()
        .iter()
        .filter_map(|e| {
            let v = e.downcast_ref::<Literal>()?.value();
            (0..columns.len()).map(|i| struct_field_text(v, i)).collect::<Option<Vec<_>>>()
        })
        .collect();
    Some((columns, rows.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::physical_expr::expressions::{col, lit};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("sha", DataType::Utf8View, true),
            Field::new("repo", DataType::Utf8View, true),
        ])
    }

    fn keys(c: Constraint) -> BTreeMap<String, BTreeSet<String>> {
        match c {
            Constraint::Keys(k) => k,
            Constraint::Nothing => panic!("expected keys"),
        }
    }

    #[test]
    fn in_list_under_and_with_bounds() {
        let s = schema();
        let sha = col("sha", &s).expect("col");
        let list =
            vec![lit(ScalarValue::Utf8View(Some("a".into()))), lit(ScalarValue::Utf8View(Some("b".into())))];
        let in_list: Arc<dyn PhysicalExpr> =
            Arc::new(InListExpr::try_new(sha.clone(), list, false, &s).expect("in list"));
        let bound: Arc<dyn PhysicalExpr> =
            Arc::new(BinaryExpr::new(sha, Operator::GtEq, lit(ScalarValue::Utf8View(Some("a".into())))));
        let both: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(bound, Operator::And, in_list));
        let k = keys(constraint(&both, &s));
        assert_eq!(k["sha"], BTreeSet::from(["a".to_string(), "b".to_string()]));
        assert!(!k.contains_key("repo"));
    }

    #[test]
    fn or_keeps_only_columns_both_sides_constrain() {
        let s = schema();
        let a: Arc<dyn PhysicalExpr> = Arc::new(
            InListExpr::try_new(
                col("sha", &s).expect("c"),
                vec![lit(ScalarValue::Utf8View(Some("a".into())))],
                false,
                &s,
            )
            .expect("a"),
        );
        let b: Arc<dyn PhysicalExpr> = Arc::new(
            InListExpr::try_new(
                col("repo", &s).expect("c"),
                vec![lit(ScalarValue::Utf8View(Some("r".into())))],
                false,
                &s,
            )
            .expect("b"),
        );
        let either: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(a.clone(), Operator::Or, b));
        assert_eq!(keys(constraint(&either, &s)), BTreeMap::new());
        let same: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(a.clone(), Operator::Or, a));
        assert_eq!(keys(constraint(&same, &s))["sha"].len(), 1);
    }

    #[test]
    fn a_struct_in_list_gives_each_combination_once() {
        use datafusion::arrow::array::{StringViewArray, StructArray};
        use datafusion::arrow::datatypes::Fields;
        use datafusion::config::ConfigOptions;

        let s = schema();
        let fields = Fields::from(vec![
            Field::new("c0", DataType::Utf8View, true),
            Field::new("c1", DataType::Utf8View, true),
        ]);
        let pair: Arc<dyn PhysicalExpr> = Arc::new(ScalarFunctionExpr::new(
            "struct",
            datafusion::functions::core::r#struct(),
            vec![col("repo", &s).expect("c"), col("sha", &s).expect("c")],
            Arc::new(Field::new("struct", DataType::Struct(fields.clone()), true)),
            Arc::new(ConfigOptions::default()),
        ));
        // one value per build row, as DataFusion lists them: (r, a) twice
        let rows = StructArray::new(
            fields,
            vec![
                Arc::new(StringViewArray::from(vec!["r", "r", "r"])),
                Arc::new(StringViewArray::from(vec!["a", "b", "a"])),
            ],
            None,
        );
        let in_list: Arc<dyn PhysicalExpr> =
            Arc::new(InListExpr::try_new_from_array(pair, Arc::new(rows), false, &s).expect("in list"));
        let (columns, rows) = key_tuples(&in_list, &s).expect("combinations");
        assert_eq!(columns, ["repo", "sha"]);
        assert_eq!(rows, [["r", "a"], ["r", "b"]]);
    }

    #[test]
    fn false_means_nothing_and_true_means_anything() {
        let s = schema();
        assert_eq!(constraint(&lit(false), &s), Constraint::Nothing);
        assert_eq!(constraint(&lit(true), &s), Constraint::any());
    }
}
