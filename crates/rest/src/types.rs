//! Column types of declared tables, and how a JSON value becomes one.
//!
//! Each value is normalised to the JSON the framework's row decoder expects
//! for the column's Arrow type: text as a string, timestamps as microseconds
//! since the epoch, `json` as the value's JSON text. A value that does not fit
//! is an error the caller names with the table, column and path.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::datatypes::DataType;
use serde_json::Value;
use skyglue_core::micros;
use skyglue_core::spec::{text, timestamp};

/// A declared column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// Text (`Utf8View`); numbers and booleans are shown as written.
    Text,
    /// A 64-bit integer.
    Integer,
    /// A 64-bit float.
    Float,
    /// A boolean.
    Boolean,
    /// A UTC timestamp, read with this format.
    Timestamp(TimeFormat),
    /// Any value (objects and lists included), as its JSON text.
    Json,
}

/// How a timestamp is written in the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2024-05-01T12:00:00Z` (RFC 3339), the default.
    Rfc3339,
    /// Seconds since the epoch (a number or a numeric string, fractions allowed).
    Unix,
    /// Milliseconds since the epoch.
    UnixMs,
    /// A chrono `strftime` pattern; without an offset (`%z`) it is UTC.
    Pattern(String),
}

/// The type names a declaration may use.
pub const TYPE_NAMES: &str = "text, integer, float, boolean, timestamp, json";

impl ColumnType {
    /// Parses a declaration's `type` and `format`; the error says what is allowed.
    pub fn parse(kind: &str, format: Option<&str>) -> Result<Self, String> {
        let kind = match kind {
            "text" => ColumnType::Text,
            "integer" => ColumnType::Integer,
            "float" => ColumnType::Float,
            "boolean" => ColumnType::Boolean,
            "json" => ColumnType::Json,
            "timestamp" => ColumnType::Timestamp(TimeFormat::parse(format.unwrap_or("rfc3339"))?),
            other => return Err(format!("unknown column type {other:?}: use one of {TYPE_NAMES}")),
        };
        if format.is_some() && !matches!(kind, ColumnType::Timestamp(_)) {
            return Err("format applies to timestamp columns only".into());
        }
        Ok(kind)
    }

    /// The Arrow type of the column.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Json => text(),
            ColumnType::Integer => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Timestamp(_) => timestamp(),
        }
    }

    /// `value` as the row decoder expects it; `Null` stays null.
    pub fn convert(&self, value: &Value) -> Result<Value, String> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let wrong = || format!("expected {}, found {}", self.name(), snippet(value));
        Ok(match self {
            ColumnType::Text => match value {
                Value::String(_) => value.clone(),
                other => Value::String(other.to_string()),
            },
            ColumnType::Json => Value::String(value.to_string()),
            ColumnType::Integer => match value {
                Value::Number(n) if n.is_i64() => value.clone(),
                Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| wrong())?,
                _ => return Err(wrong()),
            },
            ColumnType::Float => match value {
                Value::Number(n) => n.as_f64().map(Value::from).ok_or_else(wrong)?,
                Value::String(s) => s.trim().parse::<f64>().map(Value::from).map_err(|_| wrong())?,
                _ => return Err(wrong()),
            },
            ColumnType::Boolean => match value {
                Value::Bool(_) => value.clone(),
                Value::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
                _ => return Err(wrong()),
            },
            ColumnType::Timestamp(format) => Value::from(format.micros(value).ok_or_else(wrong)?),
        })
    }

    fn name(&self) -> String {
        match self {
            ColumnType::Text => "text".into(),
            ColumnType::Integer => "an integer".into(),
            ColumnType::Float => "a number".into(),
            ColumnType::Boolean => "a boolean".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Timestamp(f) => format!("a timestamp ({})", f.name()),
        }
    }
}

impl TimeFormat {
    fn parse(format: &str) -> Result<Self, String> {
        Ok(match format {
            "rfc3339" => TimeFormat::Rfc3339,
            "unix" => TimeFormat::Unix,
            "unix_ms" => TimeFormat::UnixMs,
            pattern if pattern.contains('%') => TimeFormat::Pattern(pattern.to_string()),
            other => {
                return Err(format!(
                    "unknown timestamp format {other:?}: use rfc3339, unix, unix_ms or a strftime pattern such as \"%Y-%m-%d %H:%M:%S\""
                ));
            }
        })
    }

