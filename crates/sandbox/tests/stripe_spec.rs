//! The Stripe fake, checked over HTTP against Stripe's official OpenAPI document
//! (`shared/specs/stripe.json`, the full file): every page of every list, the retrieve
//! endpoints, every error body, pagination semantics, determinism and the test hooks.

use std::collections::HashSet;
use std::sync::OnceLock;

use reqwest::StatusCode;
use serde_json::Value;
use switchboard_sandbox::{Corruption, Fault, Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("stripe.json").unwrap_or_else(|e| panic!("{e}")))
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

struct Answer {
    status: StatusCode,
    request_id: String,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Client {
    fn new(sandbox: &Sandbox) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: sandbox.stripe_api_base(),
            key: sandbox.stripe_api_key(),
        }
    }

    async fn raw(&self, path_and_query: &str, auth: Option<&str>) -> Answer {
        let mut req = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("Stripe-Version", "2023-08-16");
        if let Some(header) = auth {
            req = req.header("Authorization", header);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let request_id = header("request-id");
        let content_type = header("content-type");
        assert!(
            request_id.starts_with("req_"),
            "Request-Id header on {path_and_query}: {request_id:?}"
        );
        assert_eq!(header("stripe-version"), "2023-08-16");
        Answer {
            status,
            request_id,
            content_type,
            text: resp.text().await.expect("body"),
        }
    }

    async fn get(&self, path_and_query: &str) -> Answer {
        self.raw(path_and_query, Some(&format!("Bearer {}", self.key)))
            .await
    }

    /// GET, expect 200, validate against the operation's 200 schema, return the body.
    async fn ok(&self, template: &str, path_and_query: &str) -> Value {
        let answer = self.get(path_and_query).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{path_and_query}: {}",
            answer.text
        );
        let body = answer.json();
        let violations = spec()
            .validate_response("GET", template, 200, &body)
            .unwrap();
        assert_no_violations(&format!("GET {path_and_query}"), &violations);
        body
    }

    /// GET, expect `status`, validate the body against the spec's `default` (error) response.
    async fn error(
        &self,
        template: &str,
        path_and_query: &str,
        auth: Option<&str>,
        status: StatusCode,
    ) -> Value {
        let answer = self.raw(path_and_query, auth).await;
        assert_eq!(answer.status, status, "{path_and_query}: {}", answer.text);
        assert_eq!(answer.content_type, "application/json");
        let body = answer.json();
        let violations = spec()
            .validate_response("GET", template, status.as_u16(), &body)
            .unwrap();
        assert_no_violations(&format!("error of GET {path_and_query}"), &violations);
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        body
    }

    /// Walk a whole list with limit=100 and `starting_after`, validating every page.
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
            assert_eq!(page["object"], "list");
            assert_eq!(page["url"], path);
            let data = page["data"].as_array().unwrap();
            let has_more = page["has_more"].as_bool().unwrap();
            if has_more {
                assert_eq!(data.len(), 100, "a page with has_more is full");
            }
            all.extend(data.iter().cloned());
            if !has_more {
                return all;
            }
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

