//! skyglue's policy runner.
//!
//! A policy is a `.sql` file: a header (`@name`, `@action`, `@max_deletes`,
//! `@param`, ...) and one query whose rows are the resources to act on. The
//! [`Runner`] validates and plans it, runs the query, applies the guardrails
//! (max_deletes, then the sink's own fresh check: each row resolved to one
//! resource, anything in use kept), feeds the rest to the action's sink unless
//! it is a dry run, journals every step, and produces a [`Report`] and a
//! notification. The runner knows no cloud: what "in use" means belongs to
//! each sink ([`skyglue_core::sink::Sink::check`]).

mod act;
mod crash;
pub mod error;
mod format;
pub mod header;
pub mod history;
pub mod interrupt;
pub mod journal;
pub mod lock;
pub mod notify;
pub mod params;
pub mod progress;
pub mod report;
pub mod restore;
pub mod rows;
pub mod runner;
pub mod slack;
pub mod stage;
pub mod staleness;
pub mod team;

pub use error::Error;
pub use header::{NotifyTarget, PolicyFile};
pub use interrupt::Interrupt;
pub use journal::{Journal, JournalTable};
pub use lock::Locks;
pub use notify::Notifier;
pub use report::{Mode, Report, RunStatus};
pub use runner::{Prepared, RunOptions, RunOutcome, Runner};
pub use slack::notify_failure;
pub use stage::{Stage, StageObserver};
pub use team::TeamTable;
