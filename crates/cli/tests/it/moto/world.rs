//! The world the moto tests query: one server per test binary, seeded once
//! by `seed_world.py`, which prints what it created as JSON.

use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;

use super::server::MotoServer;

/// Account B: reached by assuming [`ROLE_B`].
pub const ACCOUNT_B: &str = "222222222222";
/// The role moto maps to account B.
pub const ROLE_B: &str = "arn:aws:iam::222222222222:role/skyglue";
/// The regions every connection covers.
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_world.py");

/// Everything the seeding created.
#[derive(Debug, Deserialize)]
pub struct World {
    pub repositories: Vec<Repository>,
    pub images: Vec<Image>,
    /// One entry per account x region.
    pub ecs: Vec<Place>,
}

#[derive(Debug, Deserialize)]
pub struct Repository {
    pub account_id: String,
    pub region: String,
    pub repository_name: String,
    pub arn: String,
    pub repository_uri: String,
}

#[derive(Debug, Deserialize)]
pub struct Image {
    pub account_id: String,
    pub region: String,
    pub repository_name: String,
    pub image_digest: String,
    pub image_tags: Vec<String>,
}

/// The ECS resources of one account in one region.
#[derive(Debug, Deserialize)]
pub struct Place {
    pub account_id: String,
    pub region: String,
    pub clusters: Vec<Cluster>,
    pub task_definitions: Vec<TaskDefinition>,
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Deserialize)]
pub struct Cluster {
    pub cluster_name: String,
    pub cluster_arn: String,
}

#[derive(Debug, Deserialize)]
pub struct TaskDefinition {
    pub task_definition_arn: String,
    pub family: String,
    pub revision: i64,
    pub status: String,
    pub image: String,
    /// The image reference's parts, as the seeding built it.
    pub image_ref: ImageRef,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageRef {
    pub registry: String,
    pub registry_id: Option<String>,
    pub region: Option<String>,
    pub repository_name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Service {
    pub cluster_arn: String,
    pub service_name: String,
    pub arn: String,
    pub task_definition: String,
    pub desired_count: i64,
}

#[derive(Debug, Deserialize)]
pub struct Task {
    pub cluster_arn: String,
    pub task_arn: String,
    pub task_definition_arn: String,
    pub stopped: bool,
}

impl World {
    /// The seeded task definition with this ARN.
    pub fn task_definition(&self, arn: &str) -> &TaskDefinition {
        self.ecs
            .iter()
            .flat_map(|p| &p.task_definitions)
            .find(|td| td.task_definition_arn == arn)
            .unwrap_or_else(|| panic!("no seeded task definition {arn}"))
    }
}

/// The shared server and its world.
pub struct Moto {
    pub server: MotoServer,
    pub world: World,
}

impl Moto {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        self.server.endpoint()
    }
}

/// The shared, seeded moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
    match MOTO.get_or_init(|| {
        let server = MotoServer::start()?;
        let world =
            serde_json::from_str(&seed(&server, &[])?).map_err(|e| format!("bad seed output: {e}"))?;
        Ok(Moto { server, world })
    }) {
        Ok(moto) => moto,
        Err(e) => panic!("moto is not available: {e}"),
    }
}

/// Runs `seed_world.py` against `server` with account A's credentials; its stdout.
pub fn seed(server: &MotoServer, args: &[&str]) -> Result<String, String> {
    let all: Vec<&str> = [SEED_SCRIPT, server.endpoint()].into_iter().chain(args.iter().copied()).collect();
    python(SEED_SCRIPT, &all)
}

/// Runs the venv's Python with `args` and account A's credentials, and nothing
/// else from the test process's environment; its stdout. `what` names it in errors.
pub fn python(what: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(MotoServer::python()?)
        .args(args)
        .env_clear()
        .envs([
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .output()
        .map_err(|e| format!("failed to run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}
