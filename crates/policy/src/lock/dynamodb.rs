//! A policy lease in the team table: `pk = "lock#<policy>", sk = "lock"`,
//! fenced by a counter at `sk = "fence"`.
//!
//! Taken with `PutItem` on condition `attribute_not_exists(pk) OR
//! expires_at < :now`, so a live lease is never overwritten and an expired
//! one (its holder died) is taken over. Each acquisition then increments the
//! partition's fence counter (`ADD n :one`): the holder's **fence number**,
//! higher for every later holder, is written with every journal entry of its
//! run, so the team's journal says which holder did what. A heartbeat extends
//! the lease every third of the lease on condition `owner = :me`; when that
//! condition fails (someone took it over) or the lease would expire before a
//! renewal got through, the run is interrupted. Released with `DeleteItem` on
//! condition `owner = :me`. `expires_at` is in milliseconds since the epoch;
//! hosts' clocks are assumed to agree to well within a lease.
//!
//! Every call on the lease is bounded: its client's operation timeout is a
//! sixth of the lease, so a stalled renewal cannot outlive the lease
//! unnoticed. And before each delete batch the run asks [`LeaseGuard::verify`]:
//! the lease must be held by this run, by its own clock and by a consistent
//! read of the table, with at least a third of the lease to spare; otherwise
//! the run stops before that call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::Owner;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::team::{TeamTable, string};

/// A held lease and its heartbeat.
#[derive(Debug)]
pub struct Lease {
    guard: LeaseGuard,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// What a run checks before each call: whether its lease still holds with
/// time to spare. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LeaseGuard {
    team: TeamTable,
    pk: String,
    owner: String,
    fence: u64,
    lease: Duration,
    /// Until when the lease surely holds by this host's clock: when the last
    /// write that extended it was sent, plus the lease.
    valid_until: Arc<Mutex<Instant>>,
}

impl Lease {
    /// Takes `policy`'s lease for `owner`, or fails with [`Error::Locked`]
    /// naming the live holder. The heartbeat raises `interrupt` if the lease is lost.
    pub async fn acquire(
        team: TeamTable,
        policy: &str,
        owner: &Owner,
        lease: Duration,
        interrupt: Interrupt,
    ) -> Result<Self> {
        let team = team.with_operation_timeout(lease / 6);
        let pk = key(policy);
        let sent = Instant::now();
        let now = now_ms();
        let result = team
            .client()
            .put_item()
            .table_name(team.name())
            .item("pk", AttributeValue::S(pk.clone()))
            .item("sk", AttributeValue::S("lock".into()))
            .item("owner", AttributeValue::S(owner.id()))
            .item("host", AttributeValue::S(owner.host.clone()))
            .item("pid", AttributeValue::N(owner.pid.to_string()))
            .item("run_id", AttributeValue::S(owner.run_id.clone()))
            .item("started", AttributeValue::S(owner.started.clone()))
            .item("expires_at", AttributeValue::N((now + millis(lease)).to_string()))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                let holder = holder(&team, &pk).await;
                return Err(Error::Locked { policy: policy.into(), holder });
            }
            Err(e) => return Err(team.sdk("PutItem", e)),
        }
        let guard = LeaseGuard {
            fence: 0,
            team: team.clone(),
            pk: pk.clone(),
            owner: owner.id(),
            lease,
            valid_until: Arc::new(Mutex::new(sent + lease)),
        };
        // Taken: now its fence number. A holder that cannot get one gives the lease back.
        let fence = match next_fence(&team, &pk).await {
            Ok(fence) => fence,
            Err(e) => {
                let _ = guard.delete().await;
                return Err(e);
            }
        };
        let guard = LeaseGuard { fence, ..guard };
        let heartbeat = tokio::spawn(heartbeat(guard.clone(), interrupt));
        Ok(Self { guard, heartbeat })
    }

    /// What the run checks before each call.
    pub fn guard(&self) -> &LeaseGuard {
        &self.guard
    }

    /// Stops the heartbeat and deletes the lease if it is still this owner's.
    pub async fn release(self) -> Result<()> {
        self.heartbeat.abort();
        self.guard.delete().await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl LeaseGuard {
    /// This holder's fence number: every later acquisition of the policy's
    /// lease gets a higher one.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// How much of the lease must be left for a call to start: a third.
    fn spare(&self) -> Duration {
        self.lease / 3
    }

    /// Whether the lease is held with time to spare, by this host's clock and
    /// by a consistent read of the table; the error says why not.
    pub async fn verify(&self) -> std::result::Result<(), String> {
        let left = self.left();
        if left < self.spare() {
            return Err(format!(
                "the lock's lease in DynamoDB table {} could not be renewed: {} ms of it left, less than the \
                 {} ms a call must have to spare",
                self.team.name(),
                left.as_millis(),
                self.spare().as_millis()
            ));
        }
        let item = self
            .team
            .client()
            .get_item()
            .table_name(self.team.name())
            .key("pk", AttributeValue::S(self.pk.clone()))
            .key("sk", AttributeValue::S("lock".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("could not confirm the lock: {}", self.team.sdk("GetItem", e)))?;
        let Some(item) = item.item else {
            return Err(format!("lost the lock in DynamoDB table {}: its lease is gone", self.team.name()));
        };
        if string(&item, "owner") != Some(self.owner.as_str()) {
            let holder = owner_of(&item).map_or_else(|| "another run".to_string(), |(o, _)| o.to_string());
            return Err(format!(
                "lost the lock in DynamoDB table {}: {holder} took it over after this run's lease (fence {}) \
                 expired",
                self.team.name(),
                self.fence
            ));
        }
        let expires = item.get("expires_at").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
        let left_ms = expires.map_or(0, |e| e - now_ms());
        if left_ms < millis(self.spare()) {
            return Err(format!(
                "the lock's lease in DynamoDB table {} expires in {left_ms} ms, less than the {} ms a call \
                 must have to spare",
                self.team.name(),
                self.spare().as_millis()
            ));
        }
        Ok(())
    }

    /// How long the lease surely holds, by this host's clock.
    fn left(&self) -> Duration {
        let until = *self.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        until.saturating_duration_since(Instant::now())
    }

    /// Extends the lease; `Ok(false)` when it is no longer this owner's.
    async fn renew(&self) -> Result<bool> {
        let sent = Instant::now();
        let result = self
            .team
            .client()
            .update_item()
            .table_name(self.team.name())
            .key("pk", AttributeValue::S(self.pk.clone()))
            .key("sk", AttributeValue::S("lock".into()))
            .update_expression("SET expires_at = :expires")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", AttributeValue::S(self.owner.clone()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((now_ms() + millis(self.lease)).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => {
                *self.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = sent + self.lease;
                Ok(true)
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(self.team.sdk("UpdateItem", e)),
        }
    }

    /// Deletes the lease if it is still this owner's.
    async fn delete(&self) -> Result<()> {
        let result = self
            .team
            .client()
            .delete_item()
            .table_name(self.team.name())
            .key("pk", AttributeValue::S(self.pk.clone()))
            .key("sk", AttributeValue::S("lock".into()))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", AttributeValue::S(self.owner.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Taken over after it expired: nothing of ours to release.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(self.team.sdk("DeleteItem", e)),
        }
    }
}

