//! `skyglue restore RUN_ID`: undoes what an applying run did, as a run of its
//! own.
//!
//! The run's action names the action that undoes it
//! ([`skyglue_core::sink::Sink::undone_by`]: `archive_ecr_images` is undone by
//! `restore_ecr_images`). Its targets come from the journal, not from a
//! query: every target the run announced (an intent) unless the call failed,
//! so a run that crashed between a call and its outcome is covered too. The
//! undoing sink's own check decides what still needs undoing (an image
//! restored already is skipped, saying so), so a restore interrupted halfway
//! and run again does only the rest. The restore run is journaled, reported
//! and notified like any policy run; its name is the original policy's with
//! `: restore of RUN_ID`, and its parameter `run_id` says which run it undoes.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use skyglue_core::sink::Target;

use crate::error::{Error, Result};
use crate::journal::{Entry, Journal};

/// What one run acted on, from its journal entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Acted {
    /// The run's policy.
    pub policy: String,
    /// The run's action.
    pub action: String,
    /// The targets it acted on (or may have: an intent without an outcome),
    /// in the order it announced them, each once.
    pub targets: Vec<Target>,
}

/// What run `run_id` acted on, or [`Error::UnknownRun`] when the journal has
/// no such run.
pub async fn acted_on(journal: &Journal, run_id: &str) -> Result<Acted> {
    let entries = journal.run_entries(run_id).await?;
    let Some(first) = entries.first() else {
        return Err(Error::UnknownRun {
            run_id: run_id.to_string(),
            journal: journal.path().display().to_string(),
        });
    };
    Ok(Acted {
        policy: first.policy.clone(),
        action: entries.iter().find_map(|e| e.action.clone()).unwrap_or_default(),
        targets: acted_targets(&entries),
    })
}

/// The targets of `entries` that were announced (an intent) and whose last
/// outcome is not a failure, in order, each once.
fn acted_targets(entries: &[Entry]) -> Vec<Target> {
    let mut order: Vec<&Target> = Vec::new();
    let mut last: HashMap<&Target, Option<&str>> = HashMap::new();
    for e in entries {
        let Some(target) = &e.target else { continue };
        match e.event.as_str() {
            "intent" => {
                if !last.contains_key(target) {
                    order.push(target);
                }
                last.insert(target, None);
            }
            "outcome" if last.contains_key(target) => {
                last.insert(target, e.status.as_deref());
            }
            _ => {}
        }
    }
    order.into_iter().filter(|t| last.get(t).copied().flatten() != Some("failed")).cloned().collect()
}

/// The targets as the rows of a query: one text column per name in
/// `columns` (NULL where a target lacks it), for the runner to read as it
/// reads a policy's rows.
pub fn targets_frame(
    ctx: &SessionContext,
    columns: &[&str],
    targets: &[Target],
) -> std::result::Result<DataFrame, String> {
    let fields: Vec<Field> = columns.iter().map(|c| Field::new(*c, DataType::Utf8, true)).collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| Arc::new(targets.iter().map(|t| t.get(c)).collect::<StringArray>()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())?;
    ctx.read_batch(batch).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event: &str, digest: &str, status: Option<&str>) -> Entry {
        Entry {
            event: event.into(),
            target: Some(Target::from_pairs([("image_digest", digest)])),
            status: status.map(str::to_string),
            ..Entry::default()
        }
    }

    #[test]
    fn a_run_acted_on_what_it_announced_unless_the_call_failed() {
        let entries = vec![
            entry("planned", "sha256:p", Some("planned")),
            entry("intent", "sha256:a", None),
            entry("intent", "sha256:b", None),
            entry("intent", "sha256:c", None),
            entry("outcome", "sha256:a", Some("done")),
            entry("outcome", "sha256:b", Some("failed")),
            // c: killed before its outcome; it may have been archived
        ];
        let digests: Vec<String> = acted_targets(&entries)
            .iter()
            .filter_map(|t| t.get("image_digest").map(str::to_string))
            .collect();
        assert_eq!(digests, ["sha256:a", "sha256:c"]);
    }
}
