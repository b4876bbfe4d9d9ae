//! Payment requests and subscription cancels of Square and PayPal, sent from the app through
//! the outbox: each reaches the fake once (counted there), shows in the app at once, and an
//! answer lost after the provider acted is not acted on twice. Also: a grant made before a
//! feature was first used says how to add it, and a connection whose circuit is open points
//! to the next one, which then takes the request and records whom it stands in for.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{Fixture, fixture};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use switchboard_app::{
    BreakerConfig, CredentialConnect, OAuthConnect, OAuthReconnect, OutboxPolicy, PayPalConnect,
    PayPalEnvironment, Trigger,
};
use switchboard_core::ErrorCode;
use switchboard_core::secret::SecretString;
use switchboard_core::views::{CircuitState, NewPaymentRequest, SubscriptionView};
use switchboard_sandbox::Fault;

const LINKS: &str = "POST /v2/online-checkout/payment-links";
const LOOK_UP_LINKS: &str = "GET /v2/online-checkout/payment-links";
const SQUARE_CANCEL: &str = "POST /v2/subscriptions/{subscription_id}/cancel";
const ORDERS: &str = "POST /v2/checkout/orders";
const PAYPAL_CANCEL: &str = "POST /v1/billing/subscriptions/{id}/cancel";

/// No backoff between outbox passes, so a retry is due at once.
fn eager_outbox(f: &mut Fixture) {
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
}

/// A pass-through to the Square fake that can lose answers: a payment-link POST is forwarded
/// (Square makes the link) and then answered with a 500 instead of Square's answer, as when
/// the answer is lost on the way back.
struct LossyProxy {
    base: String,
    lose_links: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
    lose_links: Arc<AtomicUsize>,
}

