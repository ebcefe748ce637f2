//! The benchmark: skyglue's API calls, wall time and peak memory against the
//! floor, on DESIGN.md's benchmark world.
//!
//! ```sh
//! cargo bench -p skyglue --bench floor            # every scenario
//! cargo bench -p skyglue --bench floor -- cleanup # scenarios whose name contains "cleanup"
//! cargo bench -p skyglue --bench floor -- workers # 1 process vs 1, 2, 4 workers (workers.rs)
//! ```
//!
//! The parent process builds the world (2 accounts x 2 regions, 100,000
//! images in 40 repositories, 20,000 task definitions, 400 services, 1,000
//! tasks, 5,000 commits, a few schedules and Kubernetes workloads, and a
//! bucket of 100,000 CI artifacts; the scale scenarios have worlds of their
//! own, see `scale`) and serves it from the sandbox with 20 ms per call
//! and the real ECS throttling. Each scenario runs in a child process of its
//! own, so its peak memory (VmHWM) is skyglue's alone; the parent reads the
//! sandbox's call counters afterwards.
//!
//! `SKYGLUE_BENCH_EXPLAIN=1` prints a policy scenario's `EXPLAIN ANALYZE`
//! (each operator's memory among its metrics) on stderr, and
//! `SKYGLUE_BENCH_POLICY=FILE` measures that policy file in place of the
//! shipped `ecr_cleanup.sql` (to try a variant without rebuilding).
//! `SKYGLUE_BENCH_WRAP="heaptrack -o /tmp/ht"` runs each scenario's child
//! under that command (a profiler); its peak then includes the profiler's.
//!
//! The policy scenarios also print their phases (query, GitHub within it,
//! guardrail, delete: see `phases`); the last but one archives 100 images
//! (one UpdateImageStorageClass each), and the last applies the cleanup
//! policy, deleting what it selects.
//!
//! The call floor is the fewest calls the documented page and batch sizes
//! allow for what the query needs; the wall floor is the larger of the ECS
//! rate limits (calls beyond the burst at the sustained rate) and the chain of
//! calls that must follow one another at 20 ms each, at skyglue's concurrency.
#![allow(missing_docs)]

mod declared;
mod phases;
mod scale;
mod support;
#[cfg(feature = "distributed")]
mod workers;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use scale::Size;
use skyglue_sandbox::{Sandbox, SandboxConfig};
use support::{Floor, Scenario, scenarios};

const LATENCY: Duration = Duration::from_millis(20);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("--child") => return support::child(&args[1..]),
        #[cfg(feature = "distributed")]
        Some("--worker") => return workers::worker(&args[1..]),
        #[cfg(feature = "distributed")]
        Some("--coordinator") => return workers::coordinator(&args[1..]),
        _ => {}
    }
    let filter = args.first().cloned().unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    #[cfg(feature = "distributed")]
    if filter == "workers" {
        return runtime.block_on(workers::parent());
    }
    runtime.block_on(parent(&filter));
}

async fn parent(filter: &str) {
    let chosen: Vec<Scenario> = scenarios().into_iter().filter(|s| s.name.contains(filter)).collect();
    let rest = declared::RestFake::start(LATENCY).await;
    let exe = std::env::current_exe().expect("exe");
    let mut details = Vec::new();
    for size in Size::ALL {
        let group: Vec<&Scenario> = chosen.iter().filter(|s| Size::of(s.name) == size).collect();
        if !group.is_empty() {
            details.extend(run_group(size, &group, &rest, &exe).await);
        }
    }
    println!("\nper operation (calls / floor; throttled answers are counted in calls):");
    for (name, calls, floor, throttled) in details {
        println!("  {name}");
        let ops: std::collections::BTreeSet<&String> = calls.keys().chain(floor.calls.keys()).collect();
        for op in ops {
            let t = throttled.get(op).copied().unwrap_or(0);
            let t = if t > 0 { format!(" ({t} throttled)") } else { String::new() };
            println!(
                "    {op:<36} {:>7} / {:<7}{t}",
                calls.get(op).copied().unwrap_or(0),
                floor.calls.get(op).copied().unwrap_or(0)
            );
        }
    }
}

