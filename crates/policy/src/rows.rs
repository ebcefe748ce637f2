//! From the policy query's rows to what the runner acts on and what the text
//! report shows.
//!
//! - A row's key columns (the sink's required and optional columns) make its
//!   [`Target`]; a row missing a required one is a failed outcome.
//! - A row whose `keep_reason` column is not NULL is **kept**: never a target,
//!   shown in the text report with that reason. A target that any row keeps is
//!   kept, whatever other rows say (when unsure, keep).
//! - The policy's other columns (tags, pushed, commit date, size...) are
//!   formatted for people, for the first [`SHOWN_PER_GROUP`] targets and kept
//!   rows of each group only, so a run over 100,000 images does not hold a
//!   copy of every row.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampSecondType};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use skyglue_core::columns::strings;
use skyglue_core::sink::{Description, Form, Outcome, Sink, Target};

use crate::format::human_bytes;

/// The column that marks a row as kept, with the reason.
pub const KEEP_REASON: &str = "keep_reason";

/// How many targets, and how many kept rows, of each group the text report shows.
pub const SHOWN_PER_GROUP: usize = 15;

/// What the text report shows beside the targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    /// The shown columns, in the query's order.
    pub names: Vec<String>,
    /// Their headers.
    pub columns: Vec<String>,
    /// The shown cells of the first targets of each group.
    pub rows: HashMap<Target, Vec<String>>,
    /// Rows the policy kept, per group.
    pub kept: BTreeMap<String, Kept>,
}

impl Details {
    /// The shown cells of `target`: its own row's, or (when a sink's check
    /// filled in columns the query left out, such as the region) those of the
    /// row whose columns it extends.
    pub fn row_for(&self, target: &Target) -> Option<&Vec<String>> {
        self.rows.get(target).or_else(|| {
            self.rows
                .iter()
                .find(|(row, _)| row.columns.iter().all(|(k, v)| target.get(k) == Some(v)))
                .map(|(_, cells)| cells)
        })
    }
}

/// The rows of one group that the policy kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    /// How many.
    pub count: usize,
    /// The first few: their cells and the reason.
    pub shown: Vec<(Vec<String>, String)>,
}

/// The query's rows, sorted.
#[derive(Debug, Default)]
pub struct Rows {
    /// Distinct targets, in the query's order.
    pub targets: Vec<Target>,
    /// Rows whose required columns are NULL.
    pub invalid: Vec<Outcome>,
    /// What the text report shows.
    pub details: Details,
}

/// Sorts the query's rows, a batch at a time, into targets, invalid rows and
/// kept rows; of each row it keeps only the sink's columns (and, for the first
/// few of each group, the cells the report shows).
pub struct Reader<'a> {
    sink: &'a dyn Sink,
    description: Description,
    wanted: Vec<&'a str>,
    shown: Option<Vec<String>>,
    rows: Rows,
    kept_targets: HashSet<Target>,
    shown_per_group: HashMap<String, usize>,
}

impl<'a> Reader<'a> {
    /// A reader for `sink`'s rows.
    pub fn new(sink: &'a dyn Sink) -> Self {
        let wanted = sink.required_columns().iter().chain(sink.optional_columns()).copied().collect();
        Reader {
            sink,
            description: sink.describe(),
            wanted,
            shown: None,
            rows: Rows::default(),
            kept_targets: HashSet::new(),
            shown_per_group: HashMap::new(),
        }
    }

    /// Reads one batch of the query's rows.
    pub fn add(&mut self, batch: &RecordBatch) {
        let description = self.description;
        let shown = self.shown.get_or_insert_with(|| {
            // Not repeated on every row: what names the group (its heading
            // says it once), and what the sink declares unshown.
            let shown: Vec<String> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| n != KEEP_REASON && !description.unshown(n))
                .collect();
            self.rows.details.columns = shown.iter().map(|c| header(&description, c)).collect();
            self.rows.details.names.clone_from(&shown);
            shown
        });
        let keys: Vec<(&str, Vec<Option<String>>)> =
            self.wanted.iter().map(|name| (*name, strings(batch, name))).collect();
        let reasons = strings(batch, KEEP_REASON);
        let cells = Cells::new(batch, shown, &description);
        for row in 0..batch.num_rows() {
            let target = Target::from_pairs(
                keys.iter().filter_map(|(name, values)| values[row].as_deref().map(|v| (*name, v))),
            );
            if let Some(reason) = &reasons[row] {
                let kept = self.rows.details.kept.entry(description.group_of(&target)).or_default();
                kept.count += 1;
                if kept.shown.len() < SHOWN_PER_GROUP {
                    kept.shown.push((cells.row(row), reason.clone()));
                }
                self.kept_targets.insert(target);
                continue;
            }
            if let Some(missing) = self.sink.required_columns().iter().find(|c| target.get(c).is_none()) {
                self.rows.invalid.push(Outcome::failed(target, format!("the row's {missing} is NULL")));
                continue;
            }
            let count = self.shown_per_group.entry(description.group_of(&target)).or_default();
            if *count < SHOWN_PER_GROUP && !self.rows.details.rows.contains_key(&target) {
                *count += 1;
                self.rows.details.rows.insert(target.clone(), cells.row(row));
            }
            self.rows.targets.push(target);
        }
    }

    /// The rows read: targets without repeats (first occurrences, in order)
    /// and without any target a row kept.
    pub fn finish(self) -> Rows {
        let Reader { mut rows, kept_targets, .. } = self;
        let keep: Vec<bool> = {
            let mut seen: HashSet<&Target> = HashSet::with_capacity(rows.targets.len());
            rows.targets.iter().map(|t| !kept_targets.contains(t) && seen.insert(t)).collect()
        };
        rows.targets = rows.targets.into_iter().zip(keep).filter_map(|(t, keep)| keep.then_some(t)).collect();
        if !kept_targets.is_empty() {
            rows.details.rows.retain(|t, _| !kept_targets.contains(t));
        }
        rows
    }
}

