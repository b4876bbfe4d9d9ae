//! The sync engine against the sandbox: bad answers each have a defined outcome, and a run
//! that stops half-way resumes from its last committed page with no duplicate and no gap.

mod common;

use common::{fixture, run};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use switchboard_app::Trigger;
use switchboard_sandbox::{Corruption, Fault};

/// Charges for the tests that stop a run part-way: the engine fetches up to 20 pages ahead of
/// its commits, so a stop decided at the first progress event must leave pages to spare.
const CHARGES_AHEAD: i64 = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_incremental_sync_is_exact_and_cheap() {
    let f = fixture(1500).await;
    let runs = f.sync().await;
    let charges = run(&runs, "charges");
    assert_eq!(charges.status, "succeeded");
    assert_eq!(
        (charges.fetched, charges.inserted, charges.updated),
        (1500, 1500, 0)
    );
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let payments = f.all_payments().await;
    assert_eq!(payments.len(), 1500);
    let ids: HashSet<_> = payments.iter().map(|p| &p.external_id).collect();
    assert_eq!(ids.len(), 1500);

    let before = f.sandbox.stripe().request_count();
    let again = f.sync().await;
    let charges = run(&again, "charges");
    assert_eq!((charges.inserted, charges.updated), (0, 0));
    assert!(
        charges.fetched < 100,
        "incremental run refetched {}",
        charges.fetched
    );
    // One page per stream: O(1) requests when nothing is new.
    assert_eq!(
        f.sandbox.stripe().request_count() - before,
        switchboard_providers::stripe::STREAMS.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_keep_their_currency_rules() {
    let f = fixture(300).await;
    f.sync().await;
    let payments = f.all_payments().await;
    let jpy = payments
        .iter()
        .find(|p| p.description.as_deref() == Some("Demo: Tokyo workshop deposit"))
        .unwrap();
    assert_eq!(
        (
            jpy.amount_minor,
            jpy.currency.as_str(),
            jpy.currency_exponent
        ),
        (1234, "JPY", 0)
    );
    let eur = payments
        .iter()
        .find(|p| p.description.as_deref() == Some("Demo: Berlin coffee beans"))
        .unwrap();
    assert_eq!(
        (
            eur.amount_minor,
            eur.currency.as_str(),
            eur.currency_exponent
        ),
        (1234, "EUR", 2)
    );
    for p in &payments {
        match p.currency.as_str() {
            "JPY" | "ISK" => assert_eq!(p.currency_exponent, 0, "{p:?}"),
            "KWD" => assert_eq!(p.currency_exponent, 3, "{p:?}"),
            _ => assert_eq!(p.currency_exponent, 2, "{p:?}"),
        }
        if let (Some(fee), Some(net)) = (p.fee_minor, p.net_minor) {
            assert_eq!(p.amount_minor - fee, net, "{p:?}");
        }
    }
    // The detail shows where the money went, in the settlement currency.
    let detail = f.workspace.get_payment(&eur.id).await.unwrap();
    let settlement = detail.settlement.unwrap();
    assert_eq!(
        settlement.amount_minor - settlement.fee_minor,
        settlement.net_minor
    );
    assert!(detail.raw_json.contains(&eur.external_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_status_is_stored_as_unknown_with_a_warning() {
    let f = fixture(50).await;
    f.sandbox
        .stripe()
        .corrupt_next_list_item(Corruption::UnknownStatus);
    let runs = f.sync().await;
    let charges = run(&runs, "charges");
    assert_eq!(charges.status, "succeeded");
    assert_eq!(charges.warnings.len(), 1, "{charges:?}");
    assert!(charges.warnings[0].contains("teleported"));
    let payments = f.all_payments().await;
    assert_eq!(payments.iter().filter(|p| p.status == "unknown").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_missing_a_required_field_is_skipped_and_counted_with_its_id() {
    let f = fixture(50).await;
    f.sandbox
        .stripe()
        .corrupt_next_list_item(Corruption::MissingAmount);
    let runs = f.sync().await;
    let charges = run(&runs, "charges");
    assert_eq!(charges.status, "partial");
    assert_eq!(charges.failed, 1);
    assert_eq!(charges.inserted, 49);
    let message = charges.error_message.as_deref().unwrap();
    assert!(
        message.contains("ch_") && message.contains("amount"),
        "{message}"
    );
    assert_eq!(f.all_payments().await.len(), 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried() {
    let f = fixture(250).await;
    f.sandbox.stripe().fail_next(1, Fault::TruncatedJson);
    f.sandbox.stripe().fail_next(1, Fault::RateLimited);
    let before = f.sandbox.stripe().request_count();
    let runs = f.sync().await;
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    assert_eq!(run(&runs, "charges").inserted, 250);
    assert_eq!(f.all_payments().await.len(), 250);

    // The request log shows each try: the bad answers, then the retries that worked.
    let log = f.workspace.list_requests(Some("Main"), 1000).await.unwrap();
    let mut oldest_first = log.clone();
    oldest_first.reverse();
    let first_three: Vec<_> = oldest_first
        .iter()
        .take(3)
        .map(|r| (r.path.as_str(), r.status, r.attempt))
        .collect();
    assert_eq!(
        first_three,
        [
            ("/v1/charges", Some(200), 1),
            ("/v1/charges", Some(429), 2),
            ("/v1/charges", Some(200), 3)
        ]
    );
    assert!(log.iter().all(|r| {
        r.request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_"))
    }));
    assert!(
        log.iter()
            .all(|r| r.host == "127.0.0.1" && !r.path.contains('?'))
    );
    // Every request of every stream was logged, the 2 faults included: as many as the fake
    // answered during the sync.
    assert_eq!(log.len(), f.sandbox.stripe().request_count() - before);
    let key = f.sandbox.stripe_api_key();
    assert!(!format!("{log:?}").contains(&key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fails_midway_is_partial_and_the_next_resumes_from_its_checkpoint() {
    let f = fixture(CHARGES_AHEAD as usize).await;
    let control = f.sandbox.stripe().clone();
    let armed = AtomicBool::new(true);
    // Once the first pages are committed, the provider starts sending garbage for longer than
    // the retries last: the run must keep every page it stored and stop. (How many pages that
    // is depends on how many arrived while the first commit ran: the engine fetches ahead.)
    let progress = move |p: switchboard_core::views::SyncProgress| {
        if p.stream == "charges" && armed.swap(false, Ordering::SeqCst) {
            control.fail_next(3, Fault::NotJson);
        }
    };
    let runs = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &progress)
        .await
        .unwrap();
    let charges = run(&runs, "charges");
    assert_eq!(charges.status, "partial", "{charges:?}");
    let kept = charges.inserted;
    assert_eq!(charges.fetched, kept);
    assert!(
        (100..CHARGES_AHEAD).contains(&kept) && kept % 100 == 0,
        "{charges:?}"
    );
    assert_eq!(charges.error_code.as_deref(), Some("bad_response"));
    assert_eq!(f.all_payments().await.len() as i64, kept);

    // The next run continues after the last committed page: it fetches only the rest.
    let resumed = f.sync().await;
    let charges = run(&resumed, "charges");
    assert_eq!(charges.status, "succeeded");
    assert_eq!(
        (charges.fetched, charges.inserted, charges.updated),
        (CHARGES_AHEAD - kept, CHARGES_AHEAD - kept, 0)
    );
    let payments = f.all_payments().await;
    assert_eq!(payments.len() as i64, CHARGES_AHEAD);
    let ids: HashSet<_> = payments.iter().map(|p| &p.external_id).collect();
    assert_eq!(ids.len() as i64, CHARGES_AHEAD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_objects_inside_the_lookback_are_picked_up() {
    let f = fixture(200).await;
    f.sync().await;
    let newest = f.all_payments().await[0].created_at.clone();
    let newest = chrono::DateTime::parse_from_rfc3339(&newest)
        .unwrap()
        .timestamp();
    let late = f.sandbox.stripe().add_charge_at(newest - 600, 4200, "usd");
    let fresh = f.sandbox.stripe().add_charge_now(990, "eur");
    let runs = f.sync().await;
    assert_eq!(run(&runs, "charges").inserted, 2);
    let ids: HashSet<_> = f
        .all_payments()
        .await
        .into_iter()
        .map(|p| p.external_id)
        .collect();
    assert!(ids.contains(&late) && ids.contains(&fresh));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_marks_the_connection_for_reconnect() {
    let f = fixture(20).await;
    f.sync().await;
    // Point the connection at a sandbox with another seed: its key is not accepted there.
    let other = switchboard_sandbox::Sandbox::start(switchboard_sandbox::SandboxConfig {
        port: 0,
        seed: 1234,
        stripe_charges: 5,
    })
    .await
    .unwrap();
    let c = f.workspace.find_connection("Main").await.unwrap();
    f.workspace
        .set_connection_api_base(&c.id, &other.stripe_api_base())
        .await
        .unwrap();
    let runs = f.sync().await;
    assert_eq!(
        runs.len(),
        1,
        "stops after the first auth failure: {runs:#?}"
    );
    assert_eq!(runs[0].status, "failed");
    assert_eq!(runs[0].error_code.as_deref(), Some("auth_failed"));
    let c = f.workspace.find_connection("Main").await.unwrap();
    assert_eq!(
        c.status,
        switchboard_core::views::ConnectionStatus::NeedsReconnect
    );
    assert!(c.last_error.is_some());
    // Nothing that was stored is lost.
    assert_eq!(f.all_payments().await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_keeps_its_pages_and_the_next_continues() {
    let f = fixture(CHARGES_AHEAD as usize).await;
    let workspace = &f.workspace;
    let progress = |p: switchboard_core::views::SyncProgress| {
        if p.stream == "charges" && p.pages >= 3 {
            workspace.cancel_sync(Some("Main"));
        }
    };
    let runs = workspace
        .sync(Some("Main"), Trigger::Manual, &progress)
        .await
        .unwrap();
    assert_eq!(
        runs.len(),
        1,
        "a cancel stops the remaining streams: {runs:#?}"
    );
    assert_eq!(runs[0].status, "cancelled");
    assert_eq!(runs[0].error_code.as_deref(), Some("cancelled"));
    // Every page fetched before the cancel is kept (the engine fetches ahead of its commits).
    let kept = runs[0].inserted;
    assert!(
        (300..CHARGES_AHEAD).contains(&kept) && kept % 100 == 0,
        "{runs:?}"
    );
    assert_eq!(f.all_payments().await.len() as i64, kept);
    // A cancel is not an error on the connection.
    let c = workspace.find_connection("Main").await.unwrap();
    assert!(c.last_error.is_none(), "{c:?}");

    // A cancel asked while nothing runs does not stop the next sync, which resumes.
    workspace.cancel_sync(None);
    let resumed = f.sync().await;
    let charges = run(&resumed, "charges");
    assert_eq!(
        (charges.status.as_str(), charges.fetched, charges.inserted),
        ("succeeded", CHARGES_AHEAD - kept, CHARGES_AHEAD - kept)
    );
    assert_eq!(f.all_payments().await.len() as i64, CHARGES_AHEAD);
}
