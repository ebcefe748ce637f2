//! The S3 part of `skyglue demo`: the shipped `queries/s3_cleanup.sql`, in dry
//! run, on the demo world's bucket of CI artifacts. Its report says why it
//! keeps what it keeps (the policy's `keep_reason`: among the newest builds of
//! its branch, or built recently).

use std::io::Write;

use skyglue_policy::{PolicyFile, RunOptions, Runner};
use skyglue_sandbox::demo::CI_ARTIFACTS_BUCKET;

const S3_POLICY: &str = include_str!("../../../queries/s3_cleanup.sql");

/// Runs the S3 policy as a dry run and prints its report and the reasons;
/// returns the run's exit code.
pub async fn show(runner: &Runner) -> anyhow::Result<u8> {
    let policy = PolicyFile::parse(S3_POLICY, "queries/s3_cleanup.sql", "s3_cleanup")
        .map_err(|e| anyhow::anyhow!("the shipped S3 policy is invalid: {e}"))?;
    let options =
        RunOptions { params: vec![("bucket".into(), CI_ARTIFACTS_BUCKET.into())], ..RunOptions::default() };
    let prepared = runner
        .prepare_parsed(policy, "queries/s3_cleanup.sql", &options)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nThe same CI also uploads a build artifact per commit to s3://{CI_ARTIFACTS_BUCKET}.")?;
    writeln!(out, "Running queries/s3_cleanup.sql as a dry run: builds under builds/ older than 30 days,")?;
    writeln!(out, "except the newest 10 of each branch.\n")?;
    drop(out);
    let outcome = runner.run(prepared).await;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", outcome.report.to_text_styled(skyglue::output::stdout_colour()))?;
    if outcome.exit_code() == 0 {
        writeln!(out, "The bucket is versioned, so these deletes would add delete markers (0 B now); its")?;
        writeln!(out, "lifecycle rule then expires the noncurrent versions after 30 days.")?;
    }
    Ok(outcome.exit_code())
}
