//! The journal: a durable, append-only record of every run and every action.
//!
//! One JSON object per line in `journal.jsonl` under the state directory
//! (`--state-dir`, else `$SKYGLUE_STATE_DIR`, else the user's state directory,
//! e.g. `~/.local/state/skyglue`). Each entry is written and synced to disk
//! before the run goes on: the intent before each API call, the outcome after
//! it. A run killed mid-way leaves every intent it acted on, so the next reader
//! can tell what was done. Appends hold an exclusive file lock, so several
//! processes share one journal; a torn last line (a crash mid-write) is
//! skipped when reading and cut off by the next writer, and any other line
//! that does not parse is an error naming the file and line.
//!
//! With `[state] dynamodb_table`, every entry is also copied to the team
//! table ([`dynamodb`]) after it is on disk, and `skyglue_journal` shows the
//! entries of every host.
//!
//! Its parts: [`Entry`] (a line), [`RunLog`] (a run's writes, and the
//! sinks' `ActionLog`), [`JournalTable`] (the table below) and [`dynamodb`].
//!
//! The journal is queryable as the `skyglue_journal` table:
//!
//! ```sql
//! SELECT ts, event, status, target FROM skyglue_journal WHERE run_id = '...' ORDER BY ts;
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use skyglue_core::private_file;

use crate::error::{Error, Result};
use crate::team::TeamTable;

pub mod dynamodb;
mod entry;
mod run_log;
mod table;

use dynamodb::TeamJournal;
pub use entry::{CHECK_AGE, Entry, check_age_of, seconds, status_name};
pub use run_log::RunLog;
pub use table::JournalTable;

/// The journal file, and its copy in the team table when there is one.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    team: Option<TeamJournal>,
}

/// The file name inside the state directory.
pub const FILE_NAME: &str = "journal.jsonl";

impl Journal {
    /// The default state directory.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("SKYGLUE_STATE_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .unwrap_or_else(|| PathBuf::from(".skyglue"))
            .join("skyglue")
    }

    /// Opens (creating) the journal in `dir`, cutting off a torn last line.
    pub fn open(dir: &Path) -> Result<Self> {
        private_file::create_dir_all(dir)
            .map_err(|source| Error::StateDir { path: dir.to_path_buf(), source })?;
        let path = dir.join(FILE_NAME);
        let io = |verb, source| Error::JournalIo { verb, path: path.clone(), source };
        // Only its owner may read it (0600): it names accounts and resources.
        let file = private_file::options()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io("open", e))?;
        private_file::restrict(&file).map_err(|e| io("restrict", e))?;
        file.lock().map_err(|e| io("lock", e))?;
        let repaired = cut_torn_tail(&file).map_err(|e| io("repair", e));
        file.unlock().map_err(|e| io("unlock", e))?;
        repaired?;
        Ok(Self { path, file: Mutex::new(file), team: None })
    }

    /// Also copies every entry to the team table (starts a background
    /// writer: needs a Tokio runtime).
    pub fn with_team(mut self, team: TeamTable) -> Self {
        self.team = Some(TeamJournal::start(team));
        self
    }

    /// The team table, when entries are copied there.
    pub fn team(&self) -> Option<&TeamTable> {
        self.team.as_ref().map(TeamJournal::table)
    }

    /// Waits until every entry so far is in the team table (a no-op without
    /// one); the error says what could not be copied.
    pub async fn flush_team(&self) -> Result<()> {
        match &self.team {
            Some(team) => team.flush().await,
            None => Ok(()),
        }
    }

    /// This journal's entries of `policy`: the local file's, and the team
    /// table's when there is one (every host's), oldest first, each once.
    pub async fn policy_entries(&self, policy: &str) -> Result<Vec<Entry>> {
        let mut local = Self::read_all(&self.path)?;
        local.retain(|e| e.policy == policy);
        let team = match self.team() {
            Some(team) => dynamodb::read_policy(team, policy).await?,
            None => vec![],
        };
        Ok(merge(local, team))
    }

    /// The entries of run `run_id`: the local file's, and the team table's
    /// when there is one, oldest first, each once.
    pub async fn run_entries(&self, run_id: &str) -> Result<Vec<Entry>> {
        let mut local = Self::read_all(&self.path)?;
        local.retain(|e| e.run_id == run_id);
        let team = match self.team() {
            Some(team) => {
                let mut all = dynamodb::read_all(team).await?;
                all.retain(|e| e.run_id == run_id);
                all
            }
            None => vec![],
        };
        Ok(merge(local, team))
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends entries and syncs them to disk, then queues them for the
    /// team table.
    pub fn append(&self, entries: &[Entry]) -> Result<()> {
        let mut text = String::new();
        for e in entries {
            let line = serde_json::to_string(e).map_err(Error::Encode)?;
            text.push_str(&line);
            text.push('\n');
        }
        let file = match self.file.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        let io = |source| Error::JournalIo { verb: "write", path: self.path.clone(), source };
        // Other processes append to the same file: one whole write at a time.
        file.lock().map_err(io)?;
        let written = (&*file).write_all(text.as_bytes()).and_then(|()| file.sync_data());
        let unlocked = file.unlock();
        written.and(unlocked).map_err(io)?;
        if let Some(team) = &self.team {
            team.send(entries);
        }
        Ok(())
    }

    /// Every entry of the journal file at `path`. A torn last line (a crash
    /// mid-write) is skipped; any other line that does not parse is an error
    /// naming the file and line.
    pub fn read_all(path: &Path) -> Result<Vec<Entry>> {
        let io = |source| Error::JournalIo { verb: "read", path: path.to_path_buf(), source };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io(e)),
        };
        let mut out = Vec::new();
        let mut lines = BufReader::new(file).split(b'\n').enumerate().peekable();
        while let Some((index, line)) = lines.next() {
            let line = line.map_err(io)?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(&line) {
                Ok(entry) => out.push(entry),
                Err(_) if lines.peek().is_none() => {}
                Err(source) => {
                    return Err(Error::JournalLine { path: path.to_path_buf(), line: index + 1, source });
                }
            }
        }
        Ok(out)
    }
}