/// One scenario's calls, floor and throttled answers by operation.
type Detail = (&'static str, BTreeMap<String, u64>, Floor, BTreeMap<String, u64>);

/// Builds the world of `size`, serves it, and runs `group` on it, each
/// scenario in a child process.
async fn run_group(
    size: Size,
    group: &[&Scenario],
    rest: &declared::RestFake,
    exe: &std::path::Path,
) -> Vec<Detail> {
    let started = Instant::now();
    let world = size.world();
    println!(
        "world: {} images, {} task definitions, {} connections, built in {:.2?}",
        world.image_count(),
        world.task_definition_count(),
        world.accounts.iter().map(|a| a.regions.len()).sum::<usize>(),
        started.elapsed()
    );
    let config = SandboxConfig { latency: LATENCY, ..SandboxConfig::default() };
    let sandbox = Sandbox::start(world.clone(), config).await.expect("sandbox");
    let kubeconfig = std::env::temp_dir().join(format!("skyglue-bench-kubeconfig-{}", std::process::id()));
    std::fs::write(&kubeconfig, sandbox.kubeconfig()).expect("kubeconfig");
    let accounts = serde_json::to_string(&skyglue::sandbox::accounts(&world)).expect("json");
    println!(
        "\n{:<34} {:>8} {:>8} {:>6}  {:>9} {:>9} {:>6}  {:>8}",
        "scenario", "calls", "floor", "ratio", "wall", "floor", "ratio", "peak MB"
    );
    let mut details = Vec::new();
    for scenario in group {
        // Let the sandbox's ECS buckets refill, so each scenario starts fresh.
        tokio::time::sleep(Duration::from_secs(3)).await;
        sandbox.reset_calls();
        rest.take_calls();
        let wrap = std::env::var("SKYGLUE_BENCH_WRAP").unwrap_or_default();
        let mut command: Vec<String> = wrap.split_whitespace().map(str::to_string).collect();
        command.push(exe.display().to_string());
        let out = Command::new(&command[0])
            .args(&command[1..])
            .args(["--child", scenario.name, &sandbox.endpoint_url(), &accounts])
            .env(declared::URL_ENV, &rest.base)
            .env(declared::TOKEN_ENV, "bench")
            .env(scale::KUBECONFIG_ENV, &kubeconfig)
            .output()
            .expect("child runs");
        if std::env::var_os("SKYGLUE_BENCH_EXPLAIN").is_some() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(_) => {
                println!("{:<34} FAILED: {}", scenario.name, String::from_utf8_lossy(&out.stderr).trim());
                continue;
            }
        };
        let all = sandbox.calls();
        let sts: u64 = all.iter().filter(|(k, _)| k.starts_with("sts:")).map(|(_, n)| n).sum();
        let mut calls: BTreeMap<String, u64> =
            all.into_iter().filter(|(k, _)| !k.starts_with("sts:") && !k.starts_with("slack:")).collect();
        calls.extend(rest.take_calls());
        let mut floor = (scenario.floor)(&world);
        if let Some(deletes) = report["delete_floor"].as_u64().filter(|n| *n > 0) {
            floor = support::with_deletes(floor, &world, deletes);
        }
        if let Some(moves) = report["moves"].as_u64().filter(|n| *n > 0) {
            floor = support::with_moves(floor, moves);
        }
        print_row(scenario, &report, &calls, &floor);
        phases::print(&report["phases"], &sandbox.call_spans(), LATENCY);
        if size == Size::Many {
            let connections = world.accounts.iter().map(|a| a.regions.len()).sum();
            scale::print_connections(&report, sts, connections);
        }
        details.push((scenario.name, calls, floor, sandbox.throttled_calls()));
    }
    let _ = std::fs::remove_file(&kubeconfig);
    details
}

fn print_row(s: &Scenario, report: &serde_json::Value, calls: &BTreeMap<String, u64>, floor: &Floor) {
    let total: u64 = calls.values().sum();
    let floor_total: u64 = floor.calls.values().sum();
    let wall = Duration::from_secs_f64(report["wall_s"].as_f64().unwrap_or(0.0));
    let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() };
    let peak = report["peak_kb"].as_u64().unwrap_or(0) as f64 / 1024.0;
    println!(
        "{:<34} {:>8} {:>8} {:>6}  {:>8.2}s {:>8.2}s {:>6}  {:>8.0}",
        s.name,
        total,
        floor_total,
        ratio(total as f64, floor_total as f64),
        wall.as_secs_f64(),
        floor.wall.as_secs_f64(),
        ratio(wall.as_secs_f64(), floor.wall.as_secs_f64()),
        peak
    );
    if let Some(e) = report["error"].as_str() {
        println!("    error: {e}");
    }
}
