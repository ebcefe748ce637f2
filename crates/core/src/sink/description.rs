//! What a sink's rows are, for the reports and messages that show them
//! ([`Sink::describe`](super::Sink::describe)): the noun, how targets group,
//! the order and short forms of their columns. The policy crate renders runs
//! from this alone, so it names no cloud column; a new sink describes itself
//! and every report of its runs reads right.
//!
//! Everything is `'static` data, so a sink's description is a `const`:
//!
//! ```
//! use skyglue_core::sink::{Column, Description, Form, Group, Noun, Part};
//!
//! const IMAGES: Description = Description {
//!     noun: Noun { one: "image", many: "images" },
//!     group: Group {
//!         prefix: "",
//!         parts: &[Part::or_dash("account_id"), Part::or_dash("region"), Part::new("repository_name")],
//!     },
//!     columns: &[Column::new("image_digest", "digest", Form::Digest)],
//!     context: &["account_id", "region"],
//!     prefix: "image_",
//!     sized: true,
//!     ..Description::DEFAULT
//! };
//! let target = skyglue_core::sink::Target::from_pairs([("region", "us-east-1"), ("repository_name", "web")]);
//! assert_eq!(IMAGES.group_of(&target), "-/us-east-1/web");
//! ```

use std::borrow::Cow;

use super::Target;
use crate::arn::Arn;

/// The word for one target and for several (`image`, `images`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noun {
    /// One.
    pub one: &'static str,
    /// Several.
    pub many: &'static str,
}

/// How a column's value is shown short.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Form {
    /// As it is.
    #[default]
    Full,
    /// A content digest (`sha256:<hex>`): shown by its first hex digits.
    Digest,
    /// An ARN, shown by its resource (`web:12` for a task definition); a
    /// value that is not an ARN is shown as it is.
    ArnResource,
    /// A resource's name without its qualifier: a task definition's family,
    /// from its ARN or from `family:revision`.
    Name,
    /// A path's first segment with its `/` (`builds/` of `builds/main/x`), or
    /// nothing for a path without one.
    TopPrefix,
}

impl Form {
    /// `value` in this form.
    pub fn short(self, value: &str) -> Cow<'_, str> {
        match self {
            Form::Full => Cow::Borrowed(value),
            Form::Digest => match value.strip_prefix("sha256:") {
                Some(hex) => Cow::Owned(hex.chars().take(12).collect()),
                None => Cow::Borrowed(value),
            },
            Form::ArnResource => Cow::Borrowed(Arn::parse(value).map_or(value, |arn| arn.resource)),
            Form::Name => Cow::Borrowed(match Arn::parse(value) {
                Ok(arn) => arn.name,
                Err(_) => value.rsplit_once(':').map_or(value, |(name, _)| name),
            }),
            Form::TopPrefix => match value.split_once('/') {
                Some((top, _)) => Cow::Owned(format!("{top}/")),
                None => Cow::Borrowed(""),
            },
        }
    }
}

/// A key column as tables show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column (`image_digest`).
    pub name: &'static str,
    /// Its heading, in words (`digest`).
    pub label: &'static str,
    /// Its short form.
    pub form: Form,
}

impl Column {
    /// A column with its label and form.
    pub const fn new(name: &'static str, label: &'static str, form: Form) -> Self {
        Column { name, label, form }
    }
}

/// One part of a group's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The column it comes from.
    pub column: &'static str,
    /// How the value is shown.
    pub form: Form,
    /// Without the column, the part reads `-` (else the target has no group).
    pub or_dash: bool,
}

impl Part {
    /// A part without which a target has no group.
    pub const fn new(column: &'static str) -> Self {
        Part { column, form: Form::Full, or_dash: false }
    }

    /// A part that reads `-` when the target lacks the column.
    pub const fn or_dash(column: &'static str) -> Self {
        Part { column, form: Form::Full, or_dash: true }
    }

    /// This part, its value shown in `form`.
    pub const fn shown(self, form: Form) -> Self {
        Part { form, ..self }
    }
}

/// How targets group in reports: `prefix` then the parts joined by `/`
/// (`111111111111/us-east-1/web`, `s3://bucket/builds/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Group {
    /// Before the parts (`s3://`).
    pub prefix: &'static str,
    /// The parts; none puts every target in group `-`.
    pub parts: &'static [Part],
}

