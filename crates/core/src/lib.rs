//! skyglue's core: the API-table framework.
//!
//! A table is a [`TableSpec`] (name, columns with descriptions, key columns)
//! plus one paginated fetch function ([`ApiTable::fetch`]). The framework turns
//! it into a DataFusion table that fans out over every AWS connection, pushes
//! key filters into API parameters, stops paging at `LIMIT`, and records API
//! metrics that `EXPLAIN ANALYZE` shows.
//!
//! The [`Engine`] holds the connections and registers the tables on a
//! DataFusion `SessionContext`.

pub mod arn;
pub mod aws_error;
mod aws_retry;
pub mod cache;
pub mod call;
pub mod columns;
pub mod config;
pub mod connection;
mod declare;
pub mod engine;
pub mod error;
pub mod escape;
pub mod exec;
pub mod functions;
pub mod http_client;
pub mod http_retry;
pub mod join_keys;
pub mod keys;
pub mod metrics;
pub mod origin;
pub mod paging;
pub mod private_file;
pub mod probe_side;
pub mod provider;
pub mod query_memo;
pub mod registry;
pub mod rows;
mod scan_pages;
mod scan_plan;
pub mod secret;
pub mod shared_scans;
pub mod sink;
pub mod spec;
pub mod table;
pub mod target_columns;
pub mod throttle;

pub use config::Config;
pub use connection::{AwsConnection, Connections};
pub use engine::{Engine, SessionHook, TARGET_PARTITIONS_VAR, new_context, session_config};
pub use error::{Error, Result};
pub use keys::KeyValues;
pub use metrics::{ApiCounters, AttemptCounter, ScanMetrics};
pub use registry::{Registry, View};
pub use rows::micros;
pub use spec::{ColumnSpec, Key, Scope, TableSpec};
pub use table::{ApiTable, FetchContext};
