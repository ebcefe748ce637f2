//! The scheduler against a fake clock (tokio's paused time: a day passes in
//! milliseconds) and a fake run that records when it started.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;
use skyglue_core::Config;

use super::clock::Clock;
use super::entry::Entry;
use super::scheduler::{Finished, LogFn, RunFn, Scheduler, jitter};
use super::state::StateFile;

/// Wall-clock time that follows tokio's (paused, auto-advancing) clock.
struct FakeClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl FakeClock {
    fn at(base: DateTime<Utc>) -> Arc<FakeClock> {
        Arc::new(FakeClock { base, start: tokio::time::Instant::now() })
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.start.elapsed()).unwrap_or_default()
    }

    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        let offset = (deadline - self.base).to_std().unwrap_or_default();
        tokio::time::sleep_until(self.start + offset).await;
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_default()
}

fn entry(cron: &str, tz: &str, jitter_seconds: u64) -> Arc<Entry> {
    let text = format!(
        "[[schedule]]\npolicy = \"/nowhere/p.sql\"\ncron = \"{cron}\"\ntimezone = \"{tz}\"\njitter_seconds = {jitter_seconds}\n"
    );
    let config = Config::parse(&text, "test").expect("valid entry");
    Arc::new(Entry::from_config(&config.schedule[0]).expect("entry"))
}

/// A fake run lasting `length`; records start times and the most runs at once.
#[derive(Default)]
struct Runs {
    starts: Mutex<Vec<DateTime<Utc>>>,
    ends: AtomicUsize,
    now_running: AtomicUsize,
    most_at_once: AtomicUsize,
}

impl Runs {
    fn run_fn(self: &Arc<Self>, clock: Arc<FakeClock>, length: Duration) -> RunFn {
        let runs = self.clone();
        Arc::new(move |_entry| {
            let (runs, clock) = (runs.clone(), clock.clone());
            Box::pin(async move {
                runs.starts.lock().unwrap().push(clock.now());
                let n = runs.now_running.fetch_add(1, Ordering::SeqCst) + 1;
                runs.most_at_once.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(length).await;
                runs.now_running.fetch_sub(1, Ordering::SeqCst);
                runs.ends.fetch_add(1, Ordering::SeqCst);
                Finished { exit_code: 0, summary: "dry_run ok planned=0 done=0 skipped=0 failed=0".into() }
            })
        })
    }

    fn starts(&self) -> Vec<DateTime<Utc>> {
        self.starts.lock().unwrap().clone()
    }
}

fn log() -> (LogFn, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    (Arc::new(move |l| sink.lock().unwrap().push(l)), lines)
}

/// Runs `entries` from `start` until the clock reaches `until`.
async fn run_between(
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    entries: Vec<Arc<Entry>>,
    length: Duration,
    state: Arc<StateFile>,
) -> (Arc<Runs>, Vec<String>) {
    let clock = FakeClock::at(start);
    let runs = Arc::new(Runs::default());
    let (log, lines) = log();
    let scheduler = Scheduler::new(clock.clone(), runs.run_fn(clock.clone(), length), state, log, 7);
    scheduler.run_until(entries, clock.sleep_until(until)).await;
    let lines = lines.lock().unwrap().clone();
    (runs, lines)
}

#[test]
fn five_field_fire_times() {
    let e = entry("0 3 * * *", "UTC", 0);
    let next: Vec<_> = e.upcoming(utc(2026, 11, 29, 12, 0), 3).iter().map(|t| t.to_rfc3339()).collect();
    assert_eq!(next, ["2026-11-30T03:00:00+00:00", "2026-12-01T03:00:00+00:00", "2026-12-02T03:00:00+00:00"]);
}

#[test]
fn six_field_fire_times_have_seconds() {
    let e = entry("30 */15 * * * *", "UTC", 0);
    let next: Vec<_> = e.upcoming(utc(2026, 11, 29, 12, 0), 3).iter().map(|t| t.to_rfc3339()).collect();
    assert_eq!(next, ["2026-11-29T12:00:30+00:00", "2026-11-29T12:15:30+00:00", "2026-11-29T12:30:30+00:00"]);
}

