//! What a user sees when something is wrong: the exit code, and one line on
//! stderr that names the culprit, never a backtrace.

use super::cli::{Skyglue, assert_fails, aws_entry, aws_entry_in, closed_endpoint, two_accounts};
use super::server::MotoServer;
use super::world::{moto, seed};

fn skyglue() -> Skyglue {
    Skyglue::new(&two_accounts(moto().endpoint()))
}

#[test]
fn unknown_table_is_a_usage_error_naming_the_table() {
    let out = skyglue().run(&["query", "SELECT * FROM aws_ecs_clusterz"]);
    assert_fails(&out, 2, &["aws_ecs_clusterz"]);
}

#[test]
fn unknown_column_is_a_usage_error_naming_the_column() {
    let out = skyglue().run(&["query", "SELECT cluster_nam FROM aws_ecs_cluster"]);
    assert_fails(&out, 2, &["cluster_nam"]);
}

#[test]
fn sql_syntax_error_is_a_usage_error_quoting_the_culprit() {
    let out = skyglue().run(&["query", "SELEC cluster_name FROM aws_ecs_cluster"]);
    assert_fails(&out, 2, &["SELEC"]);
}

#[test]
fn unknown_config_key_is_a_usage_error_naming_the_key() {
    let config = two_accounts(moto().endpoint()).replace("regions =", "regoins =");
    let out = Skyglue::new(&config).run(&["query", "SELECT cluster_name FROM aws_ecs_cluster"]);
    assert_fails(&out, 2, &["regoins", "skyglue.toml"]);
}

#[test]
fn missing_credentials_fail_naming_the_connection() {
    let skyglue = Skyglue::new(&aws_entry("a", None, moto().endpoint())).without_credentials();
    let out = skyglue.run(&["query", "SELECT cluster_name FROM aws_ecs_cluster"]);
    assert_fails(&out, 1, &["credentials", "connection a/"]);
}

#[test]
fn unreachable_endpoint_fails_naming_the_connection() {
    let config = aws_entry_in("offline", None, &["us-east-1"], &closed_endpoint());
    let out = Skyglue::new(&config).run(&["query", "SELECT cluster_name FROM aws_ecs_cluster"]);
    assert_fails(&out, 1, &["connection offline/us-east-1"]);
}

#[test]
fn one_failing_connection_fails_the_whole_query_without_partial_rows() {
    let config =
        two_accounts(moto().endpoint()) + &aws_entry_in("broken", None, &["eu-west-1"], &closed_endpoint());
    let out =
        Skyglue::new(&config).run(&["query", "SELECT cluster_name FROM aws_ecs_cluster", "--format", "json"]);
    assert_fails(&out, 1, &["connection broken/eu-west-1"]);
    assert_eq!(out.stdout, "", "no partial rows");
}

/// Moto enforces IAM policies once told to, but answers a denied ECS call
/// with an XML body that the SDK's JSON protocol cannot parse, so skyglue
/// cannot tell it is AccessDenied (the sandbox tests cover that message).
/// What holds regardless: the query fails, naming the call and the connection.
#[test]
fn denied_call_fails_naming_the_operation_and_connection() {
    let server = MotoServer::start().expect("a second moto server");
    let keys: serde_json::Value =
        serde_json::from_str(&seed(&server, &["--denied-reader"]).expect("seed the reader")).expect("keys");
    let key = |k: &str| keys[k].as_str().expect("key").to_string();
    let skyglue = Skyglue::new(&aws_entry_in("reader", None, &["us-east-1"], server.endpoint()))
        .credentials(&key("access_key_id"), &key("secret_access_key"));

    let allowed = skyglue.run(&["query", "SELECT repository_name FROM aws_ecr_repository"]);
    assert_eq!(allowed.code, Some(0), "the reader may use ECR: {}", allowed.stderr);
    let denied = skyglue.run(&["query", "SELECT cluster_name FROM aws_ecs_cluster"]);
    assert_fails(&denied, 1, &["ecs:ListClusters", "connection reader/us-east-1"]);
}
