//! The policy crate's errors: the journal, locks, the team table in DynamoDB,
//! and a run told to stop.
//!
//! They cross into the sinks' [`ActionLog`](skyglue_core::sink::ActionLog) as
//! `skyglue_core::Error::Other` and can be recovered with `downcast_ref`.

use std::path::PathBuf;

/// What went wrong in the policy crate's own machinery.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state directory could not be created or used.
    #[error("failed to create state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A journal file could not be opened, read or written.
    #[error("failed to {verb} journal {path}: {source}")]
    JournalIo {
        /// `open`, `read` or `write`.
        verb: &'static str,
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A journal line (other than a torn last line) is not a journal entry.
    #[error("failed to read journal {path}: line {line} is not a journal entry: {source}")]
    JournalLine {
        /// The journal file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },

    /// A journal entry could not be encoded.
    #[error("failed to encode a journal entry: {0}")]
    Encode(#[source] serde_json::Error),

    /// Another run holds the policy's lock.
    #[error("policy {policy} is locked by {holder}: another skyglue run is acting on it; try again later")]
    Locked {
        /// The policy's name.
        policy: String,
        /// Who holds it (`host pid 123, run R, since T`), or what could be read of it.
        holder: String,
    },

    /// A lock file could not be opened or written.
    #[error("failed to lock {path}: {source}")]
    LockIo {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A call to the team table in DynamoDB failed.
    #[error("failed to call dynamodb:{operation} on table {table}: {detail}")]
    Dynamo {
        /// `PutItem`, `BatchWriteItem`, ...
        operation: &'static str,
        /// The table.
        table: String,
        /// The SDK's error, on one line.
        detail: String,
    },

    /// An item of the team table is not what skyglue writes.
    #[error("failed to read table {table}: item {key} is not a skyglue item: {detail}")]
    DynamoItem {
        /// The table.
        table: String,
        /// The item's key.
        key: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The policy file's header (its `-- @` lines) is not valid, or the file cannot be read.
    #[error(transparent)]
    Header(#[from] crate::header::HeaderError),

    /// The policy names an action no sink performs.
    #[error("{origin}:{line}: unknown action {action:?} (known actions: {known})")]
    UnknownAction {
        /// The policy file.
        origin: String,
        /// The `@action` line.
        line: usize,
        /// The action it names.
        action: String,
        /// The actions there are, comma-separated.
        known: String,
    },

    /// A parameter override or default is not valid for its declaration.
    #[error("{origin}: {detail}")]
    Params {
        /// The policy file.
        origin: String,
        /// What is wrong, naming the parameter.
        detail: String,
    },

    /// The policy's query does not parse or plan, or is not exactly one SELECT.
    #[error("{origin}: {detail}")]
    Query {
        /// The policy file.
        origin: String,
        /// DataFusion's message on one line, or what the query is instead.
        detail: String,
    },

    /// The query's columns are not what the action needs.
    #[error("{origin}: {detail}")]
    Columns {
        /// The policy file.
        origin: String,
        /// What is wrong, naming the column.
        detail: String,
    },

    /// The policy notifies Slack but no Slack is configured.
    #[error(
        "{origin}: the policy notifies Slack (@notify: slack) but no Slack is configured: \
         set SLACK_WEBHOOK_URL (or [slack] in skyglue.toml), or run with --notify none"
    )]
    NoSlack {
        /// The policy file.
        origin: String,
    },

    /// `skyglue restore RUN_ID` names a run the journal does not have.
    #[error(
        "no run {run_id} in the journal {journal}: list the runs with \
         skyglue query \"SELECT DISTINCT run_id, policy, action FROM skyglue_journal\""
    )]
    UnknownRun {
        /// The run id given.
        run_id: String,
        /// The journal looked in.
        journal: String,
    },

    /// `skyglue restore RUN_ID` names a run whose action nothing undoes.
    #[error("run {run_id} ran {action}, which cannot be undone: restore undoes archive_ecr_images runs")]
    CannotUndo {
        /// The run.
        run_id: String,
        /// Its action.
        action: String,
    },

    /// The run was told to stop (SIGTERM, SIGINT, a lost lock) before this step.
    #[error("interrupted ({0}): not started")]
    Interrupted(String),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for skyglue_core::Error {
    fn from(e: Error) -> Self {
        skyglue_core::Error::Other(Box::new(e))
    }
}
