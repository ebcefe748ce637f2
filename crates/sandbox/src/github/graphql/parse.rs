//! A parser for the part of GraphQL's query language a GitHub client sends for
//! lookups: an optional `query Name($var: Type)` header, fields with aliases and
//! arguments (strings, numbers, enums, `$variables`), nested selection sets and
//! inline fragments (`... on Commit { ... }`). Comments and commas are ignored,
//! as the spec says. Named fragments, directives and mutations are refused with
//! a parse error, which is what a client would see for a query GitHub could not
//! read either.

/// One entry of a selection set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    /// `alias: name(args) { ... }`.
    Field(Field),
    /// `... on Type { ... }`.
    Fragment { on: String, selection: Vec<Selection> },
}

/// A field, with its alias, arguments and sub-selection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// The alias, if any.
    pub alias: Option<String>,
    /// The field name.
    pub name: String,
    /// Arguments in order.
    pub args: Vec<(String, Arg)>,
    /// The sub-selection (empty for scalars).
    pub selection: Vec<Selection>,
}

impl Field {
    /// The key of this field in the answer: the alias, else the name.
    pub(crate) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// The argument `name`, if given.
    pub(crate) fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// An argument value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// `"text"`.
    Str(String),
    /// A number.
    Int(i64),
    /// An enum value, `true`, `false` or `null`.
    Enum(String),
    /// `$name`, resolved from the request's variables.
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Var(String),
    Spread,
    Punct(char),
}

/// Parses a query document into its top-level selection set.
pub(crate) fn parse(text: &str) -> Result<Vec<Selection>, String> {
    let toks = lex(text)?;
    let mut p = Parser { toks, at: 0 };
    if let Some(Tok::Name(op)) = p.peek() {
        if op != "query" {
            return Err(format!("Parse error on \"{op}\": only queries are supported"));
        }
        p.at += 1;
        if let Some(Tok::Name(_)) = p.peek() {
            p.at += 1;
        }
        if p.peek() == Some(&Tok::Punct('(')) {
            p.skip_variable_definitions()?;
        }
    }
    let selection = p.selection_set()?;
    match p.peek() {
        None => Ok(selection),
        Some(t) => Err(format!("Parse error on {t:?}: expected end of document")),
    }
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Result<Tok, String> {
        let t = self.toks.get(self.at).cloned().ok_or("Parse error: unexpected end of document")?;
        self.at += 1;
        Ok(t)
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Tok::Punct(p) if p == c => Ok(()),
            t => Err(format!("Parse error on {t:?}: expected '{c}'")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Name(n) => Ok(n),
            t => Err(format!("Parse error on {t:?}: expected a name")),
        }
    }

    /// `($a: String!, $b: [ID!] = ...)`: the types do not matter to the fake.
    fn skip_variable_definitions(&mut self) -> Result<(), String> {
        self.expect('(')?;
        while self.next()? != Tok::Punct(')') {}
        Ok(())
    }

    /// `{ selection+ }`: GraphQL forbids an empty selection set.
    fn selection_set(&mut self) -> Result<Vec<Selection>, String> {
        self.expect('{')?;
        let mut out = Vec::new();
        while self.peek() != Some(&Tok::Punct('}')) {
            out.push(self.selection()?);
        }
        self.expect('}')?;
        if out.is_empty() {
            return Err("Parse error on \"}\" (RCURLY): a selection set cannot be empty".to_owned());
        }
        Ok(out)
    }

    fn selection(&mut self) -> Result<Selection, String> {
        if self.peek() == Some(&Tok::Spread) {
            self.at += 1;
            if self.name()? != "on" {
                return Err("Parse error: named fragments are not supported".to_owned());
            }
            let on = self.name()?;
            return Ok(Selection::Fragment { on, selection: self.selection_set()? });
        }
        let first = self.name()?;
        let (alias, name) = if self.peek() == Some(&Tok::Punct(':')) {
            self.at += 1;
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        let mut args = Vec::new();
        if self.peek() == Some(&Tok::Punct('(')) {
            self.at += 1;
            while self.peek() != Some(&Tok::Punct(')')) {
                let arg = self.name()?;
                self.expect(':')?;
                let value = match self.next()? {
                    Tok::Str(s) => Arg::Str(s),
                    Tok::Int(i) => Arg::Int(i),
                    Tok::Name(n) => Arg::Enum(n),
                    Tok::Var(v) => Arg::Var(v),
                    t => return Err(format!("Parse error on {t:?}: expected a value")),
                };
                args.push((arg, value));
            }
            self.expect(')')?;
        }
        let selection =
            if self.peek() == Some(&Tok::Punct('{')) { self.selection_set()? } else { Vec::new() };
        Ok(Selection::Field(Field { alias, name, args, selection }))
    }
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() || c == ',' => {}
            '#' => while chars.next_if(|c| *c != '\n').is_some() {},
            '{' | '}' | '(' | ')' | ':' | '!' | '[' | ']' | '=' => toks.push(Tok::Punct(c)),
            '.' => {
                if chars.next() != Some('.') || chars.next() != Some('.') {
                    return Err("Parse error on \".\": expected \"...\"".to_owned());
                }
                toks.push(Tok::Spread);
            }
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("Parse error: unterminated string".to_owned()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some(e @ ('"' | '\\' | '/')) => s.push(e),
                            other => return Err(format!("Parse error: bad escape {other:?}")),
                        },
                        Some(c) => s.push(c),
                    }
                }
                toks.push(Tok::Str(s));
            }
            '$' => toks.push(Tok::Var(word(&mut chars, String::new()))),
            c if c == '-' || c.is_ascii_digit() => {
                let w = word(&mut chars, c.to_string());
                toks.push(Tok::Int(w.parse().map_err(|_| format!("Parse error on \"{w}\""))?));
            }
            c if c == '_' || c.is_ascii_alphabetic() => toks.push(Tok::Name(word(&mut chars, c.to_string()))),
            c => return Err(format!("Parse error on \"{c}\": unexpected character")),
        }
    }
    Ok(toks)
}

fn word(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, mut w: String) -> String {
    while let Some(c) = chars.next_if(|c| *c == '_' || c.is_ascii_alphanumeric()) {
        w.push(c);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aliases_arguments_and_fragments() {
        let q = r#"query Q($o: String!) { r0: repository(owner: $o, name: "web") {
            c0: object(oid: "abc") { ... on Commit { oid author { name } } } } # comment
            rateLimit { cost } }"#;
        let got = parse(q).expect("parses");
        let Selection::Field(repo) = &got[0] else { panic!("a field") };
        assert_eq!((repo.key(), repo.name.as_str()), ("r0", "repository"));
        assert_eq!(repo.arg("owner"), Some(&Arg::Var("o".into())));
        let Selection::Field(object) = &repo.selection[0] else { panic!("a field") };
        assert_eq!(object.arg("oid"), Some(&Arg::Str("abc".into())));
        assert!(matches!(&object.selection[0], Selection::Fragment { on, .. } if on == "Commit"));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn refuses_empty_selections_and_mutations() {
        assert!(parse("query { }").is_err());
        assert!(parse("{ r0: repository(owner: \"a\", name: \"b\") { } }").is_err());
        assert!(parse("mutation { x }").is_err());
    }
}
