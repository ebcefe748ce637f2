//! The report for people, read like a plan: per group (as the sink describes
//! them: an account, region and repository; a task definition family; an S3
//! bucket and top prefix) a table
//! of the targets with the columns the policy selected, then the rows the
//! policy kept and why, then the totals. Long lists are cut with
//! "... and N more (see --format json)". Colour only when the caller asks
//! (a terminal without `NO_COLOR`); the words say everything without it.
//! Control characters in what the APIs and the policy said (an S3 key with an
//! escape sequence, an error message) are shown escaped (`\u{1b}`).

use std::collections::BTreeSet;
use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use skyglue_core::sink::Status;

use skyglue_core::escape::escape_controls as esc;

use super::{ActionReport, Mode, Report};
use crate::format::human_bytes;
use crate::rows::{SHOWN_PER_GROUP, format_key};

/// Colours, or none.
#[derive(Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn paint(self, style: Style, text: &str) -> String {
        if self.on { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_string() }
    }

    fn status(self, word: &str, padded: &str) -> String {
        let colour = match word {
            "planned" | "done" => AnsiColor::Green,
            "skipped" => AnsiColor::Yellow,
            "failed" | "unknown" => AnsiColor::Red,
            _ => AnsiColor::Cyan,
        };
        self.paint(Style::new().fg_color(Some(colour.into())), padded)
    }
}

impl Report {
    /// The report for people, without colour.
    pub fn to_text(&self) -> String {
        self.to_text_styled(false)
    }

