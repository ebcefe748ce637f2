//! `[[kubernetes]]` (clusters whose pods count as users of images) and
//! `[in_use]` (which sources the "in use" check reads, and how old a check
//! may be when a group of deletes relies on it).
//!
//! ```toml
//! [[kubernetes]]
//! kubeconfig = "~/.kube/config"   # optional: $KUBECONFIG, else ~/.kube/config
//! contexts = ["prod-eks", "staging-eks"]   # optional: the current context
//!
//! [in_use]
//! sources = ["ecs", "ecs_schedules", "lambda", "batch", "apprunner", "kubernetes"]
//! max_age_seconds = 60   # re-check a group whose check is older; 0: before every group
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// One `[[kubernetes]]` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KubernetesEntry {
    /// The kubeconfig file; default `$KUBECONFIG`, else `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Contexts to read; default the kubeconfig's current context.
    pub contexts: Option<Vec<String>>,
}

impl KubernetesEntry {
    /// Makes a relative kubeconfig path relative to the config file's directory
    /// and expands a leading `~/`.
    pub(crate) fn resolve(&mut self, base: &Path) {
        if let Some(path) = self.kubeconfig.as_mut() {
            if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), dirs_home()) {
                *path = home.join(rest);
            } else if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// What the task definition check reports as "not checked" whatever
/// `[in_use]` says: skyglue reads no Step Functions state machines, whose
/// `ecs:runTask` states can name a revision.
pub const STEP_FUNCTIONS: &str = "step_functions";

/// The sources checked when `[in_use] sources` is not set: what every AWS
/// account can answer. Each is one of the sources the table crates declare
/// (`Registry::in_use_source`; the AWS crate's tests check these names).
pub const DEFAULT_SOURCES: [&str; 4] = ["ecs", "ecs_schedules", "lambda", "batch"];

/// The source that counts the configured Kubernetes contexts' pods and
/// workloads; checked by default when a `[[kubernetes]]` entry exists.
pub const KUBERNETES: &str = "kubernetes";

/// The `[in_use]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InUseSection {
    /// Sources to check, by name; default [`DEFAULT_SOURCES`], plus
    /// `kubernetes` when a `[[kubernetes]]` entry exists. The names are
    /// checked against the sources the registry declares when an engine is
    /// built from the config (`Engine::from_config`).
    pub sources: Option<Vec<String>>,
    /// How old (in seconds, from its start) the check a group of deletes
    /// relies on may be: an older one is re-run on the group right before
    /// its deletes. Default [`DEFAULT_MAX_AGE_SECONDS`]; 0 re-checks before
    /// every group. Signed so a negative value is refused by name.
    pub max_age_seconds: Option<i64>,
}

/// `[in_use] max_age_seconds` when it is not set.
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 60;

/// The largest `[in_use] max_age_seconds` (a day): a check older than that
/// says little about what runs now.
pub const MAX_MAX_AGE_SECONDS: i64 = 86_400;

/// The sources an "in use" check reads, by name, and how old a check may be
/// when a group of deletes relies on it. Which sources exist, and in which
/// order reports list them, is the table crates' to say (the AWS crate's
/// services declare theirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUseSources {
    checked: Vec<String>,
    max_age: Duration,
}

impl Default for InUseSources {
    /// [`DEFAULT_SOURCES`].
    fn default() -> Self {
        Self::new(DEFAULT_SOURCES)
    }
}

impl InUseSources {
    /// Exactly these sources, with the default maximum age.
    pub fn new<S: Into<String>>(checked: impl IntoIterator<Item = S>) -> Self {
        let mut checked: Vec<String> = checked.into_iter().map(Into::into).collect();
        checked.sort();
        checked.dedup();
        Self { checked, max_age: Duration::from_secs(DEFAULT_MAX_AGE_SECONDS) }
    }

    /// The same sources; a check older than `max_age` is re-run before a
    /// group of deletes relies on it (zero: before every group).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How old the check a group of deletes relies on may be (`[in_use]
    /// max_age_seconds`).
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// What `[in_use]` says, or the default for a config with or without
    /// `[[kubernetes]]` entries.
    pub fn from_config(section: &InUseSection, kubernetes_configured: bool) -> Self {
        let sources = match &section.sources {
            Some(sources) => Self::new(sources.clone()),
            None => {
                let mut s: Vec<String> = DEFAULT_SOURCES.map(String::from).to_vec();
                if kubernetes_configured {
                    s.push(KUBERNETES.to_string());
                }
                Self::new(s)
            }
        };
        // `validate` refused what is out of range; clamp anyway, never panic.
        match section.max_age_seconds {
            Some(seconds) => {
                sources.with_max_age(Duration::from_secs(seconds.clamp(0, MAX_MAX_AGE_SECONDS) as u64))
            }
            None => sources,
        }
    }

