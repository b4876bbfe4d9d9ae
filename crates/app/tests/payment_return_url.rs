//! The page customers land on after paying: a workspace setting, checked when set, sent with
//! every Stripe payment request made after it (Checkout's `success_url`; PayPal and Square in
//! `payment_actions.rs`).

mod common;

use common::fixture;
use serde_json::Value;
use switchboard_core::ErrorCode;
use switchboard_core::views::NewPaymentRequest;

fn request() -> NewPaymentRequest {
    NewPaymentRequest {
        connection: "Main".into(),
        amount: Some("40.00".into()),
        amount_minor: None,
        currency: "EUR".into(),
        description: "Deposit: spring workshop".into(),
        customer_email: None,
        fallback_from: None,
    }
}

/// The Checkout Session as the fake Stripe holds it.
async fn session(f: &common::Fixture, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!(
            "{}/v1/checkout/sessions/{id}",
            f.sandbox.stripe_api_base()
        ))
        .bearer_auth(f.sandbox.stripe_api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_checkout_sends_customers_to_the_page_the_business_chose() {
    let f = fixture(5).await;
    let ws = &f.workspace;
    assert_eq!(
        ws.payment_request_settings().await.unwrap().return_url,
        None
    );

    // Without the setting: the default confirmation page.
    let before = ws.request_payment(request()).await.unwrap();
    let before = session(&f, before.external_id.as_deref().unwrap()).await;
    assert!(
        !before["success_url"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example.com"),
        "{before}"
    );

    // A page that is not HTTPS is refused and nothing changes.
    let refused = ws
        .set_payment_return_url(Some("http://shop.example.com/thanks"))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidInput, "{refused:?}");
    assert!(refused.message.contains("https://"), "{}", refused.message);
    assert_eq!(
        ws.payment_request_settings().await.unwrap().return_url,
        None
    );

    let set = ws
        .set_payment_return_url(Some(" https://shop.example.com/thanks "))
        .await
        .unwrap();
    assert_eq!(
        set.return_url.as_deref(),
        Some("https://shop.example.com/thanks")
    );
    let after = ws.request_payment(request()).await.unwrap();
    let after = session(&f, after.external_id.as_deref().unwrap()).await;
    assert_eq!(after["success_url"], "https://shop.example.com/thanks");

    // Cleared: back to the default.
    let cleared = ws.set_payment_return_url(Some("")).await.unwrap();
    assert_eq!(cleared.return_url, None);
}
