//! The text of a Slack message: Slack's limits, the words a run's message
//! uses (from its sink's description), and escaping, cutting and counting
//! helpers. A leaf module: the message and its tables both use it.

use skyglue_core::sink::{Description, Noun, Status};

use crate::report::{Mode, Report};

/// Blocks Slack accepts in one message.
pub const MAX_BLOCKS: usize = 50;
/// Characters Slack accepts in one section's text.
pub const MAX_SECTION_CHARS: usize = 3000;
/// Characters Slack accepts in a header.
pub const MAX_HEADER_CHARS: usize = 150;
/// Characters Slack recommends at most for the `text` fallback.
pub const MAX_TEXT_CHARS: usize = 4000;
/// What a message's blocks add up to at most: well under the ~12-13k total
/// at which Slack starts refusing messages (`msg_blocks_too_long`).
pub const MAX_TOTAL_CHARS: usize = 10_000;

/// How a run's action and targets read: "delete" / "deleted" / "images".
pub(crate) struct Words {
    /// `Delete`, `Deregister`; `Act on` when the action is not known.
    pub verb: String,
    /// `Deleted`, `Deregistered`, `Done`.
    pub done: String,
    /// `image` / `images`, `task definition(s)`, `target(s)`.
    pub noun: Noun,
    /// Whether the bytes are worth a word even when none were freed.
    pub sized: bool,
}

impl Words {
    pub(crate) fn of(report: &Report) -> Self {
        let action = report.actions.first().map(|a| a.action.as_str()).unwrap_or_default();
        let (verb, done) = match action.split('_').next().filter(|v| !v.is_empty()) {
            Some(v) if v.ends_with('e') => (capitalize(v), format!("{}d", capitalize(v))),
            Some(v) => (capitalize(v), format!("{}ed", capitalize(v))),
            None => ("Act on".into(), "Done".into()),
        };
        // What the sink says its targets are; a run that selected none
        // speaks of "targets", having nothing to name.
        let described = if report.actions.is_empty() { Description::default() } else { report.description };
        Words { verb, done, noun: described.noun, sized: described.sized }
    }

    /// `1 image`, `1,000 images`.
    pub(crate) fn count(&self, n: usize) -> String {
        format!("{} {}", thousands(n), if n == 1 { self.noun.one } else { self.noun.many })
    }

    /// The title of the table of targets that ended with `status`.
    pub(crate) fn title(&self, status: Status, mode: Mode) -> String {
        match (status, mode) {
            (Status::Failed, _) => format!("Failed to {}", self.verb.to_lowercase()),
            (Status::Done, _) => self.done.clone(),
            (Status::Planned, Mode::DryRun) => format!("Would {}", self.verb.to_lowercase()),
            (Status::Planned, Mode::Apply) => "Not attempted".into(),
            (Status::Skipped, _) => "Skipped".into(),
            (Status::Unknown, _) => "Unknown: check by hand".into(),
        }
    }
}

/// Escapes what Slack's mrkdwn treats as markup (`&`, `<`, `>`).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// [`escape`], and no backticks that could close a code block early.
pub(crate) fn code(text: &str) -> String {
    escape(&text.replace('`', "'"))
}

/// At most `max` characters, the last one `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text.chars().count() > max => format!("{}…", &text[..cut]),
        _ => text.to_string(),
    }
}

/// `1,000`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `Delete` from `delete`.
pub(crate) fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(code("a`b<c"), "a'b&lt;c");
    }

    #[test]
    fn words_come_from_the_description_when_there_are_targets() {
        let mut r = Report::new("r", "p", Mode::DryRun);
        r.description = skyglue_aws::descriptions::TASK_DEFINITIONS;
        assert_eq!(Words::of(&r).count(2), "2 targets", "nothing selected, nothing to name");
        r.set_outcomes(
            "deregister_ecs_task_definitions",
            vec![skyglue_core::sink::Outcome::done(skyglue_core::sink::Target::from_pairs([(
                "task_definition_arn",
                "web:1",
            )]))],
        );
        let words = Words::of(&r);
        assert_eq!(
            (words.count(1), words.count(2)),
            ("1 task definition".into(), "2 task definitions".into())
        );
        assert_eq!(
            (words.verb.as_str(), words.done.as_str(), words.sized),
            ("Deregister", "Deregistered", false)
        );
    }
}
