//! Rows to Arrow: a table describes a row as a plain `#[derive(Serialize)]`
//! struct and the framework turns a page of them into a record batch.
//!
//! Timestamps are serialized as microseconds since the epoch (see
//! [`micros`]); lists and nested structs map to Arrow lists and structs.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::ReaderBuilder;
use serde::Serialize;

/// Converts `rows` to one batch of `schema`.
pub fn rows_to_batch<T: Serialize>(schema: SchemaRef, rows: &[T]) -> Result<RecordBatch, ArrowError> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let mut decoder = ReaderBuilder::new(schema.clone()).with_batch_size(rows.len()).build_decoder()?;
    decoder.serialize(rows)?;
    Ok(decoder.flush()?.unwrap_or_else(|| RecordBatch::new_empty(schema)))
}

/// A UTC timestamp as the microseconds a timestamp column expects.
pub fn micros(secs: i64, nanos: u32) -> i64 {
    secs.saturating_mul(1_000_000).saturating_add(i64::from(nanos / 1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ColumnSpec, Scope, TableSpec, field, struct_list, text, text_list, timestamp};
    use datafusion::arrow::util::pretty::pretty_format_batches;

    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        tags: Option<Vec<&'static str>>,
        at: Option<i64>,
        items: Vec<Item>,
    }

    #[derive(Serialize)]
    struct Item {
        image: &'static str,
    }

    #[test]
    fn lists_structs_and_timestamps() {
        let spec = TableSpec {
            name: "t",
            description: "",
            scope: Scope::Global,
            columns: vec![
                ColumnSpec::new("name", text(), ""),
                ColumnSpec::new("tags", text_list(), ""),
                ColumnSpec::new("at", timestamp(), ""),
                ColumnSpec::new("items", struct_list(vec![field("image", text())]), ""),
            ],
            not_found_codes: &[],
            rate_limits: vec![],
        };
        let rows = [
            Row {
                name: "a",
                tags: Some(vec!["x", "y"]),
                at: Some(micros(0, 1000)),
                items: vec![Item { image: "i" }],
            },
            Row { name: "b", tags: None, at: None, items: vec![] },
        ];
        let batch = rows_to_batch(spec.page_schema(), &rows).expect("converts");
        let text = pretty_format_batches(&[batch]).expect("prints").to_string();
        assert!(text.contains("[x, y]"), "{text}");
        assert!(text.contains("1970-01-01T00:00:00.000001Z"), "{text}");
        assert!(text.contains("{image: i}"), "{text}");
    }
}
