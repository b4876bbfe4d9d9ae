//! Rate budgets, circuit breakers and health, per connection.
//!
//! Each connection gets one [`Guard`] per workspace (so concurrent syncs of it share one
//! budget): a rate limiter built from its budget — the connection's override, else the
//! catalogue's (Stripe's test-mode limits for a test key) — and a circuit breaker. The daily
//! count and the breaker's state live in the store (`rate_budget`), so a restart keeps them and
//! the CLI sees what the app did; the breaker re-reads its state before each sync and test.
//!
//! Health puts together, per connection: last success and last error (of syncs and tests), the
//! circuit, the token state (none yet for API keys), the budget left, and whether a person
//! should look (`needs_attention`, with reasons).

use crate::sync::blocking;
use crate::workspace::Workspace;
use crate::{Result, errors};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use switchboard_core::catalogue::{self, DailyReset, RateLimits};
use switchboard_core::views::{
    CircuitState, ConnectionHealthView, ConnectionStatus, ConnectionTestView, ConnectionView,
    HealthView, RateBudgetView, TokenState,
};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::breaker::{Breaker, BreakerState, BreakerStore};
use switchboard_providers::http::{Guard, RequestRecord, RequestSink};
use switchboard_providers::limiter::{DailyLedger, DailyUsage, Limiter, daily_window};
use switchboard_providers::stripe::Stripe;
use switchboard_store::rate_budget::{self, CircuitRow};
use switchboard_store::{Store, connections};

pub use switchboard_providers::breaker::BreakerConfig;
pub use switchboard_providers::limiter::{Clock, FakeClock, SystemClock};

/// Share of a daily budget below which health asks for attention.
const LOW_BUDGET_PERCENT: u32 = 10;

/// The guards of a workspace's connections, and how they are built.
pub(crate) struct Guards {
    by_connection: Mutex<HashMap<String, Guard>>,
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
}

