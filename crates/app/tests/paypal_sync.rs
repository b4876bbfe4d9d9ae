//! PayPal end to end against the sandbox's fake: connect with client credentials, sync the
//! account's transactions (three years in 31-day windows, page by page) into the store, resume
//! a sync stopped half-way in the right window, pick up transactions that show up late, and
//! refund through the outbox exactly once. What is stored is read back from the database and
//! compared with what the fake holds.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Fixture, fixture};
use switchboard_app::{CredentialConnect, OutboxPolicy, PayPalConnect, PayPalEnvironment, Trigger};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{ConnectionView, NewRefund, SyncProgress, SyncRunView};
use switchboard_providers::paypal::SearchPosition;
use switchboard_sandbox::PayPalTransaction;
use switchboard_store::Store;

const SEARCH: &str = "GET /v1/reporting/transactions";

async fn connect(f: &Fixture) -> ConnectionView {
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

async fn sync_with(f: &Fixture, progress: &(dyn Fn(SyncProgress) + Send + Sync)) -> SyncRunView {
    let runs = f
        .workspace
        .sync(Some("PayPal"), Trigger::Manual, progress)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "one stream: {runs:#?}");
    assert_eq!(runs[0].stream, "transactions");
    runs.into_iter().next().unwrap()
}

async fn sync(f: &Fixture) -> SyncRunView {
    sync_with(f, &|_| {}).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A stored money row: amount, currency, exponent, and the fee (payments) or the payment
/// (refunds) where it has one.
type Row = (i64, String, i64, Option<String>);

#[derive(Debug, Default, PartialEq, Eq)]
struct Books {
    payments: BTreeMap<String, Row>,
    refunds: BTreeMap<String, Row>,
    payouts: BTreeMap<String, Row>,
}

impl Books {
    fn len(&self) -> usize {
        self.payments.len() + self.refunds.len() + self.payouts.len()
    }
}

/// What the connection's rows in the database say.
fn stored(f: &Fixture, connection_id: &str) -> (Books, usize) {
    let store = Store::open_folder(&switchboard_app::real_folder(f.dir.path())).unwrap();
    let conn = store.conn();
    let rows = |sql: &str| -> BTreeMap<String, Row> {
        let mut statement = conn.prepare(sql).unwrap();
        statement
            .query_map([connection_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let books = Books {
        payments: rows(
            "SELECT external_id, amount_minor, currency, currency_exponent,
                    CAST(fee_minor AS TEXT) FROM payments WHERE connection_id = ?1",
        ),
        refunds: rows(
            "SELECT external_id, amount_minor, currency, currency_exponent, payment_external_id
             FROM refunds WHERE connection_id = ?1",
        ),
        payouts: rows(
            "SELECT external_id, amount_minor, currency, currency_exponent, NULL
             FROM payouts WHERE connection_id = ?1",
        ),
    };
    let subscriptions: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM subscriptions WHERE connection_id = ?1",
            [connection_id],
            |r| r.get(0),
        )
        .unwrap();
    (books, subscriptions as usize)
}

/// The same from the fake's lines: ISO minor units (HUF in hundredths), fees as positive
/// amounts, withdrawals and refunds as positive amounts.
fn expected(lines: &[PayPalTransaction]) -> Books {
    let mut books = Books::default();
    for t in lines {
        let iso = |amount: i64| {
            if t.currency == "HUF" {
                amount * 100
            } else {
                amount
            }
        };
        let exponent = if t.currency == "JPY" { 0 } else { 2 };
        match t.event_code.as_str() {
            "T0006" | "T0011" | "T0002" => {
                books.payments.insert(
                    t.id.clone(),
                    (
                        iso(t.amount),
                        t.currency.clone(),
                        exponent,
                        Some(iso(-t.fee).to_string()),
                    ),
                );
            }
            "T1107" => {
                books.refunds.insert(
                    t.id.clone(),
                    (
                        iso(-t.amount),
                        t.currency.clone(),
                        exponent,
                        t.reference_id.clone(),
                    ),
                );
            }
            "T0400" => {
                books.payouts.insert(
                    t.id.clone(),
                    (iso(-t.amount), t.currency.clone(), exponent, None),
                );
            }
            _ => {}
        }
    }
    books
}

fn checkpoint(f: &Fixture, connection_id: &str) -> Option<SearchPosition> {
    let store = Store::open_folder(&switchboard_app::real_folder(f.dir.path())).unwrap();
    let cursor =
        switchboard_store::cursors::get(&store.conn(), connection_id, "transactions").unwrap();
    cursor
        .run_after
        .map(|a| SearchPosition::decode(&a).unwrap())
}

fn start_of(search: &switchboard_sandbox::PayPalSearch) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&search.start_date)
        .unwrap()
        .timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_stores_every_capture_refund_and_withdrawal_once() {
    let f = fixture(2).await;
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    let run = sync(&f).await;
    assert_eq!(run.status, "succeeded", "{run:#?}");

    let want = expected(&pp.transactions());
    let (books, subscriptions) = stored(&f, &c.id);
    assert_eq!(books.payments, want.payments);
    assert_eq!(books.refunds, want.refunds);
    assert_eq!(books.payouts, want.payouts);
    assert_eq!(subscriptions, pp.subscription_ids().len());
    assert_eq!(run.inserted as usize, want.len() + subscriptions);
    assert!(
        run.warnings.iter().any(|w| w.contains("T0200")),
        "{:?}",
        run.warnings
    );

    // A zero-decimal and a two-decimal currency, exactly.
    let jpy = books.payments.values().find(|p| p.1 == "JPY").unwrap();
    assert_eq!(jpy.2, 0);
    let line = pp
        .transactions()
        .into_iter()
        .find(|t| t.currency == "USD" && t.event_code == "T0006")
        .unwrap();
    let usd = &books.payments[&line.id];
    assert_eq!((usd.0, usd.2), (line.amount, 2));
    assert_eq!(usd.3, Some((-line.fee).to_string()));

    // Three years in 31-day windows, a busy one over several pages.
    let searches = pp.searches();
    assert!(searches.iter().filter(|s| s.page == 1).count() >= 36);
    assert!(searches.iter().any(|s| s.page > 1));
    assert!(checkpoint(&f, &c.id).is_none(), "the run reached the end");

    // Nothing new: one search, the token reused, nothing written.
    let (searches, tokens) = (pp.requests(SEARCH), pp.tokens_issued());
    let others = pp.api_requests() - searches;
    let again = sync(&f).await;
    assert_eq!(again.status, "succeeded");
    assert_eq!((again.inserted, again.updated), (0, 0), "{again:#?}");
    assert_eq!(pp.requests(SEARCH), searches + 1);
    assert!(
        pp.api_requests() - pp.requests(SEARCH) - others <= pp.subscription_ids().len(),
        "at most a subscription re-read per subscription paid in the lookback"
    );
    assert_eq!(pp.tokens_issued(), tokens, "the connection's token is kept");
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_sync_resumes_in_its_window_with_no_duplicate_and_no_gap() {
    let f = fixture(2).await;
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    // Stopped once PayPal has served a window's second page (the busy sale weeks).
    let workspace = &f.workspace;
    let stopped = sync_with(&f, &move |_: SyncProgress| {
        if pp.searches().iter().any(|s| s.page == 2) {
            workspace.cancel_sync(Some("PayPal"));
        }
    })
    .await;
    assert_eq!(stopped.status, "cancelled", "{stopped:#?}");
    let position = checkpoint(&f, &c.id).expect("a checkpoint");
    let horizon = now() - 3 * 365 * 86_400;
    assert!(
        position.start > horizon + 5 * 31 * 86_400,
        "past the first windows: {position:?}"
    );
    let (partial, _) = stored(&f, &c.id);
    assert!(!partial.payments.is_empty());

    let before = pp.searches().len();
    let resumed = sync(&f).await;
    assert_eq!(resumed.status, "succeeded", "{resumed:#?}");
    let first = &pp.searches()[before];
    assert_eq!(
        (start_of(first), first.page),
        (position.start, i64::from(position.page)),
        "it goes on where it stopped"
    );

    let want = expected(&pp.transactions());
    let (books, subscriptions) = stored(&f, &c.id);
    assert_eq!(books, want, "no gap, and no row twice");
    assert_eq!(
        (stopped.inserted + resumed.inserted) as usize,
        want.len() + subscriptions,
        "each row inserted once over the two runs"
    );
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_failing_half_way_resumes_after_its_last_stored_page() {
    let f = fixture(2).await;
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    pp.fail_after(15, 503);
    let failed = sync(&f).await;
    assert_eq!(failed.status, "partial", "{failed:#?}");
    assert!(
        failed
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains("PayPal had a problem"),
        "{failed:#?}"
    );
    let position = checkpoint(&f, &c.id).expect("a checkpoint");
    pp.clear_faults();

    let before = pp.searches().len();
    let resumed = sync(&f).await;
    assert_eq!(resumed.status, "succeeded", "{resumed:#?}");
    let first = &pp.searches()[before];
    assert_eq!(
        (start_of(first), first.page),
        (position.start, i64::from(position.page))
    );
    let (books, _) = stored(&f, &c.id);
    assert_eq!(books, expected(&pp.transactions()));
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_that_show_up_late_are_picked_up_by_the_next_sync() {
    let f = fixture(2).await;
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    sync(&f).await;
    let has = |id: &str| stored(&f, &c.id).0.payments.contains_key(id);

    // PayPal shows it three hours after it happened: not in this sync, in the one after.
    pp.set_search_delay(3 * 3_600);
    let delayed = pp.add_capture_at(now() - 3_600, 4_200, "EUR");
    let run = sync(&f).await;
    assert_eq!(run.status, "succeeded", "{run:#?}");
    assert!(!has(&delayed));
    pp.set_search_delay(0);
    let searches = pp.requests(SEARCH);
    sync(&f).await;
    assert!(has(&delayed));
    assert_eq!(pp.requests(SEARCH), searches + 1);

    // Dated two hours back, appearing only after a sync already read up to now: the lookback
    // reads it.
    let back_dated = pp.add_capture_at(now() - 2 * 3_600, 990, "USD");
    sync(&f).await;
    assert!(has(&back_dated));
    let (books, _) = stored(&f, &c.id);
    assert_eq!(books, expected(&pp.transactions()));
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_refund_through_the_outbox_lands_once_even_when_its_answer_is_lost() {
    let mut f = fixture(2).await;
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    let capture = pp.add_capture_now(8_000, "USD");
    sync(&f).await;

    // PayPal makes the refund but its answer never arrives.
    pp.lose_next_post_answers(1);
    let item = f
        .workspace
        .refund_payment(NewRefund {
            payment: capture.clone(),
            amount_minor: Some(2_500),
            reason: Some("requested_by_customer".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        item.status, "queued",
        "uncertain, to be tried again: {item:#?}"
    );
    assert_eq!(pp.refunds_of(&capture).len(), 1, "it was made");

    // The next pass sends it again with the same PayPal-Request-Id: PayPal answers with the
    // refund it already made.
    let pass = f.workspace.process_outbox().await.unwrap();
    assert_eq!(pass.succeeded, 1, "{pass:#?}");
    let item = f.workspace.get_outbox_item(&item.id).await.unwrap();
    assert_eq!(item.status, "succeeded", "{item:#?}");
    let at_paypal = pp.refunds_of(&capture);
    assert_eq!(at_paypal.len(), 1, "one refund at PayPal");
    let (refund_id, amount, custom_id) = &at_paypal[0];
    assert_eq!(
        (*amount, custom_id.as_deref()),
        (2_500, Some(item.id.as_str()))
    );
    assert_eq!(item.result_external_id.as_ref(), Some(refund_id));
    assert_eq!(
        pp.requests("POST /v2/payments/captures/{capture_id}/refund"),
        2
    );

    // Stored at once, and a sync reads the same refund, not a second one.
    let refunds = |f: &Fixture| stored(f, &c.id).0.refunds;
    assert_eq!(
        refunds(&f)[refund_id],
        (2_500, "USD".to_string(), 2, Some(capture.clone()))
    );
    sync(&f).await;
    let after = refunds(&f);
    assert_eq!(
        after
            .values()
            .filter(|r| r.3.as_deref() == Some(capture.as_str()))
            .count(),
        1
    );
    assert_eq!(after[refund_id].0, 2_500);
    f.sandbox.shutdown().await;
}

/// Each stored payment's `refunded_minor` (external id → minor units).
fn refunded(f: &Fixture, connection_id: &str) -> BTreeMap<String, i64> {
    let store = Store::open_folder(&switchboard_app::real_folder(f.dir.path())).unwrap();
    let conn = store.conn();
    let mut statement = conn
        .prepare("SELECT external_id, refunded_minor FROM payments WHERE connection_id = ?1")
        .unwrap();
    statement
        .query_map([connection_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Transaction Search shows a refund as a transaction of its own (`T1107`) naming the
/// capture: after a sync each payment's refunded amount is the sum of its refunds, so the
/// refund quote is right and a second partial refund cannot take more than is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_count_on_their_payment_and_bound_the_next_refund() {
    let mut f = fixture(2).await;
    f.workspace.set_outbox_policy(OutboxPolicy {
        max_attempts: 5,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    });
    let c = connect(&f).await;
    let pp = f.sandbox.paypal();
    sync(&f).await;

    // What the fake's refund lines add up to per capture, in stored minor units.
    let want = expected(&pp.transactions());
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for (amount, _, _, capture) in want.refunds.values() {
        *sums.entry(capture.clone().unwrap()).or_default() += amount;
    }
    let stored = refunded(&f, &c.id);
    for (id, (amount, ..)) in &want.payments {
        let refunds = sums.get(id).copied().unwrap_or(0);
        assert_eq!(stored[id], refunds, "payment {id} of {amount}");
    }
    let (partial, partial_refunded) = want
        .payments
        .iter()
        .find_map(|(id, (amount, ..))| {
            let r = sums.get(id).copied().unwrap_or(0);
            (r > 0 && r < *amount).then(|| (id.clone(), r))
        })
        .expect("the seed has a partly refunded capture");
    let quote = f.workspace.refund_quote(&partial).await.unwrap();
    assert_eq!(quote.refunded_minor, partial_refunded);
    assert_eq!(
        quote.refundable_minor,
        want.payments[&partial].0 - partial_refunded
    );
    assert_eq!(quote.blocked_reason, None);

    // A refund through the outbox counts at once, before any sync reads it back.
    let capture = pp.add_capture_now(8_000, "USD");
    sync(&f).await;
    let first = f
        .workspace
        .refund_payment(NewRefund {
            payment: capture.clone(),
            amount_minor: Some(2_500),
            reason: None,
        })
        .await
        .unwrap();
    assert_eq!(first.status, "succeeded", "{first:#?}");
    let quote = f.workspace.refund_quote(&capture).await.unwrap();
    assert_eq!(
        (quote.refunded_minor, quote.refundable_minor),
        (2_500, 5_500)
    );

    // More than is left is refused before anything reaches PayPal.
    let err = f
        .workspace
        .refund_payment(NewRefund {
            payment: capture.clone(),
            amount_minor: Some(6_000),
            reason: None,
        })
        .await
        .unwrap_err();
    assert!(err.message.contains("At most 55.00 USD"), "{}", err.message);
    assert_eq!(pp.refunds_of(&capture).len(), 1);

    // The sync reads the same refund back: counted once, not twice.
    sync(&f).await;
    assert_eq!(refunded(&f, &c.id)[&capture], 2_500);
    let rest = f
        .workspace
        .refund_payment(NewRefund {
            payment: capture.clone(),
            amount_minor: None,
            reason: None,
        })
        .await
        .unwrap();
    assert_eq!(rest.status, "succeeded", "{rest:#?}");
    assert_eq!(pp.refunds_of(&capture).len(), 2);
    let quote = f.workspace.refund_quote(&capture).await.unwrap();
    assert_eq!((quote.refunded_minor, quote.refundable_minor), (8_000, 0));
    assert_eq!(
        quote.blocked_reason.as_deref(),
        Some("This payment is already fully refunded.")
    );
    sync(&f).await;
    assert_eq!(refunded(&f, &c.id)[&capture], 8_000);
    f.sandbox.shutdown().await;
}
