//! Currency conversion as a payment's settlement: the Stripe fake settles JPY, KWD and ISK
//! charges in USD, so their balance transactions carry the USD amount and an `exchange_rate`.
//! Charges and balance transactions are separate streams; whichever is stored first, a
//! converted charge ends up settled as its balance transaction's amount, and the CSV export
//! carries it.

mod common;

use common::{Fixture, fixture, run};
use serde_json::Value;
use switchboard_core::money::decimal_string;
use switchboard_core::views::{PaymentFilter, PaymentView, SettledAmount};
use switchboard_sandbox::Fault;

/// A balance transaction as the fake serves it, over HTTP like any Stripe client.
async fn fake_balance_transaction(f: &Fixture, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!(
            "{}/v1/balance_transactions/{id}",
            f.sandbox.stripe_api_base()
        ))
        .bearer_auth(f.sandbox.stripe_api_key())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What a payment should settle as, from the fake's own balance transaction: its amount when
/// its currency differs from the charge's, else nothing.
async fn expected(f: &Fixture, p: &PaymentView) -> Option<SettledAmount> {
    let detail = f.workspace.get_payment(&p.id).await.unwrap();
    let bt = detail.settlement?;
    let raw = fake_balance_transaction(f, &bt.external_id).await;
    let currency = raw["currency"].as_str().unwrap().to_ascii_uppercase();
    if currency == p.currency {
        assert!(raw["exchange_rate"].is_null(), "{raw}");
        return None;
    }
    // USD is the only settlement currency the fake converts into: two decimals, as Stripe's.
    assert_eq!(currency, "USD");
    Some(SettledAmount {
        amount_minor: raw["amount"].as_i64().unwrap(),
        currency,
        currency_exponent: 2,
        exchange_rate: Some(raw["exchange_rate"].as_f64().unwrap().to_string()),
    })
}

/// Checks every stored payment's settlement against the fake; returns how many converted.
async fn check_all(f: &Fixture) -> usize {
    let mut converted = 0;
    for p in f.all_payments().await {
        let want = expected(f, &p).await;
        assert_eq!(p.settled_as, want, "{} {}", p.external_id, p.currency);
        if want.is_some() {
            converted += 1;
            assert_ne!(p.currency, "USD");
        }
    }
    converted
}

#[tokio::test]
async fn a_converted_charge_settles_as_its_balance_transaction_after_charges_first() {
    let f = fixture(160).await;
    // Streams run in order: charges, then refunds, then balance transactions.
    let runs = f.sync().await;
    assert_eq!(run(&runs, "charges").status, "succeeded");
    let converted = check_all(&f).await;
    assert!(
        converted >= 3,
        "the fake converts JPY, KWD and ISK charges: {converted}"
    );
    let jpy = f
        .all_payments()
        .await
        .into_iter()
        .find(|p| p.currency == "JPY" && p.settled_as.is_some())
        .expect("a JPY charge settled in USD");
    let settled = jpy.settled_as.unwrap();
    assert_eq!(
        (settled.currency.as_str(), settled.currency_exponent),
        ("USD", 2)
    );
    // A second sync changes nothing (the settlement is not rewritten).
    f.sync().await;
    assert_eq!(check_all(&f).await, converted);
}

#[tokio::test]
async fn a_converted_charge_settles_as_its_balance_transaction_after_balance_transactions_first() {
    let f = fixture(160).await;
    // The charges stream fails (every try of its first page), the others store their pages:
    // the balance transactions are stored before the charges they belong to.
    f.sandbox.stripe().fail_next(3, Fault::ServerError);
    let runs = f.sync().await;
    assert_eq!(run(&runs, "charges").status, "failed", "{runs:#?}");
    assert_eq!(run(&runs, "balance_transactions").status, "succeeded");
    assert!(f.all_payments().await.is_empty());
    let runs = f.sync().await;
    assert_eq!(run(&runs, "charges").status, "succeeded");
    assert!(check_all(&f).await >= 3);
}

#[tokio::test]
async fn the_csv_export_has_the_settlement_columns() {
    let f = fixture(160).await;
    f.sync().await;
    let file = f.dir.path().join("payments.csv");
    let count = f
        .workspace
        .export_payments_csv(PaymentFilter::default(), &file)
        .await
        .unwrap();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    // Added at the end: the columns before keep their places.
    assert_eq!(headers[14], "switchboard_id");
    assert_eq!(
        &headers[15..],
        ["settlement_amount", "settlement_currency", "exchange_rate"]
    );
    let payments = f.all_payments().await;
    let mut converted = 0;
    for row in reader.records().map(Result::unwrap) {
        let p = payments.iter().find(|p| p.id == row[14]).unwrap();
        match &p.settled_as {
            Some(s) => {
                converted += 1;
                assert_eq!(
                    row[15].to_string(),
                    decimal_string(s.amount_minor, s.currency_exponent)
                );
                assert_eq!(&row[16], s.currency);
                assert_eq!(&row[17], s.exchange_rate.as_deref().unwrap());
                assert!(!row[17].is_empty());
                // The payment's own amount stays in its own currency.
                assert_eq!(&row[5], p.currency);
            }
            None => assert!(row[15].is_empty() && row[16].is_empty() && row[17].is_empty()),
        }
    }
    assert_eq!(count as usize, payments.len());
    assert!(converted >= 3);
}
