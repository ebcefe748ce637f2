//! One scheduled policy, ready to run: its cron parsed, its time zone known,
//! and the arithmetic of its fire times.
//!
//! Fire times are computed in the entry's time zone (so `0 3 * * *` in
//! `Europe/Paris` is 03:00 Paris time in winter and in summer, with croner's
//! documented handling of the DST gap and overlap) and kept as UTC instants.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use skyglue_core::config::{NotifyChoice, ScheduleEntry};
use skyglue_policy::PolicyFile;

/// A `[[schedule]]` entry, checked and parsed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What logs call it: the policy's `@name`, else its file stem.
    pub label: String,
    /// The key of its state in `schedule-state.json`: the policy path and the cron.
    pub key: String,
    /// The policy file.
    pub policy: PathBuf,
    /// The cron expression as written.
    pub cron_text: String,
    cron: croner::Cron,
    /// The time zone the cron is read in.
    pub tz: Tz,
    /// `--apply`.
    pub apply: bool,
    /// `--param NAME=VALUE` overrides.
    pub params: Vec<String>,
    /// The largest random delay before a run.
    pub jitter: Duration,
    /// `--notify`, when the entry overrides the policy's `@notify`.
    pub notify: Option<NotifyChoice>,
}

impl Entry {
    /// Builds an entry from its config (already validated when the file loaded).
    pub fn from_config(e: &ScheduleEntry) -> skyglue_core::Result<Entry> {
        let stem = e.policy.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        // A policy that does not read is still scheduled: each run reports the error.
        let label = PolicyFile::read(&e.policy).map(|p| p.name).unwrap_or(stem);
        Ok(Entry {
            label,
            key: format!("{} {}", e.policy.display(), e.cron),
            policy: e.policy.clone(),
            cron_text: e.cron.clone(),
            cron: e.parsed_cron()?,
            tz: e.time_zone()?,
            apply: e.apply,
            params: e.param_overrides(),
            jitter: Duration::from_secs(e.jitter_seconds),
            notify: e.notify,
        })
    }

    /// The first fire time strictly after `t`, if the cron has one.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t.with_timezone(&self.tz), false).ok().map(|d| d.with_timezone(&Utc))
    }

    /// The latest fire time at or before `t`, if the cron has one.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.tz), true)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The next `n` fire times after `t`, in the entry's time zone.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::with_capacity(n);
        let mut cursor = t;
        while out.len() < n {
            let Some(next) = self.next_after(cursor) else { break };
            out.push(next.with_timezone(&self.tz));
            cursor = next;
        }
        out
    }

    /// The mode word of the log line.
    pub fn mode(&self) -> &'static str {
        if self.apply { "apply" } else { "dry_run" }
    }
}
