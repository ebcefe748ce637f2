//! The sandbox's data model: accounts, regions, ECR repositories and images, ECS
//! clusters, services, tasks and task definitions, and GitHub repositories with commits.
//!
//! A [`World`] is plain data that (de)serialises to JSON, so a test or a demo can load
//! one from a file ([`World::from_json_file`]), build the bundled one
//! ([`World::demo`](crate::World::demo)) or generate a large one
//! ([`World::generate`](crate::World::generate)). ARNs and URIs are derived, never stored.

use std::borrow::Cow;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Media type of a single-platform Docker image manifest.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Media type of an OCI image index (a multi-architecture image).
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Artifact media type of a Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Everything the sandbox serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    /// AWS accounts; the first one answers requests with an unknown access key.
    pub accounts: Vec<Account>,
    /// GitHub repositories.
    #[serde(default)]
    pub github: Vec<GithubRepo>,
}

/// One AWS account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Twelve-digit account id.
    pub id: String,
    /// A friendly name such as `prod`.
    pub name: String,
    /// The access key id whose requests act as this account (`SANDBOX<id>` by convention).
    pub access_key_id: String,
    /// The regions in which this account has resources.
    #[serde(default)]
    pub regions: Vec<RegionWorld>,
}

/// The resources of one account in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionWorld {
    /// Region name, e.g. `us-east-1`.
    pub region: String,
    /// ECR repositories.
    #[serde(default)]
    pub repositories: Vec<Repository>,
    /// ECS clusters.
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// ECS task definitions, any status, in any order.
    #[serde(default)]
    pub task_definitions: Vec<TaskDefinition>,
}

/// An ECR repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// Repository name, e.g. `web`.
    pub name: String,
    /// When the repository was created.
    pub created_at: DateTime<Utc>,
    /// `MUTABLE` or `IMMUTABLE`.
    #[serde(default = "mutable")]
    pub image_tag_mutability: String,
    /// Images in push order.
    #[serde(default)]
    pub images: Vec<Image>,
}

fn mutable() -> String {
    "MUTABLE".to_owned()
}

/// An ECR image (a manifest, or an image index referencing other manifests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// Tags; empty for an untagged image.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Compressed size in bytes.
    pub size_in_bytes: i64,
    /// When the image was pushed.
    pub pushed_at: DateTime<Utc>,
    /// When the image was last pulled, if ever.
    #[serde(default)]
    pub last_recorded_pull_time: Option<DateTime<Utc>>,
    /// Manifest media type (borrowed for the well-known ones, to keep big worlds small).
    pub manifest_media_type: Cow<'static, str>,
    /// Artifact media type (absent for an image index).
    #[serde(default)]
    pub artifact_media_type: Option<Cow<'static, str>>,
    /// For an image index: the digests of the manifests it references.
    #[serde(default)]
    pub child_digests: Vec<String>,
}

/// An ECS cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Services in the cluster.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Tasks in the cluster (service tasks and standalone ones).
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// An ECS service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// The primary deployment's task definition ARN.
    pub task_definition: String,
    /// Desired task count.
    pub desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// Deployments: one normally, two during a rollout (ECS controller only).
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// `ECS` (the default), `CODE_DEPLOY` (blue/green) or `EXTERNAL`.
    #[serde(default = "ecs_controller")]
    pub deployment_controller: String,
    /// Task sets: where `CODE_DEPLOY` and `EXTERNAL` services keep their revisions.
    #[serde(default)]
    pub task_sets: Vec<TaskSet>,
}

fn ecs_controller() -> String {
    "ECS".to_owned()
}

impl Service {
    /// The same service on another deployment controller (`CODE_DEPLOY`, `EXTERNAL`).
    pub fn with_deployment_controller(mut self, controller: &str) -> Self {
        self.deployment_controller = controller.to_owned();
        self
    }

    /// The same service with one more task set.
    pub fn with_task_set(mut self, task_set: TaskSet) -> Self {
        self.task_sets.push(task_set);
        self
    }
}

/// A task set of a `CODE_DEPLOY` or `EXTERNAL` service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSet {
    /// Task set id, e.g. `ecs-svc/1234567890123456789` (the last part of its ARN).
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `DRAINING`.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// Tasks the task set wants, from its scale and the service's desired count.
    pub computed_desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// When the task set was created.
    pub created_at: DateTime<Utc>,
    /// The id an external controller (or CodeDeploy) gave it, if any.
    #[serde(default)]
    pub external_id: Option<String>,
}

impl TaskSet {
    /// A task set `id` running `task_definition`, `status` PRIMARY, ACTIVE or
    /// DRAINING, scaled to zero on Fargate, created now.
    pub fn new(id: &str, task_definition: &str, status: &str) -> Self {
        TaskSet {
            id: id.to_owned(),
            status: status.to_owned(),
            task_definition: task_definition.to_owned(),
            launch_type: "FARGATE".to_owned(),
            computed_desired_count: 0,
            running_count: 0,
            created_at: Utc::now(),
            external_id: None,
        }
    }
}

/// One deployment of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Deployment id, e.g. `ecs-svc/1234567890123456789`.
    pub id: String,
    /// `PRIMARY` or `ACTIVE` (the one being replaced).
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// Desired task count.
    pub desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// `COMPLETED`, `IN_PROGRESS` or `FAILED`.
    pub rollout_state: String,
    /// When the deployment was created.
    pub created_at: DateTime<Utc>,
}

