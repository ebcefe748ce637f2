//! Scenarios, their floors, and the child process that runs one.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use skyglue_core::Engine;
use skyglue_sandbox::World;
use skyglue_sandbox::world::RegionWorld;

pub const LATENCY: f64 = 0.020;
/// skyglue's per-connection concurrency for per-repository and per-key work.
const CONCURRENCY: f64 = 8.0;

/// Fewest calls per operation, and the shortest wall time.
#[derive(Debug, Default, Clone)]
pub struct Floor {
    pub calls: BTreeMap<String, u64>,
    pub wall: Duration,
}

impl Floor {
    fn add(&mut self, op: &str, n: u64) {
        *self.calls.entry(op.to_string()).or_default() += n;
    }

    fn merge(mut self, other: Floor) -> Floor {
        for (op, n) in other.calls {
            self.add(&op, n);
        }
        self
    }
}

pub struct Scenario {
    pub name: &'static str,
    pub floor: fn(&World) -> Floor,
}

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

fn batches(n: usize, size: usize) -> u64 {
    n.div_ceil(size) as u64
}

fn connections(world: &World) -> Vec<&RegionWorld> {
    world.accounts.iter().flat_map(|a| a.regions.iter()).collect()
}

/// Seconds to make `calls` calls against a bucket of `burst` refilled at `rate`.
fn bucket_secs(calls: u64, burst: u64, rate: f64) -> f64 {
    calls.saturating_sub(burst) as f64 / rate
}

/// Every scan first learns its connection's account id (one STS call).
fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(LATENCY) + LATENCY)
}

fn repositories(world: &World) -> Floor {
    let mut f = Floor::default();
    for c in connections(world) {
        f.add("ecr:DescribeRepositories", pages(c.repositories.len(), 1000));
    }
    f.wall = seconds(LATENCY);
    f
}

fn images(world: &World) -> Floor {
    let mut f = repositories(world);
    let mut chain: f64 = 0.0;
    for c in connections(world) {
        let per_repo: Vec<u64> = c.repositories.iter().map(|r| pages(r.images.len(), 1000)).collect();
        let total: u64 = per_repo.iter().sum();
        f.add("ecr:DescribeImages", total);
        let longest = per_repo.iter().copied().max().unwrap_or(0) as f64;
        chain = chain.max(1.0 + longest.max(total as f64 / CONCURRENCY));
    }
    f.wall = seconds(chain * LATENCY);
    f
}

fn clusters_listed(world: &World, f: &mut Floor) {
    for c in connections(world) {
        f.add("ecs:ListClusters", pages(c.clusters.len(), 100));
    }
}

fn clusters(world: &World) -> Floor {
    let mut f = Floor::default();
    clusters_listed(world, &mut f);
    for c in connections(world) {
        f.add("ecs:DescribeClusters", batches(c.clusters.len(), 100));
    }
    f.wall = seconds(2.0 * LATENCY);
    f
}

fn services_only(world: &World) -> Floor {
    let mut f = Floor::default();
    let mut secs: f64 = 0.0;
    for c in connections(world) {
        let (mut list, mut describe) = (0, 0);
        for cl in &c.clusters {
            list += pages(cl.services.len(), 100);
            describe += batches(cl.services.len(), 10);
        }
        f.add("ecs:ListServices", list);
        f.add("ecs:DescribeServices", describe);
        secs = secs.max(bucket_secs(list + describe, 100, 20.0));
    }
    f.wall = seconds(secs + 3.0 * LATENCY);
    f
}

fn services(world: &World) -> Floor {
    let mut f = services_only(world);
    clusters_listed(world, &mut f);
    f
}

fn tasks_only(world: &World) -> Floor {
    let mut f = Floor::default();
    let mut secs: f64 = 0.0;
    for c in connections(world) {
        let (mut list, mut describe) = (0, 0);
        for cl in &c.clusters {
            for stopped in [false, true] {
                let n = cl.tasks.iter().filter(|t| (t.desired_status == "STOPPED") == stopped).count();
                list += pages(n, 100);
                describe += batches(n, 100);
            }
        }
        f.add("ecs:ListTasks", list);
        f.add("ecs:DescribeTasks", describe);
        secs = secs.max(bucket_secs(list + describe, 100, 20.0));
    }
    f.wall = seconds(secs + 3.0 * LATENCY);
    f
}

