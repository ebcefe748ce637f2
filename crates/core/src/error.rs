//! The crate-wide error type.
//!
//! Errors cross into DataFusion as `DataFusionError::External` and come back out
//! through [`Error::find`], so the CLI can tell a missing credential from bad SQL
//! and pick the right exit code and message.

use datafusion::error::DataFusionError;

/// What went wrong, with the culprit named in the message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file or environment is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// No credentials could be found for a connection.
    #[error(
        "no AWS credentials for connection {connection}: {detail} \
         (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or configure [[aws]] in skyglue.toml)"
    )]
    Credentials {
        /// The connection, as `name/region`.
        connection: String,
        /// What the credential chain said.
        detail: String,
    },

    /// The API denied the call.
    #[error("access denied calling {operation} on connection {connection}: {detail}")]
    AccessDenied {
        /// `service:Operation`, e.g. `ecr:DescribeImages`.
        operation: String,
        /// The connection, as `name/region`.
        connection: String,
        /// The API's message.
        detail: String,
    },

    /// The endpoint could not be reached at all.
    #[error(
        "failed to reach {operation} on connection {connection}: {detail} (check the network, endpoint_url or AWS_ENDPOINT_URL)"
    )]
    Unreachable {
        /// `service:Operation`.
        operation: String,
        /// The connection, as `name/region`.
        connection: String,
        /// The transport error.
        detail: String,
    },

    /// The API kept throttling past every retry.
    #[error("{operation} on connection {connection} was still throttled after {attempts} attempts: {detail}")]
    Throttled {
        /// `service:Operation`.
        operation: String,
        /// The connection, as `name/region`.
        connection: String,
        /// Attempts made, first included.
        attempts: u32,
        /// The API's message.
        detail: String,
    },

    /// Any other API failure.
    #[error("failed to call {operation} on connection {connection}: {detail}")]
    Api {
        /// `service:Operation`.
        operation: String,
        /// The connection, as `name/region`.
        connection: String,
        /// The error code and message.
        detail: String,
    },

    /// A GitHub API call failed (after any retries), or its answer was unusable.
    #[error("failed to call GitHub {operation}: {detail}")]
    Github {
        /// Method and path, naming the repository and ref, e.g.
        /// `GET /repos/acme/web/commits/abc1234`.
        operation: String,
        /// What went wrong: the status and GitHub's message, or the transport error.
        detail: String,
    },

    /// A listing's pages would not end: the API led back to a page already
    /// read, or past the listing's page limit.
    #[error("failed to page through {listing}: {detail}")]
    Paging {
        /// The listing: the operation and connection, or the table.
        listing: String,
        /// Which page led where.
        detail: String,
    },

    /// A query is missing a key column the table requires.
    #[error(
        "table {table} requires a filter on {column}, e.g. WHERE {column} = '...' \
         or a join that supplies it"
    )]
    MissingKey {
        /// The table.
        table: String,
        /// The required column.
        column: String,
    },

    /// Converting API data to Arrow failed.
    #[error("failed to convert {table} rows: {source}")]
    Convert {
        /// The table.
        table: String,
        /// The Arrow error.
        #[source]
        source: datafusion::arrow::error::ArrowError,
    },

    /// Another crate's typed error (the policy journal's, an interrupted
    /// run's), carried unchanged so callers can `downcast_ref` it.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// `message` on one line: whitespace runs (newlines included) become one space.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Finds a skyglue error anywhere in a DataFusion error chain.
    pub fn find(err: &DataFusionError) -> Option<&Error> {
        match err {
            DataFusionError::External(e) => e
                .downcast_ref::<Error>()
                .or_else(|| e.downcast_ref::<DataFusionError>().and_then(Error::find)),
            DataFusionError::Context(_, inner) => Error::find(inner),
            DataFusionError::Shared(inner) => Error::find(inner),
            DataFusionError::Diagnostic(_, inner) => Error::find(inner),
            DataFusionError::Collection(errs) => errs.iter().find_map(Error::find),
            DataFusionError::ArrowError(e, _) => match e.as_ref() {
                datafusion::arrow::error::ArrowError::ExternalError(inner) => inner
                    .downcast_ref::<Error>()
                    .or_else(|| inner.downcast_ref::<DataFusionError>().and_then(Error::find)),
                _ => None,
            },
            _ => None,
        }
    }

    /// True when the error is the user's input (bad SQL, a missing key, bad config),
    /// which the CLI reports with exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Config(_) | Error::MissingKey { .. })
    }
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        DataFusionError::External(Box::new(e))
    }
}
