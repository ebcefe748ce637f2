//! Where a declared table's credential goes, and where it never shows.
//!
//! A [`Target`] is one scan's url and credential with their `${VAR}`s filled
//! in. Requests go only to the url's origin, its scheme, host and port
//! ([`Target::check`]): a next page elsewhere is an error, never a request
//! carrying the secret. The credential rides as the declared header or query
//! parameter ([`Target::sent`], [`Target::header`]), and every URL or message
//! that may be printed (errors reach stderr, reports, the journal and Slack)
//! passes through [`Target::shown`] or [`Target::redact`]: the auth query
//! parameter reads `***`, and the secret itself, should an API echo it in an
//! answer or a link, is cut out.

use http::{HeaderName, HeaderValue};
use skyglue_core::origin::Origin;

use crate::env::{Env, RenderError};
use crate::error::{Error, Result};
use crate::model::{AuthVia, Declared};

/// What a secret reads as wherever it would be printed.
const HIDDEN: &str = "***";
/// Secret values shorter than this are not cut out of messages: they would
/// garble every word and hide nothing worth hiding.
const MIN_SCRUBBED: usize = 4;

/// One scan's url and credential, filled in.
#[derive(Debug)]
pub struct Target {
    table: String,
    base: String,
    home: Origin,
    secret: Option<Secret>,
    /// The credential's values, longest first, cut out of printed text.
    hidden: Vec<String>,
}

#[derive(Debug)]
enum Secret {
    Header(HeaderName, HeaderValue),
    Query { param: String, value: String },
}

impl Target {
    /// `decl`'s url and auth with `env`'s variables: an unset variable, a
    /// variable that would put a query string or credentials in the url, or
    /// a url that is not `http(s)://host/...` is an error naming the table and
    /// the variable, never its value.
    pub fn prepare(decl: &Declared, env: &Env) -> Result<Target> {
        let table = decl.name.as_str();
        let missing = |field: &'static str| {
            move |e: RenderError| match e {
                RenderError::Unset(var) => Error::MissingEnv { table: table.to_string(), var, field },
                RenderError::ControlCharacter(var) => Error::BadEnv { table: table.to_string(), var, field },
            }
        };
        let bad_url = |detail: String| Error::Url { table: table.to_string(), detail };
        let vars = decl.url.values(env);
        let names = vars.iter().map(|(n, _)| format!("${{{n}}}")).collect::<Vec<_>>().join(", ");
        if let Some((name, _)) = vars.iter().find(|(_, v)| v.contains(['?', '#'])) {
            return Err(bad_url(format!(
                "${{{name}}} brings a query string into the url; ${{VAR}} may fill the url's path only"
            )));
        }
        let base = decl.url.render(env).map_err(missing("url"))?;
        let check = if names.is_empty() { String::new() } else { format!(" (check {names})") };
        let after_scheme = base.split_once("://").map_or("", |(_, rest)| rest);
        if after_scheme[..after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len())].contains('@') {
            return Err(bad_url(format!(
                "the url carries a user name or password (user:password@host){check}; send the credential with auth"
            )));
        }
        let home = Origin::of(&base).ok_or_else(|| {
            bad_url(format!("the url is not an http:// or https:// URL with a host{check}"))
        })?;
        let (secret, hidden) = match &decl.auth {
            None => (None, Vec::new()),
            Some(auth) => {
                let value = auth.value.render(env).map_err(missing("auth.value"))?;
                let mut hidden: Vec<String> = auth.value.values(env).into_iter().map(|(_, v)| v).collect();
                hidden.push(value.clone());
                hidden.retain(|v| v.len() >= MIN_SCRUBBED);
                hidden.sort_by_key(|v| std::cmp::Reverse(v.len()));
                let secret = match &auth.via {
                    AuthVia::Header(name) => {
                        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                            bad_url(format!("auth.header {name:?} is not a valid HTTP header name"))
                        })?;
                        let mut value = HeaderValue::from_str(&value).map_err(|_| {
                            bad_url(format!(
                                "the auth value (from {}) is not a valid HTTP header value: a stray newline?",
                                auth.value.required_vars().join(", ")
                            ))
                        })?;
                        value.set_sensitive(true);
                        Secret::Header(name, value)
                    }
                    AuthVia::Query(param) => Secret::Query { param: param.clone(), value },
                };
                (Some(secret), hidden)
            }
        };
        Ok(Target { table: decl.name.clone(), base, home, secret, hidden })
    }

    /// The url, `${VAR}`s filled in (`{param}`s not yet).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Refuses `url` unless it is on the url's scheme, host and port.
    pub fn check(&self, url: &str) -> Result<()> {
        if self.home.holds(url) {
            return Ok(());
        }
        Err(Error::ForeignHost {
            table: self.table.clone(),
            foreign: Origin::of(url).map_or_else(|| "an unreadable URL".to_string(), |o| o.to_string()),
            home: self.home.to_string(),
        })
    }

    /// `url` as requested: with the auth query parameter when there is one.
    pub fn sent(&self, url: &str) -> String {
        match &self.secret {
            Some(Secret::Query { param, value }) => with_param(url, param, value),
            _ => url.to_string(),
        }
    }

    /// The auth header, when the credential is one.
    pub fn header(&self) -> Option<(&HeaderName, &HeaderValue)> {
        match &self.secret {
            Some(Secret::Header(name, value)) => Some((name, value)),
            _ => None,
        }
    }

    /// `url` as printed: the auth query parameter as `***`, the secret cut out.
    pub fn shown(&self, url: &str) -> String {
        let url = match &self.secret {
            Some(Secret::Query { param, .. }) => with_param(url, param, HIDDEN),
            _ => url.to_string(),
        };
        self.scrub(&url)
    }

    /// `text` with every occurrence of the secret (as is, or URL-encoded)
    /// replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.hidden {
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let escaped =
                percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
            for form in [secret, &encoded, &escaped] {
                text = text.replace(form.as_str(), HIDDEN);
            }
        }
        text
    }

    /// `e` as it may be printed: its URL shown, its details scrubbed.
    pub fn redact(&self, e: Error) -> Error {
        match e {
            Error::Http { table, url, detail } => {
                Error::Http { table, url: self.shown(&url), detail: self.scrub(&detail) }
            }
            Error::Response { table, url, path, what, detail } => {
                Error::Response { table, url: self.shown(&url), path, what, detail: self.scrub(&detail) }
            }
            Error::Url { table, detail } => Error::Url { table, detail: self.scrub(&detail) },
            other => other,
        }
    }
}