fn tasks(world: &World) -> Floor {
    let mut f = tasks_only(world);
    clusters_listed(world, &mut f);
    f
}

fn task_definition_listing(world: &World) -> Floor {
    let mut f = Floor::default();
    let mut chain: f64 = 0.0;
    for c in connections(world) {
        let active = c.task_definitions.iter().filter(|t| t.status == "ACTIVE").count();
        let inactive = c.task_definitions.len() - active;
        let n = pages(active, 100) + pages(inactive, 100);
        f.add("ecs:ListTaskDefinitions", n);
        chain = chain
            .max(pages(active, 100).max(pages(inactive, 100)) as f64 * LATENCY + bucket_secs(n, 50, 20.0));
    }
    f.wall = seconds(chain);
    f
}

fn task_definitions(world: &World) -> Floor {
    let mut f = task_definition_listing(world);
    let mut secs: f64 = 0.0;
    for c in connections(world) {
        let n = c.task_definitions.len() as u64;
        f.add("ecs:DescribeTaskDefinition", n);
        let listing = pages(c.task_definitions.len(), 100);
        secs = secs.max(bucket_secs(n + listing, 50, 20.0));
    }
    f.wall = seconds(secs);
    f
}

/// Services, tasks, and the task definitions their deployments use.
fn in_use(world: &World) -> Floor {
    let mut f = services(world).merge(tasks_only(world));
    let mut secs: f64 = 0.0;
    for c in connections(world) {
        let used: HashSet<&str> = c
            .clusters
            .iter()
            .flat_map(|cl| {
                cl.services.iter().flat_map(|s| s.deployments.iter().map(|d| d.task_definition.as_str()))
            })
            .collect();
        f.add("ecs:DescribeTaskDefinition", used.len() as u64);
        secs = secs.max(bucket_secs(used.len() as u64, 50, 20.0));
    }
    f.wall = seconds(secs + 4.0 * LATENCY);
    f
}

