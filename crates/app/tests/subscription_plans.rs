//! What a subscription is for, per provider, as the Subscriptions screen and `subscriptions
//! list` get it from `Workspace::list_subscriptions`: the plan's name, its price and how often.
//! Stripe says so on the subscription's items; Square in the catalog (one batch per page);
//! PayPal on the plan (read once per plan). Each is checked against what the fake serves.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Fixture, fixture};
use serde_json::Value;
use switchboard_app::{CredentialConnect, PayPalConnect, PayPalEnvironment, Trigger};
use switchboard_core::secret::SecretString;
use switchboard_core::views::SubscriptionView;

/// How the list shows a subscription: (what, amount, currency, exponent, interval, count).
type Shown = (
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<u8>,
    Option<String>,
    Option<i64>,
);

/// What a subscription charges: (amount, currency, interval, count).
type Charge = (Option<i64>, Option<String>, Option<String>, Option<i64>);

fn shown(s: &SubscriptionView) -> Shown {
    (
        s.description.clone(),
        s.amount_minor,
        s.currency.clone(),
        s.currency_exponent,
        s.interval.clone(),
        s.interval_count,
    )
}

async fn listed(f: &Fixture, connection: &str) -> HashMap<String, Shown> {
    f.workspace
        .list_subscriptions(Some(connection))
        .await
        .unwrap()
        .iter()
        .map(|s| (s.external_id.clone(), shown(s)))
        .collect()
}

#[tokio::test]
async fn stripe_subscriptions_show_their_items_price_nickname_and_interval() {
    let f = fixture(20).await;
    f.sync().await;
    let list = listed(&f, "Main").await;
    let ids = f.sandbox.stripe().subscription_ids();
    assert!(ids.len() >= 3);
    assert_eq!(list.len(), ids.len());
    for id in ids {
        let s = f.sandbox.stripe().subscription(&id).unwrap();
        let item = &s["items"]["data"][0];
        let price = &item["price"];
        let currency = price["currency"].as_str().unwrap().to_ascii_uppercase();
        // Stripe's units are ISO minor units for these currencies except ISK (hundredths).
        let (unit, exponent) = match currency.as_str() {
            "JPY" => (1, 0),
            "KWD" => (1, 3),
            "ISK" => (100, 0),
            _ => (1, 2),
        };
        let amount =
            price["unit_amount"].as_i64().unwrap() * item["quantity"].as_i64().unwrap() / unit;
        let want: Shown = (
            s["description"]
                .as_str()
                .or(price["nickname"].as_str())
                .map(str::to_string),
            Some(amount),
            Some(currency),
            Some(exponent),
            price["recurring"]["interval"].as_str().map(str::to_string),
            price["recurring"]["interval_count"].as_i64(),
        );
        assert_eq!(list[&id], want, "{id}");
    }
}

