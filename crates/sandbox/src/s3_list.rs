//! S3 listings: ListObjectsV2 and ListObjectVersions (prefixes, delimiters, markers,
//! continuation tokens, `encoding-type=url`), and the opaque tokens ListBuckets uses too.

use std::ops::Bound;

use axum::response::Response;

use crate::aws::Caller;
use crate::s3_request::{S3Request, bucket, owner, write_owner};
use crate::s3_xml::{S3Error, XmlWriter, iso8601, url_encode, xml_response};
use crate::world::{S3ObjectVersion, World};

/// Entries per listing page, and the most `max-keys` can get.
const PAGE: usize = 1000;

const TOKEN_PREFIX: &str = "sbx1.";

/// An opaque continuation token: `kind` (`k` after a key, `p` after a common
/// prefix, `b` after a bucket) and the string, hex-encoded.
pub(crate) fn encode_token(kind: char, s: &str) -> String {
    let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_PREFIX}{kind}{hex}")
}

pub(crate) fn decode_token(token: &str) -> Option<(char, String)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let hex = chars.as_str();
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    Some((kind, String::from_utf8(bytes?).ok()?))
}

pub(crate) fn bad_token() -> S3Error {
    S3Error::invalid_argument("The continuation token provided is incorrect", "continuation-token", "")
}
/// `max-keys`: absent is 1000, more than 1000 gets 1000; returns (echoed, page size).
fn max_keys(request: &S3Request) -> Result<(i64, usize), S3Error> {
    match request.param("max-keys") {
        None => Ok((PAGE as i64, PAGE)),
        Some(raw) => match raw.parse::<i32>() {
            Ok(n) if n >= 0 => Ok((i64::from(n), (n as usize).min(PAGE))),
            _ => Err(S3Error::invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                raw,
            )),
        },
    }
}

/// Whether keys are URL-encoded in the answer (`encoding-type=url`).
fn url_encoding(request: &S3Request) -> Result<bool, S3Error> {
    match request.param("encoding-type") {
        None => Ok(false),
        Some(t) if t.eq_ignore_ascii_case("url") => Ok(true),
        Some(t) => {
            Err(S3Error::invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", t))
        }
    }
}

/// The common prefix `key` rolls up into: the prefix, then the rest up to and
/// including the first delimiter.
fn common_prefix(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter?;
    let rest = key.get(prefix.len()..)?;
    rest.find(d).map(|i| key[..prefix.len() + i + d.len()].to_owned())
}

/// Where a listing starts: at the prefix, or just after `after` (whichever is later).
fn start_bound<'a>(prefix: &'a str, after: Option<&'a str>) -> Bound<&'a str> {
    match after {
        Some(a) if a >= prefix => Bound::Excluded(a),
        _ => Bound::Included(prefix),
    }
}

/// One entry of a listing page.
enum Entry<'w> {
    /// A key (and the version shown).
    Version(&'w str, &'w S3ObjectVersion, bool),
    /// A common prefix.
    Prefix(String),
}

pub(crate) fn list_objects_v2(
    world: &World,
    who: &Caller,
    name: &str,
    request: &S3Request,
) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    let (echo_max, size) = max_keys(request)?;
    let url = url_encoding(request)?;
    let prefix = request.param("prefix").unwrap_or_default();
    let delimiter = request.non_empty("delimiter");
    let (after, mut last_prefix) = match request.non_empty("continuation-token") {
        Some(token) => match decode_token(token) {
            Some(('k', key)) => (Some(key), None),
            Some(('p', cp)) => (Some(cp.clone()), Some(cp)),
            _ => return Err(bad_token()),
        },
        None => (request.non_empty("start-after").map(str::to_owned), None),
    };
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut truncated = false;
    let range = (start_bound(prefix, after.as_deref()), Bound::Unbounded);
    for (key, object) in b.objects.range::<str, _>(range) {
        if !key.starts_with(prefix) {
            break;
        }
        let Some(current) = object.current() else { continue };
        let entry = match common_prefix(key, prefix, delimiter) {
            Some(cp) if last_prefix.as_ref() == Some(&cp) => continue,
            Some(cp) => {
                last_prefix = Some(cp.clone());
                Entry::Prefix(cp)
            }
            None => Entry::Version(key, current, true),
        };
        if entries.len() == size {
            truncated = size > 0;
            break;
        }
        entries.push(entry);
    }
    let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
    let fetch_owner = request.param("fetch-owner") == Some("true");
    let mut w = XmlWriter::new("ListBucketResult");
    w.el("Name", &b.name).el("Prefix", enc(prefix));
    w.el_opt("Delimiter", delimiter.map(enc));
    w.el("MaxKeys", echo_max).el("KeyCount", entries.len()).el("IsTruncated", truncated);
    w.el_opt("ContinuationToken", request.non_empty("continuation-token"));
    if truncated {
        let next = match entries.last() {
            Some(Entry::Version(key, ..)) => Some(encode_token('k', key)),
            Some(Entry::Prefix(cp)) => Some(encode_token('p', cp)),
            None => None,
        };
        w.el_opt("NextContinuationToken", next);
    }
    w.el_opt("StartAfter", request.non_empty("start-after").map(enc));
    w.el_opt("EncodingType", url.then_some("url"));
    for entry in &entries {
        if let Entry::Version(key, v, _) = entry {
            w.open("Contents")
                .el("Key", enc(key))
                .el("LastModified", iso8601(&v.last_modified))
                .el("ETag", &v.etag)
                .el("Size", v.size);
            if fetch_owner {
                write_owner(&mut w, owner(world, b, v));
            }
            w.el("StorageClass", &v.storage_class).close("Contents");
        }
    }
    write_prefixes(&mut w, &entries, enc);
    Ok(xml_response(w.finish()))
}