#[test]
fn time_zone_fire_times_follow_daylight_saving() {
    let e = entry("0 3 * * *", "Europe/Paris", 0);
    let utc_of = |from| e.next_after(from).map(|t| t.to_rfc3339()).unwrap_or_default();
    // 03:00 in Paris is 02:00Z in winter (CET) and 01:00Z in summer (CEST).
    assert_eq!(utc_of(utc(2026, 3, 27, 12, 0)), "2026-03-28T02:00:00+00:00");
    assert_eq!(utc_of(utc(2026, 3, 28, 12, 0)), "2026-03-29T01:00:00+00:00");
    assert_eq!(utc_of(utc(2026, 10, 24, 12, 0)), "2026-10-25T02:00:00+00:00");
    // 02:30 does not exist on the spring-forward day: it still fires once that day.
    let gap = entry("30 2 * * *", "Europe/Paris", 0);
    let day = gap.upcoming(utc(2026, 3, 28, 12, 0), 2);
    assert_eq!(day.len(), 2);
    assert_eq!(day[0].date_naive().to_string(), "2026-03-29");
    assert_eq!(day[1].date_naive().to_string(), "2026-03-30");
    // --list shows times in the entry's zone.
    let listed = super::list(&[e], utc(2026, 7, 1, 0, 0));
    assert!(listed.contains("2026-07-01T03:00:00+02:00"), "{listed}");
}