/// Connects the Square fake as "Square" (the OAuth fake, auto-approved). The catalogue's
/// scopes are what the app asks for, so the fake's scope checks are off: this is about data.
async fn connect_square(f: &Fixture) {
    f.sandbox.square().set_scope_checks(false);
    let browser = common::browser();
    f.workspace
        .connect_oauth(common::square_request(&f.sandbox, "Square"), &browser)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_subscriptions_show_their_catalog_plan() {
    let f = fixture(2).await;
    connect_square(&f).await;
    let runs = f
        .workspace
        .sync(Some("Square"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    let run = runs.iter().find(|r| r.stream == "subscriptions").unwrap();
    assert_eq!(run.status, "succeeded", "{runs:#?}");
    let list = listed(&f, "Square").await;
    let square = f.sandbox.square();
    let snapshot = square.snapshot();
    assert_eq!(list.len(), snapshot.subscriptions.len());
    // Every plan variation the fake's catalog has, by id: (plan name, variation).
    let mut names: HashMap<String, String> = HashMap::new();
    for plan in &snapshot.subscription_plans {
        let data = &plan["subscription_plan_data"];
        for v in data["subscription_plan_variations"].as_array().unwrap() {
            let variation = v["subscription_plan_variation_data"]["name"]
                .as_str()
                .unwrap();
            names.insert(
                v["id"].as_str().unwrap().to_string(),
                format!("{} ({variation})", data["name"].as_str().unwrap()),
            );
        }
    }
    for s in &snapshot.subscriptions {
        let id = s["id"].as_str().unwrap();
        let got = &list[id];
        assert_eq!(
            got.0.as_deref(),
            Some(names[s["plan_variation_id"].as_str().unwrap()].as_str()),
            "{s}"
        );
        assert!(got.4.is_some(), "every seeded plan has a cadence: {got:?}");
        if let Some(own) = s.get("price_override_money") {
            assert_eq!(got.1, own["amount"].as_i64());
        }
    }
    let values: BTreeSet<Charge> = list
        .values()
        .map(|s| (s.1, s.2.clone(), s.4.clone(), s.5))
        .collect();
    let usd = |a| (Some(a), Some("USD".to_string()));
    let want: BTreeSet<_> = [
        (usd(1_500), "month", 1),
        (usd(15_000), "year", 1),
        (usd(4_900), "month", 1),
        (usd(0), "week", 1),
        ((None, None), "month", 3),
        ((Some(3_000), Some("JPY".to_string())), "month", 1),
    ]
    .into_iter()
    .map(|((a, c), unit, n)| (a, c, Some(unit.to_string()), Some(n)))
    .collect();
    assert_eq!(values, want);
    assert_eq!(
        square.counters().route("POST /v2/catalog/batch-retrieve"),
        square.counters().route("POST /v2/subscriptions/search"),
        "one catalog request per page of subscriptions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_subscriptions_show_their_plan_read_once_per_plan() {
    let f = fixture(2).await;
    let pp = f.sandbox.paypal();
    f.workspace
        .connect_with_credentials(CredentialConnect::PayPal(PayPalConnect {
            name: "PayPal".into(),
            environment: PayPalEnvironment::Sandbox,
            api_base: Some(pp.api_base()),
            client_id: pp.client_id().to_string(),
            client_secret: SecretString::new(pp.client_secret()),
        }))
        .await
        .unwrap();
    let runs = f
        .workspace
        .sync(Some("PayPal"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert_eq!(runs[0].status, "succeeded", "{runs:#?}");
    let list = listed(&f, "PayPal").await;
    let ids = pp.subscription_ids();
    assert_eq!(list.len(), ids.len());
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
    let read = |path: String| {
        let http = http.clone();
        async move {
            http.get(format!("{}{path}", pp.api_base()))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let mut plans = BTreeSet::new();
    for id in &ids {
        let s = read(format!("/v1/billing/subscriptions/{id}")).await;
        let plan_id = s["plan_id"].as_str().unwrap().to_string();
        let plan = read(format!("/v1/billing/plans/{plan_id}")).await;
        let regular = plan["billing_cycles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tenure_type"] == "REGULAR")
            .unwrap();
        let price = &regular["pricing_scheme"]["fixed_price"];
        let currency = price["currency_code"].as_str().unwrap();
        let value = price["value"].as_str().unwrap();
        let exponent = if currency == "JPY" { 0 } else { 2 };
        let got = &list[id];
        assert_eq!(got.0.as_deref(), plan["name"].as_str(), "{id}");
        assert_eq!(
            switchboard_core::money::decimal_string(got.1.unwrap(), got.3.unwrap()),
            value,
            "{id}"
        );
        assert_eq!(
            (got.2.as_deref(), got.3, got.4.as_deref(), got.5),
            (Some(currency), Some(exponent), Some("month"), Some(1)),
            "{id}"
        );
        plans.insert(plan_id);
    }
    assert_eq!(
        pp.requests("GET /v1/billing/plans/{id}"),
        2 * plans.len(),
        "the sync read each plan once (this test once more)"
    );
}
