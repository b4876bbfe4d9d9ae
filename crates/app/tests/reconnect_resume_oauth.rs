//! An OAuth connection whose grant died asks for a reconnect; reconnecting it keeps the same
//! row, and the next sync resumes from the stored cursor: only what is new arrives, nothing
//! twice. (The key connection's path is reconnect_resume.rs; this is Square through its fake
//! OAuth server.)

mod common;

use std::time::Duration;
use switchboard_app::{ErrorCode, OAuthReconnect, Trigger};
use switchboard_core::views::{ConnectionStatus, TokenState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_square_grant_needs_a_reconnect_and_the_next_sync_resumes_without_duplicates() {
    let f = common::fixture(5).await;
    let oauth = f.sandbox.oauth("square");
    let square = f.sandbox.square();
    // About the grant's life, not scopes (those are tested in square_sync.rs).
    square.set_scope_checks(false);
    let before = f
        .workspace
        .connect_oauth(
            common::square_request(&f.sandbox, "Square"),
            &common::browser(),
        )
        .await
        .unwrap();
    let sync = || f.workspace.sync(Some("Square"), Trigger::Manual, &|_| {});
    let runs = sync().await.unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let stored = f
        .workspace
        .find_connection("Square")
        .await
        .unwrap()
        .payment_count;
    assert_eq!(stored as usize, square.snapshot().payments.len());

    // New payments arrive at Square; the user removes the app at Square, and the access
    // token's 30 days run out by Square's clock.
    let usd = square.add_payment_now(1_500, "USD");
    let yen = square.add_payment_now(2_500, "JPY");
    assert_eq!(oauth.revoke_all_grants(), 1);
    oauth.advance(Duration::from_secs(31 * 86_400));

    // The next sync is refused: Square refuses the token, the renewal (a refresh) is refused
    // as the grant is gone, and the connection asks for a reconnect with its data kept.
    let failed = sync().await;
    let refused = match &failed {
        Err(e) => e.code == ErrorCode::AuthFailed,
        Ok(runs) => runs
            .iter()
            .any(|r| r.error_code.as_deref() == Some("auth_failed")),
    };
    assert!(refused, "{failed:#?}");
    assert_eq!(oauth.counters().refresh_requests(), 1, "one renewal tried");
    assert_eq!(oauth.counters().refreshes, 0);
    let waiting = f.workspace.find_connection("Square").await.unwrap();
    assert_eq!(waiting.status, ConnectionStatus::NeedsReconnect);
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("Reconnect Square")),
        "{waiting:#?}"
    );
    assert_eq!(waiting.payment_count, stored);
    let health = f.workspace.connection_health("Square").await.unwrap();
    assert_eq!(health.token, TokenState::Revoked);

    // Reconnect: the same row, connected again.
    let back = f
        .workspace
        .reconnect_oauth(
            OAuthReconnect {
                connection: "Square".into(),
                redirect_port: Some(0),
                ..OAuthReconnect::default()
            },
            &common::browser(),
        )
        .await
        .unwrap();
    assert_eq!(back.id, before.id);
    assert_eq!(back.account_id, before.account_id);
    assert_eq!(back.status, ConnectionStatus::Connected);

    // The next sync resumes from the stored cursor: the two new payments, nothing again, one
    // page per location (not a re-list of the hundreds it had).
    square.reset_counters();
    let runs = sync().await.unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let payments = runs.iter().find(|r| r.stream == "payments").unwrap();
    assert_eq!(
        (payments.inserted, payments.updated),
        (2, 0),
        "{payments:#?}"
    );
    assert_eq!(payments.skipped, payments.fetched - 2, "{payments:#?}");
    assert!(
        payments.fetched < 10,
        "resumed from the cursor: {payments:#?}"
    );
    let locations = square.snapshot().locations.len();
    assert_eq!(square.counters().route("GET /v2/payments"), locations);
    assert!(runs.iter().all(|r| r.updated == 0), "{runs:#?}");
    let after = f.workspace.find_connection("Square").await.unwrap();
    assert_eq!(after.payment_count, stored + 2);
    let store = switchboard_store::Store::open_folder(f.dir.path()).unwrap();
    let conn = store.conn();
    for (id, exponent) in [(&usd, 2), (&yen, 0)] {
        let stored: i64 = conn
            .query_row(
                "SELECT currency_exponent FROM payments WHERE connection_id = ?1 AND external_id = ?2",
                [&back.id, id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(stored, exponent, "{id}");
    }
}
