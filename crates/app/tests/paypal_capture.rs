//! PayPal payment requests are followed up until the money is taken: the buyer approves the
//! order (by opening its link at the fake), the follow-up captures it exactly once through the
//! outbox (captures counted at the fake), the request becomes `paid` and the capture is stored
//! as a payment at once, under the id the next sync's Transaction Search reports (updated, not
//! duplicated). Lost answers, a capture made elsewhere, a process killed mid-capture, a voided
//! order and an order over 29 days old each end the way PayPal's state says.

mod common;

use std::time::Duration;

use common::{Fixture, fixture};
use switchboard_app::{
    CredentialConnect, OutboxPolicy, PayPalConnect, PayPalEnvironment, Trigger, Workspace,
};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{NewPaymentRequest, PaymentRequestView, PaymentView};
use switchboard_store::Store;

const CAPTURE: &str = "POST /v2/checkout/orders/{id}/capture";
const SHOW_ORDER: &str = "GET /v2/checkout/orders/{id}";

/// No backoff between outbox passes, so a retry is due at once.
fn eager(workspace: &mut Workspace) {
    workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
}

async fn setup() -> Fixture {
    let mut f = fixture(0).await;
    eager(&mut f.workspace);
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
    f
}

/// A request of 200.00 USD through PayPal, its link made.
async fn request(f: &Fixture) -> PaymentRequestView {
    let made = f
        .workspace
        .request_payment(NewPaymentRequest {
            connection: "PayPal".into(),
            amount: Some("200.00".into()),
            amount_minor: None,
            currency: "USD".into(),
            description: "Deposit: kitchen workshop".into(),
            customer_email: None,
            fallback_from: None,
        })
        .await
        .unwrap();
    assert_eq!(made.status, "created", "{made:#?}");
    made
}

async fn current(f: &Fixture, id: &str) -> PaymentRequestView {
    f.workspace.payment_request(id).await.unwrap()
}

fn order_of(r: &PaymentRequestView) -> String {
    r.external_id.clone().expect("the order id")
}

async fn payments_with(f: &Fixture, external_id: &str) -> Vec<PaymentView> {
    f.all_payments()
        .await
        .into_iter()
        .filter(|p| p.external_id == external_id)
        .collect()
}

