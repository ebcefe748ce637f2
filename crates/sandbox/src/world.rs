//! The sandbox's data model: accounts, regions, ECR repositories and images, ECS
//! clusters, services, tasks and task definitions, Lambda functions, Batch job
//! definitions, App Runner services, Kubernetes clusters with pods, S3 buckets with
//! object versions, and GitHub repositories with commits.
//!
//! A [`World`] is plain data that (de)serialises to JSON, so a test or a demo can load
//! one from a file ([`World::from_json_file`]), build the bundled one
//! ([`World::demo`](crate::World::demo)) or generate a large one
//! ([`World::generate`](crate::World::generate)). ARNs and URIs are derived, never stored.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;
pub use crate::ecr_storage::{Storage, StorageState};
pub use crate::s3_world::{
    NULL_VERSION, S3Bucket, S3Object, S3ObjectVersion, S3Owner, S3Retention, canonical_user_id,
};
pub use crate::schedules_world::{EventRule, EventTarget, Schedule};
pub use crate::workloads_world::KubeWorkload;

/// Media type of a single-platform Docker image manifest.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Media type of an OCI image index (a multi-architecture image).
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Artifact media type of a Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI image manifest media type (what referrers are pushed as).
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The artifact media type of an SPDX SBOM.
pub const SPDX_SBOM: &str = "application/spdx+json";
/// The artifact media type of a cosign signature (cosign's simple signing config).
pub const COSIGN_SIGNATURE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// Everything the sandbox serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    /// AWS accounts; the first one answers requests with an unknown access key.
    pub accounts: Vec<Account>,
    /// GitHub repositories.
    #[serde(default)]
    pub github: Vec<GithubRepo>,
    /// Kubernetes clusters, one per kubeconfig context.
    #[serde(default)]
    pub kubernetes: Vec<KubeCluster>,
    /// S3 buckets of every account and region (each names its owner and region).
    #[serde(default)]
    pub s3_buckets: Vec<S3Bucket>,
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
    /// Lambda functions.
    #[serde(default)]
    pub lambda_functions: Vec<LambdaFunction>,
    /// AWS Batch job definitions, any status, in any order.
    #[serde(default)]
    pub batch_job_definitions: Vec<BatchJobDefinition>,
    /// App Runner services.
    #[serde(default)]
    pub apprunner_services: Vec<AppRunnerService>,
    /// EventBridge rules (any bus) with their targets.
    #[serde(default)]
    pub event_rules: Vec<EventRule>,
    /// EventBridge Scheduler schedules (any group).
    #[serde(default)]
    pub schedules: Vec<Schedule>,
}

impl RegionWorld {
    /// An empty region named `region`.
    pub fn new(region: &str) -> Self {
        RegionWorld { region: region.to_owned(), ..RegionWorld::default() }
    }

    /// The same region with one more Lambda function.
    pub fn with_lambda(mut self, function: LambdaFunction) -> Self {
        self.lambda_functions.push(function);
        self
    }

    /// The same region with one more Batch job definition revision.
    pub fn with_batch_job_definition(mut self, definition: BatchJobDefinition) -> Self {
        self.batch_job_definitions.push(definition);
        self
    }

    /// The same region with one more App Runner service.
    pub fn with_apprunner_service(mut self, service: AppRunnerService) -> Self {
        self.apprunner_services.push(service);
        self
    }

    /// The same region with one more EventBridge rule.
    pub fn with_event_rule(mut self, rule: EventRule) -> Self {
        self.event_rules.push(rule);
        self
    }

    /// The same region with one more EventBridge Scheduler schedule.
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedules.push(schedule);
        self
    }
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
    /// Resource tags (ListTagsForResource), e.g. `github_repository=acme/web`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
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
    /// For an OCI referrer (an SBOM, a signature, an attestation): the digest
    /// of the image its manifest's `subject` names (`subjectManifestDigest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_digest: Option<String>,
    /// Its storage class: active, archived or being restored.
    #[serde(default, skip_serializing_if = "Storage::is_default")]
    pub storage: Storage,
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

