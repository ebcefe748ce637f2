//! App Runner: services and the image each runs (`aws_apprunner_service`),
//! and the `apprunner` in-use source (off unless listed: App Runner is not
//! offered in every region).

pub mod apprunner_service;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::{aws_call, sdk_retries_off};
use skyglue_core::{AttemptCounter, AwsConnection, Connections};

use super::{Checks, InUse, Probe, Service};
use crate::permissions::CallCheck;

/// The in-use source of App Runner's services.
const SOURCE: &str = "apprunner";

/// App Runner.
pub static SERVICE: Service = Service {
    name: "apprunner",
    rate_limits: &[&apprunner_service::APPRUNNER],
    tables: || vec![Arc::new(apprunner_service::AppRunnerService)],
    sinks: &[],
    probes: &[Probe {
        needed_by: Some(SOURCE),
        operations: &["apprunner:ListServices"],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[InUse { source: SOURCE, sql: include_str!("in_use.sql") }],
};

/// An App Runner client for `conn`.
pub fn client(conn: &AwsConnection) -> aws_sdk_apprunner::Client {
    let conf = aws_sdk_apprunner::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_apprunner::Client::from_conf(conf)
}

/// Lists one service.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, apprunner) = (conn.label(), client(conn));
    let op = "apprunner:ListServices";
    let result =
        aws_call(connections, &label, op, &[], None, || apprunner.list_services().max_results(1).send())
            .await;
    vec![(op, CallCheck::of(&result))]
}
