//! The S3 part of `skyglue demo`: the shipped `queries/s3_cleanup.sql`, in dry
//! run, on the demo world's bucket of CI artifacts, and why it keeps what it
//! keeps (per branch: builds, the newest kept, the old ones that would go).

use std::io::Write;

use anyhow::Context;
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
    write!(out, "{}", shortened(&outcome.report.to_text(), 5))?;
    drop(out);
    if outcome.exit_code() == 0 {
        why(runner).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "The bucket is versioned, so these deletes would add delete markers (0 B now); its")?;
        writeln!(out, "lifecycle rule then expires the noncurrent versions after 30 days.")?;
    }
    Ok(outcome.exit_code())
}

/// The report text with only the first `keep` target lines of each status.
fn shortened(text: &str, keep: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    let mut hidden = 0;
    for line in text.lines() {
        let is_target = line.starts_with("  planned ") || line.starts_with("  skipped ");
        if is_target && shown >= keep {
            hidden += 1;
            continue;
        }
        if !is_target && hidden > 0 {
            out.push_str(&format!("  ... and {hidden} more (see --format json)\n"));
            hidden = 0;
        }
        shown += usize::from(is_target);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Per branch: how many builds, how many old ones would go, which are kept.
async fn why(runner: &Runner) -> anyhow::Result<()> {
    let sql = format!(
        "WITH build AS (
             SELECT split_part(key, '/', 2) AS branch, split_part(key, '/', 3) AS build,
                    max(last_modified) AS built_at, sum(size) AS bytes
             FROM aws_s3_object WHERE bucket_name = '{CI_ARTIFACTS_BUCKET}' AND prefix = 'builds/'
             GROUP BY 1, 2
         ),
         ranked AS (
             SELECT *, dense_rank() OVER (PARTITION BY branch ORDER BY built_at DESC, build DESC) AS newest
             FROM build
         )
         SELECT branch, count(*) AS builds,
                sum(CASE WHEN newest > 10 AND built_at < days_ago(30) THEN 1 ELSE 0 END) AS would_go,
                sum(CASE WHEN newest <= 10 THEN 1 ELSE 0 END) AS newest_kept,
                sum(CASE WHEN newest > 10 AND built_at >= days_ago(30) THEN 1 ELSE 0 END) AS recent_kept
         FROM ranked GROUP BY branch ORDER BY builds DESC, branch"
    );
    let ctx = runner.engine().session().await.context("failed to open a session")?;
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Why, per branch (each branch keeps its newest 10 builds; older ones go after 30 days):")?;
    for batch in &batches {
        let branch = skyglue_core::columns::strings(batch, "branch");
        let [builds, go, newest, recent] = ["builds", "would_go", "newest_kept", "recent_kept"]
            .map(|c| skyglue_core::columns::int64s(batch, c));
        for i in 0..batch.num_rows() {
            writeln!(
                out,
                "  {:<12} {:>3} builds: keeps the newest {}{}, would delete {}",
                branch[i].as_deref().unwrap_or("?"),
                builds[i].unwrap_or(0),
                newest[i].unwrap_or(0),
                match recent[i].unwrap_or(0) {
                    0 => String::new(),
                    n => format!(" and {n} more from the last 30 days"),
                },
                go[i].unwrap_or(0),
            )?;
        }
    }
    Ok(())
}
