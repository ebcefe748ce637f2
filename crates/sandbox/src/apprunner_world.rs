//! The App Runner part of the world: services deployed from container images (per
//! account and region, [`RegionWorld`](crate::world::RegionWorld)), and how their ARNs
//! are derived.
//!
//! Re-exported from [`world`](crate::world).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An App Runner service deployed from a container image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppRunnerService {
    /// Service name.
    pub name: String,
    /// The 32-hex service id App Runner generated (the last part of its ARN).
    pub id: String,
    /// `RUNNING`, `PAUSED`, `OPERATION_IN_PROGRESS`, `CREATE_FAILED`, `DELETED`, ...
    pub status: String,
    /// The image, e.g. `<acct>.dkr.ecr.<region>.amazonaws.com/web:latest`.
    pub image_identifier: String,
    /// `ECR` or `ECR_PUBLIC`.
    #[serde(default = "ecr")]
    pub image_repository_type: String,
    /// When the service was created.
    pub created_at: DateTime<Utc>,
    /// When the service was last updated.
    pub updated_at: DateTime<Utc>,
}

fn ecr() -> String {
    "ECR".to_owned()
}

impl AppRunnerService {
    /// A RUNNING service `name` on private-ECR image `image_identifier`, created
    /// now, with an id derived from its name.
    pub fn image(name: &str, image_identifier: &str) -> Self {
        let now = Utc::now();
        AppRunnerService {
            name: name.to_owned(),
            id: crate::ids::hex_id(&format!("apprunner:{name}"), 32),
            status: "RUNNING".to_owned(),
            image_identifier: image_identifier.to_owned(),
            image_repository_type: ecr(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The same service in another status (`PAUSED`, ...).
    pub fn with_status(mut self, status: &str) -> Self {
        self.status = status.to_owned();
        self
    }

    /// The same service pulling from ECR Public.
    pub fn public_ecr(mut self) -> Self {
        self.image_repository_type = "ECR_PUBLIC".to_owned();
        self
    }
}

/// `arn:aws:apprunner:<region>:<acct>:service/<name>/<id>`.
pub fn apprunner_service_arn(region: &str, account: &str, name: &str, id: &str) -> String {
    format!("arn:aws:apprunner:{region}:{account}:service/{name}/{id}")
}
