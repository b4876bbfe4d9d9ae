//! The Square fake's catalog over HTTP: `POST /v2/catalog/batch-retrieve` for the plan
//! variations the subscriptions name. The trimmed spec has no catalog operation, so every
//! object is checked against its `CatalogObject` schema (with the plan and variation data
//! schemas it refers to), and error bodies against `Error`.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_sandbox::{Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

const REDIRECT: &str = "http://127.0.0.1:53682/oauth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-square-catalog";
const VERSION: &str = "2025-08-20";
const BATCH: &str = "/v2/catalog/batch-retrieve";

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("square.json").unwrap_or_else(|e| panic!("{e}")))
}

/// An access token of the Square OAuth fake with `scopes` (PKCE, auto-approved).
async fn token(sb: &Sandbox, scopes: &str) -> String {
    let oauth = sb.oauth("square");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let redirect = http
        .get(oauth.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", oauth.client_id()),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("scope", scopes),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: Value = http
        .post(oauth.token_url())
        .json(&json!({
            "client_id": oauth.client_id(), "grant_type": "authorization_code", "code": code,
            "redirect_uri": REDIRECT, "code_verifier": VERIFIER,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_string()
}

async fn post(sb: &Sandbox, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", sb.oauth("square").api_base()))
        .bearer_auth(token)
        .header("Square-Version", VERSION)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn check_objects(what: &str, objects: &[Value]) {
    for o in objects {
        let violations = spec().validate_schema("CatalogObject", o).unwrap();
        assert_no_violations(&format!("{what} {}", o["id"]), &violations);
    }
}

fn check_error(body: &Value, code: &str) {
    let errors = body["errors"].as_array().expect("an errors array");
    for e in errors {
        assert_no_violations("Error", &spec().validate_schema("Error", e).unwrap());
    }
    assert_eq!(errors[0]["code"], code, "{body}");
}

#[tokio::test]
async fn the_subscriptions_plan_variations_and_their_plans_come_in_one_batch() {
    let sb = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 13,
        stripe_charges: 2,
    })
    .await
    .unwrap();
    let token = token(&sb, "SUBSCRIPTIONS_READ ITEMS_READ").await;
    let (status, found) = post(&sb, &token, "/v2/subscriptions/search", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let variation_ids: Vec<String> = found["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["plan_variation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(variation_ids.len(), 6);

    let mut asked = variation_ids.clone();
    asked.push("NOT_IN_THE_CATALOG".into());
    let (status, answer) = post(
        &sb,
        &token,
        BATCH,
        &json!({"object_ids": asked, "include_related_objects": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let objects = answer["objects"].as_array().unwrap();
    let related = answer["related_objects"].as_array().unwrap();
    check_objects("object", objects);
    check_objects("related object", related);
    // Every named variation once (the unknown id left out), each naming a plan that came
    // with it; each plan holds its variations.
    let mut distinct = variation_ids.clone();
    distinct.sort();
    distinct.dedup();
    let mut got: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    got.sort();
    assert_eq!(got, distinct);
    for variation in objects {
        assert_eq!(variation["type"], "SUBSCRIPTION_PLAN_VARIATION");
        let data = &variation["subscription_plan_variation_data"];
        assert!(!data["phases"].as_array().unwrap().is_empty());
        let plan = related
            .iter()
            .find(|p| p["id"] == data["subscription_plan_id"])
            .expect("its plan among the related objects");
        assert_eq!(plan["type"], "SUBSCRIPTION_PLAN");
        assert!(
            plan["subscription_plan_data"]["subscription_plan_variations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"] == variation["id"])
        );
    }
    // The seeded plans cover a free first phase, a yen price and a relative price.
    let phases: Vec<&Value> = objects
        .iter()
        .flat_map(|o| {
            o["subscription_plan_variation_data"]["phases"]
                .as_array()
                .unwrap()
        })
        .collect();
    assert!(
        phases
            .iter()
            .any(|p| p["periods"] == 2 && p["pricing"]["price_money"]["amount"] == 0)
    );
    assert!(
        phases
            .iter()
            .any(|p| p["pricing"]["price_money"]["currency"] == "JPY")
    );
    assert!(phases.iter().any(|p| p["pricing"]["type"] == "RELATIVE"));
    // The fake's snapshot renders the same plans.
    let plans = sb.square().snapshot().subscription_plans;
    check_objects("snapshot plan", &plans);
    assert!(related.iter().all(|p| plans.contains(p)));

    // Without related objects: the variations only. Nothing found: `{}`.
    let (_, plain) = post(&sb, &token, BATCH, &json!({"object_ids": variation_ids})).await;
    assert!(plain.get("related_objects").is_none());
    let (status, none) = post(&sb, &token, BATCH, &json!({"object_ids": ["NOPE"]})).await;
    assert_eq!((status, none), (StatusCode::OK, json!({})));
}

#[tokio::test]
async fn batch_retrieve_refuses_a_bad_body_and_a_grant_without_items_read() {
    let sb = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 13,
        stripe_charges: 2,
    })
    .await
    .unwrap();
    let token_with = token(&sb, "ITEMS_READ").await;
    let (status, body) = post(&sb, &token_with, BATCH, &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check_error(&body, "MISSING_REQUIRED_PARAMETER");
    let (status, body) = post(
        &sb,
        &token_with,
        BATCH,
        &json!({"object_ids": ["A"], "cursor": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check_error(&body, "UNKNOWN_BODY_PARAMETER");

    let without = token(&sb, "SUBSCRIPTIONS_READ").await;
    let (status, body) = post(&sb, &without, BATCH, &json!({"object_ids": ["A"]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    check_error(&body, "INSUFFICIENT_SCOPES");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ITEMS_READ")
    );
}
