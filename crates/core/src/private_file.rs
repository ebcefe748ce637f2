//! Files only their owner may read: the journal, the scheduler's state, the
//! lock files and the GitHub cache name resources, accounts and commits, and
//! live in a state directory other users of the machine have no business in.
//! On unix they are created `0600` and the directories made for them `0700`
//! (an existing directory is left as its owner set it); elsewhere the
//! platform's defaults apply.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` and its missing parents, each `0700`.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a file `0600` (set `read`, `append` and the rest on them).
pub fn options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes an already open file `0600` (one an older version created readable
/// by everyone); a no-op elsewhere than unix.
pub fn restrict(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes `contents` to a new (or truncated) file at `path`, `0600`.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = options().write(true).create(true).truncate(true).open(path)?;
    restrict(&file)?;
    file.write_all(contents)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_0600_and_new_directories_0700() {
        let root = std::env::temp_dir().join(format!("skyglue-private-file-{}", std::process::id()));
        let dir = root.join("state/skyglue");
        create_dir_all(&dir).expect("dir");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.join("state")), 0o700);
        write(&dir.join("f"), b"x").expect("write");
        assert_eq!(mode(&dir.join("f")), 0o600);
        std::fs::set_permissions(dir.join("f"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let file = options().append(true).open(dir.join("f")).expect("open");
        restrict(&file).expect("restrict");
        assert_eq!(mode(&dir.join("f")), 0o600);
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
