//! The Stripe fake's disputes, payouts (and what they contain), customers, subscriptions,
//! events, subscription updates and Checkout Sessions, over HTTP, every answer checked against
//! Stripe's official OpenAPI document (`shared/specs/stripe.json`).

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use reqwest::StatusCode;
use serde_json::Value;
use switchboard_sandbox::stripe::{
    CREATE_CHECKOUT_SESSION_ROUTE, DisputeStatus, PayoutStatus, UPDATE_SUBSCRIPTION_ROUTE,
};
use switchboard_sandbox::{Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("stripe.json").unwrap_or_else(|e| panic!("{e}")))
}

struct Answer {
    status: StatusCode,
    replayed: bool,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    fn new(sandbox: &Sandbox) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: sandbox.stripe_api_base(),
            key: sandbox.stripe_api_key(),
        }
    }

    /// GET, validated against the operation `template`'s answer for its status.
    async fn get(&self, template: &str, path_and_query: &str) -> Answer {
        let resp = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .bearer_auth(&self.key)
            .header("Stripe-Version", "2023-08-16")
            .send()
            .await
            .expect("request");
        self.checked("GET", template, path_and_query, resp).await
    }

    /// POST (form), validated against the operation `template`'s answer for its status.
    async fn post(
        &self,
        template: &str,
        path: &str,
        form: &[(&str, &str)],
        key: Option<&str>,
    ) -> Answer {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .form(form);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req.send().await.expect("request");
        self.checked("POST", template, path, resp).await
    }

    async fn checked(
        &self,
        method: &str,
        template: &str,
        what: &str,
        resp: reqwest::Response,
    ) -> Answer {
        let status = resp.status();
        let replayed = resp.headers().get("idempotent-replayed").is_some();
        assert!(
            resp.headers()
                .get("request-id")
                .is_some_and(|v| v.to_str().unwrap().starts_with("req_")),
            "Request-Id on {what}"
        );
        let text = resp.text().await.expect("body");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let violations = spec()
            .validate_response(method, template, status.as_u16(), &body)
            .unwrap();
        assert_no_violations(&format!("{method} {what} ({status})"), &violations);
        Answer {
            status,
            replayed,
            body,
        }
    }

    async fn ok(&self, template: &str, path_and_query: &str) -> Value {
        let a = self.get(template, path_and_query).await;
        assert_eq!(a.status, StatusCode::OK, "{path_and_query}: {}", a.body);
        a.body
    }

    /// Every page of a list (limit 100, `starting_after`), each validated.
    async fn walk(&self, path: &str, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let cursor = after
                .as_ref()
                .map(|a| format!("&starting_after={a}"))
                .unwrap_or_default();
            let page = self
                .ok(path, &format!("{path}?limit=100{query}{cursor}"))
                .await;
            assert_eq!(
                (page["object"].as_str(), page["url"].as_str()),
                (Some("list"), Some(path))
            );
            let data = page["data"].as_array().unwrap();
            all.extend(data.iter().cloned());
            if page["has_more"] != true {
                return all;
            }
            assert_eq!(data.len(), 100, "a page with has_more is full");
            after = Some(data.last().unwrap()["id"].as_str().unwrap().to_string());
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

fn newest_first_unique(what: &str, items: &[Value]) {
    let unique: HashSet<String> = ids(items).into_iter().collect();
    assert_eq!(unique.len(), items.len(), "{what}: duplicate ids");
    for pair in items.windows(2) {
        let key = |v: &Value| {
            (
                v["created"].as_i64().unwrap(),
                v["id"].as_str().unwrap().to_string(),
            )
        };
        assert!(key(&pair[0]) > key(&pair[1]), "{what}: not newest first");
    }
}

async fn sandbox(seed: u64, charges: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed,
        stripe_charges: charges,
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test]
async fn disputes_payouts_customers_and_subscriptions_list_and_retrieve_as_the_spec_says() {
    let sb = sandbox(42, 1_200).await;
    let c = Client::new(&sb);
    let counts = sb.stripe().object_counts();

    let disputes = c.walk("/v1/disputes", "").await;
    let payouts = c.walk("/v1/payouts", "").await;
    let customers = c.walk("/v1/customers", "").await;
    let subscriptions = c.walk("/v1/subscriptions", "&status=all").await;
    assert_eq!(disputes.len(), counts.disputes);
    assert_eq!(payouts.len(), counts.payouts);
    assert_eq!(customers.len(), counts.customers);
    assert_eq!(subscriptions.len(), counts.subscriptions);
    assert!(disputes.len() >= 2 && payouts.len() > 100, "{counts:?}");
    assert!(
        customers.len() >= 20 && subscriptions.len() >= 3,
        "{counts:?}"
    );
    for (what, items) in [
        ("disputes", &disputes),
        ("payouts", &payouts),
        ("customers", &customers),
        ("subscriptions", &subscriptions),
    ] {
        newest_first_unique(what, items);
    }

    // A disputed charge says so; a dispute is for its charge's amount.
    for d in &disputes {
        let charge = c
            .ok(
                "/v1/charges/{charge}",
                &format!("/v1/charges/{}", d["charge"].as_str().unwrap()),
            )
            .await;
        assert_eq!(charge["disputed"], true);
        assert_eq!(
            (&charge["amount"], &charge["currency"]),
            (&d["amount"], &d["currency"])
        );
        let one = c
            .ok(
                "/v1/disputes/{dispute}",
                &format!("/v1/disputes/{}", d["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(&one, d);
    }
    let by_charge = c
        .ok(
            "/v1/disputes",
            &format!(
                "/v1/disputes?charge={}",
                disputes[0]["charge"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        ids(by_charge["data"].as_array().unwrap()),
        ids(&disputes[..1])
    );

    // Each payout is its `payout` balance transaction; statuses and filters.
    let payout_bts = c.walk("/v1/balance_transactions", "&type=payout").await;
    let by_source: BTreeMap<&str, &Value> = payout_bts
        .iter()
        .map(|b| (b["source"].as_str().unwrap(), b))
        .collect();
    for p in &payouts {
        let bt = by_source[p["id"].as_str().unwrap()];
        assert_eq!(
            bt["amount"].as_i64().unwrap(),
            -p["amount"].as_i64().unwrap()
        );
        assert_eq!(p["balance_transaction"], bt["id"]);
        assert_eq!(
            (
                p["automatic"].as_bool(),
                p["reconciliation_status"].as_str()
            ),
            (Some(true), Some("completed"))
        );
    }
    let paid = c.walk("/v1/payouts", "&status=paid").await;
    assert!(!paid.is_empty() && paid.iter().all(|p| p["status"] == "paid"));
    let t = payouts[40]["arrival_date"].as_i64().unwrap();
    let arriving = c
        .walk("/v1/payouts", &format!("&arrival_date[gte]={t}"))
        .await;
    assert!(
        !arriving.is_empty()
            && arriving
                .iter()
                .all(|p| p["arrival_date"].as_i64().unwrap() >= t)
    );
    let one = payouts[7]["id"].as_str().unwrap();
    assert_eq!(
        c.ok("/v1/payouts/{payout}", &format!("/v1/payouts/{one}"))
            .await,
        payouts[7]
    );

    // Customers: the charges' customers, each created before its first charge.
    let charges = c.walk("/v1/charges", "").await;
    let customer_ids: HashSet<&str> = customers
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for charge in &charges {
        if let Some(cus) = charge["customer"].as_str() {
            assert!(customer_ids.contains(cus), "{cus}");
            let customer = customers.iter().find(|c| c["id"] == cus).unwrap();
            assert!(customer["created"].as_i64() < charge["created"].as_i64());
        }
    }
    let email = customers[3]["email"].as_str().unwrap();
    let found = c
        .ok("/v1/customers", &format!("/v1/customers?email={email}"))
        .await;
    assert!(
        ids(found["data"].as_array().unwrap())
            .contains(&customers[3]["id"].as_str().unwrap().to_string())
    );
    let cus = customers[5]["id"].as_str().unwrap();
    assert_eq!(
        c.ok("/v1/customers/{customer}", &format!("/v1/customers/{cus}"))
            .await,
        customers[5]
    );

    // Subscriptions: Stripe leaves canceled ones out unless asked.
    let default = c.walk("/v1/subscriptions", "").await;
    assert!(default.iter().all(|s| s["status"] != "canceled"));
    assert_eq!(
        default.len(),
        subscriptions
            .iter()
            .filter(|s| s["status"] != "canceled")
            .count()
    );
    for s in &subscriptions {
        assert!(customer_ids.contains(s["customer"].as_str().unwrap()));
        assert!(s["current_period_start"].as_i64() < s["current_period_end"].as_i64());
        if s["cancel_at_period_end"] == true {
            assert_eq!(s["cancel_at"], s["current_period_end"]);
        }
    }
    let owner = subscriptions[0]["customer"].as_str().unwrap();
    let theirs = c
        .walk(
            "/v1/subscriptions",
            &format!("&status=all&customer={owner}"),
        )
        .await;
    assert!(theirs.iter().all(|s| s["customer"] == owner) && !theirs.is_empty());
    let sub = subscriptions[0]["id"].as_str().unwrap();
    assert_eq!(
        c.ok(
            "/v1/subscriptions/{subscription_exposed_id}",
            &format!("/v1/subscriptions/{sub}")
        )
        .await,
        subscriptions[0]
    );
    let bad = c
        .get("/v1/subscriptions", "/v1/subscriptions?status=sleeping")
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("status"))
    );
    let missing = c.get("/v1/payouts/{payout}", "/v1/payouts/po_nope").await;
    assert_eq!(
        (missing.status, missing.body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("resource_missing"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_payouts_transactions_add_up_to_it_and_include_the_payout_itself() {
    let sb = sandbox(7, 600).await;
    let c = Client::new(&sb);
    let unbalanced = sb.stripe().add_unbalanced_payout();
    let payouts = c.walk("/v1/payouts", "").await;
    assert!(payouts.iter().any(|p| p["id"] == unbalanced.as_str()));
    for p in payouts
        .iter()
        .step_by(9)
        .chain(payouts.iter().filter(|p| p["id"] == unbalanced.as_str()))
    {
        let id = p["id"].as_str().unwrap();
        let members = c
            .walk("/v1/balance_transactions", &format!("&payout={id}"))
            .await;
        let (own, contents): (Vec<&Value>, Vec<&Value>) = members
            .iter()
            .partition(|b| b["type"] == "payout" && b["source"] == id);
        assert_eq!(own.len(), 1, "{id} lists its own transaction");
        assert_eq!(
            own[0]["amount"].as_i64().unwrap(),
            -p["amount"].as_i64().unwrap()
        );
        let net: i64 = contents.iter().map(|b| b["net"].as_i64().unwrap()).sum();
        if id == unbalanced {
            assert_eq!(net + 100, p["amount"].as_i64().unwrap(), "one dollar short");
        } else {
            assert_eq!(net, p["amount"].as_i64().unwrap(), "{id} adds up");
        }
        assert!(contents.iter().all(|b| b["currency"] == p["currency"]));
    }

    // A manual payout cannot be listed that way; an unknown one does not exist.
    let manual = sb.stripe().add_manual_payout(50_000, "usd");
    let refused = c
        .get(
            "/v1/balance_transactions",
            &format!("/v1/balance_transactions?payout={manual}"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("automatic")
    );
    let manual_obj = c
        .ok("/v1/payouts/{payout}", &format!("/v1/payouts/{manual}"))
        .await;
    assert_eq!(
        (
            manual_obj["automatic"].as_bool(),
            manual_obj["reconciliation_status"].as_str()
        ),
        (Some(false), Some("not_applicable"))
    );
    let unknown = c
        .get(
            "/v1/balance_transactions",
            "/v1/balance_transactions?payout=po_unknown",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    sb.shutdown().await;
}

#[tokio::test]
async fn state_changes_emit_events_kept_for_30_days() {
    let sb = sandbox(3, 200).await;
    let c = Client::new(&sb);
    let ctl = sb.stripe();
    // Seeded objects are older than Stripe keeps events.
    let none = c.ok("/v1/events", "/v1/events").await;
    assert_eq!(none["data"], Value::Array(vec![]));

    let charge = ctl.add_charge_now(7_000, "eur");
    let refund = c
        .post(
            "/v1/refunds",
            "/v1/refunds",
            &[("charge", &charge), ("amount", "2500")],
            Some("key-refund-1"),
        )
        .await;
    assert_eq!(refund.status, StatusCode::OK);
    let dispute = ctl.open_dispute(&charge);
    ctl.set_dispute_status(&dispute, DisputeStatus::UnderReview);
    ctl.set_dispute_status(&dispute, DisputeStatus::Won);
    let payout = ctl.add_payout_now(&[&charge]);
    assert_eq!(ctl.advance_payout(&payout), PayoutStatus::InTransit);
    assert_eq!(ctl.advance_payout(&payout), PayoutStatus::Paid);

    let events = c.walk("/v1/events", "").await;
    newest_first_unique("events", &events);
    let kinds: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "charge.succeeded",
            "charge.refunded",
            "refund.created",
            "charge.dispute.created",
            "charge.dispute.updated",
            "charge.dispute.closed",
            "payout.created",
            "payout.updated",
            "payout.reconciliation_completed",
            "payout.updated",
            "payout.paid",
        ]
    );
    // Each carries the object after the change, and what changed.
    let refunded = events
        .iter()
        .find(|e| e["type"] == "charge.refunded")
        .unwrap();
    assert_eq!(refunded["data"]["object"]["id"], charge.as_str());
    assert_eq!(refunded["data"]["object"]["amount_refunded"], 2500);
    assert_eq!(
        refunded["data"]["previous_attributes"]["amount_refunded"],
        0
    );
    assert_eq!(refunded["request"]["idempotency_key"], "key-refund-1");
    let paid = events.iter().find(|e| e["type"] == "payout.paid").unwrap();
    assert_eq!(paid["data"]["object"]["status"], "paid");
    let closed = events
        .iter()
        .find(|e| e["type"] == "charge.dispute.closed")
        .unwrap();
    assert_eq!(
        closed["data"]["previous_attributes"]["status"],
        "under_review"
    );
    let first = events[0]["id"].as_str().unwrap();
    assert_eq!(
        c.ok("/v1/events/{id}", &format!("/v1/events/{first}"))
            .await,
        events[0]
    );

    // Filters: types[], type with a wildcard, not both; created.
    let two = c
        .walk("/v1/events", "&types[]=charge.refunded&types[]=payout.paid")
        .await;
    assert_eq!(two.len(), 2);
    let disputes = c.walk("/v1/events", "&type=charge.dispute.*").await;
    assert_eq!(disputes.len(), 3);
    let both = c
        .get(
            "/v1/events",
            "/v1/events?type=charge.refunded&types[]=payout.paid",
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let after = events[0]["created"].as_i64().unwrap() + 1;
    assert!(
        c.walk("/v1/events", &format!("&created[gte]={after}"))
            .await
            .is_empty()
    );

    // More than a page: cursors both ways visit each event once, in order.
    for _ in 0..150 {
        ctl.emit_event("charge.updated", &charge);
    }
    let all = c.walk("/v1/events", "").await;
    assert_eq!(all.len(), 161);
    newest_first_unique("161 events", &all);
    let oldest = all.last().unwrap()["id"].as_str().unwrap();
    let mut forward = Vec::new();
    let mut before = oldest.to_string();
    loop {
        let page = c
            .ok(
                "/v1/events",
                &format!("/v1/events?limit=100&ending_before={before}"),
            )
            .await;
        let data = page["data"].as_array().unwrap();
        forward.splice(0..0, ids(data));
        if page["has_more"] != true {
            break;
        }
        before = data[0]["id"].as_str().unwrap().to_string();
    }
    assert_eq!(forward, ids(&all[..160]));

    // Retention: once the events are gone, lists and retrieves no longer have them.
    ctl.expire_events();
    assert_eq!(
        c.ok("/v1/events", "/v1/events").await["data"],
        Value::Array(vec![])
    );
    let gone = c
        .get("/v1/events/{id}", &format!("/v1/events/{first}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(sb.stripe().object_counts().events, 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn cancel_at_period_end_applies_once_per_idempotency_key() {
    let sb = sandbox(5, 300).await;
    let c = Client::new(&sb);
    let ctl = sb.stripe();
    let subs = c.walk("/v1/subscriptions", "&status=active").await;
    let sub = subs
        .iter()
        .find(|s| s["cancel_at_period_end"] == false)
        .expect("an active subscription")
        .clone();
    let id = sub["id"].as_str().unwrap();
    let path = format!("/v1/subscriptions/{id}");
    let template = "/v1/subscriptions/{subscription_exposed_id}";

    let first = c
        .post(
            template,
            &path,
            &[("cancel_at_period_end", "true")],
            Some("cancel-1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(!first.replayed);
    assert_eq!(first.body["cancel_at_period_end"], true);
    assert_eq!(first.body["cancel_at"], sub["current_period_end"]);
    assert_eq!(
        first.body["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    assert_eq!(
        first.body["status"], sub["status"],
        "it runs to the end of the period"
    );
    let again = c
        .post(
            template,
            &path,
            &[("cancel_at_period_end", "true")],
            Some("cancel-1"),
        )
        .await;
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    assert_eq!(ctl.subscription_updates(), 1);
    assert_eq!(ctl.counters().path(UPDATE_SUBSCRIPTION_ROUTE), 2);
    let updated: Vec<_> = ctl
        .events()
        .into_iter()
        .filter(|(_, kind, object)| kind == "customer.subscription.updated" && object == id)
        .collect();
    assert_eq!(updated.len(), 1, "one change, one event");
    assert_eq!(ctl.subscription(id).unwrap(), first.body);

    // Another key asking the same changes nothing (and says so by emitting nothing).
    let same = c
        .post(
            template,
            &path,
            &[("cancel_at_period_end", "true")],
            Some("cancel-2"),
        )
        .await;
    assert_eq!((same.status, same.replayed), (StatusCode::OK, false));
    assert_eq!(ctl.subscription_updates(), 1);

    // Refusals, each in Stripe's error shape.
    let reused = c
        .post(
            template,
            &path,
            &[("cancel_at_period_end", "false")],
            Some("cancel-1"),
        )
        .await;
    assert_eq!(
        (reused.status, reused.body["error"]["type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_error"))
    );
    let unknown = c
        .post(
            template,
            "/v1/subscriptions/sub_nope",
            &[("cancel_at_period_end", "true")],
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let boolean = c
        .post(template, &path, &[("cancel_at_period_end", "yes")], None)
        .await;
    assert_eq!(boolean.status, StatusCode::BAD_REQUEST);
    let canceled = c.walk("/v1/subscriptions", "&status=canceled").await;
    if let Some(done) = canceled.first() {
        let path = format!("/v1/subscriptions/{}", done["id"].as_str().unwrap());
        let refused = c
            .post(template, &path, &[("cancel_at_period_end", "true")], None)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let metadata = c
            .post(template, &path, &[("metadata[note]", "kept")], None)
            .await;
        assert_eq!(
            (metadata.status, metadata.body["metadata"]["note"].as_str()),
            (StatusCode::OK, Some("kept"))
        );
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_checkout_session_is_created_once_per_idempotency_key() {
    let sb = sandbox(5, 50).await;
    let c = Client::new(&sb);
    let ctl = sb.stripe();
    let form = [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", "12500"),
        (
            "line_items[0][price_data][product_data][name]",
            "Deposit: kitchen renovation",
        ),
        ("line_items[0][quantity]", "1"),
        ("customer_email", "ada@example.com"),
        ("success_url", "https://example.com/thanks"),
        ("metadata[switchboard_outbox_id]", "obx_1"),
        (
            "payment_intent_data[metadata][switchboard_outbox_id]",
            "obx_1",
        ),
    ];
    let first = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &form,
            Some("link-1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let session = &first.body;
    assert_eq!(
        (
            session["amount_total"].as_i64(),
            session["currency"].as_str()
        ),
        (Some(12_500), Some("eur"))
    );
    assert_eq!(
        (
            session["status"].as_str(),
            session["payment_status"].as_str()
        ),
        (Some("open"), Some("unpaid"))
    );
    assert_eq!(session["customer_email"], "ada@example.com");
    let id = session["id"].as_str().unwrap();
    assert!(session["url"].as_str().unwrap().ends_with(id));
    let again = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &form,
            Some("link-1"),
        )
        .await;
    assert!(again.replayed);
    assert_eq!(&again.body, session);
    assert_eq!(ctl.checkout_sessions_created(), 1);
    assert_eq!(
        ctl.checkout_sessions_with_metadata("switchboard_outbox_id", "obx_1"),
        [id]
    );
    assert_eq!(ctl.counters().path(CREATE_CHECKOUT_SESSION_ROUTE), 2);

    // Listed and retrieved as created.
    let listed = c.walk("/v1/checkout/sessions", "").await;
    assert_eq!(listed, std::slice::from_ref(session));
    assert_eq!(
        &c.ok(
            "/v1/checkout/sessions/{session}",
            &format!("/v1/checkout/sessions/{id}")
        )
        .await,
        session
    );
    let narrowed = c
        .ok(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions?customer=cus_x",
        )
        .await;
    assert_eq!(narrowed["data"], Value::Array(vec![]));

    // What Stripe refuses.
    let without = |drop: &str| {
        form.iter()
            .filter(|(k, _)| *k != drop)
            .copied()
            .collect::<Vec<_>>()
    };
    let no_url = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &without("success_url"),
            None,
        )
        .await;
    assert_eq!(
        (no_url.status, no_url.body["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("success_url"))
    );
    let no_mode = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &without("mode"),
            None,
        )
        .await;
    assert_eq!(no_mode.status, StatusCode::BAD_REQUEST);
    let mut priced = without("line_items[0][price_data][unit_amount]");
    priced.retain(|(k, _)| !k.starts_with("line_items[0][price_data]"));
    priced.push(("line_items[0][price]", "price_nope"));
    let unknown_price = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &priced,
            None,
        )
        .await;
    assert_eq!(unknown_price.body["error"]["code"], "resource_missing");
    let reused = c
        .post(
            "/v1/checkout/sessions",
            "/v1/checkout/sessions",
            &without("customer_email"),
            Some("link-1"),
        )
        .await;
    assert_eq!(reused.body["error"]["type"], "idempotency_error");
    assert_eq!(ctl.checkout_sessions_created(), 1);
    sb.shutdown().await;
}