fn is_sha(tag: &str) -> bool {
    (tag.len() == 7 || tag.len() == 40) && tag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The cleanup policy's own query: images of every repository, the in-use
/// view, the repository map's tags, the distinct commits by GraphQL (100 per
/// query), and image_in_use's other default sources.
fn cleanup_query(world: &World) -> Floor {
    let imgs = images(world);
    let use1 = in_use(world);
    let mut f = imgs.clone().merge(use1.clone()).merge(crate::scale::in_use_listings(world));
    // The repository map lists the repositories once more and reads each
    // one's tags (ListTagsForResource, one each).
    f.add("ecr:DescribeRepositories", connections(world).len() as u64);
    f.add("ecr:ListTagsForResource", connections(world).iter().map(|c| c.repositories.len() as u64).sum());
    let commits: HashSet<String> = connections(world)
        .iter()
        .flat_map(|c| c.repositories.iter().flat_map(|r| r.images.iter()))
        .flat_map(|i| i.tags.iter().filter(|t| is_sha(t)).map(|t| t[..7].to_string()))
        .collect();
    let github_queries = batches(commits.len(), 100);
    f.add("github:graphql", github_queries);
    // image_in_use's other default sources: one page of functions and one of
    // job definitions per connection.
    f.add("lambda:ListFunctions", connections(world).len() as u64);
    f.add("batch:DescribeJobDefinitions", connections(world).len() as u64);
    let github_secs = (github_queries as f64 / CONCURRENCY).ceil() * LATENCY;
    f.wall = seconds((imgs.wall.as_secs_f64() + github_secs).max(use1.wall.as_secs_f64()));
    f
}

/// The guardrail reads the manifests of the image indexes it keeps, 100 per call.
fn index_reads(world: &World, f: &mut Floor) {
    let calls: u64 = connections(world)
        .iter()
        .flat_map(|c| c.repositories.iter())
        .map(|r| batches(r.images.iter().filter(|i| !i.child_digests.is_empty()).count(), 100))
        .sum();
    f.add("ecr:BatchGetImage", calls);
}

/// A dry run: the query, then the sink's check on what the query read
/// (nothing is deleted, so the check reuses the run's reads), which only
/// adds the kept indexes' manifests.
fn cleanup(world: &World) -> Floor {
    let mut f = cleanup_query(world);
    index_reads(world, &mut f);
    f.wall += Duration::from_secs_f64(LATENCY);
    f
}

/// An applying run: the query, the check's fresh re-read (the in-use view,
/// its other sources, and a listing of the repositories with targets), the
/// kept indexes' manifests; the deletes (100 image ids per BatchDeleteImage)
/// are added from the run's own count (see `phases::delete_floor`).
fn cleanup_apply(world: &World) -> Floor {
    let query = cleanup_query(world);
    let check = in_use(world).merge(images(world)).merge(crate::scale::in_use_listings(world));
    let mut f = query.clone().merge(check.clone());
    f.add("lambda:ListFunctions", connections(world).len() as u64);
    f.add("batch:DescribeJobDefinitions", connections(world).len() as u64);
    index_reads(world, &mut f);
    f.wall = query.wall + check.wall + Duration::from_secs_f64(LATENCY);
    f
}

/// Adds `deletes` BatchDeleteImage calls to an applying run's floor, at
/// skyglue's concurrency on every connection.
pub fn with_deletes(mut floor: Floor, world: &World, deletes: u64) -> Floor {
    floor.add("ecr:BatchDeleteImage", deletes);
    let per_connection = (deletes as f64 / connections(world).len().max(1) as f64 / CONCURRENCY).ceil();
    floor.wall += Duration::from_secs_f64(per_connection * LATENCY);
    floor
}

/// The archive scenario archives the oldest [`ARCHIVED`] images of this
/// repository (it lives in one connection, as every benchmark repository does).
const ARCHIVE_REPOSITORY: &str = "app-01";
/// How many images the archive scenario selects: one UpdateImageStorageClass
/// each, at that operation's own rate (half the ECR rate: 10 a second).
const ARCHIVED: usize = 100;
/// skyglue's UpdateImageStorageClass bucket per connection: burst and rate.
const STORAGE_CLASS_RATE: f64 = 10.0;

/// The archive scenario's policy: the oldest images of one repository.
fn archive_policy() -> String {
    format!(
        "-- @name: bench-archive\n-- @action: archive_ecr_images\n-- @max_deletes: {ARCHIVED}\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
         WHERE repository_name = '{ARCHIVE_REPOSITORY}' AND image_status = 'ACTIVE' \
         ORDER BY image_pushed_at, image_digest LIMIT {ARCHIVED}"
    )
}

/// An applying archive run: its query describes the repository in every
/// connection (one answer of RepositoryNotFound where it is not), the check
/// re-reads it with the in-use view, its other sources and the kept indexes'
/// manifests; the UpdateImageStorageClass calls, one per archived image, are
/// added from the run's own count (see [`with_moves`]).
fn archive_apply(world: &World) -> Floor {
    let use1 = in_use(world);
    let mut f = use1.clone().merge(crate::scale::in_use_listings(world));
    let mut listing: u64 = 0;
    for c in connections(world) {
        let repo = c.repositories.iter().find(|r| r.name == ARCHIVE_REPOSITORY);
        let p = repo.map_or(1, |r| pages(r.images.len(), 1000));
        listing = listing.max(p);
        f.add("ecr:DescribeImages", 2 * p);
        let indexes = repo.map_or(0, |r| r.images.iter().filter(|i| !i.child_digests.is_empty()).count());
        f.add("ecr:BatchGetImage", batches(indexes, 100));
    }
    f.add("lambda:ListFunctions", connections(world).len() as u64);
    f.add("batch:DescribeJobDefinitions", connections(world).len() as u64);
    f.wall = seconds(listing as f64 * LATENCY) + use1.wall.max(seconds(listing as f64 * LATENCY));
    f
}

/// Adds `moves` UpdateImageStorageClass calls (all in one connection: the
/// scenario's repository's) at skyglue's rate for that operation.
pub fn with_moves(mut floor: Floor, moves: u64) -> Floor {
    floor.add("ecr:UpdateImageStorageClass", moves);
    let secs = bucket_secs(moves, STORAGE_CLASS_RATE as u64, STORAGE_CLASS_RATE) + LATENCY;
    floor.wall += Duration::from_secs_f64(secs);
    floor
}

fn none(_: &World) -> Floor {
    Floor { calls: BTreeMap::new(), wall: Duration::ZERO }
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "scan aws_ecr_repository", floor: repositories },
        Scenario { name: "scan aws_ecr_image", floor: images },
        Scenario { name: "scan aws_ecs_cluster", floor: clusters },
        Scenario { name: "scan aws_ecs_service", floor: services },
        Scenario { name: "scan aws_ecs_task", floor: tasks },
        Scenario { name: "scan aws_ecs_task_definition list", floor: task_definition_listing },
        Scenario { name: "scan aws_ecs_task_definition all", floor: task_definitions },
        Scenario { name: "view aws_ecs_image_in_use", floor: in_use },
        Scenario { name: "policy ecr_cleanup.sql dry run", floor: cleanup },
        // Each on a world of its own (see `scale`).
        Scenario { name: crate::scale::X10, floor: cleanup },
        Scenario { name: crate::scale::MANY, floor: cleanup },
        Scenario { name: "repeated query (2nd run, cached)", floor: none },
        Scenario { name: "scan aws_s3_object (100k objects)", floor: s3_objects },
        Scenario { name: "policy s3_cleanup.sql dry run", floor: s3_cleanup },
        Scenario { name: crate::declared::SCENARIO, floor: crate::declared::floor },
        // It archives 100 images, which the cleanup below then leaves alone.
        Scenario { name: "policy archive 100 images apply", floor: archive_apply },
        // Last: it deletes the images the other scenarios read.
        Scenario { name: "policy ecr_cleanup.sql apply", floor: cleanup_apply },
    ]
}

