//! The Square payments fake over HTTP, as a client meets it: a token from the Square OAuth
//! fake, then every operation's answers (every page of every list, the retrieves, the writes
//! and every error body) checked against Square's official spec (`shared/specs/square.json`),
//! plus Square's list defaults, cursor pagination, idempotency, scopes and the test hooks.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_sandbox::{Sandbox, SandboxConfig, SquareFault};
use switchboard_speccheck::{Spec, assert_no_violations};

const REDIRECT: &str = "http://127.0.0.1:53682/oauth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-square-payments";
const VERSION: &str = "2025-08-20";
/// Every scope the operations need.
const ALL_SCOPES: &str = "MERCHANT_PROFILE_READ PAYMENTS_READ PAYMENTS_WRITE CUSTOMERS_READ \
     PAYOUTS_READ DISPUTES_READ SUBSCRIPTIONS_READ SUBSCRIPTIONS_WRITE ORDERS_READ ORDERS_WRITE";
/// Before Square existed: lists with this `begin_time` reach every seeded object.
const EPOCH: &str = "2009-01-01T00:00:00Z";

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("square.json").unwrap_or_else(|e| panic!("{e}")))
}

async fn sandbox(seed: u64) -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed,
        stripe_charges: 2,
    })
    .await
    .expect("sandbox starts")
}

struct Answer {
    status: StatusCode,
    version: String,
    body: Value,
    text: String,
}

