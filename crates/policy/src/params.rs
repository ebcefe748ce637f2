//! Policy parameters: `-- @param NAME: DEFAULT` in the header, `--param
//! NAME=VALUE` on the command line, bound as DataFusion placeholders
//! (`$NAME`), never substituted into the SQL text.
//!
//! A number may carry its lowest sensible value, `-- @param keep_active: 5
//! (min 1)`; a number whose default is not negative is never negative (a
//! negative age or count only ever selects more than meant), so `--param
//! max_age_days=-1` is refused before anything runs.

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
    /// The lowest value a number may take, if bounded.
    pub min: Option<f64>,
    /// Header line, for messages.
    pub line: usize,
}

impl Param {
    /// A parameter from its header text, `DEFAULT` or `DEFAULT (min N)`.
    pub fn declare(name: &str, text: &str, line: usize) -> Result<Self, String> {
        let text = text.trim();
        let (default, min) = match text.strip_suffix(')').and_then(|t| t.rsplit_once("(min ")) {
            Some((default, min)) => {
                let min: f64 = min
                    .trim()
                    .parse()
                    .map_err(|_| format!("@param {name}: `(min N)` needs a number, got {:?}", min.trim()))?;
                (ParamValue::parse_default(default), Some(min))
            }
            None => (ParamValue::parse_default(text), None),
        };
        let min = match (&default, min) {
            (ParamValue::Int(_) | ParamValue::Float(_), Some(min)) => Some(min),
            (_, Some(_)) => return Err(format!("@param {name}: `(min N)` applies to numbers only")),
            (d, None) => d.number().filter(|v| *v >= 0.0).map(|_| 0.0),
        };
        let param = Param { name: name.to_string(), default, min, line };
        param.check(&param.default).map_err(|e| format!("@param {name}: the default {e}"))?;
        Ok(param)
    }

    /// Whether `value` is within the parameter's bounds.
    fn check(&self, value: &ParamValue) -> Result<(), String> {
        match (value.number(), self.min) {
            (Some(v), Some(min)) if v < min => Err(format!("must be at least {min}")),
            _ => Ok(()),
        }
    }
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

    /// The value as a number, for numbers.
    fn number(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            _ => None,
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
        let value =
            slot.1.parse_like(raw).map_err(|want| format!("--param {name}={raw}: expected {want}"))?;
        if let Some(param) = declared.iter().find(|p| &p.name == name) {
            param.check(&value).map_err(|e| format!("--param {name}={raw}: {name} {e}"))?;
        }
        slot.1 = value;
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
        ["30", "'web'", "5 (min 1)", "-3"]
            .iter()
            .zip(["days", "repo", "keep", "offset"])
            .enumerate()
            .filter_map(|(i, (text, name))| Param::declare(name, text, i + 1).ok())
            .collect()
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        let e = resolve(&declared(), &[("days".into(), "-1".into())]).expect_err("negative age");
        assert!(e.contains("days") && e.contains("at least 0"), "{e}");
        let e = resolve(&declared(), &[("keep".into(), "0".into())]).expect_err("keep none");
        assert!(e.contains("keep") && e.contains("at least 1"), "{e}");
        assert!(resolve(&declared(), &[("keep".into(), "1".into()), ("offset".into(), "-9".into())]).is_ok());
        assert!(Param::declare("keep", "0 (min 1)", 1).is_err_and(|e| e.contains("default")));
        assert!(Param::declare("repo", "'web' (min 1)", 1).is_err_and(|e| e.contains("numbers only")));
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
        assert!(e.contains("dayz") && e.contains("days, repo, keep, offset"), "{e}");
    }

    #[test]
    fn split() {
        assert_eq!(split_override("a=b=c").expect("ok"), ("a".into(), "b=c".into()));
        assert!(split_override("=x").is_err());
    }
}
