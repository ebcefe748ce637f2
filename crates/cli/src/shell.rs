//! Shell integration: `skyglue completions SHELL`, `skyglue man`, and the
//! `--version` line.
//!
//! Both documents are generated from the same clap command the parser uses,
//! so a new subcommand or flag shows up in completions and the man page
//! without anyone remembering to add it.

use std::io::Write;

use clap_complete::Shell as ClapShell;

/// A shell `skyglue completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// Bash (source it, or put it in bash-completion's directory).
    Bash,
    /// Zsh (put it on `$fpath` as `_skyglue`).
    Zsh,
    /// Fish (put it in `~/.config/fish/completions/`).
    Fish,
}

impl From<Shell> for ClapShell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => ClapShell::Bash,
            Shell::Zsh => ClapShell::Zsh,
            Shell::Fish => ClapShell::Fish,
        }
    }
}

/// `skyglue --version`: skyglue's version and the DataFusion it embeds.
pub fn version() -> String {
    format!("{} (DataFusion {})", env!("CARGO_PKG_VERSION"), datafusion::DATAFUSION_VERSION)
}

/// Writes the completion script of `command` for `shell` to `out`.
pub fn completions(mut command: clap::Command, shell: Shell, out: &mut dyn Write) {
    let name = command.get_name().to_string();
    clap_complete::generate(ClapShell::from(shell), &mut command, name, out);
}

/// Writes the roff man page of `command` to `out`, starting with its `.TH`
/// line: clap_mangen puts the definition of the apostrophe string (`Aq`)
/// first, which roff reads as well after the title, and `man -l`, `file` and
/// packaging linters look for the title on the first line.
pub fn man(command: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    let title = page.lines().find(|line| line.starts_with(".TH "));
    if let Some(title) = title {
        writeln!(out, "{title}")?;
    }
    for line in page.lines().filter(|line| Some(*line) != title) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_datafusion() {
        assert!(version().contains(" (DataFusion "), "{}", version());
    }
}
