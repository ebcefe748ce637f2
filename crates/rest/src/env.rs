//! `${VAR}` in declarations: secrets and endpoints come from the
//! environment, never from the file.
//!
//! `${VAR}` must be set when the table is queried (an error names it);
//! `${VAR:-default}` falls back to `default` (an API's public URL, say, that a
//! test or a GitHub Enterprise user points elsewhere). The lookup is a value,
//! [`Env`], so tests hand in their own variables instead of changing the
//! process environment.

use std::sync::Arc;

/// Reads one environment variable (`None` when unset or empty).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment, each value trimmed of surrounding whitespace (a
/// token pasted with its newline); blank is unset.
pub fn process_env() -> Env {
    Arc::new(|name| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// Why a template could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// This variable is not set, and has no default.
    Unset(String),
    /// This variable holds a control character inside its value (never
    /// printed: it is likely a secret).
    ControlCharacter(String),
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var { name: String, default: Option<String> },
}

/// A string with `${VAR}` references, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; the error says what is malformed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("unterminated ${{ in {text:?}"))?;
            let inner = &after[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default.to_string())),
                None => (inner, None),
            };
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("${{{inner}}} is not an environment variable name (letters, digits, _)"));
            }
            parts.push(Part::Var { name: name.to_string(), default });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Whether the template reads any variable.
    pub fn has_vars(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var { .. }))
    }

    /// The variables it reads that have no default.
    pub fn required_vars(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var { name, default: None } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The literal text before the first variable.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(s)) => s,
            _ => "",
        }
    }

    /// The template's text with each variable replaced by [`Template::MARK`],
    /// and each variable's name: where in a URL the variables are.
    pub fn skeleton(&self) -> (String, Vec<&str>) {
        let mut text = String::new();
        let mut names = Vec::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => text.push_str(s),
                Part::Var { name, .. } => {
                    text.push(Self::MARK);
                    names.push(name.as_str());
                }
            }
        }
        (text, names)
    }

    /// What stands for a variable in [`Template::skeleton`].
    pub const MARK: char = '\u{0}';

    /// Each variable's name and the value it takes (its default when unset);
    /// unset variables without a default are left out.
    pub fn values(&self, env: &Env) -> Vec<(&str, String)> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var { name, default } => {
                    env(name).or_else(|| default.clone()).map(|v| (name.as_str(), v))
                }
                Part::Literal(_) => None,
            })
            .collect()
    }

    /// The text with every variable filled in; else the first variable that
    /// is unset, or whose value holds a control character.
    pub fn render(&self, env: &Env) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Var { name, default } => match (env(name), default) {
                    (Some(v), _) if v.chars().any(char::is_control) => {
                        return Err(RenderError::ControlCharacter(name.clone()));
                    }
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => return Err(RenderError::Unset(name.clone())),
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Arc::new(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn variables_defaults_and_literals_render() {
        let t = Template::parse("Token token=${PD_TOKEN}").expect("parses");
        assert_eq!(t.render(&env(&[("PD_TOKEN", "s3cret")])), Ok("Token token=s3cret".into()));
        assert_eq!(t.render(&env(&[])), Err(RenderError::Unset("PD_TOKEN".into())));
        assert_eq!(
            t.render(&env(&[("PD_TOKEN", "s3\u{1b}[2Jcret")])),
            Err(RenderError::ControlCharacter("PD_TOKEN".into()))
        );
        assert_eq!(t.required_vars(), vec!["PD_TOKEN"]);
        let u = Template::parse("${API:-https://api.example.com}/v1/items").expect("parses");
        assert_eq!(u.render(&env(&[])), Ok("https://api.example.com/v1/items".into()));
        assert_eq!(
            u.render(&env(&[("API", "http://127.0.0.1:9")])),
            Ok("http://127.0.0.1:9/v1/items".into())
        );
        assert!(u.required_vars().is_empty());
        assert!(!Template::parse("plain").expect("parses").has_vars());
    }

    #[test]
    fn malformed_references_are_refused() {
        assert!(Template::parse("Bearer ${TOKEN").expect_err("an error").contains("unterminated"));
        assert!(
            Template::parse("Bearer ${}").expect_err("an error").contains("not an environment variable name")
        );
        assert!(Template::parse("Bearer ${A B}").is_err());
    }
}
