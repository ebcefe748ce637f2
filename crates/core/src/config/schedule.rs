//! The `[[schedule]]` entries and the `[state]` table of `skyglue.toml`.
//!
//! ```toml
//! [[schedule]]
//! policy = "queries/ecr_cleanup.sql"   # relative to the config file's directory
//! cron = "0 3 * * *"                   # 5 fields, or 6 with seconds first
//! timezone = "Europe/Paris"            # IANA name; default UTC
//! apply = false                        # default: a dry run
//! params = { max_age_days = 30 }       # like --param max_age_days=30
//! jitter_seconds = 300                 # a random delay in [0, 300] s; default 0
//! notify = "slack"                     # or "none"; default: the policy's @notify
//!
//! [state]
//! dir = "/var/lib/skyglue"             # default: the user's state directory
//! dynamodb_table = "skyglue-state"     # optional: team-wide locks and journal
//! dynamodb_region = "us-east-1"        # optional: default the first connection's region
//! ```
//!
//! Cron expressions and time zones are checked when the file loads, so a typo
//! fails `skyglue schedule` at start, naming the entry, not at 3 a.m.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// One `[[schedule]]` entry: a policy run on a cron.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    /// The policy file; a relative path is relative to the config file's directory.
    pub policy: PathBuf,
    /// A 5-field cron expression, or 6 fields with seconds first.
    pub cron: String,
    /// The IANA time zone the cron is read in; default `UTC`.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Act on the rows (`--apply`); default false, a dry run.
    #[serde(default)]
    pub apply: bool,
    /// Parameter overrides, passed like `--param NAME=VALUE`.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// A random delay in `[0, jitter_seconds]` before each run; default 0.
    #[serde(default)]
    pub jitter_seconds: u64,
    /// Overrides the policy's `@notify`, like `--notify`.
    pub notify: Option<NotifyChoice>,
}

/// `notify = "slack" | "none"` of a `[[schedule]]` entry.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChoice {
    /// Notify Slack.
    Slack,
    /// Send no notification.
    None,
}

/// The `[state]` table: where runs leave their journal, schedule state and locks.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// The state directory; default `$SKYGLUE_STATE_DIR`, else the user's state directory.
    pub dir: Option<PathBuf>,
    /// A DynamoDB table for team-wide locks and the shared journal.
    pub dynamodb_table: Option<String>,
    /// The DynamoDB table's region; default the first AWS connection's region.
    pub dynamodb_region: Option<String>,
}

fn utc() -> String {
    "UTC".into()
}

impl ScheduleEntry {
    /// The parsed cron expression (5 fields, or 6 with seconds first).
    pub fn parsed_cron(&self) -> Result<croner::Cron> {
        croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .year(croner::parser::Year::Disallowed)
            .build()
            .parse(&self.cron)
            .map_err(|e| Error::Config(format!("bad cron expression {:?}: {e}", self.cron)))
    }

