//! S3's wire details: the XML writer, S3 XML errors, the `<Delete>` request body
//! parser, percent-decoding of paths and queries, and S3's two timestamp formats.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::aws::AwsError;
use crate::ids::hex_id;

/// The S3 XML namespace.
pub(crate) const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for an XML element or attribute. Carriage returns and other control
/// characters become character references, as S3 writes them.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Builds an XML document with the S3 namespace on its root element.
#[derive(Debug)]
pub(crate) struct XmlWriter {
    out: String,
    root: &'static str,
}

impl XmlWriter {
    /// A document whose root element is `root`.
    pub(crate) fn new(root: &'static str) -> Self {
        let out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{XMLNS}\">");
        XmlWriter { out, root }
    }

    /// Opens element `name`.
    pub(crate) fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Closes element `name`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Text inside the current element, escaped.
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.out.push_str(&escape(value));
        self
    }

    /// `<name>value</name>`, the value escaped.
    pub(crate) fn el(&mut self, name: &str, value: impl Display) -> &mut Self {
        let text = escape(&value.to_string());
        self.open(name);
        self.out.push_str(&text);
        self.close(name)
    }

    /// `<name>value</name>` when there is a value.
    pub(crate) fn el_opt(&mut self, name: &str, value: Option<impl Display>) -> &mut Self {
        if let Some(v) = value {
            self.el(name, v);
        }
        self
    }

    /// Writes a JSON value as XML: an object's members become child elements, an
    /// array repeats its element, scalars become text.
    pub(crate) fn json(&mut self, name: &str, value: &Value) -> &mut Self {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.json(name, item);
                }
            }
            Value::Object(members) => {
                self.open(name);
                for (k, v) in members {
                    self.json(k, v);
                }
                self.close(name);
            }
            Value::Null => {}
            Value::String(s) => {
                self.el(name, s);
            }
            other => {
                self.el(name, other);
            }
        }
        self
    }

    /// The finished document.
    pub(crate) fn finish(mut self) -> String {
        let root = self.root;
        self.close(root);
        self.out
    }
}

/// An `application/xml` 200 answer.
pub(crate) fn xml_response(body: String) -> Response {
    let mut response = ([("content-type", "application/xml")], body).into_response();
    add_request_id(&mut response);
    response
}

/// A fresh request id and extended request id (`x-amz-id-2`).
fn request_ids() -> (String, String) {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    (format!("{:016X}", 0x5A4D_B0C5_0000_0000u64 ^ n), hex_id(&format!("host-id:{n}"), 56))
}

/// Adds `x-amz-request-id` and `x-amz-id-2`, as every S3 answer has.
pub(crate) fn add_request_id(response: &mut Response) {
    set_request_ids(response, request_ids());
}

fn set_request_ids(response: &mut Response, (id, host): (String, String)) {
    let headers = response.headers_mut();
    for (name, value) in [("x-amz-request-id", id), ("x-amz-id-2", host)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

/// An S3 error: `<Error><Code>..</Code><Message>..</Message>...</Error>` with a status,
/// extra elements and headers. HEAD answers carry no body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct S3Error {
    /// HTTP status.
    pub status: u16,
    /// S3 error code, e.g. `NoSuchBucket`.
    pub code: String,
    /// Message.
    pub message: String,
    /// More elements of `<Error>`, e.g. `BucketName`.
    pub fields: Vec<(&'static str, String)>,
    /// Response headers, e.g. `x-amz-bucket-region`.
    pub headers: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with this status, code and message.
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        S3Error {
            status,
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The same error with one more `<Error>` element.
    pub(crate) fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The same error with one more response header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `404 NoSuchBucket`.
    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        Self::new(404, "NoSuchBucket", "The specified bucket does not exist").field("BucketName", bucket)
    }

    /// `403 AccessDenied`.
    pub(crate) fn access_denied() -> Self {
        Self::new(403, "AccessDenied", "Access Denied")
    }

    /// `400 InvalidArgument` about query parameter `name`.
    pub(crate) fn invalid_argument(message: &str, name: &str, value: &str) -> Self {
        Self::new(400, "InvalidArgument", message).field("ArgumentName", name).field("ArgumentValue", value)
    }

    /// `400 MalformedXML`.
    pub(crate) fn malformed_xml() -> Self {
        Self::new(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    }

    /// The answer; `head` leaves the body out, as S3 does for HEAD requests.
    pub(crate) fn into_response(self, head: bool) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let ids = request_ids();
        let mut response = if head {
            status.into_response()
        } else {
            let mut xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
                escape(&self.code),
                escape(&self.message)
            );
            for (name, value) in &self.fields {
                xml.push_str(&format!("<{name}>{}</{name}>", escape(value)));
            }
            xml.push_str(&format!("<RequestId>{}</RequestId><HostId>{}</HostId></Error>", ids.0, ids.1));
            (status, [("content-type", "application/xml")], xml).into_response()
        };
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                response.headers_mut().insert(HeaderName::from_static(name), v);
            }
        }
        set_request_ids(&mut response, ids);
        response
    }
}

impl From<AwsError> for S3Error {
    fn from(e: AwsError) -> Self {
        S3Error::new(e.status, &e.code, e.message)
    }
}

