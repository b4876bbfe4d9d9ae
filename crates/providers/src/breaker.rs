//! A connection's circuit breaker, so a dead provider is not hammered.
//!
//! - **Closed:** requests flow. Each *transient provider failure* — an answer of 5xx, or no
//!   whole answer at all (connect failure, timeout, reset mid-body) — adds to a count of
//!   failures in a row; any other answer resets it. At `failure_threshold` the circuit opens.
//! - **Open:** requests fail at once with `circuit_open` (retryable; the message says when the
//!   next try is) and never reach the provider, until the cool-down has passed.
//! - **Half-open:** the first request after the cool-down is a trial; others still fail fast
//!   while it is under way. If it gets an answer the circuit closes; if it fails the circuit
//!   opens again with the cool-down doubled (up to `max_cool_down`).
//!
//! Not counted as failures: 429 (the provider is alive and asked us to slow down; the limiter
//! and `Retry-After` deal with it, and opening on it would hide that signal), 4xx such as a
//! revoked key (the provider answered; the user must act, a pause would not help), and an
//! unreadable 200 (the provider answered; the page fails and is retried by the engine).
//!
//! State changes go to a [`BreakerStore`] (the app persists them, so the CLI and the UI see the
//! app's breaker and a restart keeps an open circuit open). Time is an injectable [`Clock`].

use crate::limiter::Clock;
use crate::{ProviderError, ProviderErrorKind};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use switchboard_core::views::CircuitState;

/// Thresholds of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Transient failures in a row that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses requests before a trial.
    pub cool_down: Duration,
    /// The longest cool-down after failed trials in a row (each doubles it).
    pub max_cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
            max_cool_down: Duration::from_secs(15 * 60),
        }
    }
}

/// A breaker's state, as persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerState {
    pub circuit: CircuitState,
    pub consecutive_failures: u32,
    /// Opens in a row (the cool-down doubles with each); 0 once closed.
    pub trips: u32,
    /// While open: unix milliseconds (UTC) of the next trial.
    pub open_until_ms: Option<i64>,
}

impl Default for BreakerState {
    fn default() -> Self {
        BreakerState {
            circuit: CircuitState::Closed,
            consecutive_failures: 0,
            trips: 0,
            open_until_ms: None,
        }
    }
}

/// Where state changes go.
#[async_trait]
pub trait BreakerStore: Send + Sync {
    async fn save(&self, state: BreakerState);
}

/// How a request went, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider answered (anything but a 5xx).
    Answered,
    /// A 5xx, or no whole answer (connect failure, timeout, reset).
    Failed,
}

impl Outcome {
    /// The outcome of an HTTP exchange: `Some(status)` when a whole answer came.
    pub fn of(status: Option<u16>) -> Outcome {
        match status {
            Some(s) if s < 500 => Outcome::Answered,
            _ => Outcome::Failed,
        }
    }
}

struct Inner {
    state: BreakerState,
    trial_under_way: bool,
}

pub struct Breaker {
    provider: String,
    config: BreakerConfig,
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn BreakerStore>>,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("provider", &self.provider)
            .field("state", &self.state())
            .finish()
    }
}

/// Leave to send one request. Hand it back with [`Breaker::record`]; a trial dropped without
/// an outcome (the request was cancelled) lets the next request be the trial.
#[must_use]
pub struct Ticket<'a> {
    breaker: &'a Breaker,
    trial: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.trial {
            self.breaker.lock().trial_under_way = false;
        }
    }
}

