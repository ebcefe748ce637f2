//! Shared helpers: small worlds, a sandbox-backed engine, and SQL shortcuts.

use chrono::{Duration, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use skyglue_core::Engine;
use skyglue_sandbox::world::{
    Account, Cluster, ContainerDefinition, Deployment, Image, RegionWorld, Repository, Service, Task,
    TaskDefinition, access_key_for,
};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

pub const ACCOUNT: &str = "111111111111";
pub const OTHER: &str = "222222222222";

/// A sandbox serving `world`, an engine over it, and a session.
pub struct Env {
    pub sandbox: Sandbox,
    pub engine: Engine,
    pub ctx: SessionContext,
}

impl Env {
    pub async fn start(world: World) -> Env {
        Self::start_with(world, SandboxConfig::default()).await
    }

    pub async fn start_with(world: World, config: SandboxConfig) -> Env {
        let sandbox = Sandbox::start(world.clone(), config).await.expect("sandbox starts");
        let engine = skyglue::sandbox::engine(&sandbox, &world).await.expect("engine");
        let ctx = engine.session().await.expect("session");
        Env { sandbox, engine, ctx }
    }

    /// Runs `sql`, returning its batches (panics with the error).
    pub async fn query(&self, sql: &str) -> Vec<RecordBatch> {
        match self.try_query(sql).await {
            Ok(b) => b,
            Err(e) => panic!("query failed: {sql}\n{e}"),
        }
    }

    pub async fn try_query(&self, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
        self.ctx.sql(sql).await?.collect().await
    }

    /// The single i64 value of `sql`.
    pub async fn count(&self, sql: &str) -> i64 {
        let batches = self.query(sql).await;
        let col = batches[0].column(0);
        datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Int64Type>(col)
            .value(0)
    }

    /// Calls of one operation since the last reset.
    pub fn calls(&self, op: &str) -> u64 {
        self.sandbox.calls().get(op).copied().unwrap_or(0)
    }

    /// Calls of one operation that were answered (not throttled).
    pub fn answered(&self, op: &str) -> u64 {
        self.calls(op) - self.sandbox.throttled_calls().get(op).copied().unwrap_or(0)
    }
}

pub fn pretty(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).expect("prints").to_string()
}

pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

pub fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

pub fn image(n: usize, tags: &[&str]) -> Image {
    Image {
        digest: digest(n),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        size_in_bytes: 1000 + n as i64,
        pushed_at: Utc::now() - Duration::days(n as i64 % 400),
        last_recorded_pull_time: None,
        manifest_media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
        // as ECR reports it for an image: with it, no manifest is read for
        // `subject_digest` (see the image graph in docs/guide/in-use.md)
        artifact_media_type: Some(skyglue_sandbox::world::DOCKER_CONFIG.into()),
        child_digests: vec![],
        subject_digest: None,
        storage: Default::default(),
    }
}

pub fn repository(name: &str, images: usize) -> Repository {
    Repository {
        name: name.into(),
        created_at: Utc::now() - Duration::days(500),
        image_tag_mutability: "MUTABLE".into(),
        images: (0..images).map(|i| image(i + name.len() * 100_000, &[&format!("t{i}")])).collect(),
        tags: Default::default(),
    }
}

pub fn region(name: &str) -> RegionWorld {
    RegionWorld::new(name)
}

pub fn account(id: &str, regions: Vec<RegionWorld>) -> Account {
    Account { id: id.into(), name: format!("acct{}", &id[..1]), access_key_id: access_key_for(id), regions }
}

pub fn world(accounts: Vec<Account>) -> World {
    World { accounts, ..World::default() }
}

pub fn task_definition(family: &str, revision: i32, status: &str, image: &str) -> TaskDefinition {
    TaskDefinition {
        family: family.into(),
        revision,
        status: status.into(),
        registered_at: Utc::now() - Duration::days(10),
        deregistered_at: (status == "INACTIVE").then(|| Utc::now() - Duration::days(1)),
        container_definitions: vec![ContainerDefinition {
            name: "app".into(),
            image: image.into(),
            essential: true,
        }],
    }
}

pub fn service(name: &str, task_definition_arn: &str) -> Service {
    Service {
        name: name.into(),
        status: "ACTIVE".into(),
        task_definition: task_definition_arn.into(),
        desired_count: 1,
        running_count: 1,
        launch_type: "FARGATE".into(),
        deployments: vec![Deployment {
            id: format!("ecs-svc/{name}"),
            status: "PRIMARY".into(),
            task_definition: task_definition_arn.into(),
            desired_count: 1,
            running_count: 1,
            rollout_state: "COMPLETED".into(),
            created_at: Utc::now() - Duration::days(1),
        }],
        deployment_controller: "ECS".into(),
        task_sets: vec![],
    }
}

pub fn task(id: &str, task_definition_arn: &str, status: &str) -> Task {
    Task {
        id: id.into(),
        task_definition_arn: task_definition_arn.into(),
        group: "family:x".into(),
        last_status: status.into(),
        desired_status: if status == "STOPPED" { "STOPPED".into() } else { "RUNNING".into() },
        launch_type: "FARGATE".into(),
        started_at: Some(Utc::now()),
        containers: vec![],
    }
}

pub fn cluster(name: &str, services: Vec<Service>, tasks: Vec<Task>) -> Cluster {
    Cluster { name: name.into(), services, tasks }
}
