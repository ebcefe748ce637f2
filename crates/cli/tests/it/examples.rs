//! The embedding examples and the extension points they show.
//!
//! Each example in `examples/` is built and run against the sandbox, and must
//! exit 0 and print what its doc promises. A test-only table and sink then
//! check the extension points directly: key values and `LIMIT` reach a
//! caller's table, and a caller's sink is driven and journaled by the runner.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use skyglue_core::sink::{ActionLog, Checked, Description, Group, Noun, Outcome, Part, Sink, Status, Target};
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, ColumnSpec, Connections, Engine, FetchContext, Registry, Scope, TableSpec};
use skyglue_policy::{Journal, Mode, RunOptions, RunStatus, Runner};

use crate::support::rows;

// ---- the examples, run as programs --------------------------------------------------------------

/// The directory of the example binaries, built once per test run.
///
/// `cargo test` builds examples, but `cargo test --test it` does not, and a
/// binary left from an earlier build may be stale: so build them here, which
/// is a no-op when they are fresh. They sit beside the `skyglue` binary, in
/// `<target dir>[/<triple>]/<profile>/examples`.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile_dir =
            Path::new(env!("CARGO_BIN_EXE_skyglue")).parent().expect("the binary has a directory");
        // Cargo tags the root of every target directory it creates, and
        // keeps its rustc cache there (also in a directory made beforehand).
        let target_dir = profile_dir
            .ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").exists() || dir.join(".rustc_info.json").exists())
            .expect("the binary is inside a cargo target directory");
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "-p", "skyglue", "--examples", "--target-dir"]).arg(target_dir);
        let triple = profile_dir.parent().filter(|dir| *dir != target_dir).and_then(Path::file_name);
        if let Some(triple) = triple {
            cargo.arg("--target").arg(triple);
        }
        match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => {}
            Some(profile) => {
                cargo.args(["--profile", profile]);
            }
        }
        let out = cargo.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build --examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples")
    })
}

/// Runs an example, asserts it exits 0, and returns its stdout.
fn run_example(name: &str) -> String {
    let out = Command::new(examples_dir().join(name)).output().expect("the example starts");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "example {name} failed ({}):\n{stdout}\n{stderr}", out.status);
    stdout.into_owned()
}

#[test]
fn query_example_joins_own_tables_and_streams() {
    let out = run_example("query");
    assert!(out.contains("ECS services and the team that owns them:"), "{out}");
    let web_batch = out.lines().find(|l| l.contains("web-batch")).unwrap_or_default();
    assert!(web_batch.contains("data"), "the caller's own table joins skyglue's: {out}");
    assert!(out.contains("streamed 24 images in"), "{out}");
}

#[test]
fn custom_table_example_pushes_the_owner_and_the_limit_to_the_api() {
    let out = run_example("custom_table");
    let requests: Vec<&str> = out.lines().filter(|l| l.starts_with("server requests:")).collect();
    assert_eq!(
        requests,
        ["server requests: 7", "server requests: 2", "server requests: 1"],
        "a full listing pages 20 widgets by 3, WHERE owner reads that owner's 2 pages, LIMIT 2 reads one:\n{out}"
    );
    assert!(out.contains("| 20      |"), "{out}");
    assert!(out.contains("widget-16"), "{out}");
}

#[test]
fn run_policy_example_records_only_images_not_in_use() {
    let out = run_example("run_policy");
    assert!(out.contains("policy record-old-web-images · apply"), "{out}");
    assert!(out.contains("15 planned, 10 done, 5 skipped, 0 failed"), "{out}");
    assert!(out.contains(" in use by arn:aws:ecs:"), "the in-use guardrail holds for a custom sink: {out}");
    let recorded = out.lines().filter(|l| l.starts_with("{\"account_id\":\"111111111111\"")).count();
    assert_eq!(recorded, 10, "one JSON line per image done: {out}");
    assert!(out.contains("journal: "), "{out}");
}

// ---- a test-only table ----------------------------------------------------------------------------

