//! DataFusion's own settings from `DATAFUSION_*` variables, as datafusion-cli
//! reads them: the policy's peak memory depends on its partitions (see
//! BENCHMARKS.md), and a user can now choose them without a rebuild.

use crate::declared::skyglue;

const TARGET_PARTITIONS: &str =
    "SELECT value FROM information_schema.df_settings WHERE name = 'datafusion.execution.target_partitions'";

#[test]
fn a_datafusion_variable_sets_the_session_and_skyglue_keeps_its_own_settings() {
    let (code, out, err) = skyglue(
        &["query", "--format", "csv", TARGET_PARTITIONS],
        &[("DATAFUSION_EXECUTION_TARGET_PARTITIONS", "3")],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("3"), "{out}");

    // skyglue's join settings are not the environment's to undo.
    let joins = "SELECT value FROM information_schema.df_settings WHERE name = 'datafusion.optimizer.repartition_joins'";
    let (code, out, err) =
        skyglue(&["query", "--format", "csv", joins], &[("DATAFUSION_OPTIMIZER_REPARTITION_JOINS", "true")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("false"), "{out}");
}

#[test]
fn queries_run_in_one_partition_unless_the_environment_says_otherwise() {
    let (code, out, err) = skyglue(&["query", "--format", "csv", TARGET_PARTITIONS], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("1"), "{out}");
}

#[test]
fn a_variable_that_does_not_parse_is_named_and_the_defaults_kept() {
    let (code, out, err) = skyglue(
        &["query", "--format", "csv", TARGET_PARTITIONS],
        &[("DATAFUSION_EXECUTION_TARGET_PARTITIONS", "many")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("ignoring the DATAFUSION_* settings"), "{err}");
    assert!(err.contains("many"), "the bad value is not named: {err}");
    assert_eq!(out.lines().nth(1), Some("1"), "skyglue's default partitions: {out}");
}