/// The partition's next fence number (the counter at `sk = "fence"`).
async fn next_fence(team: &TeamTable, pk: &str) -> Result<u64> {
    let out = team
        .client()
        .update_item()
        .table_name(team.name())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S("fence".into()))
        .update_expression("ADD #n :one")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .map_err(|e| team.sdk("UpdateItem", e))?;
    out.attributes
        .as_ref()
        .and_then(|a| a.get("n"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| team.failed("UpdateItem", "the fence counter came back without a number"))
}

/// Extends the lease every `lease / 3` until aborted; interrupts the run
/// when the lease is lost, or when renewals keep failing until less than a
/// renewal period of it is left.
async fn heartbeat(guard: LeaseGuard, interrupt: Interrupt) {
    let period = guard.lease / 3;
    loop {
        tokio::time::sleep(period).await;
        match guard.renew().await {
            Ok(true) => {}
            Ok(false) => {
                interrupt.raise(format!(
                    "lost the lock in DynamoDB table {}: another run took it over",
                    guard.team.name()
                ));
                return;
            }
            Err(e) => {
                // Give up before the lease can lapse under a run still acting.
                if guard.left() <= period {
                    interrupt.raise(format!("could not renew the lock: {e}"));
                    return;
                }
            }
        }
    }
}

/// Who holds the lease at `pk`, as well as can be read.
async fn holder(team: &TeamTable, pk: &str) -> String {
    let item = team
        .client()
        .get_item()
        .table_name(team.name())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S("lock".into()))
        .consistent_read(true)
        .send()
        .await;
    match item {
        Ok(out) => match out.item.as_ref().and_then(owner_of) {
            Some((owner, expires)) => {
                format!("{owner}, lease in DynamoDB table {} until {expires}", team.name())
            }
            None => format!("another run (lease in DynamoDB table {})", team.name()),
        },
        Err(e) => format!("another run ({})", team.sdk("GetItem", e)),
    }
}

fn owner_of(item: &HashMap<String, AttributeValue>) -> Option<(Owner, String)> {
    let owner = Owner {
        host: string(item, "host")?.into(),
        pid: item.get("pid").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())?,
        run_id: string(item, "run_id")?.into(),
        started: string(item, "started")?.into(),
    };
    let expires = item
        .get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    Some((owner, expires))
}

/// The lease's partition key.
pub fn key(policy: &str) -> String {
    format!("lock#{policy}")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(left: Duration, lease: Duration) -> LeaseGuard {
        let sdk = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_credential_types::Credentials::new("k", "s", None, None, "test"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        LeaseGuard {
            team: TeamTable::from_client(aws_sdk_dynamodb::Client::from_conf(sdk), "t"),
            pk: key("p"),
            owner: "me".into(),
            fence: 1,
            lease,
            valid_until: Arc::new(Mutex::new(Instant::now() + left)),
        }
    }

    #[tokio::test]
    async fn a_lease_without_a_third_of_it_left_stops_the_next_call_before_any_request() {
        // The endpoint is a closed port: a request would fail otherwise.
        let err =
            guard(Duration::from_secs(10), Duration::from_secs(60)).verify().await.expect_err("refused");
        assert!(err.contains("could not be renewed") && err.contains("20000 ms"), "{err}");
    }

    #[tokio::test]
    async fn a_lease_that_cannot_be_confirmed_stops_the_next_call() {
        let err =
            guard(Duration::from_secs(60), Duration::from_secs(60)).verify().await.expect_err("refused");
        assert!(err.contains("could not confirm the lock"), "{err}");
    }
}
