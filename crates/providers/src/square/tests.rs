//! The adapter against the sandbox's Square fake (signed in through its OAuth fake), plus the
//! pure helpers.

use super::*;
use crate::oauth::Pkce;
use crate::{IssueRefunds, ManageSubscriptions, RequestPayments};
use std::collections::HashSet;
use std::sync::Mutex;
use switchboard_sandbox::{Sandbox, SandboxConfig, SquareFault};

const SCOPES: &str = "MERCHANT_PROFILE_READ PAYMENTS_READ PAYMENTS_WRITE CUSTOMERS_READ \
     PAYOUTS_READ DISPUTES_READ SUBSCRIPTIONS_READ SUBSCRIPTIONS_WRITE ORDERS_READ ORDERS_WRITE \
     ITEMS_READ";
const REDIRECT: &str = "http://127.0.0.1:53682/oauth/callback";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed: 21,
        stripe_charges: 2,
    })
    .await
    .unwrap()
}

/// An access token of the Square OAuth fake with `scopes`.
async fn sign_in(sb: &Sandbox, scopes: &str) -> String {
    let oauth = sb.oauth("square");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pkce = Pkce::new();
    let redirect = http
        .get(oauth.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", oauth.client_id()),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("code_challenge", pkce.challenge()),
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
            "client_id": oauth.client_id(),
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": pkce.verifier().expose(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_string()
}

fn adapter(sb: &Sandbox, tokens: Arc<dyn AccessTokens>) -> Square {
    Square::new(http::client(), Some(&sb.oauth("square").api_base()), tokens)
}

async fn signed_in(sb: &Sandbox) -> Square {
    let token = sign_in(sb, SCOPES).await;
    adapter(sb, Arc::new(FixedToken(SecretString::new(token))))
}

/// Every page of `stream` from `created_gte`, as the engine walks it.
async fn pull(square: &Square, stream: &str, created_gte: Option<i64>) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut request = PageRequest {
        created_gte,
        starting_after: None,
    };
    loop {
        let page = square.fetch_page(stream, &request).await.unwrap();
        let more = page.has_more;
        request.starting_after = page.last_id.clone();
        pages.push(page);
        if !more {
            return pages;
        }
    }
}

fn records(pages: &[Page]) -> Vec<&Record> {
    pages.iter().flat_map(|p| &p.records).collect()
}

fn watermark(pages: &[Page]) -> i64 {
    pages.iter().filter_map(|p| p.max_created).max().unwrap()
}

