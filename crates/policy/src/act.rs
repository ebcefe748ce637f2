//! The act stage of a run: the policy's query read into targets, the
//! guardrails (`@max_deletes`, then the sink's fresh check), the plan
//! journaled, and the sink fed what the check let through, group by group
//! (see [`crate::staleness`]: a group whose check has grown older than
//! `[in_use] max_age_seconds` is re-checked right before its calls).
//!
//! `max_deletes` counts what the query selected before anything is checked,
//! and again after the check when it added targets (an image's referrers go
//! with it); a re-check can only take targets away, never add one, so the
//! count the guardrail passed bounds the run.

use std::collections::HashMap;
use std::time::Instant;

use datafusion::dataframe::DataFrame;
use futures::TryStreamExt;
use skyglue_core::error::one_line;
use skyglue_core::sink::{Bytes, Checked, Outcome, Sink, Status, Target};
use skyglue_core::{Engine, Error};

use crate::header::PolicyFile;
use crate::journal::{RunLog, status_name};
use crate::report::{Mode, Report};
use crate::stage::Stage;

/// Planned entries are journaled this many at a time, so a large plan is
/// never held twice over as journal lines.
const JOURNAL_CHUNK: usize = 1_000;

/// Runs the query, the guardrails and the sink; fills `report`. An error
/// (the query or the first check failed) fails the run with nothing changed.
pub(crate) async fn act(
    stage: &(dyn Fn(Stage) + Send + Sync),
    engine: &Engine,
    policy: &PolicyFile,
    sink: &dyn Sink,
    query: DataFrame,
    log: &RunLog,
    report: &mut Report,
) -> Result<(), Error> {
    stage(Stage::Query);
    let rows = read_rows(query, sink).await.map_err(|e| Error::Api {
        operation: "the policy query".into(),
        connection: "every connection".into(),
        detail: one_line(&df_message(&e)),
    })?;
    let crate::rows::Rows { targets, invalid, details } = rows;
    report.details = details;
    report.summary.planned = targets.len() + invalid.len();
    if report.summary.planned > policy.max_deletes {
        let reason = format!(
            "the policy selected {} targets, more than @max_deletes {}: nothing was changed \
             (raise @max_deletes if this is expected)",
            report.summary.planned, policy.max_deletes
        );
        let outcomes = targets.into_iter().map(|t| Outcome::skipped(t, "max_deletes exceeded")).collect();
        report.set_outcomes(sink.action(), outcomes);
        report.fail(reason);
        return Ok(());
    }

    // Every sink owns its fresh check: the runner cannot act without it,
    // and acts only on the resolved targets it lets through. Its age counts
    // from its start: what it read can only be older than that.
    stage(Stage::Guardrail);
    let checked_at = Instant::now();
    let checked = sink.check(engine, targets).await?;
    let mut checked = crate::staleness::resolved_only(checked, sink);
    report.not_checked.clone_from(&checked.not_checked);
    // What the check added (an image's referrers) counts against
    // max_deletes too: fail closed, acting on nothing, when it goes over.
    let notes = std::mem::take(&mut checked.notes);
    report.summary.planned += notes.len();
    if checked.proceed.len() > policy.max_deletes {
        let reason = format!(
            "with the {} targets the check added (referrers that go with their image), the run would act \
             on {}, more than @max_deletes {}: nothing was changed (raise @max_deletes if this is expected)",
            notes.len(),
            checked.proceed.len(),
            policy.max_deletes
        );
        let mut outcomes: Vec<Outcome> =
            checked.proceed.into_iter().map(|t| Outcome::skipped(t, "max_deletes exceeded")).collect();
        outcomes.extend(checked.skipped);
        outcomes.extend(invalid);
        report.set_outcomes(sink.action(), outcomes);
        report.fail(reason);
        return Ok(());
    }
    journal_plan(log, sink, &checked, &notes, &invalid)?;

    stage(Stage::Act);
    let bytes = std::mem::take(&mut checked.bytes);
    let acted = match report.mode {
        Mode::DryRun => crate::staleness::Acted {
            outcomes: std::mem::take(&mut checked.proceed)
                .into_iter()
                .map(|target| Outcome { target, status: Status::Planned, reason: None })
                .collect(),
            error: None,
        },
        Mode::Apply => {
            let proceed = std::mem::take(&mut checked.proceed);
            crate::staleness::apply(engine, sink, proceed, checked_at, log).await
        }
    };
    // beside each added target, why it is in the run
    let mut acted = acted;
    for o in &mut acted.outcomes {
        if o.reason.is_none() {
            o.reason = notes.get(&o.target).cloned();
        }
    }
    let moved: i64 = acted
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Done | Status::Planned))
        .filter_map(|o| bytes.get(&o.target))
        .sum();
    // Only a delete reclaims: an archive moves its bytes to archive storage.
    match sink.bytes() {
        Bytes::Reclaimed => report.summary.bytes_reclaimed = moved,
        Bytes::Archived => report.summary.bytes_archived = Some(moved),
        Bytes::Restored => report.summary.bytes_restored = Some(moved),
    }
    drop(bytes);
    let mut outcomes: Vec<Outcome> = acted.outcomes;
    outcomes.extend(checked.skipped);
    outcomes.extend(invalid);
    report.set_outcomes(sink.action(), outcomes);
    if report.mode == Mode::Apply {
        report.set_check_ages(&log.progress().check_ages());
    }
    if let Some(error) = acted.error {
        report.fail(error);
    }
    Ok(())
}

