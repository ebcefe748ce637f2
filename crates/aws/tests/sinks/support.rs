//! A sandbox with its connections, a recording action log, and small worlds.

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use chrono::Utc;
use skyglue_core::sink::{ActionLog, Outcome, Status, Target};
use skyglue_core::{AwsConnection, Connections};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::world::{
    Account, DOCKER_CONFIG, DOCKER_MANIFEST_V2, Image, OCI_IMAGE_INDEX, RegionWorld, Repository,
    TaskDefinition, access_key_for, task_definition_arn,
};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

/// The account every test world has, in [`REGION`].
pub const PROD: &str = "111111111111";
/// A second account, in [`STAGING_REGION`].
pub const STAGING: &str = "222222222222";
/// Prod's region.
pub const REGION: &str = "us-east-1";
/// Staging's region.
pub const STAGING_REGION: &str = "eu-west-1";

/// A running sandbox, connections to each of its accounts and regions, and a log.
pub struct Env {
    pub sandbox: Sandbox,
    pub connections: Arc<Connections>,
    pub log: Recorder,
}

/// Starts `world` with `config`.
pub async fn start(world: World, config: SandboxConfig) -> Env {
    let sandbox = Sandbox::start(world.clone(), config).await.expect("sandbox starts");
    let connections = Arc::new(connections(&sandbox, &world).await);
    Env { sandbox, connections, log: Recorder::default() }
}

/// As `crates/cli/src/sandbox.rs` builds them: one connection per account and
/// region, each with that account's access key.
pub async fn connections(sandbox: &Sandbox, world: &World) -> Connections {
    let mut aws = Vec::new();
    for account in &world.accounts {
        for region in &account.regions {
            let creds = Credentials::new(&account.access_key_id, "sandbox", None, None, "sandbox");
            let sdk = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.region.clone()))
                .endpoint_url(sandbox.endpoint_url())
                .credentials_provider(creds)
                .load()
                .await;
            aws.push(AwsConnection::new(account.name.clone(), sdk).expect("the region is set"));
        }
    }
    Connections::from_aws(aws)
}

/// One line of the action log.
#[derive(Debug, Clone)]
pub enum Entry {
    Intent(String, Vec<Target>),
    Outcome(String, Vec<Outcome>),
}

/// An action log that remembers everything.
#[derive(Debug, Default)]
pub struct Recorder {
    entries: Mutex<Vec<Entry>>,
}

impl ActionLog for Recorder {
    fn intent(&self, operation: &str, targets: &[Target]) -> skyglue_core::Result<()> {
        self.entries.lock().expect("not poisoned").push(Entry::Intent(operation.into(), targets.to_vec()));
        Ok(())
    }

    fn outcome(&self, operation: &str, outcomes: &[Outcome]) -> skyglue_core::Result<()> {
        self.entries.lock().expect("not poisoned").push(Entry::Outcome(operation.into(), outcomes.to_vec()));
        Ok(())
    }
}

/// One logged call: the intent's targets and the outcomes logged after it.
pub type Call = (Vec<Target>, Vec<Outcome>);

impl Recorder {
    /// Every entry, in order.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().expect("not poisoned").clone()
    }

    /// Every outcome logged, in order.
    pub fn outcomes(&self) -> Vec<Outcome> {
        let entries = self.entries();
        entries
            .into_iter()
            .flat_map(|e| match e {
                Entry::Outcome(_, outcomes) => outcomes,
                Entry::Intent(..) => Vec::new(),
            })
            .collect()
    }

    /// The calls logged for `operation`, in the order their outcomes came,
    /// asserting that each call's intent came before its outcome for exactly
    /// its targets and that no intent was left without one. Calls to different
    /// repositories may run at once, so their entries may interleave. Outcomes
    /// without an intent (no call made) must all be failures.
    pub fn calls(&self, operation: &str) -> Vec<Call> {
        let mut calls = Vec::new();
        let mut pending: Vec<(String, Vec<Target>)> = Vec::new();
        for entry in self.entries() {
            match entry {
                Entry::Intent(op, targets) => pending.push((op, targets)),
                Entry::Outcome(op, outcomes) => {
                    let outcome_targets: Vec<&Target> = outcomes.iter().map(|o| &o.target).collect();
                    let intent = pending
                        .iter()
                        .position(|(o, t)| *o == op && t.iter().collect::<Vec<_>>() == outcome_targets);
                    match intent {
                        Some(i) => {
                            let (op, targets) = pending.remove(i);
                            if op == operation {
                                calls.push((targets, outcomes));
                            }
                        }
                        None => assert!(
                            outcomes.iter().all(|o| o.status == Status::Failed),
                            "only failures are logged without a call: {outcomes:?}"
                        ),
                    }
                }
            }
        }
        assert!(pending.is_empty(), "intents without an outcome: {pending:?}");
        calls
    }
}

