//! ECR: repositories and images (`aws_ecr_repository`, `aws_ecr_image`),
//! and the actions on images: delete, archive, restore, each behind the fresh
//! in-use check of `image_check`.

pub mod archive_ecr_images;
pub mod delete_ecr_images;
pub mod ecr_image;
pub mod ecr_image_reference;
pub mod ecr_repository;
pub(crate) mod image_check;
mod image_graph;
mod listed;
pub mod restore_ecr_images;
mod storage_class;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

// What the moved sink files reach as `super::common`, `super::fresh`, `super::reread`.
use crate::sinks::{common, fresh, reread};

use super::{Checks, Probe, Service, SinkDecl};
use crate::probe::{ABSENT, CallCheck};

/// ECR.
pub static SERVICE: Service = Service {
    name: "ecr",
    rate_limits: &[&ecr_repository::ECR],
    tables: || {
        vec![
            Arc::new(ecr_repository::EcrRepository),
            Arc::new(ecr_image::EcrImage),
            Arc::new(ecr_image_reference::EcrImageReference),
        ]
    },
    sinks: &[
        SinkDecl {
            sink: || Arc::new(delete_ecr_images::DeleteEcrImages),
            delete_actions: &["ecr:BatchDeleteImage"],
            operations: &["ecr:BatchDeleteImage", "ecr:BatchGetImage"],
        },
        SinkDecl {
            sink: || Arc::new(archive_ecr_images::ArchiveEcrImages),
            delete_actions: &["ecr:UpdateImageStorageClass"],
            operations: &["ecr:UpdateImageStorageClass"],
        },
        SinkDecl {
            sink: || Arc::new(restore_ecr_images::RestoreEcrImages),
            delete_actions: &["ecr:UpdateImageStorageClass"],
            operations: &["ecr:UpdateImageStorageClass"],
        },
    ],
    probes: &[Probe {
        needed_by: None,
        operations: &["ecr:DescribeRepositories", "ecr:DescribeImages"],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[],
};

pub use crate::clients::ecr as client;

/// Lists one repository, then one of its images.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, ecr) = (conn.label(), client(conn));
    let mut checks = Vec::new();
    let op = "ecr:DescribeRepositories";
    let repos =
        aws_call(connections, &label, op, &[], None, || ecr.describe_repositories().max_results(1).send())
            .await;
    checks.push((op, CallCheck::of(&repos)));
    let first = repos.ok().flatten().and_then(|o| o.repositories().first().cloned());
    let repository = first.and_then(|r| r.repository_name).unwrap_or_else(|| ABSENT.into());

    let op = "ecr:DescribeImages";
    let not_found = ["RepositoryNotFoundException"];
    let images = aws_call(connections, &label, op, &not_found, None, || {
        ecr.describe_images().repository_name(&repository).max_results(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&images)));
    checks
}