async fn forward(
    State(up): State<Upstream>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = up
        .http
        .request(method.clone(), format!("{}{path}", up.base))
        .body(body);
    for name in ["authorization", "square-version", "content-type"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.expect("the Square fake answers");
    let status = answer.status();
    let body = answer.bytes().await.expect("a whole answer");
    let lost = method == Method::POST
        && uri.path() == "/v2/online-checkout/payment-links"
        && status.is_success()
        && up
            .lose_links
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    if lost {
        let error = r#"{"errors":[{"category":"API_ERROR","code":"INTERNAL_SERVER_ERROR","detail":"An internal error occurred."}]}"#;
        return (StatusCode::INTERNAL_SERVER_ERROR, error).into_response();
    }
    (status, [("content-type", "application/json")], body).into_response()
}

async fn lossy_proxy(upstream: String) -> LossyProxy {
    let lose_links = Arc::new(AtomicUsize::new(0));
    let state = Upstream {
        base: upstream,
        http: reqwest::Client::new(),
        lose_links: lose_links.clone(),
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LossyProxy { base, lose_links }
}

/// Connects the fake Square as "Square" (its API reached at `api_base`) with the catalogue's
/// scopes, then signs in again for each incremental grant in `features`, as the app asks
/// before a feature's first use. Square's own scope checks stay on.
async fn connect_square(f: &Fixture, api_base: &str, features: &[&str]) {
    let request = OAuthConnect {
        api_base: Some(api_base.to_string()),
        ..common::square_request(&f.sandbox, "Square")
    };
    f.workspace
        .connect_oauth(request, &common::browser())
        .await
        .unwrap();
    for feature in features {
        grant(f, feature).await;
    }
}

/// Signs "Square" in again, also asking for `feature`'s scopes.
async fn grant(f: &Fixture, feature: &str) {
    f.workspace
        .reconnect_oauth(
            OAuthReconnect {
                connection: "Square".into(),
                client_id: None,
                client_secret: None,
                redirect_port: Some(0),
                account: None,
                switch_account: false,
                feature: Some(feature.to_string()),
            },
            &common::browser(),
        )
        .await
        .unwrap();
}

async fn connect_paypal(f: &Fixture) {
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
}

async fn sync(f: &Fixture, connection: &str) {
    let runs = f
        .workspace
        .sync(Some(connection), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
}

fn ask(connection: &str, amount: &str, currency: &str) -> NewPaymentRequest {
    NewPaymentRequest {
        connection: connection.into(),
        amount: Some(amount.into()),
        amount_minor: None,
        currency: currency.into(),
        description: "Deposit: spring workshop".into(),
        customer_email: Some("ada@example.com".into()),
        fallback_from: None,
    }
}

/// An active subscription of `connection` that does not end yet.
async fn running_subscription(f: &Fixture, connection: &str) -> SubscriptionView {
    f.workspace
        .list_subscriptions(Some(connection))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.status == "active" && !s.cancel_at_period_end)
        .unwrap_or_else(|| panic!("an active subscription at {connection}"))
}

async fn stored_subscription(f: &Fixture, connection: &str, id: &str) -> SubscriptionView {
    f.workspace
        .list_subscriptions(Some(connection))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_square_link_whose_answer_is_lost_is_looked_up_not_made_again_and_a_cancel_lands_once() {
    let mut f = fixture(2).await;
    eager_outbox(&mut f);
    let proxy = lossy_proxy(f.sandbox.oauth("square").api_base()).await;
    connect_square(&f, &proxy.base, &["payment_links", "cancel_subscriptions"]).await;
    let square = f.sandbox.square().clone();
    square.reset_counters();

    // Square makes the link, but its answer is lost: the request waits, uncertain.
    proxy.lose_links.store(1, Ordering::SeqCst);
    let queued = f
        .workspace
        .request_payment(ask("Square", "250.00", "USD"))
        .await
        .unwrap();
    assert_eq!(queued.status, "queued", "{queued:#?}");
    assert_eq!(queued.provider, "square");
    assert_eq!(square.snapshot().payment_links.len(), 1, "it was made");

    // The next pass looks it up (it carries the item's id) instead of making a second one.
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!((pass.succeeded, pass.found_by_lookup), (1, 1), "{pass:?}");
    let c = square.counters();
    assert_eq!(c.route(LINKS), 1, "made once: {c:?}");
    assert_eq!(c.route(LOOK_UP_LINKS), 1, "{c:?}");
    let links = square.snapshot().payment_links;
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0]["description"],
        format!("switchboard_outbox_id={}", queued.outbox_item_id)
    );
    assert_eq!(
        links[0]["pre_populated_data"]["buyer_email"],
        "ada@example.com"
    );

    // The app shows the link Square holds.
    let made = f.workspace.payment_request(&queued.id).await.unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    assert_eq!(made.external_id.as_deref(), links[0]["id"].as_str());
    assert_eq!(made.url.as_deref(), links[0]["url"].as_str());
    assert_eq!((made.amount_minor, made.currency.as_str()), (25_000, "USD"));
    let listed = f.workspace.list_payment_requests(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, made.id);
    let item = f
        .workspace
        .get_outbox_item(&made.outbox_item_id)
        .await
        .unwrap();
    assert_eq!(
        (item.kind.as_str(), item.status.as_str()),
        ("square.payment_link", "succeeded")
    );
    assert_eq!(item.result_external_id, made.external_id);

    // Cancel at period end: sent once, shown at once; asking again sends nothing.
    sync(&f, "Square").await;
    let running = running_subscription(&f, "Square").await;
    let cancelled = f.workspace.cancel_subscription(&running.id).await.unwrap();
    assert!(cancelled.cancel_at_period_end, "{cancelled:#?}");
    assert_eq!(
        cancelled.status, "active",
        "it runs to the end of the period"
    );
    assert_eq!(square.counters().route(SQUARE_CANCEL), 1);
    let at_square = square
        .snapshot()
        .subscriptions
        .into_iter()
        .find(|s| s["id"] == running.external_id.as_str())
        .unwrap();
    assert!(at_square.get("canceled_date").is_some(), "{at_square}");
    assert!(
        stored_subscription(&f, "Square", &running.id)
            .await
            .cancel_at_period_end
    );
    assert!(f.workspace.cancel_subscription(&running.id).await.is_err());
    assert_eq!(square.counters().route(SQUARE_CANCEL), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_square_grant_says_to_reconnect_for_the_feature_then_the_retry_goes_through() {
    let mut f = fixture(2).await;
    eager_outbox(&mut f);
    let api_base = f.sandbox.oauth("square").api_base();
    // Only the catalogue's first scopes: what a connection made before these features has.
    connect_square(&f, &api_base, &[]).await;
    let square = f.sandbox.square().clone();

    // Square refuses (no ORDERS_WRITE): a dead letter saying how to allow payment links.
    let refused = f
        .workspace
        .request_payment(ask("Square", "40.00", "USD"))
        .await
        .unwrap();
    assert_eq!(refused.status, "failed", "{refused:#?}");
    let dead = f.workspace.list_outbox(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    let message = dead[0].last_error_message.clone().unwrap();
    assert!(
        message.contains("create payment links")
            && message.contains("Reconnect")
            && message.contains("--for payment_links"),
        "{message}"
    );
    assert_eq!(refused.error.as_deref(), Some(message.as_str()));
    assert!(square.snapshot().payment_links.is_empty());

    // Reconnected for payment links, the same request goes through when retried.
    grant(&f, "payment_links").await;
    let retried = f.workspace.retry_dead_letter(&dead[0].id).await.unwrap();
    assert_eq!(retried.status, "succeeded", "{retried:#?}");
    let made = f.workspace.payment_request(&refused.id).await.unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    assert_eq!(square.snapshot().payment_links.len(), 1);

    // The same for ending a subscription (SUBSCRIPTIONS_WRITE).
    sync(&f, "Square").await;
    let running = running_subscription(&f, "Square").await;
    f.workspace.cancel_subscription(&running.id).await.unwrap();
    let dead = f.workspace.list_outbox(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0].kind, "square.subscription_cancel");
    let message = dead[0].last_error_message.clone().unwrap();
    assert!(
        message.contains("end subscriptions") && message.contains("--for cancel_subscriptions"),
        "{message}"
    );
    assert!(
        !stored_subscription(&f, "Square", &running.id)
            .await
            .cancel_at_period_end
    );
    grant(&f, "cancel_subscriptions").await;
    let retried = f.workspace.retry_dead_letter(&dead[0].id).await.unwrap();
    assert_eq!(retried.status, "succeeded", "{retried:#?}");
    assert!(
        stored_subscription(&f, "Square", &running.id)
            .await
            .cancel_at_period_end
    );

    // Adding the second grant kept the first: payment links still work.
    let again = f
        .workspace
        .request_payment(ask("Square", "12.00", "USD"))
        .await
        .unwrap();
    assert_eq!(again.status, "created", "{again:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paypal_order_whose_answer_is_lost_is_made_once_and_a_cancel_ends_the_subscription() {
    let mut f = fixture(2).await;
    eager_outbox(&mut f);
    connect_paypal(&f).await;
    let pp = f.sandbox.paypal().clone();

    // PayPal makes the order, but its answer is lost: the request waits, uncertain.
    pp.lose_next_post_answers(1);
    let queued = f
        .workspace
        .request_payment(ask("PayPal", "99.50", "EUR"))
        .await
        .unwrap();
    assert_eq!(queued.status, "queued", "{queued:#?}");
    assert_eq!(pp.order_ids().len(), 1, "it was made");

    // PayPal cannot search orders: the next pass sends again with the same PayPal-Request-Id
    // and PayPal answers with the order it already made.
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!(pass.succeeded, 1, "{pass:?}");
    assert_eq!(pp.requests(ORDERS), 2);
    let orders = pp.order_ids();
    assert_eq!(orders.len(), 1, "one order at PayPal");
    let made = f.workspace.payment_request(&queued.id).await.unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    assert_eq!(made.external_id.as_deref(), Some(orders[0].as_str()));
    assert!(
        made.url.as_deref().unwrap().contains(&orders[0]),
        "{made:#?}"
    );
    assert_eq!(
        pp.order_status(&orders[0]).as_deref(),
        Some("PAYER_ACTION_REQUIRED")
    );
    let listed = f.workspace.list_payment_requests(10).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [made.id.as_str()]
    );

    // PayPal ends a subscription at once (it has no "at period end"): sent once, shown as
    // ended; asking again sends nothing.
    sync(&f, "PayPal").await;
    let running = running_subscription(&f, "PayPal").await;
    assert!(pp.subscription_ids().contains(&running.external_id));
    let cancelled = f.workspace.cancel_subscription(&running.id).await.unwrap();
    assert_eq!(cancelled.status, "canceled", "{cancelled:#?}");
    assert_eq!(pp.requests(PAYPAL_CANCEL), 1);
    assert_eq!(
        stored_subscription(&f, "PayPal", &running.id).await.status,
        "canceled"
    );
    assert!(f.workspace.cancel_subscription(&running.id).await.is_err());
    assert_eq!(pp.requests(PAYPAL_CANCEL), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_a_stripe_connection_with_an_open_circuit_points_to_the_next_one() {
    let mut f = fixture(5).await;
    eager_outbox(&mut f);
    f.workspace.set_breaker_config(BreakerConfig {
        failure_threshold: 3,
        cool_down: Duration::from_secs(600),
        max_cool_down: Duration::from_secs(600),
    });
    connect_paypal(&f).await;

    // Stripe fails three times in a row (the first page's tries): its circuit opens.
    let stripe = f.sandbox.stripe().clone();
    stripe.fail_next(3, Fault::ServerError);
    f.workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    let health = f.workspace.connection_health("Main").await.unwrap();
    assert_eq!(health.circuit, CircuitState::Open, "{health:#?}");

    // Refused before anything is queued or sent, naming the connection that can take it.
    let before = stripe.request_count();
    let refused = f
        .workspace
        .request_payment(ask("Main", "80.00", "EUR"))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::CircuitOpen, "{refused:?}");
    assert!(refused.retryable);
    assert!(
        refused.message.contains("PayPal “PayPal”"),
        "{}",
        refused.message
    );
    assert_eq!(stripe.request_count(), before);
    assert!(f.workspace.list_outbox(false, 10).await.unwrap().is_empty());
    let options = f.workspace.payment_request_options().await.unwrap();
    let main = options.iter().find(|o| o.connection == "Main").unwrap();
    assert!(
        !main.available && main.unavailable_reason.is_some(),
        "{options:#?}"
    );

    // The user takes the fallback: made at PayPal, recording whom it stands in for.
    let pp = f.sandbox.paypal().clone();
    let made = f
        .workspace
        .request_payment(NewPaymentRequest {
            fallback_from: Some("Main".into()),
            ..ask("PayPal", "80.00", "EUR")
        })
        .await
        .unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    assert_eq!(made.provider, "paypal");
    assert_eq!(made.fallback_from.as_deref(), Some("Main"));
    assert_eq!(pp.order_ids(), [made.external_id.clone().unwrap()]);
    assert_eq!(stripe.request_count(), before, "nothing went to Stripe");
    let listed = f.workspace.list_payment_requests(10).await.unwrap();
    assert_eq!(listed[0].fallback_from.as_deref(), Some("Main"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_and_paypal_links_send_customers_to_the_page_set_when_the_request_was_made() {
    let mut f = fixture(2).await;
    eager_outbox(&mut f);
    let api_base = f.sandbox.oauth("square").api_base();
    connect_square(&f, &api_base, &["payment_links"]).await;
    connect_paypal(&f).await;
    let pp = f.sandbox.paypal().clone();
    const THANKS: &str = "https://shop.example.com/thanks";
    f.workspace
        .set_payment_return_url(Some(THANKS))
        .await
        .unwrap();

    let square = f
        .workspace
        .request_payment(ask("Square", "25.00", "USD"))
        .await
        .unwrap();
    assert_eq!(square.status, "created", "{square:#?}");
    let links = f.sandbox.square().snapshot().payment_links;
    assert_eq!(links[0]["checkout_options"]["redirect_url"], THANKS);

    // Refused for now, and the setting changes before the retry: the retry is the same
    // request (a provider may refuse a repeated idempotency key with another body), so it
    // keeps the page.
    pp.fail_next(1, 503);
    let paypal = f
        .workspace
        .request_payment(ask("PayPal", "25.00", "EUR"))
        .await
        .unwrap();
    assert_eq!(paypal.status, "queued", "{paypal:#?}");
    f.workspace
        .set_payment_return_url(Some("https://shop.example.com/other"))
        .await
        .unwrap();
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!(pass.succeeded, 1, "{pass:?}");
    let order = f
        .workspace
        .payment_request(&paypal.id)
        .await
        .unwrap()
        .external_id
        .unwrap();
    assert_eq!(pp.order_return_url(&order).as_deref(), Some(THANKS));

    // Cleared: PayPal's own pages.
    f.workspace.set_payment_return_url(None).await.unwrap();
    let plain = f
        .workspace
        .request_payment(ask("PayPal", "30.00", "EUR"))
        .await
        .unwrap();
    assert_eq!(pp.order_return_url(&plain.external_id.unwrap()), None);
}