    /// The parsed time zone.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz> {
        self.timezone.parse().map_err(|_| {
            Error::Config(format!(
                "unknown time zone {:?} (use an IANA name such as \"Europe/Paris\")",
                self.timezone
            ))
        })
    }

    /// The parameter overrides as `NAME=VALUE`, in name order.
    pub fn param_overrides(&self) -> Vec<String> {
        let value = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.params.iter().map(|(k, v)| format!("{k}={}", value(v))).collect()
    }

    /// Checks the cron, the time zone and the parameter types; errors name the entry.
    pub(crate) fn validate(&self, origin: &str, index: usize) -> Result<()> {
        let name = format!("{origin}: [[schedule]] #{} ({})", index + 1, self.policy.display());
        let named = |e: Error| match e {
            Error::Config(m) => Error::Config(format!("{name}: {m}")),
            other => other,
        };
        self.parsed_cron().map_err(named)?;
        self.time_zone().map_err(named)?;
        for (key, v) in &self.params {
            if !matches!(
                v,
                toml::Value::Integer(_)
                    | toml::Value::Float(_)
                    | toml::Value::String(_)
                    | toml::Value::Boolean(_)
            ) {
                return Err(Error::Config(format!(
                    "{name}: parameter {key:?} must be an integer, a float, a string or a boolean, not a {}",
                    v.type_str()
                )));
            }
        }
        Ok(())
    }

    /// Makes a relative policy path relative to `base` (the config file's directory).
    pub(crate) fn resolve(&mut self, base: &Path) {
        if self.policy.is_relative() {
            self.policy = base.join(&self.policy);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn parse(text: &str) -> crate::Result<Config> {
        Config::parse(text, "skyglue.toml")
    }

    #[test]
    fn parses_a_full_entry_and_state() {
        let c = parse(
            r#"
            [[schedule]]
            policy = "queries/ecr_cleanup.sql"
            cron = "0 3 * * *"
            timezone = "Europe/Paris"
            apply = true
            params = { max_age_days = 30, ratio = 0.5, repo = "web", strict = true }
            jitter_seconds = 300
            notify = "none"

            [state]
            dir = "/var/lib/skyglue"
            dynamodb_table = "skyglue-state"
            dynamodb_region = "eu-west-1"
            "#,
        )
        .expect("valid");
        let e = &c.schedule[0];
        assert_eq!(e.time_zone().expect("tz"), chrono_tz::Europe::Paris);
        assert_eq!(e.param_overrides(), ["max_age_days=30", "ratio=0.5", "repo=web", "strict=true"]);
        assert_eq!(e.notify, Some(super::NotifyChoice::None));
        assert_eq!(c.state.dynamodb_table.as_deref(), Some("skyglue-state"));
        assert_eq!(c.state.dynamodb_region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn defaults_are_utc_dry_run_no_jitter() {
        let c = parse("[[schedule]]\npolicy = \"p.sql\"\ncron = \"*/5 * * * * *\"\n").expect("6 fields");
        let e = &c.schedule[0];
        assert_eq!((e.timezone.as_str(), e.apply, e.jitter_seconds, e.notify), ("UTC", false, 0, None));
        assert_eq!(c.state, super::StateSection::default());
    }

    #[test]
    fn bad_cron_names_the_entry_and_the_expression() {
        let err = parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 3 * *\"\n").expect_err("4 fields");
        let msg = err.to_string();
        assert!(msg.contains("[[schedule]] #1 (a.sql)") && msg.contains("\"0 3 * *\""), "{msg}");
        let err = parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 0 3 * * * 2030\"\n").expect_err("year");
        assert!(err.to_string().contains("0 0 3 * * * 2030"), "{err}");
    }

    #[test]
    fn bad_time_zone_and_param_type_are_named() {
        let err =
            parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 3 * * *\"\ntimezone = \"Mars/Olympus\"\n")
                .expect_err("tz");
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
        let err = parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 3 * * *\"\nparams = { days = [1] }\n")
            .expect_err("array");
        assert!(err.to_string().contains("\"days\"") && err.to_string().contains("array"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 3 * * *\"\njiter_seconds = 3\n")
            .expect_err("typo");
        assert!(err.to_string().contains("jiter_seconds"), "{err}");
        let err = parse("[state]\ndynamo_table = \"t\"\n").expect_err("typo");
        assert!(err.to_string().contains("dynamo_table"), "{err}");
        let err = parse("[[schedule]]\npolicy = \"a.sql\"\ncron = \"0 3 * * *\"\nnotify = \"email\"\n")
            .expect_err("notify");
        assert!(err.to_string().contains("email"), "{err}");
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let dir = std::env::temp_dir().join(format!("skyglue-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("skyglue.toml");
        std::fs::write(
            &file,
            "[[schedule]]\npolicy = \"q/p.sql\"\ncron = \"0 3 * * *\"\n[state]\ndir = \"st\"\n",
        )
        .expect("write");
        let c = Config::from_file(&file).expect("loads");
        assert_eq!(c.schedule[0].policy, dir.join("q/p.sql"));
        assert_eq!(c.state.dir, Some(dir.join("st")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