/// One `<Object>` of a DeleteObjects request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectIdentifier {
    /// The key.
    pub key: String,
    /// The version to delete, if one is named.
    pub version_id: Option<String>,
    /// The ETag the current object must have for the delete to happen.
    pub etag: Option<String>,
}

/// A parsed `<Delete>` body: its objects and `Quiet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeleteRequest {
    /// Objects in request order.
    pub objects: Vec<ObjectIdentifier>,
    /// Whether only errors are reported.
    pub quiet: bool,
}

/// Parses a DeleteObjects body (namespace prefixes ignored); `None` if it is not
/// well-formed XML with a `<Delete>` root.
pub(crate) fn parse_delete(body: &str) -> Option<DeleteRequest> {
    let root = parse_xml(body)?;
    if root.name != "Delete" {
        return None;
    }
    let mut objects = Vec::new();
    let mut quiet = false;
    for child in &root.children {
        match child.name.as_str() {
            "Object" => {
                let text =
                    |name: &str| child.children.iter().find(|c| c.name == name).map(|c| c.text.clone());
                objects.push(ObjectIdentifier {
                    key: text("Key")?,
                    version_id: text("VersionId"),
                    etag: text("ETag"),
                });
            }
            "Quiet" => quiet = child.text.trim() == "true",
            _ => {}
        }
    }
    Some(DeleteRequest { objects, quiet })
}

/// An element of a parsed document: local name, text and child elements.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

/// A small, strict-enough XML parser for request bodies: elements, attributes
/// (skipped), text with entity and character references, CDATA, comments and
/// processing instructions.
fn parse_xml(input: &str) -> Option<Node> {
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut rest = input;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            stack.last_mut()?.text.push_str(&after[..end]);
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>')?;
            let name = local_name(after[..end].trim());
            let node = stack.pop()?;
            if node.name != name {
                return None;
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None if root.is_none() => root = Some(node),
                None => return None,
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>')?;
            let tag = &after[..end];
            let (tag, self_closing) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name = local_name(tag.split_whitespace().next()?);
            if name.is_empty() || (stack.is_empty() && root.is_some()) {
                return None;
            }
            let node = Node { name: name.to_owned(), ..Node::default() };
            if self_closing {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            } else {
                stack.push(node);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            match stack.last_mut() {
                Some(node) => node.text.push_str(&unescape(text)?),
                None if text.trim().is_empty() => {}
                None => return None,
            }
            rest = &rest[end..];
        }
    }
    if stack.is_empty() { root } else { None }
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Decodes `&amp;`-style entities and `&#..;` character references.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';')?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Percent-encodes for `encoding-type=url` answers: everything but unreserved
/// characters and `/`; a space becomes `+`.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// S3's XML timestamp: `2024-05-01T12:00:00.000Z`.
pub(crate) fn iso8601(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An HTTP date: `Wed, 01 May 2024 12:00:00 GMT`.
pub(crate) fn http_date(t: &DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn delete_bodies_parse_as_the_sdk_writes_them() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
            <Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <Object><Key>a&amp;b &lt;c&gt;</Key></Object>\
            <Object><Key>k&#xD;2</Key><VersionId>v1</VersionId></Object>\
            <Quiet>true</Quiet></Delete>";
        let parsed = parse_delete(body).unwrap();
        assert!(parsed.quiet);
        assert_eq!(
            parsed.objects[0],
            ObjectIdentifier { key: "a&b <c>".into(), version_id: None, etag: None }
        );
        assert_eq!(
            parsed.objects[1],
            ObjectIdentifier { key: "k\r2".into(), version_id: Some("v1".into()), etag: None }
        );
        assert!(parse_delete("<Delete><Object><Key>x</Key></Delete>").is_none());
        assert!(parse_delete("<Other/>").is_none());
        assert!(parse_delete("not xml").is_none());
        assert!(parse_delete("<Delete><Object></Object></Delete>").is_none(), "an Object needs a Key");
        let empty = parse_delete("<Delete/>").unwrap();
        assert!(empty.objects.is_empty() && !empty.quiet);
    }

    #[test]
    fn escaping_and_url_encoding() {
        assert_eq!(escape("a<b>&\"'\r"), "a&lt;b&gt;&amp;&quot;&apos;&#xD;");
        assert_eq!(url_encode("a b/ü"), "a+b/%C3%BC");
    }

    #[test]
    fn json_rules_render_as_xml() {
        let mut w = XmlWriter::new("LifecycleConfiguration");
        w.json(
            "Rule",
            &serde_json::json!({"ID": "x", "Filter": {"Prefix": "a/"}, "T": [{"Days": 1}, {"Days": 2}]}),
        );
        let xml = w.finish();
        assert!(xml.contains("<Rule>") && xml.ends_with("</Rule></LifecycleConfiguration>"), "{xml}");
        assert!(xml.contains("<Filter><Prefix>a/</Prefix></Filter>") && xml.contains("<ID>x</ID>"), "{xml}");
        assert!(xml.contains("<T><Days>1</Days></T><T><Days>2</Days></T>"), "{xml}");
    }
}