fn write_prefixes(w: &mut XmlWriter, entries: &[Entry<'_>], enc: impl Fn(&str) -> String) {
    for entry in entries {
        if let Entry::Prefix(cp) = entry {
            w.open("CommonPrefixes").el("Prefix", enc(cp)).close("CommonPrefixes");
        }
    }
}

pub(crate) fn list_object_versions(
    world: &World,
    who: &Caller,
    name: &str,
    request: &S3Request,
) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    let (echo_max, size) = max_keys(request)?;
    let url = url_encoding(request)?;
    let prefix = request.param("prefix").unwrap_or_default();
    let delimiter = request.non_empty("delimiter");
    let key_marker = request.non_empty("key-marker");
    let version_marker = request.non_empty("version-id-marker");
    if version_marker.is_some() && key_marker.is_none() {
        return Err(S3Error::invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            version_marker.unwrap_or_default(),
        ));
    }
    // With a version marker the marker's key is resumed after that version; without
    // one, listing resumes after every version of the marker key (or common prefix).
    let range = match (key_marker, version_marker) {
        (Some(k), Some(_)) if k >= prefix => (Bound::Included(k), Bound::Unbounded),
        _ => (start_bound(prefix, key_marker), Bound::Unbounded),
    };
    let mut last_prefix = match (key_marker, version_marker) {
        (Some(k), None) => common_prefix(k, prefix, delimiter),
        _ => None,
    };
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut truncated = false;
    'keys: for (key, object) in b.objects.range::<str, _>(range) {
        if !key.starts_with(prefix) {
            break;
        }
        if object.versions.is_empty() {
            continue;
        }
        if let Some(cp) = common_prefix(key, prefix, delimiter) {
            if last_prefix.as_ref() == Some(&cp) {
                continue;
            }
            if entries.len() == size {
                truncated = size > 0;
                break;
            }
            last_prefix = Some(cp.clone());
            entries.push(Entry::Prefix(cp));
            continue;
        }
        let newest_first = object.versions.iter().rev().enumerate();
        let mut skipping = key_marker == Some(key.as_str()) && version_marker.is_some();
        for (i, v) in newest_first {
            if skipping {
                skipping = Some(v.version_id.as_str()) != version_marker;
                continue;
            }
            if entries.len() == size {
                truncated = size > 0;
                break 'keys;
            }
            entries.push(Entry::Version(key, v, i == 0));
        }
    }
    let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
    let mut w = XmlWriter::new("ListVersionsResult");
    w.el("Name", &b.name).el("Prefix", enc(prefix));
    w.el("KeyMarker", enc(key_marker.unwrap_or_default()));
    w.el("VersionIdMarker", version_marker.unwrap_or_default());
    if truncated {
        match entries.last() {
            Some(Entry::Version(key, v, _)) => {
                w.el("NextKeyMarker", enc(key)).el("NextVersionIdMarker", &v.version_id);
            }
            Some(Entry::Prefix(cp)) => {
                w.el("NextKeyMarker", enc(cp));
            }
            None => {}
        }
    }
    w.el("MaxKeys", echo_max);
    w.el_opt("Delimiter", delimiter.map(enc));
    w.el("IsTruncated", truncated);
    w.el_opt("EncodingType", url.then_some("url"));
    for entry in &entries {
        let Entry::Version(key, v, latest) = entry else { continue };
        let element = if v.is_delete_marker { "DeleteMarker" } else { "Version" };
        w.open(element)
            .el("Key", enc(key))
            .el("VersionId", &v.version_id)
            .el("IsLatest", latest)
            .el("LastModified", iso8601(&v.last_modified));
        if !v.is_delete_marker {
            w.el("ETag", &v.etag).el("Size", v.size).el("StorageClass", &v.storage_class);
        }
        write_owner(&mut w, owner(world, b, v));
        w.close(element);
    }
    write_prefixes(&mut w, &entries, enc);
    Ok(xml_response(w.finish()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token('k', "builds/ü/1");
        assert_eq!(decode_token(&t), Some(('k', "builds/ü/1".to_owned())));
        assert_eq!(decode_token("garbage"), None);
        assert_eq!(decode_token("sbx1.k0"), None);
    }

    #[test]
    fn common_prefixes_stop_at_the_first_delimiter_after_the_prefix() {
        assert_eq!(common_prefix("a/b/c", "a/", Some("/")), Some("a/b/".to_owned()));
        assert_eq!(common_prefix("a/b", "a/", Some("/")), None);
        assert_eq!(common_prefix("a/b", "", None), None);
    }
}
