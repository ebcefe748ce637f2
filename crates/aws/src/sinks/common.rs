//! What the sinks share: finding each target's connection, grouping targets
//! into API items, sending one call under the client-side rate limit, and
//! bracketing every call with the action log.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use skyglue_core::call::aws_call;
use skyglue_core::error::one_line;
use skyglue_core::sink::{ActionLog, Outcome, Target};
use skyglue_core::{AwsConnection, Connections, Error};

/// Where a target lives and which API item it names (`I`: a digest, an ARN,
/// or a structured id such as an S3 object's key and version).
pub(crate) struct Locator<K, I = String> {
    /// Account of the connection to use, if known.
    pub account: Option<String>,
    /// Region of the connection to use, if known.
    pub region: Option<String>,
    /// What one call is scoped to within the connection (a repository, say).
    pub scope: K,
    /// The item the API acts on (a digest, an ARN).
    pub id: I,
}

/// Targets naming the same API item: it is sent once and each target gets its outcome.
pub(crate) struct Item<I = String> {
    /// The item the API acts on.
    pub id: I,
    /// The rows that named it.
    pub targets: Vec<Target>,
}

/// The items of one connection and scope, in the order the targets came.
pub(crate) struct Group<K, I = String> {
    /// The connection.
    pub conn: Arc<AwsConnection>,
    /// The scope shared by the items.
    pub scope: K,
    /// The items.
    pub items: Vec<Item<I>>,
}

/// Targets sorted into groups, and the ones that cannot be acted on at all.
pub(crate) struct Plan<K, I = String> {
    /// Groups in first-seen order.
    pub groups: Vec<Group<K, I>>,
    /// Failed outcomes for targets with a bad row or no connection.
    pub unreachable: Vec<Outcome>,
}

/// A connection, or why none matched.
type Found = Result<Arc<AwsConnection>, String>;

/// Groups `targets` by connection and scope, keeping their order, and resolves each
/// (account, region) pair once.
pub(crate) async fn plan<K, I, F>(connections: &Connections, targets: Vec<Target>, locate: F) -> Plan<K, I>
where
    K: Clone + Eq + Hash,
    I: Clone + Eq + Hash,
    F: Fn(&Target) -> Result<Locator<K, I>, String>,
{
    let mut found: HashMap<(Option<String>, Option<String>), Found> = HashMap::new();
    let mut group_index: HashMap<(String, K), usize> = HashMap::new();
    let mut item_index: HashMap<(usize, I), usize> = HashMap::new();
    let mut plan = Plan { groups: Vec::new(), unreachable: Vec::new() };
    for target in targets {
        let loc = match locate(&target) {
            Ok(loc) => loc,
            Err(reason) => {
                plan.unreachable.push(Outcome::failed(target, reason));
                continue;
            }
        };
        let key = (loc.account, loc.region);
        let conn = match found.get(&key) {
            Some(conn) => conn.clone(),
            None => {
                let conn = connections
                    .find_aws(key.0.as_deref(), key.1.as_deref())
                    .await
                    .map_err(|e| one_line(&e.to_string()));
                found.insert(key, conn.clone());
                conn
            }
        };
        let conn = match conn {
            Ok(conn) => conn,
            Err(reason) => {
                plan.unreachable.push(Outcome::failed(target, reason));
                continue;
            }
        };
        let groups = &mut plan.groups;
        let g = *group_index.entry((conn.label(), loc.scope.clone())).or_insert_with(|| {
            groups.push(Group { conn, scope: loc.scope, items: Vec::new() });
            groups.len() - 1
        });
        let items = &mut groups[g].items;
        let i = *item_index.entry((g, loc.id.clone())).or_insert_with(|| {
            items.push(Item { id: loc.id, targets: Vec::new() });
            items.len() - 1
        });
        items[i].targets.push(target);
    }
    plan
}

/// The re-check group of a resolved target ([`skyglue_core::sink::Sink::recheck_group`]):
/// its values of `columns` joined by `/`, `-` for one it lacks.
pub(crate) fn group_key(target: &Target, columns: &[&str]) -> String {
    columns.iter().map(|c| target.get(c).unwrap_or("-")).collect::<Vec<_>>().join("/")
}

/// The value of a column every row of this action must have.
pub(crate) fn required(target: &Target, column: &str) -> Result<String, String> {
    target.get(column).map(str::to_string).ok_or_else(|| format!("the row has no {column} column"))
}

/// The targets of `items`, in order.
pub(crate) fn targets_of<'a, I: 'a>(items: impl IntoIterator<Item = &'a Item<I>>) -> Vec<Target> {
    items.into_iter().flat_map(|item| item.targets.iter().cloned()).collect()
}

/// Every target of `targets` failed, for `reason`.
pub(crate) fn fail_all(targets: &[Target], reason: &str) -> Vec<Outcome> {
    let reason = one_line(reason);
    targets.iter().map(|t| Outcome::failed(t.clone(), reason.clone())).collect()
}

/// Every target of `targets` done, or failed for the error's reason.
pub(crate) fn outcomes_for(targets: &[Target], result: &Result<(), String>) -> Vec<Outcome> {
    match result {
        Ok(()) => targets.iter().cloned().map(Outcome::done).collect(),
        Err(reason) => fail_all(targets, reason),
    }
}

/// Records the intent before a call, once the log says the run may still
/// act (its lock held). When it may not, or the intent cannot be recorded,
/// nothing may be sent (acting without a journal entry would leave a crash
/// unexplained): the error is the reason to fail the targets with.
pub(crate) async fn intent(log: &dyn ActionLog, operation: &str, targets: &[Target]) -> Result<(), String> {
    log.may_act().await.map_err(|e| format!("not attempted: {e}"))?;
    log.intent(operation, targets).map_err(|e| format!("not attempted: failed to record the intent: {e}"))
}

/// Records the outcomes after a call and hands them back. A failure to record
/// them is not reported here: the caller still gets them, and the journal's
/// intent without an outcome tells the next run to look.
pub(crate) fn outcome(log: &dyn ActionLog, operation: &str, outcomes: Vec<Outcome>) -> Vec<Outcome> {
    let _ = log.outcome(operation, &outcomes);
    outcomes
}

/// Records outcomes that no call preceded (no connection, a bad row).
pub(crate) fn log_unreachable(log: &dyn ActionLog, operation: &str, outcomes: &[Outcome]) {
    if !outcomes.is_empty() {
        let _ = log.outcome(operation, outcomes);
    }
}

/// Sends one call on `conn` through `skyglue_core::call::aws_call`: within the
/// client-side limit, counted in the session's counters, throttles and
/// transient failures retried. `request` builds and sends the request; it is
/// called again for each retry. Every error code is a failure here.
pub(crate) async fn send<T, E, F, Fut>(
    connections: &Connections,
    conn: &AwsConnection,
    operation: &str,
    request: F,
) -> Result<T, Error>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let label = conn.label();
    match aws_call(connections, &label, operation, &[], None, request).await? {
        Some(out) => Ok(out),
        // aws_call answers None only for a not-found code, and none was given.
        None => Err(Error::Api {
            operation: operation.to_string(),
            connection: label,
            detail: "not found".into(),
        }),
    }
}
