//! Lambda: functions, aliases and published versions with their images
//! (`aws_lambda_*`), and the `lambda` in-use source.

pub mod lambda_alias;
pub mod lambda_function;
pub mod lambda_version;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

use super::{Checks, InUse, Probe, Service};
use crate::probe::{ABSENT, CallCheck};

/// The in-use source of Lambda's container functions.
const SOURCE: &str = "lambda";

/// Lambda.
pub static SERVICE: Service = Service {
    name: "lambda",
    rate_limits: &[&lambda_function::LAMBDA],
    tables: || {
        vec![
            Arc::new(lambda_function::LambdaFunction),
            Arc::new(lambda_alias::LambdaAlias),
            Arc::new(lambda_version::LambdaVersion),
        ]
    },
    sinks: &[],
    probes: &[Probe {
        needed_by: Some(SOURCE),
        operations: &[
            "lambda:ListFunctions",
            "lambda:GetFunction",
            "lambda:ListAliases",
            "lambda:ListVersionsByFunction",
        ],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[InUse { source: SOURCE, sql: include_str!("in_use.sql") }],
};

pub use crate::clients::lambda as client;

/// Lists one function, then gets it and lists its aliases and versions.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, lambda) = (conn.label(), client(conn));
    let mut checks = Vec::new();
    let op = "lambda:ListFunctions";
    let functions =
        aws_call(connections, &label, op, &[], None, || lambda.list_functions().max_items(1).send()).await;
    checks.push((op, CallCheck::of(&functions)));
    let first =
        functions.ok().flatten().and_then(|o| o.functions().first().and_then(|f| f.function_name.clone()));
    let function = first.unwrap_or_else(|| ABSENT.into());
    let not_found = ["ResourceNotFoundException"];
    let op = "lambda:GetFunction";
    let got = aws_call(connections, &label, op, &not_found, None, || {
        lambda.get_function().function_name(&function).send()
    })
    .await;
    checks.push((op, CallCheck::of(&got)));
    let op = "lambda:ListAliases";
    let aliases = aws_call(connections, &label, op, &not_found, None, || {
        lambda.list_aliases().function_name(&function).max_items(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&aliases)));
    let op = "lambda:ListVersionsByFunction";
    let versions = aws_call(connections, &label, op, &not_found, None, || {
        lambda.list_versions_by_function().function_name(&function).max_items(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&versions)));
    checks
}
