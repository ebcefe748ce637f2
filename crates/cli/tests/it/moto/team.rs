//! The team table in moto's DynamoDB (`[state] dynamodb_table`): a live
//! lease held by another host refuses an apply naming that host, an expired
//! one is taken over, and the journal's copy matches the local JSONL and is
//! what `skyglue_journal` shows on a host with no local journal.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use skyglue_core::AwsConnection;
use skyglue_policy::journal::{Entry, FILE_NAME};
use skyglue_policy::{Journal, TeamTable};

use super::cli::{Skyglue, aws_entry};
use super::world::moto;

/// Selects nothing: the run goes through every step without deleting from
/// the shared world.
const NOTHING: &str = "-- @name: team-nothing\n-- @action: delete_ecr_images\n-- @notify: none\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
    WHERE image_pushed_at < TIMESTAMP '1990-01-01T00:00:00Z'";

pub(super) async fn team_table(name: &str) -> TeamTable {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto().endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto-tests"))
        .load()
        .await;
    let connection = AwsConnection::new("a", sdk).unwrap();
    let team = TeamTable::new(&connection, name, None);
    team.create().await.unwrap();
    team
}

/// A host: its own directory, state dir and config naming the team table.
fn host(table: &str) -> Skyglue {
    let config = format!(
        "{}[state]\ndir = \"state\"\ndynamodb_table = {table:?}\n",
        aws_entry("a", None, moto().endpoint())
    );
    Skyglue::new(&config)
}

fn policy(host: &Skyglue) -> String {
    let path = host.config_path().with_file_name("policy.sql");
    std::fs::write(&path, NOTHING).unwrap();
    path.display().to_string()
}

async fn put_lease(team: &TeamTable, host: &str, expires_in_ms: i64) {
    let expires = chrono::Utc::now().timestamp_millis() + expires_in_ms;
    team.client()
        .put_item()
        .table_name(team.name())
        .item("pk", AttributeValue::S("lock#team-nothing".into()))
        .item("sk", AttributeValue::S("lock".into()))
        .item("owner", AttributeValue::S(format!("{host}/4242/run-x")))
        .item("host", AttributeValue::S(host.into()))
        .item("pid", AttributeValue::N("4242".into()))
        .item("run_id", AttributeValue::S("run-x".into()))
        .item("started", AttributeValue::S("2026-01-01T00:00:00Z".into()))
        .item("expires_at", AttributeValue::N(expires.to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_lease_refuses_the_apply_and_an_expired_one_is_taken_over() {
    let team = team_table("skyglue-lease-test").await;
    let me = host("skyglue-lease-test");
    let policy = policy(&me);

    put_lease(&team, "other-host", 60_000).await;
    let out = me.run(&["run", &policy, "--apply"]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("team-nothing is locked by run run-x (host other-host, pid 4242"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("FAILED"), "a report: {}", out.stdout);

    put_lease(&team, "other-host", -1_000).await;
    let out = me.run(&["run", &policy, "--apply"]);
    assert_eq!(out.code, Some(0), "taken over; stderr: {}", out.stderr);
    // Released at the end.
    let lease = team
        .client()
        .get_item()
        .table_name(team.name())
        .key("pk", AttributeValue::S("lock#team-nothing".into()))
        .key("sk", AttributeValue::S("lock".into()))
        .send()
        .await
        .unwrap();
    assert!(lease.item.is_none(), "released: {:?}", lease.item);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_in_dynamodb_matches_the_local_one_and_skyglue_journal_reads_it() {
    let team = team_table("skyglue-journal-test").await;
    let here = host("skyglue-journal-test");
    let out = here.run(&["run", &policy(&here), "--apply", "--format", "json"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let run_id = report["run_id"].as_str().unwrap().to_string();

    let local: Vec<Entry> = Journal::read_all(&here.config_path().with_file_name("state").join(FILE_NAME))
        .unwrap()
        .into_iter()
        .filter(|e| e.run_id == run_id)
        .collect();
    assert!(local.iter().any(|e| e.event == "run_finished"), "{local:?}");
    let mut copied: Vec<Entry> = skyglue_policy::journal::dynamodb::read_policy(&team, "team-nothing")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.run_id == run_id)
        .collect();
    copied.sort_by(|a, b| a.ts.cmp(&b.ts));
    assert_eq!(copied, local);

    // Another host, with an empty local journal, sees the run.
    let there = host("skyglue-journal-test");
    let rows =
        there.json(&format!("SELECT event FROM skyglue_journal WHERE run_id = '{run_id}' ORDER BY ts"));
    let events: Vec<&str> = rows.iter().filter_map(|r| r.get("event").and_then(|v| v.as_str())).collect();
    let expected: Vec<&str> = local.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_keeps_the_lease_and_a_lost_lease_interrupts_the_run() {
    use skyglue_policy::lock::Owner;
    use skyglue_policy::{Interrupt, Locks};

    let team = team_table("skyglue-heartbeat-test").await;
    let dir = tempfile::tempdir().unwrap();
    // A short lease, so the heartbeat (every third of it) runs several times.
    let lease = std::time::Duration::from_millis(600);
    let locks = Locks::new(dir.path()).with_team(team.clone()).with_lease(lease);
    let other = Locks::new(&dir.path().join("other-host")).with_team(team.clone()).with_lease(lease);
    let stop = Interrupt::default();
    let held = locks.acquire("team-nothing-hb", &Owner::current("run-1"), &stop).await.unwrap();

    // Well past the lease: renewed, so another host is still refused.
    tokio::time::sleep(lease * 3).await;
    let refused = other.acquire("team-nothing-hb", &Owner::current("run-2"), &Interrupt::default()).await;
    assert!(refused.unwrap_err().to_string().contains("locked by run run-1"));
    assert!(!stop.is_raised());

    // Someone takes the lease over: the next heartbeat notices and interrupts.
    team.client()
        .update_item()
        .table_name(team.name())
        .key("pk", AttributeValue::S("lock#team-nothing-hb".into()))
        .key("sk", AttributeValue::S("lock".into()))
        .update_expression("SET #owner = :other")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_values(":other", AttributeValue::S("thief".into()))
        .send()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !stop.is_raised() {
        assert!(std::time::Instant::now() < deadline, "the heartbeat never noticed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(stop.reason().unwrap_or_default().contains("lost the lock"), "{:?}", stop.reason());
    // Releasing a lease that is no longer ours leaves the thief's alone.
    held.release().await.unwrap();
    let item = team
        .client()
        .get_item()
        .table_name(team.name())
        .key("pk", AttributeValue::S("lock#team-nothing-hb".into()))
        .key("sk", AttributeValue::S("lock".into()))
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some());
}
