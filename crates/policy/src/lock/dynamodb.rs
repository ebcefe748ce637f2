//! A policy lease in the team table: `pk = "lock#<policy>", sk = "lock"`.
//!
//! Taken with `PutItem` on condition `attribute_not_exists(pk) OR
//! expires_at < :now`, so a live lease is never overwritten and an expired
//! one (its holder died) is taken over. A heartbeat extends it every third of
//! the lease on condition `owner = :me`; when that condition fails (someone
//! took it over) or the lease would expire before a renewal got through, the
//! run is interrupted. Released with `DeleteItem` on condition `owner = :me`.
//! `expires_at` is in milliseconds since the epoch; hosts' clocks are assumed
//! to agree to well within a lease.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use super::Owner;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::team::{TeamTable, string};

/// A held lease and its heartbeat.
#[derive(Debug)]
pub struct Lease {
    team: TeamTable,
    pk: String,
    owner: String,
    heartbeat: tokio::task::JoinHandle<()>,
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
        let pk = key(policy);
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
        let heartbeat = tokio::spawn(heartbeat(team.clone(), pk.clone(), owner.id(), lease, interrupt));
        Ok(Self { team, pk, owner: owner.id(), heartbeat })
    }

    /// Stops the heartbeat and deletes the lease if it is still this owner's.
    pub async fn release(self) -> Result<()> {
        self.heartbeat.abort();
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

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Extends the lease every `lease / 3` until aborted; interrupts the run
/// when the lease is lost.
async fn heartbeat(team: TeamTable, pk: String, owner: String, lease: Duration, interrupt: Interrupt) {
    let period = lease / 3;
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(period).await;
        let result = team
            .client()
            .update_item()
            .table_name(team.name())
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S("lock".into()))
            .update_expression("SET expires_at = :expires")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", AttributeValue::S(owner.clone()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((now_ms() + millis(lease)).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => renewed = Instant::now(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                interrupt.raise(format!(
                    "lost the lock in DynamoDB table {}: another run took it over",
                    team.name()
                ));
                return;
            }
            Err(e) => {
                // Give up before the lease can lapse under a run still acting.
                if renewed.elapsed() + period >= lease {
                    interrupt.raise(format!("could not renew the lock: {}", team.sdk("UpdateItem", e)));
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
