//! The commit cache. A commit never changes once it has a SHA, so a commit
//! fetched once is kept in memory for the session and on disk between runs,
//! and a cache hit makes no request.
//!
//! Entries are keyed by API URL (GitHub and a GitHub Enterprise can both have
//! an `acme/web`), repository and full SHA; a short SHA that GitHub resolved
//! is remembered as an alias of the full one. "No such commit" is remembered
//! in memory only: a commit pushed later must be found by the next run.
//!
//! On disk each repository is one append-only JSON Lines file,
//! `<cache>/github/v1/<api host>/<owner>/<repo>.jsonl`, one commit or alias
//! per line. Appends are single writes, so a crash can at worst tear the last
//! line, and lines that do not parse are skipped when the file is read.
//! The cache is an optimisation: a disk error never fails a query.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::model::Commit;

/// The environment variable that overrides where skyglue caches.
pub const CACHE_DIR_ENV: &str = "SKYGLUE_CACHE_DIR";

/// `$SKYGLUE_CACHE_DIR`, else the user's cache directory (`$XDG_CACHE_HOME`
/// or `~/.cache` on Linux, `~/Library/Caches` on macOS) plus `skyglue`.
pub fn default_cache_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => dirs::cache_dir().map(|d| d.join("skyglue")),
    }
}

/// What the cache knows about one ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cached {
    /// The commit.
    Hit(Arc<Commit>),
    /// GitHub said there is no such commit (this session).
    Missing,
    /// Not known: ask GitHub.
    Unknown,
}

/// One line of a repository's cache file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Commit(Commit),
    Alias { alias: String, sha: String },
}

#[derive(Debug, Default)]
struct RepoEntry {
    commits: HashMap<String, Arc<Commit>>,
    aliases: HashMap<String, String>,
    missing: HashSet<String>,
}

/// Commits by API, repository and SHA, in memory and (optionally) on disk.
#[derive(Debug)]
pub(crate) struct CommitCache {
    dir: Option<PathBuf>,
    repos: Mutex<HashMap<(String, String), RepoEntry>>,
}

impl CommitCache {
    /// A cache that persists under `dir` (`None`: memory only).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir, repos: Mutex::default() }
    }

    /// What is known about `reference` (a full or short SHA) in `repo`.
    pub fn get(&self, api: &str, repo: &str, reference: &str) -> Cached {
        self.with_repo(api, repo, |entry| {
            let sha = entry.aliases.get(reference).map_or(reference, String::as_str);
            if let Some(commit) = entry.commits.get(sha) {
                Cached::Hit(commit.clone())
            } else if entry.missing.contains(reference) {
                Cached::Missing
            } else {
                Cached::Unknown
            }
        })
    }

    /// Remembers that `reference` resolved to `commit`.
    pub fn put(&self, api: &str, repo: &str, reference: &str, commit: &Commit) {
        let mut lines = Vec::new();
        self.with_repo(api, repo, |entry| {
            if !entry.commits.contains_key(&commit.sha) {
                entry.commits.insert(commit.sha.clone(), Arc::new(commit.clone()));
                lines.push(Line::Commit(commit.clone()));
            }
            if reference != commit.sha && !entry.aliases.contains_key(reference) {
                entry.aliases.insert(reference.to_string(), commit.sha.clone());
                lines.push(Line::Alias { alias: reference.to_string(), sha: commit.sha.clone() });
            }
        });
        if let Some(path) = self.path(api, repo) {
            append(&path, &lines);
        }
    }

    /// Remembers, for this session, that `reference` names no commit.
    pub fn put_missing(&self, api: &str, repo: &str, reference: &str) {
        self.with_repo(api, repo, |entry| {
            entry.missing.insert(reference.to_string());
        });
    }

    /// Runs `f` on the repository's entry, reading its file on first use.
    fn with_repo<R>(&self, api: &str, repo: &str, f: impl FnOnce(&mut RepoEntry) -> R) -> R {
        let key = (api.to_string(), repo.to_ascii_lowercase());
        let mut repos = self.repos.lock().unwrap_or_else(|e| e.into_inner());
        let entry = repos.entry(key).or_insert_with(|| match self.path(api, repo) {
            Some(path) => load(&path),
            None => RepoEntry::default(),
        });
        f(entry)
    }

    /// The repository's cache file; `repo` is a validated `owner/name`.
    fn path(&self, api: &str, repo: &str) -> Option<PathBuf> {
        let (owner, name) =
            repo.to_ascii_lowercase().split_once('/').map(|(o, n)| (o.to_string(), n.to_string()))?;
        Some(
            self.dir
                .as_ref()?
                .join("github")
                .join("v1")
                .join(host_dir(api))
                .join(owner)
                .join(format!("{name}.jsonl")),
        )
    }
}

