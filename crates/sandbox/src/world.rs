//! The sandbox's data model: accounts, regions, ECR repositories and images, ECS
//! clusters, services, tasks and task definitions, Lambda functions, Batch job
//! definitions, App Runner services, Kubernetes clusters with pods, S3 buckets with
//! object versions, and GitHub repositories with commits.
//!
//! A [`World`] is plain data that (de)serialises to JSON, so a test or a demo can load
//! one from a file ([`World::from_json_file`]), build the bundled one
//! ([`World::demo`](crate::World::demo)) or generate a large one
//! ([`World::generate`](crate::World::generate)). ARNs and URIs are derived, never stored.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
pub use crate::apprunner_world::{AppRunnerService, apprunner_service_arn};
pub use crate::batch_world::{BatchContainer, BatchJobDefinition, batch_job_definition_arn};
pub use crate::ecr_storage::{Storage, StorageState};
pub use crate::ecr_world::{
    COSIGN_SIGNATURE, DOCKER_CONFIG, DOCKER_MANIFEST_V2, Image, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST,
    Repository, SPDX_SBOM, repository_arn, repository_uri,
};
pub use crate::ecs_world::{
    Cluster, Container, ContainerDefinition, Deployment, Service, Task, TaskDefinition, TaskSet, cluster_arn,
    service_arn, task_arn, task_definition_arn, task_set_arn,
};
pub use crate::github_world::{Commit, GithubRepo};
pub use crate::kubernetes_world::{KubeCluster, KubeContainer, KubePod};
pub use crate::lambda_world::{LambdaAlias, LambdaFunction, LambdaVersion, lambda_function_arn};
pub use crate::s3_world::{
    NULL_VERSION, S3Bucket, S3Object, S3ObjectVersion, S3Owner, S3Retention, canonical_user_id,
};
pub use crate::schedules_world::{EventRule, EventTarget, Schedule};
pub use crate::workloads_world::KubeWorkload;

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