/// Captures `order` at PayPal directly (another tool, or the PayPal dashboard), with its own
/// `PayPal-Request-Id`: the capture's id.
async fn capture_elsewhere(f: &Fixture, order: &str) -> String {
    let pp = f.sandbox.paypal();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
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
    let answer: serde_json::Value = http
        .post(format!(
            "{}/v2/checkout/orders/{order}/capture",
            pp.api_base()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("PayPal-Request-Id", "someone-else")
        .header("Prefer", "return=representation")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["purchase_units"][0]["payments"]["captures"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_order_is_captured_once_and_stored_as_the_payment_sync_later_reports() {
    let f = setup().await;
    let pp = f.sandbox.paypal().clone();
    let made = request(&f).await;
    let order = order_of(&made);

    // Not approved yet: looked up, nothing sent.
    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(
        (check.looked_up, check.captures_queued),
        (1, 0),
        "{check:?}"
    );
    assert_eq!(pp.requests(CAPTURE), 0);
    assert_eq!(current(&f, &made.id).await.status, "created");

    // The customer opens the link and approves.
    let page = reqwest::get(made.url.clone().unwrap()).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(pp.order_status(&order).as_deref(), Some("APPROVED"));

    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(
        (check.looked_up, check.captures_queued, check.paid),
        (1, 1, 1),
        "{check:?}"
    );
    let captures = pp.captures_of_order(&order);
    assert_eq!(captures.len(), 1, "captured once");
    assert_eq!(pp.requests(CAPTURE), 1);
    let paid = current(&f, &made.id).await;
    assert_eq!(paid.status, "paid", "{paid:#?}");
    assert_eq!(
        paid.payment_external_id.as_deref(),
        Some(captures[0].as_str())
    );
    assert_eq!(paid.error, None);

    // Stored at once, with PayPal's fee (3.49 % + 0.49) and the net.
    let stored = payments_with(&f, &captures[0]).await;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    let p = &stored[0];
    assert_eq!((p.amount_minor, p.currency.as_str()), (20_000, "USD"));
    assert_eq!((p.fee_minor, p.net_minor), (Some(747), Some(19_253)));
    assert_eq!(p.status, "succeeded");
    assert_eq!(p.method.as_deref(), Some("paypal"));
    assert_eq!(p.description.as_deref(), Some("Deposit: kitchen workshop"));

    // Nothing left to follow up; a sync (Transaction Search shows the capture under the same
    // id) updates the row instead of adding one.
    let again = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(again.looked_up, 0, "{again:?}");
    let runs = f
        .workspace
        .sync(Some("PayPal"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
    assert!(
        pp.transactions().iter().any(|t| t.id == captures[0]),
        "search lists it"
    );
    let after = payments_with(&f, &captures[0]).await;
    assert_eq!(after.len(), 1, "no duplicate: {after:#?}");
    assert_eq!(
        (
            after[0].amount_minor,
            after[0].fee_minor,
            after[0].net_minor
        ),
        (20_000, Some(747), Some(19_253))
    );
    assert!(after[0].customer.is_some(), "the search's payer filled in");
    assert_eq!(pp.captures_of_order(&order).len(), 1);
    assert_eq!(pp.requests(CAPTURE), 1);
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_capture_answer_is_looked_up_and_a_capture_made_elsewhere_is_taken_as_is() {
    let f = setup().await;
    let pp = f.sandbox.paypal().clone();

    // PayPal captures, but the answer is lost: the request waits as approved, uncertain.
    let first = request(&f).await;
    assert!(pp.approve_order(&order_of(&first)));
    pp.lose_next_post_answers(1);
    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!((check.captures_queued, check.paid), (1, 0), "{check:?}");
    assert_eq!(pp.captures_of_order(&order_of(&first)).len(), 1, "applied");
    let waiting = current(&f, &first.id).await;
    assert_eq!(waiting.status, "approved", "{waiting:#?}");
    assert!(waiting.error.is_some(), "says why it waits");
    // The next pass looks the order up (captured) and sends nothing.
    let shows = pp.requests(SHOW_ORDER);
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!((pass.succeeded, pass.found_by_lookup), (1, 1), "{pass:?}");
    assert_eq!(pp.requests(SHOW_ORDER), shows + 1);
    assert_eq!(pp.requests(CAPTURE), 1, "not sent again");
    assert_eq!(pp.captures_of_order(&order_of(&first)).len(), 1);
    assert_eq!(current(&f, &first.id).await.status, "paid");

    // A capture refused as too many requests (nothing applied, no look-up needed), then made
    // elsewhere: the resend gets ORDER_ALREADY_CAPTURED, reads the order and takes its capture.
    let second = request(&f).await;
    let order = order_of(&second);
    assert!(pp.approve_order(&order));
    pp.fail_after(1, 429);
    let check = f.workspace.check_payment_requests().await.unwrap();
    pp.clear_faults();
    assert_eq!(check.captures_queued, 1, "{check:?}");
    assert!(pp.captures_of_order(&order).is_empty());
    let elsewhere = capture_elsewhere(&f, &order).await;
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!(pass.succeeded, 1, "{pass:?}");
    assert_eq!(
        pp.captures_of_order(&order),
        std::slice::from_ref(&elsewhere),
        "one capture"
    );
    let paid = current(&f, &second.id).await;
    assert_eq!(paid.status, "paid", "{paid:#?}");
    assert_eq!(
        paid.payment_external_id.as_deref(),
        Some(elsewhere.as_str())
    );
    assert_eq!(payments_with(&f, &elsewhere).await.len(), 1);
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voided_order_and_one_over_29_days_old_expire() {
    let f = setup().await;
    let pp = f.sandbox.paypal().clone();
    let voided = request(&f).await;
    let old = request(&f).await;
    assert!(pp.void_order(&order_of(&voided)));

    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!((check.looked_up, check.expired), (2, 1), "{check:?}");
    let v = current(&f, &voided.id).await;
    assert_eq!(v.status, "expired", "{v:#?}");
    assert!(v.error.as_deref().unwrap().contains("voided"), "{v:#?}");
    assert_eq!(current(&f, &old.id).await.status, "created");

    // 30 days on: over PayPal's 29, expired without asking PayPal.
    let shows = pp.requests(SHOW_ORDER);
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    let check = f.workspace.check_payment_requests_at(later).await.unwrap();
    assert_eq!((check.looked_up, check.expired), (0, 1), "{check:?}");
    assert_eq!(pp.requests(SHOW_ORDER), shows);
    let o = current(&f, &old.id).await;
    assert_eq!(o.status, "expired");
    assert!(o.error.as_deref().unwrap().contains("29 days"), "{o:#?}");
    assert_eq!(pp.requests(CAPTURE), 0, "nothing was ever captured");
    f.sandbox.shutdown().await;
}

/// What a process killed mid-send leaves: the item `sending`, its outcome unknown.
fn leave_sending(f: &Fixture, request_id: &str) {
    let store = Store::open_folder(&switchboard_app::real_folder(f.dir.path())).unwrap();
    let conn = store.conn();
    let item: String = conn
        .query_row(
            "SELECT capture_item_id FROM payment_requests WHERE id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .unwrap();
    switchboard_store::outbox::mark_sending(&conn, &item).unwrap();
}

/// Opens the workspace again, as the next process (the app after a restart) would, and sends
/// the outbox: how many items succeeded and how many of them by a look-up.
async fn next_process_sends(f: &Fixture) -> (i64, i64) {
    let mut next = Workspace::open_real(f.dir.path()).await.unwrap();
    eager(&mut next);
    let pass = next.process_outbox().await.unwrap();
    (pass.succeeded, pass.found_by_lookup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_left_sending_by_a_killed_process_resumes_with_a_look_up() {
    let f = setup().await;
    let pp = f.sandbox.paypal().clone();

    // Killed after PayPal captured: the next process finds the capture and sends nothing.
    let captured = request(&f).await;
    assert!(pp.approve_order(&order_of(&captured)));
    pp.lose_next_post_answers(1);
    f.workspace.check_payment_requests().await.unwrap();
    leave_sending(&f, &captured.id);
    assert_eq!(next_process_sends(&f).await, (1, 1));
    assert_eq!(pp.requests(CAPTURE), 1, "not sent again");

    // Killed before its capture left: the look-up finds it still approved, so it is sent.
    let unsent = request(&f).await;
    assert!(pp.approve_order(&order_of(&unsent)));
    pp.fail_after(1, 503);
    f.workspace.check_payment_requests().await.unwrap();
    pp.clear_faults();
    assert!(pp.captures_of_order(&order_of(&unsent)).is_empty());
    leave_sending(&f, &unsent.id);
    let shows = pp.requests(SHOW_ORDER);
    assert_eq!(next_process_sends(&f).await, (1, 0));
    assert_eq!(pp.requests(SHOW_ORDER), shows + 1, "looked up first");
    assert_eq!(pp.requests(CAPTURE), 3, "the refused send and this one");

    for r in [&captured, &unsent] {
        assert_eq!(pp.captures_of_order(&order_of(r)).len(), 1, "once each");
        let now = current(&f, &r.id).await;
        assert_eq!(now.status, "paid", "{now:#?}");
        let capture = now.payment_external_id.unwrap();
        assert_eq!(payments_with(&f, &capture).await.len(), 1);
    }
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_looks_each_request_up_on_its_own_schedule_and_captures_approvals() {
    let f = setup().await;
    let pp = f.sandbox.paypal().clone();
    for connection in ["Main", "PayPal"] {
        f.workspace
            .set_sync_interval(connection, None)
            .await
            .unwrap();
    }
    let made = request(&f).await;
    let tick = |at: chrono::DateTime<chrono::Utc>| {
        let ws = &f.workspace;
        async move {
            ws.run_due_syncs(at, &|_| {})
                .await
                .unwrap()
                .payment_requests
                .expect("followed up")
        }
    };
    let t0 = chrono::Utc::now();
    assert_eq!(tick(t0).await.looked_up, 1);
    assert_eq!(
        tick(t0 + chrono::Duration::seconds(30)).await.looked_up,
        0,
        "looked up 30 s ago: not due"
    );
    assert!(pp.approve_order(&order_of(&made)));
    let check = tick(t0 + chrono::Duration::minutes(3)).await;
    assert_eq!((check.looked_up, check.paid), (1, 1), "{check:?}");
    assert_eq!(current(&f, &made.id).await.status, "paid");
    assert_eq!(pp.captures_of_order(&order_of(&made)).len(), 1);
    f.sandbox.shutdown().await;
}

/// Drives `request`'s approved order into a capture PayPal keeps refusing (503) until the
/// outbox gives up on it: the dead letter's id.
async fn capture_into_dead_letters(f: &Fixture, request: &PaymentRequestView) -> String {
    let pp = f.sandbox.paypal();
    assert!(pp.approve_order(&order_of(request)));
    pp.fail_after(1, 503);
    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(check.captures_queued, 1, "{check:?}");
    for _ in 0..10 {
        let dead = f.workspace.list_outbox(true, 10).await.unwrap();
        if let Some(item) = dead.iter().find(|i| i.target == request.external_id) {
            pp.clear_faults();
            return item.id.clone();
        }
        f.workspace.process_outbox().await.unwrap();
    }
    panic!("the capture never reached dead letters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_in_dead_letters_shows_as_failed_until_retried_and_a_discarded_one_is_never_taken()
 {
    let mut f = setup().await;
    // Dead after 2 attempts: fewer failures in a row than open the connection's breaker,
    // which would hold the retry back.
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 2,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    let pp = f.sandbox.paypal().clone();

    // Dead: the request says so, with PayPal's error, and is not looked up while it waits.
    let retried = request(&f).await;
    let item = capture_into_dead_letters(&f, &retried).await;
    let failed = current(&f, &retried.id).await;
    assert_eq!(failed.status, "capture_failed", "{failed:#?}");
    assert!(failed.error.is_some(), "{failed:#?}");
    let shows = pp.requests(SHOW_ORDER);
    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(check.looked_up, 0, "{check:?}");
    assert_eq!(pp.requests(SHOW_ORDER), shows);
    // Retry: captured once, paid.
    f.workspace.retry_dead_letter(&item).await.unwrap();
    assert_eq!(current(&f, &retried.id).await.status, "paid");
    assert_eq!(pp.captures_of_order(&order_of(&retried)).len(), 1);

    // Discarded: looked up again, never captured, and it ends when PayPal voids the order.
    let discarded = request(&f).await;
    let item = capture_into_dead_letters(&f, &discarded).await;
    f.workspace.discard_dead_letter(&item).await.unwrap();
    assert_eq!(current(&f, &discarded.id).await.status, "capture_discarded");
    let (shows, captures) = (pp.requests(SHOW_ORDER), pp.requests(CAPTURE));
    let check = f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(
        (check.looked_up, check.captures_queued),
        (1, 0),
        "{check:?}"
    );
    assert_eq!(pp.requests(SHOW_ORDER), shows + 1);
    assert_eq!(pp.requests(CAPTURE), captures, "not captured");
    assert!(pp.captures_of_order(&order_of(&discarded)).is_empty());
    assert!(pp.void_order(&order_of(&discarded)));
    f.workspace.check_payment_requests().await.unwrap();
    assert_eq!(current(&f, &discarded.id).await.status, "expired");
    f.sandbox.shutdown().await;
}
