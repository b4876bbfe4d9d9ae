//! The PayPal fake's billing plans, `GET /v1/billing/plans/{id}`: every plan a seeded
//! subscription names answers as `shared/specs/paypal.json` says (`plans.get`, 200 and 404).

use std::sync::OnceLock;

use serde_json::Value;
use switchboard_sandbox::{Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("paypal.json").unwrap_or_else(|e| panic!("{e}")))
}

async fn get(http: &reqwest::Client, sb: &Sandbox, token: &str, path: &str) -> (u16, Value) {
    let answer = http
        .get(format!("{}{path}", sb.paypal().api_base()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(answer.headers().contains_key("paypal-debug-id"));
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

fn check(template: &str, status: u16, body: &Value) {
    let violations = spec()
        .validate_response("GET", template, status, body)
        .unwrap();
    assert_no_violations(&format!("GET {template} → {status}"), &violations);
}

#[tokio::test]
async fn every_subscriptions_plan_answers_as_the_spec_says() {
    let sb = Sandbox::start(SandboxConfig {
        seed: 5,
        stripe_charges: 0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let pp = sb.paypal();
    let http = reqwest::Client::new();
    let token: Value = http
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
    let token = token["access_token"].as_str().unwrap();

    let mut with_trial = 0;
    for id in pp.subscription_ids() {
        let path = format!("/v1/billing/subscriptions/{id}");
        let (status, subscription) = get(&http, &sb, token, &path).await;
        assert_eq!(status, 200);
        let plan_id = subscription["plan_id"].as_str().unwrap();
        let (status, plan) = get(&http, &sb, token, &format!("/v1/billing/plans/{plan_id}")).await;
        assert_eq!(status, 200, "{plan}");
        check("/v1/billing/plans/{id}", status, &plan);
        assert_eq!(plan["id"], plan_id);
        assert!(!plan["name"].as_str().unwrap().is_empty());
        let cycles = plan["billing_cycles"].as_array().unwrap();
        let regular: Vec<&Value> = cycles
            .iter()
            .filter(|c| c["tenure_type"] == "REGULAR")
            .collect();
        assert_eq!(regular.len(), 1, "one regular cycle: {plan}");
        assert_eq!(regular[0]["frequency"]["interval_unit"], "MONTH");
        // The regular price is what the subscription's payments were.
        assert_eq!(
            regular[0]["pricing_scheme"]["fixed_price"],
            subscription["billing_info"]["last_payment"]["amount"]
        );
        if cycles.iter().any(|c| c["tenure_type"] == "TRIAL") {
            with_trial += 1;
        }
    }
    assert_eq!(with_trial, 1);
    assert_eq!(pp.requests("GET /v1/billing/plans/{id}"), 6);

    let (status, missing) = get(&http, &sb, token, "/v1/billing/plans/P-NOPE").await;
    assert_eq!(status, 404);
    check("/v1/billing/plans/{id}", status, &missing);
    assert_eq!(missing["details"][0]["issue"], "INVALID_RESOURCE_ID");
}
