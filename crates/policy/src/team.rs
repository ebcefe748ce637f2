//! The team table: one DynamoDB table (`[state] dynamodb_table`) that holds
//! policy locks (leases) and a copy of every host's journal, so a team that
//! runs skyglue from several places shares one lock and one history.
//!
//! The table has a string partition key `pk` and a string sort key `sk`
//! (create it once, on demand billing is plenty):
//!
//! ```text
//! aws dynamodb create-table --table-name skyglue-state \
//!   --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
//!   --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
//!   --billing-mode PAY_PER_REQUEST
//! ```
//!
//! Items: a lock is `pk = "lock#<policy>", sk = "lock"` (see
//! [`crate::lock`]); a journal entry is `pk = "journal#<policy>",
//! sk = "<ts>#<run_id>#<seq>"` with the entry as JSON in `entry` (see
//! [`crate::journal`]). skyglue needs `dynamodb:PutItem`, `GetItem`,
//! `UpdateItem`, `DeleteItem`, `BatchWriteItem`, `Query` and `Scan` on it.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use skyglue_core::AwsConnection;
use skyglue_core::error::one_line;

use crate::error::{Error, Result};

/// The longest any call on the table may take, retries included, so a
/// journal copy or a lease call never hangs a run.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeouts bounding a whole call at `operation`, each attempt at half of it.
fn timeouts(operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(operation.min(Duration::from_millis(3_100)))
        .operation_timeout(operation)
        .operation_attempt_timeout(operation / 2)
        .build()
}

/// A client for the team table.
#[derive(Debug, Clone)]
pub struct TeamTable {
    client: Client,
    table: String,
}

impl TeamTable {
    /// The table `table`, reached with `connection`'s credentials and
    /// endpoint, in `region` when given (else the connection's region).
    pub fn new(connection: &AwsConnection, table: &str, region: Option<&str>) -> Self {
        // skyglue's connections turn SDK retries off because the framework
        // retries cloud reads and deletes through its rate limiter; the state
        // table is no such API (a few calls per run, no client-side bucket), so
        // its client keeps the SDK's standard retries for transient errors and
        // throttling rather than failing a lock or a journal write on the first.
        let retry = aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(4);
        let mut config = aws_sdk_dynamodb::config::Builder::from(&connection.sdk_config)
            .retry_config(retry)
            .timeout_config(timeouts(OPERATION_TIMEOUT));
        if let Some(region) = region.filter(|r| !r.is_empty()) {
            config = config.region(aws_sdk_dynamodb::config::Region::new(region.to_string()));
        }
        Self { client: Client::from_conf(config.build()), table: table.into() }
    }

    /// A table reached through `client` as it is configured.
    pub fn from_client(client: Client, table: &str) -> Self {
        Self { client, table: table.into() }
    }

    /// The same table, every call (its retries included) given up after
    /// `limit` at most: a lease's calls must end well within the lease.
    pub fn with_operation_timeout(&self, limit: Duration) -> Self {
        let limit = limit.min(OPERATION_TIMEOUT);
        let config = self.client.config().to_builder().timeout_config(timeouts(limit)).build();
        Self { client: Client::from_conf(config), table: self.table.clone() }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.table
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table with the key schema skyglue expects and waits until
    /// it is active. skyglue never calls this itself (it needs no
    /// `CreateTable` permission); setup scripts and tests do.
    pub async fn create(&self) -> Result<()> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| self.failed("CreateTable", e))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| self.failed("CreateTable", e))
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| self.sdk("CreateTable", e))?;
        for _ in 0..100 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.sdk("DescribeTable", e))?;
            let active = out
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| *s == aws_sdk_dynamodb::types::TableStatus::Active);
            if active {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(Error::Dynamo {
            operation: "DescribeTable",
            table: self.table.clone(),
            detail: "the table did not become active".into(),
        })
    }

    /// Every item of partition `pk`, in sort-key order (consistent reads).
    pub(crate) async fn query_partition(
        &self,
        pk: &str,
    ) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.sdk("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every item whose `pk` starts with `prefix`.
    pub(crate) async fn scan_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.sdk("Scan", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// An SDK error of `operation`, on one line.
    pub(crate) fn sdk<E, R>(&self, operation: &'static str, e: SdkError<E, R>) -> Error
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        self.failed(operation, DisplayErrorContext(&e))
    }

    /// `operation` failed with `detail`.
    pub(crate) fn failed(&self, operation: &'static str, detail: impl std::fmt::Display) -> Error {
        Error::Dynamo { operation, table: self.table.clone(), detail: one_line(&detail.to_string()) }
    }
}

/// The string attribute `name` of `item`.
pub(crate) fn string<'a>(
    item: &'a std::collections::HashMap<String, AttributeValue>,
    name: &str,
) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}
