//! App Runner: services and the image each runs (`aws_apprunner_service`),
//! and the `apprunner` in-use source (off unless listed: App Runner is not
//! offered in every region).

pub mod apprunner_service;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

use super::{Checks, InUse, Probe, Service};
use crate::probe::CallCheck;

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

pub use crate::clients::apprunner as client;

/// Lists one service.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, apprunner) = (conn.label(), client(conn));
    let op = "apprunner:ListServices";
    let result =
        aws_call(connections, &label, op, &[], None, || apprunner.list_services().max_results(1).send())
            .await;
    vec![(op, CallCheck::of(&result))]
}
