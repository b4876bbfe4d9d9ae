//! Square end to end: connected through the fake's OAuth (browser flow, auto-approved),
//! synced into the store, and a refund sent through the outbox. Every check compares the
//! store with what the fake holds, or counts requests at the fake.

mod common;

use std::collections::{HashMap, HashSet};
use switchboard_app::Trigger;
use switchboard_core::views::{ConnectionView, NewRefund, SyncRunView};
use switchboard_store::Store;

/// Connects the fake Square as "Square", with the fake's scope checks off: these tests are
/// about the data (the catalogue's scopes against Square's checks are tested on their own,
/// `the_catalogue_scopes_pass_squares_scope_checks_on_every_stream`).
async fn connect(f: &common::Fixture) -> ConnectionView {
    f.sandbox.square().set_scope_checks(false);
    let request = common::square_request(&f.sandbox, "Square");
    f.workspace
        .connect_oauth(request, &common::browser())
        .await
        .unwrap()
}

async fn sync(f: &common::Fixture) -> Vec<SyncRunView> {
    f.workspace
        .sync(Some("Square"), Trigger::Manual, &|_| {})
        .await
        .unwrap()
}

fn run<'a>(runs: &'a [SyncRunView], stream: &str) -> &'a SyncRunView {
    runs.iter()
        .find(|r| r.stream == stream)
        .unwrap_or_else(|| panic!("no {stream} run in {runs:#?}"))
}

/// The workspace's database, opened beside the workspace (WAL: a second reader is fine).
fn db(f: &common::Fixture) -> Store {
    Store::open_folder(f.dir.path()).unwrap()
}

/// `(external id → the columns asked for)` of one table, for the Square connection.
fn rows(
    f: &common::Fixture,
    connection: &str,
    sql_columns: &str,
    table: &str,
) -> HashMap<String, Vec<String>> {
    let store = db(f);
    let conn = store.conn();
    let sql = format!("SELECT external_id, {sql_columns} FROM {table} WHERE connection_id = ?1");
    let mut stmt = conn.prepare(&sql).unwrap();
    let n = sql_columns.split(',').count();
    let mapped = stmt
        .query_map([connection], |row| {
            let id: String = row.get(0)?;
            let values = (1..=n)
                .map(|i| {
                    row.get::<_, switchboard_store::rusqlite::types::Value>(i)
                        .map(|v| match v {
                            switchboard_store::rusqlite::types::Value::Null => "NULL".into(),
                            switchboard_store::rusqlite::types::Value::Integer(i) => i.to_string(),
                            switchboard_store::rusqlite::types::Value::Text(t) => t,
                            other => format!("{other:?}"),
                        })
                })
                .collect::<Result<Vec<String>, _>>()?;
            Ok((id, values))
        })
        .unwrap();
    let mut out = HashMap::new();
    for row in mapped {
        let (id, values) = row.unwrap();
        assert!(
            out.insert(id.clone(), values).is_none(),
            "{table}: {id} twice"
        );
    }
    out
}

fn ids(items: &[serde_json::Value]) -> HashSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn keys(map: &HashMap<String, Vec<String>>) -> HashSet<String> {
    map.keys().cloned().collect()
}