/// A Lambda function: its `$LATEST` configuration, published versions and aliases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunction {
    /// Function name.
    pub name: String,
    /// Runtime such as `python3.12`; `None` for container-image functions.
    #[serde(default)]
    pub runtime: Option<String>,
    /// `Image` or `Zip`.
    pub package_type: String,
    /// When `$LATEST` was last changed.
    pub last_modified: DateTime<Utc>,
    /// `$LATEST`'s image as configured (a tag or digest reference); Image functions only.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// `$LATEST`'s image pinned by digest, `<registry>/<repo>@sha256:...`; Image functions only.
    #[serde(default)]
    pub resolved_image_uri: Option<String>,
    /// Published versions, oldest first.
    #[serde(default)]
    pub versions: Vec<LambdaVersion>,
    /// Aliases.
    #[serde(default)]
    pub aliases: Vec<LambdaAlias>,
}

/// A published (immutable) version of a Lambda function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaVersion {
    /// Version number: `"1"`, `"2"`, ...
    pub version: String,
    /// The image as configured when the version was published.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// The image pinned by digest.
    #[serde(default)]
    pub resolved_image_uri: Option<String>,
    /// When the version was published.
    pub last_modified: DateTime<Utc>,
}

/// A Lambda alias: a name for a version, optionally splitting traffic with others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaAlias {
    /// Alias name, e.g. `live`.
    pub name: String,
    /// The version it points to (`"3"`, or `"$LATEST"`).
    pub function_version: String,
    /// Weighted routing: other version -> share of traffic (0.0..1.0).
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

impl LambdaFunction {
    /// A container-image function whose `$LATEST` runs `image_uri` (as configured)
    /// resolved to `resolved_image_uri` (`<registry>/<repo>@sha256:...`), changed now.
    pub fn image(name: &str, image_uri: &str, resolved_image_uri: &str) -> Self {
        LambdaFunction {
            name: name.to_owned(),
            runtime: None,
            package_type: "Image".to_owned(),
            last_modified: Utc::now(),
            image_uri: Some(image_uri.to_owned()),
            resolved_image_uri: Some(resolved_image_uri.to_owned()),
            versions: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// A `.zip` function on `runtime` (e.g. `python3.12`), changed now.
    pub fn zip(name: &str, runtime: &str) -> Self {
        LambdaFunction {
            name: name.to_owned(),
            runtime: Some(runtime.to_owned()),
            package_type: "Zip".to_owned(),
            last_modified: Utc::now(),
            image_uri: None,
            resolved_image_uri: None,
            versions: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// The same function with the next version published, running `image_uri`
    /// resolved to `resolved_image_uri` (pass empty strings for a Zip function).
    pub fn with_version(mut self, image_uri: &str, resolved_image_uri: &str) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        self.versions.push(LambdaVersion {
            version: (self.versions.len() + 1).to_string(),
            image_uri: some(image_uri),
            resolved_image_uri: some(resolved_image_uri),
            last_modified: self.last_modified,
        });
        self
    }

    /// The same function with alias `name` pointing at `version`.
    pub fn with_alias(mut self, name: &str, version: &str) -> Self {
        self.aliases.push(LambdaAlias {
            name: name.to_owned(),
            function_version: version.to_owned(),
            additional_version_weights: BTreeMap::new(),
        });
        self
    }

    /// The same function with alias `name` sending `1 - weight` of the traffic to
    /// `version` and `weight` to `other_version` (a canary).
    pub fn with_weighted_alias(
        mut self,
        name: &str,
        version: &str,
        other_version: &str,
        weight: f64,
    ) -> Self {
        self.aliases.push(LambdaAlias {
            name: name.to_owned(),
            function_version: version.to_owned(),
            additional_version_weights: BTreeMap::from([(other_version.to_owned(), weight)]),
        });
        self
    }
}

/// An AWS Batch job definition revision. Its image is in `container_image`
/// (`containerProperties.image`), or in `ecs_containers` (`ecsProperties`), or in
/// `eks_containers` (`eksProperties.podProperties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJobDefinition {
    /// Job definition name.
    pub name: String,
    /// Revision, from 1.
    pub revision: i32,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default = "active")]
    pub status: String,
    /// `container` or `multinode`.
    #[serde(default = "container_type")]
    pub job_type: String,
    /// `containerProperties.image`.
    #[serde(default)]
    pub container_image: Option<String>,
    /// The containers of `ecsProperties.taskProperties[0]`.
    #[serde(default)]
    pub ecs_containers: Vec<BatchContainer>,
    /// The containers of `eksProperties.podProperties`.
    #[serde(default)]
    pub eks_containers: Vec<BatchContainer>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

fn container_type() -> String {
    "container".to_owned()
}

/// A named container of a Batch job definition (ECS or EKS properties).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchContainer {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
}