/// `url` with `param` set to `value`: any earlier value of it (an API may
/// echo the key in its next link) is dropped, and the new one goes last.
fn with_param(url: &str, param: &str, value: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let name_of = |pair: &str| form_urlencoded::parse(pair.as_bytes()).next().map(|(k, _)| k.into_owned());
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && name_of(pair).as_deref() != Some(param))
        .map(str::to_string)
        .collect();
    pairs.push(form_urlencoded::Serializer::new(String::new()).append_pair(param, value).finish());
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::load::from_text;

    fn target(url: &str, auth: &str, vars: &[(&'static str, &'static str)]) -> Result<Target> {
        let text = format!(
            "[[table]]\nname = \"t\"\nurl = \"{url}\"\nauth = {auth}\nrows = \"$.items[*]\"\n\
             [[table.column]]\nname = \"id\"\n"
        );
        let decl = from_text("t.toml", &text).expect("valid").remove(0);
        let vars = vars.to_vec();
        let env: Env =
            Arc::new(move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()));
        Target::prepare(&decl, &env)
    }

    #[test]
    fn a_query_key_is_sent_and_shown_as_stars() {
        let t = target(
            "https://api.example.com/v1/items",
            "{ query = \"api_key\", value = \"${KEY}\" }",
            &[("KEY", "s3cr3t-key")],
        )
        .expect("prepared");
        let url = "https://api.example.com/v1/items?page=2&api_key=s3cr3t-key";
        assert_eq!(t.sent("https://api.example.com/v1/items?page=2"), url);
        assert_eq!(t.sent(url), url, "an echoed key is not sent twice");
        assert_eq!(t.shown(url), "https://api.example.com/v1/items?page=2&api_key=***");
        assert_eq!(t.scrub("invalid key s3cr3t-key (s3cr3t%2Dkey)"), "invalid key *** (***)");
        assert!(t.header().is_none());
    }

    #[test]
    fn only_the_urls_scheme_host_and_port_are_home() {
        let t = target(
            "http://127.0.0.1:8080/items",
            "{ header = \"Authorization\", value = \"Bearer ${T}\" }",
            &[("T", "tok-123")],
        )
        .expect("prepared");
        assert!(t.check("http://127.0.0.1:8080/items?page=2").is_ok());
        let err = t.check("http://127.0.0.1:9090/items?page=2").expect_err("another port").to_string();
        assert!(err.starts_with("table t: the next page is on http://127.0.0.1:9090, not on"), "{err}");
        assert!(t.check("https://127.0.0.1:8080/items").is_err());
        assert_eq!(t.scrub("echo: Bearer tok-123"), "echo: ***");
    }

    #[test]
    fn a_variable_may_not_bring_a_query_string_or_credentials() {
        let auth = "{ header = \"Authorization\", value = \"Bearer ${T}\" }";
        let err = target("https://x.example/${PART}/items", auth, &[("PART", "v1?key=k"), ("T", "t")])
            .expect_err("query")
            .to_string();
        assert!(err.contains("${PART} brings a query string"), "{err}");
        assert!(!err.contains("key=k"), "{err}");
        let err = target("https://x.example/${PART}/items", auth, &[("PART", "v1#k"), ("T", "t")])
            .expect_err("fragment")
            .to_string();
        assert!(err.contains("${PART}") && !err.contains("#k"), "{err}");
    }
}
