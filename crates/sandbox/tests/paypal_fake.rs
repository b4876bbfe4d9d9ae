//! The PayPal payments fake over the wire: Transaction Search, Orders v2, Payments v2,
//! Subscriptions v1 and webhook signature verification. Every answer is checked against
//! `shared/specs/paypal.json` (the operation's response schema for its status; answers the spec
//! does not describe, 429 and some 500s, against its generic `error` / `error_500` schemas), and
//! every money value against the spec's pattern and the currency's decimals.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::{PayPalControl, Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

const DAY: i64 = 86_400;

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("paypal.json").unwrap_or_else(|e| panic!("{e}")))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `2025-03-01T12:00:00Z`
fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(DAY);
    let secs = unix.rem_euclid(DAY);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

struct Fake {
    sb: Sandbox,
    http: reqwest::Client,
    token: String,
}

struct Answer {
    status: u16,
    debug_id: Option<String>,
    body: Value,
}

impl Fake {
    async fn start(seed: u64) -> Fake {
        let sb = Sandbox::start(SandboxConfig {
            seed,
            stripe_charges: 0,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let token = new_token(&http, sb.paypal()).await;
        Fake { sb, http, token }
    }

    fn pp(&self) -> &PayPalControl {
        self.sb.paypal()
    }

    /// Sends a request with the fake's token; checks the answer against the spec's schema of
    /// `template` and PayPal's debug id conventions.
    async fn call(
        &self,
        method: Method,
        template: &str,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        self.call_as(&self.token, method, template, path, query, headers, body)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn call_as(
        &self,
        token: &str,
        method: Method,
        template: &str,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.pp().api_base()))
            .bearer_auth(token)
            .query(query);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let debug_id = response
            .headers()
            .get("paypal-debug-id")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        let answer = Answer {
            status,
            debug_id,
            body,
        };
        check(method.as_str(), template, &answer);
        answer
    }

    async fn search(&self, query: &[(&str, String)]) -> Answer {
        self.call(
            Method::GET,
            "/v1/reporting/transactions",
            "/v1/reporting/transactions",
            query,
            &[],
            None,
        )
        .await
    }
}

async fn new_token(http: &reqwest::Client, pp: &PayPalControl) -> String {
    let answer: Value = http
        .post(format!("{}/v1/oauth2/token", pp.api_base()))
        .basic_auth(pp.client_id(), Some(pp.client_secret()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

/// The spec's schema for the answer, PayPal's debug id on every answer and in every error
/// body, and every money value written with its currency's decimals.
fn check(method: &str, template: &str, a: &Answer) {
    let what = format!("{method} {template} → {}", a.status);
    let debug_id = a
        .debug_id
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no paypal-debug-id"));
    if a.status == 204 {
        assert_eq!(a.body, Value::Null, "{what}: 204 has no body");
        return;
    }
    let violations = match a.status {
        // Not in the spec: PayPal's generic error shape.
        429 => spec().validate_schema("error", &a.body).unwrap(),
        500 if template.starts_with("/v2/payments") => {
            spec().validate_schema("error_500", &a.body).unwrap()
        }
        s => spec()
            .validate_response(method, template, s, &a.body)
            .unwrap_or_else(|e| panic!("{what}: {e}")),
    };
    assert_no_violations(&what, &violations);
    if a.status >= 400 {
        assert_eq!(a.body["debug_id"], json!(debug_id), "{what}");
        assert!(
            a.body["name"].is_string() && a.body["message"].is_string(),
            "{what}"
        );
    }
    check_money(&a.body, &what);
}

/// Every `{"currency_code", "value"}` below `v` has the spec's pattern and the currency's
/// decimals (none for JPY, HUF, TWD; two for the others).
fn check_money(v: &Value, what: &str) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(code)), Some(Value::String(value))) =
                (map.get("currency_code"), map.get("value"))
            {
                let digits = value.strip_prefix('-').unwrap_or(value);
                let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
                assert!(
                    !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()),
                    "{what}: {value}"
                );
                assert!(frac.bytes().all(|b| b.is_ascii_digit()), "{what}: {value}");
                let places = if matches!(code.as_str(), "JPY" | "HUF" | "TWD") {
                    0
                } else {
                    2
                };
                assert_eq!(frac.len(), places, "{what}: {value} {code}");
                assert_eq!(digits.contains('.'), places > 0, "{what}: {value} {code}");
            }
            map.values().for_each(|x| check_money(x, what));
        }
        Value::Array(items) => items.iter().for_each(|x| check_money(x, what)),
        _ => {}
    }
}

