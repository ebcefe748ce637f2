//! Policy locks: two skyglue processes (two cron hosts, a person and the
//! scheduler) never act on the same policy at once.
//!
//! An applying run takes its policy's lock before it plans anything; a dry
//! run takes none (it changes nothing, and must never keep a scheduled apply
//! from running). Two locks, both held for the whole run:
//!
//! - always, a file lock in the state directory (`locks/<policy>.lock`, an
//!   OS advisory lock, released by the OS when the process dies), with the
//!   [`Owner`] written inside so the loser can say who holds it;
//! - with `[state] dynamodb_table`, a lease in the team table
//!   ([`dynamodb`]): taken with a conditional put, extended by a heartbeat
//!   every third of the lease, released at the end, and taken over by
//!   another host only once it has expired. A run whose lease is lost (or
//!   cannot be renewed before it would expire) is interrupted. Each
//!   acquisition gets a fence number, written with every journal entry of
//!   the run, and before each delete batch the run checks that the lease is
//!   still its own with a third of it to spare, or stops before that call
//!   ([`dynamodb::LeaseGuard`]).
//!
//! A run that cannot take the lock fails with [`Error::Locked`], naming the
//! holder.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::team::TeamTable;

pub mod dynamodb;

/// How long a DynamoDB lease lasts without a heartbeat.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The host's name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The run.
    pub run_id: String,
    /// When the run took the lock, RFC 3339 UTC.
    pub started: String,
}

impl Owner {
    /// This process, for `run_id`, now.
    pub fn current(run_id: &str) -> Self {
        Owner {
            host: hostname(),
            pid: std::process::id(),
            run_id: run_id.into(),
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// A unique id: `host/pid/run_id`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.host, self.pid, self.run_id)
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "run {} (host {}, pid {}, since {})", self.run_id, self.host, self.pid, self.started)
    }
}

/// Where locks are taken: the state directory, and the team table when configured.
#[derive(Debug, Clone)]
pub struct Locks {
    dir: PathBuf,
    team: Option<TeamTable>,
    lease: Duration,
}

impl Locks {
    /// File locks under `state_dir/locks`.
    pub fn new(state_dir: &Path) -> Self {
        Self { dir: state_dir.join("locks"), team: None, lease: DEFAULT_LEASE }
    }

    /// Also a lease in the team table.
    pub fn with_team(mut self, team: TeamTable) -> Self {
        self.team = Some(team);
        self
    }

    /// The lease's length (default [`DEFAULT_LEASE`]).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Takes `policy`'s lock for `owner`. While held, a lost lease raises
    /// `interrupt`. Fails with [`Error::Locked`] when someone else holds it.
    pub async fn acquire(&self, policy: &str, owner: &Owner, interrupt: &Interrupt) -> Result<Held> {
        let file = FileLock::acquire(&self.dir, policy, owner)?;
        let lease = match &self.team {
            Some(team) => Some(
                dynamodb::Lease::acquire(team.clone(), policy, owner, self.lease, interrupt.clone()).await?,
            ),
            None => None,
        };
        Ok(Held { file, lease })
    }
}

/// A held lock; [`Held::release`] gives it back (dropping it releases the
/// file lock and stops the heartbeat, leaving the lease to expire).
#[derive(Debug)]
pub struct Held {
    file: FileLock,
    lease: Option<dynamodb::Lease>,
}

impl Held {
    /// What the run checks before each call, when the lock has a lease.
    pub fn lease_guard(&self) -> Option<dynamodb::LeaseGuard> {
        self.lease.as_ref().map(|l| l.guard().clone())
    }

    /// Releases the lease (if any) and the file lock.
    pub async fn release(self) -> Result<()> {
        let Held { file, lease } = self;
        let result = match lease {
            Some(lease) => lease.release().await,
            None => Ok(()),
        };
        file.release();
        result
    }
}

/// An OS file lock with its owner written inside.
#[derive(Debug)]
struct FileLock {
    file: File,
}

impl FileLock {
    fn acquire(dir: &Path, policy: &str, owner: &Owner) -> Result<Self> {
        skyglue_core::private_file::create_dir_all(dir)
            .map_err(|source| Error::StateDir { path: dir.to_path_buf(), source })?;
        let path = dir.join(format!("{}.lock", file_name(policy)));
        let io = |source| Error::LockIo { path: path.clone(), source };
        let mut file = skyglue_core::private_file::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        skyglue_core::private_file::restrict(&file).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str::<Owner>(&text)
                    .map(|o| o.to_string())
                    .unwrap_or_else(|_| format!("another process (lock file {})", path.display()));
                return Err(Error::Locked { policy: policy.into(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let text = serde_json::to_string(owner).map_err(Error::Encode)?;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(io)?;
        Ok(Self { file })
    }

    fn release(self) {
        // Emptied first, so a reader that wins the race finds no stale owner.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// A policy name as a file name: anything but `[A-Za-z0-9._-]` becomes `_`.
fn file_name(policy: &str) -> String {
    let name: String = policy
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with('.') { format!("_{name}") } else { name }
}

/// This host's name (Linux's `/proc`, else `$HOSTNAME`, else `unknown-host`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_second_taker_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().expect("tmp");
        let locks = Locks::new(dir.path());
        let first = Owner::current("run-1");
        let held = locks.acquire("ecr cleanup", &first, &Interrupt::default()).await.expect("first");
        let err = locks.acquire("ecr cleanup", &Owner::current("run-2"), &Interrupt::default()).await;
        let message = err.expect_err("held").to_string();
        assert!(message.contains("run-1") && message.contains(&first.host), "{message}");
        assert!(message.contains("ecr cleanup is locked"), "{message}");
        // Another policy is not affected.
        let other = locks.acquire("other", &Owner::current("run-3"), &Interrupt::default()).await;
        assert!(other.is_ok());
        held.release().await.expect("release");
        let again = locks.acquire("ecr cleanup", &Owner::current("run-4"), &Interrupt::default()).await;
        assert!(again.is_ok(), "released");
    }

    #[test]
    fn policy_names_make_safe_file_names() {
        assert_eq!(file_name("ecr-cleanup"), "ecr-cleanup");
        assert_eq!(file_name("../x y"), "_.._x_y");
        assert_eq!(file_name(""), "_");
    }
}
