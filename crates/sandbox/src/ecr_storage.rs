//! An ECR image's storage class, as the sandbox models it: ACTIVE (standard
//! storage), ARCHIVED (moved by UpdateImageStorageClass to ARCHIVE: listed and
//! described, never pulled), and ACTIVATING (a restore in progress, still not
//! pullable) that becomes ACTIVE once its restore time has passed.
//!
//! ECR restores within about 20 minutes; the sandbox takes
//! [`SandboxConfig::ecr_restore_delay`](crate::SandboxConfig::ecr_restore_delay).
//! The state is read against the clock each time it is looked at, so no
//! background task moves it along.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an image is stored, and when it last moved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    /// Standard, archived, or being restored.
    #[serde(default)]
    pub state: StorageState,
    /// When it was last moved to the archive (`lastArchivedAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_archived_at: Option<DateTime<Utc>>,
    /// When a restore last completed (`lastActivatedAt`), or completes, for a
    /// restore in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activated_at: Option<DateTime<Utc>>,
}

/// The storage states an image moves through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageState {
    /// Standard storage (or a restore whose time has passed).
    #[default]
    Active,
    /// The archive storage class.
    Archived,
    /// Restoring: active from `last_activated_at` on.
    Activating,
}

impl Storage {
    /// Whether this is the default (an active image never archived), for serde.
    pub fn is_default(&self) -> bool {
        *self == Storage::default()
    }

    /// ECR's `imageStatus` at `now`: `ACTIVE`, `ARCHIVED` or `ACTIVATING`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        match self.state {
            StorageState::Active => "ACTIVE",
            StorageState::Archived => "ARCHIVED",
            StorageState::Activating if self.last_activated_at.is_some_and(|t| t <= now) => "ACTIVE",
            StorageState::Activating => "ACTIVATING",
        }
    }

    /// `lastActivatedAt` as ECR reports it at `now`: a restore in progress
    /// has not activated yet.
    pub fn activated_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.state {
            StorageState::Activating => self.last_activated_at.filter(|t| *t <= now),
            _ => self.last_activated_at,
        }
    }

    /// Moves an active image to the archive at `now`; an image that is not
    /// active is refused with the reason.
    pub fn archive(&mut self, now: DateTime<Utc>) -> Result<(), String> {
        match self.status(now) {
            "ACTIVE" => {
                self.last_activated_at = self.activated_at(now);
                self.state = StorageState::Archived;
                self.last_archived_at = Some(now);
                Ok(())
            }
            status => Err(format!("the image is {status}; only an ACTIVE image can be archived")),
        }
    }

    /// Starts restoring an archived image at `now`, active after `delay`; an
    /// image that is not archived is refused with the reason.
    pub fn restore(&mut self, now: DateTime<Utc>, delay: std::time::Duration) -> Result<(), String> {
        match self.status(now) {
            "ARCHIVED" => {
                let delay = chrono::Duration::from_std(delay).unwrap_or_default();
                self.state = StorageState::Activating;
                self.last_activated_at = Some(now + delay);
                Ok(())
            }
            status => Err(format!("the image is {status}; only an ARCHIVED image can be restored")),
        }
    }

    /// Whether the image can be pulled (BatchGetImage) at `now`.
    pub fn pullable(&self, now: DateTime<Utc>) -> bool {
        self.status(now) == "ACTIVE"
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_image_is_archived_then_restored_through_activating() {
        let t0 = Utc::now();
        let mut s = Storage::default();
        assert_eq!(s.status(t0), "ACTIVE");
        s.archive(t0).expect("archive");
        assert_eq!((s.status(t0), s.last_archived_at), ("ARCHIVED", Some(t0)));
        assert!(!s.pullable(t0));
        assert!(s.archive(t0).is_err_and(|e| e.contains("ARCHIVED")), "archived twice");
        s.restore(t0, Duration::from_secs(60)).expect("restore");
        assert_eq!(s.status(t0), "ACTIVATING");
        assert_eq!(s.activated_at(t0), None, "not activated yet");
        assert!(s.restore(t0, Duration::ZERO).is_err(), "a restore in progress is not restored again");
        let later = t0 + chrono::Duration::seconds(61);
        assert_eq!(s.status(later), "ACTIVE");
        assert!(s.pullable(later));
        assert!(s.activated_at(later).is_some());
        assert!(s.restore(later, Duration::ZERO).is_err_and(|e| e.contains("ACTIVE")));
    }
}
