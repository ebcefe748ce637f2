//! The Slack message for one run: Block Kit JSON with a plain `text` fallback
//! (what notifications and old clients show).
//!
//! A header with the policy and its outcome; the mode, counts, bytes
//! reclaimed (or that would be), the accounts and regions covered and the run
//! id as fields; the error when the run failed; then a compact table per
//! outcome of what was (or would be) acted on, skipped or failed, truncated
//! with "… and N more". Every part is capped so the whole stays within
//! Slack's limits: see the constants here and in `text`.

use serde_json::{Value, json};
use skyglue_core::sink::Status;

use super::table;
use super::text::{MAX_HEADER_CHARS, MAX_TEXT_CHARS, Words, capitalize, code, escape, thousands, truncate};
use crate::format::human_bytes;
use crate::report::{Mode, Report, RunStatus};

/// Characters all tables of a message share.
const TABLE_BUDGET: usize = 6000;
/// Characters of the error shown.
const ERROR_CHARS: usize = 1500;
/// Characters of the accounts and regions list and of the parameters.
const LIST_CHARS: usize = 600;

/// The Block Kit message announcing `report`.
pub fn message(report: &Report) -> Value {
    let words = Words::of(report);
    let mut blocks = vec![header(report), fields(report, &words)];
    if let Some(error) = &report.error {
        blocks.push(section(format!("*Error*\n```\n{}\n```", code(&truncate(error, ERROR_CHARS)))));
    }
    if !report.warnings.is_empty() || !report.not_checked.is_empty() {
        let lines: Vec<String> = report
            .warnings
            .iter()
            .chain(&report.not_checked_line())
            .map(|w| format!("• {}", escape(w)))
            .collect();
        blocks.push(section(format!("*Warnings*\n{}", truncate(&lines.join("\n"), ERROR_CHARS))));
    }
    blocks.extend(table::sections(report, &words, TABLE_BUDGET).into_iter().map(section));
    if !report.params.is_empty() {
        let params: Vec<String> =
            report.params.iter().map(|(name, value)| format!("{name}={value}")).collect();
        let text = format!("Parameters: {}", escape(&truncate(&params.join(", "), LIST_CHARS)));
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}));
    }
    json!({ "text": fallback(report, &words), "blocks": blocks })
}

fn header(report: &Report) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": headline(report), "emoji": true}})
}

/// `✅ ecr-cleanup: dry run`, `❌ ecr-cleanup failed` and the like.
fn headline(report: &Report) -> String {
    let policy = truncate(&report.policy, MAX_HEADER_CHARS - 40);
    let dry = report.mode == Mode::DryRun;
    match (report.status, dry) {
        (RunStatus::Ok, true) => format!("✅ {policy}: dry run"),
        (RunStatus::Ok, false) => format!("✅ {policy}: applied"),
        (RunStatus::Partial, true) => format!("⚠️ {policy}: dry run partly failed"),
        (RunStatus::Partial, false) => format!("⚠️ {policy}: partly failed"),
        (RunStatus::Failed, true) => format!("❌ {policy}: dry run failed"),
        (RunStatus::Failed, false) => format!("❌ {policy} failed"),
    }
}

fn fields(report: &Report, words: &Words) -> Value {
    let s = &report.summary;
    let dry = report.mode == Mode::DryRun;
    let (acted, count) = acted(report);
    let mut fields = vec![
        if dry { "*Mode*\nDry run: nothing was changed".to_string() } else { "*Mode*\nApply".to_string() },
        format!("*Planned*\n{}", words.count(s.planned)),
        format!("*{}*\n{}", words.title(acted, report.mode), thousands(count)),
        format!("*Skipped*\n{}", thousands(s.skipped)),
        format!("*Failed*\n{}", thousands(s.failed)),
    ];
    if s.unknown > 0 {
        fields.push(format!("*Unknown (check by hand)*\n{}", thousands(s.unknown)));
    }
    if words.sized || s.bytes_reclaimed > 0 {
        let (moved, bytes) = s.bytes_words(report.mode);
        fields.push(format!("*{}*\n{}", capitalize(moved), human_bytes(bytes)));
    }
    let covered =
        if report.connections.is_empty() { "(none)".to_string() } else { report.connections.join(", ") };
    fields.push(format!("*Accounts/regions*\n{}", escape(&truncate(&covered, LIST_CHARS))));
    fields.push(format!("*Run*\n`{}`", code(&truncate(&report.run_id, 100))));
    let fields: Vec<Value> = fields.into_iter().map(|text| json!({"type": "mrkdwn", "text": text})).collect();
    json!({"type": "section", "fields": fields})
}

