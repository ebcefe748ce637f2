//! Shell integration: `skyglue completions SHELL`, `skyglue man` and
//! `skyglue --version`, run as a user would.

use std::process::Command;

/// Runs the binary with `args`; returns the exit code and stdout.
fn skyglue(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skyglue")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script) = skyglue(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(!script.is_empty(), "{shell}: empty script");
        assert!(script.contains("schedule") && script.contains("run"), "{shell}: {script}");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let (code, _) = skyglue(&["completions", "tcsh"]);
    assert_eq!(code, 2);
}

#[test]
fn the_man_page_is_roff() {
    let (code, page) = skyglue(&["man"]);
    assert_eq!(code, 0);
    assert!(page.starts_with(".TH"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains("completions"), "the man page lists the subcommands");
}

#[test]
fn the_version_names_datafusion() {
    let (code, version) = skyglue(&["--version"]);
    assert_eq!(code, 0);
    assert!(version.starts_with("skyglue "), "{version}");
    assert!(version.contains("DataFusion 55"), "{version}");
}
