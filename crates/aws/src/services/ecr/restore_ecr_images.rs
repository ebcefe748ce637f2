//! `restore_ecr_images`: moves archived ECR images back to standard storage
//! (`UpdateImageStorageClass` to STANDARD, one call per image; ECR restores
//! within about 20 minutes: ACTIVATING, then ACTIVE). `skyglue restore
//! RUN_ID` runs it on what an `archive_ecr_images` run archived; a policy can
//! use it too:
//!
//! ```sql
//! -- @action: restore_ecr_images
//! SELECT account_id, region, registry_id, repository_name, image_digest
//! FROM aws_ecr_image WHERE repository_name = 'web' AND image_status = 'ARCHIVED';
//! ```
//!
//! Its check resolves each row to one copy as `delete_ecr_images`' does and
//! keeps only the copies still ARCHIVED (`image_check::check_archived`): an
//! image restored already, or being restored, is skipped saying so, so a
//! restore run again after an interruption does only the rest. Restoring
//! makes an image usable again, so nothing "in use" is checked.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecr::types::TargetStorageClass;
use skyglue_core::sink::{ActionLog, Bytes, Checked, Description, Outcome, Sink, Target};
use skyglue_core::{Connections, Engine, Result};

/// The action's name.
pub(crate) const RESTORE: &str = "restore_ecr_images";

/// Restores archived ECR images by digest.
#[derive(Debug, Default, Clone, Copy)]
pub struct RestoreEcrImages;

#[async_trait]
impl Sink for RestoreEcrImages {
    fn action(&self) -> &str {
        RESTORE
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
        Bytes::Restored
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        crate::services::declare_limits(engine.connections());
        super::image_check::check_archived(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        super::storage_class::move_images(connections, targets, log, TargetStorageClass::Standard).await
    }
}
