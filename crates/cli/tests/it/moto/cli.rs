//! Running the `skyglue` binary against moto, as a user would: a
//! `skyglue.toml` in a fresh temp dir, credentials in the child's environment
//! only, and nothing inherited from the test process's environment.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tempfile::TempDir;

use super::world::{REGIONS, ROLE_B};

/// One result row, as `--format json` prints it (NULL columns are absent).
pub type Row = Map<String, Value>;

/// An `[[aws]]` entry covering both test regions.
pub fn aws_entry(name: &str, role_arn: Option<&str>, endpoint: &str) -> String {
    aws_entry_in(name, role_arn, &REGIONS, endpoint)
}

/// An `[[aws]]` entry for `regions`.
pub fn aws_entry_in(name: &str, role_arn: Option<&str>, regions: &[&str], endpoint: &str) -> String {
    let role = role_arn.map(|r| format!("role_arn = {r:?}\n")).unwrap_or_default();
    format!("[[aws]]\nname = {name:?}\n{role}regions = {regions:?}\nendpoint_url = {endpoint:?}\n\n")
}

/// Account A as `a` and account B (through its role) as `b`, both regions.
pub fn two_accounts(endpoint: &str) -> String {
    aws_entry("a", None, endpoint) + &aws_entry("b", Some(ROLE_B), endpoint)
}

/// A port nothing listens on: an endpoint that refuses connections.
pub fn closed_endpoint() -> String {
    let port = super::server::free_port().expect("a free port");
    format!("http://127.0.0.1:{port}")
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary with a config file and the environment it runs in.
pub struct Skyglue {
    dir: TempDir,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl Skyglue {
    /// `config` as skyglue.toml, with account A's test credentials in the environment.
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("skyglue.toml");
        std::fs::write(&path, config).expect("write skyglue.toml");
        Self { dir, config: path, env: Vec::new() }.credentials("testing", "testing")
    }

    /// Uses this access key (and region us-east-1).
    pub fn credentials(mut self, access_key_id: &str, secret: &str) -> Self {
        self.env = vec![
            ("AWS_ACCESS_KEY_ID".into(), access_key_id.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), secret.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ];
        self
    }

    /// No AWS credentials anywhere: no variables, and an empty HOME.
    pub fn without_credentials(mut self) -> Self {
        self.env.clear();
        self
    }

    /// The config file's path.
    pub fn config_path(&self) -> &std::path::Path {
        &self.config
    }

    /// Runs `skyglue ARGS --config <file>`.
    pub fn run(&self, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).expect("create HOME");
        let mut child = Command::new(env!("CARGO_BIN_EXE_skyglue"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", &home)
            // Never ask the EC2 metadata service (a link-local address) for credentials.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // A panic would print its backtrace, which the error tests look for.
            .env("RUST_BACKTRACE", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run skyglue");
        let stdout = read_all(child.stdout.take());
        let stderr = read_all(child.stderr.take());
        // A guard against a hung run stalling the suite, not a timing assertion.
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for skyglue") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("skyglue {args:?} was still running after two minutes");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = |h: JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().expect("reader")).into_owned();
        Output { code: status.code(), stdout: text(stdout), stderr: text(stderr) }
    }

    /// `skyglue query SQL --format json`, which must succeed; its rows.
    pub fn json(&self, sql: &str) -> Vec<Row> {
        let out = self.run(&["query", sql, "--format", "json"]);
        assert_eq!(out.code, Some(0), "{sql}\nstderr: {}", out.stderr);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{sql}: not a JSON array ({e}): {}", out.stdout))
    }
}

/// Reads a child's pipe to the end on another thread.
fn read_all(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// Asserts `out` failed with `code` and one stderr line that contains every one of `needles`.
pub fn assert_fails(out: &Output, code: i32, needles: &[&str]) {
    let stderr = out.stderr.trim_end();
    assert_eq!(out.code, Some(code), "exit code; stderr: {stderr}");
    assert!(!stderr.contains('\n'), "stderr is more than one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(!stderr.contains(bad), "stderr shows a panic: {stderr}");
    }
    for needle in needles {
        assert!(stderr.contains(needle), "stderr does not name {needle:?}: {stderr}");
    }
}

/// The text value of `column` in `row` (None when NULL).
pub fn text<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    row.get(column).and_then(Value::as_str)
}
