//! The acceptance check from the brief, and filters on `region` and
//! `account_id` that prune the fan-out over connections.

use std::collections::BTreeSet;

use super::cli::{Skyglue, aws_entry_in, closed_endpoint, text, two_accounts};
use super::compare::assert_same;
use super::world::{ACCOUNT_B, moto};

/// `(account_id, region, service_name)` of every seeded service.
fn seeded_services() -> BTreeSet<(String, String, String)> {
    moto()
        .world
        .ecs
        .iter()
        .flat_map(|p| {
            p.services.iter().map(|s| (p.account_id.clone(), p.region.clone(), s.service_name.clone()))
        })
        .collect()
}

#[test]
fn acceptance_query_lists_services_of_both_accounts_and_regions() {
    let skyglue = Skyglue::new(&two_accounts(moto().endpoint()));
    let out = skyglue.run(&["query", "SELECT account_id, region, service_name FROM aws_ecs_service"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    // The default table format: `| 123456789012 | us-east-1 | web |`.
    let listed: BTreeSet<(String, String, String)> = out
        .stdout
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", account, region, service, ""] if account.chars().all(|c| c.is_ascii_digit()) => {
                    Some((account.to_string(), region.to_string(), service.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    let expected = seeded_services();
    let places: BTreeSet<(&str, &str)> = expected.iter().map(|(a, r, _)| (a.as_str(), r.as_str())).collect();
    assert_eq!(places.len(), 4, "services in two accounts x two regions");
    assert_same(&listed, &expected);
}

#[test]
fn region_filter_skips_connections_in_other_regions() {
    // A third connection, unreachable, in us-east-1 only: the query can succeed
    // only if the filter keeps skyglue from calling it.
    let config =
        two_accounts(moto().endpoint()) + &aws_entry_in("offline", None, &["us-east-1"], &closed_endpoint());
    let skyglue = Skyglue::new(&config);
    let rows = skyglue
        .json("SELECT account_id, region, service_name FROM aws_ecs_service WHERE region = 'eu-west-1'");
    let listed: BTreeSet<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let cell = |c| text(r, c).unwrap_or_default().to_string();
            (cell("account_id"), cell("region"), cell("service_name"))
        })
        .collect();
    let expected: BTreeSet<_> =
        seeded_services().into_iter().filter(|(_, region, _)| region == "eu-west-1").collect();
    assert_eq!(expected.iter().map(|(a, ..)| a).collect::<BTreeSet<_>>().len(), 2, "both accounts");
    assert_same(&listed, &expected);
}

#[test]
fn account_filter_returns_only_that_accounts_rows() {
    let skyglue = Skyglue::new(&two_accounts(moto().endpoint()));
    let sql = format!(
        "SELECT account_id, region, task_definition_arn FROM aws_ecs_task_definition WHERE account_id = '{ACCOUNT_B}'"
    );
    let rows = skyglue.json(&sql);
    let listed: BTreeSet<String> =
        rows.iter().map(|r| text(r, "task_definition_arn").unwrap_or_default().to_string()).collect();
    let expected: BTreeSet<String> = moto()
        .world
        .ecs
        .iter()
        .filter(|p| p.account_id == ACCOUNT_B)
        .flat_map(|p| p.task_definitions.iter().map(|td| td.task_definition_arn.clone()))
        .collect();
    assert_same(&listed, &expected);
    assert!(rows.iter().all(|r| text(r, "account_id") == Some(ACCOUNT_B)), "{rows:?}");
    let regions: BTreeSet<&str> = rows.iter().filter_map(|r| text(r, "region")).collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1", "us-east-1"]));
}
