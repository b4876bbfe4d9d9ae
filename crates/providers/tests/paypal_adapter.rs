//! The PayPal payments adapter against the sandbox's PayPal fake: the transactions stream in
//! 31-day windows and pages (and resuming from a checkpoint), token renewal on a 401, errors
//! mapped to kinds with messages that say what to do, refunds, payment requests, subscription
//! cancels and webhook signature checks.

use std::collections::BTreeMap;

use switchboard_core::secret::SecretString;
use switchboard_providers::credentials::paypal::{Environment, PayPal};
use switchboard_providers::paypal::{PayPalPayments, STREAM, SearchPosition};
use switchboard_providers::webhooks::{PayPalTransmission, VerifyPayPalWebhook};
use switchboard_providers::{
    IssueRefunds, ManageSubscriptions, Page, PageRequest, PaymentLinkRequest, ProviderErrorKind,
    PullPayments, Record, RefundRequest, RequestPayments,
};
use switchboard_sandbox::{PayPalControl, Sandbox, SandboxConfig};

async fn sandbox(seed: u64) -> Sandbox {
    Sandbox::start(SandboxConfig {
        seed,
        stripe_charges: 0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

fn adapter(pp: &PayPalControl) -> PayPalPayments {
    PayPalPayments::new(PayPal::new(
        reqwest::Client::new(),
        Environment::Sandbox,
        Some(&pp.api_base()),
        pp.client_id(),
        SecretString::new(pp.client_secret()),
    ))
}

/// Pages of a whole run from `request`, the request of each page with it.
async fn run(a: &PayPalPayments, mut request: PageRequest) -> Vec<(PageRequest, Page)> {
    let mut pages = Vec::new();
    loop {
        let page = a.fetch_page(STREAM, &request).await.unwrap();
        let next = page.has_more.then(|| PageRequest {
            created_gte: request.created_gte,
            starting_after: page.last_id.clone(),
        });
        pages.push((request, page));
        match next {
            Some(n) => request = n,
            None => return pages,
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_reads_three_years_in_windows_and_pages_and_keeps_every_kind() {
    let sb = sandbox(13).await;
    let pp = sb.paypal();
    let a = adapter(pp).with_page_size(200);
    let started = now();
    let pages = run(&a, PageRequest::default()).await;

    // The windows: from three years back to now, 31 days at most, each page in turn.
    let searches = pp.searches();
    assert_eq!(searches.len(), pages.len());
    let horizon = started - 3 * 365 * 86_400;
    let mut windows = Vec::new();
    for s in &searches {
        let start = chrono::DateTime::parse_from_rfc3339(&s.start_date)
            .unwrap()
            .timestamp();
        let end = chrono::DateTime::parse_from_rfc3339(&s.end_date)
            .unwrap()
            .timestamp();
        assert!(start > horizon && end - start <= 31 * 86_400, "{s:?}");
        assert_eq!(s.page_size, 200);
        if s.page == 1 {
            windows.push((start, end));
        }
    }
    assert!(
        windows.len() >= 36,
        "three years of windows: {}",
        windows.len()
    );
    assert!(windows.windows(2).all(|w| w[1].0 == w[0].1), "back to back");
    assert!(windows.last().unwrap().1 >= started, "up to now");
    assert!(
        searches.iter().any(|s| s.page > 2),
        "a busy window takes several pages"
    );

    // Every transaction the fake holds, of the kinds Switchboard keeps, exactly as it is.
    let mut records: BTreeMap<String, Record> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (_, page) in &pages {
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        warnings.extend(page.warnings.iter().cloned());
        for r in &page.records {
            records.insert(r.external_id().to_string(), r.clone());
        }
    }
    let lines = pp.transactions();
    let mut kept = 0;
    for t in &lines {
        let exponent_up = |amount: i64| {
            if t.currency == "HUF" {
                amount * 100
            } else {
                amount
            }
        };
        match (t.event_code.as_str(), records.get(&t.id)) {
            ("T0006" | "T0011" | "T0002", Some(Record::Payment(p))) => {
                assert_eq!(p.amount_minor, exponent_up(t.amount), "{}", t.id);
                assert_eq!(p.fee_minor, Some(exponent_up(-t.fee)));
                assert_eq!(p.net_minor, Some(exponent_up(t.amount + t.fee)));
                assert_eq!(p.currency, t.currency);
                assert_eq!(p.currency_exponent, if t.currency == "JPY" { 0 } else { 2 });
                assert_eq!(p.created, t.at);
                assert!(p.customer_email.is_some() && p.customer.is_some());
                kept += 1;
            }
            ("T1107", Some(Record::Refund(r))) => {
                assert_eq!(r.amount_minor, exponent_up(-t.amount));
                assert_eq!(r.payment_external_id, t.reference_id);
                kept += 1;
            }
            ("T0400", Some(Record::Payout(p))) => {
                assert_eq!(p.amount_minor, -t.amount);
                assert_eq!(p.status, "paid");
                kept += 1;
            }
            ("T0200", None) => assert!(warnings.iter().any(|w| w.contains(&t.id))),
            (code, other) => panic!("{} ({code}) became {other:?}", t.id),
        }
    }
    let subscriptions: Vec<_> = records
        .values()
        .filter_map(|r| match r {
            Record::Subscription(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), kept + subscriptions.len());
    let mut ids: Vec<String> = subscriptions
        .iter()
        .map(|s| s.external_id.clone())
        .collect();
    ids.sort();
    let mut expected = pp.subscription_ids();
    expected.sort();
    assert_eq!(ids, expected, "each subscription, from its payments");
    assert_eq!(
        pp.requests("GET /v1/billing/subscriptions/{id}"),
        expected.len(),
        "read once each"
    );
    assert!(subscriptions.iter().any(|s| s.status == "canceled"));
    assert!(
        subscriptions
            .iter()
            .any(|s| s.status == "active" && s.next_charge_at.is_some())
    );

    // The run's newest time is what PayPal served up to, so an incremental run asks one page.
    let newest = pages
        .iter()
        .filter_map(|(_, p)| p.max_created)
        .max()
        .unwrap();
    assert!(newest >= started);
    let before = pp.searches().len();
    let again = run(
        &a,
        PageRequest {
            created_gte: Some(newest - a.lookback_secs(STREAM)),
            starting_after: None,
        },
    )
    .await;
    assert_eq!(again.len(), 1);
    assert_eq!(pp.searches().len(), before + 1);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_resumes_in_its_window_at_its_page() {
    let sb = sandbox(13).await;
    let pp = sb.paypal();
    let first = adapter(pp).with_page_size(100);
    let mut request = PageRequest::default();
    let mut seen = Vec::new();
    // Into the busy window, where pages follow pages.
    while !pp.searches().iter().any(|s| s.page == 3) {
        let page = first.fetch_page(STREAM, &request).await.unwrap();
        seen.extend(page.records.iter().map(|r| r.external_id().to_string()));
        request.starting_after = page.last_id.clone();
    }
    let checkpoint = request.starting_after.clone().unwrap();
    let position = SearchPosition::decode(&checkpoint).unwrap();
    assert_eq!(position.page, 4);

    // Another process, later: it asks exactly there.
    let second = adapter(pp).with_page_size(100);
    let rest = run(&second, request).await;
    let resumed = &pp.searches()[pp.searches().len() - rest.len()];
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&resumed.start_date)
            .unwrap()
            .timestamp(),
        position.start
    );
    assert_eq!(resumed.page, 4);
    for (_, page) in &rest {
        seen.extend(page.records.iter().map(|r| r.external_id().to_string()));
    }
    let kept = pp
        .transactions()
        .iter()
        .filter(|t| t.event_code != "T0200")
        .count();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        kept + pp.subscription_ids().len(),
        "no gap (subscriptions may be read by both processes)"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_data_ends_the_run_quietly_and_a_dead_token_is_renewed_once() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    // PayPal has nothing yet from this start: no error, nothing more to read.
    pp.set_search_delay(6 * 3_600);
    let page = a
        .fetch_page(
            STREAM,
            &PageRequest {
                created_gte: Some(now() - 3_600),
                starting_after: None,
            },
        )
        .await
        .unwrap();
    assert!(!page.has_more && page.records.is_empty() && page.max_created.is_none());
    // The answer's end is PayPal's last refresh: that is how far the run got.
    let page = a
        .fetch_page(
            STREAM,
            &PageRequest {
                created_gte: Some(now() - 10 * 3_600),
                starting_after: None,
            },
        )
        .await
        .unwrap();
    let refreshed = now() - 6 * 3_600;
    assert!(!page.has_more);
    assert!(
        (page.max_created.unwrap() - refreshed).abs() <= 5,
        "{page:?}"
    );
    pp.set_search_delay(0);

    let tokens = pp.tokens_issued();
    pp.expire_tokens();
    a.verify().await.unwrap();
    assert_eq!(
        pp.tokens_issued(),
        tokens + 1,
        "one new token after the 401"
    );
    a.verify().await.unwrap();
    assert_eq!(pp.tokens_issued(), tokens + 1, "then reused");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_errors_become_kinds_with_messages_that_say_what_to_do() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    let recent = PageRequest {
        created_gte: Some(now() - 86_400),
        starting_after: None,
    };
    pp.set_search_permitted(false);
    let e = a.fetch_page(STREAM, &recent).await.unwrap_err();
    assert_eq!(
        (e.kind, e.http_status),
        (ProviderErrorKind::Auth, Some(403))
    );
    assert!(e.message.contains("Transaction search"), "{}", e.message);
    assert!(e.request_id.is_some(), "paypal-debug-id");
    assert!(a.verify().await.is_err());
    pp.set_search_permitted(true);

    pp.fail_next(1, 429);
    let e = a.fetch_page(STREAM, &recent).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::RateLimited);
    assert!(e.is_transient());
    assert_eq!(e.provider_code.as_deref(), Some("RATE_LIMIT_REACHED"));
    pp.fail_next(1, 500);
    let e = a.fetch_page(STREAM, &recent).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Server);
    assert!(e.message.contains("HTTP 500"), "{}", e.message);

    // A checkpoint this version cannot read: the period is read again, with a warning.
    let searches = pp.searches().len();
    let page = a
        .fetch_page(
            STREAM,
            &PageRequest {
                created_gte: recent.created_gte,
                starting_after: Some("ch_3NxQ".into()),
            },
        )
        .await
        .unwrap();
    assert!(
        page.warnings.iter().any(|w| w.contains("ch_3NxQ")),
        "{:?}",
        page.warnings
    );
    let asked = &pp.searches()[searches];
    assert_eq!(
        (
            chrono::DateTime::parse_from_rfc3339(&asked.start_date)
                .unwrap()
                .timestamp(),
            asked.page
        ),
        (recent.created_gte.unwrap(), 1)
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_are_idempotent_and_refusals_are_permanent() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    let capture = pp.add_capture_now(2_500, "JPY");
    let request = RefundRequest {
        payment_external_id: capture.clone(),
        amount_minor: 1_000,
        currency: "JPY".into(),
        currency_exponent: 0,
        reason: Some("requested_by_customer".into()),
        idempotency_key: "switchboard-7d1c".into(),
        outbox_id: "0190-outbox".into(),
    };
    let issued = a.create_refund(&request).await.unwrap();
    assert_eq!(issued.refund.amount_minor, 1_000);
    assert_eq!(
        (
            issued.refund.currency.as_str(),
            issued.refund.currency_exponent
        ),
        ("JPY", 0)
    );
    assert_eq!(
        issued.refund.payment_external_id.as_deref(),
        Some(capture.as_str())
    );
    assert_eq!(issued.refund.status, "succeeded");
    assert_eq!(
        issued.refund.reason.as_deref(),
        Some("requested_by_customer")
    );
    assert!(issued.request_id.is_some());
    // An uncertain outcome: the look-up finds nothing, the resend with the same key returns
    // the refund already made.
    assert!(
        a.find_refund(&capture, "0190-outbox")
            .await
            .unwrap()
            .is_none()
    );
    let again = a.create_refund(&request).await.unwrap();
    assert_eq!(again.refund.external_id, issued.refund.external_id);
    assert_eq!(
        pp.refunds_of(&capture),
        [(
            issued.refund.external_id.clone(),
            1_000,
            Some("0190-outbox".into())
        )]
    );

    let too_much = RefundRequest {
        amount_minor: 1_501,
        idempotency_key: "switchboard-other".into(),
        ..request.clone()
    };
    let e = a.create_refund(&too_much).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    assert!(!e.is_transient());
    assert_eq!(e.provider_code.as_deref(), Some("REFUND_AMOUNT_EXCEEDED"));
    assert!(e.message.contains("not yet been refunded"), "{}", e.message);
    // Our amounts with more decimals than PayPal takes never leave.
    let fractional = RefundRequest {
        amount_minor: 10_05,
        currency_exponent: 2,
        ..request.clone()
    };
    let e = a.create_refund(&fractional).await.unwrap_err();
    assert!(e.message.contains("JPY with 0 decimal"), "{}", e.message);
    assert_eq!(
        pp.requests("POST /v2/payments/captures/{capture_id}/refund"),
        3
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_request_is_an_order_with_the_buyers_link() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    let request = PaymentLinkRequest {
        amount_minor: 12_000,
        currency: "EUR".into(),
        currency_exponent: 2,
        description: "Deposit: garden design".into(),
        customer_email: None,
        return_url: None,
        idempotency_key: "switchboard-link-1".into(),
        outbox_id: "0190-link".into(),
    };
    let link = a.create_payment_link(&request).await.unwrap();
    assert!(link.url.contains(&link.external_id), "{}", link.url);
    assert_eq!(
        pp.order_status(&link.external_id).as_deref(),
        Some("CREATED")
    );
    let again = a.create_payment_link(&request).await.unwrap();
    assert_eq!(again.external_id, link.external_id, "same key, same order");
    assert!(a.find_payment_link("0190-link").await.unwrap().is_none());
    let with_email = a
        .create_payment_link(&PaymentLinkRequest {
            customer_email: Some("ada@example.com".into()),
            idempotency_key: "switchboard-link-2".into(),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        pp.order_status(&with_email.external_id).as_deref(),
        Some("PAYER_ACTION_REQUIRED")
    );
    assert_eq!(pp.order_return_url(&with_email.external_id), None);
    // The business's own page: PayPal sends the payer there after approving.
    let with_page = a
        .create_payment_link(&PaymentLinkRequest {
            return_url: Some("https://shop.example.com/thanks".into()),
            idempotency_key: "switchboard-link-3".into(),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        pp.order_return_url(&with_page.external_id).as_deref(),
        Some("https://shop.example.com/thanks")
    );
    assert_eq!(pp.order_ids().len(), 3);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_ends_the_subscription_now_and_twice_is_harmless() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    // The fake's first subscription is active, its second was cancelled by the customer.
    let ids = pp.subscription_ids();
    let id = ids[0].clone();
    let cancelled = a.cancel_at_period_end(&id, "k").await.unwrap();
    assert_eq!(cancelled.status, "canceled");
    assert!(
        !cancelled.cancel_at_period_end,
        "PayPal ends it now, not at period end"
    );
    assert_eq!(cancelled.next_charge_at, None);
    assert!(
        cancelled
            .raw_json
            .contains("PayPal ends subscriptions at once")
    );
    let again = a.cancel_at_period_end(&id, "k").await.unwrap();
    assert_eq!(again.status, "canceled");
    let earlier = a.cancel_at_period_end(&ids[1], "k").await.unwrap();
    assert_eq!(earlier.status, "canceled");
    assert!(
        !earlier.raw_json.contains("Switchboard"),
        "left as the customer cancelled it"
    );
    assert_eq!(pp.requests("POST /v1/billing/subscriptions/{id}/cancel"), 3);
    let e = a
        .cancel_at_period_end("I-NOSUCHSUB000", "k")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_signatures_are_checked_with_paypal() {
    let sb = sandbox(3).await;
    let pp = sb.paypal();
    let a = adapter(pp);
    // Spelled as PayPal sent it: a re-encoding (`10.0`, key order) would not verify.
    let body = br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"amount":{"value":"10.0","currency_code":"USD"}}}"#;
    let signed = pp.sign_webhook("3X188233PA171014C", std::str::from_utf8(body).unwrap());
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in signed.pairs() {
        map.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let headers =
        PayPalTransmission::from_headers(|name| map.get(name).and_then(|v| v.to_str().ok()))
            .unwrap();
    assert!(
        a.verify_webhook("3X188233PA171014C", &headers, body)
            .await
            .unwrap()
    );
    assert!(
        !a.verify_webhook("OTHERWEBHOOK01", &headers, body)
            .await
            .unwrap()
    );
    let forged = PayPalTransmission {
        transmission_sig: "forged".into(),
        ..headers.clone()
    };
    assert!(
        !a.verify_webhook("3X188233PA171014C", &forged, body)
            .await
            .unwrap()
    );
    assert!(
        !a.verify_webhook("3X188233PA171014C", &headers, b"not json")
            .await
            .unwrap()
    );
    sb.shutdown().await;
}
