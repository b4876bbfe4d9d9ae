//! The outbox against the sandbox: a refund is written down, sent with its idempotency key and
//! stored; an uncertain outcome is looked up instead of resent; failures retry and end as dead
//! letters that can be retried or discarded. Every check counts refunds at the fake provider.

mod common;

use common::{Fixture, fixture};
use std::time::Duration;
use switchboard_app::{ErrorCode, OutboxPolicy};
use switchboard_core::views::{NewRefund, OutboxItemView, PaymentView};
use switchboard_sandbox::{CREATE_REFUND_ROUTE, PostFault};

const KEY: &str = "switchboard_outbox_id";

/// A fixture with a fresh 50.00 EUR charge synced, and no backoff between outbox passes.
async fn with_charge(max_attempts: i64) -> (Fixture, PaymentView) {
    let mut f = fixture(20).await;
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    let charge = f.sandbox.stripe().add_charge_now(5_000, "eur");
    f.sync().await;
    let payment = f
        .all_payments()
        .await
        .into_iter()
        .find(|p| p.external_id == charge)
        .unwrap();
    (f, payment)
}

fn refund(payment: &str, amount: Option<i64>) -> NewRefund {
    NewRefund {
        payment: payment.to_string(),
        amount_minor: amount,
        reason: Some("requested_by_customer".into()),
    }
}

/// Refunds at the fake carrying this item's id.
fn at_provider(f: &Fixture, item: &OutboxItemView) -> usize {
    f.sandbox
        .stripe()
        .refunds_with_metadata(KEY, &item.id)
        .len()
}

