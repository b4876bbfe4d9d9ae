//! A connection's rate limiter: keeps its requests inside the provider's documented budget
//! (the catalogue's `RateLimits`, or the connection's override), so the app does not cause the
//! 429 in the first place.
//!
//! - **Per second / per minute:** sliding-window logs. A request goes when fewer than N went in
//!   the last window; otherwise [`Limiter::acquire`] waits (async) until the oldest leaves it.
//!   Unlike a token bucket this holds for *every* window, not just on average.
//! - **Concurrent:** a semaphore; the [`Permit`] holds a slot until the answer is read.
//! - **Per day:** counted per UTC hour in a [`DailyLedger`] (the app persists it, so it
//!   survives restarts and is shared with the CLI). When it is spent, requests fail at once
//!   with a retryable `rate_limited` error that says when it resets: at 00:00 UTC
//!   ([`DailyReset::UtcMidnight`]) or as the oldest counted hour leaves a rolling 24 hours
//!   ([`DailyReset::Rolling24h`], counted conservatively: any hour touching the window counts).
//!
//! The windows and waits use tokio's clock (tests pause and advance it); the daily count uses
//! an injectable wall [`Clock`] (UTC).

use crate::{ProviderError, ProviderErrorKind};
use async_trait::async_trait;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use switchboard_core::catalogue::{DailyReset, RateLimits};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Duration, Instant};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Wall-clock time, injectable so tests control days and cool-downs.
pub trait Clock: Send + Sync {
    /// Now, in unix milliseconds (UTC).
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn new(now_ms: i64) -> Self {
        FakeClock(AtomicI64::new(now_ms))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(
            i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
    }

    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Requests counted against a daily budget, and the oldest UTC hour holding any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyUsage {
    pub used: u32,
    /// Unix seconds of the oldest counted hour's start.
    pub oldest_hour: Option<i64>,
}

/// Where the daily count lives. The app's implementation is a store table; failures there are
/// the implementation's to log (the limiter then lets the request go: a local database problem
/// is not the provider's budget).
#[async_trait]
pub trait DailyLedger: Send + Sync {
    /// Counts one request in `hour` if fewer than `limit` are counted from `since_hour` on.
    /// `Ok(usage after)` when counted, `Err(usage)` when the budget is spent.
    async fn take(&self, hour: i64, since_hour: i64, limit: u32) -> Result<DailyUsage, DailyUsage>;

    /// Requests counted from `since_hour` on.
    async fn usage(&self, since_hour: i64) -> DailyUsage;
}

/// A ledger in memory (tests; connections without a store).
#[derive(Debug, Default)]
pub struct MemoryLedger(Mutex<BTreeMap<i64, u32>>);

impl MemoryLedger {
    fn count(map: &BTreeMap<i64, u32>, since_hour: i64) -> DailyUsage {
        let mut usage = DailyUsage::default();
        for (hour, n) in map.range(since_hour..).filter(|(_, n)| **n > 0) {
            usage.used += n;
            usage.oldest_hour.get_or_insert(*hour);
        }
        usage
    }
}

#[async_trait]
impl DailyLedger for MemoryLedger {
    async fn take(&self, hour: i64, since_hour: i64, limit: u32) -> Result<DailyUsage, DailyUsage> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let before = Self::count(&map, since_hour);
        if before.used >= limit {
            return Err(before);
        }
        *map.entry(hour).or_default() += 1;
        Ok(Self::count(&map, since_hour))
    }

    async fn usage(&self, since_hour: i64) -> DailyUsage {
        Self::count(
            &self.0.lock().unwrap_or_else(|e| e.into_inner()),
            since_hour,
        )
    }
}

/// Where a daily budget stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyStatus {
    pub limit: u32,
    pub used: u32,
    pub left: u32,
    /// When the count next goes down (unix seconds); `None` when nothing is counted.
    pub resets_at: Option<i64>,
}

/// The window a daily count covers at `now_s`: (the current hour, the first hour counted).
pub fn daily_window(reset: DailyReset, now_s: i64) -> (i64, i64) {
    let hour = now_s - now_s.rem_euclid(HOUR);
    let since = match reset {
        DailyReset::UtcMidnight => now_s - now_s.rem_euclid(DAY),
        // Every hour that overlaps the last 24 h.
        DailyReset::Rolling24h => hour - DAY,
    };
    (hour, since)
}

/// When a daily count next goes down (unix seconds).
pub fn daily_resets_at(reset: DailyReset, now_s: i64, usage: &DailyUsage) -> Option<i64> {
    let (_, since) = daily_window(reset, now_s);
    match reset {
        DailyReset::UtcMidnight => usage.oldest_hour.map(|_| since + DAY),
        DailyReset::Rolling24h => usage.oldest_hour.map(|h| h + HOUR + DAY),
    }
}

/// Held while a request is under way (it keeps a concurrency slot).
#[derive(Debug)]
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