/// An ECS task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Task id (the last part of its ARN).
    pub id: String,
    /// Task definition ARN.
    pub task_definition_arn: String,
    /// `service:<name>` or `family:<family>`.
    pub group: String,
    /// `PENDING`, `RUNNING`, `STOPPED`, ...
    pub last_status: String,
    /// `RUNNING` or `STOPPED` (what `ListTasks` filters on).
    pub desired_status: String,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// When the task started, if it did.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// Containers of the task.
    #[serde(default)]
    pub containers: Vec<Container>,
}

/// A container of a running task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference as written in the task definition.
    pub image: String,
    /// The digest actually running, if known.
    #[serde(default)]
    pub image_digest: Option<String>,
    /// Container status.
    pub last_status: String,
}

/// An ECS task definition revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    /// Family name.
    pub family: String,
    /// Revision number, from 1.
    pub revision: i32,
    /// `ACTIVE`, `INACTIVE` or `DELETE_IN_PROGRESS`.
    pub status: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When it was deregistered, if it was.
    #[serde(default)]
    pub deregistered_at: Option<DateTime<Utc>>,
    /// Container definitions.
    #[serde(default)]
    pub container_definitions: Vec<ContainerDefinition>,
}

/// A container definition inside a task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerDefinition {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Whether the task stops when this container stops.
    #[serde(default = "yes")]
    pub essential: bool,
}

fn yes() -> bool {
    true
}

/// A GitHub repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubRepo {
    /// `owner/name`.
    pub full_name: String,
    /// Default branch, e.g. `main`.
    #[serde(default = "main_branch")]
    pub default_branch: String,
    /// Commits in any order (served newest first).
    #[serde(default)]
    pub commits: Vec<Commit>,
}

fn main_branch() -> String {
    "main".to_owned()
}

/// A git commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// 40-hex SHA.
    pub sha: String,
    /// GitHub login of the author, if the email maps to a user.
    #[serde(default)]
    pub author_login: Option<String>,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author date.
    pub authored_date: DateTime<Utc>,
    /// Committer name.
    pub committer_name: String,
    /// Committer date.
    pub committed_date: DateTime<Utc>,
    /// Commit message.
    pub message: String,
}

impl World {
    /// Loads a world from a JSON file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<World, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::ReadWorld { path: path.display().to_string(), source })?;
        serde_json::from_str(&text)
            .map_err(|source| Error::ParseWorld { path: path.display().to_string(), source })
    }

    /// Writes this world as pretty JSON.
    pub fn to_json_string(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The account whose access key this is, else the first account.
    pub fn account_for_key(&self, access_key_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.access_key_id == access_key_id).or_else(|| self.accounts.first())
    }

    /// The resources of `account` in `region`, if it has any there.
    pub fn region(&self, account: &str, region: &str) -> Option<&RegionWorld> {
        self.accounts.iter().find(|a| a.id == account)?.regions.iter().find(|r| r.region == region)
    }

    /// Mutable access to the resources of `account` in `region`.
    pub fn region_mut(&mut self, account: &str, region: &str) -> Option<&mut RegionWorld> {
        self.accounts.iter_mut().find(|a| a.id == account)?.regions.iter_mut().find(|r| r.region == region)
    }

    /// Total number of ECR images over all accounts and regions.
    pub fn image_count(&self) -> usize {
        self.regions().flat_map(|r| &r.repositories).map(|r| r.images.len()).sum()
    }

    /// Total number of task definition revisions over all accounts and regions.
    pub fn task_definition_count(&self) -> usize {
        self.regions().map(|r| r.task_definitions.len()).sum()
    }

    /// Every (account, region) pair's resources.
    pub fn regions(&self) -> impl Iterator<Item = &RegionWorld> {
        self.accounts.iter().flat_map(|a| &a.regions)
    }

    /// The GitHub repository `owner/name`.
    pub fn github_repo(&self, full_name: &str) -> Option<&GithubRepo> {
        self.github.iter().find(|r| r.full_name.eq_ignore_ascii_case(full_name))
    }
}

/// The access key id convention for an account: `SANDBOX<account id>`.
pub fn access_key_for(account_id: &str) -> String {
    format!("SANDBOX{account_id}")
}

/// `arn:aws:ecr:<region>:<acct>:repository/<name>`.
pub fn repository_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ecr:{region}:{account}:repository/{name}")
}

/// `<acct>.dkr.ecr.<region>.amazonaws.com/<name>`.
pub fn repository_uri(region: &str, account: &str, name: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}")
}

/// `arn:aws:ecs:<region>:<acct>:cluster/<name>`.
pub fn cluster_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:cluster/{name}")
}

/// `arn:aws:ecs:<region>:<acct>:service/<cluster>/<name>`.
pub fn service_arn(region: &str, account: &str, cluster: &str, name: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:service/{cluster}/{name}")
}

/// `arn:aws:ecs:<region>:<acct>:task-set/<cluster>/<service>/<id>`.
pub fn task_set_arn(region: &str, account: &str, cluster: &str, service: &str, id: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-set/{cluster}/{service}/{id}")
}

/// `arn:aws:ecs:<region>:<acct>:task/<cluster>/<id>`.
pub fn task_arn(region: &str, account: &str, cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task/{cluster}/{id}")
}

/// `arn:aws:ecs:<region>:<acct>:task-definition/<family>:<revision>`.
pub fn task_definition_arn(region: &str, account: &str, family: &str, revision: i32) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}")
}
