//! Stripe in full against the sandbox: disputes, payouts with what they contain, customers and
//! subscriptions stored once each; later changes to old objects arriving through the events
//! stream; the windowed re-list when the app was away longer than Stripe keeps events; and the
//! writes (cancel at period end, payment requests) applied once per idempotency key.

mod common;

use common::{Fixture, fixture, run};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use switchboard_app::OutboxPolicy;
use switchboard_core::views::NewPaymentRequest;
use switchboard_providers::stripe::{RELIST_STREAMS, STREAMS, Stripe};
use switchboard_providers::{ManageSubscriptions, PaymentLinkRequest, RequestPayments};
use switchboard_sandbox::PostFault;
use switchboard_store::rusqlite::{Connection, params};

const DAY: i64 = 86_400;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn db(f: &Fixture) -> Connection {
    let conn = Connection::open(f.dir.path().join(switchboard_store::DB_FILE)).unwrap();
    switchboard_store::raw::register(&conn).unwrap();
    conn
}

/// Every row of `table` as external id → raw JSON (parsed), failing on a duplicate.
fn stored(f: &Fixture, table: &str) -> BTreeMap<String, Value> {
    let db = db(f);
    let mut stmt = db
        .prepare(&format!(
            "SELECT external_id, raw_json_text(raw_json) FROM {table}"
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, raw) = row.unwrap();
        let value = serde_json::from_str(&raw).unwrap();
        assert!(
            out.insert(id.clone(), value).is_none(),
            "{table} {id} twice"
        );
    }
    out
}

fn refunded_minor(f: &Fixture, charge: &str) -> i64 {
    db(f)
        .query_row(
            "SELECT refunded_minor FROM payments WHERE external_id = ?1",
            params![charge],
            |r| r.get(0),
        )
        .unwrap()
}

