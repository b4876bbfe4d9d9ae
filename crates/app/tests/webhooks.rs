//! The local webhook receiver against a real workspace: signatures made with the verified
//! signing helpers (`switchboard_providers::webhooks`, checked against Stripe's and Square's
//! own libraries in `providers/tests/webhook_vectors.rs`), real HTTP on loopback, the events
//! table, the rotation of secrets, and the sync an accepted event asks for.

mod common;

use std::sync::{Arc, Mutex};
use switchboard_app::webhooks::{
    self, DEFAULT_PORT, SyncRequest, WebhookOutcome, WebhookReceiver, square, stripe,
};
use switchboard_app::{CredentialConnect, PayPalConnect, PayPalEnvironment, Trigger, Workspace};
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionView;
use switchboard_sandbox::{PayPalWebhookHeaders, Sandbox};

const SECRET: &str = "whsec_test-receiver-first-3c1d";
const NEXT_SECRET: &str = "whsec_test-receiver-second-6e2a";
const SQUARE_KEY: &str = "sq-test-receiver-key-77f0";
const SQUARE_URL: &str = "https://tunnel.example.net/hooks/square";
/// The id PayPal gives a webhook (letters and digits).
const PAYPAL_WEBHOOK_ID: &str = "3X188233PA171014C";
const PAYPAL_VERIFY: &str = "POST /v1/notifications/verify-webhook-signature";

/// The common fixture with its workspace shared, as the receiver holds it (weakly).
struct Shared {
    workspace: Arc<Workspace>,
    sandbox: Sandbox,
    _dir: tempfile::TempDir,
}

