//! Rows to Arrow: a table describes a row as a plain `#[derive(Serialize)]`
//! struct and the framework turns a page of them into a record batch.
//!
//! Timestamps are serialized as microseconds since the epoch (see
//! [`micros`]); lists and nested structs map to Arrow lists and structs.
//!
//! Text columns (`Utf8View`) are decoded as `Utf8` and then cast: arrow-json
//! 59 sizes a view column's views buffer by the page's *bytes* of text rather
//! than its number of values (16 bytes of views per byte of text), and a
//! batch kept that allocation for as long as anything held it (466 MB of the
//! benchmark policy's heap at its peak, found with heaptrack). A `Utf8`
//! column is sized exactly, and the cast to `Utf8View` reuses its bytes.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::ReaderBuilder;
use serde::Serialize;

/// Converts `rows` to one batch of `schema`.
pub fn rows_to_batch<T: Serialize>(schema: SchemaRef, rows: &[T]) -> Result<RecordBatch, ArrowError> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let decoded = Arc::new(Schema::new_with_metadata(
        schema.fields().iter().map(|f| Arc::new(without_views(f))).collect::<Vec<_>>(),
        schema.metadata().clone(),
    ));
    let mut decoder = ReaderBuilder::new(decoded).with_batch_size(rows.len()).build_decoder()?;
    decoder.serialize(rows)?;
    let Some(batch) = decoder.flush()? else {
        return Ok(RecordBatch::new_empty(schema));
    };
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns)
}

/// `field` with `Utf8` wherever it has `Utf8View`, at any depth.
fn without_views(field: &Field) -> Field {
    let data_type = match field.data_type() {
        DataType::Utf8View => DataType::Utf8,
        DataType::List(f) => DataType::List(Arc::new(without_views(f))),
        DataType::LargeList(f) => DataType::LargeList(Arc::new(without_views(f))),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| Arc::new(without_views(f))).collect::<Fields>())
        }
        DataType::Map(f, ordered) => DataType::Map(Arc::new(without_views(f)), *ordered),
        other => other.clone(),
    };
    field.clone().with_data_type(data_type)
}

/// A UTC timestamp as the microseconds a timestamp column expects.
pub fn micros(secs: i64, nanos: u32) -> i64 {
    secs.saturating_mul(1_000_000).saturating_add(i64::from(nanos / 1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ColumnSpec, Scope, TableSpec, field, struct_list, text, text_list, timestamp};
    use datafusion::arrow::array::AsArray;
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

    /// The schema of [`Row`]: text, a text list, a timestamp and a list of structs.
    fn row_schema() -> SchemaRef {
        TableSpec {
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
            operations: &[],
        }
        .page_schema()
    }

    #[test]
    fn lists_structs_and_timestamps() {
        let rows = [
            Row {
                name: "a",
                tags: Some(vec!["x", "y"]),
                at: Some(micros(0, 1000)),
                items: vec![Item { image: "i" }],
            },
            Row { name: "b", tags: None, at: None, items: vec![] },
        ];
        let batch = rows_to_batch(row_schema(), &rows).expect("converts");
        let text = pretty_format_batches(&[batch]).expect("prints").to_string();
        assert!(text.contains("[x, y]"), "{text}");
        assert!(text.contains("1970-01-01T00:00:00.000001Z"), "{text}");
        assert!(text.contains("{image: i}"), "{text}");
    }

    #[test]
    fn text_columns_hold_buffers_of_their_own_size() {
        let long = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let rows: Vec<Row> = (0..1000)
            .map(|_| Row {
                name: long,
                tags: Some(vec![long, "short"]),
                at: None,
                items: vec![Item { image: long }],
            })
            .collect();
        let batch = rows_to_batch(row_schema(), &rows).expect("batch");
        // 1,000 names: 16,000 bytes of views and 64,000 of text; decoded as
        // views, 16 bytes of views per byte of text (over 1 MB).
        let name = batch.column(0).get_array_memory_size();
        assert!(name < 100_000, "the name column holds {name} bytes");
        let total = batch.get_array_memory_size();
        assert!(total < 400_000, "the batch holds {total} bytes");
        assert_eq!(batch.column(0).as_string_view().value(999), long);
        assert_eq!(batch.column(1).as_list::<i32>().value(3).as_string_view().value(1), "short");
    }
}
