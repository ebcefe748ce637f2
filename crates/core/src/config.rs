//! `skyglue.toml`: which AWS accounts and regions, GitHub and Slack to use.
//!
//! The file is found as `--config FILE`, else `$SKYGLUE_CONFIG`, else
//! `./skyglue.toml`; with none, skyglue uses the standard AWS chain and the
//! `GITHUB_*` / `SLACK_*` environment variables. Unknown keys are an error that
//! names the key, so a typo never silently drops an account.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result, one_line};

mod cluster;
mod engine;
mod in_use;
mod schedule;

pub use engine::{ByteSize, EngineSection};

pub use cluster::{ClusterSection, ClusterTls, DEFAULT_MAX_PLAN_BYTES, DEFAULT_TOKEN_VAR};
pub use in_use::{DEFAULT_SOURCES, InUseSection, InUseSources, KUBERNETES, KubernetesEntry, STEP_FUNCTIONS};
pub use schedule::{NotifyChoice, ScheduleEntry, StateSection};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// One entry per AWS account (or profile, or role).
    #[serde(default)]
    pub aws: Vec<AwsEntry>,
    /// GitHub settings.
    #[serde(default)]
    pub github: GithubSection,
    /// Slack settings.
    #[serde(default)]
    pub slack: SlackSection,
    /// Policies `skyglue schedule` runs on a cron.
    #[serde(default)]
    pub schedule: Vec<ScheduleEntry>,
    /// Where runs keep their journal, schedule state and locks.
    #[serde(default)]
    pub state: StateSection,
    /// Kubernetes clusters (kubeconfig contexts) whose pods use images.
    #[serde(default)]
    pub kubernetes: Vec<KubernetesEntry>,
    /// Which sources count when deciding whether an image is in use.
    #[serde(default)]
    pub in_use: InUseSection,
    /// Declared REST tables (`[[table]]`), read by `skyglue-rest` from
    /// [`Config::source`] so its errors can name the line.
    #[serde(default)]
    pub table: Vec<toml::Value>,
    /// A directory of declared-table files (`*.toml`, each with `[[table]]`
    /// entries); relative to the config file.
    pub tables_dir: Option<PathBuf>,
    /// The text this configuration was parsed from, and where it came from.
    #[serde(skip)]
    pub source: Option<ConfigSource>,
    /// Workers that `query` and `run` spread scans over.
    #[serde(default)]
    pub cluster: ClusterSection,
    /// The query engine's own settings (its memory limit).
    #[serde(default)]
    pub engine: EngineSection,
}

/// A configuration's text and its origin (a file name), kept for readers
/// that report file and line (declared tables).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigSource {
    /// The file name (or other origin) errors show.
    pub origin: String,
    /// The TOML text.
    pub text: String,
}

impl Config {
    /// The sources the "in use" check reads, with this config's defaults.
    pub fn in_use_sources(&self) -> InUseSources {
        InUseSources::from_config(&self.in_use, !self.kubernetes.is_empty())
    }
}

/// One `[[aws]]` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsEntry {
    /// The connection's name, used in error messages.
    pub name: String,
    /// Shared-config profile to start from.
    pub profile: Option<String>,
    /// A role assumed through STS on top of the profile's credentials.
    pub role_arn: Option<String>,
    /// Regions to query; default: the profile's region.
    pub regions: Option<Vec<String>>,
    /// An emulator's endpoint, e.g. `http://127.0.0.1:5000`.
    pub endpoint_url: Option<String>,
}

/// The `[github]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GithubSection {
    /// API base URL; default `$GITHUB_API_URL`, else `https://api.github.com`.
    pub api_url: Option<String>,
    /// Environment variable holding the token; default `GITHUB_TOKEN`.
    pub token_env: Option<String>,
    /// ECR repository name to the GitHub repository its images are built
    /// from: `repositories = { web = "acme/web" }` (readable as the table
    /// `github_repository_map`; an ECR repository tag `github_repository`
    /// does the same without config).
    #[serde(default)]
    pub repositories: std::collections::BTreeMap<String, String>,
}

/// The `[slack]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackSection {
    /// Environment variable holding the incoming-webhook URL; default `SLACK_WEBHOOK_URL`.
    pub webhook_url_env: Option<String>,
    /// Environment variable holding a bot token for `chat.postMessage`.
    pub bot_token_env: Option<String>,
    /// Channel for `chat.postMessage`.
    pub channel: Option<String>,
}