/// The benchmark's bucket of CI artifacts: 10 branches x 10,000 builds, one
/// object each, in the first account's us-east-1, aged 0-199 days.
pub const S3_BUCKET: &str = "bench-artifacts";

/// Adds [`S3_BUCKET`] to `world`.
pub fn with_s3_bucket(world: &mut World) {
    let account = world.accounts[0].id.clone();
    let now = chrono::Utc::now();
    let mut bucket = skyglue_sandbox::world::S3Bucket::new(&account, "us-east-1", S3_BUCKET);
    for branch in 0..10 {
        for build in 0..10_000 {
            let age = chrono::Duration::minutes(((10_000 - build) * 29) as i64);
            bucket =
                bucket.with_object(&format!("builds/b{branch}/{build:05}/app.tar.gz"), 1_000_000, now - age);
        }
    }
    world.s3_buckets.push(bucket);
}

fn s3_object_count(world: &World) -> usize {
    world.s3_buckets.iter().map(|b| b.live_object_count()).sum()
}

/// ListBuckets once per account (it names each bucket's region), then the
/// bucket's objects 1,000 per ListObjectsV2 page, one page after another.
fn s3_objects(world: &World) -> Floor {
    let mut f = Floor::default();
    f.add("s3:ListBuckets", world.accounts.len() as u64);
    let pages = pages(s3_object_count(world), 1000);
    f.add("s3:ListObjectsV2", pages);
    f.wall = seconds((1 + pages) as f64 * LATENCY);
    f
}

