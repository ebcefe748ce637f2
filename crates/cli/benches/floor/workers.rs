//! The many-machines scenario: the shipped `unused_images` query over 200
//! accounts x 2 regions at 50 ms per call, in one process and with 1, 2 and
//! 4 worker processes on this machine (`cargo bench -p skyglue --bench
//! floor -- workers`).
//!
//! Each worker and the coordinator is a child process of its own (this
//! bench binary in `--worker` / `--coordinator` mode), so each one's peak
//! memory (VmHWM) is its own. The calls are the sandbox's counts: the same
//! work must make the same calls however many workers share it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use skyglue_core::Engine;
use skyglue_sandbox::{GenerateSpec, Sandbox, SandboxConfig, World};

const LATENCY: Duration = Duration::from_millis(50);
const ACCOUNTS: usize = 200;
const QUERY: &str = include_str!("../../../../queries/unused_images.sql");

/// 200 accounts x 2 regions, a few repositories, images, services and tasks each.
fn world() -> World {
    World::generate(&GenerateSpec {
        accounts: ACCOUNTS,
        repositories: ACCOUNTS * 2,
        images: ACCOUNTS * 50,
        task_definitions: ACCOUNTS * 10,
        services: ACCOUNTS * 2,
        tasks: ACCOUNTS * 4,
        commits: 500,
        ..GenerateSpec::small()
    })
}

/// The parent: one row per worker count.
pub async fn parent() {
    let world = world();
    let config = SandboxConfig { latency: LATENCY, ..SandboxConfig::default() };
    let sandbox = Sandbox::start(world.clone(), config).await.expect("sandbox");
    let accounts = serde_json::to_string(&skyglue::sandbox::accounts(&world)).expect("json");
    let exe = std::env::current_exe().expect("exe");
    println!(
        "workers: unused_images.sql, {ACCOUNTS} accounts x 2 regions ({} connections), {} ms per call, {} images\n",
        ACCOUNTS * 2,
        LATENCY.as_millis(),
        world.image_count()
    );
    println!(
        "{:<10} {:>8} {:>8} {:>9} {:>8}  {:>16}  {:>6}",
        "workers", "calls", "sts", "wall", "rows", "coordinator MB", "worker MB (each)"
    );
    let mut alone: Option<BTreeMap<String, u64>> = None;
    for n in [0usize, 1, 2, 4] {
        tokio::time::sleep(Duration::from_secs(3)).await;
        sandbox.reset_calls();
        let mut workers: Vec<(Child, String)> =
            (0..n).map(|_| spawn_worker(&exe, &sandbox, &accounts)).collect();
        let list = workers.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(",");
        let out = Command::new(&exe)
            .args(["--coordinator", &sandbox.endpoint_url(), &accounts, &list])
            .output()
            .expect("coordinator runs");
        let worker_mb: Vec<String> = workers
            .iter()
            .map(|(c, _)| format!("{:.0}", crate::support::peak_kb_of(&c.id().to_string()) as f64 / 1024.0))
            .collect();
        for (child, _) in &mut workers {
            let _ = child.kill();
            let _ = child.wait();
        }
        let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(_) => {
                println!("{n:<10} FAILED: {}", String::from_utf8_lossy(&out.stderr).trim());
                continue;
            }
        };
        let calls: BTreeMap<String, u64> = sandbox.calls();
        let api: u64 = calls.iter().filter(|(k, _)| !k.starts_with("sts:")).map(|(_, v)| v).sum();
        let sts: u64 = calls.iter().filter(|(k, _)| k.starts_with("sts:")).map(|(_, v)| v).sum();
        println!(
            "{:<10} {:>8} {:>8} {:>8.2}s {:>8}  {:>16.0}  {}",
            if n == 0 { "none".to_string() } else { n.to_string() },
            api,
            sts,
            report["wall_s"].as_f64().unwrap_or(0.0),
            report["rows"].as_u64().unwrap_or(0),
            report["peak_kb"].as_u64().unwrap_or(0) as f64 / 1024.0,
            if worker_mb.is_empty() { "-".to_string() } else { worker_mb.join(" ") }
        );
        if let Some(e) = report["error"].as_str() {
            println!("    error: {e}");
        }
        // Calls must not grow with workers: name each operation that differs
        // from the single process.
        match &alone {
            None => alone = Some(calls),
            Some(first) => {
                let ops: std::collections::BTreeSet<&String> = first.keys().chain(calls.keys()).collect();
                for op in ops {
                    let (was, now) =
                        (first.get(op).copied().unwrap_or(0), calls.get(op).copied().unwrap_or(0));
                    if was != now {
                        println!("    {op}: {now} (one process: {was})");
                    }
                }
            }
        }
    }
}

fn spawn_worker(exe: &std::path::Path, sandbox: &Sandbox, accounts: &str) -> (Child, String) {
    let mut child = Command::new(exe)
        .args(["--worker", &sandbox.endpoint_url(), accounts])
        .stdout(Stdio::piped())
        .spawn()
        .expect("worker starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("worker address");
    (child, line.trim().to_string())
}

async fn engine(endpoint: &str, accounts: &str) -> Engine {
    let accounts: Vec<(String, String, String)> = serde_json::from_str(accounts).expect("accounts");
    let connections = skyglue::sandbox::connections_at(endpoint, &accounts).await.expect("connections");
    Engine::new(connections, skyglue::sandbox::registry())
}

/// The cluster token the benchmark's worker and coordinator processes share.
fn security() -> skyglue_distributed::Security {
    let token =
        skyglue_distributed::ClusterToken::new("floor benchmark", "floor-benchmark-token").expect("token");
    skyglue_distributed::Security::with_token(token)
}

/// `--worker ENDPOINT ACCOUNTS`: serves until killed; prints its address first.
pub fn worker(args: &[String]) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let engine = engine(&args[0], &args[1]).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("address"));
        skyglue_distributed::serve(listener, engine, &security(), std::future::pending())
            .await
            .expect("serve");
    });
}

/// `--coordinator ENDPOINT ACCOUNTS WORKERS`: runs the query (on the
/// workers when WORKERS is not empty) and prints its wall time, rows and
/// peak memory as JSON.
pub fn coordinator(args: &[String]) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let result: Result<(usize, Duration), String> = runtime.block_on(async {
        let mut engine = engine(&args[0], &args[1]).await;
        let workers: Vec<String> = args[2].split(',').filter(|w| !w.is_empty()).map(str::to_string).collect();
        if !workers.is_empty() {
            let urls = skyglue_distributed::worker_urls(&workers, false)?;
            let channels =
                skyglue_distributed::ClusterChannels::new(&security()).map_err(|e| e.to_string())?;
            let hook = skyglue_distributed::coordinator_hook(
                &engine,
                skyglue_distributed::StaticWorkers::new(urls),
                skyglue_distributed::NamedChannels::new(channels),
            );
            engine = engine.with_session_hook(hook);
        }
        let ctx = engine.session().await.map_err(|e| e.to_string())?;
        let started = Instant::now();
        let df = ctx.sql(QUERY).await.map_err(|e| e.to_string())?;
        let batches = df.collect().await.map_err(|e| e.to_string())?;
        Ok((batches.iter().map(|b| b.num_rows()).sum(), started.elapsed()))
    });
    let (rows, wall, error) = match result {
        Ok((rows, wall)) => (rows, wall, None),
        Err(e) => (0, Duration::ZERO, Some(e)),
    };
    let out = serde_json::json!({ "wall_s": wall.as_secs_f64(), "rows": rows, "peak_kb": crate::support::peak_kb(), "error": error });
    println!("{out}");
}
