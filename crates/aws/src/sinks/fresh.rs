//! What the sinks' fresh checks share: running a query on the check's
//! session (see `Engine::check_session`), turning its failure into the check's error, and quoting the
//! policy's own values as SQL literals.

use datafusion::arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use skyglue_core::{Error, Result};

/// `'a', 'b'` with quotes doubled: names from the policy's own rows, used as SQL literals.
pub(crate) fn sql_list(values: &[String]) -> String {
    values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

/// Runs `sql` on the check's session.
pub(crate) async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await.map_err(df_err)?.collect().await.map_err(df_err)
}

/// Runs `sql` on the check's session, a batch at a time: for listings too
/// large to hold whole.
pub(crate) async fn stream(ctx: &SessionContext, sql: &str) -> Result<SendableRecordBatchStream> {
    ctx.sql(sql).await.map_err(df_err)?.execute_stream().await.map_err(df_err)
}

/// A failed read of the check: the API error the query carried, else the query's.
pub(crate) fn df_err(e: DataFusionError) -> Error {
    let detail = Error::find(&e).map(ToString::to_string).unwrap_or_else(|| e.to_string());
    Error::Api {
        operation: "the fresh in-use check".into(),
        connection: "every connection".into(),
        detail: skyglue_core::error::one_line(&detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_sql_literals() {
        assert_eq!(sql_list(&["web".into(), "o'brien".into()]), "'web', 'o''brien'");
    }
}