impl Default for Guards {
    fn default() -> Self {
        Guards {
            by_connection: Mutex::default(),
            config: BreakerConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The daily count in the store.
struct StoreLedger {
    store: Arc<Store>,
    connection_id: String,
}

#[async_trait]
impl DailyLedger for StoreLedger {
    async fn take(
        &self,
        hour: i64,
        since_hour: i64,
        limit: u32,
    ) -> std::result::Result<DailyUsage, DailyUsage> {
        let id = self.connection_id.clone();
        let taken = blocking(&self.store, move |s| {
            rate_budget::take(&mut s.conn(), &id, hour, since_hour, limit)
        })
        .await;
        match taken {
            Ok((true, u)) => Ok(usage(u)),
            Ok((false, u)) => Err(usage(u)),
            Err(e) => {
                // A local database problem is not the provider's budget: let the request go.
                tracing::warn!("cannot count the request against the daily budget: {e}");
                Ok(DailyUsage::default())
            }
        }
    }

    async fn usage(&self, since_hour: i64) -> DailyUsage {
        let id = self.connection_id.clone();
        blocking(&self.store, move |s| {
            rate_budget::usage(&s.conn(), &id, since_hour)
        })
        .await
        .map(usage)
        .unwrap_or_default()
    }
}

fn usage(u: rate_budget::Usage) -> DailyUsage {
    DailyUsage {
        used: u.used,
        oldest_hour: u.oldest_hour,
    }
}

/// The breaker's state changes, to the store.
struct StoreBreaker {
    store: Arc<Store>,
    connection_id: String,
}

#[async_trait]
impl BreakerStore for StoreBreaker {
    async fn save(&self, state: BreakerState) {
        let id = self.connection_id.clone();
        let row = to_row(state);
        if let Err(e) = blocking(&self.store, move |s| {
            rate_budget::put_circuit(&s.conn(), &id, &row)
        })
        .await
        {
            tracing::warn!("cannot save the circuit breaker's state: {e}");
        }
    }
}

fn to_row(s: BreakerState) -> CircuitRow {
    CircuitRow {
        circuit: s.circuit,
        consecutive_failures: s.consecutive_failures,
        trips: s.trips,
        open_until_ms: s.open_until_ms,
    }
}

fn from_row(r: CircuitRow) -> BreakerState {
    BreakerState {
        circuit: r.circuit,
        consecutive_failures: r.consecutive_failures,
        trips: r.trips,
        open_until_ms: r.open_until_ms,
    }
}

/// The budget in force: the connection's override, else the catalogue's.
fn effective_limits(provider: &str, test_mode: bool, row: &rate_budget::HealthRow) -> RateLimits {
    row.rate_override.unwrap_or_else(|| {
        catalogue::provider(provider).map_or(RateLimits::NONE, |p| p.limits_for(test_mode))
    })
}

fn daily_reset(provider: &str) -> DailyReset {
    catalogue::provider(provider).map_or(DailyReset::Rolling24h, |p| p.daily_reset)
}

fn display_name(provider: &str) -> String {
    catalogue::provider(provider).map_or_else(|| provider.to_string(), |p| p.display_name.into())
}

fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

impl Workspace {
    /// Sets the thresholds of circuit breakers built from now on (tests use small ones).
    pub fn set_breaker_config(&mut self, config: BreakerConfig) {
        self.guards.config = config;
        self.guards
            .by_connection
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Sets the wall clock of rate budgets and breakers (tests use a [`FakeClock`]).
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.guards.clock = clock;
        self.guards
            .by_connection
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The guard of a connection, its breaker state fresh from the store.
    pub(crate) async fn guard_for(
        &self,
        target: &ConnectionView,
        test_mode: bool,
    ) -> Result<Guard> {
        let id = target.id.clone();
        let row = blocking(&self.store, move |s| rate_budget::get(&s.conn(), &id)).await?;
        let limits = effective_limits(&target.provider, test_mode, &row);
        let mut guards = self
            .guards
            .by_connection
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(guard) = guards.get(&target.id)
            && guard.limiter.limits() == limits
        {
            guard.breaker.restore(from_row(row.circuit));
            return Ok(guard.clone());
        }
        let name = display_name(&target.provider);
        let guard = Guard {
            limiter: Arc::new(Limiter::new(
                &name,
                limits,
                daily_reset(&target.provider),
                Arc::new(StoreLedger {
                    store: self.store.clone(),
                    connection_id: target.id.clone(),
                }),
                self.guards.clock.clone(),
            )),
            breaker: Arc::new(Breaker::new(
                &name,
                self.guards.config,
                from_row(row.circuit),
                self.guards.clock.clone(),
                Some(Arc::new(StoreBreaker {
                    store: self.store.clone(),
                    connection_id: target.id.clone(),
                })),
            )),
        };
        guards.insert(target.id.clone(), guard.clone());
        Ok(guard)
    }

    /// Overrides a connection's (name or id) request budget; `None` goes back to the
    /// catalogue's. The sandbox announces a generous one, so benchmarks measure the engine.
    pub async fn set_rate_limits(
        &self,
        connection: &str,
        limits: Option<RateLimits>,
    ) -> Result<ConnectionHealthView> {
        if let Some(l) = &limits
            && [l.per_second, l.per_minute, l.per_day, l.concurrent].contains(&Some(0))
        {
            return Err(errors::invalid(
                "A budget of 0 would stop every request; leave that limit out instead.",
            ));
        }
        let target = self.find_connection(connection).await?;
        let id = target.id.clone();
        blocking(&self.store, move |s| {
            rate_budget::set_override(&s.conn(), &id, limits.as_ref())
        })
        .await?;
        self.connection_health(&target.id).await
    }

    /// Every connection's health.
    pub async fn health(&self) -> Result<HealthView> {
        let mut out = Vec::new();
        for c in self.list_connections().await? {
            out.push(self.health_of(&c).await?);
        }
        Ok(HealthView {
            checked_at: switchboard_core::now_rfc3339(),
            needs_attention: out.iter().any(|c| c.needs_attention),
            connections: out,
        })
    }

    /// One connection's (name or id) health.
    pub async fn connection_health(&self, connection: &str) -> Result<ConnectionHealthView> {
        let target = self.find_connection(connection).await?;
        self.health_of(&target).await
    }

    async fn health_of(&self, c: &ConnectionView) -> Result<ConnectionHealthView> {
        let id = c.id.clone();
        let row = blocking(&self.store, move |s| rate_budget::get(&s.conn(), &id)).await?;
        // Stripe's test keys have their own limits; a key that cannot be opened reads as live.
        let test_mode = c.provider == "stripe"
            && self
                .api_key(&c.id)
                .await
                .is_ok_and(|k| Stripe::is_test_key(k.expose()));
        let limits = effective_limits(&c.provider, test_mode, &row);
        let reset = daily_reset(&c.provider);
        let now_ms = self.guards.clock.now_ms();
        let now_s = now_ms.div_euclid(1000);
        let daily = match limits.per_day {
            Some(limit) => {
                let (_, since) = daily_window(reset, now_s);
                let id = c.id.clone();
                let u = blocking(&self.store, move |s| {
                    rate_budget::usage(&s.conn(), &id, since)
                })
                .await?;
                let resets_at =
                    switchboard_providers::limiter::daily_resets_at(reset, now_s, &usage(u));
                Some((limit, u.used, resets_at))
            }
            None => None,
        };
        let budget = RateBudgetView {
            limits,
            overridden: row.rate_override.is_some(),
            daily_reset: daily.map(|_| reset),
            daily_used: daily.map(|(_, used, _)| used),
            daily_left: daily.map(|(limit, used, _)| limit.saturating_sub(used)),
            daily_resets_at: daily
                .and_then(|(_, _, at)| at)
                .map(switchboard_core::unix_to_rfc3339),
        };
        // An open circuit past its cool-down lets the next request through as a trial.
        let mut circuit = row.circuit.circuit;
        let retry_at_ms = row.circuit.open_until_ms;
        if circuit == CircuitState::Open && retry_at_ms.is_none_or(|t| t <= now_ms) {
            circuit = CircuitState::HalfOpen;
        }
        // Before any health row, the connection's own last sync tells.
        let (last_success_at, last_error_at, last_error) =
            if row.last_success_at.is_none() && row.last_error_at.is_none() {
                match (&c.last_sync_at, &c.last_error) {
                    (Some(at), None) => (Some(at.clone()), None, None),
                    (at, Some(e)) => (None, at.clone(), Some(e.clone())),
                    (None, None) => (None, None, None),
                }
            } else {
                (row.last_success_at, row.last_error_at, row.last_error)
            };
        let name = display_name(&c.provider);
        let mut reasons = Vec::new();
        let (token, token_lapses_at) = self.token_health(c, now_ms).await?;
        if let (TokenState::Expiring, Some(at)) = (token, &token_lapses_at) {
            reasons.push(format!(
                "{name} will ask you to sign in again at {at}; reconnect before then so syncing \
                 does not stop."
            ));
        }
        match c.status {
            ConnectionStatus::Connected => {}
            ConnectionStatus::NeedsReconnect => reasons.push(format!(
                "Needs reconnecting: {}",
                c.last_error
                    .as_deref()
                    .unwrap_or("the provider refused the stored credentials.")
            )),
            ConnectionStatus::Error => reasons.push("The connection is in error.".to_string()),
            ConnectionStatus::Disconnected => reasons.push("Disconnected.".to_string()),
        }
        match circuit {
            CircuitState::Closed => {}
            CircuitState::Open => reasons.push(format!(
                "Paused: {name} failed {} times in a row; the next try is at {}.",
                row.circuit.consecutive_failures,
                retry_at_ms.map(rfc3339_ms).unwrap_or_default()
            )),
            CircuitState::HalfOpen => reasons.push(format!(
                "Testing: the next request checks whether {name} has recovered."
            )),
        }
        if let (Some(limit), Some(left)) = (limits.per_day, budget.daily_left) {
            if left == 0 {
                reasons.push(format!(
                    "The daily budget of {limit} requests is spent; requests resume at {}.",
                    budget
                        .daily_resets_at
                        .as_deref()
                        .unwrap_or("the next reset")
                ));
            } else if u64::from(left) * 100 < u64::from(limit) * u64::from(LOW_BUDGET_PERCENT) {
                reasons.push(format!(
                    "The daily budget is nearly spent: {left} of {limit} requests left."
                ));
            }
        }
        let error_is_latest = match (&last_error_at, &last_success_at) {
            (Some(e), Some(s)) => e > s,
            (Some(_), None) => true,
            _ => false,
        };
        if error_is_latest
            && circuit == CircuitState::Closed
            && c.status == ConnectionStatus::Connected
        {
            reasons.push(format!(
                "The last sync or test failed: {}",
                last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        Ok(ConnectionHealthView {
            connection_id: c.id.clone(),
            connection: c.name.clone(),
            provider: c.provider.clone(),
            status: c.status,
            last_success_at,
            last_error_at,
            last_error,
            circuit,
            consecutive_failures: row.circuit.consecutive_failures,
            circuit_retry_at: (circuit == CircuitState::Open)
                .then(|| retry_at_ms.map(rfc3339_ms))
                .flatten(),
            token,
            token_lapses_at,
            budget,
            needs_attention: !reasons.is_empty(),
            reasons,
        })
    }

    /// The connection's OAuth sign-in state (`NotApplicable` without a grant) and when it
    /// lapses whatever the app does.
    async fn token_health(
        &self,
        c: &ConnectionView,
        now_ms: i64,
    ) -> Result<(TokenState, Option<String>)> {
        let Some(lifetimes) = catalogue::provider(&c.provider)
            .and_then(|p| p.oauth)
            .map(|o| o.tokens)
        else {
            return Ok((TokenState::NotApplicable, None));
        };
        let id = c.id.clone();
        let grant = blocking(&self.store, move |s| {
            switchboard_store::oauth_grants::get(&s.conn(), &id)
        })
        .await?;
        let Some(grant) = grant else {
            return Ok((TokenState::NotApplicable, None));
        };
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let (state, lapses_at) = crate::tokens::token_health(
            &grant,
            &lifetimes,
            c.status == ConnectionStatus::NeedsReconnect,
            now,
        );
        Ok((
            state,
            lapses_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ))
    }

    /// "Test connection": one cheap authenticated call (Stripe: `GET /v1/charges?limit=1`)
    /// through the connection's rate budget and circuit breaker. The outcome is recorded
    /// (health, request log; a refused key marks the connection for reconnecting).
    pub async fn test_connection(&self, connection: &str) -> Result<ConnectionTestView> {
        let target = self.find_connection(connection).await?;
        let requests: Arc<Mutex<Vec<RequestRecord>>> = Arc::default();
        let sink: RequestSink = {
            let requests = requests.clone();
            Arc::new(move |r| requests.lock().unwrap_or_else(|e| e.into_inner()).push(r))
        };
        let adapter = self.payments_adapter(&target, sink).await?.pull;
        let started = Instant::now();
        let result = adapter.verify().await.map_err(CommandError::from);
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let at = switchboard_core::now_rfc3339();
        let error = result.err();
        let exchanges = std::mem::take(&mut *requests.lock().unwrap_or_else(|e| e.into_inner()));
        {
            let (id, at, error) = (target.id.clone(), at.clone(), error.clone());
            blocking(&self.store, move |s| {
                let mut conn = s.conn();
                let tx = conn.transaction()?;
                switchboard_store::request_log::append(&tx, &id, &exchanges)?;
                rate_budget::record_outcome(
                    &tx,
                    &id,
                    &at,
                    error.as_ref().map(|e| e.message.as_str()),
                )?;
                if error
                    .as_ref()
                    .is_some_and(|e| e.code == ErrorCode::AuthFailed)
                {
                    connections::mark_needs_reconnect(
                        &tx,
                        &id,
                        &error
                            .as_ref()
                            .map(|e| e.message.clone())
                            .unwrap_or_default(),
                    )?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        }
        let health = self.connection_health(&target.id).await?;
        Ok(ConnectionTestView {
            ok: error.is_none(),
            at,
            duration_ms,
            error,
            health,
        })
    }
}
