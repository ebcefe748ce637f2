//! `[[kubernetes]]` (clusters whose pods count as users of images) and
//! `[in_use]` (which sources the "in use" check reads).
//!
//! ```toml
//! [[kubernetes]]
//! kubeconfig = "~/.kube/config"   # optional: $KUBECONFIG, else ~/.kube/config
//! contexts = ["prod-eks", "staging-eks"]   # optional: the current context
//!
//! [in_use]
//! sources = ["ecs", "ecs_schedules", "lambda", "batch", "apprunner", "kubernetes"]
//! ```

use std::path::{Path, PathBuf};

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
}

/// The sources an "in use" check reads, by name. Which sources exist, and in
/// which order reports list them, is the table crates' to say (the AWS
/// crate's services declare theirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUseSources {
    checked: Vec<String>,
}

impl Default for InUseSources {
    /// [`DEFAULT_SOURCES`].
    fn default() -> Self {
        Self::new(DEFAULT_SOURCES)
    }
}

impl InUseSources {
    /// Exactly these sources.
    pub fn new<S: Into<String>>(checked: impl IntoIterator<Item = S>) -> Self {
        let mut checked: Vec<String> = checked.into_iter().map(Into::into).collect();
        checked.sort();
        checked.dedup();
        Self { checked }
    }

    /// What `[in_use]` says, or the default for a config with or without
    /// `[[kubernetes]]` entries.
    pub fn from_config(section: &InUseSection, kubernetes_configured: bool) -> Self {
        match &section.sources {
            Some(sources) => Self::new(sources.clone()),
            None => {
                let mut s: Vec<String> = DEFAULT_SOURCES.map(String::from).to_vec();
                if kubernetes_configured {
                    s.push(KUBERNETES.to_string());
                }
                Self::new(s)
            }
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

    /// The first listed source not among `known`, if any.
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Option<&'a str> {
        self.checked.iter().map(String::as_str).find(|s| !known.contains(s))
    }
}

/// Checks `[in_use]` against `[[kubernetes]]`.
pub(crate) fn validate(section: &InUseSection, kubernetes: &[KubernetesEntry], origin: &str) -> Result<()> {
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
            &InUseSection { sources: Some(vec!["apprunner".into(), "ecs".into(), "ecs".into()]) },
            true,
        );
        assert_eq!(listed.checked(), &["apprunner", "ecs"]);
        assert_eq!(listed.unknown(&["ecs", "apprunner"]), None);
        assert_eq!(listed.unknown(&["ecs"]), Some("apprunner"));
    }
}