fn window(start: i64, end: i64, page: i64) -> Vec<(&'static str, String)> {
    vec![
        ("start_date", rfc3339(start)),
        ("end_date", rfc3339(end)),
        ("fields", "all".into()),
        ("page_size", "500".into()),
        ("page", page.to_string()),
    ]
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.body["transaction_details"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    d["transaction_info"]["transaction_id"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn issue(answer: &Answer) -> String {
    format!(
        "{} {}",
        answer.body["details"][0]["issue"]
            .as_str()
            .unwrap_or_default(),
        answer.body["details"][0]["description"]
            .as_str()
            .unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_search_serves_every_transaction_once_in_31_day_windows() {
    let f = Fake::start(7).await;
    let all = f.pp().transactions();
    let first = all.iter().map(|t| t.at).min().unwrap();
    let last = all.iter().map(|t| t.at).max().unwrap();
    assert!(last - first > 365 * DAY, "more than a year of history");
    for code in ["T0006", "T0011", "T0002", "T1107", "T0400", "T0200"] {
        assert!(all.iter().any(|t| t.event_code == code), "{code}");
    }
    for currency in ["USD", "EUR", "GBP", "JPY", "HUF"] {
        assert!(all.iter().any(|t| t.currency == currency), "{currency}");
    }
    assert!(all.iter().any(|t| t.fee < 0), "fees charged");

    // Windows that do not share a second: each transaction exactly once.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut multi_page_windows = 0;
    let mut start = first - DAY;
    while start <= last {
        let end = (start + 31 * DAY - 1).min(now());
        let mut page = 1;
        loop {
            let a = f.search(&window(start, end, page)).await;
            assert_eq!(a.status, 200, "{}", a.body);
            assert_eq!(a.body["page"], json!(page));
            for id in ids(&a) {
                *seen.entry(id).or_default() += 1;
            }
            let total_pages = a.body["total_pages"].as_i64().unwrap();
            let rels: Vec<&str> = a.body["links"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["rel"].as_str().unwrap())
                .collect();
            assert_eq!(rels.contains(&"next"), page < total_pages, "{rels:?}");
            if page >= total_pages {
                multi_page_windows += usize::from(total_pages > 1);
                break;
            }
            page += 1;
        }
        start = end + 1;
    }
    assert!(multi_page_windows >= 1, "a window holds more than 500");
    assert_eq!(seen.len(), all.len());
    assert!(seen.values().all(|n| *n == 1), "each once");
    assert!(all.iter().all(|t| seen.contains_key(&t.id)));

    // One line of each kind, as Transaction Search describes them.
    let refund = all.iter().find(|t| t.event_code == "T1107").unwrap();
    let a = f
        .search(&[
            ("start_date", rfc3339(refund.at - DAY)),
            ("end_date", rfc3339(refund.at + DAY)),
            ("fields", "all".into()),
            ("transaction_id", refund.id.clone()),
        ])
        .await;
    assert_eq!(ids(&a), std::slice::from_ref(&refund.id));
    let info = &a.body["transaction_details"][0]["transaction_info"];
    assert_eq!(info["paypal_reference_id_type"], "TXN");
    let capture = all
        .iter()
        .find(|t| Some(&t.id) == refund.reference_id.as_ref())
        .expect("a refund names its capture");
    assert!(capture.amount >= refund.amount.abs());
    assert!(a.body["transaction_details"][0]["payer_info"]["email_address"].is_string());

    // Filters, and the default fields (transaction_info only).
    let withdrawal = all.iter().find(|t| t.event_code == "T0400").unwrap();
    let a = f
        .search(&[
            ("start_date", rfc3339(withdrawal.at - 10 * DAY)),
            ("end_date", rfc3339(withdrawal.at + 10 * DAY)),
            ("transaction_type", "T0400".into()),
        ])
        .await;
    let details = a.body["transaction_details"].as_array().unwrap();
    assert!(!details.is_empty());
    for d in details {
        assert_eq!(d["transaction_info"]["transaction_event_code"], "T0400");
        assert!(
            d["transaction_info"]["transaction_amount"]["value"]
                .as_str()
                .unwrap()
                .starts_with('-')
        );
        assert_eq!(d.as_object().unwrap().len(), 1, "transaction_info only");
    }

    // An empty window leaves `transaction_details` out (the spec asks for at least one).
    let empty = f
        .search(&window(first - 40 * DAY, first - 20 * DAY, 1))
        .await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body["total_items"], 0);
    assert!(empty.body.get("transaction_details").is_none());
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_refuses_what_paypal_refuses() {
    let f = Fake::start(7).await;
    let t = now();
    let too_wide = f.search(&window(t - 32 * DAY, t, 1)).await;
    assert_eq!(too_wide.status, 400);
    assert_eq!(too_wide.body["name"], "INVALID_REQUEST");
    assert!(issue(&too_wide).contains("Date range is greater than 31 days"));
    let exactly_31 = f.search(&window(t - 31 * DAY, t, 1)).await;
    assert_eq!(exactly_31.status, 200);

    let missing = f.search(&[("start_date", rfc3339(t - DAY))]).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["details"][0]["field"], "end_date");
    assert!(issue(&missing).starts_with("MISSING_REQUIRED_PARAMETER"));

    let old = f
        .search(&window(
            t - 3 * 365 * DAY - 2 * DAY,
            t - 3 * 365 * DAY + DAY,
            1,
        ))
        .await;
    assert_eq!(old.status, 400);
    assert_eq!(old.body["details"][0]["field"], "start_date");

    let mut big = window(t - DAY, t, 1);
    big[3].1 = "501".into();
    let big = f.search(&big).await;
    assert_eq!(big.status, 400);
    assert_eq!(big.body["details"][0]["field"], "page_size");

    let bad_date = f
        .search(&[("start_date", "yesterday".into()), ("end_date", rfc3339(t))])
        .await;
    assert_eq!(bad_date.status, 400);
    assert!(issue(&bad_date).starts_with("INVALID_PARAMETER_SYNTAX"));

    f.pp().set_search_permitted(false);
    let forbidden = f.search(&window(t - DAY, t, 1)).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.body["name"], "NOT_AUTHORIZED");
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_show_in_search_only_after_the_delay() {
    let f = Fake::start(3).await;
    let id = f.pp().add_capture_at(now() - 3_600, 12_345, "usd");
    let t = now();
    let visible = |a: &Answer| ids(a).contains(&id);

    f.pp().set_search_delay(2 * 3_600);
    let a = f.search(&window(t - 5 * 3_600, t, 1)).await;
    assert_eq!(a.status, 200);
    assert!(
        !visible(&a),
        "not yet: it happened an hour ago, the delay is two"
    );
    let refreshed = a.body["last_refreshed_datetime"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        a.body["end_date"].as_str().unwrap(),
        refreshed,
        "cut to the last refresh"
    );
    assert!(refreshed <= rfc3339(t - 2 * 3_600 + 5), "{refreshed}");
    let too_recent = f.search(&window(t - 1_800, t, 1)).await;
    assert_eq!(too_recent.status, 400);
    assert!(
        issue(&too_recent).contains("Data for the given start date is not available."),
        "{}",
        too_recent.body
    );

    f.pp().set_search_delay(0);
    let a = f.search(&window(t - 5 * 3_600, now(), 1)).await;
    assert!(visible(&a), "the delay has passed");
    let line = &a.body["transaction_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["transaction_info"]["transaction_id"] == json!(id))
        .unwrap()["transaction_info"];
    assert_eq!(
        line["transaction_amount"],
        json!({"currency_code": "USD", "value": "123.45"})
    );
    assert_eq!(line["fee_amount"]["value"], "-4.80", "3.49 % + 0.49");
    assert_eq!(line["transaction_event_code"], "T0006");
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_unexpired_tokens_the_fake_issued_are_accepted() {
    let f = Fake::start(3).await;
    let t = now();
    let search = |token: String| {
        let f = &f;
        async move {
            f.call_as(
                &token,
                Method::GET,
                "/v1/reporting/transactions",
                "/v1/reporting/transactions",
                &window(t - DAY, t, 1),
                &[],
                None,
            )
            .await
        }
    };
    assert_eq!(search(f.token.clone()).await.status, 200);
    let made_up = search("A21AAnot-a-token".into()).await;
    assert_eq!(made_up.status, 401);
    assert_eq!(made_up.body["name"], "AUTHENTICATION_FAILURE");
    f.pp().expire_tokens();
    assert_eq!(search(f.token.clone()).await.status, 401, "expired");
    let fresh = new_token(&f.http, f.pp()).await;
    assert_eq!(search(fresh).await.status, 200);
    let capture = f.pp().transactions()[0].id.clone();
    let no_token = f
        .call_as(
            "",
            Method::GET,
            "/v2/payments/captures/{capture_id}",
            &format!("/v2/payments/captures/{capture}"),
            &[],
            &[],
            None,
        )
        .await;
    assert_eq!(no_token.status, 401);
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_made_once_per_request_id_approved_then_captured() {
    let f = Fake::start(11).await;
    let order = json!({
        "intent": "CAPTURE",
        "purchase_units": [{
            "reference_id": "q-1",
            "custom_id": "outbox-1",
            "description": "Deposit for the June workshop",
            "amount": {"currency_code": "EUR", "value": "150.00"},
        }],
    });
    let create = |request_id: &'static str, prefer: &'static str, body: Value| {
        let f = &f;
        async move {
            f.call(
                Method::POST,
                "/v2/checkout/orders",
                "/v2/checkout/orders",
                &[],
                &[("PayPal-Request-Id", request_id), ("Prefer", prefer)],
                Some(body),
            )
            .await
        }
    };
    let first = create("req-1", "return=representation", order.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["status"], "CREATED");
    let id = first.body["id"].as_str().unwrap().to_string();
    let approve = first.body["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "approve")
        .expect("an approve link")["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(approve.ends_with(&id), "{approve}");
    assert_eq!(
        first.body["purchase_units"][0]["amount"],
        json!({"currency_code": "EUR", "value": "150.00"})
    );
    let again = create("req-1", "return=minimal", order.clone()).await;
    assert_eq!(again.body["id"], json!(id), "same request id, same order");
    assert_eq!(
        again.body.as_object().unwrap().len(),
        3,
        "minimal: id, status, links"
    );
    assert_eq!(f.pp().order_ids(), std::slice::from_ref(&id));

    // The customer's email: PayPal asks the payer to act.
    let mut with_email = order.clone();
    with_email["payment_source"] = json!({"paypal": {"email_address": "ada@example.com",
        "experience_context": {"user_action": "PAY_NOW"}}});
    let action = create("req-2", "return=representation", with_email).await;
    assert_eq!(action.body["status"], "PAYER_ACTION_REQUIRED");
    assert!(
        action.body["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "payer-action")
    );

    // Refusals.
    let mut jpy = order.clone();
    jpy["purchase_units"][0]["amount"] = json!({"currency_code": "JPY", "value": "1500.5"});
    let bad = create("req-3", "return=minimal", jpy).await;
    assert_eq!(bad.status, 422);
    assert!(issue(&bad).starts_with("DECIMAL_PRECISION"));
    let no_intent = create("req-4", "return=minimal", json!({"purchase_units": []})).await;
    assert_eq!(no_intent.status, 400);

    let capture = |request_id: &'static str| {
        let f = &f;
        let path = format!("/v2/checkout/orders/{id}/capture");
        async move {
            f.call(
                Method::POST,
                "/v2/checkout/orders/{id}/capture",
                &path,
                &[],
                &[
                    ("PayPal-Request-Id", request_id),
                    ("Prefer", "return=representation"),
                ],
                None,
            )
            .await
        }
    };
    let early = capture("cap-0").await;
    assert_eq!(early.status, 422);
    assert!(issue(&early).starts_with("ORDER_NOT_APPROVED"));
    assert!(f.pp().approve_order(&id));
    let shown = f
        .call(
            Method::GET,
            "/v2/checkout/orders/{id}",
            &format!("/v2/checkout/orders/{id}"),
            &[],
            &[],
            None,
        )
        .await;
    assert_eq!(shown.body["status"], "APPROVED");
    let done = capture("cap-1").await;
    assert_eq!(done.status, 201, "{}", done.body);
    assert_eq!(done.body["status"], "COMPLETED");
    let captured = &done.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(captured["status"], "COMPLETED");
    assert_eq!(captured["custom_id"], "outbox-1");
    assert_eq!(
        captured["seller_receivable_breakdown"]["paypal_fee"]["value"],
        "5.63"
    );
    let replay = capture("cap-1").await;
    assert_eq!(
        replay.body["purchase_units"][0]["payments"]["captures"][0]["id"],
        captured["id"]
    );
    let twice = capture("cap-2").await;
    assert_eq!(twice.status, 422);
    assert!(issue(&twice).starts_with("ORDER_ALREADY_CAPTURED"));
    // The capture is in Payments v2 and (after the delay, 0 here) in Transaction Search.
    let capture_id = captured["id"].as_str().unwrap();
    assert!(f.pp().transactions().iter().any(|t| t.id == capture_id));

    let unknown = f
        .call(
            Method::GET,
            "/v2/checkout/orders/{id}",
            "/v2/checkout/orders/NOSUCHORDER0000001",
            &[],
            &[],
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert!(issue(&unknown).starts_with("INVALID_RESOURCE_ID"));
    assert_eq!(f.pp().requests("POST /v2/checkout/orders"), 5);
    assert_eq!(f.pp().requests("POST /v2/checkout/orders/{id}/capture"), 4);
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_partial_then_full_once_per_request_id_never_more_than_left() {
    let f = Fake::start(5).await;
    let capture = f.pp().add_capture_now(10_000, "USD");
    let jpy = f.pp().add_capture_now(1_500, "JPY");
    let refund = |capture: &str, request_id: &'static str, body: Value| {
        let f = &f;
        let path = format!("/v2/payments/captures/{capture}/refund");
        async move {
            f.call(
                Method::POST,
                "/v2/payments/captures/{capture_id}/refund",
                &path,
                &[],
                &[
                    ("PayPal-Request-Id", request_id),
                    ("Prefer", "return=representation"),
                ],
                Some(body),
            )
            .await
        }
    };
    let usd =
        |v: &str| json!({"amount": {"currency_code": "USD", "value": v}, "custom_id": "item-1"});

    let part = refund(&capture, "r-1", usd("30.00")).await;
    assert_eq!(part.status, 201, "{}", part.body);
    assert_eq!(part.body["status"], "COMPLETED");
    assert_eq!(part.body["custom_id"], "item-1");
    assert_eq!(
        part.body["seller_payable_breakdown"]["total_refunded_amount"]["value"],
        "30.00"
    );
    let again = refund(&capture, "r-1", usd("30.00")).await;
    assert_eq!(
        again.body["id"], part.body["id"],
        "same request id, same refund"
    );
    assert_eq!(f.pp().refunds_of(&capture).len(), 1);

    let too_much = refund(&capture, "r-2", usd("70.01")).await;
    assert_eq!(too_much.status, 422);
    assert_eq!(too_much.body["name"], "UNPROCESSABLE_ENTITY");
    assert!(issue(&too_much).starts_with("REFUND_AMOUNT_EXCEEDED"));
    let precise = refund(&capture, "r-3", usd("1.005")).await;
    assert!(issue(&precise).starts_with("DECIMAL_PRECISION"));
    let other_currency = refund(
        &capture,
        "r-4",
        json!({"amount": {"currency_code": "EUR", "value": "1.00"}}),
    )
    .await;
    assert!(issue(&other_currency).starts_with("CURRENCY_MISMATCH"));
    let yen_decimals = refund(
        &jpy,
        "r-5",
        json!({"amount": {"currency_code": "JPY", "value": "10.5"}}),
    )
    .await;
    assert!(issue(&yen_decimals).starts_with("DECIMALS_NOT_SUPPORTED"));

    // No amount: the rest.
    let rest = refund(&capture, "r-6", json!({})).await;
    assert_eq!(rest.status, 201);
    assert_eq!(rest.body["amount"]["value"], "70.00");
    let none_left = refund(&capture, "r-7", usd("1.00")).await;
    assert!(issue(&none_left).starts_with("CAPTURE_FULLY_REFUNDED"));
    assert_eq!(
        f.pp()
            .refunds_of(&capture)
            .iter()
            .map(|r| r.1)
            .collect::<Vec<_>>(),
        [3_000, 7_000]
    );

    let shown = f
        .call(
            Method::GET,
            "/v2/payments/captures/{capture_id}",
            &format!("/v2/payments/captures/{capture}"),
            &[],
            &[],
            None,
        )
        .await;
    assert_eq!(shown.body["status"], "REFUNDED");
    let refund_id = rest.body["id"].as_str().unwrap();
    let got = f
        .call(
            Method::GET,
            "/v2/payments/refunds/{refund_id}",
            &format!("/v2/payments/refunds/{refund_id}"),
            &[],
            &[],
            None,
        )
        .await;
    assert_eq!(got.body["id"], json!(refund_id));
    // The refunds are T1107 lines of the capture; the capture reads as reversed.
    let lines = f.pp().transactions();
    let refunds: Vec<_> = lines
        .iter()
        .filter(|t| t.reference_id.as_deref() == Some(capture.as_str()))
        .collect();
    assert_eq!(refunds.len(), 2);
    assert!(
        refunds
            .iter()
            .all(|t| t.event_code == "T1107" && t.amount < 0)
    );
    assert_eq!(lines.iter().find(|t| t.id == capture).unwrap().status, "V");

    let unknown = refund("NOSUCHCAPTURE0001", "r-8", usd("1.00")).await;
    assert_eq!(unknown.status, 404);
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_read_and_cancelled_at_once() {
    let f = Fake::start(5).await;
    let ids = f.pp().subscription_ids();
    assert_eq!(ids.len(), 6);
    let show = |id: String| {
        let f = &f;
        async move {
            f.call(
                Method::GET,
                "/v1/billing/subscriptions/{id}",
                &format!("/v1/billing/subscriptions/{id}"),
                &[],
                &[],
                None,
            )
            .await
        }
    };
    let cancel = |id: String, body: Value| {
        let f = &f;
        async move {
            f.call(
                Method::POST,
                "/v1/billing/subscriptions/{id}/cancel",
                &format!("/v1/billing/subscriptions/{id}/cancel"),
                &[],
                &[],
                Some(body),
            )
            .await
        }
    };
    let mut active = None;
    for id in &ids {
        let s = show(id.clone()).await;
        assert_eq!(s.status, 200);
        if s.body["status"] == "ACTIVE" {
            assert!(s.body["billing_info"]["next_billing_time"].is_string());
            active = Some(id.clone());
        }
        // Its payments are T0002 lines naming it.
        assert!(
            f.pp()
                .transactions()
                .iter()
                .any(|t| t.event_code == "T0002" && t.reference_id.as_deref() == Some(id.as_str()))
        );
    }
    let id = active.expect("an active subscription");
    let no_reason = cancel(id.clone(), json!({})).await;
    assert_eq!(no_reason.status, 400);
    let done = cancel(id.clone(), json!({"reason": "Customer asked"})).await;
    assert_eq!(done.status, 204);
    let s = show(id.clone()).await;
    assert_eq!(s.body["status"], "CANCELLED");
    assert_eq!(s.body["status_change_note"], "Customer asked");
    assert!(s.body["billing_info"].get("next_billing_time").is_none());
    let twice = cancel(id.clone(), json!({"reason": "again"})).await;
    assert_eq!(twice.status, 422);
    assert!(issue(&twice).starts_with("SUBSCRIPTION_STATUS_INVALID"));
    assert_eq!(show("I-NOSUCHSUB000".into()).await.status, 404);
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_signatures_verify_only_what_the_fake_signed() {
    let f = Fake::start(5).await;
    let event = r#"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.CAPTURE.COMPLETED","resource_type":"capture","create_time":"2024-05-01T10:00:00Z","resource":{"id":"8MC585209K746392H","amount":{"currency_code":"USD","value":"10.00"}}}"#;
    let signed = f.pp().sign_webhook("8PT597110X687430LKGECATA", event);
    let verify = |webhook_id: &str, event: &str, sig: &str| {
        let f = &f;
        let body = json!({
            "auth_algo": signed.auth_algo,
            "cert_url": signed.cert_url,
            "transmission_id": signed.transmission_id,
            "transmission_sig": sig,
            "transmission_time": signed.transmission_time,
            "webhook_id": webhook_id,
            "webhook_event": serde_json::from_str::<Value>(event).unwrap(),
        });
        async move {
            f.call(
                Method::POST,
                "/v1/notifications/verify-webhook-signature",
                "/v1/notifications/verify-webhook-signature",
                &[],
                &[],
                Some(body),
            )
            .await
        }
    };
    let ok = verify("8PT597110X687430LKGECATA", event, &signed.transmission_sig).await;
    assert_eq!(ok.body, json!({"verification_status": "SUCCESS"}));
    let other_webhook = verify("9PT597110X687430LKGECATA", event, &signed.transmission_sig).await;
    assert_eq!(other_webhook.body["verification_status"], "FAILURE");
    let altered = event.replace("10.00", "1000.00");
    let tampered = verify(
        "8PT597110X687430LKGECATA",
        &altered,
        &signed.transmission_sig,
    )
    .await;
    assert_eq!(tampered.body["verification_status"], "FAILURE");
    let forged = verify("8PT597110X687430LKGECATA", event, "AAAA").await;
    assert_eq!(forged.body["verification_status"], "FAILURE");
    let missing = f
        .call(
            Method::POST,
            "/v1/notifications/verify-webhook-signature",
            "/v1/notifications/verify-webhook-signature",
            &[],
            &[],
            Some(json!({"webhook_id": "X"})),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(signed.pairs()[0].0, "PAYPAL-TRANSMISSION-ID");
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_fail_before_or_after_applying_and_requests_are_counted() {
    let f = Fake::start(5).await;
    let t = now();
    f.pp().fail_next(1, 429);
    let limited = f.search(&window(t - DAY, t, 1)).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["name"], "RATE_LIMIT_REACHED");
    f.pp().fail_next(1, 503);
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 503);
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 200);

    f.pp().fail_after(1, 500);
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 200);
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 500);
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 500);
    f.pp().clear_faults();
    assert_eq!(f.search(&window(t - DAY, t, 1)).await.status, 200);

    // A refund whose answer is lost was made all the same; its request id finds it.
    let capture = f.pp().add_capture_now(2_000, "GBP");
    f.pp().lose_next_post_answers(1);
    let refund = || {
        let f = &f;
        let path = format!("/v2/payments/captures/{capture}/refund");
        async move {
            f.call(
                Method::POST,
                "/v2/payments/captures/{capture_id}/refund",
                &path,
                &[],
                &[("PayPal-Request-Id", "lost-1")],
                Some(json!({"amount": {"currency_code": "GBP", "value": "5.00"}})),
            )
            .await
        }
    };
    assert_eq!(refund().await.status, 500);
    assert_eq!(f.pp().refunds_of(&capture).len(), 1, "applied");
    let resent = refund().await;
    assert_eq!(resent.status, 201);
    assert_eq!(
        resent.body.as_object().unwrap().len(),
        3,
        "minimal by default"
    );
    assert_eq!(f.pp().refunds_of(&capture).len(), 1, "not twice");

    assert_eq!(f.pp().requests("GET /v1/reporting/transactions"), 7);
    assert_eq!(
        f.pp()
            .requests("POST /v2/payments/captures/{capture_id}/refund"),
        2
    );
    assert_eq!(f.pp().api_requests(), 9);
    assert_eq!(
        f.pp().searches().len(),
        3,
        "only answered searches are logged"
    );
    f.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_serves_the_same_history() {
    let a = Fake::start(21).await;
    let b = Fake::start(21).await;
    let c = Fake::start(22).await;
    assert_eq!(a.pp().transactions(), b.pp().transactions());
    assert_ne!(a.pp().transactions(), c.pp().transactions());
    a.sb.shutdown().await;
    b.sb.shutdown().await;
    c.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_approves_through_the_link_and_one_capture_shows_in_search_after_the_delay() {
    let f = Fake::start(12).await;
    let body = json!({
        "intent": "CAPTURE",
        "purchase_units": [{
            "custom_id": "outbox-7",
            "description": "Deposit for the kitchen",
            "amount": {"currency_code": "USD", "value": "200.00"},
        }],
    });
    let create = |request_id: &'static str| {
        let (f, body) = (&f, body.clone());
        async move {
            f.call(
                Method::POST,
                "/v2/checkout/orders",
                "/v2/checkout/orders",
                &[],
                &[
                    ("PayPal-Request-Id", request_id),
                    ("Prefer", "return=representation"),
                ],
                Some(body),
            )
            .await
        }
    };
    let show = |id: String| {
        let f = &f;
        async move {
            f.call(
                Method::GET,
                "/v2/checkout/orders/{id}",
                &format!("/v2/checkout/orders/{id}"),
                &[],
                &[],
                None,
            )
            .await
        }
    };
    let capture = |id: String, request_id: &'static str| {
        let f = &f;
        async move {
            f.call(
                Method::POST,
                "/v2/checkout/orders/{id}/capture",
                &format!("/v2/checkout/orders/{id}/capture"),
                &[],
                &[
                    ("PayPal-Request-Id", request_id),
                    ("Prefer", "return=representation"),
                ],
                None,
            )
            .await
        }
    };
    let made = create("order-1").await;
    let id = made.body["id"].as_str().unwrap().to_string();
    let approve = made.body["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "approve")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        approve.starts_with(&f.pp().api_base()),
        "on the fake's own listener: {approve}"
    );

    // The customer's browser opens the link: no token, a page, and the order is approved.
    let page = f.http.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("approved the payment"));
    let approved = show(id.clone()).await;
    assert_eq!(approved.body["status"], "APPROVED");
    assert!(approved.body["payment_source"]["paypal"]["email_address"].is_string());
    let again = f.http.get(&approve).send().await.unwrap();
    assert_eq!(again.status(), 200, "opening it twice changes nothing");

    // Captured once; shown in search under the same id only after the delay.
    f.pp().set_search_delay(3 * 3_600);
    let t = now();
    let done = capture(id.clone(), "cap-A").await;
    assert_eq!(done.status, 201, "{}", done.body);
    let captured = &done.body["purchase_units"][0]["payments"]["captures"][0];
    let capture_id = captured["id"].as_str().unwrap().to_string();
    assert_eq!(
        captured["seller_receivable_breakdown"]["net_amount"]["value"], "192.53",
        "200.00 less 3.49 % and 0.49"
    );
    assert_eq!(
        f.pp().captures_of_order(&id),
        std::slice::from_ref(&capture_id)
    );
    let hidden = f.search(&window(t - 3_600 * 4, t, 1)).await;
    assert!(!ids(&hidden).contains(&capture_id), "not yet in search");
    f.pp().set_search_delay(0);
    let listed = f.search(&window(t - 60, now(), 1)).await;
    assert!(ids(&listed).contains(&capture_id), "same id in search");

    // A repeat with the same request id answers the first result with 200; another id is
    // refused; the GET shows the capture.
    let replay = capture(id.clone(), "cap-A").await;
    assert_eq!(replay.status, 200);
    assert_eq!(
        replay.body["purchase_units"][0]["payments"]["captures"][0]["id"],
        json!(capture_id)
    );
    let twice = capture(id.clone(), "cap-B").await;
    assert_eq!(twice.status, 422);
    assert!(issue(&twice).starts_with("ORDER_ALREADY_CAPTURED"));
    let shown = show(id.clone()).await;
    assert_eq!(shown.body["status"], "COMPLETED");
    assert_eq!(
        shown.body["purchase_units"][0]["payments"]["captures"][0]["id"],
        json!(capture_id)
    );
    assert_eq!(f.pp().captures_of_order(&id).len(), 1, "one capture in all");

    // A voided order: shown as VOIDED, its link no longer approves, its capture is refused.
    let other = create("order-2").await;
    let other_id = other.body["id"].as_str().unwrap().to_string();
    assert!(f.pp().void_order(&other_id));
    assert_eq!(show(other_id.clone()).await.body["status"], "VOIDED");
    let link = format!("{}/checkoutnow?token={other_id}", f.pp().api_base());
    assert_eq!(f.http.get(&link).send().await.unwrap().status(), 410);
    let refused = capture(other_id.clone(), "cap-C").await;
    assert_eq!(refused.status, 422);
    assert!(issue(&refused).starts_with("ORDER_NOT_APPROVED"));
    assert!(f.pp().captures_of_order(&other_id).is_empty());
    let unknown = f
        .http
        .get(format!("{}/checkoutnow?token=NOPE", f.pp().api_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    f.sb.shutdown().await;
}