/// `https://ghe.example.com/api/v3` -> `ghe.example.com_api_v3`.
fn host_dir(api: &str) -> String {
    let rest = api.split_once("://").map_or(api, |(_, r)| r).trim_end_matches('/');
    rest.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' }).collect()
}

fn load(path: &Path) -> RepoEntry {
    let mut entry = RepoEntry::default();
    let Ok(text) = std::fs::read_to_string(path) else { return entry };
    for line in text.lines() {
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Commit(c)) => {
                entry.commits.insert(c.sha.clone(), Arc::new(c));
            }
            Ok(Line::Alias { alias, sha }) => {
                entry.aliases.insert(alias, sha);
            }
            // A torn last line from a crash, or a line from a newer format.
            Err(_) => {}
        }
    }
    entry
}

/// Appends `lines` in one write. A torn line left by a crash is ended first,
/// so it spoils only itself.
fn append(path: &Path, lines: &[Line]) {
    let mut buf = Vec::new();
    for line in lines {
        if serde_json::to_writer(&mut buf, line).is_err() {
            return;
        }
        buf.push(b'\n');
    }
    if buf.is_empty() {
        return;
    }
    // Best effort: a read-only or full disk only costs the next run requests.
    let _ = append_bytes(path, buf);
}

fn append_bytes(path: &Path, mut buf: Vec<u8>) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        skyglue_core::private_file::create_dir_all(parent)?;
    }
    // Only its owner may read it (0600): it names private repositories' commits.
    let mut file = skyglue_core::private_file::options().create(true).read(true).append(true).open(path)?;
    skyglue_core::private_file::restrict(&file)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            buf.insert(0, b'\n');
        }
    }
    // Append mode writes at the end, wherever the read left the cursor.
    file.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str) -> Commit {
        Commit {
            sha: sha.to_string(),
            author_login: None,
            author_name: Some("A".into()),
            author_email: None,
            authored_date: Some(1),
            committer_name: None,
            committed_date: Some(2),
            message: Some("m".into()),
            url: None,
        }
    }

    #[test]
    fn remembers_commits_and_aliases_across_instances() {
        let dir = tempfile::tempdir().expect("tempdir");
        let api = "http://127.0.0.1:9";
        let first = CommitCache::new(Some(dir.path().to_path_buf()));
        first.put(api, "acme/web", "abc1", &commit("abc1234"));
        first.put_missing(api, "acme/web", "dead");
        assert_eq!(first.get(api, "acme/web", "dead"), Cached::Missing);

        let second = CommitCache::new(Some(dir.path().to_path_buf()));
        assert_eq!(second.get(api, "Acme/Web", "abc1"), Cached::Hit(Arc::new(commit("abc1234"))));
        assert_eq!(second.get(api, "acme/web", "abc1234"), Cached::Hit(Arc::new(commit("abc1234"))));
        // Misses are not persisted, and other APIs do not share entries.
        assert_eq!(second.get(api, "acme/web", "dead"), Cached::Unknown);
        assert_eq!(second.get("https://api.github.com", "acme/web", "abc1234"), Cached::Unknown);
    }

    #[test]
    fn a_torn_line_spoils_only_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let api = "https://api.github.com";
        let cache = CommitCache::new(Some(dir.path().to_path_buf()));
        cache.put(api, "acme/web", "aaa1", &commit("aaa1111"));
        let path = cache.path(api, "acme/web").expect("path");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(br#"{"kind":"commit","sha":"bb"#))
            .expect("tear");
        CommitCache::new(Some(dir.path().to_path_buf())).put(api, "acme/web", "ccc3333", &commit("ccc3333"));

        let reread = CommitCache::new(Some(dir.path().to_path_buf()));
        assert!(matches!(reread.get(api, "acme/web", "aaa1"), Cached::Hit(_)));
        assert!(matches!(reread.get(api, "acme/web", "ccc3333"), Cached::Hit(_)));
    }

    #[test]
    fn host_dirs_are_plain_names() {
        assert_eq!(host_dir("https://api.github.com"), "api.github.com");
        assert_eq!(host_dir("http://127.0.0.1:8080/"), "127.0.0.1_8080");
        assert_eq!(host_dir("https://ghe.example.com/api/v3"), "ghe.example.com_api_v3");
    }
}
