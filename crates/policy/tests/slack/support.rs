//! Shared by the Slack tests: sample reports, the sandbox's Slack, and
//! checks of Slack's message limits.

use serde_json::Value;
use skyglue_aws::sinks::DeleteEcrImages;
use skyglue_core::sink::{Outcome, Sink, Status, Target};
use skyglue_policy::slack::{
    MAX_BLOCKS, MAX_HEADER_CHARS, MAX_SECTION_CHARS, MAX_TEXT_CHARS, MAX_TOTAL_CHARS,
};
use skyglue_policy::{Mode, Report};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

pub const RUN_ID: &str = "20260314T092653Z-1f2e3d";

/// A report of `ecr-cleanup` over prod's two regions: `n` images of
/// repositories `web` and `api`, every fifth one skipped as in use and the
/// rest ending as `status`.
pub fn images_report(mode: Mode, n: usize, status: Status) -> Report {
    let mut report = Report::new(RUN_ID, "ecr-cleanup", mode);
    report.connections = vec!["prod/us-east-1".into(), "prod/eu-west-1".into()];
    report.params = vec![("max_age_days".into(), serde_json::json!(30))];
    report.summary.planned = n;
    report.summary.bytes_reclaimed = (n as i64 - n as i64 / 5) * 48_321_907;
    let outcomes = (0..n).map(|i| image_outcome(i, status)).collect();
    report.description = DeleteEcrImages.describe();
    report.set_outcomes("delete_ecr_images", outcomes);
    report
}

fn image_outcome(i: usize, status: Status) -> Outcome {
    let digest = format!("sha256:{:016x}{:048x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15), i);
    let repository = if i.is_multiple_of(2) { "web" } else { "api" };
    let region = if i.is_multiple_of(3) { "eu-west-1" } else { "us-east-1" };
    let target = Target::from_pairs([
        ("account_id", "111111111111"),
        ("region", region),
        ("registry_id", "111111111111"),
        ("repository_name", repository),
        ("image_digest", digest.as_str()),
    ]);
    match status {
        _ if i % 5 == 4 => Outcome::skipped(
            target,
            format!("in use by arn:aws:ecs:{region}:111111111111:service/prod/{repository}"),
        ),
        Status::Failed => {
            Outcome::failed(target, "AccessDeniedException: not authorized to perform ecr:BatchDeleteImage")
        }
        status => Outcome { target, status, reason: None },
    }
}

/// A sandbox with the demo world and `config`.
pub async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(World::demo(), config).await.unwrap()
}

/// Calls of a sandbox operation (`slack:Webhook`, `slack:PostMessage`).
pub fn calls(sandbox: &Sandbox, op: &str) -> u64 {
    sandbox.calls().get(op).copied().unwrap_or(0)
}

/// `message` with `run_id` replaced by `[run_id]` everywhere, for snapshots.
pub fn redacted(message: &Value, run_id: &str) -> Value {
    serde_json::from_str(&message.to_string().replace(run_id, "[run_id]")).unwrap()
}

/// Every text in the message's blocks: header, sections, fields, context.
pub fn block_texts(message: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for block in message["blocks"].as_array().unwrap() {
        out.extend(block["text"]["text"].as_str().map(str::to_string));
        let parts = block["fields"].as_array().into_iter().chain(block["elements"].as_array());
        out.extend(parts.flatten().filter_map(|p| p["text"].as_str().map(str::to_string)));
    }
    out
}

/// Asserts Slack's limits: blocks, header, section and fallback lengths, total.
pub fn assert_within_limits(message: &Value) {
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= MAX_BLOCKS, "{} blocks", blocks.len());
    let header = blocks[0]["text"]["text"].as_str().unwrap();
    assert!(header.chars().count() <= MAX_HEADER_CHARS, "header of {} chars", header.chars().count());
    let texts = block_texts(message);
    for text in &texts {
        assert!(text.chars().count() <= MAX_SECTION_CHARS, "a text of {} chars", text.chars().count());
    }
    let total: usize = texts.iter().map(|t| t.chars().count()).sum();
    assert!(total <= MAX_TOTAL_CHARS, "{total} chars in blocks");
    let json = serde_json::to_string(&message["blocks"]).unwrap();
    assert!(json.chars().count() < 12_000, "{} chars of block JSON", json.chars().count());
    let text = message["text"].as_str().unwrap();
    assert!(
        !text.is_empty() && text.chars().count() <= MAX_TEXT_CHARS,
        "fallback of {} chars",
        text.chars().count()
    );
}

/// The text of the section whose text starts with `title`.
pub fn section<'a>(texts: &'a [String], title: &str) -> &'a str {
    texts
        .iter()
        .find(|t| t.starts_with(title))
        .unwrap_or_else(|| panic!("no section {title:?} in {texts:#?}"))
}

/// Runs `assert` with insta's snapshots kept in `tests/snapshots/`.
pub fn in_snapshots(assert: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.bind(assert);
}