fn assert_newest_first_unique(what: &str, items: &[Value]) {
    let unique: HashSet<String> = ids(items).into_iter().collect();
    assert_eq!(unique.len(), items.len(), "{what}: duplicate ids");
    for pair in items.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let key = |v: &Value| {
            (
                v["created"].as_i64().unwrap(),
                v["id"].as_str().unwrap().to_string(),
            )
        };
        assert!(
            key(a) > key(b),
            "{what}: not newest first: {} then {}",
            a["id"],
            b["id"]
        );
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
async fn every_page_of_every_list_validates_against_the_spec() {
    let started = std::time::Instant::now();
    let sb = sandbox(42, 1_200).await;
    let c = Client::new(&sb);
    let counts = sb.stripe().object_counts();

    let charges = c.walk("/v1/charges", "").await;
    let refunds = c.walk("/v1/refunds", "").await;
    let bts = c.walk("/v1/balance_transactions", "").await;
    assert_eq!(charges.len(), 1_200);
    assert_eq!(charges.len(), counts.charges, "no gaps");
    assert_eq!(refunds.len(), counts.refunds);
    assert_eq!(bts.len(), counts.balance_transactions);
    assert!(refunds.len() >= 50 && bts.len() >= 1_000, "{counts:?}");
    for (what, items) in [
        ("charges", &charges),
        ("refunds", &refunds),
        ("balance_transactions", &bts),
    ] {
        assert_newest_first_unique(what, items);
    }

    // The data is realistic in the ways the adapters depend on.
    let currencies: HashSet<&str> = charges
        .iter()
        .map(|c| c["currency"].as_str().unwrap())
        .collect();
    for code in ["usd", "eur", "gbp", "jpy", "kwd", "isk"] {
        assert!(currencies.contains(code), "{code} missing: {currencies:?}");
    }
    let statuses: HashSet<&str> = charges
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, HashSet::from(["succeeded", "failed", "pending"]));
    assert!(charges.iter().any(|c| c["refunded"] == true));
    assert!(
        charges
            .iter()
            .any(|c| c["refunded"] == false && c["amount_refunded"].as_i64().unwrap() > 0)
    );
    assert!(bts.iter().any(|b| b["exchange_rate"].is_f64()));
    let bt_types: HashSet<&str> = bts.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(bt_types, HashSet::from(["charge", "refund", "payout"]));
    for b in &bts {
        let (amount, fee, net) = (
            b["amount"].as_i64().unwrap(),
            b["fee"].as_i64().unwrap(),
            b["net"].as_i64().unwrap(),
        );
        assert_eq!(net, amount - fee, "{}", b["id"]);
        let details: i64 = b["fee_details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(details, fee, "{}", b["id"]);
    }
    let bt_ids: HashSet<String> = ids(&bts).into_iter().collect();
    for item in charges.iter().chain(&refunds) {
        if let Some(bt) = item["balance_transaction"].as_str() {
            assert!(
                bt_ids.contains(bt),
                "{} points at a missing {bt}",
                item["id"]
            );
        }
    }

    // The two demo charges lead the first page.
    let first = c.ok("/v1/charges", "/v1/charges").await;
    let first = first["data"].as_array().unwrap();
    assert_eq!(first.len(), 10, "default limit");
    let demo: Vec<(i64, &str, &str)> = first[..2]
        .iter()
        .map(|c| {
            (
                c["amount"].as_i64().unwrap(),
                c["currency"].as_str().unwrap(),
                c["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        demo.contains(&(1234, "jpy", "Demo: Tokyo workshop deposit")),
        "{demo:?}"
    );
    assert!(
        demo.contains(&(1234, "eur", "Demo: Berlin coffee beans")),
        "{demo:?}"
    );

    // Retrieve endpoints: a spread of each kind (every status, refunded, converted) validates and
    // equals the list item.
    let pick = |items: &[Value], every: usize| -> Vec<Value> {
        items.iter().step_by(every).cloned().collect()
    };
    let mut sample = pick(&charges, 37);
    for status in ["failed", "pending"] {
        sample.extend(charges.iter().find(|c| c["status"] == status).cloned());
    }
    sample.extend(charges.iter().find(|c| c["refunded"] == true).cloned());
    for item in &sample {
        let id = item["id"].as_str().unwrap();
        let got = c
            .ok("/v1/charges/{charge}", &format!("/v1/charges/{id}"))
            .await;
        assert_eq!(&got, item);
    }
    for item in pick(&refunds, 11) {
        let id = item["id"].as_str().unwrap();
        assert_eq!(
            c.ok("/v1/refunds/{refund}", &format!("/v1/refunds/{id}"))
                .await,
            item
        );
    }
    let mut bt_sample = pick(&bts, 41);
    bt_sample.extend(bts.iter().find(|b| b["exchange_rate"].is_f64()).cloned());
    bt_sample.extend(bts.iter().find(|b| b["type"] == "payout").cloned());
    for item in bt_sample {
        let id = item["id"].as_str().unwrap();
        assert_eq!(
            c.ok(
                "/v1/balance_transactions/{id}",
                &format!("/v1/balance_transactions/{id}")
            )
            .await,
            item
        );
    }

    // Expansions validate as the expanded alternative of the anyOf.
    let succeeded = charges.iter().find(|c| c["status"] == "succeeded").unwrap()["id"]
        .as_str()
        .unwrap();
    let expanded = c
        .ok(
            "/v1/charges/{charge}",
            &format!("/v1/charges/{succeeded}?expand[]=balance_transaction"),
        )
        .await;
    assert_eq!(
        expanded["balance_transaction"]["object"],
        "balance_transaction"
    );
    let page = c
        .ok(
            "/v1/charges",
            "/v1/charges?limit=5&expand[]=data.balance_transaction",
        )
        .await;
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["balance_transaction"].is_object())
    );
    let refund = refunds[0]["id"].as_str().unwrap();
    let expanded = c
        .ok(
            "/v1/refunds/{refund}",
            &format!("/v1/refunds/{refund}?expand[0]=charge&expand[1]=balance_transaction"),
        )
        .await;
    assert_eq!(expanded["charge"]["object"], "charge");
    assert_eq!(
        expanded["balance_transaction"]["object"],
        "balance_transaction"
    );

    sb.shutdown().await;
    eprintln!(
        "spec walk of {} objects took {:?}",
        charges.len() + refunds.len() + bts.len(),
        started.elapsed()
    );
}

#[tokio::test]
async fn pagination_cursors_and_created_filters() {
    let sb = sandbox(11, 1_000).await;
    let c = Client::new(&sb);
    let all = c.walk("/v1/charges", "").await;
    let all_ids = ids(&all);

    // ending_before: the page just before the cursor, still newest first.
    let page = c
        .ok(
            "/v1/charges",
            &format!("/v1/charges?limit=100&ending_before={}", all_ids[250]),
        )
        .await;
    assert_eq!(ids(page["data"].as_array().unwrap()), &all_ids[150..250]);
    assert_eq!(page["has_more"], true);
    let page = c
        .ok(
            "/v1/charges",
            &format!("/v1/charges?limit=100&ending_before={}", all_ids[40]),
        )
        .await;
    assert_eq!(ids(page["data"].as_array().unwrap()), &all_ids[..40]);
    assert_eq!(page["has_more"], false);

    // Walking backwards from the end with ending_before visits everything once.
    let mut backwards: Vec<String> = Vec::new();
    let mut before = all_ids.last().unwrap().clone();
    backwards.push(before.clone());
    loop {
        let page = c
            .ok(
                "/v1/charges",
                &format!("/v1/charges?limit=100&ending_before={before}"),
            )
            .await;
        let data = ids(page["data"].as_array().unwrap());
        backwards.splice(0..0, data.iter().cloned());
        if page["has_more"] == false {
            break;
        }
        before = data[0].clone();
    }
    assert_eq!(backwards, all_ids);

    // created filters, with form-style keys, walked across pages.
    let t = all[500]["created"].as_i64().unwrap();
    let created = |v: &Value| v["created"].as_i64().unwrap();
    let expect = |f: &dyn Fn(i64) -> bool| -> Vec<String> {
        all.iter()
            .filter(|v| f(created(v)))
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    let gte = ids(&c.walk("/v1/charges", &format!("&created[gte]={t}")).await);
    assert_eq!(gte, expect(&|x| x >= t));
    assert!(gte.len() > 500);
    assert_eq!(
        ids(&c.walk("/v1/charges", &format!("&created[gt]={t}")).await),
        expect(&|x| x > t)
    );
    assert_eq!(
        ids(&c.walk("/v1/charges", &format!("&created[lt]={t}")).await),
        expect(&|x| x < t)
    );
    let t2 = all[100]["created"].as_i64().unwrap();
    let window = c
        .walk(
            "/v1/charges",
            &format!("&created[gte]={t}&created[lte]={t2}"),
        )
        .await;
    assert_eq!(ids(&window), expect(&|x| x >= t && x <= t2));
    assert_eq!(
        ids(&c.walk("/v1/charges", &format!("&created={t}")).await),
        expect(&|x| x == t)
    );
    let empty = c
        .ok("/v1/charges", "/v1/charges?created[gt]=4102444800")
        .await;
    assert_eq!(empty["data"], Value::Array(vec![]));
    assert_eq!(empty["has_more"], false);

    // List filters of refunds and balance transactions.
    let refunds = c.walk("/v1/refunds", "").await;
    let charge = refunds[0]["charge"].as_str().unwrap();
    let for_charge = c.walk("/v1/refunds", &format!("&charge={charge}")).await;
    assert!(!for_charge.is_empty() && for_charge.iter().all(|r| r["charge"] == charge));
    let payouts = c.walk("/v1/balance_transactions", "&type=payout").await;
    assert!(!payouts.is_empty() && payouts.iter().all(|b| b["type"] == "payout"));
    let payout = payouts[0]["source"].as_str().unwrap();
    let members = c
        .walk("/v1/balance_transactions", &format!("&payout={payout}"))
        .await;
    // As at Stripe, the list holds the payout's own transaction too.
    let (own, paid_out): (Vec<&Value>, Vec<&Value>) =
        members.iter().partition(|b| b["id"] == payouts[0]["id"]);
    assert_eq!(own.len(), 1);
    let sum: i64 = paid_out.iter().map(|b| b["net"].as_i64().unwrap()).sum();
    assert_eq!(
        sum,
        -payouts[0]["amount"].as_i64().unwrap(),
        "a payout pays out its transactions' net"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn error_bodies_match_stripe_and_the_spec() {
    let sb = sandbox(3, 200).await;
    let c = Client::new(&sb);
    let key = sb.stripe_api_key();

    // Every answer has its own Request-Id.
    let (a, b) = (
        c.get("/v1/charges?limit=1").await,
        c.get("/v1/charges?limit=1").await,
    );
    assert_ne!(a.request_id, b.request_id);

    // Auth: Bearer (above), Basic with the key as user, and the 401s.
    let basic = format!("Basic {}", base64_encode(&format!("{key}:")));
    assert_eq!(
        c.raw("/v1/charges?limit=1", Some(&basic)).await.status,
        StatusCode::OK
    );
    let e = c
        .error("/v1/charges", "/v1/charges", None, StatusCode::UNAUTHORIZED)
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("You did not provide an API key."),
        "{e}"
    );
    let wrong = "sk_test_51ThisIsNotTheKeyabcd";
    let e = c
        .error(
            "/v1/charges",
            "/v1/charges",
            Some(&format!("Bearer {wrong}")),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid API Key provided: sk_test_") && message.ends_with("abcd"),
        "{message}"
    );
    assert!(
        !message.contains("ThisIsNot"),
        "the key is masked: {message}"
    );
    c.error(
        "/v1/refunds/{refund}",
        "/v1/refunds/re_x",
        Some("Bearer sk_test_nope"),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // 404s: unknown ids (retrieve and cursor), unknown URL.
    for (template, path, noun) in [
        ("/v1/charges/{charge}", "/v1/charges/ch_missing", "charge"),
        ("/v1/refunds/{refund}", "/v1/refunds/re_missing", "refund"),
        (
            "/v1/balance_transactions/{id}",
            "/v1/balance_transactions/txn_missing",
            "balance transaction",
        ),
    ] {
        let e = c
            .error(
                template,
                path,
                Some(&format!("Bearer {key}")),
                StatusCode::NOT_FOUND,
            )
            .await;
        assert_eq!(e["error"]["code"], "resource_missing");
        assert_eq!(e["error"]["param"], "id");
        let id = path.rsplit('/').next().unwrap();
        assert_eq!(e["error"]["message"], format!("No such {noun}: '{id}'"));
    }
    let auth = format!("Bearer {key}");
    let e = c
        .error(
            "/v1/charges",
            "/v1/charges?starting_after=ch_gone",
            Some(&auth),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(e["error"]["param"], "starting_after");
    let e = c
        .error(
            "/v1/charges",
            "/v1/nope",
            Some(&auth),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL (GET: /v1/nope)")
    );

    // 400s, each naming its parameter.
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("created[gte]=yesterday", "created[gte]"),
        ("created=soon", "created"),
        ("created[after]=1", "created[after]"),
        ("colour=blue", "colour"),
        ("starting_after=a&ending_before=b", "ending_before"),
        ("expand[]=customer", "expand"),
        ("expand[]=balance_transaction", "expand"),
    ] {
        let e = c
            .error(
                "/v1/charges",
                &format!("/v1/charges?{query}"),
                Some(&auth),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["error"]["param"], param, "{query}: {e}");
    }
    let e = c
        .error(
            "/v1/refunds",
            "/v1/refunds?type=charge",
            Some(&auth),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["error"]["message"], "Received unknown parameter: type");
    let e = c
        .error(
            "/v1/charges/{charge}",
            "/v1/charges/ch_x?limit=1",
            Some(&auth),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["error"]["param"], "limit");
    sb.shutdown().await;
}

#[tokio::test]
async fn same_seed_same_data_other_seed_other_data() {
    let (a, b, other) = (
        sandbox(7, 300).await,
        sandbox(7, 300).await,
        sandbox(8, 300).await,
    );
    let (ca, cb, co) = (Client::new(&a), Client::new(&b), Client::new(&other));
    let page = |c: &Client| {
        let c = Client {
            http: c.http.clone(),
            base: c.base.clone(),
            key: c.key.clone(),
        };
        async move { c.ok("/v1/charges", "/v1/charges?limit=100").await["data"].clone() }
    };
    assert_eq!(a.stripe_api_key(), b.stripe_api_key());
    assert!(a.stripe_api_key().starts_with("sk_test_"));
    assert_ne!(a.stripe_api_key(), other.stripe_api_key());
    assert_ne!(a.stripe_api_base(), b.stripe_api_base());
    assert_eq!(page(&ca).await, page(&cb).await);
    assert_ne!(page(&ca).await, page(&co).await);
    let ready = a.ready_line();
    assert_eq!(
        ready["providers"]["stripe"]["api_base"],
        a.stripe_api_base()
    );
    assert_eq!(ready["providers"]["stripe"]["api_key"], a.stripe_api_key());
    assert!(a.stripe_api_base().starts_with("http://127.0.0.1:"));
    // A key of one sandbox is refused by another.
    let cross = co
        .raw(
            "/v1/charges",
            Some(&format!("Bearer {}", a.stripe_api_key())),
        )
        .await;
    assert_eq!(cross.status, StatusCode::UNAUTHORIZED);
    for s in [a, b, other] {
        s.shutdown().await;
    }
}

#[tokio::test]
async fn control_hooks_add_objects_inject_faults_and_count() {
    let sb = sandbox(5, 300).await;
    let c = Client::new(&sb);
    let ctl = sb.stripe();
    let before = ctl.request_count();

    // A charge made now is first; its balance transaction exists.
    let id = ctl.add_charge_now(5_000, "usd");
    let page = c.ok("/v1/charges", "/v1/charges?limit=1").await;
    assert_eq!(page["data"][0]["id"], id.as_str());
    let bt = page["data"][0]["balance_transaction"]
        .as_str()
        .unwrap()
        .to_string();
    let bt = c
        .ok(
            "/v1/balance_transactions/{id}",
            &format!("/v1/balance_transactions/{bt}"),
        )
        .await;
    assert_eq!(
        (bt["source"].as_str(), bt["status"].as_str()),
        (Some(id.as_str()), Some("pending"))
    );

    // A late-arriving charge sits where its created time puts it.
    let all = c.walk("/v1/charges", "").await;
    let t = all[150]["created"].as_i64().unwrap();
    let late = ctl.add_charge_at(t, 1_000, "jpy");
    let all_after = ids(&c.walk("/v1/charges", "").await);
    let pos = all_after.iter().position(|x| *x == late).unwrap();
    assert!((140..=160).contains(&pos), "late charge at {pos}");
    let late_obj = c
        .ok("/v1/charges/{charge}", &format!("/v1/charges/{late}"))
        .await;
    assert_eq!(
        (late_obj["amount"].as_i64(), late_obj["currency"].as_str()),
        (Some(1_000), Some("jpy"))
    );

    // Faults, in order, then normal service again.
    ctl.fail_next(1, Fault::RateLimited);
    ctl.fail_next(1, Fault::ServerError);
    ctl.fail_next(1, Fault::TruncatedJson);
    ctl.fail_next(1, Fault::NotJson);
    let auth = format!("Bearer {}", sb.stripe_api_key());
    let e = c
        .error(
            "/v1/charges",
            "/v1/charges",
            Some(&auth),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    assert_eq!(e["error"]["code"], "rate_limit");
    let answer = c.get("/v1/charges").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let body = answer.json();
    assert_eq!(body["error"]["type"], "api_error");
    assert_no_violations(
        "500 body",
        &spec()
            .validate_response("GET", "/v1/charges", 500, &body)
            .unwrap(),
    );
    let truncated = c.get("/v1/charges").await;
    assert_eq!(
        (truncated.status, truncated.content_type.as_str()),
        (StatusCode::OK, "application/json")
    );
    assert!(
        serde_json::from_str::<Value>(&truncated.text).is_err() && truncated.text.starts_with('{')
    );
    let html = c.get("/v1/charges").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.content_type.starts_with("text/html") && html.text.contains("<html>"));
    c.ok("/v1/charges", "/v1/charges").await;

    // Corruptions hit the next list page only, and the spec check catches them.
    ctl.corrupt_next_list_item(Corruption::UnknownStatus);
    ctl.corrupt_next_list_item(Corruption::MissingAmount);
    let page = c.get("/v1/charges?limit=5").await.json();
    assert_eq!(page["data"][0]["status"], "teleported");
    assert!(page["data"][1].get("amount").is_none());
    let violations = spec()
        .validate_response("GET", "/v1/charges", 200, &page)
        .unwrap();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["$.data[0].status", "$.data[1]"],
        "{violations:?}"
    );
    c.ok("/v1/charges", "/v1/charges?limit=5").await;

    // 5 calls before the walks, the walks, the retrieve, 4 faults, and 3 more.
    let walks = 2 * (all.len() / 100 + 1);
    assert_eq!(ctl.request_count() - before, 2 + walks + 1 + 4 + 1 + 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn serves_a_large_set_quickly() {
    let started = std::time::Instant::now();
    let sb = sandbox(42, 20_000).await;
    let generated = started.elapsed();
    let c = Client::new(&sb);
    let walk = std::time::Instant::now();
    let mut after = String::new();
    let mut n = 0;
    loop {
        let q = if after.is_empty() {
            String::new()
        } else {
            format!("&starting_after={after}")
        };
        let page = c.get(&format!("/v1/charges?limit=100{q}")).await.json();
        let data = page["data"].as_array().unwrap();
        n += data.len();
        if page["has_more"] == false {
            break;
        }
        after = data.last().unwrap()["id"].as_str().unwrap().to_string();
    }
    assert_eq!(n, 20_000);
    eprintln!(
        "20k charges: generated in {generated:?}, walked 200 pages in {:?}",
        walk.elapsed()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn stops_serving_on_shutdown_and_on_drop() {
    let http = reqwest::Client::new();
    let sb = sandbox(1, 10).await;
    let url = format!("{}/v1/charges", sb.stripe_api_base());
    let key = sb.stripe_api_key();
    assert!(
        http.get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let t = std::time::Instant::now();
    sb.shutdown().await;
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert!(
        reqwest::Client::new().get(&url).send().await.is_err(),
        "still serving after shutdown"
    );

    let sb = sandbox(1, 10).await;
    let url = format!("{}/v1/charges", sb.stripe_api_base());
    drop(sb);
    let mut refused = false;
    for _ in 0..50 {
        if reqwest::Client::new().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "still serving after drop");
}

fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
