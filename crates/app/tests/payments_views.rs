//! The payments screens' reads over a real sync from the sandbox: filters, export, the
//! dashboard's totals against the rows they sum, a payment's timeline, and the checks a
//! payment request makes before anything is queued.

mod common;

use std::collections::HashMap;
use switchboard_app::PaymentQuery;
use switchboard_core::ErrorCode;
use switchboard_core::views::{NewPaymentRequest, NewRefund, PaymentFilter};

fn filter() -> PaymentFilter {
    PaymentFilter::default()
}

#[tokio::test]
async fn filters_count_and_export_agree() {
    let fx = common::fixture(240).await;
    fx.sync().await;
    let all = fx.all_payments().await;
    assert!(all.len() >= 240);
    let ws = &fx.workspace;

    // Every status filter selects exactly the rows of that status.
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for p in &all {
        *by_status.entry(p.status.clone()).or_default() += 1;
    }
    for (status, expected) in &by_status {
        let f = PaymentFilter {
            status: Some(status.clone()),
            ..filter()
        };
        assert_eq!(
            ws.count_payments(f.clone()).await.unwrap(),
            *expected as i64
        );
        let page = ws
            .list_payments(PaymentQuery {
                filter: f,
                limit: Some(1000),
                with_total: true,
                ..PaymentQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, Some(*expected as i64));
        assert!(page.items.iter().all(|p| &p.status == status));
    }
    // Without `with_total` no count is made.
    let page = ws.list_payments(PaymentQuery::default()).await.unwrap();
    assert_eq!(page.total, None);

    // Search by a customer's email finds that payment.
    let with_email = all
        .iter()
        .find(|p| p.customer_email.is_some())
        .expect("the sandbox has customers with emails");
    let email = with_email.customer_email.clone().unwrap();
    let found = ws
        .list_payments(PaymentQuery {
            filter: PaymentFilter {
                search: Some(email.clone()),
                ..filter()
            },
            limit: Some(100),
            ..PaymentQuery::default()
        })
        .await
        .unwrap();
    assert!(found.items.iter().any(|p| p.id == with_email.id));
    assert!(
        found
            .items
            .iter()
            .all(|p| p.customer_email.as_deref() == Some(&email))
    );

    // The CSV of a filter holds exactly its rows, amounts as exact decimals.
    let succeeded = PaymentFilter {
        status: Some("succeeded".into()),
        ..filter()
    };
    let file = fx.dir.path().join("export.csv");
    let count = ws
        .export_payments_csv(succeeded.clone(), &file)
        .await
        .unwrap();
    assert_eq!(count as i64, ws.count_payments(succeeded).await.unwrap());
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "created_at");
    assert_eq!(&headers[6], "amount");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, count);
    let by_id: HashMap<&str, _> = all.iter().map(|p| (p.id.as_str(), p)).collect();
    for row in &rows {
        let p = by_id[&row[14]];
        assert_eq!(&row[4], "succeeded");
        assert_eq!(
            row[6].to_string(),
            switchboard_core::money::decimal_string(p.amount_minor, p.currency_exponent)
        );
        assert_eq!(&row[5], p.currency);
    }
    assert!(!fx.dir.path().join("export.csv.partial").exists());

    // A bad filter says what to write.
    let bad = ws
        .count_payments(PaymentFilter {
            from: Some("last week".into()),
            ..filter()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidInput);
    assert!(bad.message.contains("2026-12-31"), "{}", bad.message);
}