impl Breaker {
    pub fn new(
        provider: &str,
        config: BreakerConfig,
        initial: BreakerState,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn BreakerStore>>,
    ) -> Self {
        Breaker {
            provider: provider.to_string(),
            config,
            inner: Mutex::new(Inner {
                state: initial,
                trial_under_way: false,
            }),
            clock,
            store,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        self.lock().state
    }

    /// Takes the persisted state (another process may have changed it).
    pub fn restore(&self, state: BreakerState) {
        self.lock().state = state;
    }

    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    /// Lets a request go, or refuses it at once while the circuit is open.
    pub async fn admit(&self) -> Result<Ticket<'_>, ProviderError> {
        let now = self.clock.now_ms();
        let (ticket, changed) = {
            let mut inner = self.lock();
            match inner.state.circuit {
                CircuitState::Closed => (Ok(false), None),
                CircuitState::Open => {
                    let until = inner.state.open_until_ms.unwrap_or(now);
                    if now >= until {
                        inner.state.circuit = CircuitState::HalfOpen;
                        inner.trial_under_way = true;
                        (Ok(true), Some(inner.state))
                    } else {
                        (Err(self.open_error(&inner.state, until, now)), None)
                    }
                }
                CircuitState::HalfOpen if inner.trial_under_way => {
                    (Err(self.trial_error(now)), None)
                }
                CircuitState::HalfOpen => {
                    inner.trial_under_way = true;
                    (Ok(true), None)
                }
            }
        };
        if let Some(state) = changed {
            self.save(state).await;
        }
        ticket.map(|trial| Ticket {
            breaker: self,
            trial,
        })
    }

    /// Records how the request went.
    pub async fn record(&self, mut ticket: Ticket<'_>, outcome: Outcome) {
        let now = self.clock.now_ms();
        let changed = {
            let mut inner = self.lock();
            if ticket.trial {
                inner.trial_under_way = false;
                ticket.trial = false;
            }
            let before = inner.state;
            let s = &mut inner.state;
            match outcome {
                Outcome::Answered => *s = BreakerState::default(),
                Outcome::Failed => {
                    s.consecutive_failures = s.consecutive_failures.saturating_add(1);
                    let trial_failed = s.circuit == CircuitState::HalfOpen;
                    if trial_failed
                        || (s.circuit == CircuitState::Closed
                            && s.consecutive_failures >= self.config.failure_threshold)
                    {
                        s.trips = s.trips.saturating_add(1);
                        let cool = self
                            .config
                            .cool_down
                            .saturating_mul(2u32.saturating_pow(s.trips - 1))
                            .min(self.config.max_cool_down.max(self.config.cool_down));
                        s.circuit = CircuitState::Open;
                        s.open_until_ms =
                            Some(now + i64::try_from(cool.as_millis()).unwrap_or(i64::MAX));
                        tracing::info!(
                            provider = %self.provider,
                            failures = s.consecutive_failures,
                            cool_down_s = cool.as_secs(),
                            "circuit opened"
                        );
                    }
                }
            }
            (inner.state != before).then_some(inner.state)
        };
        if let Some(state) = changed {
            self.save(state).await;
        }
    }

    async fn save(&self, state: BreakerState) {
        if let Some(store) = &self.store {
            store.save(state).await;
        }
    }

    fn open_error(&self, state: &BreakerState, until_ms: i64, now_ms: i64) -> ProviderError {
        // Rounded up to the second, so "at" is never before the trial is allowed.
        let at = switchboard_core::unix_to_rfc3339((until_ms + 999).div_euclid(1000));
        let hhmm = at.get(11..19).unwrap_or(&at).to_string();
        let mut e = ProviderError::new(
            ProviderErrorKind::CircuitOpen,
            format!(
                "Requests to {} are paused: it failed {} times in a row (server errors or no \
                 answer). Switchboard tries again at {hhmm} UTC ({at}).",
                self.provider, state.consecutive_failures
            ),
        );
        e.retry_after_secs =
            Some(u64::try_from(((until_ms - now_ms).max(0) + 999) / 1000).unwrap_or(u64::MAX));
        e
    }