/// What the run did (or would do) to its targets, and to how many: in a dry
/// run the targets still `planned`, since the summary counts only what was done.
fn acted(report: &Report) -> (Status, usize) {
    match report.mode {
        Mode::DryRun => {
            (Status::Planned, report.actions.iter().filter(|a| a.status == Status::Planned).count())
        }
        Mode::Apply => (Status::Done, report.summary.done),
    }
}

/// The `text` fallback: one line, plus the error when there is one.
fn fallback(report: &Report, words: &Words) -> String {
    let s = &report.summary;
    let mut text = headline(report);
    if report.actions.is_empty() {
        let nothing = if report.error.is_some() { "nothing was changed" } else { "nothing was selected" };
        text.push_str(&format!(" · {nothing}"));
    } else {
        let (acted, count) = acted(report);
        let verb = words.title(acted, report.mode).to_lowercase();
        text.push_str(&format!(" · {verb} {}", words.count(count)));
        if words.sized || s.bytes_reclaimed > 0 {
            let (moved, bytes) = s.bytes_words(report.mode);
            text.push_str(&format!(", {moved} {}", human_bytes(bytes)));
        }
        text.push_str(&format!(" · {} skipped · {} failed", thousands(s.skipped), thousands(s.failed)));
        if s.unknown > 0 {
            text.push_str(&format!(" · {} unknown", thousands(s.unknown)));
        }
    }
    text.push_str(&format!(" · run {}", report.run_id));
    if let Some(error) = &report.error {
        text.push_str(&format!("\nError: {error}"));
    }
    for warning in &report.warnings {
        text.push_str(&format!("\nWarning: {warning}"));
    }
    if let Some(line) = report.not_checked_line() {
        text.push_str(&format!("\n{line}"));
    }
    escape(&truncate(&text, MAX_TEXT_CHARS - 100))
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

#[cfg(test)]
mod tests {
    use skyglue_core::sink::{Outcome, Target};

    use super::super::text::{MAX_BLOCKS, MAX_SECTION_CHARS, MAX_TOTAL_CHARS};
    use super::*;

    /// A report over `n` images: all `status`, the first two skipped as in use.
    fn images(mode: Mode, n: usize, status: Status) -> Report {
        let mut r = Report::new("20260101T000000Z-abcdef", "ecr-cleanup", mode);
        r.connections = vec!["prod/us-east-1".into(), "prod/eu-west-1".into()];
        r.summary.planned = n;
        r.summary.bytes_reclaimed = 3 * 1024 * 1024 * 1024;
        let outcomes = (0..n)
            .map(|i| {
                let digest = format!("sha256:{i:064x}");
                let repo = format!("app-{}", i % 7);
                let target =
                    Target::from_pairs([("repository_name", repo.as_str()), ("image_digest", &digest)]);
                match (i, status) {
                    (0 | 1, _) => {
                        Outcome::skipped(target, "in use by arn:aws:ecs:us-east-1:1:service/prod/web")
                    }
                    (_, Status::Failed) => Outcome::failed(target, "ImageNotFound"),
                    (_, s) => Outcome { target, status: s, reason: None },
                }
            })
            .collect();
        r.description = skyglue_aws::descriptions::IMAGES;
        r.set_outcomes("delete_ecr_images", outcomes);
        r
    }

    fn texts(m: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for block in m["blocks"].as_array().into_iter().flatten() {
            out.extend(block["text"]["text"].as_str().map(str::to_string));
            for f in block["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(block["elements"].as_array().into_iter().flatten())
            {
                out.extend(f["text"].as_str().map(str::to_string));
            }
        }
        out
    }

    fn headline_of(m: &Value) -> &str {
        m["blocks"][0]["text"]["text"].as_str().unwrap_or_default()
    }

    #[test]
    fn a_thousand_deleted_images_fit_within_slack_limits() {
        let m = message(&images(Mode::Apply, 1000, Status::Done));
        let blocks = m["blocks"].as_array().map_or(0, Vec::len);
        assert!(blocks <= MAX_BLOCKS, "{blocks} blocks");
        let texts = texts(&m);
        for t in &texts {
            assert!(t.chars().count() <= MAX_SECTION_CHARS, "{} chars", t.chars().count());
        }
        let total: usize = texts.iter().map(|t| t.chars().count()).sum();
        assert!(total <= MAX_TOTAL_CHARS, "{total} chars");
        assert!(m["text"].as_str().map_or(0, |t| t.chars().count()) <= MAX_TEXT_CHARS);

        let deleted =
            texts.iter().find(|t| t.starts_with("*Deleted* (998 images)")).cloned().unwrap_or_default();
        let rows = deleted.lines().filter(|l| l.starts_with("app-")).count();
        assert!(rows > 10, "a useful number of rows is shown: {rows}");
        let more = format!("… and {} more", 998 - rows);
        assert!(deleted.ends_with(&format!("{more}\n```")), "{deleted}");
        assert!(texts.iter().any(|t| t.starts_with("*Skipped* (2 images)") && t.contains("in use by")));
    }

    #[test]
    fn long_errors_and_many_connections_stay_within_limits() {
        let mut r = images(Mode::Apply, 1000, Status::Failed);
        r.connections = (0..500).map(|i| format!("account-{i}/us-east-1")).collect();
        r.params = vec![("max_age_days".into(), serde_json::json!("x".repeat(5000)))];
        r.fail("x".repeat(20_000));
        r.policy = "p".repeat(400);
        let m = message(&r);
        let texts = texts(&m);
        let total: usize = texts.iter().map(|t| t.chars().count()).sum();
        assert!(total <= MAX_TOTAL_CHARS, "{total} chars");
        assert!(headline_of(&m).chars().count() <= MAX_HEADER_CHARS);
        assert!(m["text"].as_str().map_or(0, |t| t.chars().count()) <= MAX_TEXT_CHARS);
    }

    #[test]
    fn every_outcome_has_its_headline() {
        let ok_dry = images(Mode::DryRun, 5, Status::Planned);
        assert_eq!(headline_of(&message(&ok_dry)), "✅ ecr-cleanup: dry run");
        let ok = images(Mode::Apply, 5, Status::Done);
        assert_eq!(headline_of(&message(&ok)), "✅ ecr-cleanup: applied");
        let mut partial = images(Mode::Apply, 5, Status::Done);
        partial.set_outcomes("delete_ecr_images", {
            let mut o: Vec<Outcome> = images(Mode::Apply, 5, Status::Done)
                .actions
                .into_iter()
                .map(|a| Outcome { target: a.target, status: a.status, reason: a.reason })
                .collect();
            o[4] = Outcome::failed(o[4].target.clone(), "AccessDenied");
            o
        });
        assert_eq!(partial.status, RunStatus::Partial);
        let m = message(&partial);
        assert_eq!(headline_of(&m), "⚠️ ecr-cleanup: partly failed");
        assert!(
            texts(&m)
                .iter()
                .any(|t| t.starts_with("*Failed to delete* (1 image)") && t.contains("AccessDenied"))
        );
        let mut failed = Report::new("r", "ecr-cleanup", Mode::Apply);
        failed.fail("ecr:DescribeImages failed on prod/us-east-1: AccessDenied <boom>");
        let m = message(&failed);
        assert_eq!(headline_of(&m), "❌ ecr-cleanup failed");
        assert!(
            texts(&m).iter().any(|t| t.contains("AccessDenied &lt;boom&gt;")),
            "the error is shown, escaped"
        );
        assert!(m["text"].as_str().is_some_and(|t| t.contains("Error: ecr:DescribeImages failed")));
        let mut failed_dry = Report::new("r", "ecr-cleanup", Mode::DryRun);
        failed_dry.fail("boom");
        assert_eq!(headline_of(&message(&failed_dry)), "❌ ecr-cleanup: dry run failed");
    }

    #[test]
    fn a_dry_run_says_what_would_happen() {
        let m = message(&images(Mode::DryRun, 5, Status::Planned));
        let texts = texts(&m);
        assert!(texts.contains(&"*Would delete*\n3".to_string()), "{texts:?}");
        assert!(texts.contains(&"*Would reclaim*\n3.0 GiB".to_string()), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("*Would delete* (3 images)")));
        assert!(texts.contains(&"*Accounts/regions*\nprod/us-east-1, prod/eu-west-1".to_string()));
        assert!(texts.iter().any(|t| t.contains("20260101T000000Z-abcdef")), "the run id is shown");
    }
}
