//! One page's rows, from the response body to a record batch: the rows
//! path, then each column's path and type. A value that does not fit names
//! the table, the request and the JSON path that failed.

use datafusion::arrow::array::RecordBatch;
use serde_json::{Map, Value};
use skyglue_core::FetchContext;

use crate::error::{Error, Result};
use crate::model::Declared;
use crate::request::Listing;
use crate::types::snippet;

/// The rows of `body` as a batch in the table's page schema. Columns the
/// query does not read are left null; a key column the response lacks
/// echoes the value the listing asked for.
pub fn page_batch(
    decl: &Declared,
    ctx: &FetchContext,
    url: &str,
    listing: &Listing,
    body: &Value,
) -> Result<(RecordBatch, usize)> {
    let fail = |path: &str, what: String, detail: String| Error::Response {
        table: decl.name.clone(),
        url: url.to_string(),
        path: path.to_string(),
        what,
        detail,
    };
    let rows = decl.rows.rows(body).ok_or_else(|| {
        let found = snippet(body);
        fail(decl.rows.text(), "rows".into(), format!("no array there; the answer was {found}"))
    })?;
    let wanted: Vec<bool> = decl.columns.iter().map(|c| ctx.needs(&c.name)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut record = Map::with_capacity(decl.columns.len());
        for (column, wanted) in decl.columns.iter().zip(&wanted) {
            if !wanted {
                continue;
            }
            let mut value = column.path.first(row).cloned().unwrap_or(Value::Null);
            if value.is_null()
                && let Some(key) = &column.key
                && let Some((_, asked)) = listing.iter().find(|(k, _)| k == key)
            {
                value = Value::String(asked.clone());
            }
            let value = column
                .kind
                .convert(&value)
                .map_err(|detail| fail(column.path.text(), format!("column {}", column.name), detail))?;
            record.insert(column.name.clone(), value);
        }
        out.push(Value::Object(record));
    }
    let batch = ctx.batch(&out).map_err(|e| fail(decl.rows.text(), "rows".into(), e.to_string()))?;
    Ok((batch, rows.len()))
}