/// Journals the plan: one `planned` entry per target, its status (planned,
/// or skipped with the check's reason) and the bytes acting on it moves.
fn journal_plan(
    log: &RunLog,
    sink: &dyn Sink,
    checked: &Checked,
    notes: &HashMap<Target, String>,
    invalid: &[Outcome],
) -> Result<(), Error> {
    let planned = checked
        .proceed
        .iter()
        .map(|t| (t, Status::Planned, notes.get(t)))
        .chain(checked.skipped.iter().chain(invalid).map(|o| (&o.target, o.status, o.reason.as_ref())));
    let bytes_key = match sink.bytes() {
        Bytes::Reclaimed => "bytes",
        Bytes::Archived => "bytes_archived",
        Bytes::Restored => "bytes_restored",
    };
    let mut chunk = Vec::with_capacity(JOURNAL_CHUNK);
    for (t, status, reason) in planned {
        chunk.push(crate::journal::Entry {
            target: Some(t.clone()),
            status: Some(status_name(status).into()),
            reason: reason.cloned(),
            // its size, so the history can say what each repository reclaimed
            // (an archive's or a restore's bytes are not reclaimed: another key)
            detail: checked.bytes.get(t).map(|bytes| serde_json::json!({ bytes_key: bytes })),
            ..log.entry("planned")
        });
        if chunk.len() == JOURNAL_CHUNK {
            log.write(&chunk)?;
            chunk.clear();
        }
    }
    log.write(&chunk)?;
    Ok(())
}

/// Runs the policy's query a batch at a time, keeping of each row only what
/// the run needs (see [`crate::rows::Reader`]).
async fn read_rows(query: DataFrame, sink: &dyn Sink) -> datafusion::error::Result<crate::rows::Rows> {
    let mut stream = query.execute_stream().await?;
    let mut reader = crate::rows::Reader::new(sink);
    while let Some(batch) = stream.try_next().await? {
        reader.add(&batch);
    }
    Ok(reader.finish())
}

/// The message of a DataFusion error: the skyglue error it carries, else its root.
pub(crate) fn df_message(e: &datafusion::error::DataFusionError) -> String {
    match Error::find(e) {
        Some(inner) => inner.to_string(),
        None => e.find_root().to_string().replace("datafusion.public.", ""),
    }
}