impl BatchJobDefinition {
    fn new(name: &str, revision: i32) -> Self {
        BatchJobDefinition {
            name: name.to_owned(),
            revision,
            status: active(),
            job_type: container_type(),
            container_image: None,
            ecs_containers: Vec::new(),
            eks_containers: Vec::new(),
        }
    }

    /// An ACTIVE revision running `image` in `containerProperties`.
    pub fn container(name: &str, revision: i32, image: &str) -> Self {
        BatchJobDefinition { container_image: Some(image.to_owned()), ..Self::new(name, revision) }
    }

    /// An ACTIVE revision with `ecsProperties`: one task of these (name, image) containers.
    pub fn ecs(name: &str, revision: i32, containers: &[(&str, &str)]) -> Self {
        BatchJobDefinition { ecs_containers: batch_containers(containers), ..Self::new(name, revision) }
    }

    /// An ACTIVE revision with `eksProperties`: a pod of these (name, image) containers.
    pub fn eks(name: &str, revision: i32, containers: &[(&str, &str)]) -> Self {
        BatchJobDefinition { eks_containers: batch_containers(containers), ..Self::new(name, revision) }
    }

    /// The same revision, deregistered (INACTIVE).
    pub fn inactive(mut self) -> Self {
        self.status = "INACTIVE".to_owned();
        self
    }
}

fn batch_containers(containers: &[(&str, &str)]) -> Vec<BatchContainer> {
    containers
        .iter()
        .map(|(name, image)| BatchContainer { name: (*name).to_owned(), image: (*image).to_owned() })
        .collect()
}

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
            id: crate::demo::hex_id(&format!("apprunner:{name}"), 32),
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

/// A Kubernetes cluster, reached through kubeconfig context `context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeCluster {
    /// The kubeconfig context (and cluster) name, e.g. `prod-eks`.
    pub context: String,
    /// Pods, any namespace, any order (served ordered by namespace and name).
    #[serde(default)]
    pub pods: Vec<KubePod>,
    /// Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs.
    #[serde(default)]
    pub workloads: Vec<KubeWorkload>,
}

impl KubeCluster {
    /// An empty cluster named `context`.
    pub fn new(context: &str) -> Self {
        KubeCluster { context: context.to_owned(), pods: Vec::new(), workloads: Vec::new() }
    }

    /// The same cluster with one more workload.
    pub fn with_workload(mut self, workload: KubeWorkload) -> Self {
        self.workloads.push(workload);
        self
    }

    /// The same cluster with one more pod.
    pub fn with_pod(mut self, pod: KubePod) -> Self {
        self.pods.push(pod);
        self
    }
}

/// A Kubernetes pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubePod {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// `Running`, `Pending`, `Succeeded` or `Failed`.
    pub phase: String,
    /// The node it is scheduled on; `None` for an unscheduled pod (which has no
    /// container statuses yet).
    #[serde(default)]
    pub node_name: Option<String>,
    /// App containers.
    #[serde(default)]
    pub containers: Vec<KubeContainer>,
    /// Init containers.
    #[serde(default)]
    pub init_containers: Vec<KubeContainer>,
}