async fn fixture(charges: usize) -> Shared {
    let f = common::fixture(charges).await;
    Shared {
        workspace: Arc::new(f.workspace),
        sandbox: f.sandbox,
        _dir: f.dir,
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn stripe_event(id: &str) -> String {
    serde_json::json!({
        "id": id,
        "object": "event",
        "api_version": "2023-08-16",
        "created": now(),
        "data": {"object": {"id": "ch_3Receiver0001", "object": "charge"}},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": "charge.succeeded",
    })
    .to_string()
}

fn square_event(id: &str, created_at: &str) -> String {
    serde_json::json!({
        "merchant_id": "MLQW9E2KZ8H1T",
        "type": "payment.updated",
        "event_id": id,
        "created_at": created_at,
        "data": {"type": "payment", "id": "pay_1", "object": {"payment": {"id": "pay_1"}}},
    })
    .to_string()
}

/// The connection ids the receiver asked to sync, in order.
#[derive(Clone, Default)]
struct Requests(Arc<Mutex<Vec<String>>>);

impl Requests {
    fn callback(&self) -> SyncRequest {
        let seen = self.0.clone();
        Arc::new(move |id: String| seen.lock().unwrap().push(id))
    }

    fn taken(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Post {
    status: u16,
    answer: serde_json::Value,
}

async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Post {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    Post {
        status,
        answer: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    }
}

async fn post_stripe(receiver: &WebhookReceiver, id: &str, header: &str, body: &str) -> Post {
    post(
        &receiver.endpoint(id),
        &[
            ("Stripe-Signature", header),
            ("Content-Type", "application/json"),
        ],
        body.to_string(),
    )
    .await
}

async fn connect_paypal(f: &Shared) -> ConnectionView {
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
        .unwrap()
        .connection
}

/// A PayPal event as PayPal delivers it (the Webhooks v1 event envelope).
fn paypal_event(id: &str, value: &str) -> String {
    serde_json::json!({
        "id": id,
        "event_version": "1.0",
        "create_time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "resource_type": "capture",
        "resource_version": "2.0",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "summary": "Payment completed",
        "resource": {
            "id": "42311647XV020574X",
            "status": "COMPLETED",
            "amount": {"currency_code": "USD", "value": value},
        },
    })
    .to_string()
}

async fn post_paypal(
    receiver: &WebhookReceiver,
    id: &str,
    signed: &PayPalWebhookHeaders,
    body: &str,
) -> Post {
    let pairs = signed.pairs();
    let headers: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(&receiver.endpoint(id), &headers, body.to_string()).await
}

async fn last_event(workspace: &Workspace) -> webhooks::WebhookEvent {
    workspace
        .list_webhook_events(None, 1)
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_events_are_verified_recorded_and_ask_for_a_sync() {
    let f = fixture(5).await;
    let main = f.workspace.find_connection("Main").await.unwrap();
    let setup = f
        .workspace
        .set_webhook_secret("Main", secret(SECRET), None)
        .await
        .unwrap();
    assert!(!setup.previous_kept);
    assert_eq!(setup.path, format!("/webhooks/{}", main.id));
    let requests = Requests::default();
    let receiver = f
        .workspace
        .start_webhook_receiver(Some(0), requests.callback())
        .await
        .unwrap();
    assert!(receiver.local_addr().ip().is_loopback());

    // A correctly signed event: 200 at once, the sync asked for, an accepted row.
    let body = stripe_event("evt_receiver_1");
    let header = stripe::signature_header(&secret(SECRET), now(), body.as_bytes());
    let answer = post_stripe(&receiver, &main.id, &header, &body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.answer);
    assert_eq!(answer.answer["outcome"], "accepted");
    assert_eq!(requests.taken(), vec![main.id.clone()]);
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Accepted);
    assert_eq!(row.event_id.as_deref(), Some("evt_receiver_1"));
    assert_eq!(row.event_type.as_deref(), Some("charge.succeeded"));
    assert_eq!(row.connection, "Main");
    assert_eq!(row.provider, "stripe");
    assert_eq!(row.reason, None);

    // Tampered after signing: 400, a rejected row with the reason, no sync.
    let tampered = body.replace("ch_3Receiver0001", "ch_3Receiver0002");
    let answer = post_stripe(&receiver, &main.id, &header, &tampered).await;
    assert_eq!(answer.status, 400);
    let reason = answer.answer["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("no v1 signature matches"), "{reason}");
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Rejected);
    assert_eq!(row.reason.as_deref(), Some(reason.as_str()));
    assert_eq!(
        row.event_id, None,
        "nothing unverified is recorded as the event"
    );

    // The same event again, freshly signed (a duplicate delivery or a replay): acknowledged so
    // the provider stops retrying, but rejected as a replay and not synced again.
    let again = stripe::signature_header(&secret(SECRET), now(), body.as_bytes());
    let answer = post_stripe(&receiver, &main.id, &again, &body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.answer["outcome"], "rejected");
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Rejected);
    assert_eq!(row.event_id.as_deref(), Some("evt_receiver_1"));
    assert!(
        row.reason
            .as_deref()
            .unwrap()
            .starts_with("replay: event evt_receiver_1 was already accepted"),
        "{row:?}"
    );

    // Signed ten minutes ago: outside the 300 s tolerance.
    let old_body = stripe_event("evt_receiver_old");
    let old = stripe::signature_header(&secret(SECRET), now() - 600, old_body.as_bytes());
    let answer = post_stripe(&receiver, &main.id, &old, &old_body).await;
    assert_eq!(answer.status, 400);
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Rejected);
    assert!(
        row.reason
            .as_deref()
            .unwrap()
            .contains("s ago, more than the 300 s tolerance"),
        "{row:?}"
    );

    // No signature header at all.
    let answer = post(&receiver.endpoint(&main.id), &[], body.clone()).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("Stripe-Signature")
    );

    // Nothing of the rejected ones asked for a sync.
    assert!(requests.taken().is_empty());

    // Rotation: the new secret is set; an event Stripe still signs with the old one verifies
    // (with a note), and so does one signed with the new one.
    let setup = f
        .workspace
        .set_webhook_secret(&main.id, secret(NEXT_SECRET), None)
        .await
        .unwrap();
    assert!(setup.previous_kept);
    let body = stripe_event("evt_receiver_2");
    let by_old = stripe::signature_header(&secret(SECRET), now(), body.as_bytes());
    let answer = post_stripe(&receiver, &main.id, &by_old, &body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.answer);
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Accepted);
    assert!(
        row.reason
            .as_deref()
            .unwrap()
            .contains("previous webhook secret"),
        "{row:?}"
    );
    let body = stripe_event("evt_receiver_3");
    let by_new = stripe::signature_header(&secret(NEXT_SECRET), now(), body.as_bytes());
    assert_eq!(
        post_stripe(&receiver, &main.id, &by_new, &body)
            .await
            .status,
        200
    );
    assert_eq!(requests.taken(), vec![main.id.clone(), main.id.clone()]);
    // A second rotation drops the first secret.
    f.workspace
        .set_webhook_secret("Main", secret("whsec_test-receiver-third-0b9f"), None)
        .await
        .unwrap();
    let body = stripe_event("evt_receiver_4");
    let by_first = stripe::signature_header(&secret(SECRET), now(), body.as_bytes());
    assert_eq!(
        post_stripe(&receiver, &main.id, &by_first, &body)
            .await
            .status,
        400
    );

    // A 2 MiB body: 413 without reading it all, and a rejected row.
    let big = vec![b' '; 2 * 1024 * 1024];
    let header = stripe::signature_header(&secret(NEXT_SECRET), now(), &big);
    let answer = post(
        &receiver.endpoint(&main.id),
        &[("Stripe-Signature", header.as_str())],
        big,
    )
    .await;
    assert_eq!(answer.status, 413);
    let row = last_event(&f.workspace).await;
    assert!(
        row.reason.as_deref().unwrap().contains("larger than 1 MiB"),
        "{row:?}"
    );

    // An unknown connection: 404, and nothing recorded against any connection.
    let count = f
        .workspace
        .list_webhook_events(None, 100)
        .await
        .unwrap()
        .len();
    let answer = post_stripe(
        &receiver,
        "0199ffff-0000-7000-8000-000000000000",
        &by_new,
        &body,
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        f.workspace
            .list_webhook_events(None, 100)
            .await
            .unwrap()
            .len(),
        count
    );
    // The connection's name is not an endpoint: ids only.
    assert_eq!(
        post_stripe(&receiver, "Main", &by_new, &body).await.status,
        404
    );

    // Only one connection's events when asked.
    assert_eq!(
        f.workspace
            .list_webhook_events(Some("Main"), 100)
            .await
            .unwrap()
            .len(),
        count
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_event_drives_a_webhook_sync_of_its_connection() {
    let f = fixture(5).await;
    let main = f.workspace.find_connection("Main").await.unwrap();
    f.workspace
        .set_webhook_secret("Main", secret(SECRET), None)
        .await
        .unwrap();
    // What the desktop shell and `webhook serve` do: queue, then sync what was queued.
    let (request, mut queue) = webhooks::sync_queue();
    let receiver = f
        .workspace
        .start_webhook_receiver(Some(0), request)
        .await
        .unwrap();
    for id in ["evt_sync_1", "evt_sync_2"] {
        let body = stripe_event(id);
        let header = stripe::signature_header(&secret(SECRET), now(), body.as_bytes());
        assert_eq!(
            post_stripe(&receiver, &main.id, &header, &body)
                .await
                .status,
            200
        );
    }
    // Two events, one sync: the queue merges requests for the same connection.
    let batch = queue.next().await.unwrap();
    assert_eq!(batch, vec![main.id.clone()]);
    let runs = f
        .workspace
        .sync(Some(&batch[0]), Trigger::Webhook, &|_| {})
        .await
        .unwrap();
    assert!(!runs.is_empty());
    assert!(
        runs.iter()
            .all(|r| r.trigger == "webhook" && r.connection_id == main.id)
    );
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_events_are_verified_with_the_notification_url() {
    let f = fixture(1).await;
    let browser = common::browser();
    let shop = f
        .workspace
        .connect_oauth(common::square_request(&f.sandbox, "Shop"), &browser)
        .await
        .unwrap();
    let requests = Requests::default();
    let receiver = f
        .workspace
        .start_webhook_receiver(Some(0), requests.callback())
        .await
        .unwrap();
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = square_event("sq-event-1", &created_at);
    let signature = square::signature(&secret(SQUARE_KEY), SQUARE_URL, body.as_bytes());
    let send = |signature: String, body: String| {
        let url = receiver.endpoint(&shop.id);
        async move {
            post(
                &url,
                &[("x-square-hmacsha256-signature", signature.as_str())],
                body,
            )
            .await
        }
    };

    // No key yet: 503 (Square retries, and the retries succeed once it is set).
    let answer = send(signature.clone(), body.clone()).await;
    assert_eq!(answer.status, 503);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("webhook secret set")
    );

    // Square signs the URL: a key without it is refused, with the URL it is accepted.
    let err = f
        .workspace
        .set_webhook_secret("Shop", secret(SQUARE_KEY), Some("not a url".into()))
        .await
        .unwrap_err();
    assert!(err.message.contains("notification URL"), "{}", err.message);
    f.workspace
        .set_webhook_secret("Shop", secret(SQUARE_KEY), None)
        .await
        .unwrap();
    let answer = send(signature.clone(), body.clone()).await;
    assert_eq!(answer.status, 503);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("notification URL")
    );
    let setup = f
        .workspace
        .set_webhook_secret("Shop", secret(SQUARE_KEY), Some(SQUARE_URL.into()))
        .await
        .unwrap();
    assert_eq!(setup.notification_url.as_deref(), Some(SQUARE_URL));
    assert!(!setup.previous_kept, "the same key again is not a rotation");
    let answer = send(signature.clone(), body.clone()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.answer);
    assert_eq!(requests.taken(), vec![shop.id.clone()]);
    let row = last_event(&f.workspace).await;
    assert_eq!(row.provider, "square");
    assert_eq!(row.event_id.as_deref(), Some("sq-event-1"));
    assert_eq!(row.event_type.as_deref(), Some("payment.updated"));

    // Signed for the local address instead of the registered URL: refused, naming the URL.
    let body = square_event("sq-event-2", &created_at);
    let local = square::signature(
        &secret(SQUARE_KEY),
        &receiver.endpoint(&shop.id),
        body.as_bytes(),
    );
    let answer = send(local, body.clone()).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains(SQUARE_URL)
    );

    // Square signs no timestamp: an event older than the ids kept is refused.
    let stale_at = (chrono::Utc::now() - chrono::Duration::days(8))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = square_event("sq-event-3", &stale_at);
    let stale = square::signature(&secret(SQUARE_KEY), SQUARE_URL, body.as_bytes());
    let answer = send(stale, body).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("more than 7 days ago")
    );
    assert!(requests.taken().is_empty());
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_settings_default_to_off_and_are_kept() {
    let f = fixture(1).await;
    let settings = f.workspace.webhook_receiver_settings().await.unwrap();
    assert!(!settings.enabled);
    assert_eq!(settings.port, DEFAULT_PORT);
    let settings = f
        .workspace
        .set_webhook_receiver_settings(Some(true), Some(9123))
        .await
        .unwrap();
    assert!(settings.enabled);
    assert_eq!(settings.port, 9123);
    let settings = f
        .workspace
        .set_webhook_receiver_settings(Some(false), None)
        .await
        .unwrap();
    assert!(!settings.enabled);
    assert_eq!(settings.port, 9123);
    assert!(
        f.workspace
            .set_webhook_receiver_settings(None, Some(0))
            .await
            .is_err()
    );
    // A Stripe connection takes no notification URL.
    let err = f
        .workspace
        .set_webhook_secret("Main", secret(SECRET), Some(SQUARE_URL.into()))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("Stripe signs no URL"),
        "{}",
        err.message
    );
}

