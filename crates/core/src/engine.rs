//! The `Engine`: connections plus registered tables, ready to put on a
//! DataFusion `SessionContext` (yours or a new one).
//!
//! A [`SessionHook`] adds to the sessions [`Engine::session`] builds (the
//! distributed planner of `skyglue-distributed`, say); [`Engine::fresh_session`]
//! never takes it, so a policy's fresh checks run in this process.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::error::Result as DfResult;
use datafusion::execution::config::SessionConfig;
use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionContext;

use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;

use crate::cache::ScanCache;
use crate::config::Config;
use crate::connection::Connections;
use crate::error::Result;
use crate::functions;
use crate::probe_side::KeyedProbeSide;
use crate::provider::ApiTableProvider;
use crate::registry::Registry;
use crate::shared_scans::SharedScans;

/// Changes the session state [`Engine::session`] builds, before it is built.
pub type SessionHook = Arc<dyn Fn(SessionStateBuilder) -> SessionStateBuilder + Send + Sync>;

/// Connections and tables, registered on any `SessionContext`.
#[derive(Clone)]
pub struct Engine {
    connections: Arc<Connections>,
    registry: Registry,
    cache: Option<Arc<ScanCache>>,
    checks_reuse_reads: bool,
    hook: Option<SessionHook>,
    memory_limit: Option<usize>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("connections", &self.connections)
            .field("registry", &self.registry)
            .field("cache", &self.cache)
            .field("hook", &self.hook.is_some())
            .field("checks_reuse_reads", &self.checks_reuse_reads)
            .field("memory_limit", &self.memory_limit)
            .finish()
    }
}

/// How long a dry run's own reads stay reusable: longer than any run.
const DRY_RUN_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Engine {
    /// An engine over ready connections.
    pub fn new(connections: Connections, registry: Registry) -> Self {
        for table in registry.tables() {
            for limits in &table.spec().rate_limits {
                connections.throttle.register(limits);
            }
        }
        Self {
            connections: Arc::new(connections),
            registry,
            cache: None,
            checks_reuse_reads: false,
            hook: None,
            memory_limit: None,
        }
    }

    /// Applies `hook` to every session [`Engine::session`] builds (not to
    /// [`Engine::fresh_session`]).
    pub fn with_session_hook(mut self, hook: SessionHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Turns on the scan cache: a repeated scan within `ttl` makes no API
    /// calls. [`Engine::fresh_session`] still reads the APIs.
    pub fn with_cache(mut self, ttl: std::time::Duration) -> Self {
        self.cache = Some(Arc::new(ScanCache::new(ttl)));
        self
    }

    /// Caps the memory DataFusion's operators may hold in every session this
    /// engine builds at `bytes` (`--memory-limit`, `[engine] memory_limit`):
    /// sorts, aggregations and joins spill to the OS temporary directory past
    /// it, and a query that cannot fit fails with DataFusion's
    /// "resources exhausted" error (the CLI names the limit).
    pub fn with_memory_limit(mut self, bytes: Option<usize>) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The memory limit, if any ([`Engine::with_memory_limit`]).
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// The runtime of this engine's sessions and the limit it enforces:
    /// DataFusion's default, or a spilling pool of the memory limit.
    fn runtime(&self) -> DfResult<Option<(Arc<RuntimeEnv>, usize)>> {
        self.memory_limit.map(|limit| Ok((spilling_runtime(limit)?, limit))).transpose()
    }

    /// The scan cache, if on.
    pub fn cache(&self) -> Option<&Arc<ScanCache>> {
        self.cache.as_ref()
    }

    /// Builds the connections `config` names.
    pub async fn from_config(config: &Config, registry: Registry) -> Result<Self> {
        if config.in_use.sources.is_some() {
            registry.validate_in_use(&config.in_use_sources())?;
        }
        let engine = Self::new(Connections::from_config(config).await?, registry);
        Ok(engine.with_memory_limit(config.engine.memory_limit.map(|limit| limit.0)))
    }

    /// The connections.
    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }

    /// The registered tables and views.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registers every table, view and function on `ctx`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> datafusion::error::Result<()> {
    /// use datafusion::prelude::SessionContext;
    /// use skyglue_core::{Connections, Engine, Registry};
    ///
    /// let engine = Engine::new(Connections::default(), Registry::new());
    /// let ctx = SessionContext::new();
    /// engine.register(&ctx).await?;
    /// ctx.sql("SELECT days_ago(30)").await?.show().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn register(&self, ctx: &SessionContext) -> DfResult<()> {
        self.register_with(ctx, self.cache.clone()).await
    }

    async fn register_with(&self, ctx: &SessionContext, cache: Option<Arc<ScanCache>>) -> DfResult<()> {
        for udf in functions::all() {
            ctx.register_udf(udf);
        }
        for table in self.registry.tables() {
            let provider =
                ApiTableProvider::new(table.clone(), self.connections.clone()).with_cache(cache.clone());
            ctx.register_table(table.spec().name, Arc::new(provider))?;
        }
        for view in self.registry.views() {
            let sql = view.sql_for(&self.connections);
            ctx.sql(&format!("CREATE OR REPLACE VIEW {} AS {}", view.name, sql)).await?;
        }
        Ok(())
    }

    /// A new `SessionContext` with skyglue's settings and everything registered.
    pub async fn session(&self) -> DfResult<SessionContext> {
        let ctx = context_with(self.hook.as_ref(), self.runtime()?);
        self.register(&ctx).await?;
        Ok(ctx)
    }

    /// A session that never reads the scan cache: for checks that must see
    /// the APIs as they are now (a policy's guardrails).
    pub async fn fresh_session(&self) -> DfResult<SessionContext> {
        let ctx = context_with(None, self.runtime()?);
        self.register_with(&ctx, None).await?;
        Ok(ctx)
    }

    /// The engine of one dry run: its sessions keep every complete scan in a
    /// cache of this run's own (a cache the engine had is not read), and
    /// [`Engine::check_session`] reads through it, so the sink's check reuses
    /// what the policy's query has just read instead of reading it again.
    ///
    /// That is safe only because a dry run deletes nothing: its check decides
    /// on the data its query saw, which is what `--apply` would have decided
    /// at that moment. An applying run never uses this; its check re-reads.
    pub fn for_dry_run(&self) -> Engine {
        Engine {
            cache: Some(Arc::new(ScanCache::new(DRY_RUN_TTL))),
            checks_reuse_reads: true,
            ..self.clone()
        }
    }

    /// The session a sink's check reads through: [`Engine::fresh_session`],
    /// except on a dry run's engine ([`Engine::for_dry_run`]), where it
    /// reuses the run's own reads.
    pub async fn check_session(&self) -> DfResult<SessionContext> {
        if self.checks_reuse_reads { self.session().await } else { self.fresh_session().await }
    }
}