fn amount(v: &serde_json::Value) -> String {
    v["amount"].as_i64().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stores_every_square_object_once_with_its_amounts() {
    let f = common::fixture(5).await;
    let square = connect(&f).await;
    assert!(
        square.sync_interval_minutes.is_some(),
        "Square is pulled: scheduled"
    );
    let runs = sync(&f).await;
    let streams: Vec<&str> = runs.iter().map(|r| r.stream.as_str()).collect();
    assert_eq!(
        streams,
        [
            "payments",
            "refunds",
            "payouts",
            "customers",
            "disputes",
            "subscriptions"
        ]
    );
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    let all = f.sandbox.square().snapshot();
    let id = &square.id;

    // Payments: every location's, each once, with the total (tip included), refunds, fee and
    // net; yen in whole units.
    let payments = rows(
        &f,
        id,
        "amount_minor, currency, currency_exponent, refunded_minor, fee_minor, net_minor, status, method",
        "payments",
    );
    assert_eq!(keys(&payments), ids(&all.payments));
    assert_eq!(run(&runs, "payments").inserted as usize, all.payments.len());
    let mut yen = 0;
    for p in &all.payments {
        let row = &payments[p["id"].as_str().unwrap()];
        let currency = p["total_money"]["currency"].as_str().unwrap();
        assert_eq!(row[0], amount(&p["total_money"]), "{p}");
        assert_eq!(row[1], currency);
        assert_eq!(row[2], if currency == "JPY" { "0" } else { "2" });
        let refunded = p.get("refunded_money").map_or("0".to_string(), amount);
        assert_eq!(row[3], refunded);
        match p["processing_fee"][0].get("amount_money") {
            Some(fee) => {
                assert_eq!(row[4], amount(fee));
                let net =
                    p["total_money"]["amount"].as_i64().unwrap() - fee["amount"].as_i64().unwrap();
                assert_eq!(row[5], net.to_string());
            }
            None => assert_eq!((row[4].as_str(), row[5].as_str()), ("NULL", "NULL")),
        }
        yen += usize::from(currency == "JPY");
    }
    assert!(yen > 10, "JPY payments synced: {yen}");
    let statuses: HashSet<&str> = payments.values().map(|r| r[6].as_str()).collect();
    assert!(
        statuses.is_superset(&HashSet::from(["succeeded", "failed"])),
        "{statuses:?}"
    );
    let methods: HashSet<&str> = payments.values().map(|r| r[7].as_str()).collect();
    assert!(
        methods.is_superset(&HashSet::from(["card", "cash", "wallet"])),
        "{methods:?}"
    );

    let refunds = rows(&f, id, "amount_minor, payment_external_id", "refunds");
    assert_eq!(keys(&refunds), ids(&all.refunds));
    for r in &all.refunds {
        let row = &refunds[r["id"].as_str().unwrap()];
        assert_eq!(
            row,
            &vec![
                amount(&r["amount_money"]),
                r["payment_id"].as_str().unwrap().to_string()
            ]
        );
    }
    let disputes = rows(&f, id, "amount_minor, status", "disputes");
    assert_eq!(keys(&disputes), ids(&all.disputes));
    assert!(disputes.values().any(|d| d[1] == "needs_response"));
    let customers = rows(&f, id, "name, email", "customers");
    assert_eq!(keys(&customers), ids(&all.customers));
    let subscriptions = rows(&f, id, "status, cancel_at_period_end", "subscriptions");
    assert_eq!(keys(&subscriptions), ids(&all.subscriptions));
    assert!(
        subscriptions
            .values()
            .any(|s| s == &vec!["active".to_string(), "1".to_string()])
    );

    // Payouts with every entry, each payout reconciling exactly with its entries.
    let payouts = rows(&f, id, "amount_minor, status", "payouts");
    assert_eq!(keys(&payouts), ids(&all.payouts));
    let entries = rows(&f, id, "payout_external_id, net_minor", "payout_entries");
    assert_eq!(keys(&entries), ids(&all.payout_entries));
    for (payout, row) in &payouts {
        let net: i64 = entries
            .values()
            .filter(|e| &e[0] == payout)
            .map(|e| e[1].parse::<i64>().unwrap())
            .sum();
        assert_eq!(net.to_string(), row[0], "payout {payout}");
    }
    assert!(payouts.values().any(|p| p[1] == "in_transit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_costs_a_request_or_so_per_stream_and_brings_what_is_new() {
    let f = common::fixture(5).await;
    let square = connect(&f).await;
    sync(&f).await;
    let locations = f.sandbox.square().snapshot().locations.len();

    f.sandbox.square().reset_counters();
    let runs = sync(&f).await;
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    assert!(
        runs.iter().all(|r| r.inserted == 0 && r.updated == 0),
        "{runs:#?}"
    );
    let c = f.sandbox.square().counters();
    assert_eq!(c.route("GET /v2/locations"), 1, "read once per sync");
    assert_eq!(
        c.route("GET /v2/payments"),
        locations,
        "one page per location"
    );
    assert_eq!(c.route("GET /v2/payouts"), locations);
    for route in [
        "GET /v2/refunds",
        "GET /v2/customers",
        "GET /v2/disputes",
        "POST /v2/subscriptions/search",
    ] {
        assert_eq!(c.route(route), 1, "{route}");
    }
    // Only the newest payouts (the last hour before the previous run's newest) get their
    // entries read again; the others within the lookback are read for their status.
    assert!(
        c.route("GET /v2/payouts/{payout_id}/payout-entries") <= locations,
        "{c:?}"
    );
    assert!(
        run(&runs, "payouts").fetched < 40,
        "{:#?}",
        run(&runs, "payouts")
    );

    // New payments at the fake arrive with the next sync, and only they.
    let usd = f.sandbox.square().add_payment_now(12_345, "USD");
    let yen = f.sandbox.square().add_payment_now(4_500, "JPY");
    let runs = sync(&f).await;
    let payments = run(&runs, "payments");
    assert_eq!(
        (payments.inserted, payments.updated),
        (2, 0),
        "{payments:#?}"
    );
    let stored = rows(
        &f,
        &square.id,
        "amount_minor, currency, currency_exponent",
        "payments",
    );
    assert_eq!(stored[&usd], ["12345", "USD", "2"]);
    assert_eq!(stored[&yen], ["4500", "JPY", "0"]);

    // A payout that arrives at the bank is read again within the lookback: SENT → PAID.
    assert_eq!(f.sandbox.square().complete_sent_payouts(), 2);
    let runs = sync(&f).await;
    assert_eq!(run(&runs, "payouts").updated, 2, "{runs:#?}");
    let payouts = rows(&f, &square.id, "status", "payouts");
    assert!(payouts.values().all(|p| p[0] == "paid"), "{payouts:?}");

    // A payout whose entries do not add up is stored as Square says, for reconciliation.
    let odd = f.sandbox.square().add_mismatched_payout();
    sync(&f).await;
    let payout = rows(&f, &square.id, "amount_minor", "payouts")[&odd][0].clone();
    let net: i64 = rows(
        &f,
        &square.id,
        "payout_external_id, net_minor",
        "payout_entries",
    )
    .values()
    .filter(|e| e[0] == odd)
    .map(|e| e[1].parse::<i64>().unwrap())
    .sum();
    assert_eq!(payout.parse::<i64>().unwrap() - net, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_through_the_outbox_lands_once_at_square() {
    let f = common::fixture(5).await;
    connect(&f).await;
    let payment = f.sandbox.square().add_payment_now(5_000, "USD");
    sync(&f).await;
    f.sandbox.square().reset_counters();
    let item = f
        .workspace
        .refund_payment(NewRefund {
            payment: payment.clone(),
            amount_minor: Some(1_200),
            reason: Some("requested_by_customer".into()),
        })
        .await
        .unwrap();
    assert_eq!(item.status, "succeeded", "{item:#?}");
    assert_eq!(item.attempts, 1);
    let at_square = f.sandbox.square().refunds_of(&payment);
    assert_eq!(at_square.len(), 1);
    assert_eq!(at_square[0]["amount_money"]["amount"], 1_200);
    assert!(
        at_square[0]["reason"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(Switchboard {})", item.id)),
        "{}",
        at_square[0]
    );
    assert_eq!(
        item.result_external_id.as_deref(),
        at_square[0]["id"].as_str()
    );
    // Stored at once: the refund, and the payment as Square has it now.
    let refunded = rows(&f, &item.connection_id, "refunded_minor", "payments");
    assert_eq!(refunded[&payment], ["1200"]);
    let quote = f.workspace.refund_quote(&payment).await.unwrap();
    assert_eq!(quote.refundable_minor, 3_800);

    // Another pass sends nothing; a sync finds the same refund, not a second one.
    f.workspace.process_outbox().await.unwrap();
    let runs = sync(&f).await;
    assert_eq!(run(&runs, "refunds").inserted, 0, "{runs:#?}");
    assert_eq!(f.sandbox.square().counters().route("POST /v2/refunds"), 1);
    assert_eq!(f.sandbox.square().refunds_of(&payment).len(), 1);
    let refunds = rows(&f, &item.connection_id, "payment_external_id", "refunds");
    assert_eq!(refunds.values().filter(|r| r[0] == payment).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_scopes_pass_squares_scope_checks_on_every_stream() {
    let f = common::fixture(5).await;
    let square = connect(&f).await;
    // Square's own scope checks, against the scopes the catalogue asks for (DISPUTES_READ and
    // SUBSCRIPTIONS_READ included: without them those two streams fail with 403).
    f.sandbox.square().set_scope_checks(true);
    let runs = sync(&f).await;
    for stream in [
        "payments",
        "refunds",
        "payouts",
        "customers",
        "disputes",
        "subscriptions",
    ] {
        assert_eq!(run(&runs, stream).status, "succeeded", "{runs:#?}");
    }
    // Not a dead sign-in: the connection stays connected and its data is there.
    let after = f.workspace.find_connection("Square").await.unwrap();
    assert_eq!(
        after.status,
        switchboard_core::views::ConnectionStatus::Connected
    );
    assert_eq!(
        rows(&f, &square.id, "amount_minor", "payments").len(),
        f.sandbox.square().snapshot().payments.len()
    );
}