/// Settings → Webhooks as the desktop shows it: per-provider support, endpoints on the
/// configured port or where the receiver listens, whether secrets are set (never their
/// values), Square's notification URL, and the events list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_view_reports_setup_without_secrets_and_lists_events() {
    use switchboard_core::views::WebhookEventOutcome;
    let f = fixture(1).await;
    let main = f.workspace.find_connection("Main").await.unwrap();
    let browser = common::browser();
    let shop = f
        .workspace
        .connect_oauth(common::square_request(&f.sandbox, "Shop"), &browser)
        .await
        .unwrap();
    let paypal = connect_paypal(&f).await;

    // Nothing set up: off, the default port, every endpoint on it.
    let view = f.workspace.webhook_settings_view(None, None).await.unwrap();
    assert!(!view.enabled && !view.running);
    assert_eq!(view.port, DEFAULT_PORT);
    assert_eq!((view.listening_on, view.error), (None, None));
    let ids: Vec<_> = view
        .connections
        .iter()
        .map(|c| c.connection_id.clone())
        .collect();
    assert_eq!(
        ids,
        vec![main.id.clone(), shop.id.clone(), paypal.id.clone()]
    );
    let [stripe_row, square_row, paypal_row] = &view.connections[..] else {
        unreachable!()
    };
    assert_eq!(
        stripe_row.endpoint_url,
        format!("http://127.0.0.1:{DEFAULT_PORT}/webhooks/{}", main.id)
    );
    assert_eq!(stripe_row.provider, "stripe");
    assert_eq!(stripe_row.connection, "Main");
    assert!(!stripe_row.has_secret && !stripe_row.has_previous_secret);
    assert!(square_row.notification_url.is_none());
    assert_eq!(square_row.provider_name, "Square");
    assert_eq!(paypal_row.webhook_id, None);
    assert!(!paypal_row.has_secret);

    // Secrets set and rotated: reported as set, never shown.
    for s in [SECRET, NEXT_SECRET] {
        f.workspace
            .set_webhook_secret("Main", secret(s), None)
            .await
            .unwrap();
    }
    f.workspace
        .set_webhook_secret("Shop", secret(SQUARE_KEY), Some(SQUARE_URL.into()))
        .await
        .unwrap();
    let requests = Requests::default();
    let receiver = f
        .workspace
        .start_webhook_receiver(Some(0), requests.callback())
        .await
        .unwrap();
    let view = f
        .workspace
        .webhook_settings_view(Some(receiver.local_addr()), None)
        .await
        .unwrap();
    assert!(view.running);
    assert_eq!(view.listening_on, Some(receiver.local_addr().to_string()));
    let stripe_row = &view.connections[0];
    assert!(stripe_row.has_secret && stripe_row.has_previous_secret);
    assert_eq!(stripe_row.endpoint_url, receiver.endpoint(&main.id));
    let square_row = &view.connections[1];
    assert!(square_row.has_secret && !square_row.has_previous_secret);
    assert_eq!(square_row.notification_url.as_deref(), Some(SQUARE_URL));
    // PayPal's webhook id is no secret: shown as it is.
    assert_eq!(view.connections[2].webhook_id, None);
    f.workspace
        .set_paypal_webhook_id("PayPal", PAYPAL_WEBHOOK_ID)
        .await
        .unwrap();
    let view = f.workspace.webhook_settings_view(None, None).await.unwrap();
    assert_eq!(
        view.connections[2].webhook_id.as_deref(),
        Some(PAYPAL_WEBHOOK_ID)
    );
    let json = serde_json::to_string(&view).unwrap();
    for s in [SECRET, NEXT_SECRET, SQUARE_KEY] {
        assert!(!json.contains(s), "a secret reached the view: {json}");
    }

    // Events: one accepted, one rejected with its reason, newest first.
    let body = stripe_event("evt_view_1");
    let header = stripe::signature_header(&secret(NEXT_SECRET), now(), body.as_bytes());
    assert_eq!(
        post_stripe(&receiver, &main.id, &header, &body)
            .await
            .status,
        200
    );
    let forged = stripe::signature_header(&secret("whsec_wrong"), now(), body.as_bytes());
    assert_eq!(
        post_stripe(&receiver, &main.id, &forged, &body)
            .await
            .status,
        400
    );
    let events = f.workspace.webhook_event_views(None, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    let (rejected, accepted) = (&events[0], &events[1]);
    assert_eq!(accepted.outcome, WebhookEventOutcome::Accepted);
    assert_eq!(accepted.event_id.as_deref(), Some("evt_view_1"));
    assert_eq!(accepted.event_type.as_deref(), Some("charge.succeeded"));
    assert_eq!(accepted.connection, "Main");
    assert_eq!(accepted.connection_id, main.id);
    assert_eq!(accepted.reason, None);
    assert_eq!(rejected.outcome, WebhookEventOutcome::Rejected);
    assert_eq!(requests.taken(), vec![main.id.clone()]);
    assert!(
        rejected
            .reason
            .as_deref()
            .unwrap()
            .contains("no v1 signature matches"),
        "{rejected:?}"
    );
    assert_eq!(rejected.event_id, None);
    assert_eq!(
        f.workspace
            .webhook_event_views(Some("Shop"), 10)
            .await
            .unwrap(),
        vec![]
    );
    receiver.stop().await;

    // Another port, not running, with the error the shell saw: endpoints follow the port.
    f.workspace
        .set_webhook_receiver_settings(Some(true), Some(9123))
        .await
        .unwrap();
    let error = "The webhook receiver cannot listen on 127.0.0.1:9123".to_string();
    let view = f
        .workspace
        .webhook_settings_view(None, Some(error.clone()))
        .await
        .unwrap();
    assert!(view.enabled && !view.running);
    assert_eq!(view.error, Some(error));
    assert_eq!(
        view.connections[0].endpoint_url,
        format!("http://127.0.0.1:9123/webhooks/{}", main.id)
    );

    // A disconnected connection has no secrets left and its events are refused: not listed.
    f.workspace.disconnect("Shop").await.unwrap();
    let view = f.workspace.webhook_settings_view(None, None).await.unwrap();
    let ids: Vec<_> = view
        .connections
        .iter()
        .map(|c| c.connection_id.clone())
        .collect();
    assert_eq!(ids, vec![main.id.clone(), paypal.id.clone()]);
}

