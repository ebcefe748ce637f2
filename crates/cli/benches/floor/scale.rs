//! The scale scenarios (issue 35) and the in-use listings every world now has.
//!
//! - `policy ecr_cleanup.sql dry run x10`: the cleanup policy's dry run on
//!   ten times the benchmark world (10 accounts x 2 regions, 1,000,000 images
//!   in 400 repositories, 200,000 task definitions, 4,000 services, 10,000
//!   tasks, 50,000 commits), same latency and throttling.
//! - `policy ecr_cleanup.sql dry run 500 connections`: the same policy on
//!   250 accounts x 2 regions with a few resources each; it also prints the
//!   connections' setup time, the STS calls and the peak per connection.
//!
//! Every world gets a few EventBridge rules and Scheduler schedules per
//! (account, region) and one Kubernetes cluster of workloads
//! ([`World::with_schedules_and_workloads`]), so the dry run reads the in-use
//! listings of `ecs_schedules` and `kubernetes`; [`in_use_listings`] is their
//! floor. Each world gets a sandbox of its own, started when a scenario on
//! it is chosen; the child finds its Kubernetes cluster through the
//! kubeconfig file [`KUBECONFIG_ENV`] names.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use skyglue_core::Connections;
use skyglue_core::config::InUseSources;
use skyglue_core::connection::KubeContext;
use skyglue_sandbox::{BENCH_KUBE_CONTEXT, GenerateSpec, World};

use crate::support::{Floor, LATENCY};

/// The dry run on ten times the benchmark world.
pub const X10: &str = "policy ecr_cleanup.sql dry run x10";
/// The dry run on 250 accounts x 2 regions.
pub const MANY: &str = "policy ecr_cleanup.sql dry run 500 connections";
/// Accounts of [`MANY`]'s world (2 regions each).
const MANY_ACCOUNTS: usize = 250;

/// The environment variable that tells the child the kubeconfig of the
/// sandbox's Kubernetes cluster.
pub const KUBECONFIG_ENV: &str = "SKYGLUE_BENCH_KUBECONFIG";

/// Which world a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// DESIGN.md's benchmark world (and its S3 bucket).
    Benchmark,
    /// Ten times it.
    X10,
    /// 250 accounts x 2 regions, a few resources each.
    Many,
}

impl Size {
    /// Every size, in the order their scenarios run.
    pub const ALL: [Size; 3] = [Size::Benchmark, Size::X10, Size::Many];

    /// The world `scenario` runs on.
    pub fn of(scenario: &str) -> Size {
        match scenario {
            X10 => Size::X10,
            MANY => Size::Many,
            _ => Size::Benchmark,
        }
    }

    fn spec(self) -> GenerateSpec {
        match self {
            Size::Benchmark => GenerateSpec::benchmark(),
            Size::X10 => GenerateSpec::benchmark_x10(),
            Size::Many => GenerateSpec::many_connections(MANY_ACCOUNTS),
        }
    }

    /// The seeded world, with its schedules and workloads: 5 rules and 5
    /// schedules per (account, region), 60 workloads (600 at x10, 20 with
    /// many connections, where one rule and one schedule per connection).
    pub fn world(self) -> World {
        let (per_region, workloads) = match self {
            Size::Benchmark => (5, 60),
            Size::X10 => (5, 600),
            Size::Many => (1, 20),
        };
        let mut world = World::generate(&self.spec()).with_schedules_and_workloads(per_region, workloads);
        if self == Size::Benchmark {
            crate::support::with_s3_bucket(&mut world);
        }
        world
    }
}