/// A container of a pod: its spec and what its status reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeContainer {
    /// Container name.
    pub name: String,
    /// Image as in the pod spec.
    pub image: String,
    /// The status's `imageID`, e.g.
    /// `docker-pullable://<acct>.dkr.ecr.<region>.amazonaws.com/web@sha256:...` or the
    /// bare `<repo>@sha256:...`; `None` before the image is pulled (reported as `""`).
    #[serde(default)]
    pub image_id: Option<String>,
}

impl KubePod {
    /// A pod of `namespace` in `phase` scheduled on `node`, without containers yet.
    pub fn new(namespace: &str, name: &str, phase: &str, node: &str) -> Self {
        KubePod {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            phase: phase.to_owned(),
            node_name: (!node.is_empty()).then(|| node.to_owned()),
            containers: Vec::new(),
            init_containers: Vec::new(),
        }
    }

    /// A Running pod of `namespace` on `node`, without containers yet.
    pub fn running(namespace: &str, name: &str, node: &str) -> Self {
        Self::new(namespace, name, "Running", node)
    }

    /// The same pod with one more app container (`image_id` `None`: not pulled yet).
    pub fn with_container(mut self, name: &str, image: &str, image_id: Option<&str>) -> Self {
        self.containers.push(KubeContainer::new(name, image, image_id));
        self
    }

    /// The same pod with one more init container.
    pub fn with_init_container(mut self, name: &str, image: &str, image_id: Option<&str>) -> Self {
        self.init_containers.push(KubeContainer::new(name, image, image_id));
        self
    }
}

impl KubeContainer {
    fn new(name: &str, image: &str, image_id: Option<&str>) -> Self {
        KubeContainer {
            name: name.to_owned(),
            image: image.to_owned(),
            image_id: image_id.map(str::to_owned),
        }
    }
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

    /// The same world with one more Kubernetes cluster.
    pub fn with_kubernetes(mut self, cluster: KubeCluster) -> Self {
        self.kubernetes.push(cluster);
        self
    }

    /// The Kubernetes cluster of kubeconfig context `context`.
    pub fn kube_cluster(&self, context: &str) -> Option<&KubeCluster> {
        self.kubernetes.iter().find(|c| c.context == context)
    }

    /// The same world with one more S3 bucket.
    pub fn with_s3_bucket(mut self, bucket: S3Bucket) -> Self {
        self.s3_buckets.push(bucket);
        self
    }

    /// The S3 bucket named `name` (names are global; the first one wins).
    pub fn s3_bucket(&self, name: &str) -> Option<&S3Bucket> {
        self.s3_buckets.iter().find(|b| b.name == name)
    }

    /// Mutable access to the S3 bucket named `name`.
    pub fn s3_bucket_mut(&mut self, name: &str) -> Option<&mut S3Bucket> {
        self.s3_buckets.iter_mut().find(|b| b.name == name)
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

/// `arn:aws:lambda:<region>:<acct>:function:<name>`; with a qualifier (a version or
/// an alias) `...:function:<name>:<qualifier>`.
pub fn lambda_function_arn(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("arn:aws:lambda:{region}:{account}:function:{name}:{q}"),
        None => format!("arn:aws:lambda:{region}:{account}:function:{name}"),
    }
}

/// `arn:aws:batch:<region>:<acct>:job-definition/<name>:<revision>`.
pub fn batch_job_definition_arn(region: &str, account: &str, name: &str, revision: i32) -> String {
    format!("arn:aws:batch:{region}:{account}:job-definition/{name}:{revision}")
}

/// `arn:aws:apprunner:<region>:<acct>:service/<name>/<id>`.
pub fn apprunner_service_arn(region: &str, account: &str, name: &str, id: &str) -> String {
    format!("arn:aws:apprunner:{region}:{account}:service/{name}/{id}")
}