/// What a sink's rows are: see the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Description {
    /// What a target is.
    pub noun: Noun,
    /// How targets group.
    pub group: Group,
    /// Key columns in the order tables show them (others follow by name),
    /// with their labels and short forms.
    pub columns: &'static [Column],
    /// Columns that locate a group (account, region): tables show them only
    /// when they differ between targets, and the text report's per-row table
    /// not at all (its group headings say them).
    pub context: &'static [&'static str],
    /// Other columns the text report's per-row table leaves out (an S3 etag).
    pub unshown: &'static [&'static str],
    /// The prefix the sink's table's column names share, left out of headings
    /// (`image_pushed_at` reads `pushed`).
    pub prefix: &'static str,
    /// Whether messages show the bytes freed even when there are none (an
    /// image cleanup is about storage; other sinks show them when some were).
    pub sized: bool,
}

impl Default for Description {
    /// [`Description::DEFAULT`].
    fn default() -> Self {
        Description::DEFAULT
    }
}

impl Description {
    /// Targets, in one group, columns as they are: what a report says when it
    /// does not know the sink, and the base of a `const` description
    /// (`..Description::DEFAULT`).
    pub const DEFAULT: Description = Description {
        noun: Noun { one: "target", many: "targets" },
        group: Group { prefix: "", parts: &[] },
        columns: &[],
        context: &[],
        unshown: &[],
        prefix: "",
        sized: false,
    };

    /// The group `target` belongs to; `-` when it lacks what names one.
    pub fn group_of(&self, target: &Target) -> String {
        let mut parts = Vec::with_capacity(self.group.parts.len());
        for part in self.group.parts {
            match target.get(part.column) {
                Some(value) => parts.push(part.form.short(value)),
                None if part.or_dash => parts.push(Cow::Borrowed("-")),
                None => return "-".into(),
            }
        }
        if parts.is_empty() {
            return "-".into();
        }
        format!("{}{}", self.group.prefix, parts.join("/"))
    }

    /// The declared key column `name`, if it is one.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The short form of column `name` (full when it declares none).
    pub fn form_of(&self, name: &str) -> Form {
        self.column(name).map_or(Form::Full, |c| c.form)
    }

    /// Whether the text report's per-row table leaves column `name` out: it
    /// locates the group, names it whole, or is declared unshown.
    pub fn unshown(&self, name: &str) -> bool {
        self.context.contains(&name)
            || self.unshown.contains(&name)
            || self.group.parts.iter().any(|p| p.column == name && p.form == Form::Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECTS: Description = Description {
        group: Group {
            prefix: "s3://",
            parts: &[Part::new("bucket_name"), Part::new("key").shown(Form::TopPrefix)],
        },
        ..Description::DEFAULT
    };

    const FAMILIES: Description = Description {
        group: Group { prefix: "", parts: &[Part::new("task_definition_arn").shown(Form::Name)] },
        ..Description::DEFAULT
    };

    #[test]
    fn groups_from_parts() {
        let key = |k| Target::from_pairs([("bucket_name", "b"), ("key", k)]);
        assert_eq!(OBJECTS.group_of(&key("builds/main/x")), "s3://b/builds/");
        assert_eq!(OBJECTS.group_of(&key("top.txt")), "s3://b/");
        assert_eq!(
            OBJECTS.group_of(&Target::from_pairs([("key", "a/b")])),
            "-",
            "a required part is missing"
        );
        let arn = Target::from_pairs([(
            "task_definition_arn",
            "arn:aws:ecs:us-east-1:111111111111:task-definition/web:3",
        )]);
        assert_eq!(FAMILIES.group_of(&arn), "web");
        assert_eq!(FAMILIES.group_of(&Target::from_pairs([("task_definition_arn", "api:9")])), "api");
        assert_eq!(Description::default().group_of(&arn), "-");
        assert!(OBJECTS.unshown("bucket_name") && !OBJECTS.unshown("key"));
    }

    #[test]
    fn short_forms() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(Form::Digest.short(&digest), "abababababab");
        assert_eq!(Form::Digest.short("md5:x"), "md5:x");
        let arn = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:12";
        assert_eq!(Form::ArnResource.short(arn), "web:12");
        assert_eq!(Form::ArnResource.short("web:12"), "web:12");
        // Not an ARN (a space): shown whole, never split at a guess.
        assert_eq!(
            Form::ArnResource.short("arn:aws:ecs:us east:1:task-definition/web:1"),
            "arn:aws:ecs:us east:1:task-definition/web:1"
        );
        assert_eq!(Form::Name.short(arn), "web");
    }
}