/// Points the child's connections at its world: `[github] repositories`
/// (app-NN is built from acme/app-1 or -2), the sandbox's Kubernetes cluster
/// and the in-use sources that count it.
pub fn configure(scenario: &str, connections: &mut Connections) {
    let repositories = Size::of(scenario).spec().repositories;
    connections.github.repositories =
        (0..repositories).map(|i| (format!("app-{:02}", i + 1), format!("acme/app-{}", i % 2 + 1))).collect();
    if let Some(path) = std::env::var_os(KUBECONFIG_ENV) {
        let context = KubeContext::new(Some(path.into()), Some(BENCH_KUBE_CONTEXT.to_string()));
        connections.kubernetes = vec![Arc::new(context)];
        connections.in_use = InUseSources::from_config(&Default::default(), true);
    }
}

/// Kubernetes lists 500 items per page.
const KUBE_PAGE: usize = 500;

/// The in-use listings of the schedules and the Kubernetes workloads, and
/// the chain of calls they wait on:
///
/// - per connection: ListEventBuses (one page), ListRules per bus (100 per
///   page; the benchmark's rules are on the default bus), ListTargetsByRule
///   per rule, ListSchedules (100 per page), GetSchedule per schedule with an
///   ECS target (ListSchedules has no targets), and DescribeTaskDefinition
///   per distinct revision the rules and schedules pin (their view reads the
///   task definitions by those keys, apart from the services' revisions);
/// - per Kubernetes cluster: ListPods and one list per workload kind
///   (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs),
///   500 per page, at least one page each.
pub fn in_use_listings(world: &World) -> Floor {
    let mut f = Floor::default();
    let mut add = |op: &str, n: u64| *f.calls.entry(op.to_string()).or_default() += n;
    let mut chain: f64 = 0.0;
    for account in &world.accounts {
        for rw in &account.regions {
            let buses: HashSet<&str> =
                rw.event_rules.iter().map(|r| r.event_bus.as_str()).chain(["default"]).collect();
            add("events:ListEventBuses", 1);
            for bus in &buses {
                let rules = rw.event_rules.iter().filter(|r| r.event_bus == *bus).count();
                add("events:ListRules", pages(rules, 100));
            }
            add("events:ListTargetsByRule", rw.event_rules.len() as u64);
            add("scheduler:ListSchedules", pages(rw.schedules.len(), 100));
            let ecs_schedules = rw.schedules.iter().filter(|s| s.task_definition.is_some()).count();
            add("scheduler:GetSchedule", ecs_schedules as u64);
            let pinned: HashSet<String> = rw
                .event_rules
                .iter()
                .flat_map(|r| r.targets.iter().filter_map(|t| t.task_definition.as_deref()))
                .chain(rw.schedules.iter().filter_map(|s| s.task_definition.as_deref()))
                .map(|td| td.rsplit('/').next().unwrap_or(td).to_string())
                .collect();
            add("ecs:DescribeTaskDefinition", pinned.len() as u64);
            // Buses, rules, targets, then the task definitions they pin.
            chain = chain.max(4.0);
        }
    }
    for cluster in &world.kubernetes {
        add("kubernetes:ListPods", pages(cluster.pods.len(), KUBE_PAGE));
        let mut by_kind: BTreeMap<&str, usize> =
            ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
                .into_iter()
                .map(|k| (k, 0))
                .collect();
        for w in &cluster.workloads {
            *by_kind.entry(w.kind.as_str()).or_default() += 1;
        }
        for (kind, n) in by_kind {
            add(&format!("kubernetes:List{kind}s"), pages(n, KUBE_PAGE));
        }
    }
    f.wall = std::time::Duration::from_secs_f64(chain * LATENCY);
    f
}

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

/// The lines printed under [`MANY`]'s row: connection setup, STS calls, and
/// the peak per connection.
pub fn print_connections(report: &serde_json::Value, sts: u64, connections: usize) {
    let setup = report["setup_s"].as_f64().unwrap_or(0.0);
    let peak = report["peak_kb"].as_u64().unwrap_or(0) as f64 / 1024.0;
    println!(
        "    {connections} connections: setup {setup:.2}s, {sts} STS calls, {:.2} MB peak per connection",
        peak / connections.max(1) as f64
    );
}