static ITEMS: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "items",
    description: "25 items for each of owners a, b, c and d, 10 per page.",
    scope: Scope::Global,
    columns: vec![
        ColumnSpec::new("owner", text(), "The owner: an optional key.").optional_key(),
        ColumnSpec::new("name", text(), "owner-n."),
        ColumnSpec::new("n", DataType::Int64, "The item's number within its owner."),
    ],
    not_found_codes: &[],
    rate_limits: vec![],
    operations: &[],
});

#[derive(Serialize, Clone)]
struct Item {
    owner: String,
    name: String,
    n: i64,
}

/// Serves pages lazily, as an API would, and records each "request".
#[derive(Debug, Default, Clone)]
struct Items {
    requests: Arc<Mutex<Vec<String>>>,
}

impl Items {
    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

impl ApiTable for Items {
    fn spec(&self) -> &TableSpec {
        &ITEMS
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, skyglue_core::Result<RecordBatch>> {
        let owners: Vec<String> = match ctx.keys.get("owner") {
            Some(owners) => owners.to_vec(),
            None => ["a", "b", "c", "d"].map(String::from).to_vec(),
        };
        let pages: Vec<(String, usize, Vec<Item>)> = owners
            .into_iter()
            .flat_map(|owner| {
                let items: Vec<Item> = (1..=25)
                    .map(|n| Item { owner: owner.clone(), name: format!("{owner}-{n}"), n })
                    .collect();
                let pages: Vec<Vec<Item>> = items.chunks(10).map(<[Item]>::to_vec).collect();
                pages.into_iter().enumerate().map(move |(i, page)| (owner.clone(), i + 1, page))
            })
            .collect();
        let requests = self.requests.clone();
        futures::stream::iter(pages)
            .map(move |(owner, page, items)| {
                requests.lock().unwrap().push(format!("owner={owner} page={page}"));
                ctx.metrics.call();
                ctx.batch(&items)
            })
            .boxed()
    }
}

fn items_engine(items: &Items) -> Engine {
    Engine::new(Connections::default(), Registry::new().table(items.clone()))
}

#[tokio::test]
async fn a_callers_table_gets_key_values_and_stops_at_limit() {
    let items = Items::default();
    let ctx = items_engine(&items).session().await.unwrap();
    let query = |sql: &'static str| {
        let ctx = ctx.clone();
        async move { ctx.sql(sql).await.unwrap().collect().await.unwrap() }
    };

    let batches = query("SELECT name FROM items WHERE owner = 'b'").await;
    assert_eq!(rows(&batches), 25);
    assert_eq!(items.take_requests(), ["owner=b page=1", "owner=b page=2", "owner=b page=3"]);

    let batches = query("SELECT name FROM items WHERE owner IN ('a', 'c') AND n > 20").await;
    assert_eq!(rows(&batches), 10, "filters that are not keys still apply");
    assert_eq!(items.take_requests().len(), 6, "only owners a and c were listed");

    let batches = query("SELECT name FROM items LIMIT 5").await;
    assert_eq!(rows(&batches), 5);
    assert_eq!(items.take_requests(), ["owner=a page=1"], "LIMIT stops paging");

    let batches = query("SELECT name FROM items").await;
    assert_eq!(rows(&batches), 100);
    assert_eq!(items.take_requests().len(), 12, "without keys, everything is listed");
}

// ---- a test-only sink -----------------------------------------------------------------------------

/// Records the names it is given; fails the one named `fail`; its check
/// keeps the one named `keep`.
#[derive(Default)]
struct RecordNames {
    applied: Mutex<Vec<Target>>,
    checked: Mutex<usize>,
    fail: &'static str,
    keep: &'static str,
}

#[async_trait]
impl Sink for RecordNames {
    fn action(&self) -> &str {
        "record_names"
    }

    fn required_columns(&self) -> &[&str] {
        &["name"]
    }

    fn optional_columns(&self) -> &[&str] {
        &["owner"]
    }

    fn describe(&self) -> Description {
        const NAMES: Description = Description {
            noun: Noun { one: "name", many: "names" },
            group: Group { prefix: "", parts: &[Part::or_dash("owner")] },
            ..Description::DEFAULT
        };
        NAMES
    }

    async fn check(&self, _: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
        *self.checked.lock().unwrap() += 1;
        let (kept, go): (Vec<Target>, Vec<Target>) =
            targets.into_iter().partition(|t| t.get("name") == Some(self.keep));
        let skipped = kept.into_iter().map(|t| Outcome::skipped(t, "kept by its check")).collect();
        Ok(Checked { proceed: go, skipped, ..Checked::default() })
    }

