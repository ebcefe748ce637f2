//! Policy parameters: `-- @param NAME: DEFAULT` in the header, `--param
//! NAME=VALUE` on the command line, bound as DataFusion placeholders
//! (`$NAME`), never substituted into the SQL text.

use std::collections::HashMap;

use datafusion::common::ParamValues;
use datafusion::common::ScalarValue;

/// A declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name, used as `$name` in the query.
    pub name: String,
    /// Default value; its type is the parameter's type.
    pub default: ParamValue,
    /// Header line, for messages.
    pub line: usize,
}

/// A typed parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// Text.
    Text(String),
}

impl ParamValue {
    /// Reads a default: a number, `true`/`false`, `'quoted'` or bare text.
    pub fn parse_default(s: &str) -> Self {
        let s = s.trim();
        if let Ok(i) = s.parse::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(f) = s.parse::<f64>() {
            ParamValue::Float(f)
        } else if s == "true" || s == "false" {
            ParamValue::Bool(s == "true")
        } else {
            ParamValue::Text(unquote(s).to_string())
        }
    }

    /// Reads an override with the same type as `self`, the default.
    pub fn parse_like(&self, s: &str) -> Result<Self, String> {
        match self {
            ParamValue::Int(_) => {
                s.trim().parse().map(ParamValue::Int).map_err(|_| "a whole number".to_string())
            }
            ParamValue::Float(_) => {
                s.trim().parse().map(ParamValue::Float).map_err(|_| "a number".to_string())
            }
            ParamValue::Bool(_) => match s.trim() {
                "true" => Ok(ParamValue::Bool(true)),
                "false" => Ok(ParamValue::Bool(false)),
                _ => Err("true or false".to_string()),
            },
            ParamValue::Text(_) => Ok(ParamValue::Text(unquote(s).to_string())),
        }
    }

    /// As a DataFusion scalar.
    pub fn scalar(&self) -> ScalarValue {
        match self {
            ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
            ParamValue::Float(f) => ScalarValue::Float64(Some(*f)),
            ParamValue::Bool(b) => ScalarValue::Boolean(Some(*b)),
            ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
        }
    }

    /// As JSON, for reports and the journal.
    pub fn json(&self) -> serde_json::Value {
        match self {
            ParamValue::Int(i) => (*i).into(),
            ParamValue::Float(f) => (*f).into(),
            ParamValue::Bool(b) => (*b).into(),
            ParamValue::Text(s) => s.clone().into(),
        }
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap_or(s)
}

/// The values the run uses: defaults, then overrides.
pub fn resolve(
    declared: &[Param],
    overrides: &[(String, String)],
) -> Result<Vec<(String, ParamValue)>, String> {
    let mut values: Vec<(String, ParamValue)> =
        declared.iter().map(|p| (p.name.clone(), p.default.clone())).collect();
    for (name, raw) in overrides {
        let Some(slot) = values.iter_mut().find(|(n, _)| n == name) else {
            let known: Vec<&str> = declared.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "--param {name}: the policy declares no such parameter (it declares: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ));
        };
        slot.1 = slot.1.parse_like(raw).map_err(|want| format!("--param {name}={raw}: expected {want}"))?;
    }
    Ok(values)
}

/// Named placeholder values for DataFusion.
pub fn param_values(values: &[(String, ParamValue)]) -> ParamValues {
    let map: HashMap<String, ScalarValue> = values.iter().map(|(n, v)| (n.clone(), v.scalar())).collect();
    ParamValues::from(map)
}

/// Splits `NAME=VALUE`.
pub fn split_override(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.to_string())),
        _ => Err(format!("--param {s:?}: expected NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Vec<Param> {
        vec![
            Param { name: "days".into(), default: ParamValue::Int(30), line: 1 },
            Param { name: "repo".into(), default: ParamValue::Text("web".into()), line: 2 },
        ]
    }

    #[test]
    fn overrides_keep_the_default_type() {
        let v = resolve(&declared(), &[("days".into(), "7".into())]).expect("ok");
        assert_eq!(v[0].1, ParamValue::Int(7));
        let e = resolve(&declared(), &[("days".into(), "week".into())]).expect_err("bad type");
        assert!(e.contains("days") && e.contains("whole number"), "{e}");
    }

    #[test]
    fn unknown_override_is_named() {
        let e = resolve(&declared(), &[("dayz".into(), "7".into())]).expect_err("unknown");
        assert!(e.contains("dayz") && e.contains("days, repo"), "{e}");
    }

    #[test]
    fn split() {
        assert_eq!(split_override("a=b=c").expect("ok"), ("a".into(), "b=c".into()));
        assert!(split_override("=x").is_err());
    }
}
