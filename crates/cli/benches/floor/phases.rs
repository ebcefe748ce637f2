//! The policy scenarios broken into phases: the query (its AWS calls), the
//! GitHub lookups made within it, the guardrail's check and the deletes, each
//! with its calls, wall time and the peak memory reached by its end.
//!
//! The child marks the start of each stage the runner reports (and the end of
//! the run) with the sandbox's call counts, its clock and its peak memory;
//! the parent turns consecutive marks into phases. GitHub's lookups overlap
//! the query's AWS calls, so GitHub's wall is the span from its first call to
//! its last (plus one call's latency), as the sandbox saw them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skyglue_policy::{Stage, StageObserver};

/// Stage marks of one run, taken as the runner reports each stage.
#[derive(Clone)]
pub struct Marks {
    started: Instant,
    endpoint: String,
    marks: Arc<Mutex<Vec<Value>>>,
}

impl Marks {
    /// Marks against the sandbox at `endpoint`, timed from now.
    pub fn new(endpoint: &str) -> Self {
        Marks { started: Instant::now(), endpoint: endpoint.to_string(), marks: Arc::default() }
    }

    /// The observer to hand the runner.
    pub fn observer(&self) -> StageObserver {
        let this = self.clone();
        Arc::new(move |stage| {
            this.mark(match stage {
                Stage::Query => "query",
                Stage::Guardrail => "guardrail",
                Stage::Act => "delete",
                Stage::Finish => "finish",
            })
        })
    }

    /// Records the sandbox's counts, the time and the peak memory now, as the start of `stage`.
    pub fn mark(&self, stage: &str) {
        let calls = sandbox_calls(&self.endpoint).unwrap_or(Value::Null);
        let mark = json!({
            "stage": stage,
            "at_s": self.started.elapsed().as_secs_f64(),
            "calls": calls,
            "peak_kb": super::support::peak_kb(),
        });
        self.marks.lock().unwrap_or_else(|e| e.into_inner()).push(mark);
    }

    /// The marks so far, in order.
    pub fn to_json(&self) -> Value {
        Value::Array(self.marks.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// GET /_sandbox/calls: calls per operation so far.
fn sandbox_calls(endpoint: &str) -> std::io::Result<Value> {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr)?;
    write!(stream, "GET /_sandbox/calls HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).map_err(std::io::Error::other)
}

/// Calls (STS and Slack left out, as in the totals) between two marks, by operation.
fn calls_between(from: &Value, to: &Value) -> BTreeMap<String, u64> {
    let count = |mark: &Value, op: &str| mark["calls"][op].as_u64().unwrap_or(0);
    let ops = to["calls"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    ops.into_iter()
        .filter(|op| !op.starts_with("sts:") && !op.starts_with("slack:"))
        .map(|op| {
            let n = count(to, &op) - count(from, &op).min(count(to, &op));
            (op, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Prints the phases of a run from its `marks`; `spans` are the sandbox's
/// first-to-last call times per operation, `latency` one call's.
pub fn print(marks: &Value, spans: &BTreeMap<String, Duration>, latency: Duration) {
    let Some(marks) = marks.as_array().filter(|m| m.len() >= 2) else { return };
    let find = |stage: &str| marks.iter().find(|m| m["stage"] == stage);
    let next_after = |stage: &str| {
        let i = marks.iter().position(|m| m["stage"] == stage)?;
        marks.get(i + 1)
    };
    println!("    {:<30} {:>8} {:>9} {:>8}", "phase", "calls", "wall", "peak MB");
    let row = |name: &str, calls: u64, wall: Option<f64>, peak_kb: Option<u64>| {
        let wall = wall.map_or_else(|| "-".to_string(), |w| format!("{w:.2}s"));
        let peak = peak_kb.map_or_else(|| "-".to_string(), |k| format!("{:.0}", k as f64 / 1024.0));
        println!("    {name:<30} {calls:>8} {wall:>9} {peak:>8}");
    };
    for stage in ["query", "guardrail", "delete"] {
        let (Some(from), Some(to)) = (find(stage), next_after(stage)) else { continue };
        let calls = calls_between(from, to);
        let wall = to["at_s"].as_f64().unwrap_or(0.0) - from["at_s"].as_f64().unwrap_or(0.0);
        let peak = to["peak_kb"].as_u64();
        if stage == "query" {
            let github: u64 = calls.iter().filter(|(op, _)| op.starts_with("github:")).map(|(_, n)| n).sum();
            let aws: u64 = calls.values().sum::<u64>() - github;
            row("query (AWS calls)", aws, Some(wall), peak);
            let span = spans
                .iter()
                .filter(|(op, _)| op.starts_with("github:"))
                .map(|(_, d)| *d + latency)
                .max()
                .filter(|_| github > 0);
            row("  of which GitHub (overlaps)", github, span.map(|d| d.as_secs_f64()), None);
        } else {
            row(stage, calls.values().sum(), Some(wall), peak);
        }
    }
}

/// The BatchDeleteImage floor of a run: 100 image ids per call, per
/// (account, region, repository) its deleted images are in.
pub fn delete_floor(report: &skyglue_policy::Report) -> u64 {
    let mut per_repository: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    for action in report.actions.iter().filter(|a| a.status == skyglue_core::sink::Status::Done) {
        let key = |k: &str| action.target.get(k).unwrap_or_default();
        *per_repository.entry((key("account_id"), key("region"), key("repository_name"))).or_default() += 1;
    }
    per_repository.values().map(|n| n.div_ceil(100)).sum()
}
