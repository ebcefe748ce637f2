//! `skyglue repl` as a user meets it: the real binary on a pseudo-terminal
//! (rexpect) against the in-process sandbox, plus piped stdin without one.
//!
//! The sandbox answers from this test's runtime, so every test runs on a
//! multi-threaded runtime and drives the terminal inside `spawn_blocking`.
//! Expectations wait generously and assert what was printed, never how long
//! it took.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rexpect::reader::{Options, ReadUntil};
use rexpect::session::{PtySession, spawn_with_options};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

/// A REPL on a pseudo-terminal, with its own home, history and state dirs.
struct Repl {
    pty: PtySession,
    dir: tempfile::TempDir,
}

/// The environment that points the binary at `sandbox` and nowhere else.
fn command(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
    cmd.args(args)
        .env_clear()
        .envs(sandbox.env_vars())
        .env("HOME", dir.join("home"))
        .env("SKYGLUE_HISTORY", dir.join("history"))
        .env("SKYGLUE_STATE_DIR", dir.join("state"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TERM", "xterm")
        .current_dir(dir);
    cmd
}

impl Repl {
    fn start(sandbox: &Sandbox) -> Repl {
        let dir = tempfile::tempdir().unwrap();
        let options = Options::new().timeout_ms(Some(20_000)).strip_ansi_escape_codes(true);
        let pty = spawn_with_options(command(sandbox, dir.path(), &["repl"]), options).unwrap();
        let mut repl = Repl { pty, dir };
        repl.expect("\\? for help");
        repl.expect("skyglue> ");
        repl
    }

    /// Types `keys` (`\r` is Enter, `\t` Tab).
    fn send(&mut self, keys: &str) {
        self.pty.send(keys).unwrap();
        self.pty.flush().unwrap();
    }

    /// Waits for `needle`, failing at once if an error is printed first;
    /// returns what came before it.
    fn expect(&mut self, needle: &str) -> String {
        let until = vec![ReadUntil::String(needle.into()), ReadUntil::String("error:".into())];
        match self.pty.exp_any(until) {
            Ok((before, found)) if found == needle => before,
            Ok((before, _)) => {
                let rest = self.pty.exp_string("skyglue> ").unwrap_or_default();
                panic!("waiting for {needle:?}, got an error: {before}error:{rest}")
            }
            Err(e) => panic!("waiting for {needle:?}: {e}"),
        }
    }

    /// Waits for the error message `needle`.
    fn expect_error(&mut self, needle: &str) {
        if let Err(e) = self.pty.exp_string(needle) {
            panic!("waiting for the error {needle:?}: {e}");
        }
    }

    /// Enters `line`, waits for `needle` and then the next prompt; returns
    /// everything printed up to `needle`.
    fn run(&mut self, line: &str, needle: &str) -> String {
        self.send(&format!("{line}\r"));
        let out = self.expect(needle);
        self.expect("skyglue> ");
        out
    }

    /// Enters `line` and waits for the error `needle` and the next prompt.
    fn run_error(&mut self, line: &str, needle: &str) {
        self.send(&format!("{line}\r"));
        self.expect_error(needle);
        self.expect("skyglue> ");
    }

    fn quit(mut self) -> tempfile::TempDir {
        self.send("\\q\r");
        self.pty.exp_eof().unwrap();
        self.dir
    }
}

/// API calls the sandbox answered, all operations together.
fn total_calls(sandbox: &Sandbox) -> u64 {
    sandbox.calls().iter().filter(|(op, _)| !op.starts_with("slack")).map(|(_, n)| n).sum()
}

async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(World::demo(), config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_completes_table_and_column_names() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let mut repl = Repl::start(&sandbox);
    tokio::task::spawn_blocking(move || {
        // A table name after FROM (`aws_ecs_s` alone would also be
        // aws_ecs_scheduled_task and aws_ecs_scheduled_image).
        repl.send("SELECT count(*) AS services FROM aws_ecs_se\t;\r");
        repl.expect("(1 row)");
        repl.expect("skyglue> ");
        // A column of the table the statement names: `runn` is
        // running_count there (and ambiguous with running_tasks_count anywhere).
        repl.send("SELECT count(*) AS n FROM aws_ecs_service WHERE runn\t >= 0;\r");
        repl.expect("(1 row)");
        repl.expect("skyglue> ");
        // A meta-command and its argument.
        repl.send("\\forma\t cs\t\r");
        repl.expect("format: csv");
        repl.quit();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_spans_lines_until_its_semicolon_and_lands_in_history() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let mut repl = Repl::start(&sandbox);
    let dir = tokio::task::spawn_blocking(move || {
        repl.send("SELECT 40\r");
        repl.send("  + 2 AS answer\r");
        repl.send(";\r");
        let out = repl.expect("(1 row)");
        assert!(out.contains("answer") && out.contains("42"), "{out}");
        repl.expect("skyglue> ");
        repl.quit()
    })
    .await
    .unwrap();
    let history = std::fs::read_to_string(dir.path().join("history")).unwrap();
    assert!(history.contains("SELECT 40") && history.contains("AS answer"), "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_commands_describe_show_and_change_the_session() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let mut repl = Repl::start(&sandbox);
    let script = repl.dir.path().join("two.sql");
    std::fs::write(&script, "SELECT 6 * 7 AS product;\n\\format csv\nSELECT 'from a file' AS origin;\n")
        .unwrap();
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries/ecr_cleanup.sql");
    tokio::task::spawn_blocking(move || {
        let out = repl.run("\\?", "\\connections");
        assert!(out.contains("\\maxrows") && out.contains("\\cache clear"), "{out}");

        let out = repl.run("\\d", "skyglue_journal");
        for table in ["aws_ecs_service", "aws_ecr_image", "github_commit", "aws_ecs_image_in_use"] {
            assert!(out.contains(table), "{table} listed\n{out}");
        }
        let out = repl.run("\\d github_commit", "fetches less");
        assert!(out.contains("repository_full_name") && out.contains("required key"), "{out}");
        assert!(out.contains("github_commit needs repository_full_name"), "{out}");
        repl.run_error("\\d nope", "no table or view named nope");

        repl.run("\\format json", "format: json");
        repl.run("SELECT 1 AS a;", "[{\"a\":1}]");
        repl.run("\\format table", "format: table");

        repl.run("\\maxrows 2", "at most 2 rows");
        repl.run("SELECT * FROM (VALUES (1), (2), (3)) AS t(x);", "(3 rows; 1 not shown");
        repl.run("\\maxrows 0", "every row");

        repl.run("\\timing", "timing is on");
        let out = repl.run("SELECT count(*) FROM aws_ecs_cluster;", "waiting for rate limits");
        assert!(out.contains("API calls") && out.contains("pages") && out.contains("rows fetched"), "{out}");
        repl.run("\\timing off", "timing is off");

        let out = repl.run("\\cache", "entries live 300 s");
        assert!(out.contains("scan cache: 1 entry,"), "{out}");
        repl.run("\\cache clear", "scan cache cleared");

        let out = repl.run("\\connections", "configured");
        assert!(out.contains("default/us-east-1") && out.contains("111111111111 | ok"), "{out}");
        assert!(out.contains("token set"), "{out}");

        let out = repl.run(&format!("\\i {}", script.display()), "from a file");
        assert!(out.contains("42"), "{out}");
        repl.run("\\format table", "format: table");
        let out = repl.run(&format!("\\i {}", policy.display()), "planned");
        assert!(out.contains("policy ecr-cleanup") && out.contains("dry run"), "{out}");

        repl.run_error("\\nope", "unknown command \\nope");
        repl.quit();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_query_and_not_the_repl() {
    let sandbox =
        sandbox(SandboxConfig { latency: Duration::from_secs(3), ..SandboxConfig::default() }).await;
    let mut repl = Repl::start(&sandbox);
    tokio::task::spawn_blocking(move || {
        repl.send("SELECT count(*) FROM aws_ecr_image;\r");
        repl.expect("so far"); // the progress line: the query is running
        repl.pty.send_control('c').unwrap();
        repl.expect("query cancelled");
        repl.expect("skyglue> ");
        let out = repl.run("SELECT 1 + 1 AS two;", "(1 row)");
        assert!(out.contains("two") && !out.contains("error"), "{out}");
        repl.quit();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_reads_the_cache_until_it_is_cleared() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let query = "SELECT count(*) AS images FROM aws_ecr_image;";
    let repl = Repl::start(&sandbox);
    let repl = blocking(repl, move |r| drop(r.run(query, "(1 row)"))).await;
    assert!(total_calls(&sandbox) > 0, "the first run calls the APIs");

    sandbox.reset_calls();
    let repl = blocking(repl, move |r| drop(r.run(query, "(1 row)"))).await;
    assert_eq!(total_calls(&sandbox), 0, "a rerun is served from the cache: {:?}", sandbox.calls());

    let repl = blocking(repl, move |r| {
        r.run("\\cache clear", "scan cache cleared");
        r.run(query, "(1 row)");
    })
    .await;
    assert!(total_calls(&sandbox) > 0, "after \\cache clear the APIs are called again");
    tokio::task::spawn_blocking(move || repl.quit()).await.unwrap();
}

/// Drives `repl` with `keys` off the runtime's threads, then hands it back.
async fn blocking(mut repl: Repl, keys: impl FnOnce(&mut Repl) + Send + 'static) -> Repl {
    tokio::task::spawn_blocking(move || {
        keys(&mut repl);
        repl
    })
    .await
    .unwrap()
}

/// Runs the binary with `stdin` piped in; returns (exit code, stdout, stderr).
async fn piped(sandbox: &Sandbox, args: &[&str], stdin: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(sandbox, dir.path(), args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let stdin = stdin.to_string();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        drop(dir);
        out
    })
    .await
    .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_statements_run_without_prompts_and_fail_with_one_line() {
    let sandbox = sandbox(SandboxConfig::default()).await;

    let (code, stdout, stderr) = piped(
        &sandbox,
        &["repl"],
        "SELECT 1 AS one;\n\\format csv\nSELECT count(*) AS n\nFROM aws_ecs_cluster;\n",
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| one |") && stdout.contains("n\n"), "{stdout}");
    assert!(!stdout.contains("skyglue>") && !stdout.contains('\x1b'), "no prompt, no colour: {stdout:?}");
    assert!(!stderr.contains("so far") && !stderr.contains('\x1b'), "no progress line: {stderr:?}");

    let (code, stdout, stderr) = piped(&sandbox, &["repl"], "SELECT * FROM nope;\nSELECT 2 AS two;\n").await;
    assert_eq!(code, 1, "a failed statement fails the run");
    assert!(stdout.contains("| two |"), "later statements still run: {stdout}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].starts_with("error: ") && errors[0].contains("nope"), "{stderr}");

    let (code, stdout, _) = piped(&sandbox, &["repl", "--cache-ttl", "0"], "\\cache\n").await;
    assert_eq!(code, 0);
    assert!(stdout.contains("the scan cache is off"), "{stdout}");

    let (code, _, stderr) = piped(&sandbox, &[], "").await;
    assert_eq!(code, 2, "a bare skyglue with nothing piped is a usage error: {stderr}");
    assert!(stderr.contains("no command given"), "{stderr}");

    let (code, stdout, _) = piped(&sandbox, &[], "SELECT 3 AS three;").await;
    assert_eq!(code, 0);
    assert!(stdout.contains("| three |"), "a bare skyglue runs piped statements: {stdout}");
}
