//! `\i POLICY.sql`: a policy file runs as a dry run, never for real.
//!
//! The REPL is for looking: `\i` shows what a policy would do and sends no
//! notification; `skyglue run --apply` is how a policy acts. The run is
//! journaled like any other (as a dry run). Its guardrails read the APIs
//! fresh, never the REPL's scan cache.

use std::path::Path;
use std::sync::Arc;

use skyglue_core::Engine;
use skyglue_policy::{Journal, RunOptions, Runner};

use crate::errors::usage;

/// Whether `text` is a policy: its leading comment block has `@action:`.
pub fn is_policy(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .any(|l| l.trim_start_matches('-').trim_start().starts_with("@action:"))
}

/// Dry-runs the policy at `path` with `params` (`NAME=VALUE`) and returns its
/// text report. A policy that does not validate is a usage error.
pub async fn dry_run(
    engine: Engine,
    state_dir: &Path,
    path: &Path,
    params: &[String],
) -> anyhow::Result<String> {
    let journal = Arc::new(Journal::open(state_dir)?);
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    let params = params
        .iter()
        .map(|p| skyglue_policy::params::split_override(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let options = RunOptions { apply: false, params, notify: Some(false) };
    let prepared = runner.prepare(path, &options).await.map_err(|e| usage(e.to_string()))?;
    let outcome = runner.run(prepared).await;
    let mut text = outcome.report.to_text();
    if let Some(e) = &outcome.report.error {
        text.push_str(&format!("error: {e}\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_has_an_action_in_its_header() {
        assert!(is_policy("-- @name: x\n--   @action: delete_ecr_images\nSELECT 1"));
        assert!(is_policy("\n-- @action: delete_ecr_images\nSELECT 1"));
        assert!(!is_policy("SELECT 1;\n-- @action: delete_ecr_images"));
        assert!(!is_policy("-- just a query\nSELECT 1;"));
    }
}
