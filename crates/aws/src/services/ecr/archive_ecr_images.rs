//! `archive_ecr_images`: moves ECR images to the archive storage class
//! (`UpdateImageStorageClass` to ARCHIVE, one call per image), a cleanup that
//! `skyglue restore RUN_ID` can undo.
//!
//! ```sql
//! -- @action: archive_ecr_images
//! SELECT account_id, region, registry_id, repository_name, image_digest
//! FROM aws_ecr_image WHERE repository_name = 'web' AND cardinality(image_tags) = 0;
//! ```
//!
//! Its columns and fresh check are `delete_ecr_images`' (`image_check`: one
//! copy per row, nothing in use, no child of a kept image index), and it also
//! skips an image that is not ACTIVE: already archived, or being restored.
//! An archived image cannot be pulled and stops costing standard storage; its
//! bytes are reported as moved to the archive, not reclaimed (ECR charges
//! archived storage for at least 90 days).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecr::types::TargetStorageClass;
use skyglue_core::sink::{ActionLog, Bytes, Checked, Description, Outcome, Sink, Target};
use skyglue_core::{Connections, Engine, Result};

use super::restore_ecr_images::RESTORE;

/// Archives ECR images by digest.
#[derive(Debug, Default, Clone, Copy)]
pub struct ArchiveEcrImages;

/// Why an image that is not ACTIVE is left alone.
fn not_active(status: &str) -> Option<String> {
    match status {
        "ACTIVE" => None,
        "ARCHIVED" => Some("already archived".into()),
        "ACTIVATING" => Some("being restored from the archive (ACTIVATING)".into()),
        other => Some(format!("not ACTIVE ({other})")),
    }
}

#[async_trait]
impl Sink for ArchiveEcrImages {
    fn action(&self) -> &str {
        "archive_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        &["repository_name", "image_digest"]
    }

    fn describe(&self) -> Description {
        crate::descriptions::IMAGES
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region", "registry_id"]
    }

    fn bytes(&self) -> Bytes {
        Bytes::Archived
    }

    fn undone_by(&self) -> Option<&str> {
        Some(RESTORE)
    }

    /// The repository, as `delete_ecr_images`.
    fn recheck_group(&self, target: &Target) -> Option<String> {
        Some(super::common::group_key(target, &super::delete_ecr_images::REPOSITORY_GROUP))
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        crate::services::declare_limits(engine.connections());
        super::image_check::check_leaving(engine, targets, not_active).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        super::storage_class::move_images(connections, targets, log, TargetStorageClass::Archive).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_images_are_archived() {
        assert_eq!(not_active("ACTIVE"), None);
        assert_eq!(not_active("ARCHIVED").as_deref(), Some("already archived"));
        assert!(not_active("ACTIVATING").is_some_and(|r| r.contains("restored")));
    }
}
