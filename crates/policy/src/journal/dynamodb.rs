//! The journal's copy in the team table, so `skyglue_journal` shows the
//! team's runs from every host.
//!
//! The local JSONL file stays the durable first write: each entry goes to
//! DynamoDB only after it is synced to disk, from a background writer
//! (`BatchWriteItem`, 25 items a call, unprocessed items and failed calls
//! retried with backoff), so an API call is never held up by the network.
//! [`TeamJournal::flush`] waits until everything sent so far is written and
//! says what could not be. One item per entry: `pk = "journal#<policy>"`,
//! `sk = "<ts>#<run_id>#<seq>"`, the entry as JSON in `entry`, and the run's
//! lease fence number in `fence` when it held one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use tokio::sync::{mpsc, oneshot};

use super::Entry;
use crate::error::{Error, Result};
use crate::team::{TeamTable, string};

/// Items per `BatchWriteItem`, DynamoDB's limit.
const BATCH: usize = 25;
/// Attempts per batch before its remaining items are given up on.
const ATTEMPTS: u32 = 8;

enum Message {
    Entries(Vec<Entry>),
    Flush(oneshot::Sender<Option<String>>),
}

/// The journal's writer to the team table.
#[derive(Debug)]
pub struct TeamJournal {
    team: TeamTable,
    tx: mpsc::UnboundedSender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Entries(e) => write!(f, "Entries({})", e.len()),
            Message::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl TeamJournal {
    /// Starts the background writer (needs a Tokio runtime).
    pub fn start(team: TeamTable) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(team.clone(), rx));
        Self { team, tx }
    }

    /// The table.
    pub fn table(&self) -> &TeamTable {
        &self.team
    }

    /// Queues entries already written locally.
    pub(crate) fn send(&self, entries: &[Entry]) {
        let _ = self.tx.send(Message::Entries(entries.to_vec()));
    }

    /// Waits until every entry queued so far is written; the first error
    /// since the last flush, if any entry could not be.
    pub async fn flush(&self) -> Result<()> {
        let (done, answer) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_err() {
            return Err(self.team.failed("BatchWriteItem", "the journal's DynamoDB writer stopped"));
        }
        match answer.await {
            Ok(None) => Ok(()),
            Ok(Some(detail)) => Err(self.team.failed("BatchWriteItem", detail)),
            Err(_) => Err(self.team.failed("BatchWriteItem", "the journal's DynamoDB writer stopped")),
        }
    }
}

/// Writes queued entries until every sender is gone.
async fn writer(team: TeamTable, mut rx: mpsc::UnboundedReceiver<Message>) {
    let numbering = Numbering { seq: AtomicU64::new(0), table: team.name().into() };
    let mut error: Option<String> = None;
    while let Some(first) = rx.recv().await {
        let mut pending: Vec<WriteRequest> = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        // Take everything queued now, so entries written together share calls.
        while let Some(message) = next {
            match message {
                Message::Entries(entries) => {
                    for entry in &entries {
                        match numbering.request(entry) {
                            Ok(request) => pending.push(request),
                            Err(e) => {
                                error.get_or_insert(e.to_string());
                            }
                        }
                    }
                }
                Message::Flush(done) => flushes.push(done),
            }
            next = rx.try_recv().ok();
        }
        for chunk in pending.chunks(BATCH) {
            if let Err(e) = write_batch(&team, chunk.to_vec()).await {
                error.get_or_insert(e);
            }
        }
        for done in flushes {
            let _ = done.send(error.take());
        }
    }
}

/// Builds items with unique sort keys: entries of one run written in the
/// same microsecond still differ by their sequence number.
struct Numbering {
    seq: AtomicU64,
    table: String,
}

impl Numbering {
    fn request(&self, entry: &Entry) -> Result<WriteRequest> {
        let json = serde_json::to_string(entry).map_err(Error::Encode)?;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut item = HashMap::from([
            ("pk".to_string(), AttributeValue::S(partition(&entry.policy))),
            ("sk".to_string(), AttributeValue::S(format!("{}#{}#{seq:010}", entry.ts, entry.run_id))),
            ("run_id".to_string(), AttributeValue::S(entry.run_id.clone())),
            ("event".to_string(), AttributeValue::S(entry.event.clone())),
            ("entry".to_string(), AttributeValue::S(json)),
        ]);
        if let Some(fence) = entry.fence {
            // The lease holder that wrote it, readable without parsing `entry`.
            item.insert("fence".to_string(), AttributeValue::N(fence.to_string()));
        }
        let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| Error::Dynamo {
            operation: "BatchWriteItem",
            table: self.table.clone(),
            detail: e.to_string(),
        })?;
        Ok(WriteRequest::builder().put_request(put).build())
    }
}

/// One `BatchWriteItem` of at most 25 items, retrying what is left unprocessed.
async fn write_batch(team: &TeamTable, mut items: Vec<WriteRequest>) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let result = team.client().batch_write_item().request_items(team.name(), items.clone()).send().await;
        match result {
            Ok(out) => {
                items = out.unprocessed_items.and_then(|mut u| u.remove(team.name())).unwrap_or_default();
                if items.is_empty() {
                    return Ok(());
                }
                last = format!("{} items left unprocessed", items.len());
            }
            Err(e) => last = team.sdk("BatchWriteItem", e).to_string(),
        }
    }
    Err(format!("{} journal entries not copied after {ATTEMPTS} attempts: {last}", items.len()))
}

/// 50 ms doubling per attempt, at most 3 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(3))
}

/// The journal partition of `policy`.
fn partition(policy: &str) -> String {
    format!("journal#{policy}")
}

/// Every journal entry in the team table, of every policy, in no particular order.
pub async fn read_all(team: &TeamTable) -> Result<Vec<Entry>> {
    let items = team.scan_prefix("journal#").await?;
    items.iter().map(|item| entry_of(team, item)).collect()
}

/// The journal entries of `policy` in the team table, oldest first.
pub async fn read_policy(team: &TeamTable, policy: &str) -> Result<Vec<Entry>> {
    let items = team.query_partition(&partition(policy)).await?;
    items.iter().map(|item| entry_of(team, item)).collect()
}

fn entry_of(team: &TeamTable, item: &HashMap<String, AttributeValue>) -> Result<Entry> {
    let key = || format!("{}/{}", string(item, "pk").unwrap_or("?"), string(item, "sk").unwrap_or("?"));
    let json = string(item, "entry").ok_or_else(|| Error::DynamoItem {
        table: team.name().into(),
        key: key(),
        detail: "no entry attribute".into(),
    })?;
    serde_json::from_str(json).map_err(|e| Error::DynamoItem {
        table: team.name().into(),
        key: key(),
        detail: e.to_string(),
    })
}
