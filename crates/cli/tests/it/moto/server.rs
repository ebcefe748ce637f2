//! Installing and running moto's server for the tests.
//!
//! `moto[server]` lives in a venv at `<target>/moto-venv`, installed on first
//! use (once per process, and under a lock file so two test processes never
//! install at once). Each server is moto's own WSGI app on a free loopback
//! port, run by a small Python supervisor that exits when its stdin closes:
//! the test binary holds the other end, so the server never outlives the
//! tests, even when a static (never dropped) holds it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The pinned moto release.
const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";

/// Runs moto's server (the app `moto_server` serves) until stdin closes.
///
/// One correction first: moto 5.2.5 answers GetBucketVersioning with the root
/// element `GetBucketVersioningResponse`, where S3 (and so the Rust SDK, which
/// rejects anything else) uses `VersioningConfiguration`; boto3 does not care.
const SUPERVISOR: &str = r#"
import sys
from moto.s3.responses import S3Response

_get_bucket_versioning = S3Response.get_bucket_versioning

def _s3_root(self):
    status, headers, body = _get_bucket_versioning(self)
    if isinstance(body, bytes):
        body = body.decode()
    return status, headers, body.replace("GetBucketVersioningResponse", "VersioningConfiguration")

S3Response.get_bucket_versioning = _s3_root

from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()  # returns when the test process exits
server.stop()
"#;

/// A running moto server; dropping it stops the server.
pub struct MotoServer {
    endpoint: String,
    child: Mutex<Child>,
    /// Held open: the supervisor stops the server when it closes.
    _stdin: ChildStdin,
    /// Says "ready" once the port is bound; kept open so the supervisor never writes to a closed pipe.
    stdout: BufReader<ChildStdout>,
}

impl MotoServer {
    /// Starts a fresh server on a free port and waits until it answers HTTP.
    pub fn start() -> Result<Self, String> {
        let venv = venv()?;
        let mut last_error = String::new();
        // A port found free can be taken before moto binds it: try a few.
        for _ in 0..3 {
            match Self::start_on(venv, free_port()?) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn start_on(venv: &Path, port: u16) -> Result<Self, String> {
        let mut child = Command::new(venv.join("bin/python"))
            .args(["-c", SUPERVISOR, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("failed to start moto's server: {e}"))?;
        let log = drain(child.stderr.take());
        let stdin = child.stdin.take().ok_or("moto's server has no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("moto's server has no stdout")?);
        let mut server = MotoServer {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(child),
            _stdin: stdin,
            stdout,
        };
        server.wait_until_ready(port, &log)?;
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The Python interpreter of moto's venv (it has boto3).
    pub fn python() -> Result<PathBuf, String> {
        Ok(venv()?.join("bin/python"))
    }

    /// Waits for the supervisor's "ready" (it has bound the port), then for an HTTP answer.
    fn wait_until_ready(&mut self, port: u16, log: &Mutex<VecDeque<String>>) -> Result<(), String> {
        let mut line = String::new();
        let _ = self.stdout.read_line(&mut line);
        if line.trim() != "ready" {
            // The supervisor exited: give its stderr a moment to arrive.
            let _ = self.child.get_mut().map(Child::wait);
            std::thread::sleep(Duration::from_millis(200));
            let log = log.lock().map(|l| Vec::from(l.clone()).join("\n")).unwrap_or_default();
            return Err(format!("moto's server did not start on port {port}:\n{log}"));
        }
        for _ in 0..100 {
            if answers_http(port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("moto's server on port {port} does not answer HTTP"))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Keeps the last lines of a child's stderr for error messages.
fn drain(stderr: Option<impl Read + Send + 'static>) -> Arc<Mutex<VecDeque<String>>> {
    let log = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(stderr) = stderr {
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut lines) = sink.lock() {
                    if lines.len() == 40 {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            }
        });
    }
    log
}

fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("failed to find a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// The venv with moto installed, installing it on first use.
fn venv() -> Result<&'static Path, String> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    VENV.get_or_init(install).as_deref().map_err(Clone::clone)
}

/// The workspace's target directory: where cargo put the `skyglue` binary, two levels up.
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_skyglue"));
    bin.parent().and_then(Path::parent).map_or_else(std::env::temp_dir, Path::to_path_buf)
}

fn install() -> Result<PathBuf, String> {
    let target = target_dir();
    let venv = target.join("moto-venv");
    let marker = venv.join(".skyglue-installed");
    let installed = || std::fs::read_to_string(&marker).is_ok_and(|m| m == MOTO_REQUIREMENT);
    if installed() {
        return Ok(venv);
    }
    std::fs::create_dir_all(&target).map_err(|e| format!("failed to create {}: {e}", target.display()))?;
    let lock =
        File::create(target.join("moto-venv.lock")).map_err(|e| format!("failed to create the lock: {e}"))?;
    lock.lock().map_err(|e| format!("failed to lock the moto venv: {e}"))?;
    // Another process may have installed it while this one waited for the lock.
    if installed() {
        return Ok(venv);
    }
    eprintln!("installing {MOTO_REQUIREMENT} into {} (once)", venv.display());
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| format!("failed to remove a partial venv: {e}"))?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        MOTO_REQUIREMENT,
    ]))?;
    if !venv.join("bin/moto_server").exists() {
        return Err(format!("{MOTO_REQUIREMENT} installed no moto_server in {}", venv.display()));
    }
    std::fs::write(&marker, MOTO_REQUIREMENT)
        .map_err(|e| format!("failed to write {}: {e}", marker.display()))?;
    Ok(venv)
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("failed to run {command:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!("{command:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)))
}