    async fn apply(&self, _: &Arc<Connections>, targets: Vec<Target>, log: &dyn ActionLog) -> Vec<Outcome> {
        log.intent("names:Record", &targets).unwrap();
        self.applied.lock().unwrap().extend(targets.iter().cloned());
        let outcomes: Vec<Outcome> = targets
            .into_iter()
            .map(|t| {
                if t.get("name") == Some(self.fail) {
                    Outcome::failed(t, "refused")
                } else {
                    Outcome::done(t)
                }
            })
            .collect();
        log.outcome("names:Record", &outcomes).unwrap();
        outcomes
    }
}

const NAMES_POLICY: &str = "-- @name: first-names\n-- @action: record_names\n-- @param owner: b\n\
    SELECT owner, name FROM items WHERE owner = $owner LIMIT 3";

#[tokio::test]
async fn a_callers_sink_is_driven_and_journaled_by_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("names.sql");
    std::fs::write(&policy, NAMES_POLICY).unwrap();
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let items = Items::default();
    let sink = Arc::new(RecordNames { fail: "b-3", keep: "b-2", ..RecordNames::default() });
    let runner = Runner::new(items_engine(&items), journal.clone(), vec![sink.clone()], None);

    // A dry run plans and journals, and never calls the sink.
    let prepared = runner.prepare(&policy, &RunOptions::default()).await.unwrap();
    let dry = runner.run(prepared).await.report;
    assert_eq!((dry.mode, dry.status, dry.summary.planned), (Mode::DryRun, RunStatus::Ok, 3));
    assert_eq!(dry.actions.iter().filter(|a| a.status == Status::Planned).count(), 2);
    assert_eq!(dry.summary.skipped, 1, "the sink's own check keeps b-2 in a dry run too");
    assert_eq!(*sink.checked.lock().unwrap(), 1, "a dry run runs the sink's check");
    assert!(sink.applied.lock().unwrap().is_empty(), "a dry run applies nothing");
    assert_eq!(items.take_requests(), ["owner=b page=1"], "the key and the LIMIT reach the table");

    let options = RunOptions { apply: true, ..RunOptions::default() };
    let outcome = runner.run(runner.prepare(&policy, &options).await.unwrap()).await;
    let report = &outcome.report;
    let names: Vec<String> =
        sink.applied.lock().unwrap().iter().filter_map(|t| t.get("name").map(str::to_string)).collect();
    assert_eq!(names, ["b-1", "b-3"], "the sink got exactly the rows its check let through");
    assert_eq!((report.summary.done, report.summary.failed, report.summary.skipped), (1, 1, 1));
    assert_eq!(report.status, RunStatus::Partial);
    assert_eq!(outcome.exit_code(), 1, "a failed action fails the run");

    let entries = Journal::read_all(journal.path()).unwrap();
    let events = |run: &str| -> Vec<(String, Option<String>)> {
        entries.iter().filter(|e| e.run_id == run).map(|e| (e.event.clone(), e.status.clone())).collect()
    };
    let dry_events: Vec<String> = events(&dry.run_id).into_iter().map(|(event, _)| event).collect();
    assert_eq!(dry_events, ["run_started", "planned", "planned", "planned", "run_finished"]);
    let applied = events(&report.run_id);
    let count = |event: &str, status: Option<&str>| {
        applied.iter().filter(|(e, s)| e == event && (status.is_none() || s.as_deref() == status)).count()
    };
    assert_eq!(count("intent", None), 2, "an intent before the call, per target: {applied:?}");
    assert_eq!(count("outcome", Some("done")), 1, "{applied:?}");
    assert_eq!(count("outcome", Some("failed")), 1, "{applied:?}");
    let intent = applied.iter().position(|(e, _)| e == "intent");
    let first_outcome = applied.iter().position(|(e, _)| e == "outcome");
    assert!(intent < first_outcome, "intents are written before outcomes: {applied:?}");
    assert_eq!(
        applied.last().map(|(e, s)| (e.as_str(), s.as_deref())),
        Some(("run_finished", Some("partial")))
    );
}
