//! `POST /v1/refunds` of the Stripe fake, over HTTP, checked against Stripe's official OpenAPI
//! document: answers and errors validate, refunds change the charge and the balance, and
//! `Idempotency-Key` replays, refuses reuse with other parameters, and survives a connection
//! that drops after the refund was applied.

use std::sync::OnceLock;

use reqwest::StatusCode;
use serde_json::Value;
use switchboard_sandbox::{CREATE_REFUND_ROUTE, PostFault, Sandbox, SandboxConfig};
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
    async fn start() -> (Sandbox, Client) {
        let sandbox = Sandbox::start(SandboxConfig {
            port: 0,
            seed: 3,
            stripe_charges: 50,
        })
        .await
        .unwrap();
        let client = Client {
            http: reqwest::Client::new(),
            base: sandbox.stripe_api_base(),
            key: sandbox.stripe_api_key(),
        };
        (sandbox, client)
    }

    async fn try_post(
        &self,
        form: &[(&str, &str)],
        key: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self
            .http
            .post(format!("{}/v1/refunds", self.base))
            .bearer_auth(&self.key)
            .form(form);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let replayed = resp.headers().get("idempotent-replayed").is_some();
        assert!(
            resp.headers()
                .get("request-id")
                .is_some_and(|v| v.to_str().unwrap().starts_with("req_"))
        );
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let violations = spec()
            .validate_response("POST", "/v1/refunds", status.as_u16(), &body)
            .unwrap();
        assert_no_violations(&format!("POST /v1/refunds {form:?}"), &violations);
        Ok(Answer {
            status,
            replayed,
            body,
        })
    }

    async fn post(&self, form: &[(&str, &str)], key: Option<&str>) -> Answer {
        self.try_post(form, key).await.expect("an answer")
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
}

