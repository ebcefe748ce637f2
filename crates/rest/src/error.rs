//! The crate's error type: declaration errors name the file and line, run-time
//! errors name the table and, for a response that does not fit the
//! declaration, the JSON path that failed.

/// What went wrong with a declared table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A declaration is invalid: unknown key, bad JSON path, bad type...
    #[error("{file}:{line}: {message}")]
    Declaration {
        /// The file (or config) the declaration is in.
        file: String,
        /// The 1-based line of the offending key or value.
        line: usize,
        /// What is wrong, and what to write instead.
        message: String,
    },

    /// A declarations file or directory could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The `skyglue.toml` holding declarations is itself invalid.
    #[error("{0}")]
    Config(String),

    /// A `${VAR}` the declaration reads holds a control character inside its
    /// value (which is never printed).
    #[error(
        "table {table}: environment variable {var} holds a control character (its {field} reads ${{{var}}}); \
         set it to the value alone"
    )]
    BadEnv {
        /// The table.
        table: String,
        /// The variable.
        var: String,
        /// Which setting reads it (`auth.value`, `url`).
        field: &'static str,
    },

    /// A `${VAR}` the declaration reads is not set.
    #[error(
        "table {table}: environment variable {var} is not set (its {field} reads ${{{var}}}); export it and retry"
    )]
    MissingEnv {
        /// The table.
        table: String,
        /// The variable.
        var: String,
        /// Which setting reads it (`auth.value`, `url`).
        field: &'static str,
    },

    /// The url, its variables filled in, is not one skyglue may call.
    #[error("table {table}: {detail}")]
    Url {
        /// The table.
        table: String,
        /// What is wrong, naming the variable (never its value).
        detail: String,
    },

    /// A next page is on another scheme, host or port than the table's url:
    /// not requested, so the credential stays home.
    #[error(
        "table {table}: the next page is on {foreign}, not on the table's host {home}; \
         not following it (a declared table sends requests, and its credential, only to its url's host)"
    )]
    ForeignHost {
        /// The table.
        table: String,
        /// The next page's scheme, host and port.
        foreign: String,
        /// The url's scheme, host and port.
        home: String,
    },

    /// The API answered, but not in the shape the declaration says.
    #[error("table {table}: the response of GET {url} does not fit {path} ({what}): {detail}")]
    Response {
        /// The table.
        table: String,
        /// The request, query string included, the auth parameter as `***`
        /// (never the auth header).
        url: String,
        /// The declaration's JSON path that failed.
        path: String,
        /// Which setting the path is (`rows`, `column id`, `paginate.next`).
        what: String,
        /// What was found instead.
        detail: String,
    },

    /// The request failed: transport, an error status, or a rate limit that
    /// outlasted the retries.
    #[error("table {table}: failed to GET {url}: {detail}")]
    Http {
        /// The table.
        table: String,
        /// The request, the auth parameter as `***`.
        url: String,
        /// The status and the start of the answer, or the transport error.
        detail: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for skyglue_core::Error {
    /// Declaration errors are configuration errors (exit 2); the rest are
    /// carried unchanged so callers can `downcast_ref` them.
    fn from(e: Error) -> Self {
        match e {
            Error::Declaration { .. } | Error::Read { .. } => skyglue_core::Error::Config(e.to_string()),
            other => skyglue_core::Error::Other(Box::new(other)),
        }
    }
}
