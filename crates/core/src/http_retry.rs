//! When an HTTP API request is retried, and how long skyglue waits first:
//! the rules GitHub documents, which most REST APIs share (the GitHub tables
//! and declared REST tables both use them).
//!
//! GitHub's rules (research/api-limits.md, A3): a rate-limited answer is 403 or
//! 429; honour `retry-after`; if `x-ratelimit-remaining` is 0, wait until
//! `x-ratelimit-reset`; otherwise (a secondary limit that says nothing) wait at
//! least a minute and back off exponentially. Server errors and transport
//! failures are retried with exponential backoff. Everything here is a pure
//! function of the answer, so it is tested without a server or a clock; the
//! loop that follows these rules is [`crate::http_client::Retrier`].

use std::time::Duration;

/// How hard an HTTP table tries before a query fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The wait before the first retry of a server error or transport
    /// failure; it doubles on each further retry.
    pub first_backoff: Duration,
    /// The wait before retrying a secondary rate limit that names no time
    /// (GitHub asks for at least a minute); it doubles on each further retry.
    pub secondary_wait: Duration,
    /// The longest rate-limit wait skyglue accepts: a limit that resets later
    /// fails the query at once, saying when it resets, rather than hanging.
    pub max_wait: Duration,
    /// How long one request may take, its answer read to the end: a server
    /// that accepts the connection and never answers fails the request (and
    /// is retried as a dropped connection) instead of hanging the scan.
    pub request_timeout: Duration,
    /// Whether a request that may have arrived but brought no whole answer
    /// (it broke off, or none came in time) is sent again: yes for reads,
    /// which are safe to repeat; no for a message, where a duplicate is worse
    /// than a late error. A request that never connected is retried either way.
    pub retry_unanswered: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_millis(500),
            secondary_wait: Duration::from_secs(60),
            max_wait: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            retry_unanswered: true,
        }
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `retry-after`, in seconds.
    pub retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, in epoch seconds.
    pub reset: Option<i64>,
}

impl RateHeaders {
    /// The rate-limit headers of an answer (absent or unreadable ones are `None`).
    pub fn read(headers: &http::HeaderMap) -> Self {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let reset = headers.get("x-ratelimit-reset").and_then(|v| v.to_str().ok()?.trim().parse().ok());
        RateHeaders { retry_after: number("retry-after"), remaining: number("x-ratelimit-remaining"), reset }
    }

    /// How long until the primary limit refills, when this answer spent it.
    pub fn exhausted_for(&self, now_epoch: i64) -> Option<Duration> {
        match (self.remaining, self.reset) {
            (Some(0), Some(reset)) => Some(secs(reset.saturating_sub(now_epoch).max(1))),
            _ => None,
        }
    }
}

/// What to do with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the answer to the caller (success, "not found", or a failure
    /// that a retry cannot fix).
    Done,
    /// Wait for a rate limit, then retry.
    Throttled(Duration),
    /// Back off after a transient failure, then retry.
    Backoff(Duration),
    /// Rate limited for longer than the policy waits.
    TooLong(Duration),
}

/// Decides about attempt `attempt` (1-based). `status` is `None` when no
/// answer arrived (a transport failure); `secondary` says the body mentions
/// a secondary rate limit.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    status: Option<u16>,
    headers: &RateHeaders,
    secondary: bool,
    now_epoch: i64,
) -> Verdict {
    let last = attempt >= policy.max_attempts;
    let doubling = |first: Duration| first.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let wait = match status {
        None => return if last { Verdict::Done } else { Verdict::Backoff(doubling(policy.first_backoff)) },
        Some(s) if s >= 500 => {
            return if last { Verdict::Done } else { Verdict::Backoff(doubling(policy.first_backoff)) };
        }
        Some(403 | 429) => match (headers.retry_after, headers.exhausted_for(now_epoch)) {
            (Some(after), _) => secs(after.max(1) as i64),
            (None, Some(until_reset)) => until_reset,
            // A bare 403 is a real "forbidden" unless GitHub says otherwise.
            (None, None) if status == Some(429) || secondary => doubling(policy.secondary_wait),
            (None, None) => return Verdict::Done,
        },
        Some(_) => return Verdict::Done,
    };
    if wait > policy.max_wait {
        Verdict::TooLong(wait)
    } else if last {
        Verdict::Done
    } else {
        Verdict::Throttled(wait)
    }
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn policy() -> RetryPolicy {
        RetryPolicy { max_attempts: 3, ..RetryPolicy::default() }
    }

    fn rate(retry_after: Option<u64>, remaining: Option<u64>, reset: Option<i64>) -> RateHeaders {
        RateHeaders { retry_after, remaining, reset }
    }

    #[test]
    fn retry_after_comes_first() {
        let h = rate(Some(7), Some(0), Some(NOW + 100));
        assert_eq!(decide(&policy(), 1, Some(403), &h, false, NOW), Verdict::Throttled(secs(7)));
        assert_eq!(decide(&policy(), 1, Some(429), &h, false, NOW), Verdict::Throttled(secs(7)));
    }

    #[test]
    fn a_spent_primary_limit_waits_for_the_reset() {
        let h = rate(None, Some(0), Some(NOW + 42));
        assert_eq!(decide(&policy(), 1, Some(403), &h, false, NOW), Verdict::Throttled(secs(42)));
        // A reset already past still waits a moment rather than spinning.
        let h = rate(None, Some(0), Some(NOW - 5));
        assert_eq!(decide(&policy(), 1, Some(403), &h, false, NOW), Verdict::Throttled(secs(1)));
    }

    #[test]
    fn secondary_limits_wait_a_minute_then_back_off() {
        let none = RateHeaders::default();
        assert_eq!(decide(&policy(), 1, Some(429), &none, false, NOW), Verdict::Throttled(secs(60)));
        assert_eq!(decide(&policy(), 1, Some(403), &none, true, NOW), Verdict::Throttled(secs(60)));
        let long = RetryPolicy { max_wait: secs(1000), ..policy() };
        assert_eq!(decide(&long, 2, Some(403), &none, true, NOW), Verdict::Throttled(secs(120)));
    }

    #[test]
    fn a_bare_forbidden_is_not_retried() {
        let h = rate(None, Some(4000), Some(NOW + 100));
        assert_eq!(decide(&policy(), 1, Some(403), &h, false, NOW), Verdict::Done);
    }

    #[test]
    fn waits_past_the_limit_fail_at_once() {
        let h = rate(None, Some(0), Some(NOW + 3600));
        assert_eq!(decide(&policy(), 1, Some(403), &h, false, NOW), Verdict::TooLong(secs(3600)));
    }

    #[test]
    fn server_errors_back_off_exponentially_then_give_up() {
        let p = policy();
        let none = RateHeaders::default();
        assert_eq!(decide(&p, 1, Some(502), &none, false, NOW), Verdict::Backoff(Duration::from_millis(500)));
        assert_eq!(decide(&p, 2, None, &none, false, NOW), Verdict::Backoff(Duration::from_millis(1000)));
        assert_eq!(decide(&p, 3, Some(500), &none, false, NOW), Verdict::Done);
    }

    #[test]
    fn answers_are_done() {
        let none = RateHeaders::default();
        for status in [200, 404, 409, 422, 401] {
            assert_eq!(decide(&policy(), 1, Some(status), &none, false, NOW), Verdict::Done, "{status}");
        }
    }
}
