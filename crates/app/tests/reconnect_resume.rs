//! A connection whose credentials died asks for a reconnect; reconnecting it keeps the same row,
//! and the next sync resumes from the stored cursor: only what is new arrives, nothing twice.
//! (The key connection's path; OAuth connections reconnect through `reconnect_oauth`, tested
//! in oauth_connect.rs, and keep their cursors the same way: same row.)

mod common;

use switchboard_app::{CredentialConnect, ErrorCode, StripeConnect, Trigger};
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_key_needs_a_reconnect_and_the_next_sync_resumes_without_duplicates() {
    let f = common::fixture(30).await;
    let runs = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let before = f.workspace.find_connection("Main").await.unwrap();
    let stored = before.payment_count;
    assert!(stored >= 30);

    // New payments arrive at Stripe, and the user rolls the key in the Dashboard.
    f.sandbox.stripe().add_charge_now(1_500, "usd");
    f.sandbox.stripe().add_charge_now(2_500, "eur");
    let new_key = f.sandbox.stripe().roll_api_key();

    // The next sync is refused: the connection asks for a reconnect and keeps its data.
    let failed = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await;
    let refused = match failed {
        Err(e) => e.code == ErrorCode::AuthFailed,
        Ok(runs) => runs
            .iter()
            .any(|r| r.error_code.as_deref() == Some("auth_failed")),
    };
    assert!(refused, "the old key must be refused");
    let waiting = f.workspace.find_connection("Main").await.unwrap();
    assert_eq!(waiting.status, ConnectionStatus::NeedsReconnect);
    assert_eq!(waiting.payment_count, stored);

    // A wrong key changes nothing.
    let err = f
        .workspace
        .reconnect_with_credentials("Main", stripe(&f, "sk_test_51wrong"), false)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert_eq!(
        f.workspace.find_connection("Main").await.unwrap().status,
        ConnectionStatus::NeedsReconnect
    );

    // Reconnect with the new key: the same connection, back to connected.
    let back = f
        .workspace
        .reconnect_with_credentials("Main", stripe(&f, &new_key), false)
        .await
        .unwrap()
        .connection;
    assert_eq!(back.id, before.id);
    assert_eq!(back.status, ConnectionStatus::Connected);
    assert_eq!(back.account_id, before.account_id);

    // The next sync resumes from the stored cursor: the two new payments, nothing again.
    let runs = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let payments = runs.iter().find(|r| r.stream == "charges").unwrap();
    assert_eq!(payments.inserted, 2, "{payments:#?}");
    assert_eq!(payments.updated, 0, "{payments:#?}");
    // From the cursor (its boundary second is read again and skipped as unchanged), not a
    // re-list of the 30 it had.
    assert!(
        payments.fetched < 10,
        "resumed from the cursor: {payments:#?}"
    );
    assert_eq!(payments.skipped, payments.fetched - 2, "{payments:#?}");
    let after = f.workspace.find_connection("Main").await.unwrap();
    assert_eq!(after.payment_count, stored + 2);
}

fn stripe(f: &common::Fixture, key: &str) -> CredentialConnect {
    CredentialConnect::Stripe(StripeConnect {
        name: "Main".into(),
        api_key: SecretString::new(key),
        api_base: Some(f.sandbox.stripe_api_base()),
    })
}