/// The policy's listing, then the check's fresh re-read of the objects it
/// selected (one listing of their common prefix when they are many) and of
/// the bucket's versioning: twice the listing, since a delete is checked
/// against fresh data.
fn s3_cleanup(world: &World) -> Floor {
    let listing = s3_objects(world);
    let mut f = listing.clone().merge(listing.clone());
    f.add("s3:ListBuckets", world.accounts.len() as u64);
    f.add("s3:GetBucketVersioning", 1);
    f.wall = listing.wall * 2 + seconds(2.0 * LATENCY);
    f
}

fn sql(name: &str) -> Option<&'static str> {
    Some(match name {
        "scan aws_ecr_repository" => "SELECT * FROM aws_ecr_repository",
        "scan aws_ecr_image" => "SELECT * FROM aws_ecr_image",
        "scan aws_ecs_cluster" => "SELECT * FROM aws_ecs_cluster",
        "scan aws_ecs_service" => "SELECT * FROM aws_ecs_service",
        "scan aws_ecs_task" => "SELECT * FROM aws_ecs_task",
        "scan aws_ecs_task_definition list" => {
            "SELECT task_definition_arn, family, revision, status FROM aws_ecs_task_definition"
        }
        "scan aws_ecs_task_definition all" => "SELECT * FROM aws_ecs_task_definition",
        "view aws_ecs_image_in_use" => "SELECT * FROM aws_ecs_image_in_use",
        crate::declared::SCENARIO => crate::declared::SQL,
        "scan aws_s3_object (100k objects)" => {
            "SELECT * FROM aws_s3_object WHERE bucket_name = 'bench-artifacts'"
        }
        _ => return None,
    })
}

/// The shipped policy, or the file `SKYGLUE_BENCH_POLICY` names (to measure
/// a variant without rebuilding); its repository map comes from the
/// connections' `[github] repositories` (see `scale::configure`).
fn cleanup_policy() -> String {
    let policy = match std::env::var_os("SKYGLUE_BENCH_POLICY") {
        Some(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("SKYGLUE_BENCH_POLICY={}: {e}", path.to_string_lossy())),
        None => include_str!("../../../../queries/ecr_cleanup.sql").to_string(),
    };
    // The benchmark world's commits are mostly old: let the dry run select them all.
    policy.replace("-- @max_deletes: 500", "-- @max_deletes: 1000000")
}

/// Runs one scenario against the sandbox at `args[1]`; prints a JSON line.
pub fn child(args: &[String]) {
    let (name, endpoint, accounts) = (args[0].as_str(), args[1].as_str(), args[2].as_str());
    let accounts: Vec<(String, String, String)> = serde_json::from_str(accounts).expect("accounts");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut setup_s = 0.0;
    let result = runtime.block_on(async {
        let started = Instant::now();
        let mut connections =
            skyglue::sandbox::connections_at(endpoint, &accounts).await.expect("connections");
        crate::scale::configure(name, &mut connections);
        let registry = skyglue::sandbox::registry().merge(crate::declared::registry());
        let engine = Engine::new(connections, registry);
        setup_s = started.elapsed().as_secs_f64();
        run(name, engine, endpoint).await
    });
    let (run, error) = match result {
        Ok(run) => (run, None),
        Err(e) => (Ran::default(), Some(e)),
    };
    let out = serde_json::json!({
        "wall_s": run.wall.as_secs_f64(),
        "rows": run.rows,
        "peak_kb": peak_kb(),
        "error": error,
        "phases": run.phases,
        "delete_floor": run.delete_floor,
        "moves": run.moves,
        "setup_s": setup_s,
    });
    println!("{out}");
}

/// What a scenario's run reports to the parent.
#[derive(Default)]
struct Ran {
    rows: usize,
    wall: Duration,
    /// A policy run's stage marks (see `phases`).
    phases: serde_json::Value,
    /// An applying run's BatchDeleteImage floor.
    delete_floor: u64,
    /// An applying archive run's images archived: its UpdateImageStorageClass floor.
    moves: u64,
}

/// The shipped S3 policy on the benchmark bucket.
fn s3_cleanup_policy() -> String {
    include_str!("../../../../queries/s3_cleanup.sql")
        .replace("-- @param bucket: acme-ci-artifacts", &format!("-- @param bucket: {S3_BUCKET}"))
        .replace("-- @max_deletes: 5000", "-- @max_deletes: 1000000")
}

