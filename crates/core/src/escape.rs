//! Control characters made visible, for what is printed for people (the
//! `table` query output, the `text` report): a value from an API (an S3 key,
//! a REST field, an error message) may hold an escape sequence that would
//! otherwise drive the terminal, or a carriage return that hides what came
//! before it. JSON and CSV output stay exact.

use std::borrow::Cow;

/// `text` with every control character written as an escape: `\n`, `\r`,
/// `\t`, else `\u{1b}` and the like. Borrowed when there is none.
///
/// ```
/// use skyglue_core::escape::escape_controls;
///
/// assert_eq!(escape_controls("builds/a.tar"), "builds/a.tar");
/// assert_eq!(escape_controls("x\u{1b}[2Jy\n"), "x\\u{1b}[2Jy\\n");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape_where(text, char::is_control)
}

/// As [`escape_controls`], but keeps newlines (for text already laid out in lines).
pub fn escape_controls_but_newlines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control() && c != '\n')
}

fn escape_where(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if !escaped(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("a\u{7}b\rc\td\u{9b}é"), "a\\u{7}b\\rc\\td\\u{9b}é");
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
        assert_eq!(escape_controls_but_newlines("a\nb\u{1b}"), "a\nb\\u{1b}");
    }
}
