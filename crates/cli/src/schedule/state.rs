//! `schedule-state.json`: the last slot each entry accounted for, so a
//! restarted scheduler knows what it missed.
//!
//! A slot is accounted for when its run starts or is skipped (overlap), not
//! when the run ends: a scheduler killed mid-run does not run the same slot
//! again. The file is rewritten whole through a temporary file and a rename,
//! so a crash leaves the old state or the new one, never half of each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file name inside the state directory.
pub const FILE_NAME: &str = "schedule-state.json";

/// What is remembered of one entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryState {
    /// The latest slot run or skipped (or, before the first slot, the time the scheduler first started).
    pub last_slot: Option<DateTime<Utc>>,
    /// When its latest run finished, and with which exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_finished: Option<DateTime<Utc>>,
    /// The exit code of its latest run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit_code: Option<u8>,
}

/// The state file, loaded once and rewritten on each change.
#[derive(Debug)]
pub struct StateFile {
    path: Option<PathBuf>,
    entries: Mutex<BTreeMap<String, EntryState>>,
}

impl StateFile {
    /// Loads `dir/schedule-state.json` (empty when it does not exist yet).
    pub fn load(dir: &Path) -> anyhow::Result<StateFile> {
        skyglue_core::private_file::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("failed to create state directory {}: {e}", dir.display()))?;
        let path = dir.join(FILE_NAME);
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("failed to read {}: {e} (delete it to start afresh)", path.display())
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => anyhow::bail!("failed to read {}: {e}", path.display()),
        };
        Ok(StateFile { path: Some(path), entries: Mutex::new(entries) })
    }

    /// A state that lives in memory only (tests).
    #[cfg(test)]
    pub fn in_memory() -> StateFile {
        StateFile { path: None, entries: Mutex::new(BTreeMap::new()) }
    }

    /// The state of the entry with `key`.
    pub fn get(&self, key: &str) -> EntryState {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    /// Changes the entry with `key` and saves the file; a failed save is
    /// reported, not fatal (the schedule goes on; a restart may then run one
    /// slot again).
    pub fn update(&self, key: &str, change: impl FnOnce(&mut EntryState)) -> anyhow::Result<()> {
        let mut entries = self.lock();
        change(entries.entry(key.to_string()).or_default());
        let Some(path) = &self.path else { return Ok(()) };
        let text = serde_json::to_string_pretty(&*entries)?;
        let tmp = path.with_extension("json.tmp");
        // Only its owner may read it (0600), like the journal beside it.
        skyglue_core::private_file::write(&tmp, (text + "\n").as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| anyhow::anyhow!("failed to write {}: {e}", path.display()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, EntryState>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_reload_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("dir");
        let t = Utc::now();
        let state = StateFile::load(dir.path()).expect("loads");
        state.update("a", |s| s.last_slot = Some(t)).expect("saves");
        let again = StateFile::load(dir.path()).expect("reloads");
        assert_eq!(again.get("a").last_slot, Some(t));
        assert_eq!(again.get("b"), EntryState::default());
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, [FILE_NAME]);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(FILE_NAME), "{not json").expect("write");
        let err = StateFile::load(dir.path()).expect_err("corrupt");
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }
}