    fn trial_error(&self, _now_ms: i64) -> ProviderError {
        let mut e = ProviderError::new(
            ProviderErrorKind::CircuitOpen,
            format!(
                "Requests to {} are paused while a trial request checks whether it has recovered. \
                 Try again in a moment.",
                self.provider
            ),
        );
        e.retry_after_secs = Some(1);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::FakeClock;

    #[derive(Default)]
    struct Saved(Mutex<Vec<BreakerState>>);

    #[async_trait]
    impl BreakerStore for Saved {
        async fn save(&self, state: BreakerState) {
            self.0.lock().unwrap().push(state);
        }
    }

    const CONFIG: BreakerConfig = BreakerConfig {
        failure_threshold: 3,
        cool_down: Duration::from_secs(10),
        max_cool_down: Duration::from_secs(25),
    };

    fn breaker() -> (Breaker, Arc<FakeClock>, Arc<Saved>) {
        let clock = Arc::new(FakeClock::new(1_000_000));
        let saved = Arc::new(Saved::default());
        let b = Breaker::new(
            "Stripe",
            CONFIG,
            BreakerState::default(),
            clock.clone(),
            Some(saved.clone()),
        );
        (b, clock, saved)
    }

    async fn send(b: &Breaker, outcome: Outcome) -> Result<(), ProviderError> {
        let t = b.admit().await?;
        b.record(t, outcome).await;
        Ok(())
    }

    #[tokio::test]
    async fn opens_after_the_threshold_and_fails_fast() {
        let (b, _clock, saved) = breaker();
        send(&b, Outcome::Failed).await.unwrap();
        send(&b, Outcome::Failed).await.unwrap();
        // An answer in between resets the count.
        send(&b, Outcome::Answered).await.unwrap();
        for _ in 0..3 {
            send(&b, Outcome::Failed).await.unwrap();
        }
        let s = b.state();
        assert_eq!(s.circuit, CircuitState::Open);
        assert_eq!(s.open_until_ms, Some(1_010_000));
        assert_eq!(saved.0.lock().unwrap().last(), Some(&s));
        let e = b.admit().await.err().unwrap();
        assert_eq!(e.kind, ProviderErrorKind::CircuitOpen);
        assert!(
            !e.is_transient(),
            "the engine must not retry an open circuit"
        );
        assert_eq!(e.retry_after_secs, Some(10));
        assert!(
            e.message.contains("failed 3 times in a row"),
            "{}",
            e.message
        );
        let c = switchboard_core::CommandError::from(e);
        assert_eq!(c.code, switchboard_core::ErrorCode::CircuitOpen);
        assert!(c.retryable);
    }

    #[tokio::test]
    async fn half_opens_after_the_cool_down_and_closes_on_an_answer() {
        let (b, clock, _) = breaker();
        for _ in 0..3 {
            send(&b, Outcome::Failed).await.unwrap();
        }
        clock.advance(Duration::from_millis(9_999));
        assert!(b.admit().await.is_err());
        clock.advance(Duration::from_millis(1));
        let trial = b.admit().await.unwrap();
        assert_eq!(b.state().circuit, CircuitState::HalfOpen);
        // Only one trial at a time.
        assert_eq!(
            b.admit().await.err().unwrap().kind,
            ProviderErrorKind::CircuitOpen
        );
        b.record(trial, Outcome::Answered).await;
        assert_eq!(b.state(), BreakerState::default());
        send(&b, Outcome::Answered).await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_trial_reopens_with_a_doubled_capped_cool_down() {
        let (b, clock, _) = breaker();
        for _ in 0..3 {
            send(&b, Outcome::Failed).await.unwrap();
        }
        clock.advance(Duration::from_secs(10));
        send(&b, Outcome::Failed).await.unwrap();
        let s = b.state();
        assert_eq!((s.circuit, s.trips), (CircuitState::Open, 2));
        assert_eq!(s.open_until_ms, Some(clock.now_ms() + 20_000));
        clock.advance(Duration::from_secs(20));
        send(&b, Outcome::Failed).await.unwrap();
        // 40 s capped at 25 s.
        assert_eq!(b.state().open_until_ms, Some(clock.now_ms() + 25_000));
    }

    #[tokio::test]
    async fn a_dropped_trial_frees_the_next_request_to_be_the_trial() {
        let (b, clock, _) = breaker();
        for _ in 0..3 {
            send(&b, Outcome::Failed).await.unwrap();
        }
        clock.advance(Duration::from_secs(10));
        drop(b.admit().await.unwrap());
        send(&b, Outcome::Answered).await.unwrap();
        assert_eq!(b.state().circuit, CircuitState::Closed);
    }

    #[test]
    fn only_5xx_and_no_answer_are_failures() {
        assert_eq!(Outcome::of(Some(200)), Outcome::Answered);
        assert_eq!(Outcome::of(Some(401)), Outcome::Answered);
        assert_eq!(Outcome::of(Some(429)), Outcome::Answered);
        assert_eq!(Outcome::of(Some(500)), Outcome::Failed);
        assert_eq!(Outcome::of(Some(503)), Outcome::Failed);
        assert_eq!(Outcome::of(None), Outcome::Failed);
    }
}