    /// Whether the source named `source` is checked.
    pub fn checks(&self, source: &str) -> bool {
        self.checked.iter().any(|s| s == source)
    }

    /// The names of the sources checked, sorted by name.
    pub fn checked(&self) -> &[String] {
        &self.checked
    }

    /// The sources of `known` (in its order: the order reports list them)
    /// that are not checked.
    pub fn not_checked_of(&self, known: &[&str]) -> Vec<String> {
        known.iter().filter(|s| !self.checks(s)).map(|s| s.to_string()).collect()
    }

    /// The first listed source not among `known`, if any.
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Option<&'a str> {
        self.checked.iter().map(String::as_str).find(|s| !known.contains(s))
    }
}

/// Checks `[in_use]` against `[[kubernetes]]`.
pub(crate) fn validate(section: &InUseSection, kubernetes: &[KubernetesEntry], origin: &str) -> Result<()> {
    if let Some(seconds) = section.max_age_seconds
        && !(0..=MAX_MAX_AGE_SECONDS).contains(&seconds)
    {
        return Err(Error::Config(format!(
            "{origin}: [in_use] max_age_seconds is {seconds}: it must be a whole number of seconds from 0 \
             (re-check before every group of deletes) to {MAX_MAX_AGE_SECONDS} (a day); the default is \
             {DEFAULT_MAX_AGE_SECONDS}"
        )));
    }
    if let Some(sources) = &section.sources {
        if sources.is_empty() {
            return Err(Error::Config(format!(
                "{origin}: [in_use] sources is empty: nothing would count as in use; list at least \"ecs\""
            )));
        }
        if sources.iter().any(|s| s == KUBERNETES) && kubernetes.is_empty() {
            return Err(Error::Config(format!(
                "{origin}: [in_use] sources lists \"kubernetes\" but there is no [[kubernetes]] entry"
            )));
        }
    }
    for (i, entry) in kubernetes.iter().enumerate() {
        if entry.contexts.as_ref().is_some_and(|c| c.is_empty() || c.iter().any(|c| c.trim().is_empty())) {
            return Err(Error::Config(format!(
                "{origin}: [[kubernetes]] entry {} has an empty contexts list or an empty context name",
                i + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_counts_by_default_only_when_configured() {
        let none = InUseSources::from_config(&InUseSection::default(), false);
        assert_eq!(none.checked(), &["batch", "ecs", "ecs_schedules", "lambda"]);
        assert!(!none.checks(KUBERNETES) && !none.checks("apprunner"));
        let with = InUseSources::from_config(&InUseSection::default(), true);
        assert!(with.checks(KUBERNETES));
        let listed = InUseSources::from_config(
            &InUseSection {
                sources: Some(vec!["apprunner".into(), "ecs".into(), "ecs".into()]),
                ..Default::default()
            },
            true,
        );
        assert_eq!(listed.checked(), &["apprunner", "ecs"]);
        assert_eq!(listed.unknown(&["ecs", "apprunner"]), None);
        assert_eq!(listed.unknown(&["ecs"]), Some("apprunner"));
    }

    #[test]
    fn max_age_defaults_to_a_minute_and_zero_means_every_group() {
        let default = InUseSources::from_config(&InUseSection::default(), false);
        assert_eq!(default.max_age(), Duration::from_secs(60));
        let zero: InUseSection = toml::from_str("max_age_seconds = 0").unwrap_or_default();
        assert_eq!(zero.max_age_seconds, Some(0));
        assert_eq!(InUseSources::from_config(&zero, false).max_age(), Duration::ZERO);
        assert!(validate(&zero, &[], "skyglue.toml").is_ok());
    }

    #[test]
    fn a_bad_max_age_is_a_config_error_naming_the_key() {
        for bad in [-1, MAX_MAX_AGE_SECONDS + 1] {
            let section = InUseSection { max_age_seconds: Some(bad), ..Default::default() };
            let err =
                validate(&section, &[], "skyglue.toml").err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("skyglue.toml") && err.contains("[in_use] max_age_seconds"), "{err}");
        }
        for text in ["max_age_seconds = \"soon\"", "max_age_seconds = 1.5"] {
            let err = toml::from_str::<InUseSection>(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("max_age_seconds"), "{text}: {err}");
        }
    }
}