fn error_code(a: &Answer) -> (&str, &str) {
    (
        a.body["error"]["type"].as_str().unwrap_or(""),
        a.body["error"]["code"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn a_refund_validates_and_changes_the_charge_and_the_balance() {
    let (sandbox, c) = Client::start().await;
    let charge = sandbox.stripe().add_charge_now(5_000, "eur");
    let before = sandbox.stripe().object_counts();
    // Listed once before the refund, so the fake holds its list JSON (lists are served from
    // pre-serialised items; a write must not leave a stale one behind).
    let newest = c.get("/v1/charges?limit=1").await;
    assert_eq!(newest["data"][0]["id"], charge.as_str());
    assert_eq!(newest["data"][0]["amount_refunded"], 0);
    let a = c
        .post(
            &[
                ("charge", &charge),
                ("amount", "1200"),
                ("reason", "requested_by_customer"),
                ("metadata[switchboard_outbox_id]", "item-1"),
                ("expand[]", "charge"),
            ],
            Some("key-1"),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.replayed);
    let refund = &a.body;
    assert_eq!(refund["object"], "refund");
    assert_eq!(refund["amount"], 1200);
    assert_eq!(refund["currency"], "eur");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["reason"], "requested_by_customer");
    assert_eq!(refund["metadata"]["switchboard_outbox_id"], "item-1");
    // Expanded, the charge already shows the refund.
    assert_eq!(refund["charge"]["id"], charge.as_str());
    assert_eq!(refund["charge"]["amount_refunded"], 1200);
    assert_eq!(refund["charge"]["refunded"], false);
    let id = refund["id"].as_str().unwrap();
    assert!(id.starts_with("re_"));

    let after = sandbox.stripe().object_counts();
    assert_eq!(after.refunds, before.refunds + 1);
    assert_eq!(after.balance_transactions, before.balance_transactions + 1);
    let listed = c.get(&format!("/v1/refunds?charge={charge}")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["data"][0]["metadata"]["switchboard_outbox_id"],
        "item-1"
    );
    let bt = c
        .get(&format!("/v1/balance_transactions?source={id}"))
        .await;
    assert_eq!(bt["data"][0]["type"], "refund");
    assert_eq!(bt["data"][0]["amount"], -1200);
    assert_eq!(
        sandbox
            .stripe()
            .refunds_with_metadata("switchboard_outbox_id", "item-1"),
        vec![id.to_string()]
    );

    // The rest, without an amount: fully refunded now.
    let rest = c.post(&[("charge", &charge)], None).await;
    assert_eq!(rest.body["amount"], 3800);
    let charge_now = c.get(&format!("/v1/charges/{charge}")).await;
    assert_eq!(charge_now["amount_refunded"], 5000);
    assert_eq!(charge_now["refunded"], true);
    let newest = c.get("/v1/charges?limit=1").await;
    assert_eq!(newest["data"][0]["amount_refunded"], 5000);
    assert_eq!(newest["data"][0]["refunded"], true);
    assert_eq!(sandbox.stripe().refunds_created(), 2);
    assert_eq!(sandbox.stripe().counters().path(CREATE_REFUND_ROUTE), 2);
}

#[tokio::test]
async fn refusals_are_shaped_like_stripes() {
    let (sandbox, c) = Client::start().await;
    let charge = sandbox.stripe().add_charge_now(1_000, "jpy");
    /// A form, and the error type and code it must get.
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("charge", &charge), ("amount", "1001")],
            "invalid_request_error",
            "amount_too_large",
        ),
        (
            vec![("charge", "ch_nope")],
            "invalid_request_error",
            "resource_missing",
        ),
        (
            vec![("charge", &charge), ("amount", "0")],
            "invalid_request_error",
            "",
        ),
        (
            vec![("charge", &charge), ("reason", "bored")],
            "invalid_request_error",
            "",
        ),
        (
            vec![("charge", &charge), ("colour", "red")],
            "invalid_request_error",
            "parameter_unknown",
        ),
        (vec![("amount", "5")], "invalid_request_error", ""),
        (
            vec![("charge", &charge), ("expand[]", "customer")],
            "invalid_request_error",
            "",
        ),
    ];
    for (form, typ, code) in &cases {
        let a = c.post(form, None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form:?}: {}", a.body);
        assert_eq!(error_code(&a), (*typ, *code), "{form:?}: {}", a.body);
    }
    let too_large = c.post(&cases[0].0, None).await;
    assert!(
        too_large.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("greater than unrefunded amount on charge (1000 jpy)"),
        "{}",
        too_large.body
    );
    assert_eq!(
        c.post(&[("charge", &charge)], None).await.status,
        StatusCode::OK
    );
    let again = c.post(&[("charge", &charge)], None).await;
    assert_eq!(
        error_code(&again),
        ("invalid_request_error", "charge_already_refunded")
    );
    assert_eq!(sandbox.stripe().refunds_created(), 1);

    // Unauthenticated and unknown URLs.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/refunds", c.base))
        .bearer_auth("sk_test_wrong_key_1234")
        .form(&[("charge", charge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/teleports", c.base))
        .bearer_auth(&c.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_idempotency_key_replays_and_refuses_other_parameters() {
    let (sandbox, c) = Client::start().await;
    let charge = sandbox.stripe().add_charge_now(2_000, "usd");
    let form = [("charge", charge.as_str()), ("amount", "500")];
    let first = c.post(&form, Some("k")).await;
    let second = c.post(&form, Some("k")).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.replayed && !first.replayed);
    assert_eq!(first.body, second.body);
    assert_eq!(sandbox.stripe().refunds_created(), 1);
    assert_eq!(sandbox.stripe().idempotent_replays(), 1);

    let other = c
        .post(&[("charge", charge.as_str()), ("amount", "501")], Some("k"))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&other).0, "idempotency_error");
    assert_eq!(sandbox.stripe().refunds_created(), 1);

    // A business refusal is saved too: the same request gets the same answer.
    let big = [("charge", charge.as_str()), ("amount", "99999")];
    let refused = c.post(&big, Some("k2")).await;
    assert_eq!(error_code(&refused).1, "amount_too_large");
    let replayed = c.post(&big, Some("k2")).await;
    assert!(replayed.replayed);
    assert_eq!(replayed.body, refused.body);
}

#[tokio::test]
async fn a_connection_dropped_after_the_refund_leaves_one_refund_and_a_replay() {
    let (sandbox, c) = Client::start().await;
    let charge = sandbox.stripe().add_charge_now(3_000, "gbp");
    let form = [
        ("charge", charge.as_str()),
        ("amount", "700"),
        ("metadata[switchboard_outbox_id]", "item-9"),
    ];
    sandbox
        .stripe()
        .fail_next_posts(1, PostFault::ApplyThenReset);
    assert!(
        c.try_post(&form, Some("kk")).await.is_err(),
        "the answer is cut off"
    );
    assert_eq!(sandbox.stripe().refunds_created(), 1, "but it was applied");
    let retry = c.post(&form, Some("kk")).await;
    assert!(retry.replayed);
    assert_eq!(retry.body["amount"], 700);
    assert_eq!(
        sandbox
            .stripe()
            .refunds_with_metadata("switchboard_outbox_id", "item-9")
            .len(),
        1
    );

    // Dropped before applying, and a 500: nothing happens, the retry executes.
    sandbox
        .stripe()
        .fail_next_posts(1, PostFault::ResetBeforeApply);
    sandbox.stripe().fail_next_posts(1, PostFault::ServerError);
    let form2 = [("charge", charge.as_str()), ("amount", "100")];
    assert!(c.try_post(&form2, Some("k3")).await.is_err());
    let failed = c.post(&form2, Some("k3")).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&failed).0, "api_error");
    assert_eq!(sandbox.stripe().refunds_created(), 1);
    let done = c.post(&form2, Some("k3")).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(!done.replayed);
    assert_eq!(sandbox.stripe().refunds_created(), 2);
    let counters = sandbox.stripe().counters();
    assert_eq!(counters.path(CREATE_REFUND_ROUTE), 5);
    assert_eq!(counters.status(0), 2, "two answers cut off");
}