/// Reads the fake over HTTP, as any Stripe client would.
struct Fake {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Fake {
    fn new(f: &Fixture) -> Fake {
        Fake {
            http: reqwest::Client::new(),
            base: f.sandbox.stripe_api_base(),
            key: f.sandbox.stripe_api_key(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every object of a list, by id.
    async fn all(&self, path: &str, query: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut after = String::new();
        loop {
            let page = self.get(&format!("{path}?limit=100{query}{after}")).await;
            let data = page["data"].as_array().unwrap();
            for item in data {
                out.insert(item["id"].as_str().unwrap().to_string(), item.clone());
            }
            if page["has_more"] != true {
                return out;
            }
            after = format!(
                "&starting_after={}",
                data.last().unwrap()["id"].as_str().unwrap()
            );
        }
    }

    fn adapter(&self) -> Stripe {
        Stripe::new(
            switchboard_providers::http::client(),
            Some(&self.base),
            self.key.clone().into(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stores_every_dispute_payout_entry_customer_and_subscription_once() {
    let f = fixture(400).await;
    let unbalanced = f.sandbox.stripe().add_unbalanced_payout();
    let runs = f.sync().await;
    assert_eq!(
        runs.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>(),
        STREAMS
    );
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let fake = Fake::new(&f);

    // Each kind exactly as the fake lists it: every object once, its own JSON.
    for (table, path, query) in [
        ("disputes", "/v1/disputes", ""),
        ("payouts", "/v1/payouts", ""),
        ("customers", "/v1/customers", ""),
        ("subscriptions", "/v1/subscriptions", "&status=all"),
    ] {
        let want = fake.all(path, query).await;
        assert!(!want.is_empty(), "{table}");
        assert_eq!(stored(&f, table), want, "{table}");
    }

    // Every payout's entries: its balance transactions but its own, adding up to it.
    let payouts = fake.all("/v1/payouts", "").await;
    let entries = stored(&f, "payout_entries");
    let mut expected_entries = BTreeSet::new();
    let db = db(&f);
    for (id, payout) in &payouts {
        let members = fake
            .all("/v1/balance_transactions", &format!("&payout={id}"))
            .await;
        expected_entries.extend(
            members
                .values()
                .filter(|b| !(b["type"] == "payout" && b["source"] == id.as_str()))
                .map(|b| b["id"].as_str().unwrap().to_string()),
        );
        let (net, amount): (i64, i64) = db
            .query_row(
                "SELECT (SELECT SUM(net_minor) FROM payout_entries e
                         WHERE e.payout_external_id = p.external_id), p.amount_minor
                 FROM payouts p WHERE p.external_id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if *id == unbalanced {
            assert_ne!(net, amount, "the unbalanced payout does not add up");
        } else {
            assert_eq!(net, amount, "payout {id} ({})", payout["currency"]);
        }
    }
    assert_eq!(
        entries.keys().cloned().collect::<BTreeSet<_>>(),
        expected_entries
    );
    let payouts_run = run(&runs, "payouts");
    assert!(
        payouts_run.warnings.iter().any(|w| w.contains(&unbalanced)),
        "{payouts_run:#?}"
    );
    assert_eq!(
        payouts_run
            .warnings
            .iter()
            .filter(|w| w.contains("does not add up"))
            .count(),
        1
    );

    // Synced again, nothing changes and nothing is written twice.
    let again = f.sync().await;
    for r in &again {
        assert_eq!((r.inserted, r.updated), (0, 0), "{r:#?}");
    }
    assert_eq!(stored(&f, "payout_entries").len(), entries.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_to_old_objects_arrive_through_the_events_stream() {
    let f = fixture(300).await;
    let stripe = f.sandbox.stripe();
    let fresh = stripe.add_charge_now(8_000, "usd");
    let first = f.sync().await;
    // The first run cannot know older changes: it re-lists and says so.
    let events = run(&first, "events");
    assert!(
        events.warnings.iter().any(|w| w.contains("30 days")),
        "{events:#?}"
    );

    // An old charge, long past the charges stream's lookback, is refunded; another is
    // disputed; a payout is made.
    let fake = Fake::new(&f);
    let charges = fake.all("/v1/charges", "").await;
    let mut old: Vec<&Value> = charges
        .values()
        .filter(|c| {
            c["status"] == "succeeded"
                && c["amount_refunded"] == 0
                && c["disputed"] == false
                && c["currency"] == "usd"
                && c["created"].as_i64().unwrap() < now() - 30 * DAY
        })
        .collect();
    old.sort_by_key(|c| c["created"].as_i64());
    let (refunded, disputed) = (
        old[0]["id"].as_str().unwrap(),
        old[1]["id"].as_str().unwrap(),
    );
    let amount = old[0]["amount"].as_i64().unwrap();
    stripe.refund_now(refunded, amount / 2);
    let dispute = stripe.open_dispute(disputed);
    let payout = stripe.add_payout_now(&[&fresh]);

    let before = stripe.counters();
    let second = f.sync().await;
    let after = stripe.counters();
    assert!(
        second.iter().all(|r| r.status == "succeeded"),
        "{second:#?}"
    );
    let events = run(&second, "events");
    assert!(events.warnings.is_empty(), "{events:#?}");
    assert_eq!(events.updated, 1, "the old charge: {events:#?}");
    assert_eq!(refunded_minor(&f, refunded), amount / 2);
    // Without listing all charges again: one page for the charges stream, one for events.
    let delta = |path: &str| after.path(path) - before.path(path);
    assert_eq!(delta("/v1/charges"), 1);
    assert_eq!(delta("/v1/events"), 1);

    // The dispute is won and the payout arrives: the next sync has them so.
    stripe.set_dispute_status(&dispute, switchboard_sandbox::stripe::DisputeStatus::Won);
    stripe.advance_payout(&payout);
    stripe.advance_payout(&payout);
    let third = f.sync().await;
    assert!(third.iter().all(|r| r.status == "succeeded"), "{third:#?}");
    let status = |table: &str, id: &str| -> String {
        db(&f)
            .query_row(
                &format!("SELECT status FROM {table} WHERE external_id = ?1"),
                params![id],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(status("disputes", &dispute), "won");
    assert_eq!(status("payouts", &payout), "paid");
    // Paid and reconciled, the payout's contents are stored too.
    let entries: i64 = db(&f)
        .query_row(
            "SELECT COUNT(*) FROM payout_entries WHERE payout_external_id = ?1",
            params![payout],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(entries, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_offline_longer_than_the_event_retention_re_lists_a_window_and_says_so() {
    let f = fixture(100).await;
    let stripe = f.sandbox.stripe();
    // A charge ten days old, and a newer one that moves the charges stream's cursor past it.
    let ten_days_old = stripe.add_charge_at(now() - 10 * DAY, 5_000, "usd");
    stripe.add_charge_now(1_000, "usd");
    f.sync().await;
    assert_eq!(refunded_minor(&f, &ten_days_old), 0);

    // While the app is away for weeks the charge is refunded, and the event ages out.
    stripe.refund_now(&ten_days_old, 2_000);
    stripe.expire_events();
    let connection = f.workspace.find_connection("Main").await.unwrap();
    let forty_days_ago = now() - 40 * DAY;
    let moved = db(&f)
        .execute(
            "UPDATE sync_cursors SET high_water = ?1 WHERE connection_id = ?2 AND stream = 'events'",
            params![forty_days_ago, connection.id],
        )
        .unwrap();
    assert_eq!(moved, 1);

    let before = stripe.counters();
    let runs = f.sync().await;
    let after = stripe.counters();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let events = run(&runs, "events");
    assert_eq!(events.warnings.len(), 1, "{events:#?}");
    let warning = &events.warnings[0];
    assert!(
        warning.contains("30 days")
            && warning.contains("re-listed")
            && warning.contains("40 days ago"),
        "{warning}"
    );
    // The charges stream did not see the charge again (its cursor is past it); the re-list did.
    assert_eq!(refunded_minor(&f, &ten_days_old), 2_000);
    assert_eq!(after.path("/v1/charges") - before.path("/v1/charges"), 2);
    for stream in RELIST_STREAMS {
        let path = format!("/v1/{stream}");
        assert!(after.path(&path) > before.path(&path), "{stream} re-listed");
    }

    // Back within the retention, the next run reads events only.
    let before = stripe.counters();
    let runs = f.sync().await;
    let events = run(&runs, "events");
    assert!(events.warnings.is_empty(), "{events:#?}");
    assert_eq!(
        stripe.counters().path("/v1/events") - before.path("/v1/events"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_at_period_end_changes_the_subscription_once_when_sent_twice() {
    let f = fixture(200).await;
    let fake = Fake::new(&f);
    let active = fake.all("/v1/subscriptions", "&status=active").await;
    let (id, before) = active
        .iter()
        .find(|(_, s)| s["cancel_at_period_end"] == false)
        .expect("an active subscription");
    let stripe = fake.adapter();
    let replays = f.sandbox.stripe().idempotent_replays();
    let first = stripe
        .cancel_at_period_end(id, "switchboard-cancel-1")
        .await
        .unwrap();
    let second = stripe
        .cancel_at_period_end(id, "switchboard-cancel-1")
        .await
        .unwrap();
    assert_eq!(first, second);
    assert!(first.cancel_at_period_end);
    assert_eq!(first.next_charge_at, None, "it will not charge again");
    assert_eq!(first.status, before["status"].as_str().unwrap());
    assert_eq!(f.sandbox.stripe().subscription_updates(), 1);
    assert_eq!(f.sandbox.stripe().idempotent_replays() - replays, 1);
    let now_at_fake = f.sandbox.stripe().subscription(id).unwrap();
    assert_eq!(now_at_fake["cancel_at"], before["current_period_end"]);

    // The next sync stores it as it is now.
    f.sync().await;
    let stored: i64 = db(&f)
        .query_row(
            "SELECT cancel_at_period_end FROM subscriptions WHERE external_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);

    // Not a subscription id: refused before anything is sent.
    let err = stripe
        .cancel_at_period_end("../charges", "k")
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        switchboard_providers::ProviderErrorKind::InvalidRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_link_is_created_once_per_idempotency_key() {
    let f = fixture(20).await;
    let fake = Fake::new(&f);
    let stripe = fake.adapter();
    let request = PaymentLinkRequest {
        amount_minor: 12_500,
        currency: "EUR".into(),
        currency_exponent: 2,
        description: "Deposit: kitchen renovation".into(),
        customer_email: Some("ada@example.com".into()),
        return_url: Some("https://example.com/thanks".into()),
        idempotency_key: "switchboard-link-1".into(),
        outbox_id: "obx-1".into(),
    };
    let first = stripe.create_payment_link(&request).await.unwrap();
    let again = stripe.create_payment_link(&request).await.unwrap();
    assert_eq!(
        (&first.external_id, &first.url),
        (&again.external_id, &again.url)
    );
    assert!(
        first.url.starts_with("https://checkout.stripe.com/"),
        "{}",
        first.url
    );
    let ctl = f.sandbox.stripe();
    assert_eq!(ctl.checkout_sessions_created(), 1);
    let session: Value = serde_json::from_str(&first.raw_json).unwrap();
    assert_eq!(
        (
            session["amount_total"].as_i64(),
            session["currency"].as_str()
        ),
        (Some(12_500), Some("eur"))
    );
    assert_eq!(session["customer_email"], "ada@example.com");
    assert_eq!(session["success_url"], "https://example.com/thanks");

    // The look-up after an uncertain send finds it by the outbox id, and only it.
    let found = stripe.find_payment_link("obx-1").await.unwrap().unwrap();
    assert_eq!(found.external_id, first.external_id);
    assert!(stripe.find_payment_link("obx-2").await.unwrap().is_none());

    // Another request (another key) is another link; a zero-decimal currency goes as is.
    let yen = PaymentLinkRequest {
        amount_minor: 5_000,
        currency: "JPY".into(),
        currency_exponent: 0,
        idempotency_key: "switchboard-link-2".into(),
        outbox_id: "obx-2".into(),
        customer_email: None,
        ..request
    };
    let second = stripe.create_payment_link(&yen).await.unwrap();
    assert_ne!(second.external_id, first.external_id);
    assert_eq!(ctl.checkout_sessions_created(), 2);
    let session: Value = serde_json::from_str(&second.raw_json).unwrap();
    assert_eq!(session["amount_total"], 5_000);
    assert_eq!(
        ctl.checkout_sessions_with_metadata("switchboard_outbox_id", "obx-2"),
        [second.external_id]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_request_and_a_cancel_go_through_the_outbox_once() {
    let mut f = fixture(60).await;
    // No backoff between outbox passes.
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    f.sync().await;
    let ws = &f.workspace;
    let ctl = f.sandbox.stripe();

    // The session is made but the answer is lost: the look-up finds it, nothing is made twice.
    ctl.fail_next_posts(1, PostFault::ApplyThenReset);
    let queued = ws
        .request_payment(NewPaymentRequest {
            connection: "Main".into(),
            amount: Some("125.00".into()),
            amount_minor: None,
            currency: "EUR".into(),
            description: "Deposit: kitchen renovation".into(),
            customer_email: Some("ada@example.com".into()),
            fallback_from: None,
        })
        .await
        .unwrap();
    assert_eq!(queued.status, "queued", "{queued:#?}");
    assert_eq!(ctl.checkout_sessions_created(), 1);
    let run = ws.process_outbox().await.unwrap();
    assert_eq!((run.succeeded, run.found_by_lookup), (1, 1), "{run:?}");
    let made = ws.payment_request(&queued.id).await.unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    let session = made.external_id.clone().unwrap();
    assert_eq!(
        ctl.checkout_sessions_with_metadata("switchboard_outbox_id", &made.outbox_item_id),
        std::slice::from_ref(&session)
    );
    assert!(made.url.as_deref().unwrap().ends_with(&session));
    assert_eq!(ctl.checkout_sessions_created(), 1);

    // Cancel at period end, once; asking again is refused before anything is sent.
    let subscriptions = ws.list_subscriptions(Some("Main")).await.unwrap();
    let active = subscriptions
        .iter()
        .find(|s| s.status == "active" && !s.cancel_at_period_end)
        .expect("an active subscription");
    let cancelled = ws.cancel_subscription(&active.id).await.unwrap();
    assert!(cancelled.cancel_at_period_end, "{cancelled:#?}");
    assert_eq!(cancelled.next_charge_at, None);
    assert_eq!(ctl.subscription_updates(), 1);
    assert_eq!(
        ctl.subscription(&active.external_id).unwrap()["cancel_at_period_end"],
        true
    );
    assert!(ws.cancel_subscription(&active.id).await.is_err());
    assert_eq!(
        ctl.counters()
            .path(switchboard_sandbox::stripe::UPDATE_SUBSCRIPTION_ROUTE),
        1
    );
}