#[derive(Debug, Default)]
struct Windows {
    second: VecDeque<Instant>,
    minute: VecDeque<Instant>,
}

/// How long until a window of `len` holding `log` admits one more (of at most `limit`).
fn window_wait(log: &mut VecDeque<Instant>, limit: u32, len: Duration, now: Instant) -> Duration {
    while log.front().is_some_and(|t| now.duration_since(*t) >= len) {
        log.pop_front();
    }
    if (log.len() as u64) < u64::from(limit.max(1)) {
        return Duration::ZERO;
    }
    // The oldest of the last `limit` requests must leave the window.
    let oldest = log[log.len() - limit.max(1) as usize];
    (oldest + len).saturating_duration_since(now)
}

pub struct Limiter {
    provider: String,
    limits: RateLimits,
    daily_reset: DailyReset,
    windows: Mutex<Windows>,
    slots: Option<Arc<Semaphore>>,
    ledger: Arc<dyn DailyLedger>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("provider", &self.provider)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Limiter {
    /// A limiter for one connection to `provider` (its display name, for messages).
    pub fn new(
        provider: &str,
        limits: RateLimits,
        daily_reset: DailyReset,
        ledger: Arc<dyn DailyLedger>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Limiter {
            provider: provider.to_string(),
            limits,
            daily_reset,
            windows: Mutex::default(),
            slots: limits
                .concurrent
                .map(|n| Arc::new(Semaphore::new(n.max(1) as usize))),
            ledger,
            clock,
        }
    }

    /// No limits, counted nowhere.
    pub fn unlimited(provider: &str) -> Self {
        Self::new(
            provider,
            RateLimits::NONE,
            DailyReset::Rolling24h,
            Arc::new(MemoryLedger::default()),
            Arc::new(SystemClock),
        )
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Waits until a request may go, then counts it. Fails at once (retryable `rate_limited`,
    /// with `retry_after_secs`) when the daily budget is spent.
    pub async fn acquire(&self) -> Result<Permit, ProviderError> {
        // The daily budget first: a spent one must not wait for anything.
        if let Some(limit) = self.limits.per_day {
            let now_s = self.clock.now_ms().div_euclid(1000);
            let (hour, since) = daily_window(self.daily_reset, now_s);
            if let Err(usage) = self.ledger.take(hour, since, limit).await {
                return Err(self.daily_spent(limit, now_s, &usage));
            }
        }
        let slot = match &self.slots {
            Some(s) => Some(
                s.clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            None => None,
        };
        if self.limits.per_second.is_some() || self.limits.per_minute.is_some() {
            loop {
                let wait = {
                    let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
                    let now = Instant::now();
                    let mut wait = Duration::ZERO;
                    if let Some(n) = self.limits.per_second {
                        wait = wait.max(window_wait(&mut w.second, n, Duration::from_secs(1), now));
                    }
                    if let Some(n) = self.limits.per_minute {
                        wait =
                            wait.max(window_wait(&mut w.minute, n, Duration::from_secs(60), now));
                    }
                    if wait.is_zero() {
                        if self.limits.per_second.is_some() {
                            w.second.push_back(now);
                        }
                        if self.limits.per_minute.is_some() {
                            w.minute.push_back(now);
                        }
                    }
                    wait
                };
                if wait.is_zero() {
                    break;
                }
                tracing::debug!(wait_ms = wait.as_millis() as u64, provider = %self.provider, "rate budget: waiting");
                tokio::time::sleep(wait).await;
            }
        }
        Ok(Permit { _slot: slot })
    }

    /// Where the daily budget stands; `None` without one.
    pub async fn daily_status(&self) -> Option<DailyStatus> {
        let limit = self.limits.per_day?;
        let now_s = self.clock.now_ms().div_euclid(1000);
        let (_, since) = daily_window(self.daily_reset, now_s);
        let usage = self.ledger.usage(since).await;
        Some(DailyStatus {
            limit,
            used: usage.used,
            left: limit.saturating_sub(usage.used),
            resets_at: daily_resets_at(self.daily_reset, now_s, &usage),
        })
    }

    fn daily_spent(&self, limit: u32, now_s: i64, usage: &DailyUsage) -> ProviderError {
        let resets_at = daily_resets_at(self.daily_reset, now_s, usage).unwrap_or(now_s + HOUR);
        let at = switchboard_core::unix_to_rfc3339(resets_at);
        let hhmm = at.get(11..16).unwrap_or(&at);
        let message = match self.daily_reset {
            DailyReset::UtcMidnight => format!(
                "The daily request budget for {} ({limit} requests, reset at 00:00 UTC) is spent, so \
                 Switchboard stopped before {} refused it. It continues after {hhmm} UTC ({at}).",
                self.provider, self.provider
            ),
            DailyReset::Rolling24h => format!(
                "The request budget for {} ({limit} requests in any 24 hours, a rolling window) is \
                 spent, so Switchboard stopped before {} refused it. Requests resume from {hhmm} UTC \
                 ({at}), as the oldest ones leave the window.",
                self.provider, self.provider
            ),
        };
        let mut e = ProviderError::new(ProviderErrorKind::RateLimited, message);
        e.retry_after_secs = Some(u64::try_from((resets_at - now_s).max(1)).unwrap_or(u64::MAX));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limits: RateLimits, reset: DailyReset, clock: Arc<FakeClock>) -> Limiter {
        Limiter::new(
            "Xero",
            limits,
            reset,
            Arc::new(MemoryLedger::default()),
            clock,
        )
    }

    const fn limits(
        per_second: Option<u32>,
        per_minute: Option<u32>,
        per_day: Option<u32>,
        concurrent: Option<u32>,
    ) -> RateLimits {
        RateLimits {
            per_second,
            per_minute,
            per_day,
            concurrent,
        }
    }

    /// The largest number of `times` inside any window of length `len`.
    fn max_in_window(times: &[Instant], len: Duration) -> usize {
        let mut best = 0;
        for (i, start) in times.iter().enumerate() {
            let n = times[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < len)
                .count();
            best = best.max(n);
        }
        best
    }

    #[tokio::test(start_paused = true)]
    async fn per_second_and_per_minute_windows_hold_for_every_window() {
        let l = limiter(
            limits(Some(5), Some(12), None, None),
            DailyReset::Rolling24h,
            Arc::new(FakeClock::new(0)),
        );
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..30 {
            let _p = l.acquire().await.unwrap();
            times.push(Instant::now());
        }
        assert!(max_in_window(&times, Duration::from_secs(1)) <= 5);
        assert!(max_in_window(&times, Duration::from_secs(60)) <= 12);
        // The first 5 go at once; 12 a minute means the 30th waits out two minutes (it goes
        // at 121 s: 12 went at 0–2 s, 12 at 60–62 s, 5 at 120 s).
        assert_eq!(times[4], start);
        assert_eq!(times[5], start + Duration::from_secs(1));
        assert_eq!(times[29], start + Duration::from_secs(121));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_slots_wait_for_a_release() {
        let l = Arc::new(limiter(
            limits(None, None, None, Some(2)),
            DailyReset::Rolling24h,
            Arc::new(FakeClock::new(0)),
        ));
        let a = l.acquire().await.unwrap();
        let _b = l.acquire().await.unwrap();
        let third = tokio::spawn({
            let l = l.clone();
            async move { l.acquire().await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        drop(a);
        third.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_utc_day_fails_fast_until_midnight() {
        // 2024-05-01T22:30:00Z
        let clock = Arc::new(FakeClock::new(1_714_602_600_000));
        let l = limiter(
            limits(None, None, Some(3), None),
            DailyReset::UtcMidnight,
            clock.clone(),
        );
        for _ in 0..3 {
            l.acquire().await.unwrap();
        }
        let e = l.acquire().await.unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::RateLimited);
        assert!(e.message.contains("00:00 UTC"), "{}", e.message);
        assert!(e.message.contains("2024-05-02T00:00:00Z"), "{}", e.message);
        assert_eq!(e.retry_after_secs, Some(90 * 60));
        assert_eq!(
            crate::error::ProviderError::code(&e),
            switchboard_core::ErrorCode::RateLimited
        );
        let status = l.daily_status().await.unwrap();
        assert_eq!((status.used, status.left), (3, 0));
        // A new UTC day: the budget is back.
        clock.advance(Duration::from_secs(90 * 60));
        l.acquire().await.unwrap();
        assert_eq!(l.daily_status().await.unwrap().left, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rolling_day_frees_the_oldest_hour_after_24_hours() {
        let t0 = 1_714_600_800_000; // 2024-05-01T22:00:00Z, on the hour
        let clock = Arc::new(FakeClock::new(t0));
        let l = limiter(
            limits(None, None, Some(2), None),
            DailyReset::Rolling24h,
            clock.clone(),
        );
        l.acquire().await.unwrap();
        clock.advance(Duration::from_secs(5 * 3600));
        l.acquire().await.unwrap();
        // Midnight passed, but a rolling window does not care.
        let e = l.acquire().await.unwrap_err();
        assert!(e.message.contains("rolling"), "{}", e.message);
        assert!(e.message.contains("23:00 UTC"), "{}", e.message);
        // The first request's hour leaves the window 25 h after it began.
        clock.set(t0 + 25 * 3600 * 1000 - 1000);
        assert!(l.acquire().await.is_err());
        clock.set(t0 + 25 * 3600 * 1000);
        l.acquire().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let l = Limiter::unlimited("Stripe");
        let start = Instant::now();
        for _ in 0..1000 {
            l.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), start);
        assert!(l.daily_status().await.is_none());
    }
}