#[test]
fn jitter_stays_within_bounds_and_spreads() {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    let max = Duration::from_secs(300);
    let samples: Vec<_> = (0..2000).map(|_| jitter(&mut rng, max)).collect();
    assert!(samples.iter().all(|d| *d <= max));
    assert!(samples.iter().any(|d| d.as_secs() < 15) && samples.iter().any(|d| d.as_secs() > 285));
    assert_eq!(jitter(&mut rng, Duration::ZERO), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn runs_start_within_the_jitter_after_each_slot() {
    let start = utc(2026, 11, 29, 0, 0);
    let e = entry("0 * * * *", "UTC", 300);
    let (runs, _) = run_between(
        start,
        utc(2026, 11, 29, 10, 30),
        vec![e],
        Duration::from_secs(10),
        Arc::new(StateFile::in_memory()),
    )
    .await;
    let starts = runs.starts();
    assert_eq!(starts.len(), 10);
    for (i, s) in starts.iter().enumerate() {
        let slot = utc(2026, 11, 29, i as u32 + 1, 0);
        assert!(*s >= slot && *s <= slot + chrono::Duration::seconds(300), "run {i} at {s}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_slot_that_fires_during_a_run_is_skipped() {
    let start = utc(2026, 11, 29, 0, 0);
    let e = entry("* * * * *", "UTC", 0);
    let (runs, lines) = run_between(
        start,
        utc(2026, 11, 29, 0, 10) + chrono::Duration::seconds(30),
        vec![e],
        Duration::from_secs(150),
        Arc::new(StateFile::in_memory()),
    )
    .await;
    // Slots every minute, runs of 2.5 minutes: a run at 0:01, 0:04, 0:07, 0:10.
    let minutes: Vec<_> = runs.starts().iter().map(|t| t.format("%H:%M").to_string()).collect();
    assert_eq!(minutes, ["00:01", "00:04", "00:07", "00:10"]);
    assert_eq!(runs.most_at_once.load(Ordering::SeqCst), 1, "never two runs of one entry at once");
    let skipped = lines.iter().filter(|l| l.ends_with("p skipped: previous run still going")).count();
    assert_eq!(skipped, 6, "{lines:#?}");
}

#[tokio::test(start_paused = true)]
async fn after_a_gap_exactly_one_catch_up_run() {
    let state = Arc::new(StateFile::in_memory());
    let e = entry("0 3 * * *", "UTC", 0);
    state.update(&e.key, |s| s.last_slot = Some(utc(2026, 11, 1, 3, 0))).unwrap();
    // Down for four weeks; back at noon on the 29th, then two more days.
    let start = utc(2026, 11, 29, 12, 0);
    let (runs, lines) =
        run_between(start, utc(2026, 12, 1, 12, 0), vec![e.clone()], Duration::from_secs(60), state.clone())
            .await;
    assert_eq!(runs.starts(), [start, utc(2026, 11, 30, 3, 0), utc(2026, 12, 1, 3, 0)]);
    assert_eq!(
        lines.iter().filter(|l| l.contains("catching up the run due at 2026-11-29T03:00:00Z")).count(),
        1
    );
    assert_eq!(state.get(&e.key).last_slot, Some(utc(2026, 12, 1, 3, 0)));
    assert_eq!(state.get(&e.key).last_exit_code, Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_first_start_does_not_catch_up() {
    let start = utc(2026, 11, 29, 12, 0);
    let (runs, _) = run_between(
        start,
        utc(2026, 11, 30, 4, 0),
        vec![entry("0 3 * * *", "UTC", 0)],
        Duration::from_secs(60),
        Arc::new(StateFile::in_memory()),
    )
    .await;
    assert_eq!(runs.starts(), [utc(2026, 11, 30, 3, 0)]);
}

#[tokio::test(start_paused = true)]
async fn a_stop_lets_the_run_in_progress_finish_and_starts_nothing() {
    let start = utc(2026, 11, 29, 2, 59);
    let e = entry("* * * * *", "UTC", 0);
    // Runs of 4 minutes; stop at 3:02:30, mid-run.
    let stop_at = utc(2026, 11, 29, 3, 2) + chrono::Duration::seconds(30);
    let (runs, lines) =
        run_between(start, stop_at, vec![e], Duration::from_secs(240), Arc::new(StateFile::in_memory()))
            .await;
    assert_eq!(runs.starts(), [utc(2026, 11, 29, 3, 0)]);
    assert_eq!(runs.ends.load(Ordering::SeqCst), 1, "the run in progress finished: {lines:#?}");
    assert!(lines.iter().any(|l| l.contains("waiting up to 120s for 1 run(s)")), "{lines:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_stop_waits_no_longer_than_the_grace_period() {
    let clock = FakeClock::at(utc(2026, 11, 29, 2, 59));
    let runs = Arc::new(Runs::default());
    let (log, lines) = log();
    let run = runs.run_fn(clock.clone(), Duration::from_secs(3600));
    let scheduler = Scheduler::new(clock.clone(), run, Arc::new(StateFile::in_memory()), log, 7);
    let stop_at = utc(2026, 11, 29, 3, 5);
    scheduler.run_until(vec![entry("* * * * *", "UTC", 0)], clock.sleep_until(stop_at)).await;
    assert_eq!(clock.now(), stop_at + chrono::Duration::seconds(120));
    assert_eq!(runs.ends.load(Ordering::SeqCst), 0);
    assert!(lines.lock().unwrap().iter().any(|l| l.contains("stopping with runs unfinished")));
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_jitter_wait_starts_nothing() {
    let start = utc(2026, 11, 29, 2, 59);
    let e = entry("0 3 * * *", "UTC", 3600);
    // The slot fires at 3:00; its jitter (seed 7) is longer than a second; stop at 3:00:01.
    let first_jitter = jitter(&mut rand::rngs::SmallRng::seed_from_u64(7), Duration::from_secs(3600));
    assert!(first_jitter > Duration::from_secs(1), "{first_jitter:?}");
    let clock = FakeClock::at(start);
    let runs = Arc::new(Runs::default());
    let (log, lines) = log();
    let scheduler = Scheduler::new(
        clock.clone(),
        runs.run_fn(clock.clone(), Duration::ZERO),
        Arc::new(StateFile::in_memory()),
        log,
        7,
    );
    let stop_at = utc(2026, 11, 29, 3, 0) + chrono::Duration::seconds(1);
    scheduler.run_until(vec![e], clock.sleep_until(stop_at)).await;
    let lines = lines.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.contains("not started: the scheduler is stopping")), "{lines:#?}");
    assert!(runs.starts().is_empty());
}

#[tokio::test(start_paused = true)]
async fn once_runs_each_entry_in_turn_and_returns_the_worst_code() {
    let clock = FakeClock::at(utc(2026, 11, 29, 12, 0));
    let codes = Arc::new(Mutex::new(vec![0u8, 2, 1]));
    let run: RunFn = {
        let codes = codes.clone();
        Arc::new(move |_| {
            let code = codes.lock().unwrap().remove(0);
            Box::pin(async move { Finished { exit_code: code, summary: format!("exit {code}") } })
        })
    };
    let (log, lines) = log();
    let entries =
        vec![entry("0 3 * * *", "UTC", 0), entry("0 4 * * *", "UTC", 0), entry("0 5 * * *", "UTC", 0)];
    assert_eq!(super::once(&*clock, &run, &log, &entries).await, 2);
    let lines = lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].ends_with(" p exit 2"), "{lines:#?}");
}

#[tokio::test(start_paused = true)]
async fn once_goes_on_after_a_run_that_panics() {
    let clock = FakeClock::at(utc(2026, 11, 29, 12, 0));
    let calls = Arc::new(AtomicUsize::new(0));
    let run: RunFn = {
        let calls = calls.clone();
        Arc::new(move |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    panic!("injected panic in the first run");
                }
                Finished { exit_code: 0, summary: "ok".into() }
            })
        })
    };
    let (log, lines) = log();
    let entries = vec![entry("0 3 * * *", "UTC", 0), entry("0 4 * * *", "UTC", 0)];
    assert_eq!(super::once(&*clock, &run, &log, &entries).await, 1, "the panicked run is exit 1");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the second entry still ran");
    let lines = lines.lock().unwrap().clone();
    assert!(lines[0].contains("injected panic in the first run"), "{lines:#?}");
    assert!(lines[1].ends_with(" p ok"), "{lines:#?}");
}
