//! Reading result columns back into Rust values, by name, whatever Arrow type
//! the query produced (`Utf8`, `Utf8View`, dictionary...): what the policy
//! runner and the sinks' checks need to turn query rows into targets.
//!
//! A missing column reads as all NULL, so a caller decides what an absent
//! column means instead of failing deep inside a cast.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};

/// Text values of one column (NULL, or a missing column, as `None`).
pub fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let Some(array) = batch.column_by_name(name) else { return vec![None; batch.num_rows()] };
    let Ok(array) = cast(array, &DataType::Utf8) else { return vec![None; batch.num_rows()] };
    let array = array.as_string::<i32>();
    (0..array.len()).map(|i| (!array.is_null(i)).then(|| array.value(i).to_string())).collect()
}

/// Whole-number values of one column (NULL, or a missing column, as `None`).
pub fn int64s(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let Some(array) = batch.column_by_name(name) else { return vec![None; batch.num_rows()] };
    let Ok(array) = cast(array, &DataType::Int64) else { return vec![None; batch.num_rows()] };
    let array = array.as_primitive::<Int64Type>();
    (0..array.len()).map(|i| (!array.is_null(i)).then(|| array.value(i))).collect()
}

/// The text items of a list column (a NULL list, or a missing column, as empty).
/// The items of every row are cast to text at once, not row by row (a cast
/// per row cost more than the rest of a 100,000-image check's reading).
pub fn string_lists(batch: &RecordBatch, name: &str) -> Vec<Vec<String>> {
    let empty = || vec![Vec::new(); batch.num_rows()];
    let Some(array) = batch.column_by_name(name) else { return empty() };
    let Some(list) = array.as_list_opt::<i32>() else { return empty() };
    let Ok(items) = cast(list.values(), &DataType::Utf8) else { return empty() };
    let items = items.as_string::<i32>();
    let offsets = list.value_offsets();
    (0..list.len())
        .map(|i| {
            if list.is_null(i) {
                return Vec::new();
            }
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            (start..end).filter(|&j| !items.is_null(j)).map(|j| items.value(j).to_string()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ListBuilder, StringBuilder, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn reads_text_numbers_and_lists_by_name() -> Result<(), Box<dyn std::error::Error>> {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.values().append_value("b");
        tags.append(true);
        tags.append(false);
        let tags = tags.finish();
        let schema = Schema::new(vec![
            Field::new("name", DataType::Utf8View, true),
            Field::new("size", DataType::Int32, true),
            Field::new("tags", tags.data_type().clone(), true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringViewArray::from(vec![Some("x"), None])),
                Arc::new(datafusion::arrow::array::Int32Array::from(vec![Some(7), None])),
                Arc::new(tags),
            ],
        )?;
        assert_eq!(strings(&batch, "name"), vec![Some("x".to_string()), None]);
        assert_eq!(int64s(&batch, "size"), vec![Some(7), None]);
        assert_eq!(string_lists(&batch, "tags"), vec![vec!["a".to_string(), "b".to_string()], vec![]]);
        assert_eq!(strings(&batch, "missing"), vec![None, None]);
        Ok(())
    }

    #[test]
    fn a_sliced_list_column_reads_its_own_rows() -> Result<(), Box<dyn std::error::Error>> {
        let mut tags = ListBuilder::new(StringBuilder::new());
        for row in [vec![Some("a"), Some("b")], vec![], vec![Some("c"), None, Some("d")]] {
            for item in row {
                tags.values().append_option(item);
            }
            tags.append(true);
        }
        let tags = tags.finish();
        let schema = Schema::new(vec![Field::new("tags", tags.data_type().clone(), true)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(tags)])?.slice(1, 2);
        assert_eq!(string_lists(&batch, "tags"), vec![vec![], vec!["c".to_string(), "d".to_string()]]);
        Ok(())
    }
}