#[tokio::test]
async fn every_stream_pulls_every_object_once() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    let all = sb.square().snapshot();
    let expected = |items: &[Value]| -> HashSet<String> {
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    for (stream, objects) in [
        ("payments", &all.payments),
        ("refunds", &all.refunds),
        ("customers", &all.customers),
        ("disputes", &all.disputes),
        ("subscriptions", &all.subscriptions),
    ] {
        let pages = pull(&square, stream, None).await;
        let got: Vec<String> = records(&pages)
            .iter()
            .map(|r| r.external_id().to_string())
            .collect();
        assert_eq!(got.len(), objects.len(), "{stream}: each once");
        assert_eq!(
            got.into_iter().collect::<HashSet<_>>(),
            expected(objects),
            "{stream}"
        );
        assert!(pages.iter().all(|p| p.rejected.is_empty()), "{stream}");
        assert!(pages.iter().all(|p| p.warnings.is_empty()), "{stream}");
    }
    // Payments come from every location, including the inactive one; yen stay whole.
    let pages = pull(&square, "payments", None).await;
    let yen: Vec<_> = records(&pages)
        .into_iter()
        .filter_map(|r| match r {
            Record::Payment(p) if p.currency == "JPY" => Some(p),
            _ => None,
        })
        .collect();
    assert!(!yen.is_empty());
    assert!(yen.iter().all(|p| p.currency_exponent == 0));
    let raw = all
        .payments
        .iter()
        .find(|p| p["id"] == yen[0].external_id.as_str())
        .unwrap();
    assert_eq!(
        yen[0].amount_minor,
        raw["total_money"]["amount"].as_i64().unwrap()
    );
    assert!(
        records(&pages)
            .iter()
            .any(|r| matches!(r, Record::Payment(p) if p.currency == "EUR")),
        "the inactive Dublin location's history"
    );

    // Payouts carry all their entries, which add up to each payout.
    let pages = pull(&square, "payouts", None).await;
    let (mut payouts, mut entries) = (Vec::new(), Vec::new());
    for r in records(&pages) {
        match r {
            Record::Payout(p) => payouts.push(p),
            Record::PayoutEntry(e) => entries.push(e),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(payouts.len(), all.payouts.len());
    assert_eq!(entries.len(), all.payout_entries.len());
    for p in &payouts {
        let net: i64 = entries
            .iter()
            .filter(|e| e.payout_external_id == p.external_id)
            .map(|e| e.net_minor)
            .sum();
        assert_eq!(net, p.amount_minor, "{}", p.external_id);
    }
    assert!(payouts.iter().any(|p| p.status == "in_transit"));
}

#[tokio::test]
async fn incremental_runs_read_what_changed_and_little_else() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    let first = pull(&square, "payments", None).await;
    let floor = watermark(&first) - square.lookback_secs("payments");
    sb.square().reset_counters();
    // Nothing new: one page per location, nothing listed.
    let again = pull(&square, "payments", Some(floor)).await;
    assert_eq!(sb.square().counters().route("GET /v2/payments"), 3);
    assert!(records(&again).len() < 5, "{}", records(&again).len());
    // A new payment, and an old one refunded (its `updated_at` moves).
    let new = sb.square().add_payment_now(2_500, "JPY");
    let refundable = records(&first)
        .into_iter()
        .filter_map(|r| match r {
            Record::Payment(p)
                if p.status == "succeeded" && p.refunded_minor == 0 && p.currency == "USD" =>
            {
                Some(p.clone())
            }
            _ => None,
        })
        .next()
        .unwrap();
    square
        .create_refund(&RefundRequest {
            payment_external_id: refundable.external_id.clone(),
            amount_minor: 100,
            currency: "USD".into(),
            currency_exponent: 2,
            reason: None,
            idempotency_key: "switchboard-11111111-2222-4333-8444-555555555555".into(),
            outbox_id: "outbox-1".into(),
        })
        .await
        .unwrap();
    let later = pull(&square, "payments", Some(floor)).await;
    let ids: HashSet<String> = records(&later)
        .iter()
        .map(|r| r.external_id().to_string())
        .collect();
    assert!(ids.contains(&new), "the new payment");
    assert!(
        ids.contains(&refundable.external_id),
        "the refunded payment"
    );
    let refunded = records(&later)
        .into_iter()
        .find_map(|r| match r {
            Record::Payment(p) if p.external_id == refundable.external_id => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(refunded.refunded_minor, 100);

    // Payouts looked back on are read again without their entries.
    let payouts = pull(&square, "payouts", None).await;
    let mark = watermark(&payouts);
    sb.square().reset_counters();
    let again = pull(&square, "payouts", Some(mark - PAYOUTS_LOOKBACK_SECS)).await;
    assert!(
        records(&again)
            .iter()
            .any(|r| matches!(r, Record::Payout(_)))
    );
    let entries_read: usize = records(&again)
        .iter()
        .filter(|r| matches!(r, Record::PayoutEntry(_)))
        .count();
    let newest = records(&again)
        .iter()
        .filter(
            |r| matches!(r, Record::Payout(p) if p.created >= mark - crate::DEFAULT_LOOKBACK_SECS),
        )
        .count();
    assert_eq!(
        sb.square()
            .counters()
            .route("GET /v2/payouts/{payout_id}/payout-entries"),
        newest,
        "entries only of the payouts the previous run may not have finished ({entries_read} read)"
    );
}

#[tokio::test]
async fn refunds_are_sent_once_and_found_again() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    let payment = sb.square().add_payment_now(5_000, "USD");
    let request = RefundRequest {
        payment_external_id: payment.clone(),
        amount_minor: 1_200,
        currency: "usd".into(),
        currency_exponent: 2,
        reason: Some("requested_by_customer".into()),
        // The outbox's keys are longer than Square's 45 characters.
        idempotency_key: "switchboard-2f9c6d0e-1111-4c1e-9d3e-0123456789ab".into(),
        outbox_id: "0190f0a0-0000-7000-8000-000000000001".into(),
    };
    let issued = square.create_refund(&request).await.unwrap();
    assert_eq!(issued.refund.amount_minor, 1_200);
    assert_eq!(
        issued.refund.payment_external_id.as_deref(),
        Some(payment.as_str())
    );
    assert_eq!(issued.payment.as_ref().unwrap().refunded_minor, 1_200);
    // A resend with the same key is the same refund.
    let again = square.create_refund(&request).await.unwrap();
    assert_eq!(again.refund.external_id, issued.refund.external_id);
    assert_eq!(sb.square().refunds_of(&payment).len(), 1);
    assert!(
        sb.square().refunds_of(&payment)[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Requested by the customer")
    );
    // Found by the outbox id it carries; another item's is not there.
    let found = square
        .find_refund(&payment, &request.outbox_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.refund.external_id, issued.refund.external_id);
    assert!(
        square
            .find_refund(&payment, "0190f0a0-0000-7000-8000-000000000002")
            .await
            .unwrap()
            .is_none()
    );
    // More than is left: refused, said in Square's words.
    let mut too_much = request.clone();
    too_much.idempotency_key = "switchboard-another".into();
    too_much.amount_minor = 4_000;
    let e = square.create_refund(&too_much).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    assert_eq!(e.provider_code.as_deref(), Some("REFUND_AMOUNT_INVALID"));
}

#[tokio::test]
async fn payment_links_and_cancels() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    let request = PaymentLinkRequest {
        amount_minor: 25_000,
        currency: "USD".into(),
        currency_exponent: 2,
        description: "Deposit for the March workshop".into(),
        customer_email: Some("ada@example.com".into()),
        return_url: Some("https://shop.example.com/thanks".into()),
        idempotency_key: "switchboard-link-1".into(),
        outbox_id: "0190f0a0-0000-7000-8000-00000000000a".into(),
    };
    let link = square.create_payment_link(&request).await.unwrap();
    assert!(link.url.starts_with("https://"), "{}", link.url);
    let again = square.create_payment_link(&request).await.unwrap();
    assert_eq!(again.external_id, link.external_id);
    let stored = &sb.square().snapshot().payment_links[0];
    assert_eq!(
        stored["pre_populated_data"]["buyer_email"],
        "ada@example.com"
    );
    assert_eq!(
        stored["checkout_options"]["redirect_url"],
        "https://shop.example.com/thanks"
    );
    let found = square
        .find_payment_link(&request.outbox_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.external_id, link.external_id);
    assert!(square.find_payment_link("other").await.unwrap().is_none());
    // Yen go to the location that takes yen (Square refuses another currency than the
    // location's, so the main USD location would refuse this).
    let yen = PaymentLinkRequest {
        amount_minor: 1_200,
        currency: "JPY".into(),
        currency_exponent: 0,
        idempotency_key: "switchboard-link-2".into(),
        outbox_id: "0190f0a0-0000-7000-8000-00000000000b".into(),
        ..request.clone()
    };
    square.create_payment_link(&yen).await.unwrap();

    let active = sb
        .square()
        .snapshot()
        .subscriptions
        .into_iter()
        .find(|s| s["status"] == "ACTIVE" && s.get("canceled_date").is_none())
        .unwrap();
    let id = active["id"].as_str().unwrap();
    let ending = square.cancel_at_period_end(id, "k").await.unwrap();
    assert!(ending.cancel_at_period_end);
    assert_eq!(ending.status, "active");
    // Twice is harmless (Square refuses the second cancel; it is already ending).
    let twice = square.cancel_at_period_end(id, "k").await.unwrap();
    assert_eq!(twice.external_id, id);
    assert!(twice.cancel_at_period_end);
    let e = square.cancel_at_period_end("nope", "k").await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
}

#[tokio::test]
async fn a_grant_without_the_write_scopes_says_to_reconnect_for_the_feature() {
    // The feature keys the messages name are the catalogue's incremental grants, with the
    // scopes Square asks for.
    let grants = switchboard_core::catalogue::provider("square")
        .and_then(|p| p.oauth)
        .unwrap()
        .incremental;
    let scopes_of = |feature: &str| {
        grants
            .iter()
            .find(|g| g.feature == feature)
            .unwrap_or_else(|| panic!("no grant {feature}"))
            .scopes
    };
    assert!(scopes_of(PAYMENT_LINKS_GRANT).contains(&"ORDERS_WRITE"));
    assert!(scopes_of(CANCEL_SUBSCRIPTIONS_GRANT).contains(&"SUBSCRIPTIONS_WRITE"));

    let sb = sandbox().await;
    // What a connection made with the catalogue's least scopes holds.
    let least = "MERCHANT_PROFILE_READ PAYMENTS_READ PAYMENTS_WRITE CUSTOMERS_READ PAYOUTS_READ \
                 DISPUTES_READ SUBSCRIPTIONS_READ";
    let older = adapter(
        &sb,
        Arc::new(FixedToken(SecretString::new(sign_in(&sb, least).await))),
    );
    let request = PaymentLinkRequest {
        amount_minor: 5_000,
        currency: "USD".into(),
        currency_exponent: 2,
        description: "Deposit".into(),
        customer_email: None,
        return_url: None,
        idempotency_key: "switchboard-link-9".into(),
        outbox_id: "0190f0a0-0000-7000-8000-00000000000c".into(),
    };
    let e = older.create_payment_link(&request).await.unwrap_err();
    assert_eq!(
        (e.kind, e.http_status, e.provider_code.as_deref()),
        (
            ProviderErrorKind::InvalidRequest,
            Some(403),
            Some("INSUFFICIENT_SCOPES")
        ),
        "a refusal, not a reason to mark the connection: {e:?}"
    );
    assert!(
        e.message.contains("create payment links")
            && e.message.contains("--for payment_links")
            && e.message.contains("ORDERS_WRITE"),
        "{}",
        e.message
    );
    let e = older.find_payment_link("x").await.unwrap_err();
    assert!(e.message.contains("--for payment_links"), "{}", e.message);
    assert!(sb.square().snapshot().payment_links.is_empty());

    let active = sb
        .square()
        .snapshot()
        .subscriptions
        .into_iter()
        .find(|s| s["status"] == "ACTIVE" && s.get("canceled_date").is_none())
        .unwrap();
    let e = older
        .cancel_at_period_end(active["id"].as_str().unwrap(), "k")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    assert!(
        e.message.contains("end subscriptions")
            && e.message.contains("--for cancel_subscriptions")
            && e.message.contains("SUBSCRIPTIONS_WRITE"),
        "{}",
        e.message
    );
    // A stream keeps the general words.
    let e = adapter(
        &sb,
        Arc::new(FixedToken(SecretString::new(
            sign_in(&sb, "MERCHANT_PROFILE_READ").await,
        ))),
    )
    .fetch_page("refunds", &PageRequest::default())
    .await
    .unwrap_err();
    assert!(e.message.starts_with(MISSING_PERMISSION), "{}", e.message);
}

/// Hands out `tokens` in turn: the first, then the next on each renewal.
struct Rotating {
    tokens: Mutex<Vec<String>>,
    renewals: Mutex<usize>,
}

#[async_trait]
impl AccessTokens for Rotating {
    async fn access_token(&self, renew: bool) -> Result<SecretString, ProviderError> {
        let mut tokens = self.tokens.lock().unwrap();
        if renew {
            *self.renewals.lock().unwrap() += 1;
            if tokens.len() > 1 {
                tokens.remove(0);
            }
        }
        Ok(SecretString::new(tokens[0].clone()))
    }
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_then_an_auth_error() {
    let sb = sandbox().await;
    let good = sign_in(&sb, SCOPES).await;
    let rotating = Arc::new(Rotating {
        tokens: Mutex::new(vec!["EAAAl-stale".into(), good]),
        renewals: Mutex::new(0),
    });
    let square = adapter(&sb, rotating.clone());
    square.verify().await.unwrap();
    assert_eq!(*rotating.renewals.lock().unwrap(), 1);
    square.verify().await.unwrap();
    assert_eq!(
        *rotating.renewals.lock().unwrap(),
        1,
        "the renewed token is kept"
    );

    sb.oauth("square").revoke_all_grants();
    let e = square.verify().await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(e.http_status, Some(401));
    assert_eq!(e.provider_code.as_deref(), Some("ACCESS_TOKEN_REVOKED"));
    assert!(e.message.contains("Reconnect Square"), "{}", e.message);
    assert_eq!(
        *rotating.renewals.lock().unwrap(),
        2,
        "one renewal per refusal"
    );
}

#[tokio::test]
async fn throttling_server_errors_and_missing_scopes() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    sb.square().fail_next(1, SquareFault::RateLimited);
    let e = square
        .fetch_page("refunds", &PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::RateLimited);
    assert!(e.is_transient());
    sb.square().fail_next(1, SquareFault::ServerError);
    let e = square
        .fetch_page("refunds", &PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.http_status),
        (ProviderErrorKind::Server, Some(500))
    );

    let narrow = adapter(
        &sb,
        Arc::new(FixedToken(SecretString::new(
            sign_in(&sb, "MERCHANT_PROFILE_READ PAYMENTS_READ").await,
        ))),
    );
    let e = narrow
        .fetch_page("disputes", &PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.kind,
        ProviderErrorKind::InvalidRequest,
        "not a reason to reconnect"
    );
    assert!(!e.is_transient());
    assert_eq!(e.provider_code.as_deref(), Some("INSUFFICIENT_SCOPES"));
    assert!(e.message.contains("DISPUTES_READ"), "{}", e.message);
}

#[test]
fn amounts_keys_and_errors() {
    assert_eq!(to_square_amount(1_234, "usd", 2).unwrap(), 1_234);
    assert_eq!(to_square_amount(4_500, "JPY", 0).unwrap(), 4_500);
    assert_eq!(to_square_amount(12, "EUR", 0).unwrap(), 1_200);
    assert_eq!(to_square_amount(12_300, "ISK", 2).unwrap(), 123);
    assert!(to_square_amount(12_345, "ISK", 2).is_err());
    let key = "switchboard-2f9c6d0e-1111-4c1e-9d3e-0123456789ab";
    assert_eq!(key.len(), 48);
    let short = refund_idempotency_key(key);
    assert_eq!(short, "sb-2f9c6d0e-1111-4c1e-9d3e-0123456789ab");
    assert_eq!(refund_idempotency_key(key), short, "the same key each time");
    assert_eq!(refund_idempotency_key("abc"), "abc");
    assert_eq!(refund_idempotency_key(&"x".repeat(60)).len(), 45);
    assert_eq!(
        refund_reason(Some("duplicate"), "o1"),
        "Duplicate payment (Switchboard o1)"
    );

    let body = br#"{"errors":[{"category":"AUTHENTICATION_ERROR","code":"ACCESS_TOKEN_EXPIRED","detail":"The access token has expired."}]}"#;
    let e = error_from_body(401, body);
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(e.provider_code.as_deref(), Some("ACCESS_TOKEN_EXPIRED"));
    assert!(e.message.contains("has expired"), "{}", e.message);
    assert_eq!(error_from_body(403, b"{}").kind, ProviderErrorKind::Auth);
    assert_eq!(
        error_from_body(429, b"").kind,
        ProviderErrorKind::RateLimited
    );
    assert_eq!(
        error_from_body(503, b"<html>").kind,
        ProviderErrorKind::Server
    );
    let e = error_from_body(
        400,
        br#"{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"INVALID_CURSOR","field":"cursor"}]}"#,
    );
    assert_eq!(
        (e.kind, e.provider_code.as_deref()),
        (ProviderErrorKind::InvalidRequest, Some("INVALID_CURSOR"))
    );
}

/// The subscriptions stream reads each page's plan variations in one catalog request: name,
/// price (the next charge's phase, or the subscription's own price) and cadence.
#[tokio::test]
async fn subscriptions_carry_their_plans_name_price_and_cadence() {
    let sb = sandbox().await;
    let square = signed_in(&sb).await;
    let pages = pull(&square, "subscriptions", None).await;
    let all: Vec<&SubscriptionRecord> = records(&pages)
        .into_iter()
        .filter_map(|r| match r {
            Record::Subscription(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(all.len(), 6);
    assert!(pages.iter().all(|p| p.warnings.is_empty()), "{pages:?}");
    let counters = sb.square().counters();
    assert_eq!(
        counters.route("POST /v2/catalog/batch-retrieve"),
        counters.route("POST /v2/subscriptions/search"),
        "one catalog request per page"
    );
    let shown = |s: &SubscriptionRecord| {
        (
            s.description.clone().unwrap_or_default(),
            s.amount_minor,
            s.currency.clone(),
            s.interval.clone(),
            s.interval_count,
        )
    };
    let mut got: Vec<_> = all.iter().map(|s| shown(s)).collect();
    got.sort();
    let usd = |a| (Some(a), Some("USD".to_string()));
    let row = |name: &str, (amount, currency): (Option<i64>, Option<String>), unit: &str, n| {
        (
            name.to_string(),
            amount,
            currency,
            Some(unit.to_string()),
            Some(n),
        )
    };
    let mut want = vec![
        row("Coffee club (Monthly)", usd(1_500), "month", 1),
        row("Coffee club (Annual)", usd(15_000), "year", 1),
        // Its own price (49.00) wins over the plan's; it is past the free weeks: monthly.
        row(
            "Pro plan (Monthly, first two weeks free)",
            usd(4_900),
            "month",
            1,
        ),
        // Not started: its first charge is in the free phase.
        row(
            "Pro plan (Monthly, first two weeks free)",
            usd(0),
            "week",
            1,
        ),
        // Priced by what is ordered: no amount.
        row("Build your own box (Quarterly)", (None, None), "month", 3),
        row(
            "Tea of the month (Monthly)",
            (Some(3_000), Some("JPY".into())),
            "month",
            1,
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    let yen = all
        .iter()
        .find(|s| s.currency.as_deref() == Some("JPY"))
        .unwrap();
    assert_eq!(yen.currency_exponent, Some(0));

    // A grant without ITEMS_READ: the subscriptions still sync, without plans, and say why.
    let narrow = sign_in(&sb, &SCOPES.replace(" ITEMS_READ", "")).await;
    let narrow = adapter(&sb, Arc::new(FixedToken(SecretString::new(narrow))));
    let pages = pull(&narrow, "subscriptions", None).await;
    assert_eq!(records(&pages).len(), 6);
    assert!(records(&pages).iter().all(|r| match r {
        Record::Subscription(s) => s.interval.is_none() && s.description.is_none(),
        _ => false,
    }));
    let warnings: Vec<&String> = pages.iter().flat_map(|p| &p.warnings).collect();
    assert!(
        !warnings.is_empty() && warnings.iter().all(|w| w.contains("ITEMS_READ")),
        "{warnings:?}"
    );

    // Cancelling answers the subscription with its plan too.
    let active = all
        .iter()
        .find(|s| {
            s.status == "active" && !s.cancel_at_period_end && s.currency.as_deref() == Some("USD")
        })
        .unwrap();
    let cancelled = square
        .cancel_at_period_end(&active.external_id, "key-1")
        .await
        .unwrap();
    assert!(cancelled.cancel_at_period_end);
    assert_eq!(shown(&cancelled), shown(active));
}