/// PayPal signs with its own certificate: the receiver asks PayPal's
/// `verify-webhook-signature` (the sandbox's fake, which answers SUCCESS only for deliveries
/// it signed for that webhook id and body) with the connection's credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_events_are_checked_with_paypal_and_ask_for_a_sync() {
    let f = fixture(1).await;
    let paypal = connect_paypal(&f).await;
    let pp = f.sandbox.paypal();
    let requests = Requests::default();
    let receiver = f
        .workspace
        .start_webhook_receiver(Some(0), requests.callback())
        .await
        .unwrap();
    let body = paypal_event("WH-1TU02751RH1093521-8C2911442T5436405", "10.00");
    let signed = pp.sign_webhook(PAYPAL_WEBHOOK_ID, &body);

    // No webhook id yet: refused with what to do, 503 so PayPal delivers it again; PayPal is
    // not asked.
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 503);
    let reason = answer.answer["reason"].as_str().unwrap();
    assert!(
        reason.contains("no PayPal webhook ID is set") && reason.contains("--webhook-id"),
        "{reason}"
    );
    assert_eq!(
        last_event(&f.workspace).await.outcome,
        WebhookOutcome::Rejected
    );
    assert_eq!(pp.requests(PAYPAL_VERIFY), 0);

    // The id is PayPal's, of PayPal connections only; PayPal has no secret.
    for bad in ["", "not an id", "3X188233-PA171014C"] {
        let err = f
            .workspace
            .set_paypal_webhook_id("PayPal", bad)
            .await
            .unwrap_err();
        assert!(
            err.message.contains("is not a PayPal webhook ID"),
            "{}",
            err.message
        );
    }
    let err = f
        .workspace
        .set_paypal_webhook_id("Main", PAYPAL_WEBHOOK_ID)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("not a PayPal connection"),
        "{}",
        err.message
    );
    let err = f
        .workspace
        .set_webhook_secret("PayPal", secret(SECRET), None)
        .await
        .unwrap_err();
    assert!(err.message.contains("--webhook-id"), "{}", err.message);
    let setup = f
        .workspace
        .set_paypal_webhook_id("PayPal", &format!(" {PAYPAL_WEBHOOK_ID} "))
        .await
        .unwrap();
    assert_eq!(setup.webhook_id.as_deref(), Some(PAYPAL_WEBHOOK_ID));
    assert_eq!(setup.path, format!("/webhooks/{}", paypal.id));

    // PayPal answers SUCCESS: accepted, recorded, the sync asked for.
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.answer);
    assert_eq!(answer.answer["outcome"], "accepted");
    assert_eq!(requests.taken(), vec![paypal.id.clone()]);
    assert_eq!(pp.requests(PAYPAL_VERIFY), 1);
    // The check is in the connection's request log like any other call.
    let logged = f
        .workspace
        .list_requests(Some("PayPal"), 100)
        .await
        .unwrap();
    assert!(
        logged.iter().any(|r| r.method == "POST"
            && r.path == "/v1/notifications/verify-webhook-signature"
            && r.status == Some(200)),
        "{logged:#?}"
    );
    let row = last_event(&f.workspace).await;
    assert_eq!(row.outcome, WebhookOutcome::Accepted);
    assert_eq!(row.provider, "paypal");
    assert_eq!(
        row.event_id.as_deref(),
        Some("WH-1TU02751RH1093521-8C2911442T5436405")
    );
    assert_eq!(row.event_type.as_deref(), Some("PAYMENT.CAPTURE.COMPLETED"));
    // What the desktop shell and `webhook serve` do with it: a webhook sync of PayPal.
    let runs = f
        .workspace
        .sync(Some(&paypal.id), Trigger::Webhook, &|_| {})
        .await
        .unwrap();
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| r.trigger == "webhook"
            && r.connection_id == paypal.id
            && r.status == "succeeded"),
        "{runs:#?}"
    );

    // The same transmission again: acknowledged, rejected as a replay, no sync.
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.answer["outcome"], "rejected");
    let row = last_event(&f.workspace).await;
    assert!(
        row.reason.as_deref().unwrap().starts_with(
            "replay: event WH-1TU02751RH1093521-8C2911442T5436405 was already accepted"
        ),
        "{row:?}"
    );

    // Changed on the way, or signed for another webhook: PayPal answers FAILURE.
    let tampered = paypal_event("WH-1TU02751RH1093521-8C2911442T5436405", "1000.00");
    let other_body = paypal_event("WH-55TG00542R0418412-0UH69426NA393164E", "10.00");
    let other_webhook = pp.sign_webhook("8PT597110X687430LK", &other_body);
    for (headers, body) in [(&signed, &tampered), (&other_webhook, &other_body)] {
        let answer = post_paypal(&receiver, &paypal.id, headers, body).await;
        assert_eq!(answer.status, 400, "{:?}", answer.answer);
        let row = last_event(&f.workspace).await;
        assert_eq!(row.outcome, WebhookOutcome::Rejected);
        assert!(
            row.reason.as_deref().unwrap().contains(&format!(
                "PayPal answered FAILURE: it did not send this event to webhook {PAYPAL_WEBHOOK_ID}"
            )),
            "{row:?}"
        );
        assert_eq!(
            row.event_id, None,
            "nothing unverified is recorded as the event"
        );
    }
    assert_eq!(pp.requests(PAYPAL_VERIFY), 4);

    // A header missing: not PayPal's delivery; PayPal is not asked.
    let body = paypal_event("WH-3S981344N48219213-2UV60436T0577131U", "5.00");
    let signed = pp.sign_webhook(PAYPAL_WEBHOOK_ID, &body);
    let pairs = signed.pairs();
    let without_sig: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| *k != "PAYPAL-TRANSMISSION-SIG")
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let answer = post(&receiver.endpoint(&paypal.id), &without_sig, body.clone()).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("PAYPAL-TRANSMISSION-SIG"),
        "{:?}",
        answer.answer
    );
    assert_eq!(pp.requests(PAYPAL_VERIFY), 4);

    // PayPal cannot answer: 503, so PayPal delivers it again; the next delivery is accepted.
    pp.fail_next(1, 503);
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 503, "{:?}", answer.answer);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .starts_with("PayPal could not check the signature"),
        "{:?}",
        answer.answer
    );
    assert!(
        requests.taken().is_empty(),
        "nothing rejected asked for a sync"
    );
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.answer);
    assert_eq!(requests.taken(), vec![paypal.id.clone()]);

    // The workspace closed under a running receiver: PayPal is told to come back.
    let Shared { workspace, .. } = f;
    drop(workspace);
    let body = paypal_event("WH-6A211640TX6651524-5VU25475DW9010114", "7.00");
    let signed = pp.sign_webhook(PAYPAL_WEBHOOK_ID, &body);
    let answer = post_paypal(&receiver, &paypal.id, &signed, &body).await;
    assert_eq!(answer.status, 503, "{:?}", answer.answer);
    assert!(
        answer.answer["reason"]
            .as_str()
            .unwrap()
            .contains("the workspace is closing"),
        "{:?}",
        answer.answer
    );
    assert!(requests.taken().is_empty());
    receiver.stop().await;
}