fn posts(f: &Fixture) -> usize {
    f.sandbox.stripe().counters().path(CREATE_REFUND_ROUTE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_is_sent_once_and_shows_up_without_a_sync() {
    let (f, payment) = with_charge(5).await;
    let quote = f
        .workspace
        .refund_quote(&payment.external_id)
        .await
        .unwrap();
    assert_eq!(
        (quote.refundable_minor, quote.currency.as_str()),
        (5_000, "EUR")
    );
    assert_eq!(quote.blocked_reason, None);

    let item = f
        .workspace
        .refund_payment(refund(&payment.id, Some(1_200)))
        .await
        .unwrap();
    assert_eq!(item.status, "succeeded", "{item:#?}");
    assert!(item.is_final);
    assert_eq!(item.attempts, 1);
    assert_eq!(
        item.summary,
        format!(
            "Refund 12.00 EUR of {} (requested by customer)",
            payment.external_id
        )
    );
    let refund_id = item.result_external_id.clone().unwrap();
    assert!(refund_id.starts_with("re_"));
    assert_eq!(at_provider(&f, &item), 1);

    // Stored at once: the refund and the payment's refunded amount.
    let detail = f.workspace.get_payment(&payment.id).await.unwrap();
    assert_eq!(detail.payment.refunded_minor, 1_200);
    assert_eq!(detail.refunds.len(), 1);
    assert_eq!(detail.refunds[0].external_id, refund_id);
    assert_eq!(
        detail.refunds[0].reason.as_deref(),
        Some("requested_by_customer")
    );
    // A sync afterwards finds nothing new to add.
    let runs = f.sync().await;
    let refunds_run = common::run(&runs, "refunds");
    assert_eq!(refunds_run.inserted, 0, "{refunds_run:#?}");

    // What is left is refundable; more is refused before anything is written or sent.
    let quote = f.workspace.refund_quote(&payment.id).await.unwrap();
    assert_eq!(quote.refundable_minor, 3_800);
    let too_much = f
        .workspace
        .refund_payment(refund(&payment.id, Some(3_801)))
        .await
        .unwrap_err();
    assert_eq!(too_much.code, ErrorCode::InvalidInput);
    assert!(
        too_much.message.contains("At most 38.00 EUR"),
        "{}",
        too_much.message
    );
    let bad_reason = f
        .workspace
        .refund_payment(NewRefund {
            reason: Some("bored".into()),
            ..refund(&payment.id, None)
        })
        .await
        .unwrap_err();
    assert_eq!(bad_reason.code, ErrorCode::InvalidInput);
    assert_eq!(posts(&f), 1);

    // The rest, by default amount.
    let rest = f
        .workspace
        .refund_payment(refund(&payment.external_id, None))
        .await
        .unwrap();
    assert_eq!(
        (rest.status.as_str(), rest.amount_minor),
        ("succeeded", Some(3_800))
    );
    let quote = f.workspace.refund_quote(&payment.id).await.unwrap();
    assert_eq!(quote.refundable_minor, 0);
    assert!(quote.blocked_reason.is_some());
    assert_eq!(f.workspace.list_outbox(false, 10).await.unwrap().len(), 2);
    assert!(f.workspace.list_outbox(true, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_after_the_refund_is_reconciled_by_look_up_not_resent() {
    let (f, payment) = with_charge(5).await;
    f.sandbox
        .stripe()
        .fail_next_posts(1, PostFault::ApplyThenReset);
    let item = f
        .workspace
        .refund_payment(refund(&payment.id, Some(700)))
        .await
        .unwrap();
    // The provider applied it, but the answer was lost: queued again, uncertain.
    assert_eq!(item.status, "queued", "{item:#?}");
    assert_eq!(item.last_error_code.as_deref(), Some("network"));
    assert_eq!(at_provider(&f, &item), 1);
    // While it is uncertain, its amount still counts against what is refundable.
    let quote = f.workspace.refund_quote(&payment.id).await.unwrap();
    assert_eq!((quote.pending_minor, quote.refundable_minor), (700, 4_300));

    let run = f.workspace.process_outbox().await.unwrap();
    assert_eq!((run.succeeded, run.found_by_lookup), (1, 1), "{run:?}");
    let done = f.workspace.get_outbox_item(&item.id).await.unwrap();
    assert_eq!(done.status, "succeeded");
    assert_eq!(posts(&f), 1, "found by look-up, never resent");
    assert_eq!(at_provider(&f, &item), 1);
    assert_eq!(f.sandbox.stripe().refunds_created(), 1);
    let detail = f.workspace.get_payment(&payment.id).await.unwrap();
    assert_eq!(detail.payment.refunded_minor, 700);
    assert_eq!(detail.refunds.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_retry_with_the_same_key_then_become_dead_letters() {
    let (f, payment) = with_charge(3).await;
    // Dropped before it applied, then server errors: each leaves the outcome open, so each
    // resend is preceded by a look-up, and every send carries the same key.
    f.sandbox
        .stripe()
        .fail_next_posts(1, PostFault::ResetBeforeApply);
    f.sandbox
        .stripe()
        .fail_next_posts(2, PostFault::ServerError);
    let item = f
        .workspace
        .refund_payment(refund(&payment.id, Some(100)))
        .await
        .unwrap();
    assert_eq!((item.status.as_str(), item.attempts), ("queued", 1));
    f.workspace.process_outbox().await.unwrap();
    let run = f.workspace.process_outbox().await.unwrap();
    assert_eq!(run.dead, 1, "{run:?}");
    let dead = f.workspace.list_outbox(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].status.as_str(), dead[0].attempts), ("dead", 3));
    assert!(dead[0].is_final);
    assert_eq!(dead[0].last_error_code.as_deref(), Some("provider_error"));
    assert_eq!(posts(&f), 3);
    assert_eq!(f.sandbox.stripe().refunds_created(), 0);
    // Nothing is due any more.
    assert_eq!(f.workspace.process_outbox().await.unwrap().processed, 0);

    // Retry: looked up (not there), sent again with the same key, done.
    let retried = f.workspace.retry_dead_letter(&item.id).await.unwrap();
    assert_eq!(retried.status, "succeeded", "{retried:#?}");
    assert_eq!(retried.attempts, 1);
    assert_eq!(at_provider(&f, &item), 1);
    assert_eq!(f.sandbox.stripe().idempotent_replays(), 0);
    assert!(f.workspace.list_outbox(true, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_a_dead_letter_at_once_and_can_be_discarded() {
    let (f, payment) = with_charge(5).await;
    // Refunded at Stripe behind Switchboard's back: stored data says 50.00 is left, Stripe
    // says 10.00.
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/refunds", f.sandbox.stripe_api_base()))
        .bearer_auth(f.sandbox.stripe_api_key())
        .form(&[("charge", payment.external_id.as_str()), ("amount", "4000")])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let item = f
        .workspace
        .refund_payment(refund(&payment.id, None))
        .await
        .unwrap();
    assert_eq!(
        (item.status.as_str(), item.attempts),
        ("dead", 1),
        "{item:#?}"
    );
    let message = item.last_error_message.clone().unwrap();
    assert!(
        message.contains("greater than unrefunded amount"),
        "{message}"
    );
    assert_eq!(
        f.sandbox.stripe().refunds_created(),
        1,
        "only the one made outside"
    );
    // A dead letter no longer holds the amount.
    let quote = f.workspace.refund_quote(&payment.id).await.unwrap();
    assert_eq!(quote.pending_minor, 0);

    let discarded = f.workspace.discard_dead_letter(&item.id).await.unwrap();
    assert_eq!(discarded.status, "discarded");
    assert!(f.workspace.list_outbox(true, 10).await.unwrap().is_empty());
    let again = f.workspace.retry_dead_letter(&item.id).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::InvalidInput);
    assert_eq!(
        f.workspace.get_outbox_item("nope").await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_left_sending_by_a_dead_process_is_looked_up_then_sent_after_reopening() {
    let (f, payment) = with_charge(5).await;
    let item = f
        .workspace
        .enqueue_refund(refund(&payment.id, Some(250)))
        .await
        .unwrap();
    assert_eq!(item.status, "queued");
    assert_eq!(posts(&f), 0, "enqueueing sends nothing");
    // What a process killed between committing `sending` and its request leaves behind.
    let db =
        switchboard_store::rusqlite::Connection::open(f.dir.path().join("switchboard.db")).unwrap();
    db.execute(
        "UPDATE outbox SET status = 'sending', needs_lookup = 1, attempts = 1 WHERE id = ?1",
        [&item.id],
    )
    .unwrap();
    let key: String = db
        .query_row(
            "SELECT idempotency_key FROM outbox WHERE id = ?1",
            [&item.id],
            |r| r.get(0),
        )
        .unwrap();
    drop(db);
    drop(f.workspace);
    let mut reopened = switchboard_app::Workspace::open_real(f.dir.path())
        .await
        .unwrap();
    reopened.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    let refunds_listed_before = f.sandbox.stripe().counters().path("/v1/refunds");
    let run = reopened.process_outbox().await.unwrap();
    assert_eq!((run.succeeded, run.found_by_lookup), (1, 0), "{run:?}");
    assert!(
        f.sandbox.stripe().counters().path("/v1/refunds") > refunds_listed_before,
        "looked up first"
    );
    assert_eq!(f.sandbox.stripe().counters().path(CREATE_REFUND_ROUTE), 1);
    assert_eq!(
        f.sandbox
            .stripe()
            .refunds_with_metadata(KEY, &item.id)
            .len(),
        1
    );
    let db =
        switchboard_store::rusqlite::Connection::open(f.dir.path().join("switchboard.db")).unwrap();
    let (status, key_after): (String, String) = db
        .query_row(
            "SELECT status, idempotency_key FROM outbox WHERE id = ?1",
            [&item.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), key_after.as_str()),
        ("succeeded", key.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_circuit_holds_items_back_instead_of_making_dead_letters() {
    let (mut f, payment) = with_charge(3).await;
    f.workspace
        .set_breaker_config(switchboard_app::BreakerConfig {
            failure_threshold: 2,
            cool_down: Duration::from_secs(30),
            max_cool_down: Duration::from_secs(300),
        });
    // The send fails (500), then the look-up before the resend fails too: the circuit opens.
    f.sandbox
        .stripe()
        .fail_next_posts(1, PostFault::ServerError);
    f.sandbox
        .stripe()
        .fail_next(5, switchboard_sandbox::Fault::ServerError);
    let item = f
        .workspace
        .refund_payment(refund(&payment.id, Some(100)))
        .await
        .unwrap();
    assert_eq!(item.status, "queued");
    for _ in 0..3 {
        let run = f.workspace.process_outbox().await.unwrap();
        let items = f.workspace.list_outbox(false, 10).await.unwrap();
        assert_eq!(run.dead, 0, "{run:?} {items:#?}");
    }
    // Nothing was sent while the circuit was open: the item waits for the breaker's trial
    // instead of becoming a dead letter.
    let items = f.workspace.list_outbox(false, 10).await.unwrap();
    assert_eq!(items[0].status, "queued", "{items:#?}");
    assert_eq!(items[0].last_error_code.as_deref(), Some("circuit_open"));
    assert!(f.workspace.list_outbox(true, 10).await.unwrap().is_empty());
    assert_eq!(posts(&f), 1);
}