    /// The report for people; `colour` for a terminal (the caller checks
    /// `NO_COLOR`).
    pub fn to_text_styled(&self, colour: bool) -> String {
        let paint = Paint { on: colour };
        let mut out = String::new();
        let mode = match self.mode {
            Mode::DryRun => "dry run (nothing changed; add --apply to act)",
            Mode::Apply => "apply",
        };
        let title = esc(&format!("policy {} · {mode} · run {}", self.policy, self.run_id)).into_owned();
        let _ = writeln!(out, "{}", paint.paint(Style::new().bold(), &title));
        if let Some(e) = &self.error {
            let _ = writeln!(
                out,
                "{}",
                paint.paint(AnsiColor::Red.on_default().bold(), &esc(&format!("FAILED: {e}")))
            );
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}", esc(w));
        }
        if let Some(line) = self.not_checked_line() {
            let _ = writeln!(out, "{}", esc(&line));
        }
        let mut groups: BTreeSet<String> =
            self.actions.iter().map(|a| self.description.group_of(&a.target)).collect();
        groups.extend(self.details.kept.keys().cloned());
        for group in &groups {
            out.push('\n');
            self.group(&mut out, group, paint);
        }
        let s = &self.summary;
        let (moved, bytes) = s.bytes_words(self.mode);
        let _ = writeln!(
            out,
            "\n{} planned, {} done, {} skipped, {} failed; {moved} {}",
            s.planned,
            s.done,
            s.skipped,
            s.failed,
            human_bytes(bytes)
        );
        if let Some(age) = self.oldest_check() {
            let _ = writeln!(out, "the oldest check a call relied on was {} old", age_words(age));
        }
        if s.unknown > 0 {
            let _ = writeln!(
                out,
                "{} unknown: the call never said, and re-reading failed; check them by hand",
                s.unknown
            );
        }
        out
    }

    /// One group: its heading, then its table.
    fn group(&self, out: &mut String, group: &str, paint: Paint) {
        let mut actions: Vec<(usize, &ActionReport)> = self
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| self.description.group_of(&a.target) == group)
            .collect();
        let kept = self.details.kept.get(group);
        let acted =
            actions.iter().filter(|(_, a)| matches!(a.status, Status::Done | Status::Planned)).count();
        let count = |s: Status| actions.iter().filter(|(_, a)| a.status == s).count();
        let verb = self.actions.first().map_or("act on", |a| verb(&a.action));
        let group = esc(group);
        let mut heading = match self.mode {
            Mode::DryRun => format!("{group}: would {verb} {acted} of {}", actions.len()),
            Mode::Apply => format!("{group}: {} {acted} of {}", past(verb), actions.len()),
        };
        let counts = [
            (count(Status::Skipped), "skipped"),
            (count(Status::Failed), "failed"),
            (count(Status::Unknown), "unknown"),
        ];
        for (n, word) in counts {
            if n > 0 {
                let _ = write!(heading, ", {n} {word}");
            }
        }
        if let Some(kept) = kept {
            let _ = write!(heading, "; keeps {}", kept.count);
        }
        // The oldest check any of the group's calls relied on.
        if let Some(age) = actions.iter().filter_map(|(_, a)| a.check_age).max() {
            let _ = write!(heading, " (check {} old)", age_words(age));
        }
        let _ = writeln!(out, "{}", paint.paint(Style::new().bold(), &heading));

        // Failures first, then what the check skipped, then the rest; rows
        // whose columns were kept before those without.
        let rank = |s: Status| match s {
            Status::Unknown | Status::Failed => 0,
            Status::Skipped => 1,
            _ => 2,
        };
        actions.sort_by_key(|(i, a)| (rank(a.status), self.details.row_for(&a.target).is_none(), *i));
        let mut table: Vec<(String, Vec<String>, String)> = actions
            .iter()
            .take(SHOWN_PER_GROUP)
            .map(|(_, a)| {
                let cells = self.details.row_for(&a.target).cloned().unwrap_or_else(|| self.key_cells(a));
                (status_name(a.status), cells, a.reason.clone().unwrap_or_default())
            })
            .collect();
        let hidden_actions = actions.len().saturating_sub(SHOWN_PER_GROUP);
        if let Some(kept) = kept {
            table.extend(
                kept.shown.iter().map(|(cells, reason)| ("kept".into(), cells.clone(), reason.clone())),
            );
        }
        let hidden_kept = kept.map_or(0, |k| k.count - k.shown.len());
        let shown_actions = actions.len().min(SHOWN_PER_GROUP);
        self.table(out, &table, paint, (shown_actions, hidden_actions));
        if hidden_kept > 0 {
            let _ = writeln!(out, "  ... and {hidden_kept} more kept");
        }
    }

    /// The cells of a target whose columns were not kept: its key columns only.
    fn key_cells(&self, action: &ActionReport) -> Vec<String> {
        self.details
            .names
            .iter()
            .map(|name| {
                action.target.get(name).map(|v| format_key(&self.description, name, v)).unwrap_or_default()
            })
            .collect()
    }

    /// Rows under aligned headers; columns empty in every row are left out.
    /// `hidden` is `(after, count)`: after the first `after` rows, say that
    /// `count` more targets are not shown.
    fn table(
        &self,
        out: &mut String,
        rows: &[(String, Vec<String>, String)],
        paint: Paint,
        hidden: (usize, usize),
    ) {
        // Values from APIs (keys, reasons) are shown with control characters
        // escaped, so widths are right and nothing reaches the terminal raw.
        let rows: Vec<(String, Vec<String>, String)> = rows
            .iter()
            .map(|(status, cells, reason)| {
                let cells = cells.iter().map(|c| esc(c).into_owned()).collect();
                (status.clone(), cells, esc(reason).into_owned())
            })
            .collect();
        let rows = &rows[..];
        let columns: Vec<String> = self.details.columns.iter().map(|c| esc(c).into_owned()).collect();
        let columns = &columns;
        let used: Vec<usize> =
            (0..columns.len()).filter(|&c| rows.iter().any(|(_, cells, _)| !cells[c].is_empty())).collect();
        let width = |c: usize| {
            rows.iter()
                .map(|(_, cells, _)| cells[c].chars().count())
                .max()
                .unwrap_or(0)
                .max(columns[c].chars().count())
        };
        let widths: Vec<(usize, usize)> = used.iter().map(|&c| (c, width(c))).collect();
        let any_reason = rows.iter().any(|(_, _, r)| !r.is_empty());
        let mut head = format!("  {:<8}", "status");
        for &(c, w) in &widths {
            let _ = write!(head, " {:<w$}", columns[c]);
        }
        if any_reason {
            head.push_str(" reason");
        }
        let _ = writeln!(out, "{}", paint.paint(Style::new().dimmed(), head.trim_end()));
        let more = |out: &mut String| {
            if hidden.1 > 0 {
                let _ = writeln!(out, "  ... and {} more (see --format json)", hidden.1);
            }
        };
        for (i, (status, cells, reason)) in rows.iter().enumerate() {
            if i == hidden.0 {
                more(out);
            }
            let mut line = format!("  {}", paint.status(status, &format!("{status:<8}")));
            for &(c, w) in &widths {
                let _ = write!(line, " {:<w$}", cells[c]);
            }
            if !reason.is_empty() {
                let _ = write!(line, " {reason}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if rows.len() <= hidden.0 {
            more(out);
        }
    }
}

/// A check's age for people: `0.4 s`, `75.0 s`.
pub(crate) fn age_words(age: std::time::Duration) -> String {
    format!("{:.1} s", age.as_secs_f64())
}

/// `planned`, `done`, `skipped`, `failed`, `unknown`.
fn status_name(status: Status) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The verb of an action: `delete_ecr_images` deletes, `deregister_...` deregisters.
fn verb(action: &str) -> &str {
    action.split('_').next().unwrap_or("act on")
}

/// `deleted`, `deregistered`.
fn past(verb: &str) -> String {
    if verb.ends_with('e') { format!("{verb}d") } else { format!("{verb}ed") }
}
