//! Where a credential may go: the origin (scheme, host and port) of a URL.
//!
//! An HTTP table sends its token only to the origin it was configured for.
//! A next-page link the API hands back is followed only when it has the same
//! origin: another host, another port, or `https` turned into `http` would
//! carry the secret somewhere it was never meant to go.
//!
//! ```
//! use skyglue_core::origin::Origin;
//! let home = Origin::of("https://api.example.com/v1/items").expect("absolute");
//! assert_eq!(Origin::of("https://API.example.com:443/v1/items?page=2"), Some(home.clone()));
//! assert_ne!(Origin::of("http://api.example.com/v1/items?page=2"), Some(home.clone()));
//! assert_eq!(home.to_string(), "https://api.example.com");
//! ```

use std::fmt;

/// The scheme, host and port of an `http(s)://` URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of `url`: `None` unless it is an absolute `http://` or
    /// `https://` URL with a host. The port defaults to the scheme's.
    pub fn of(url: &str) -> Option<Origin> {
        // Only `scheme://authority` is read: a path need not be valid for its origin to be known.
        let url = url.trim();
        let authority_start = url.find("://")? + 3;
        let end = url[authority_start..].find(['/', '?', '#']).map_or(url.len(), |e| authority_start + e);
        let uri: http::Uri = url[..end].parse().ok()?;
        let (scheme, default_port) = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
            "http" => ("http", 80),
            "https" => ("https", 443),
            _ => return None,
        };
        let authority = uri.authority()?;
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        Some(Origin { scheme, host, port: authority.port_u16().unwrap_or(default_port) })
    }

    /// Whether `url` is on this origin (a relative URL is not: make it
    /// absolute first).
    pub fn holds(&self, url: &str) -> bool {
        Origin::of(url).as_ref() == Some(self)
    }
}

impl fmt::Display for Origin {
    /// `scheme://host`, with `:port` when it is not the scheme's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_host_and_port_all_count() {
        let home = Origin::of("http://127.0.0.1:8080/items").expect("origin");
        assert!(home.holds("http://127.0.0.1:8080/items?page=2"));
        assert!(!home.holds("http://127.0.0.1:8081/items?page=2"), "another port");
        assert!(!home.holds("http://localhost:8080/items"), "another host");
        assert!(!home.holds("https://127.0.0.1:8080/items"), "another scheme");
        assert!(!home.holds("/items?page=2"), "relative: made absolute first");
        assert_eq!(home.to_string(), "http://127.0.0.1:8080");
        let secure = Origin::of("https://api.example.com/x").expect("origin");
        assert!(!secure.holds("http://api.example.com/x"), "a downgrade to http");
        assert!(!secure.holds("https://user@evil.example/x"));
        assert_eq!(Origin::of("ftp://api.example.com/x"), None);
        assert_eq!(Origin::of("api.example.com/x"), None);
    }
}