/// Runs the scenario; returns its rows and the wall time of the work itself
/// (session setup excluded).
async fn run(name: &str, engine: Engine, endpoint: &str) -> Result<Ran, String> {
    if let Some(sql) = sql(name) {
        let ctx = engine.session().await.map_err(|e| e.to_string())?;
        let started = Instant::now();
        let batches =
            ctx.sql(sql).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())?;
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        return Ok(Ran { rows, wall: started.elapsed(), ..Ran::default() });
    }
    if name.starts_with("repeated") {
        let engine = engine.with_cache(Duration::from_secs(300));
        let ctx = engine.session().await.map_err(|e| e.to_string())?;
        let q = "SELECT service_name, desired_count FROM aws_ecs_service";
        ctx.sql(q).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())?;
        reset_calls(endpoint).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let b = ctx.sql(q).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())?;
        return Ok(Ran {
            rows: b.iter().map(|b| b.num_rows()).sum(),
            wall: started.elapsed(),
            ..Ran::default()
        });
    }
    let dir = std::env::temp_dir().join(format!("skyglue-bench-{}", std::process::id()));
    let journal = Arc::new(skyglue_policy::Journal::open(&dir).map_err(|e| e.to_string())?);
    let marks = crate::phases::Marks::new(endpoint);
    let runner = skyglue_policy::Runner::new(engine, journal, skyglue_aws::sinks::all(), None)
        .with_stage_observer(marks.observer());
    let archive = name.contains("archive");
    let text = if name.contains("s3_cleanup") {
        s3_cleanup_policy()
    } else if archive {
        archive_policy()
    } else {
        cleanup_policy()
    };
    let policy =
        skyglue_policy::PolicyFile::parse(&text, "policy.sql", "policy").map_err(|e| e.to_string())?;
    let apply = name.ends_with(" apply");
    let options = skyglue_policy::RunOptions { notify: Some(false), apply, ..Default::default() };
    let started = Instant::now();
    let prepared = runner.prepare_parsed(policy, "policy.sql", &options).await.map_err(|e| e.to_string())?;
    if std::env::var_os("SKYGLUE_BENCH_EXPLAIN").is_some() {
        // Where a policy's memory goes: each operator's metrics (build_mem_used,
        // peak_mem_used, ...) on stderr, from a run of the query alone.
        let analyzed = prepared.query.clone().explain(false, true).map_err(|e| e.to_string())?;
        let batches = analyzed.collect().await.map_err(|e| e.to_string())?;
        let text =
            datafusion::arrow::util::pretty::pretty_format_batches(&batches).map_err(|e| e.to_string())?;
        eprintln!("{text}");
        eprintln!("peak after EXPLAIN ANALYZE: {} MB", peak_kb() / 1024);
    }
    let outcome = runner.run(prepared).await;
    let wall = started.elapsed();
    marks.mark("end");
    let _ = std::fs::remove_dir_all(&dir);
    let (delete_floor, moves) = match (apply, archive) {
        (true, false) => (crate::phases::delete_floor(&outcome.report), 0),
        (true, true) => (0, outcome.report.summary.done as u64),
        (false, _) => (0, 0),
    };
    match outcome.report.error {
        Some(e) => Err(e),
        None => Ok(Ran {
            rows: outcome.report.summary.planned,
            wall,
            phases: marks.to_json(),
            delete_floor,
            moves,
        }),
    }
}

fn reset_calls(endpoint: &str) -> std::io::Result<()> {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr)?;
    write!(
        stream,
        "POST /_sandbox/reset_calls HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut sink = Vec::new();
    stream.read_to_end(&mut sink)?;
    Ok(())
}

/// Peak resident memory of this process, from /proc.
pub fn peak_kb() -> u64 {
    peak_kb_of("self")
}

/// Peak resident memory (VmHWM) of `process` (a pid, or `self`), in KiB.
pub fn peak_kb_of(process: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}
