//! One REPL session: the engine and its DataFusion session, the display
//! settings the meta-commands change, and running statements with a progress
//! line, Ctrl-C cancellation and `\timing`.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};
use skyglue::output::{self, Format};
use skyglue_core::Engine;
use skyglue_core::metrics::ApiCountersSnapshot;

use super::fit;
use super::interrupt::{Cancelled, Interrupts};
use crate::progress::Progress;

/// Rows a table result shows on a terminal unless `\maxrows` says otherwise.
pub const DEFAULT_MAX_ROWS: usize = 100;

/// What to do after a unit ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next input.
    Continue,
    /// `\q`: leave.
    Quit,
}

/// What the meta-commands change.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How results print (`\format`).
    pub format: Format,
    /// At most this many rows of a table result (`\maxrows`); `None` is all.
    pub max_rows: Option<usize>,
    /// Print time and API work after each statement (`\timing`).
    pub timing: bool,
}

/// The REPL's state.
pub struct Session {
    /// Connections, tables and the scan cache.
    pub engine: Engine,
    /// The DataFusion session statements run in.
    pub ctx: SessionContext,
    /// Where the journal lives (for policies run by `\i`).
    pub state_dir: PathBuf,
    /// Display settings.
    pub settings: Settings,
    /// The terminal's width, when results are fitted to it.
    pub width: Option<u16>,
    /// Set while `\i` files nest, to stop a file that includes itself.
    pub include_depth: usize,
    interactive: bool,
    interrupts: Option<Interrupts>,
    catalog_changed: bool,
}

impl Session {
    /// A session on a terminal (`interactive`: progress, Ctrl-C, row cap) or on a script.
    pub fn new(engine: Engine, ctx: SessionContext, state_dir: PathBuf, interactive: bool) -> Self {
        Self {
            engine,
            ctx,
            state_dir,
            settings: Settings {
                format: Format::Table,
                max_rows: interactive.then_some(DEFAULT_MAX_ROWS),
                timing: false,
            },
            width: None,
            include_depth: 0,
            interactive,
            interrupts: interactive.then(Interrupts::install),
            catalog_changed: false,
        }
    }

    /// Whether a statement since the last call created or dropped a table or view.
    pub fn take_catalog_changed(&mut self) -> bool {
        std::mem::take(&mut self.catalog_changed)
    }

    /// Runs `work`; on a terminal Ctrl-C cancels it with [`Cancelled`].
    pub async fn cancellable<T>(
        &mut self,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        race(&mut self.interrupts, work).await
    }

    /// Plans, runs and prints each statement of `sql`.
    pub async fn run_sql(&mut self, sql: &str) -> anyhow::Result<()> {
        let statements = DFParser::parse_sql(sql)?;
        for statement in statements {
            let counters = self.engine.connections().counters.clone();
            let before = counters.snapshot();
            let started = Instant::now();
            let progress = self.interactive.then(|| Progress::start(counters.clone()));
            let result = race(&mut self.interrupts, execute(&self.ctx, statement)).await;
            if let Some(progress) = progress {
                progress.finish();
            }
            let (schema, batches, ddl) = result?;
            self.catalog_changed |= ddl;
            self.print(&schema, &batches)?;
            if self.settings.timing {
                eprintln!("{}", timing(started.elapsed(), counters.snapshot().since(&before)));
            }
        }
        Ok(())
    }

    fn print(&self, schema: &SchemaRef, batches: &[RecordBatch]) -> anyhow::Result<()> {
        if schema.fields().is_empty() {
            return Ok(()); // DDL and SET print nothing.
        }
        let mut out = std::io::stdout().lock();
        match self.settings.format {
            Format::Table => {
                fit::write_results(&mut out, schema, batches, self.width, self.settings.max_rows)?
            }
            format => output::write(&mut out, format, schema, batches)?,
        }
        out.flush()?;
        Ok(())
    }
}

async fn race<T>(
    interrupts: &mut Option<Interrupts>,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match interrupts {
        Some(interrupts) => interrupts.race(work).await?,
        None => work.await,
    }
}

/// Plans and collects one statement; also says whether it was DDL.
async fn execute(
    ctx: &SessionContext,
    statement: Statement,
) -> anyhow::Result<(SchemaRef, Vec<RecordBatch>, bool)> {
    let plan = ctx.state().statement_to_plan(statement).await?;
    let ddl = matches!(plan, LogicalPlan::Ddl(_));
    let df = ctx.execute_logical_plan(plan).await?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    Ok((schema, batches, ddl))
}

/// The `\timing` line.
fn timing(elapsed: Duration, api: ApiCountersSnapshot) -> String {
    format!(
        "Time: {:.3} s; {} API calls, {} pages, {} rows fetched, {} retries, {:.3} s waiting for rate limits",
        elapsed.as_secs_f64(),
        api.calls,
        api.pages,
        api.rows,
        api.retries,
        Duration::from_nanos(api.throttle_wait_nanos).as_secs_f64(),
    )
}

/// Prints `err` as one line on stderr (`colour`: a red "error:" on a terminal).
pub fn report_error(err: &anyhow::Error, colour: bool) {
    if err.downcast_ref::<Cancelled>().is_some() {
        eprintln!("query cancelled");
        return;
    }
    let (_, message) = crate::errors::describe(err);
    if colour && std::io::stderr().is_terminal() {
        eprintln!("\x1b[31merror:\x1b[0m {message}");
    } else {
        eprintln!("error: {message}");
    }
}