/// A column's header, without the prefix the sink's columns share: for
/// images, `image_pushed_at` reads `pushed`, `image_size_in_bytes` `size`.
fn header(description: &Description, column: &str) -> String {
    let c = column.strip_prefix(description.prefix).unwrap_or(column);
    let c = c.strip_suffix("_in_bytes").or_else(|| c.strip_suffix("_at")).unwrap_or(c);
    c.replace('_', " ")
}

/// The shown columns of one batch, ready to format row by row.
struct Cells<'a> {
    columns: Vec<(Form, &'a str, Option<&'a dyn Array>)>,
}

impl<'a> Cells<'a> {
    fn new(batch: &'a RecordBatch, shown: &'a [String], description: &Description) -> Self {
        let columns = shown
            .iter()
            .map(|name| {
                (description.form_of(name), name.as_str(), batch.column_by_name(name).map(|a| a.as_ref()))
            })
            .collect();
        Cells { columns }
    }

    fn row(&self, row: usize) -> Vec<String> {
        self.columns
            .iter()
            .map(|(form, name, array)| array.map_or_else(String::new, |a| cell(*form, name, a, row)))
            .collect()
    }
}

/// One value, for people: in the short form the sink declares for its
/// column (a digest's first hex digits), sizes in KiB/MiB, times as a date
/// and an age in days, lists joined by commas.
fn cell(form: Form, name: &str, array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    let text = match array.data_type() {
        DataType::Timestamp(..) => cast(&array.slice(row, 1), &DataType::Timestamp(TimeUnit::Second, None))
            .ok()
            .and_then(|a| a.as_primitive_opt::<TimestampSecondType>().map(|p| p.value(0)))
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|t| format!("{} ({}d)", t.format("%Y-%m-%d"), (Utc::now() - t).num_days())),
        DataType::Int64 | DataType::Int32 | DataType::UInt64
            if name.contains("size") || name.contains("bytes") =>
        {
            cast(&array.slice(row, 1), &DataType::Int64)
                .ok()
                .map(|a| human_bytes(a.as_primitive::<Int64Type>().value(0)))
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match array.as_list_opt::<i32>() {
                Some(list) => list.value(row),
                None => array.as_list::<i64>().value(row),
            };
            let options = FormatOptions::default();
            ArrayFormatter::try_new(items.as_ref(), &options)
                .ok()
                .map(|f| (0..items.len()).map(|i| f.value(i).to_string()).collect::<Vec<_>>().join(", "))
        }
        _ => None,
    };
    let text = text.unwrap_or_else(|| {
        let options = FormatOptions::default();
        ArrayFormatter::try_new(array, &options).map(|f| f.value(row).to_string()).unwrap_or_default()
    });
    shortened(&form.short(&text), 40)
}

/// A text value of column `name`, for people: in the short form `description`
/// declares for it (a digest's first 12 hex digits, a task definition ARN's
/// `family:revision`), cut at 40 characters.
pub fn format_key(description: &Description, name: &str, text: &str) -> String {
    shortened(&description.form_of(name).short(text), 40)
}

/// `text`, cut to `max` characters with an ellipsis.
fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_like_words() {
        let images = skyglue_aws::descriptions::IMAGES;
        assert_eq!(header(&images, "image_pushed_at"), "pushed");
        assert_eq!(header(&images, "image_size_in_bytes"), "size");
        assert_eq!(header(&images, "newest_commit"), "newest commit");
        assert_eq!(header(&images, "image_digest"), "digest");
        assert_eq!(header(&Description::default(), "image_uri"), "image uri");
    }

    #[test]
    fn keys_are_shown_in_their_declared_short_form() {
        let task_definitions = skyglue_aws::descriptions::TASK_DEFINITIONS;
        let arn = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:12";
        assert_eq!(format_key(&task_definitions, "task_definition_arn", arn), "web:12");
        assert_eq!(format_key(&Description::default(), "task_definition_arn", arn), shortened(arn, 40));
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(format_key(&skyglue_aws::descriptions::IMAGES, "image_digest", &digest), "abababababab");
    }

    #[test]
    fn long_cells_are_cut() {
        assert_eq!(shortened("abcdef", 4), "abc…");
        assert_eq!(shortened("abc", 4), "abc");
    }
}