/// Cuts a last line that has no newline (a write torn by a crash). The
/// caller holds the file lock, so no other writer is mid-line.
fn cut_torn_tail(file: &File) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut reader = file;
    let mut back = len;
    let mut buf = [0u8; 4096];
    loop {
        let start = back.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(back - start) as usize];
        reader.seek(SeekFrom::Start(start))?;
        reader.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            let keep = start + i as u64 + 1;
            return if keep == len { Ok(()) } else { file.set_len(keep) };
        }
        if start == 0 {
            return file.set_len(0);
        }
        back = start;
    }
}

/// Local and team entries, each once (the team table holds this host's
/// too), oldest first.
fn merge(local: Vec<Entry>, team: Vec<Entry>) -> Vec<Entry> {
    let mut seen = std::collections::HashSet::new();
    let mut all: Vec<Entry> = local
        .into_iter()
        .chain(team)
        .filter(|e| seen.insert(serde_json::to_string(e).unwrap_or_default()))
        .collect();
    all.sort_by(|a, b| a.ts.cmp(&b.ts));
    all
}

/// Earlier runs of a policy that started and never ended (no `run_finished`
/// or `interrupted`): a crash, a kill, a lost host. Only applying runs
/// count; a dry run changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The run.
    pub run_id: String,
    /// When it started.
    pub started: String,
    /// Targets it announced (an intent) without recording what happened.
    pub unknown: usize,
}

