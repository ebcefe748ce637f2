//! `--memory-limit` and `[engine] memory_limit`: DataFusion's operators share
//! a spilling pool of that size, so a sort larger than the limit spills to
//! disk instead of growing, and a query that cannot fit at all fails with a
//! message that names the limit.

use crate::declared::skyglue;

/// A sort of 300,000 short strings: several MiB held in memory unspilled.
const BIG_SORT: &str = "SELECT concat('row-', cast((value * 7919) % 300007 AS VARCHAR)) AS h \
                        FROM generate_series(1, 300000) ORDER BY h";

const CREDENTIALS: &[(&str, &str)] = &[("AWS_ACCESS_KEY_ID", "unused"), ("AWS_SECRET_ACCESS_KEY", "unused")];

/// The sum of the `spill_count` metrics in an `EXPLAIN ANALYZE` output.
fn spills(explained: &str) -> u64 {
    explained
        .split("spill_count=")
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_sort_past_the_limit_spills_to_disk_and_still_answers() {
    let explain = format!("EXPLAIN ANALYZE {BIG_SORT}");
    let (code, out, err) =
        skyglue(&["query", "--memory-limit", "4MiB", "--format", "csv", &explain], CREDENTIALS);
    assert_eq!(code, 0, "{err}");
    assert!(spills(&out) > 0, "the sort did not spill under a 4 MiB limit: {out}");

    let (code, out, err) = skyglue(&["query", "--format", "csv", &explain], CREDENTIALS);
    assert_eq!(code, 0, "{err}");
    assert_eq!(spills(&out), 0, "without a limit the sort stays in memory: {out}");

    // The spilled sort answers as the one in memory does.
    let middle = format!("SELECT h FROM ({BIG_SORT}) LIMIT 3 OFFSET 150000");
    let (code, spilled, err) =
        skyglue(&["query", "--memory-limit", "4MiB", "--format", "csv", &middle], CREDENTIALS);
    assert_eq!(code, 0, "{err}");
    let (code, in_memory, err) = skyglue(&["query", "--format", "csv", &middle], CREDENTIALS);
    assert_eq!(code, 0, "{err}");
    assert_eq!(spilled, in_memory);
    assert_eq!(spilled.lines().count(), 4, "{spilled}");
}

#[test]
fn a_query_that_cannot_fit_names_the_limit() {
    let (code, _, err) = skyglue(&["query", "--memory-limit", "1K", BIG_SORT], CREDENTIALS);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("memory limit of 1 KiB"), "{err}");
    assert!(err.contains("--memory-limit"), "the message says what to change: {err}");
}

#[test]
fn the_config_sets_the_limit_and_the_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("skyglue.toml");
    std::fs::write(&config, "[engine]\nmemory_limit = \"1K\"\n").unwrap();
    let config = config.display().to_string();
    let (code, _, err) = skyglue(&["--config", &config, "query", BIG_SORT], CREDENTIALS);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("memory limit of 1 KiB"), "{err}");

    let (code, _, err) =
        skyglue(&["--config", &config, "query", "--memory-limit", "64MiB", BIG_SORT], CREDENTIALS);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_size_that_does_not_parse_is_a_usage_error() {
    let (code, _, err) = skyglue(&["query", "--memory-limit", "lots", "SELECT 1"], CREDENTIALS);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a size"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("skyglue.toml");
    std::fs::write(&config, "[engine]\nmemory_limit = \"5 parsecs\"\n").unwrap();
    let (code, _, err) =
        skyglue(&["--config", &config.display().to_string(), "query", "SELECT 1"], CREDENTIALS);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("parsecs"), "{err}");
}
