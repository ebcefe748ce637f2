//! The shape of the code, checked like behaviour (issue 31): no import
//! circle between the modules of any crate (`scripts/module_cycles.py`), and
//! no source file longer than 600 lines, so the map in ARCHITECTURE.md stays
//! true as the code grows.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The longest a file under a crate's `src/` may be.
const MAX_LINES: usize = 600;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_import_circle_and_no_long_file() {
    let root = repo_root();
    let out = Command::new("python3")
        .arg(root.join("scripts/module_cycles.py"))
        .current_dir(&root)
        .output()
        .expect("python3 runs scripts/module_cycles.py");
    assert!(
        out.status.success(),
        "import circles between modules:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).expect("crates/") {
        let src = krate.expect("a crate").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 100, "found only {} source files under crates/*/src", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).expect("a source file").lines().count();
            (lines > MAX_LINES)
                .then(|| format!("{} ({lines} lines)", f.strip_prefix(&root).unwrap_or(f).display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines (split them by concern): {long:?}");
}