/// The applying runs among `entries` that started before `before` and never ended.
pub fn unfinished_runs(entries: &[Entry], before: &str) -> Vec<Unfinished> {
    let mut runs: Vec<Unfinished> = Vec::new();
    let mut ended = std::collections::HashSet::new();
    let mut open: std::collections::HashMap<&str, std::collections::HashSet<String>> = Default::default();
    for e in entries {
        match e.event.as_str() {
            "run_started" if e.mode.as_deref() == Some("apply") && e.ts.as_str() < before => {
                runs.push(Unfinished { run_id: e.run_id.clone(), started: e.ts.clone(), unknown: 0 });
            }
            "run_finished" | "interrupted" => {
                ended.insert(e.run_id.as_str());
            }
            "intent" | "outcome" => {
                let key = e.target.as_ref().and_then(|t| serde_json::to_string(t).ok()).unwrap_or_default();
                let targets = open.entry(e.run_id.as_str()).or_default();
                if e.event == "intent" {
                    targets.insert(key);
                } else {
                    targets.remove(&key);
                }
            }
            _ => {}
        }
    }
    runs.retain(|r| !ended.contains(r.run_id.as_str()));
    for r in &mut runs {
        r.unknown = open.get(r.run_id.as_str()).map_or(0, |t| t.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::sync::Arc;

    use skyglue_core::sink::{ActionLog, Outcome, Target};

    use super::*;
    use crate::interrupt::Interrupt;

    #[cfg(unix)]
    #[test]
    fn the_journal_and_its_new_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("state");
        Journal::open(&dir).expect("open");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(FILE_NAME)), 0o600);
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Journal::open(dir.path()).expect("open");
        let log = RunLog::new(Arc::new(journal), "r1", "p", "delete_ecr_images");
        log.intent("ecr:BatchDeleteImage", &[Target::from_pairs([("image_digest", "sha256:1")])])
            .expect("write");
        let mut f = OpenOptions::new().append(true).open(dir.path().join(FILE_NAME)).expect("open");
        f.write_all(b"{\"ts\": \"2026").expect("torn write");
        let entries = Journal::read_all(&dir.path().join(FILE_NAME)).expect("read");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event, "intent");
        assert_eq!(entries[0].target.as_ref().and_then(|t| t.get("image_digest")), Some("sha256:1"));
    }

    #[test]
    fn an_interrupted_log_refuses_intents_but_records_outcomes() {
        let dir = tempfile::tempdir().expect("tmp");
        let stop = Interrupt::default();
        let log = RunLog::new(Arc::new(Journal::open(dir.path()).expect("open")), "r1", "p", "a")
            .with_interrupt(stop.clone());
        let target = Target::from_pairs([("image_digest", "sha256:1")]);
        log.intent("op", std::slice::from_ref(&target)).expect("before the signal");
        stop.raise("SIGTERM");
        let refused = log.intent("op", std::slice::from_ref(&target)).expect_err("after the signal");
        assert!(refused.to_string().contains("interrupted (SIGTERM)"), "{refused}");
        log.outcome("op", &[Outcome::done(target)]).expect("the call in flight still records its outcome");
        assert_eq!(log.write_error(), None, "a refusal is not a write error");
    }

    #[test]
    fn unfinished_applying_runs_are_found_with_their_open_intents() {
        let entry = |ts: &str, run: &str, event: &str, mode: Option<&str>, digest: Option<&str>| Entry {
            ts: ts.into(),
            run_id: run.into(),
            policy: "p".into(),
            event: event.into(),
            mode: mode.map(str::to_string),
            target: digest.map(|d| Target::from_pairs([("image_digest", d)])),
            ..Entry::default()
        };
        let entries = vec![
            entry("1", "crashed", "run_started", Some("apply"), None),
            entry("2", "crashed", "intent", None, Some("a")),
            entry("2", "crashed", "intent", None, Some("b")),
            entry("3", "crashed", "outcome", None, Some("a")),
            entry("4", "dry", "run_started", Some("dry_run"), None),
            entry("5", "ok", "run_started", Some("apply"), None),
            entry("6", "ok", "run_finished", None, None),
            entry("7", "stopped", "run_started", Some("apply"), None),
            entry("8", "stopped", "interrupted", None, None),
            entry("9", "later", "run_started", Some("apply"), None),
        ];
        let found = unfinished_runs(&entries, "9");
        assert_eq!(found, vec![Unfinished { run_id: "crashed".into(), started: "1".into(), unknown: 1 }]);
    }
}