/// A client of the fake holding one access token.
struct Square {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// Signs in at the Square OAuth fake with `scopes` (PKCE, auto-approved) and returns a client.
async fn sign_in(sb: &Sandbox, scopes: &str) -> Square {
    let oauth = sb.oauth("square");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", oauth.client_id()),
        ("redirect_uri", REDIRECT),
        ("state", "s"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("scope", scopes),
    ])
    .unwrap();
    let redirect = http
        .get(format!("{}?{query}", oauth.authorize_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let tokens: Value = http
        .post(oauth.token_url())
        .json(&json!({
            "client_id": oauth.client_id(),
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Square {
        http,
        base: oauth.api_base(),
        token: tokens["access_token"]
            .as_str()
            .expect("a token")
            .to_string(),
    }
}

impl Square {
    async fn send(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Answer {
        let url = format!("{}{path_and_query}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(&self.token)
        .header("Square-Version", VERSION);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let version = resp
            .headers()
            .get("square-version")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            version,
            body,
            text,
        }
    }

    /// Expect 200 and a body valid against `method template`'s response schema.
    async fn ok(&self, method: &str, template: &str, path: &str, body: Option<&Value>) -> Value {
        let a = self.send(method, path, body).await;
        assert_eq!(a.status, StatusCode::OK, "{method} {path}: {}", a.text);
        assert_eq!(a.version, VERSION, "{path}: Square-Version of the answer");
        let violations = spec()
            .validate_response(method, template, 200, &a.body)
            .unwrap();
        assert_no_violations(&format!("{method} {path}"), &violations);
        assert!(a.body.get("errors").is_none(), "{}", a.text);
        a.body
    }

    /// Expect `status` with Square's error envelope (valid against the operation's response
    /// schema, which carries `errors`, and each error against `Error`); returns the first error.
    async fn error(
        &self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<&Value>,
        status: StatusCode,
    ) -> Value {
        let a = self.send(method, path, body).await;
        assert_eq!(a.status, status, "{method} {path}: {}", a.text);
        check_error_body(method, template, &a.body);
        a.body["errors"][0].clone()
    }

    /// Every page of a GET list, following `cursor`; each page checked against the spec.
    async fn walk(&self, template: &str, path: &str, key: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={}", urlencode(c)),
                None => path.to_string(),
            };
            let body = self.ok("GET", template, &url, None).await;
            pages += 1;
            let page = body
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            items.extend(page);
            match body.get("cursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_string()),
                None => return (items, pages),
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

fn check_error_body(method: &str, template: &str, body: &Value) {
    let schema = spec().response_schema(method, template, 200).unwrap();
    assert_no_violations(
        &format!("error of {method} {template}"),
        &spec().validate(schema, body),
    );
    let errors = body["errors"].as_array().expect("an errors array");
    assert!(!errors.is_empty());
    for e in errors {
        let violations = spec().validate_schema("Error", e).unwrap();
        assert_no_violations("Error", &violations);
        assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
    }
}

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap()
}

#[tokio::test]
async fn every_list_pages_through_everything_and_matches_the_spec() {
    let sb = sandbox(11).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    let all = sb.square().snapshot();

    let locations = sq.ok("GET", "/v2/locations", "/v2/locations", None).await["locations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(locations.len(), 3);
    let names: Vec<&str> = locations
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "locations are listed alphabetically by name");
    assert!(locations.iter().any(|l| l["status"] == "INACTIVE"));
    assert!(
        locations
            .iter()
            .any(|l| l["id"] == sb.square().main_location_id())
    );

    // Payments: per location, oldest first, every one exactly once.
    let mut payments = Vec::new();
    for l in &locations {
        let path = format!(
            "/v2/payments?location_id={}&begin_time={EPOCH}&sort_order=ASC&limit=100",
            l["id"].as_str().unwrap()
        );
        let (items, pages) = sq.walk("/v2/payments", &path, "payments").await;
        let times: Vec<&str> = items
            .iter()
            .map(|p| p["created_at"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "ASC order");
        assert!(items.iter().all(|p| p["location_id"] == l["id"]));
        if items.len() > 100 {
            assert!(pages >= 2);
        }
        payments.extend(items);
    }
    assert_eq!(payments.len(), all.payments.len());
    assert_eq!(ids(&payments), ids(&all.payments));
    let currencies: HashSet<&str> = payments
        .iter()
        .map(|p| p["total_money"]["currency"].as_str().unwrap())
        .collect();
    assert_eq!(currencies, HashSet::from(["USD", "JPY", "EUR"]));
    let sources: HashSet<&str> = payments
        .iter()
        .map(|p| p["source_type"].as_str().unwrap())
        .collect();
    assert!(sources.is_superset(&HashSet::from(["CARD", "CASH", "WALLET"])));
    assert!(payments.iter().any(|p| p["processing_fee"].is_array()));
    let refunded: Vec<&Value> = payments
        .iter()
        .filter(|p| p.get("refunded_money").is_some())
        .collect();
    assert!(
        refunded
            .iter()
            .any(|p| p["refunded_money"] == p["total_money"])
    );
    assert!(
        refunded
            .iter()
            .any(|p| amount(&p["refunded_money"]) < amount(&p["total_money"]))
    );

    // Refunds (every location at once), newest updated first.
    let (refunds, _) = sq
        .walk(
            "/v2/refunds",
            &format!("/v2/refunds?begin_time={EPOCH}&sort_field=UPDATED_AT&limit=7"),
            "refunds",
        )
        .await;
    assert_eq!(ids(&refunds), ids(&all.refunds));
    assert_eq!(refunds.len(), all.refunds.len());

    let (disputes, _) = sq.walk("/v2/disputes", "/v2/disputes", "disputes").await;
    assert_eq!(ids(&disputes), ids(&all.disputes));
    let states: HashSet<&str> = disputes
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert!(states.len() >= 5, "{states:?}");

    // Payouts of each location, and each payout's entries adding up to it exactly.
    let mut payouts = Vec::new();
    let mut entries_seen = 0;
    let mut paged_entries = false;
    for l in &locations {
        let path = format!(
            "/v2/payouts?location_id={}&begin_time={EPOCH}&sort_order=ASC",
            l["id"].as_str().unwrap()
        );
        let (items, _) = sq.walk("/v2/payouts", &path, "payouts").await;
        for p in &items {
            let id = p["id"].as_str().unwrap();
            let (entries, pages) = sq
                .walk(
                    "/v2/payouts/{payout_id}/payout-entries",
                    &format!("/v2/payouts/{id}/payout-entries?sort_order=ASC"),
                    "payout_entries",
                )
                .await;
            paged_entries |= pages > 1;
            let net: i64 = entries.iter().map(|e| amount(&e["net_amount_money"])).sum();
            assert_eq!(net, amount(&p["amount_money"]), "payout {id}");
            for e in &entries {
                assert_eq!(e["payout_id"], p["id"]);
                assert_eq!(
                    amount(&e["gross_amount_money"]) - amount(&e["fee_amount_money"]),
                    amount(&e["net_amount_money"])
                );
            }
            entries_seen += entries.len();
        }
        payouts.extend(items);
    }
    assert_eq!(ids(&payouts), ids(&all.payouts));
    assert_eq!(entries_seen, all.payout_entries.len());
    assert!(
        paged_entries,
        "one payout holds more than a page of entries"
    );
    assert!(payouts.iter().any(|p| p["status"] == "SENT"));
    assert!(payouts.iter().any(|p| p["status"] == "PAID"));

    let (customers, _) = sq
        .walk(
            "/v2/customers",
            "/v2/customers?limit=10&sort_field=CREATED_AT&sort_order=DESC",
            "customers",
        )
        .await;
    assert_eq!(ids(&customers), ids(&all.customers));
    let created: Vec<&str> = customers
        .iter()
        .map(|c| c["created_at"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "DESC order");

    // Subscriptions: a POST search, its cursor in the body.
    let mut subscriptions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut body = json!({"limit": 4});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let page = sq
            .ok(
                "POST",
                "/v2/subscriptions/search",
                "/v2/subscriptions/search",
                Some(&body),
            )
            .await;
        subscriptions.extend(
            page["subscriptions"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(ids(&subscriptions), ids(&all.subscriptions));
    let statuses: HashSet<&str> = subscriptions
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(statuses.is_superset(&HashSet::from(["ACTIVE", "PAUSED", "CANCELED", "PENDING"])));

    // Retrieves.
    let p = &payments[0];
    let one = sq
        .ok(
            "GET",
            "/v2/payments/{payment_id}",
            &format!("/v2/payments/{}", p["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(&one["payment"], p);
    let r = &refunds[0];
    let one = sq
        .ok(
            "GET",
            "/v2/refunds/{refund_id}",
            &format!("/v2/refunds/{}", r["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(&one["refund"], r);
}

#[tokio::test]
async fn list_defaults_follow_square_and_the_data_follows_the_seed() {
    let sb = sandbox(12).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    // The seeded data is older than a year by the fake's clock: without `begin_time`,
    // ListPayments looks back one year only.
    let recent = sq.ok("GET", "/v2/payments", "/v2/payments", None).await;
    assert_eq!(recent, json!({}), "an empty list is an empty object");
    // A payment made now is listed by default; it is at the main location (USD).
    let id = sb.square().add_payment_now(1_999, "USD");
    let recent = sq.ok("GET", "/v2/payments", "/v2/payments", None).await;
    assert_eq!(recent["payments"][0]["id"], id);
    assert_eq!(
        recent["payments"][0]["total_money"],
        json!({"amount": 1999, "currency": "USD"})
    );
    // Without location_id: the main location only; newest first.
    let main = sb.square().main_location_id();
    let page = sq
        .ok(
            "GET",
            "/v2/payments",
            &format!("/v2/payments?begin_time={EPOCH}&limit=100"),
            None,
        )
        .await;
    let items = page["payments"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    assert!(page["cursor"].is_string(), "a full page has a cursor");
    assert!(items.iter().all(|p| p["location_id"] == main));
    assert_eq!(items[0]["id"], id, "newest first by default");
    // A JPY payment: amounts in yen (no minor unit).
    let yen = sb.square().add_payment_now(4_500, "JPY");
    let tokyo = sb.square().location_id_for("JPY").unwrap();
    let page = sq
        .ok(
            "GET",
            "/v2/payments",
            &format!("/v2/payments?location_id={tokyo}"),
            None,
        )
        .await;
    assert_eq!(page["payments"][0]["id"], yen);
    assert_eq!(page["payments"][0]["amount_money"]["amount"], 4500);
    // Time filters on `updated_at`.
    let later = sq
        .ok(
            "GET",
            "/v2/payments",
            &format!(
                "/v2/payments?begin_time={EPOCH}&updated_at_begin_time={}&sort_field=UPDATED_AT",
                page["payments"][0]["updated_at"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert!(
        later.get("payments").is_none(),
        "the yen payment is in Tokyo"
    );

    // The same seed gives the same data; another seed other data.
    let again = sandbox(12).await;
    let other = sandbox(13).await;
    let ids_of = |sb: &Sandbox| ids(&sb.square().snapshot().payments);
    let mut before = ids_of(&sb);
    before.remove(&id);
    before.remove(&yen);
    assert_eq!(before, ids_of(&again));
    assert!(ids_of(&other).is_disjoint(&ids_of(&again)));
}

#[tokio::test]
async fn refunds_are_idempotent_by_key_and_change_the_payment() {
    let sb = sandbox(14).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    let payment = sb.square().add_payment_now(5_000, "USD");
    let body = json!({
        "idempotency_key": "sb-2f9c6d0e-1111-4c1e-9d3e-0123456789ab",
        "amount_money": {"amount": 1_200, "currency": "USD"},
        "payment_id": payment,
        "reason": "Customer request",
    });
    let first = sq
        .ok("POST", "/v2/refunds", "/v2/refunds", Some(&body))
        .await;
    let refund = &first["refund"];
    assert_eq!(refund["status"], "PENDING");
    assert_eq!(
        refund["amount_money"],
        json!({"amount": 1200, "currency": "USD"})
    );
    assert_eq!(refund["payment_id"], payment.as_str());
    // The same key and body: the same refund, not a second one.
    let again = sq
        .ok("POST", "/v2/refunds", "/v2/refunds", Some(&body))
        .await;
    assert_eq!(again["refund"]["id"], refund["id"]);
    assert_eq!(sb.square().refunds_of(&payment).len(), 1);
    // The same key with another body is refused.
    let mut other = body.clone();
    other["amount_money"]["amount"] = json!(1_300);
    let e = sq
        .error(
            "POST",
            "/v2/refunds",
            "/v2/refunds",
            Some(&other),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["code"], "IDEMPOTENCY_KEY_REUSED");
    // Square's RefundPayment keys are at most 45 characters.
    let mut long = body.clone();
    long["idempotency_key"] = json!("switchboard-2f9c6d0e-1111-4c1e-9d3e-0123456789ab");
    let e = sq
        .error(
            "POST",
            "/v2/refunds",
            "/v2/refunds",
            Some(&long),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("VALUE_TOO_LONG"), Some("idempotency_key"))
    );
    // More than is left.
    let mut too_much = body.clone();
    too_much["idempotency_key"] = json!("sb-too-much");
    too_much["amount_money"]["amount"] = json!(3_801);
    let e = sq
        .error(
            "POST",
            "/v2/refunds",
            "/v2/refunds",
            Some(&too_much),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(
        (e["category"].as_str(), e["code"].as_str()),
        (Some("REFUND_ERROR"), Some("REFUND_AMOUNT_INVALID"))
    );
    // Unknown payment, unknown field, not JSON.
    let mut unknown = body.clone();
    unknown["idempotency_key"] = json!("sb-unknown");
    unknown["payment_id"] = json!("nope");
    let e = sq
        .error(
            "POST",
            "/v2/refunds",
            "/v2/refunds",
            Some(&unknown),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(e["code"], "NOT_FOUND");
    let mut extra = body.clone();
    extra["metadata"] = json!({"x": "y"});
    let e = sq
        .error(
            "POST",
            "/v2/refunds",
            "/v2/refunds",
            Some(&extra),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["code"], "UNKNOWN_BODY_PARAMETER");

    // The payment shows what was refunded, and is updated.
    let after = sq
        .ok(
            "GET",
            "/v2/payments/{payment_id}",
            &format!("/v2/payments/{payment}"),
            None,
        )
        .await;
    assert_eq!(after["payment"]["refunded_money"]["amount"], 1200);
    assert_eq!(after["payment"]["refund_ids"], json!([refund["id"]]));
    let got = sq
        .ok(
            "GET",
            "/v2/refunds/{refund_id}",
            &format!("/v2/refunds/{}", refund["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(got["refund"]["status"], "COMPLETED");
    assert!(
        got["refund"]["processing_fee"][0]["amount_money"]["amount"]
            .as_i64()
            .unwrap()
            < 0
    );
}

#[tokio::test]
async fn payment_links_and_subscription_cancels() {
    let sb = sandbox(15).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    let main = sb.square().main_location_id();
    let body = json!({
        "idempotency_key": "switchboard-link-1",
        "description": "switchboard_outbox_id=0190",
        "quick_pay": {
            "name": "Deposit for the March workshop",
            "price_money": {"amount": 25_000, "currency": "USD"},
            "location_id": main,
        },
        "pre_populated_data": {"buyer_email": "ada@example.com"},
    });
    let created = sq
        .ok(
            "POST",
            "/v2/online-checkout/payment-links",
            "/v2/online-checkout/payment-links",
            Some(&body),
        )
        .await;
    let link = &created["payment_link"];
    assert!(link["url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(link["pre_populated_data"]["buyer_email"], "ada@example.com");
    assert_eq!(
        created["related_resources"]["orders"][0]["total_money"]["amount"],
        25_000
    );
    let again = sq
        .ok(
            "POST",
            "/v2/online-checkout/payment-links",
            "/v2/online-checkout/payment-links",
            Some(&body),
        )
        .await;
    assert_eq!(again["payment_link"]["id"], link["id"]);
    let mut other = body.clone();
    other["quick_pay"]["price_money"]["amount"] = json!(1);
    let e = sq
        .error(
            "POST",
            "/v2/online-checkout/payment-links",
            "/v2/online-checkout/payment-links",
            Some(&other),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["code"], "IDEMPOTENCY_KEY_REUSED");
    let (links, _) = sq
        .walk(
            "/v2/online-checkout/payment-links",
            "/v2/online-checkout/payment-links",
            "payment_links",
        )
        .await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["description"], "switchboard_outbox_id=0190");

    // Cancel: the subscription ends with its paid period; a second cancel is refused.
    let active = sb
        .square()
        .snapshot()
        .subscriptions
        .into_iter()
        .find(|s| s["status"] == "ACTIVE" && s.get("canceled_date").is_none())
        .unwrap();
    let id = active["id"].as_str().unwrap();
    let path = format!("/v2/subscriptions/{id}/cancel");
    let template = "/v2/subscriptions/{subscription_id}/cancel";
    let done = sq.ok("POST", template, &path, None).await;
    assert_eq!(done["subscription"]["status"], "ACTIVE");
    assert_eq!(
        done["subscription"]["canceled_date"],
        active["charged_through_date"]
    );
    assert_eq!(done["actions"][0]["type"], "CANCEL");
    let e = sq
        .error("POST", template, &path, None, StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(e["code"], "BAD_REQUEST");
    let got = sq
        .ok(
            "GET",
            "/v2/subscriptions/{subscription_id}",
            &format!("/v2/subscriptions/{id}"),
            None,
        )
        .await;
    assert_eq!(
        got["subscription"]["canceled_date"],
        active["charged_through_date"]
    );
    let e = sq
        .error(
            "POST",
            template,
            "/v2/subscriptions/nope/cancel",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(e["code"], "NOT_FOUND");
}

#[tokio::test]
async fn bad_requests_get_square_errors() {
    let sb = sandbox(16).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    let cases: [(&str, &str, StatusCode, &str); 9] = [
        (
            "/v2/payments",
            "/v2/payments?begin_time=yesterday",
            StatusCode::BAD_REQUEST,
            "INVALID_TIME",
        ),
        (
            "/v2/payments",
            "/v2/payments?sort_order=UP",
            StatusCode::BAD_REQUEST,
            "INVALID_SORT_ORDER",
        ),
        (
            "/v2/payments",
            "/v2/payments?cursor=garbage",
            StatusCode::BAD_REQUEST,
            "INVALID_CURSOR",
        ),
        (
            "/v2/payments",
            "/v2/payments?starting_after=x",
            StatusCode::BAD_REQUEST,
            "UNKNOWN_QUERY_PARAMETER",
        ),
        (
            "/v2/payments",
            "/v2/payments?limit=ten",
            StatusCode::BAD_REQUEST,
            "EXPECTED_INTEGER",
        ),
        (
            "/v2/customers",
            "/v2/customers?limit=101",
            StatusCode::BAD_REQUEST,
            "VALUE_TOO_HIGH",
        ),
        (
            "/v2/refunds",
            "/v2/refunds?begin_time=2024-02-01T00:00:00Z&end_time=2024-01-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
            "INVALID_TIME_RANGE",
        ),
        (
            "/v2/payments/{payment_id}",
            "/v2/payments/nope",
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            "/v2/payouts/{payout_id}/payout-entries",
            "/v2/payouts/po_nope/payout-entries",
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ];
    for (template, path, status, code) in cases {
        let e = sq.error("GET", template, path, None, status).await;
        assert_eq!(e["code"], code, "{path}");
    }
    // A limit above the maximum falls back to the default rather than failing.
    let page = sq
        .ok(
            "GET",
            "/v2/payments",
            &format!("/v2/payments?begin_time={EPOCH}&limit=500"),
            None,
        )
        .await;
    assert_eq!(page["payments"].as_array().unwrap().len(), 100);
    // A malformed Square-Version.
    let bad = sq
        .http
        .get(format!("{}/v2/locations", sq.base))
        .bearer_auth(&sq.token)
        .header("Square-Version", "latest")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "INVALID_SQUARE_VERSION_FORMAT");
    // Injected faults, in Square's shape.
    sb.square().fail_next(1, SquareFault::RateLimited);
    sb.square().fail_next(1, SquareFault::ServerError);
    let e = sq
        .error(
            "GET",
            "/v2/locations",
            "/v2/locations",
            None,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    assert_eq!(
        (e["category"].as_str(), e["code"].as_str()),
        (Some("RATE_LIMIT_ERROR"), Some("RATE_LIMITED"))
    );
    let e = sq
        .error(
            "GET",
            "/v2/locations",
            "/v2/locations",
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
    assert_eq!(e["code"], "INTERNAL_SERVER_ERROR");
    sq.ok("GET", "/v2/locations", "/v2/locations", None).await;
    let counters = sb.square().counters();
    assert_eq!(counters.route("GET /v2/locations"), 4);
    assert_eq!(
        counters.versions.get(VERSION).copied(),
        Some(counters.requests() - 1)
    );
    assert_eq!(counters.status(429), 1);
}

#[tokio::test]
async fn tokens_and_scopes_are_checked_as_square_does() {
    let sb = sandbox(17).await;
    let narrow = sign_in(&sb, "MERCHANT_PROFILE_READ PAYMENTS_READ").await;
    sb.square().reset_counters();
    // A missing scope: 403 naming it.
    let e = narrow
        .error(
            "GET",
            "/v2/disputes",
            "/v2/disputes",
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(
        (e["category"].as_str(), e["code"].as_str()),
        (Some("AUTHENTICATION_ERROR"), Some("INSUFFICIENT_SCOPES"))
    );
    assert!(e["detail"].as_str().unwrap().contains("DISPUTES_READ"));
    sb.square().set_scope_checks(false);
    narrow.ok("GET", "/v2/disputes", "/v2/disputes", None).await;
    sb.square().set_scope_checks(true);

    // No token, an unknown one, an expired one, a revoked one: Square's 401s, before the
    // payments fake sees the request.
    let anonymous = narrow
        .http
        .get(format!("{}/v2/payments", narrow.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    check_error_body("GET", "/v2/payments", &body);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    let codes = |s: &Square| {
        let s = Square {
            http: s.http.clone(),
            base: s.base.clone(),
            token: s.token.clone(),
        };
        async move {
            let a = s.send("GET", "/v2/payments", None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
            check_error_body("GET", "/v2/payments", &a.body);
            a.body["errors"][0]["code"].as_str().unwrap().to_string()
        }
    };
    let unknown = Square {
        http: narrow.http.clone(),
        base: narrow.base.clone(),
        token: "EAAAl-not-a-token".into(),
    };
    assert_eq!(codes(&unknown).await, "UNAUTHORIZED");
    sb.oauth("square").advance(Duration::from_secs(31 * 86_400));
    assert_eq!(codes(&narrow).await, "ACCESS_TOKEN_EXPIRED");
    let fresh = sign_in(&sb, "MERCHANT_PROFILE_READ PAYMENTS_READ").await;
    fresh
        .ok("GET", "/v2/locations", "/v2/locations", None)
        .await;
    sb.oauth("square").revoke_all_grants();
    assert_eq!(codes(&fresh).await, "ACCESS_TOKEN_REVOKED");
    let counters = sb.square().counters();
    assert_eq!(
        counters.route("GET /v2/payments"),
        0,
        "refused before the fake"
    );
    assert_eq!(counters.route("GET /v2/locations"), 1);
}

#[tokio::test]
async fn test_hooks_move_payouts_and_make_a_mismatched_one() {
    let sb = sandbox(18).await;
    let sq = sign_in(&sb, ALL_SCOPES).await;
    let sent: Vec<String> = sb
        .square()
        .snapshot()
        .payouts
        .iter()
        .filter(|p| p["status"] == "SENT")
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), 2, "the newest payout of each active location");
    assert_eq!(sb.square().complete_sent_payouts(), 2);
    let after: HashMap<String, Value> = sb
        .square()
        .snapshot()
        .payouts
        .into_iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p))
        .collect();
    for id in &sent {
        assert_eq!(after[id]["status"], "PAID");
        assert_eq!(after[id]["version"], 2);
    }

    let odd = sb.square().add_mismatched_payout();
    let page = sq.ok("GET", "/v2/payouts", "/v2/payouts", None).await;
    let payout = &page["payouts"][0];
    assert_eq!(
        payout["id"],
        odd.as_str(),
        "created now: newest, within the default year"
    );
    let entries = sq
        .ok(
            "GET",
            "/v2/payouts/{payout_id}/payout-entries",
            &format!("/v2/payouts/{odd}/payout-entries"),
            None,
        )
        .await;
    let net: i64 = entries["payout_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| amount(&e["net_amount_money"]))
        .sum();
    assert_eq!(amount(&payout["amount_money"]) - net, 100);
}