    fn name(&self) -> &str {
        match self {
            TimeFormat::Rfc3339 => "rfc3339",
            TimeFormat::Unix => "unix",
            TimeFormat::UnixMs => "unix_ms",
            TimeFormat::Pattern(p) => p,
        }
    }

    /// Microseconds since the epoch, if `value` is written in this format.
    fn micros(&self, value: &Value) -> Option<i64> {
        let number = || match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match self {
            TimeFormat::Unix => Some((number()? * 1e6).round() as i64),
            TimeFormat::UnixMs => Some((number()? * 1e3).round() as i64),
            TimeFormat::Rfc3339 => {
                let t = DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
                Some(micros(t.timestamp(), t.timestamp_subsec_nanos()))
            }
            TimeFormat::Pattern(p) => {
                let s = value.as_str()?;
                let t = DateTime::parse_from_str(s, p)
                    .map(|t| t.naive_utc())
                    .or_else(|_| NaiveDateTime::parse_from_str(s, p))
                    .or_else(|_| NaiveDate::parse_from_str(s, p).map(|d| d.and_time(chrono::NaiveTime::MIN)))
                    .ok()?
                    .and_utc();
                Some(micros(t.timestamp(), t.timestamp_subsec_nanos()))
            }
        }
    }
}

/// The start of `value`'s JSON, for error messages.
pub fn snippet(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(format: Option<&str>, v: Value) -> Result<Value, String> {
        ColumnType::parse("timestamp", format)?.convert(&v)
    }

    #[test]
    fn timestamps_in_every_format_become_microseconds() {
        let micros = json!(1_714_564_800_000_000i64);
        assert_eq!(ts(None, json!("2024-05-01T12:00:00Z")), Ok(micros.clone()));
        assert_eq!(ts(None, json!("2024-05-01T14:00:00+02:00")), Ok(micros.clone()));
        assert_eq!(ts(Some("unix"), json!(1_714_564_800)), Ok(micros.clone()));
        assert_eq!(ts(Some("unix"), json!("1714564800")), Ok(micros.clone()));
        assert_eq!(ts(Some("unix_ms"), json!(1_714_564_800_000i64)), Ok(micros.clone()));
        assert_eq!(ts(Some("%Y-%m-%d %H:%M:%S"), json!("2024-05-01 12:00:00")), Ok(micros.clone()));
        assert_eq!(ts(Some("%d/%m/%Y"), json!("01/05/2024")), Ok(json!(1_714_521_600_000_000i64)));
        assert!(
            ts(None, json!("yesterday")).expect_err("an error").contains("expected a timestamp (rfc3339)")
        );
        assert!(ColumnType::parse("timestamp", Some("iso")).is_err());
    }

    #[test]
    fn scalars_convert_or_say_what_they_found() {
        let int = ColumnType::parse("integer", None).expect("type");
        assert_eq!(int.convert(&json!(42)), Ok(json!(42)));
        assert_eq!(int.convert(&json!("42")), Ok(json!(42)));
        assert_eq!(int.convert(&json!("forty")), Err("expected an integer, found \"forty\"".into()));
        assert_eq!(ColumnType::Text.convert(&json!(7)), Ok(json!("7")));
        assert_eq!(ColumnType::Json.convert(&json!({"a": [1]})), Ok(json!("{\"a\":[1]}")));
        assert_eq!(ColumnType::Boolean.convert(&json!("true")), Ok(json!(true)));
        assert_eq!(ColumnType::Float.convert(&json!(1)), Ok(json!(1.0)));
        assert_eq!(ColumnType::Integer.convert(&Value::Null), Ok(Value::Null));
    }

    #[test]
    fn unknown_types_and_misplaced_formats_are_refused() {
        assert!(ColumnType::parse("string", None).expect_err("an error").contains(TYPE_NAMES));
        assert!(
            ColumnType::parse("text", Some("unix")).expect_err("an error").contains("timestamp columns only")
        );
    }
}
