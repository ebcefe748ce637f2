//! A minimal HTTP/1.1 client over `TcpStream` (no extra dependencies), and helpers to
//! call AWS operations as a signed SDK request would look to the sandbox.

use std::net::SocketAddr;

use serde_json::Value;
use skyglue_sandbox::Sandbox;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const PROD_KEY: &str = "SANDBOX111111111111";
pub const STAGING_KEY: &str = "SANDBOX222222222222";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The AWS error code of an error answer.
    pub fn error_type(&self) -> String {
        self.json()["__type"].as_str().unwrap_or_default().to_owned()
    }
}

pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Resp {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Resp { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn auth(key: &str, region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20250101/{region}/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=0000"
    )
}

/// Calls an ECR, ECS or App Runner operation as `key` in `region`.
pub async fn aws_as(sb: &Sandbox, key: &str, region: &str, op: &str, body: Value) -> Resp {
    let (service, op) = op.split_once(':').unwrap();
    let (target, content_type) = match service {
        "ecr" => ("AmazonEC2ContainerRegistry_V20150921", "application/x-amz-json-1.1"),
        "ecs" => ("AmazonEC2ContainerServiceV20141113", "application/x-amz-json-1.1"),
        "apprunner" => ("AppRunner", "application/x-amz-json-1.0"),
        "events" => ("AWSEvents", "application/x-amz-json-1.1"),
        other => panic!("unknown service {other}"),
    };
    let headers = [
        ("X-Amz-Target", format!("{target}.{op}")),
        ("Content-Type", content_type.to_owned()),
        ("Authorization", auth(key, region, service)),
    ];
    request(sb.local_addr(), "POST", "/", &headers, &body.to_string()).await
}

/// Sends a REST-JSON request (Lambda, Batch) signed for `service` as `key` in `region`.
pub async fn rest_as(
    sb: &Sandbox,
    key: &str,
    region: &str,
    service: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Resp {
    let headers =
        [("Content-Type", "application/json".to_owned()), ("Authorization", auth(key, region, service))];
    request(sb.local_addr(), method, path, &headers, body).await
}

/// A signed Lambda GET as prod in us-east-1.
pub async fn lambda(sb: &Sandbox, path: &str) -> Resp {
    rest_as(sb, PROD_KEY, "us-east-1", "lambda", "GET", path, "").await
}

/// Calls an ECR or ECS operation (`"ecr:DescribeImages"`) as prod in us-east-1.
pub async fn aws(sb: &Sandbox, op: &str, body: Value) -> Resp {
    aws_as(sb, PROD_KEY, "us-east-1", op, body).await
}

/// Calls an operation expected to succeed and returns its JSON.
pub async fn ok(sb: &Sandbox, op: &str, body: Value) -> Value {
    let r = aws(sb, op, body).await;
    assert_eq!(r.status, 200, "{op}: {}", r.body);
    r.json()
}

/// Walks a paginated operation to the end; returns the pages' items under `field`.
pub async fn walk(sb: &Sandbox, op: &str, body: Value, field: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut req = body.clone();
    loop {
        let out = ok(sb, op, req.clone()).await;
        pages += 1;
        items.extend(out[field].as_array().unwrap().iter().cloned());
        match out.get("nextToken").and_then(Value::as_str) {
            Some(token) => req["nextToken"] = token.into(),
            None => return (items, pages),
        }
    }
}

pub async fn get(sb: &Sandbox, path: &str) -> Resp {
    request(sb.local_addr(), "GET", path, &[], "").await
}

pub async fn post_json(sb: &Sandbox, path: &str, body: &Value) -> Resp {
    let headers = [("Content-Type", "application/json".to_owned())];
    request(sb.local_addr(), "POST", path, &headers, &body.to_string()).await
}
