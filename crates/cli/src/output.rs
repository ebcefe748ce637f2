//! Printing query results as a table, CSV, a JSON array, or NDJSON. The
//! table shows control characters escaped (`\u{1b}`); CSV and JSON stay exact.

use std::io::Write;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use skyglue_core::escape::{escape_controls, escape_controls_but_newlines};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned text table.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Writes `batches` (of `schema`) to `out` in `format`.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), ArrowError> {
    match format {
        Format::Table => {
            // Control characters in values (an escape sequence in an S3 key)
            // are shown escaped, never sent to the terminal: text columns
            // before the layout, so widths stay right; anything nested after.
            let batches = batches.iter().map(escaped_text).collect::<Result<Vec<_>, _>>()?;
            let table =
                datafusion::arrow::util::pretty::pretty_format_batches_with_schema(schema.clone(), &batches)?;
            writeln!(out, "{}", escape_controls_but_newlines(&table.to_string()))?;
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(&mut *out);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(schema.clone()))?;
            }
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            // An empty result is still an array: write one empty batch so the
            // writer opens and closes it.
            if batches.iter().all(|b| b.num_rows() == 0) {
                w.write(&RecordBatch::new_empty(schema.clone()))?;
            }
            w.finish()?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(())
}

/// `batch` with the control characters of its text columns escaped (the
/// batch itself when none has any).
fn escaped_text(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let mut changed = false;
    for column in &mut columns {
        let values: Vec<Option<String>> = match column.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let text = cast(column, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                if !text.iter().flatten().any(|v| v.chars().any(char::is_control)) {
                    continue;
                }
                text.iter().map(|v| v.map(|v| escape_controls(v).into_owned())).collect()
            }
            _ => continue,
        };
        let escaped: ArrayRef = Arc::new(StringArray::from(values));
        *column = cast(&escaped, column.data_type())?;
        changed = true;
    }
    if !changed {
        return Ok(batch.clone());
    }
    RecordBatch::try_new(batch.schema(), columns)
}

/// Whether stdout gets colour: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>).
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn a_table_escapes_control_characters_and_csv_keeps_them() {
        let schema = Arc::new(Schema::new(vec![Field::new("key", DataType::Utf8View, true)]));
        let keys: ArrayRef = Arc::new(datafusion::arrow::array::StringViewArray::from(vec![
            Some("builds/\u{1b}[2Jevil\rtail"),
            None,
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![keys]).expect("batch");
        let mut table = Vec::new();
        write(&mut table, Format::Table, &schema, std::slice::from_ref(&batch)).expect("table");
        let table = String::from_utf8(table).expect("utf-8");
        assert!(!table.contains('\u{1b}') && !table.contains('\r'), "{table:?}");
        assert!(table.contains("builds/\\u{1b}[2Jevil\\rtail"), "{table}");
        let mut csv = Vec::new();
        write(&mut csv, Format::Csv, &schema, &[batch]).expect("csv");
        assert!(String::from_utf8(csv).expect("utf-8").contains('\u{1b}'), "CSV stays exact");
    }
}