impl Config {
    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{origin}: {}", one_line(&e.to_string()))))?;
        config.validate(origin)?;
        config.source = Some(ConfigSource { origin: origin.to_string(), text: text.to_string() });
        Ok(config)
    }

    /// Reads a config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("failed to read {}: {e}", path.display())))?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.schedule.iter_mut().for_each(|e| e.resolve(base));
        config.kubernetes.iter_mut().for_each(|e| e.resolve(base));
        config.cluster.resolve(base);
        if let Some(dir) = config.state.dir.as_mut().filter(|d| d.is_relative()) {
            *dir = base.join(&*dir);
        }
        if let Some(dir) = config.tables_dir.as_mut().filter(|d| d.is_relative()) {
            *dir = base.join(&*dir);
        }
        Ok(config)
    }

    /// Finds and loads the configuration: `explicit`, else `$SKYGLUE_CONFIG`,
    /// else `./skyglue.toml`, else the defaults. Returns the file used, if any.
    pub fn discover(explicit: Option<&Path>) -> Result<(Option<PathBuf>, Self)> {
        let chosen = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => match std::env::var_os("SKYGLUE_CONFIG") {
                Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
                _ => Some(PathBuf::from("skyglue.toml")).filter(|p| p.exists()),
            },
        };
        match chosen {
            Some(path) => {
                let config = Self::from_file(&path)?;
                Ok((Some(path), config))
            }
            None => Ok((None, Config::default())),
        }
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let mut names = std::collections::HashSet::new();
        for entry in &self.aws {
            if entry.name.trim().is_empty() {
                return Err(Error::Config(format!("{origin}: an [[aws]] entry has an empty name")));
            }
            if !names.insert(entry.name.as_str()) {
                return Err(Error::Config(format!(
                    "{origin}: two [[aws]] entries are named {:?}",
                    entry.name
                )));
            }
            if entry.regions.as_ref().is_some_and(|r| r.is_empty()) {
                return Err(Error::Config(format!(
                    "{origin}: [[aws]] {:?} has an empty regions list",
                    entry.name
                )));
            }
        }
        for (i, entry) in self.schedule.iter().enumerate() {
            entry.validate(origin, i)?;
        }
        self.cluster.validate(origin)?;
        in_use::validate(&self.in_use, &self.kubernetes, origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = Config::parse(
            r#"
            [[aws]]
            name = "prod"
            profile = "prod"
            role_arn = "arn:aws:iam::111111111111:role/skyglue-read"
            regions = ["us-east-1", "us-west-2"]
            endpoint_url = "http://127.0.0.1:5000"

            [github]
            api_url = "https://api.github.com"
            token_env = "GITHUB_TOKEN"
            repositories = { web = "acme/web", api = "acme/api" }

            [slack]
            webhook_url_env = "SLACK_WEBHOOK_URL"
            "#,
            "test",
        )
        .expect("valid");
        assert_eq!(c.aws.len(), 1);
        assert_eq!(c.github.repositories.get("web").map(String::as_str), Some("acme/web"));
        assert_eq!(
            c.aws[0].regions.as_deref(),
            Some(&["us-east-1".to_string(), "us-west-2".to_string()][..])
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::parse("[[aws]]\nname = \"a\"\nregion = \"us-east-1\"\n", "skyglue.toml")
            .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("region"), "{msg}");
        assert!(msg.contains("skyglue.toml"), "{msg}");
    }

    #[test]
    fn cluster_workers_parse_and_an_unknown_cluster_key_is_named() {
        let c =
            Config::parse("[cluster]\nworkers = [\"10.0.0.1:50051\", \"w2:50051\"]\n", "f").expect("valid");
        assert_eq!(c.cluster.workers, ["10.0.0.1:50051", "w2:50051"]);
        let err =
            Config::parse("[cluster]\nworker = [\"10.0.0.1:50051\"]\n", "skyglue.toml").expect_err("typo");
        assert!(err.to_string().contains("worker"), "{err}");
    }

    #[test]
    fn duplicate_names_rejected() {
        let err = Config::parse("[[aws]]\nname = \"a\"\n[[aws]]\nname = \"a\"\n", "f").expect_err("dup");
        assert!(err.to_string().contains("\"a\""));
    }
}
