//! Secrets from the environment (tokens, webhook URLs): read once, cleaned
//! the same way everywhere.
//!
//! A value pasted from a file or a password manager often ends in a newline,
//! which an HTTP client refuses (octocrab panics on it): whitespace around a
//! secret is trimmed. A control character inside one is a mistake no
//! trimming fixes, and is refused with an error that names the variable and
//! never prints the value.

/// `value` of the variable `name`, trimmed; `None` when nothing is left; an
/// error naming `name` (never the value) when a control character remains
/// inside.
///
/// ```
/// use skyglue_core::secret::clean;
///
/// assert_eq!(clean("GITHUB_TOKEN", "ghp_abc\n"), Ok(Some("ghp_abc".to_string())));
/// assert_eq!(clean("GITHUB_TOKEN", "  \n"), Ok(None));
/// let refused = clean("GITHUB_TOKEN", "ghp_a\u{1b}bc").expect_err("refused");
/// assert!(refused.contains("GITHUB_TOKEN") && !refused.contains("ghp_a"));
/// ```
pub fn clean(name: &str, value: &str) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!(
            "environment variable {name} holds a control character (a newline or an escape inside \
             the value): set it to the secret alone"
        ));
    }
    Ok(Some(trimmed.to_string()))
}

/// The secret in the environment variable `name` (see [`clean`]): `None`
/// when unset or blank.
pub fn from_env(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(value) => clean(name, &value),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable {name} is not valid UTF-8: set it to the secret alone"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_newline_is_trimmed_and_an_inner_one_refused() {
        assert_eq!(clean("T", " tok\r\n"), Ok(Some("tok".into())));
        assert_eq!(clean("T", ""), Ok(None));
        let e = clean("SLACK_WEBHOOK_URL", "https://hooks.slack.com/x\ny").expect_err("refused");
        assert!(e.contains("SLACK_WEBHOOK_URL"), "{e}");
        assert!(!e.contains("hooks.slack.com"), "never the value: {e}");
    }
}
