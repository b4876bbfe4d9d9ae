//! The scheduler against the sandbox, with the times chosen by the test (no sleeping): due
//! connections run, others wait; offline is detected, skipped and caught up.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::fixture;
// One run per stream of the Stripe adapter.
use switchboard_providers::stripe::STREAMS;

fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_is_due_at_once_then_every_interval() {
    let f = fixture(150).await;
    let ws = &f.workspace;
    let c = ws.find_connection("Main").await.unwrap();
    assert_eq!(c.sync_interval_minutes, Some(60), "hourly by default");

    let tick = ws.run_due_syncs(Utc::now(), &|_| {}).await.unwrap();
    assert_eq!(tick.runs.len(), STREAMS.len(), "{tick:?}");
    assert!(
        tick.runs.iter().all(|r| r.trigger == "schedule"),
        "{tick:?}"
    );
    assert_eq!(f.all_payments().await.len(), 150);

    // Not due again until the interval has passed since that sync.
    let c = ws.find_connection("Main").await.unwrap();
    let last = at(c.last_sync_at.as_deref().unwrap());
    assert_eq!(
        at(c.next_sync_at.as_deref().unwrap()),
        last + Duration::minutes(60)
    );
    let early = ws
        .run_due_syncs(last + Duration::minutes(59), &|_| {})
        .await
        .unwrap();
    assert!(
        early.runs.is_empty() && early.skipped.is_empty(),
        "{early:?}"
    );
    let requests = f.sandbox.stripe().request_count();
    let on_time = ws
        .run_due_syncs(last + Duration::minutes(60), &|_| {})
        .await
        .unwrap();
    assert_eq!(on_time.runs.len(), STREAMS.len());
    // Nothing new: one request per stream.
    assert_eq!(f.sandbox.stripe().request_count() - requests, STREAMS.len());

    // A refund waiting in the outbox is sent by the next tick, due syncs or not.
    let payment = &f.all_payments().await[0];
    let queued = ws
        .enqueue_refund(switchboard_core::views::NewRefund {
            payment: payment.id.clone(),
            amount_minor: Some(1),
            reason: None,
        })
        .await
        .unwrap();
    assert_eq!(queued.status, "queued");
    let sent = ws.run_due_syncs(Utc::now(), &|_| {}).await.unwrap();
    assert!(sent.runs.is_empty());
    assert_eq!(sent.outbox.map(|o| o.succeeded), Some(1));
    assert_eq!(
        ws.get_outbox_item(&queued.id).await.unwrap().status,
        "succeeded"
    );

    // Turned off: never due.
    ws.set_sync_interval("Main", None).await.unwrap();
    let off = ws
        .run_due_syncs(Utc::now() + Duration::days(30), &|_| {})
        .await
        .unwrap();
    assert!(off.runs.is_empty());
    assert!(ws.set_sync_interval("Main", Some(0)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_detected_skipped_and_caught_up_when_the_network_returns() {
    let f = fixture(120).await;
    let ws = &f.workspace;
    let c = ws.find_connection("Main").await.unwrap();
    // "The network goes away": the provider's host stops answering (a port nothing listens on).
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_base = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    ws.set_connection_api_base(&c.id, &dead_base).await.unwrap();

    let now = Utc::now();
    let tick = ws.run_due_syncs(now, &|_| {}).await.unwrap();
    assert!(tick.runs.is_empty());
    assert_eq!(tick.skipped, ["Main"]);
    let network = ws.network_status();
    assert!(!network.online);
    assert!(network.message.unwrap().contains("Offline"));
    assert!(
        ws.list_sync_runs(10).await.unwrap().is_empty(),
        "nothing was attempted"
    );

    // The network is back, but the next check waits for its interval.
    ws.set_connection_api_base(&c.id, &f.sandbox.stripe_api_base())
        .await
        .unwrap();
    let soon = ws
        .run_due_syncs(now + Duration::seconds(5), &|_| {})
        .await
        .unwrap();
    assert!(soon.runs.is_empty() && soon.skipped == ["Main"]);
    // Then it catches up.
    let back = ws
        .run_due_syncs(now + Duration::seconds(16), &|_| {})
        .await
        .unwrap();
    assert_eq!(back.runs.len(), STREAMS.len(), "{back:?}");
    assert!(ws.network_status().online);
    assert_eq!(f.all_payments().await.len(), 120);
}
