//! The tables of a Slack message: one monospace code block per outcome
//! (failed, done, would be done, skipped), rows cut to fit a character budget
//! and closed with "… and N more".
//!
//! Columns are the targets' key columns in the order the sink describes them
//! ([`Description`]), shortened to stay readable in a chat window: a digest
//! keeps its first 12 hex digits, a task definition ARN its
//! `family:revision`. The columns that locate a group (the account, region
//! and registry) only get a column when they differ between targets;
//! otherwise the message's fields say them.

use std::collections::BTreeSet;

use skyglue_core::sink::{Description, Form, Status};

use super::text::{MAX_SECTION_CHARS, Words, code, thousands, truncate};
use crate::report::{ActionReport, Report};

/// Widest cell.
const CELL_CHARS: usize = 40;
/// Widest reason.
const REASON_CHARS: usize = 80;
/// Room kept for the "… and N more" line.
const MORE_LINE: usize = 32;

/// The sections' mrkdwn texts, sharing `budget` characters, each within
/// Slack's section limit.
pub(crate) fn sections(report: &Report, words: &Words, budget: usize) -> Vec<String> {
    let description = &report.description;
    let columns = columns(description, &report.actions);
    let groups: Vec<(Status, Vec<&ActionReport>)> =
        [Status::Failed, Status::Done, Status::Planned, Status::Skipped]
            .into_iter()
            .map(|status| (status, report.actions.iter().filter(|a| a.status == status).collect::<Vec<_>>()))
            .filter(|(_, rows)| !rows.is_empty())
            .collect();
    let mut remaining = budget;
    let mut out = Vec::new();
    for (i, (status, rows)) in groups.iter().enumerate() {
        let share = (remaining / (groups.len() - i)).min(MAX_SECTION_CHARS);
        let title = format!("*{}* ({})", words.title(*status, report.mode), words.count(rows.len()));
        // Done rows show theirs when they have one: what S3 did with a key
        // (deleted for good, or only a delete marker added) is news.
        let with_reason =
            matches!(status, Status::Failed | Status::Skipped) || rows.iter().any(|a| a.reason.is_some());
        let text = section(description, &title, &columns, rows, with_reason, share);
        remaining = remaining.saturating_sub(text.chars().count());
        out.push(text);
    }
    out
}

/// The columns to show, in display order: the described ones first, any
/// others by name; those that locate a group only when they vary.
fn columns(description: &Description, actions: &[ActionReport]) -> Vec<String> {
    let names: BTreeSet<&str> = actions.iter().flat_map(|a| a.target.columns.keys()).collect();
    let varies = |column: &str| {
        let values: BTreeSet<Option<&str>> = actions.iter().map(|a| a.target.get(column)).collect();
        values.len() > 1
    };
    let ordered = description.columns.iter().map(|c| c.name).filter(|c| names.contains(c));
    let others = names.iter().copied().filter(|c| description.column(c).is_none());
    ordered
        .chain(others)
        .filter(|c| !description.context.contains(c) || varies(c))
        .map(str::to_string)
        .collect()
}

/// One section: title, then the code block of as many rows as fit `max` characters.
fn section(
    description: &Description,
    title: &str,
    columns: &[String],
    rows: &[&ActionReport],
    with_reason: bool,
    max: usize,
) -> String {
    let mut heading: Vec<String> = columns.iter().map(|c| heading(description, c)).collect();
    if with_reason {
        heading.push("REASON".into());
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|a| {
            let mut row: Vec<String> =
                columns.iter().map(|c| cell(description.form_of(c), a.target.get(c))).collect();
            if with_reason {
                row.push(truncate(a.reason.as_deref().unwrap_or("-"), REASON_CHARS));
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = heading.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Title, the fences ("\n```\n" and "\n```") and the "… and N more" line.
    let room = max.saturating_sub(title.chars().count() + 9 + MORE_LINE);
    let mut lines = vec![code(&line(&heading, &widths))];
    let mut used = lines[0].chars().count();
    for row in &cells {
        let text = code(&line(row, &widths));
        let len = text.chars().count() + 1;
        if used + len > room {
            break;
        }
        used += len;
        lines.push(text);
    }
    let shown = lines.len() - 1;
    if shown < rows.len() {
        lines.push(format!("… and {} more", thousands(rows.len() - shown)));
    }
    format!("{title}\n```\n{}\n```", lines.join("\n"))
}

/// Cells padded to their column's width, the last one not.
fn line(cells: &[String], widths: &[usize]) -> String {
    let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
    padded.join("  ").trim_end().to_string()
}

/// A column's heading: its described label, else its name, in capitals.
fn heading(description: &Description, column: &str) -> String {
    match description.column(column) {
        Some(c) => c.label.to_uppercase(),
        None => column.replace('_', " ").to_uppercase(),
    }
}

/// A value as the table shows it, in its column's short form.
fn cell(form: Form, value: Option<&str>) -> String {
    let Some(value) = value else { return "-".into() };
    match form {
        // `sha256:` and 12 hex digits tell images apart, as `docker images` does.
        Form::Digest => truncate(value, 20),
        form => truncate(&form.short(value), CELL_CHARS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_short() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(cell(Form::Digest, Some(&digest)), "sha256:abababababab…");
        let arn = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:12";
        assert_eq!(cell(Form::ArnResource, Some(arn)), "web:12");
        assert_eq!(cell(Form::Full, None), "-");
        let images = skyglue_aws::descriptions::IMAGES;
        assert_eq!(
            (heading(&images, "image_digest"), heading(&images, "tag_list")),
            ("DIGEST".into(), "TAG LIST".into())
        );
    }

    #[test]
    fn lines_are_padded_but_not_trailing() {
        let widths = [5, 3];
        assert_eq!(line(&["a".into(), "b".into()], &widths), "a      b");
    }
}
