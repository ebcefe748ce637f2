//! Aligned text tables fitted to the terminal's width, for results and for
//! the meta-commands' listings.
//!
//! Arrow's pretty printer sizes every column to its longest value, so one ARN
//! pushes the table past the screen. Here comfy-table (already built for
//! arrow's printer) shares the width out among the columns; in a result a
//! cell that does not fit keeps its first line, cut with "…", and in a
//! listing it wraps. Long results are capped at a row count, with a note
//! saying how many rows were left out.

use std::io::Write;

use comfy_table::{ContentArrangement, Row, Table};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The ASCII borders of arrow's pretty printer, so `skyglue query` and the
/// REPL print alike.
const PRESET: &str = "||--+-++|    ++++++";

/// A listing (`\d`, `\?`...) fitted into `width` columns when given: long
/// cells wrap, since every word of a description matters.
pub fn text_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>, width: Option<u16>) -> Table {
    fitted(header, rows, width, false)
}

/// A table of `header` and `rows` fitted into `width` columns when given;
/// `cut` keeps one line per row, ending a cut cell with "…".
fn fitted(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    width: Option<u16>,
    cut: bool,
) -> Table {
    let mut table = Table::new();
    table.load_preset(PRESET).set_header(header.to_vec());
    if let Some(width) = width {
        table
            .set_width(width.saturating_sub(1).max(20))
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_truncation_indicator("…");
    }
    for cells in rows {
        let mut row = Row::from(cells);
        if cut && width.is_some() {
            row.max_height(1);
        }
        table.add_row(row);
    }
    table
}

/// Writes `batches` as a table fitted into `width`, showing at most
/// `max_rows` rows, then a line with the row count.
pub fn write_results(
    out: &mut dyn Write,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    width: Option<u16>,
    max_rows: Option<usize>,
) -> Result<(), ArrowError> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let shown = max_rows.map_or(total, |m| m.min(total));
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let table = fitted(&header, rows(batches, shown)?, width, true);
    writeln!(out, "{table}")?;
    writeln!(out, "{}", footer(total, shown))?;
    Ok(())
}

/// The first `limit` rows of `batches`, each cell formatted as arrow prints it.
fn rows(batches: &[RecordBatch], limit: usize) -> Result<Vec<Vec<String>>, ArrowError> {
    let options = FormatOptions::default();
    let mut out = Vec::with_capacity(limit);
    for batch in batches {
        if out.len() >= limit {
            break;
        }
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for i in 0..batch.num_rows().min(limit - out.len()) {
            // Control characters escaped: a value never drives the terminal.
            out.push(
                formatters
                    .iter()
                    .map(|f| skyglue_core::escape::escape_controls(&f.value(i).to_string()).into_owned())
                    .collect(),
            );
        }
    }
    Ok(out)
}

fn footer(total: usize, shown: usize) -> String {
    let rows = if total == 1 { "1 row".to_string() } else { format!("{total} rows") };
    if shown < total {
        format!("({rows}; {} not shown: `\\maxrows N` shows more, `\\maxrows 0` all)", total - shown)
    } else {
        format!("({rows})")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    fn batch(n: i64) -> RecordBatch {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
        let arns: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| format!("arn:aws:ecs:us-east-1:111111111111:service/prod/a-rather-long-name-{i}")),
        ));
        RecordBatch::try_from_iter([("id", ids), ("arn", arns)]).expect("batch")
    }

    fn render(batches: &[RecordBatch], width: Option<u16>, max_rows: Option<usize>) -> String {
        let mut out = Vec::new();
        let schema = batches[0].schema();
        write_results(&mut out, &schema, batches, width, max_rows).expect("writes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn wide_cells_are_cut_to_the_width() {
        let text = render(&[batch(3)], Some(40), None);
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains('…'), "{text}");
        assert!(text.ends_with("(3 rows)\n"), "{text}");
    }

    #[test]
    fn long_results_are_capped_with_a_note() {
        let text = render(&[batch(3), batch(4)], None, Some(5));
        assert!(text.contains("a-rather-long-name-1"), "no width: nothing is cut\n{text}");
        assert_eq!(text.matches("arn:aws").count(), 5, "{text}");
        assert!(text.contains("(7 rows; 2 not shown"), "{text}");
    }
}