/// A context with [`session_config`] and skyglue's optimizer rules
/// ([`KeyedProbeSide`], placed right after DataFusion's join selection, and
/// [`SharedScans`] last).
pub fn new_context() -> SessionContext {
    context_with(None, None)
}

/// [`new_context`], changed by `hook`, on `runtime` when one is given.
fn context_with(hook: Option<&SessionHook>, runtime: Option<(Arc<RuntimeEnv>, usize)>) -> SessionContext {
    let mut rules = PhysicalOptimizer::new().rules;
    let at = rules.iter().position(|r| r.name() == "join_selection").map_or(0, |i| i + 1);
    rules.insert(at, Arc::new(KeyedProbeSide));
    rules.push(Arc::new(SharedScans));
    let mut config = session_config();
    if let Some((_, limit)) = &runtime {
        // A sort reserves this much up front to merge what it spilled
        // (10 MB by default): under a small limit that reservation alone
        // would fail the sort instead of letting it spill.
        let execution = &mut config.options_mut().execution;
        execution.sort_spill_reservation_bytes = execution.sort_spill_reservation_bytes.min(limit / 8);
    }
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_physical_optimizer_rules(rules);
    if let Some((runtime, _)) = runtime {
        builder = builder.with_runtime_env(runtime);
    }
    if let Some(hook) = hook {
        builder = hook(builder);
    }
    SessionContext::new_with_state(builder.build())
}

/// How many of the largest memory consumers a refusal names.
const CONSUMERS_NAMED: NonZeroUsize = NonZeroUsize::MIN.saturating_add(4);

/// A runtime whose operators share `limit` bytes fairly among those that can
/// spill (sorts, aggregations, joins' spilling forms) and spill to the OS
/// temporary directory past it; a refusal names the largest consumers.
fn spilling_runtime(limit: usize) -> DfResult<Arc<RuntimeEnv>> {
    let pool = TrackConsumersPool::new(FairSpillPool::new(limit), CONSUMERS_NAMED);
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(DiskManagerBuilder::default())
        .build_arc()
}

/// The variable that sets DataFusion's partitions (see [`session_config`]).
pub const TARGET_PARTITIONS_VAR: &str = "DATAFUSION_EXECUTION_TARGET_PARTITIONS";

/// The session settings skyglue recommends.
///
/// Queries run in one partition unless `DATAFUSION_EXECUTION_TARGET_PARTITIONS`
/// says otherwise: they wait on the APIs, not on the CPU, and each further
/// partition holds another copy of every aggregation's and sort's state (the
/// cleanup policy's peak memory fell by a third on the benchmark world, in
/// the same wall time). Joins collect their build side in one partition
/// (`repartition_joins` off), and their dynamic filters carry the exact key
/// set for up to 100,000 keys, so join keys reach API scans as a plain `IN`
/// list (see `join_keys`).
pub fn session_config() -> SessionConfig {
    // DataFusion's own settings from `DATAFUSION_*` variables first (as
    // datafusion-cli reads them, e.g. DATAFUSION_EXECUTION_TARGET_PARTITIONS=4);
    // a variable that does not parse is named on stderr and the defaults kept.
    let base = match SessionConfig::from_env() {
        Ok(base) if std::env::var_os(TARGET_PARTITIONS_VAR).is_some() => base,
        Ok(base) => base.with_target_partitions(1),
        Err(e) => {
            eprintln!("skyglue: ignoring the DATAFUSION_* settings: {e}");
            SessionConfig::new().with_target_partitions(1)
        }
    };
    let mut config = base.with_information_schema(true).with_repartition_joins(false);
    let optimizer = &mut config.options_mut().optimizer;
    optimizer.hash_join_inlist_pushdown_max_distinct_values = 100_000;
    optimizer.hash_join_inlist_pushdown_max_size = 64 * 1024 * 1024;
    config
}