/// Asserts that `outcomes` has exactly one outcome per target, whatever the order.
pub fn assert_one_outcome_each(targets: &[Target], outcomes: &[Outcome]) {
    let mut want: Vec<&Target> = targets.iter().collect();
    let mut got: Vec<&Target> = outcomes.iter().map(|o| &o.target).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "exactly one outcome per target");
}

/// The outcome for `target`.
pub fn outcome_of<'a>(outcomes: &'a [Outcome], target: &Target) -> &'a Outcome {
    outcomes.iter().find(|o| &o.target == target).expect("an outcome for the target")
}

/// A single-platform image labelled `label`.
pub fn image(label: &str) -> Image {
    Image {
        digest: demo_digest(label),
        tags: vec![label.to_owned()],
        size_in_bytes: 1_000,
        pushed_at: Utc::now(),
        last_recorded_pull_time: None,
        manifest_media_type: DOCKER_MANIFEST_V2.into(),
        artifact_media_type: Some(DOCKER_CONFIG.into()),
        child_digests: Vec::new(),
        subject_digest: None,
        storage: Default::default(),
    }
}

/// An image index labelled `label` over the images labelled `children`.
pub fn index(label: &str, children: &[&str]) -> Image {
    Image {
        manifest_media_type: OCI_IMAGE_INDEX.into(),
        artifact_media_type: None,
        child_digests: children.iter().map(|c| demo_digest(c)).collect(),
        ..image(label)
    }
}

/// A repository `name` holding `images`.
pub fn repository(name: &str, images: Vec<Image>) -> Repository {
    Repository {
        name: name.into(),
        created_at: Utc::now(),
        image_tag_mutability: "MUTABLE".into(),
        images,
        tags: Default::default(),
    }
}

/// Revision `revision` of `family`, ACTIVE or INACTIVE.
pub fn task_definition(family: &str, revision: i32, active: bool) -> TaskDefinition {
    TaskDefinition {
        family: family.into(),
        revision,
        status: if active { "ACTIVE" } else { "INACTIVE" }.into(),
        registered_at: Utc::now(),
        deregistered_at: if active { None } else { Some(Utc::now()) },
        container_definitions: Vec::new(),
    }
}

/// Prod in [`REGION`] with `prod`, staging in [`STAGING_REGION`] with `staging`.
pub fn world(prod: RegionWorld, staging: RegionWorld) -> World {
    let account = |id: &str, name: &str, region: &str, mut resources: RegionWorld| {
        resources.region = region.into();
        Account {
            id: id.into(),
            name: name.into(),
            access_key_id: access_key_for(id),
            regions: vec![resources],
        }
    };
    World {
        accounts: vec![
            account(PROD, "prod", REGION, prod),
            account(STAGING, "staging", STAGING_REGION, staging),
        ],
        github: Vec::new(),
        ..World::default()
    }
}

/// Prod's repositories, nothing else anywhere.
pub fn ecr_world(repositories: Vec<Repository>) -> World {
    world(RegionWorld { repositories, ..RegionWorld::default() }, RegionWorld::default())
}

/// Task definitions in prod and staging.
pub fn ecs_world(prod: Vec<TaskDefinition>, staging: Vec<TaskDefinition>) -> World {
    world(
        RegionWorld { task_definitions: prod, ..RegionWorld::default() },
        RegionWorld { task_definitions: staging, ..RegionWorld::default() },
    )
}

/// A row naming image `label` of prod's repository `repository`.
pub fn image_target(repository: &str, label: &str) -> Target {
    let digest = demo_digest(label);
    Target::from_pairs([
        ("account_id", PROD),
        ("region", REGION),
        ("registry_id", PROD),
        ("repository_name", repository),
        ("image_digest", digest.as_str()),
    ])
}

/// A row naming a task definition by ARN only.
pub fn task_definition_target(region: &str, account: &str, family: &str, revision: i32) -> Target {
    let arn = task_definition_arn(region, account, family, revision);
    // As the sink's check resolves it: the ARN, with its account and region.
    Target::from_pairs([("task_definition_arn", arn.as_str()), ("account_id", account), ("region", region)])
}

/// Digests left in prod's repository `name`.
pub fn digests_left(sandbox: &Sandbox, name: &str) -> Vec<String> {
    let world = sandbox.world_snapshot();
    let region = world.region(PROD, REGION).expect("prod exists");
    let repo = region.repositories.iter().find(|r| r.name == name).expect("the repository exists");
    repo.images.iter().map(|i| i.digest.clone()).collect()
}

/// `(family, revision, status)` of every task definition left in `account`/`region`.
pub fn task_definitions_left(sandbox: &Sandbox, account: &str, region: &str) -> Vec<(String, i32, String)> {
    let world = sandbox.world_snapshot();
    let tds = world.region(account, region).map(|r| r.task_definitions.clone()).unwrap_or_default();
    tds.into_iter().map(|td| (td.family, td.revision, td.status)).collect()
}

/// Calls of `operation` the sandbox saw.
pub fn calls(sandbox: &Sandbox, operation: &str) -> u64 {
    sandbox.calls().get(operation).copied().unwrap_or(0)
}
