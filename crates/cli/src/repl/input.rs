//! Where one REPL input ends: a meta-command at the end of its line, SQL at a
//! `;` outside strings, quoted names and comments.
//!
//! The line editor's validator asks [`is_complete`]; scripts (piped input and
//! `\i FILE`) are cut into [`Unit`]s by [`units`] with the same rule.

/// One thing to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A meta-command line such as `\d aws_ecs_service`.
    Meta(String),
    /// One or more SQL statements.
    Sql(String),
}

impl Unit {
    /// What the editor returned: a meta-command when it starts with `\`.
    pub fn classify(text: &str) -> Unit {
        let trimmed = text.trim();
        if trimmed.starts_with('\\') { Unit::Meta(trimmed.to_string()) } else { Unit::Sql(text.to_string()) }
    }
}

/// Whether `input` is ready to run: blank, a meta-command, or SQL whose last
/// token is `;`.
pub fn is_complete(input: &str) -> bool {
    let trimmed = input.trim();
    trimmed.is_empty() || trimmed.starts_with('\\') || ends_with_semicolon(trimmed)
}

/// Cuts a script into units; trailing SQL without a final `;` still runs.
pub fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut sql = String::new();
    for line in text.lines() {
        if is_blank_sql(&sql) && line.trim_start().starts_with('\\') {
            out.push(Unit::Meta(line.trim().to_string()));
            sql.clear();
            continue;
        }
        sql.push_str(line);
        sql.push('\n');
        if ends_with_semicolon(&sql) {
            out.push(Unit::Sql(std::mem::take(&mut sql)));
        }
    }
    if !is_blank_sql(&sql) {
        out.push(Unit::Sql(sql));
    }
    out
}

/// Whether `sql` holds nothing but whitespace and comments.
fn is_blank_sql(sql: &str) -> bool {
    significant(sql).is_none_or(|chars| chars.is_empty())
}

/// Whether the last character of `sql` outside strings, quoted identifiers
/// and comments is `;` (an unclosed quote or comment is never complete).
fn ends_with_semicolon(sql: &str) -> bool {
    significant(sql).and_then(|chars| chars.last().copied()) == Some(';')
}

/// The characters of `sql` outside comments and whitespace, with each quoted
/// string or name standing as its closing quote; `None` when a quote or a
/// block comment is still open.
fn significant(sql: &str) -> Option<Vec<char>> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // A doubled quote ('it''s') closes and reopens: same result.
                chars.by_ref().find(|&d| d == c)?;
                out.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().find(|&d| d == '\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                loop {
                    let d = chars.next()?;
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_quotes_and_comments() {
        for (input, complete) in [
            ("", true),
            ("\\d", true),
            ("SELECT 1", false),
            ("SELECT 1;", true),
            ("SELECT 1\n;  ", true),
            ("SELECT ';'", false),
            ("SELECT 'a;", false),
            ("SELECT 'it''s';", true),
            ("SELECT 1 -- done;", false),
            ("SELECT 1; -- done", true),
            ("SELECT 1 /* ; */", false),
            ("SELECT 1 /* ;", false),
            ("SELECT \"a;\"", false),
        ] {
            assert_eq!(is_complete(input), complete, "{input:?}");
        }
    }

    #[test]
    fn scripts_split_into_meta_commands_and_statements() {
        let script = "\\timing\nSELECT 1\n  + 1;\n-- a comment\n\\d x\nSELECT 2";
        assert_eq!(
            units(script),
            vec![
                Unit::Meta("\\timing".into()),
                Unit::Sql("SELECT 1\n  + 1;\n".into()),
                Unit::Meta("\\d x".into()),
                Unit::Sql("SELECT 2\n".into()),
            ]
        );
        assert_eq!(units("SELECT 1;\n-- trailing comment\n"), vec![Unit::Sql("SELECT 1;\n".into())]);
    }
}