#[tokio::test]
async fn dashboard_totals_equal_the_rows_they_sum() {
    let fx = common::fixture(200).await;
    fx.sync().await;
    let all = fx.all_payments().await;
    let ws = &fx.workspace;
    let days: Vec<&str> = all.iter().map(|p| &p.created_at[..10]).collect();
    let (from, to) = (
        days.iter().min().unwrap().to_string(),
        days.iter().max().unwrap().to_string(),
    );
    let view = ws.dashboard(&from, &to).await.unwrap();
    // Gross per currency: the succeeded payments' amounts, never mixed across currencies.
    let mut gross: HashMap<&str, (i64, i64)> = HashMap::new();
    for p in all.iter().filter(|p| p.status == "succeeded") {
        let e = gross.entry(p.currency.as_str()).or_default();
        e.0 += 1;
        e.1 += p.amount_minor;
    }
    assert_eq!(view.by_currency.len(), gross.len());
    for row in &view.by_currency {
        let (count, sum) = gross[row.currency.as_str()];
        assert_eq!(row.totals.payments, count, "{}", row.currency);
        assert_eq!(row.totals.gross_minor, sum, "{}", row.currency);
        assert_eq!(
            row.totals.net_minor,
            row.totals.gross_minor - row.totals.fee_minor - row.totals.refunded_minor
        );
    }
    assert!(view.by_provider.iter().all(|r| r.provider == "stripe"));
    // The series adds up to the totals.
    for row in &view.by_currency {
        let series: i64 = view
            .series
            .iter()
            .filter(|s| s.currency == row.currency)
            .map(|s| s.totals.gross_minor)
            .sum();
        assert_eq!(series, row.totals.gross_minor);
    }
    let empty = ws.dashboard("1990-01-01", "1990-01-31").await.unwrap();
    assert!(empty.by_currency.is_empty() && empty.series.is_empty());
    assert_eq!(empty.bucket, "day");
    assert_eq!(
        ws.dashboard("1990-01-01", "1990-12-31")
            .await
            .unwrap()
            .bucket,
        "month"
    );
    let backwards = ws.dashboard("2026-02-01", "2026-01-01").await.unwrap_err();
    assert_eq!(backwards.code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn a_refund_shows_in_the_timeline_and_the_totals() {
    let fx = common::fixture(30).await;
    fx.sync().await;
    let ws = &fx.workspace;
    let payment = fx
        .all_payments()
        .await
        .into_iter()
        .find(|p| p.status == "succeeded" && p.refunded_minor == 0 && p.amount_minor > 200)
        .expect("a refundable payment");
    let day = payment.created_at[..10].to_string();
    let before = ws.dashboard(&day, &day).await.unwrap();
    let refunded_before: i64 = before
        .by_currency
        .iter()
        .filter(|r| r.currency == payment.currency)
        .map(|r| r.totals.refunded_minor)
        .sum();
    let item = ws
        .refund_payment(NewRefund {
            payment: payment.id.clone(),
            amount_minor: Some(100),
            reason: Some("requested_by_customer".into()),
        })
        .await
        .unwrap();
    assert_eq!(item.status, "succeeded", "{item:?}");
    let detail = ws.get_payment(&payment.id).await.unwrap();
    let kinds: Vec<&str> = detail.timeline.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"created"));
    assert!(kinds.contains(&"refunded"), "{kinds:?}");
    let refunded = detail
        .timeline
        .iter()
        .find(|t| t.kind == "refunded")
        .unwrap();
    assert!(
        refunded.label.contains("requested by customer"),
        "{}",
        refunded.label
    );
    assert!(
        detail.timeline.windows(2).all(|w| w[0].at <= w[1].at),
        "oldest first"
    );
    let url = detail
        .dashboard_url
        .expect("Stripe payments link to the dashboard");
    assert!(
        url.starts_with("https://dashboard.stripe.com/test/payments/"),
        "{url}"
    );
    // The refund counts on the day it was made (today), in the payment's currency.
    let today = chrono::Utc::now().date_naive().to_string();
    let after = ws.dashboard(&today, &today).await.unwrap();
    let refunded_today: i64 = after
        .by_currency
        .iter()
        .filter(|r| r.currency == payment.currency)
        .map(|r| r.totals.refunded_minor)
        .sum();
    assert!(refunded_today >= 100, "{after:?}");
    if day != today {
        let again = ws.dashboard(&day, &day).await.unwrap();
        let refunded_again: i64 = again
            .by_currency
            .iter()
            .filter(|r| r.currency == payment.currency)
            .map(|r| r.totals.refunded_minor)
            .sum();
        assert_eq!(refunded_again, refunded_before);
    }
}

#[tokio::test]
async fn a_payment_request_is_checked_before_anything_is_queued() {
    let fx = common::fixture(5).await;
    let ws = &fx.workspace;
    let request =
        |amount: i64, currency: &str, description: &str, email: Option<&str>| NewPaymentRequest {
            connection: "Main".into(),
            amount: None,
            amount_minor: Some(amount),
            currency: currency.into(),
            description: description.into(),
            customer_email: email.map(str::to_string),
            fallback_from: None,
        };
    for (bad, what) in [
        (request(0, "EUR", "Deposit", None), "more than zero"),
        (request(100, "EURO", "Deposit", None), "ISO 4217"),
        (request(100, "EUR", "  ", None), "what the payment is for"),
        (request(100, "EUR", "Deposit", Some("ada@")), "email"),
        (request(100, "EUR", &"x".repeat(251), None), "250"),
        (
            NewPaymentRequest {
                amount: Some("12.505".into()),
                amount_minor: None,
                ..request(1, "EUR", "Deposit", None)
            },
            "EUR has 2 decimal(s): 12.505 has more",
        ),
        (
            NewPaymentRequest {
                amount: Some("1000.5".into()),
                amount_minor: None,
                ..request(1, "JPY", "Deposit", None)
            },
            "JPY has 0 decimal(s)",
        ),
        (
            NewPaymentRequest {
                amount: Some("12".into()),
                ..request(1200, "EUR", "Deposit", None)
            },
            "once",
        ),
    ] {
        let e = ws.request_payment(bad).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
        assert!(
            e.message.contains(what),
            "{} should mention {what}",
            e.message
        );
    }
    assert!(ws.list_outbox(false, 10).await.unwrap().is_empty());
    assert!(ws.list_payment_requests(10).await.unwrap().is_empty());
    let options = ws.payment_request_options().await.unwrap();
    assert_eq!(options.len(), 1);
    assert!(options[0].available);
}
