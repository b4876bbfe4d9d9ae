//! Rate budgets, the circuit breaker and health against the in-process sandbox, with a fake
//! wall clock for cool-downs and days (nothing here sleeps).

mod common;

use common::{fixture, run};
use std::sync::Arc;
use std::time::Duration;
use switchboard_app::{BreakerConfig, FakeClock, Trigger, Workspace};
use switchboard_core::ErrorCode;
use switchboard_core::catalogue::RateLimits;
use switchboard_core::views::CircuitState;
use switchboard_sandbox::Fault;

/// 2024-05-01T12:00:00Z
const NOON: i64 = 1_714_564_800_000;

fn breaker(threshold: u32) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: threshold,
        cool_down: Duration::from_secs(30),
        max_cool_down: Duration::from_secs(300),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_stops_requests_half_opens_and_closes() {
    let mut f = fixture(30).await;
    let clock = Arc::new(FakeClock::new(NOON));
    f.workspace.set_clock(clock.clone());
    f.workspace.set_breaker_config(breaker(3));
    let stripe = f.sandbox.stripe().clone();

    // Three 500s in a row: the page's three tries fail and the third opens the circuit.
    stripe.fail_next(3, Fault::ServerError);
    let before = stripe.request_count();
    let runs = f.sync().await;
    assert_eq!(stripe.request_count() - before, 3, "{runs:#?}");
    assert_eq!(run(&runs, "charges").status, "failed");
    assert_eq!(
        run(&runs, "charges").error_code.as_deref(),
        Some("provider_error")
    );
    // The other streams fail fast: nothing more reached the provider.
    for stream in ["refunds", "balance_transactions"] {
        let r = run(&runs, stream);
        assert_eq!(r.error_code.as_deref(), Some("circuit_open"), "{r:#?}");
        assert!(
            r.error_message.as_deref().unwrap().contains("12:00:30"),
            "{r:#?}"
        );
    }

    let health = f.workspace.connection_health("Main").await.unwrap();
    assert_eq!(health.circuit, CircuitState::Open);
    assert_eq!(health.consecutive_failures, 3);
    assert_eq!(
        health.circuit_retry_at.as_deref(),
        Some("2024-05-01T12:00:30Z")
    );
    assert!(health.needs_attention);
    assert!(
        health.reasons.iter().any(|r| r.starts_with("Paused")),
        "{health:#?}"
    );

    // While open, neither a sync nor a test sends anything, and neither retries.
    let before = stripe.request_count();
    let runs = f.sync().await;
    assert!(
        runs.iter()
            .all(|r| r.error_code.as_deref() == Some("circuit_open"))
    );
    let test = f.workspace.test_connection("Main").await.unwrap();
    assert!(!test.ok);
    let err = test.error.unwrap();
    assert_eq!((err.code, err.retryable), (ErrorCode::CircuitOpen, true));
    assert_eq!(stripe.request_count(), before);

    // Another workspace on the same folder (the CLI, a restart) sees the open circuit.
    let mut other = Workspace::open_real(f.dir.path()).await.unwrap();
    other.set_clock(clock.clone());
    assert_eq!(
        other.connection_health("Main").await.unwrap().circuit,
        CircuitState::Open
    );
    drop(other);

    // After the cool-down the next request is a trial; it succeeds and the circuit closes.
    clock.advance(Duration::from_secs(30));
    let health = f.workspace.connection_health("Main").await.unwrap();
    assert_eq!(health.circuit, CircuitState::HalfOpen);
    let runs = f.sync().await;
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let health = f.workspace.connection_health("Main").await.unwrap();
    assert_eq!(health.circuit, CircuitState::Closed);
    assert_eq!(health.consecutive_failures, 0);
    assert!(!health.needs_attention, "{health:#?}");
    assert!(health.last_success_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_trial_reopens_the_circuit_for_longer() {
    let mut f = fixture(10).await;
    let clock = Arc::new(FakeClock::new(NOON));
    f.workspace.set_clock(clock.clone());
    f.workspace.set_breaker_config(breaker(2));
    let stripe = f.sandbox.stripe().clone();
    stripe.fail_next(3, Fault::ServerError);
    let test = f.workspace.test_connection("Main").await.unwrap();
    assert!(!test.ok);
    let test = f.workspace.test_connection("Main").await.unwrap();
    assert_eq!(test.health.circuit, CircuitState::Open);
    clock.advance(Duration::from_secs(30));
    // The trial gets the third 500: open again, for twice as long.
    let before = stripe.request_count();
    let test = f.workspace.test_connection("Main").await.unwrap();
    assert_eq!(stripe.request_count() - before, 1);
    assert_eq!(test.health.circuit, CircuitState::Open);
    assert_eq!(
        test.health.circuit_retry_at.as_deref(),
        Some("2024-05-01T12:01:30Z")
    );
    clock.advance(Duration::from_secs(60));
    let test = f.workspace.test_connection("Main").await.unwrap();
    assert!(test.ok, "{test:#?}");
    assert_eq!(test.health.circuit, CircuitState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_auth_errors_do_not_open_the_circuit() {
    let mut f = fixture(10).await;
    f.workspace.set_breaker_config(breaker(2));
    let stripe = f.sandbox.stripe().clone();
    stripe.fail_next(4, Fault::RateLimited);
    for _ in 0..4 {
        let test = f.workspace.test_connection("Main").await.unwrap();
        assert_eq!(test.error.unwrap().code, ErrorCode::RateLimited);
    }
    let health = f.workspace.connection_health("Main").await.unwrap();
    assert_eq!(health.circuit, CircuitState::Closed);
    assert_eq!(health.consecutive_failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_budget_fails_fast_says_when_and_survives_a_restart() {
    let mut f = fixture(10).await;
    let clock = Arc::new(FakeClock::new(NOON));
    f.workspace.set_clock(clock.clone());
    let stripe = f.sandbox.stripe().clone();
    let budget = RateLimits {
        per_second: None,
        per_minute: None,
        per_day: Some(3),
        concurrent: Some(1),
    };
    let h = f
        .workspace
        .set_rate_limits("Main", Some(budget))
        .await
        .unwrap();
    assert!(h.budget.overridden);
    assert_eq!(h.budget.daily_left, Some(3));

    let before = stripe.request_count();
    for _ in 0..3 {
        assert!(f.workspace.test_connection("Main").await.unwrap().ok);
    }
    let test = f.workspace.test_connection("Main").await.unwrap();
    let err = test.error.unwrap();
    assert_eq!((err.code, err.retryable), (ErrorCode::RateLimited, true));
    // Stripe's catalogue entry has no daily reset of its own: the safe rolling 24 hours.
    assert!(err.message.contains("rolling"), "{}", err.message);
    assert!(err.message.contains("13:00 UTC"), "{}", err.message);
    assert_eq!(stripe.request_count() - before, 3);
    assert_eq!(test.health.budget.daily_left, Some(0));
    assert_eq!(test.health.budget.daily_used, Some(3));
    assert_eq!(
        test.health.budget.daily_resets_at.as_deref(),
        Some("2024-05-02T13:00:00Z")
    );
    assert!(test.health.needs_attention);
    // The circuit does not count our own budget against the provider.
    assert_eq!(test.health.circuit, CircuitState::Closed);

    // A sync fails fast too, without retrying.
    let runs = f.sync().await;
    assert!(
        runs.iter()
            .all(|r| r.error_code.as_deref() == Some("rate_limited")),
        "{runs:#?}"
    );
    assert_eq!(stripe.request_count() - before, 3);

    // The count is in the database: a restart (or the CLI) sees it.
    let mut other = Workspace::open_real(f.dir.path()).await.unwrap();
    other.set_clock(clock.clone());
    let h = other.connection_health("Main").await.unwrap();
    assert_eq!(h.budget.daily_used, Some(3));
    assert!(!other.test_connection("Main").await.unwrap().ok);

    // 25 hours later the hour of the first requests has left the window.
    clock.advance(Duration::from_secs(25 * 3600));
    assert!(f.workspace.test_connection("Main").await.unwrap().ok);
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_budget_applies_until_overridden() {
    let f = fixture(10).await;
    // The fixture applied the sandbox's announced budget.
    let h = f.workspace.connection_health("Main").await.unwrap();
    assert!(h.budget.overridden);
    assert_eq!(
        h.budget.limits.per_second,
        Some(switchboard_sandbox::RATE_LIMITS_PER_SECOND)
    );
    // Back to the catalogue: a test key gets Stripe's test-mode 25/s, with no daily budget.
    let h = f.workspace.set_rate_limits("Main", None).await.unwrap();
    assert!(!h.budget.overridden);
    assert_eq!(h.budget.limits.per_second, Some(25));
    assert_eq!(h.budget.daily_left, None);
    assert!(
        f.workspace
            .set_rate_limits(
                "Main",
                Some(RateLimits {
                    per_second: Some(0),
                    ..RateLimits::NONE
                })
            )
            .await
            .is_err()
    );
    let health = f.workspace.health().await.unwrap();
    assert_eq!(health.connections.len(), 1);
    let _ = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
}
