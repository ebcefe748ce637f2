//! `skyglue report`: the journal (this machine's, and every host's in the
//! team table when `[state] dynamodb_table` is set) as one self-contained
//! HTML page: runs over time, what each repository reclaimed, the latest
//! failures.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use skyglue_core::Config;
use skyglue_policy::JournalTable;
use skyglue_policy::history::History;

/// Writes the page to `out` (`-`: stdout) and says where on stderr.
pub async fn command(config: Option<&Path>, state_dir: Option<&Path>, out: &Path) -> anyhow::Result<()> {
    let (_, config) = Config::discover(config)?;
    let dir = crate::run::state_dir(state_dir, &config);
    let journal = dir.join(skyglue_policy::journal::FILE_NAME);
    let mut table = JournalTable::new(&dir);
    let mut source = journal.display().to_string();
    if config.state.dynamodb_table.as_deref().is_some_and(|t| !t.is_empty()) {
        let engine = skyglue::engine(&config).await?;
        if let Some(team) = crate::run::team_table(&config, &engine)? {
            source = format!("{source} and team table {}", team.name());
            table = table.with_team(team);
        }
    }
    let entries = table.entries().await?;
    if entries.is_empty() {
        eprintln!(
            "note: no run in {source} yet (is this the state directory your runs use? see --state-dir)"
        );
    }
    let history = History::from_entries(&entries, &skyglue_aws::sinks::all());
    let generated = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let page = history.to_html(&generated, &source);
    if out == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(page.as_bytes())?;
        stdout.flush()?;
    } else {
        std::fs::write(out, page).with_context(|| format!("failed to write {}", out.display()))?;
        eprintln!(
            "wrote {} ({} runs, {} failures listed); open it in a browser",
            out.display(),
            history.runs.len(),
            history.failures.len()
        );
    }
    Ok(())
}
