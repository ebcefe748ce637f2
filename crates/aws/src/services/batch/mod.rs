//! AWS Batch: job definitions and their images (`aws_batch_job_definition`),
//! and the `batch` in-use source.

pub mod batch_job_definition;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

use super::{Checks, InUse, Probe, Service};
use crate::probe::CallCheck;

/// The in-use source of Batch's job definitions.
const SOURCE: &str = "batch";

/// AWS Batch.
pub static SERVICE: Service = Service {
    name: "batch",
    rate_limits: &[&batch_job_definition::BATCH],
    tables: || vec![Arc::new(batch_job_definition::BatchJobDefinition)],
    sinks: &[],
    probes: &[Probe {
        needed_by: Some(SOURCE),
        operations: &["batch:DescribeJobDefinitions"],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[InUse { source: SOURCE, sql: include_str!("in_use.sql") }],
};

pub use crate::clients::batch as client;

/// Describes one job definition.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, batch) = (conn.label(), client(conn));
    let op = "batch:DescribeJobDefinitions";
    let result = aws_call(connections, &label, op, &[], None, || {
        batch.describe_job_definitions().max_results(1).send()
    })
    .await;
    vec![(op, CallCheck::of(&result))]
}
