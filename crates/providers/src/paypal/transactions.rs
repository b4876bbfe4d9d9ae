//! The `transactions` stream: every money movement of the account through Transaction Search
//! (`GET /v1/reporting/transactions`, `fields=all`, 500 per page).
//!
//! **Windows.** PayPal searches at most 31 days at a time and only the last three years, so a
//! run walks from its start (the engine's `created_gte`, or three years back on a first sync)
//! to now in 31-day windows, each page by page. The continuation the engine checkpoints
//! ([`SearchPosition`]) is the window (start and end) and the page to fetch next, so a killed
//! sync resumes in the same window at the same page. Window ends are kept as they were chosen:
//! the last window of a run ends at that run's "now", and a resumed run then walks on from
//! there to its own now. Windows share their boundary second (PayPal includes both ends), so a
//! transaction exactly on it comes twice and is stored once.
//!
//! **Late transactions.** "It takes a maximum of three hours for executed transactions to
//! appear", and PayPal only serves data up to its `last_refreshed_datetime`: it cuts the
//! answer's `end_date` there, and refuses a `start_date` after it ("Data for the given start
//! date is not available."). A run therefore reports as its newest time ([`Page::max_created`])
//! the end of what PayPal said it served, not the newest transaction; the next run starts
//! [`LOOKBACK_SECS`] before that, which covers transactions that show up late. (Reporting the
//! newest transaction instead would make an account whose last sale was months ago search
//! every month since on each sync.) A refused start means nothing is served there yet: the
//! run ends without error.
//!
//! **Records.** Each transaction detail becomes (event codes:
//! https://developer.paypal.com/docs/transaction-search/transaction-event-codes/):
//! - `T00nn` received (positive): a [`PaymentRecord`] (the capture; `fee_minor` from
//!   `fee_amount`, method `paypal`, customer and email from `payer_info`); for `T0002`
//!   (subscription payment, `paypal_reference_id_type` `SUB`) also the subscription, read once
//!   per run with `GET /v1/billing/subscriptions/{id}` (PayPal has no call that lists them);
//! - `T1107` (refund) and `T1106` (reversal by PayPal): a [`RefundRecord`] of the capture named
//!   by `paypal_reference_id`;
//! - `T04nn` (withdrawal to the bank, negative): a [`PayoutRecord`] (no entries: PayPal does not
//!   say which transactions a withdrawal carried);
//! - anything else (fees, currency conversions, holds, payments sent): a warning, not a
//!   failure. A transaction that cannot be read (no id, an amount with more decimals than the
//!   currency has) is rejected with its reason.
//!
//! PayPal's transaction search does not say how much of a capture was refunded: a payment's
//! `refunded_minor` is 0 here, and the store raises it to the sum of the capture's refunds
//! when they are stored (`payments::raise_refunded_from_refunds`). Not in the records (kept in
//! `raw_json`): `transaction_updated_date`, `invoice_id`, `custom_field`, cart items and
//! shipping.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use switchboard_core::records::{PaymentRecord, PayoutRecord, RefundRecord};

use super::amounts::stored;
use super::fields::{MoneyFields, parse_time};
use super::{Call, ErrorBody, PayPalPayments, api_error, unreadable};
use crate::{Page, PageRequest, ProviderError, Record, Rejected};

/// The stream's name.
pub const STREAM: &str = "transactions";
/// PayPal's widest search window.
pub const WINDOW_SECS: i64 = 31 * 86_400;
/// How far back a first sync starts: three years ("this call lists transactions for the
/// previous three years") less a day, so clocks a little apart never ask past the limit.
pub const HORIZON_SECS: i64 = (3 * 365 - 1) * 86_400;
/// PayPal's largest page.
pub const MAX_PAGE_SIZE: u32 = 500;
/// How far before the end of what the last run was served a run starts again: PayPal
/// documents transactions appearing up to three hours late; this is four times that, because
/// developers report longer delays, and costs one page of already-seen transactions for a
/// small business.
pub const LOOKBACK_SECS: i64 = 12 * 3_600;
/// A window shorter than this at the end of a run is left to the next run (it would cost a
/// request for a few seconds of transactions the next run's lookback reads anyway).
const MIN_WINDOW_SECS: i64 = 60;

/// Where a run is: the search window and the page of it to fetch. The engine stores it as
/// the checkpoint (`window:START-END:page:N`, unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPosition {
    pub start: i64,
    pub end: i64,
    pub page: u32,
}

impl SearchPosition {
    pub fn encode(&self) -> String {
        format!("window:{}-{}:page:{}", self.start, self.end, self.page)
    }

    pub fn decode(text: &str) -> Option<SearchPosition> {
        let rest = text.strip_prefix("window:")?;
        let (window, page) = rest.split_once(":page:")?;
        let (start, end) = window.split_once('-')?;
        let position = SearchPosition {
            start: start.parse().ok()?,
            end: end.parse().ok()?,
            page: page.parse().ok()?,
        };
        (position.page >= 1
            && position.end >= position.start
            && position.end - position.start <= WINDOW_SECS)
            .then_some(position)
    }

    /// The first page of the window starting at `start`, up to 31 days and at most `now`.
    fn first(start: i64, now: i64) -> SearchPosition {
        SearchPosition {
            start,
            end: (start + WINDOW_SECS).min(now),
            page: 1,
        }
    }
}

/// `2024-05-01T10:00:00Z`.
fn rfc3339(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The search answer's envelope; each detail stays raw text (its own bytes become `raw_json`).
#[derive(Deserialize)]
struct SearchEnvelope<'a> {
    #[serde(borrow)]
    transaction_details: Option<Vec<&'a RawValue>>,
    total_pages: Option<i64>,
    #[serde(borrow)]
    end_date: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct InfoFields<'a> {
    #[serde(borrow)]
    transaction_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    paypal_reference_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    paypal_reference_id_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_event_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_initiation_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_amount: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    fee_amount: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    transaction_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_note: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct NameFields<'a> {
    #[serde(borrow)]
    given_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    surname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alternate_full_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct PayerFields<'a> {
    #[serde(borrow)]
    email_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payer_name: Option<NameFields<'a>>,
}

#[derive(Deserialize)]
struct ItemFields<'a> {
    #[serde(borrow)]
    item_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CartFields<'a> {
    #[serde(borrow)]
    item_details: Option<Vec<ItemFields<'a>>>,
}

#[derive(Deserialize)]
struct DetailFields<'a> {
    #[serde(borrow)]
    transaction_info: Option<InfoFields<'a>>,
    #[serde(borrow)]
    payer_info: Option<PayerFields<'a>>,
    #[serde(borrow)]
    cart_info: Option<CartFields<'a>>,
}

/// What one transaction detail is to Switchboard.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A received payment, with the subscription it paid for (`T0002`).
    Payment(PaymentRecord, Option<String>),
    Refund(RefundRecord),
    Payout(PayoutRecord),
    /// Kept out of the store, with what to tell the user.
    Skipped(String),
}

fn text(field: &Option<Cow<'_, str>>) -> Option<String> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// One transaction detail (its raw JSON text).
pub(crate) fn parse_detail(raw: &str) -> Result<Parsed, String> {
    let detail: DetailFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let info = detail.transaction_info.ok_or("no `transaction_info`")?;
    let id = text(&info.transaction_id).ok_or("no `transaction_id`")?;
    let code = text(&info.transaction_event_code).ok_or("no `transaction_event_code`")?;
    let created = info
        .transaction_initiation_date
        .as_deref()
        .ok_or("no `transaction_initiation_date`")
        .and_then(|t| parse_time(t).ok_or("`transaction_initiation_date` is not a date-time"))?;
    let money = info
        .transaction_amount
        .as_ref()
        .ok_or("no `transaction_amount`")?;
    let currency = money.currency("transaction_amount")?;
    let amount = money.units_in(currency, "transaction_amount")?;
    let fee = info
        .fee_amount
        .as_ref()
        .map(|f| f.units_in(currency, "fee_amount"))
        .transpose()?
        .unwrap_or(0);
    let status = info.transaction_status.as_deref().unwrap_or_default();
    let reference = text(&info.paypal_reference_id);
    let group = code.get(..3).unwrap_or_default();

    if group == "T00" && amount > 0 {
        // PayPal shows the fee a payment costs as a negative `fee_amount`.
        let fee_charged = -fee;
        let (minor, exponent) = stored(&[amount, fee_charged, amount - fee_charged], currency);
        let payer = detail.payer_info.as_ref();
        let name = payer.and_then(|p| p.payer_name.as_ref()).and_then(|n| {
            text(&n.alternate_full_name)
                .or_else(|| text(&n.full_name))
                .or_else(|| {
                    let full = [text(&n.given_name), text(&n.surname)]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    (!full.is_empty()).then_some(full)
                })
        });
        let item = detail
            .cart_info
            .as_ref()
            .and_then(|c| c.item_details.as_ref())
            .and_then(|items| items.first())
            .and_then(|i| text(&i.item_name));
        let subscription = (code == "T0002"
            && info.paypal_reference_id_type.as_deref() == Some("SUB"))
        .then(|| reference.clone())
        .flatten();
        let payment = PaymentRecord {
            external_id: id,
            amount_minor: minor[0],
            refunded_minor: 0,
            currency: currency.code().to_string(),
            currency_exponent: exponent,
            status: payment_status(status).to_string(),
            customer: name,
            description: text(&info.transaction_subject)
                .or(item)
                .or_else(|| text(&info.transaction_note)),
            balance_transaction_external_id: None,
            created,
            raw_json: raw.to_string(),
            fee_minor: Some(minor[1]),
            net_minor: Some(minor[2]),
            method: Some("paypal".to_string()),
            customer_email: payer.and_then(|p| text(&p.email_address)),
            settlement: None,
        };
        return Ok(Parsed::Payment(payment, subscription));
    }
    if matches!(code.as_str(), "T1106" | "T1107") && amount < 0 {
        let (minor, exponent) = stored(&[-amount], currency);
        return Ok(Parsed::Refund(RefundRecord {
            external_id: id,
            payment_external_id: reference,
            amount_minor: minor[0],
            currency: currency.code().to_string(),
            currency_exponent: exponent,
            status: refund_status(status).to_string(),
            reason: (code == "T1106").then(|| "reversed_by_paypal".to_string()),
            balance_transaction_external_id: None,
            created,
            raw_json: raw.to_string(),
        }));
    }
    if group == "T04" && amount < 0 {
        let (minor, exponent) = stored(&[-amount], currency);
        return Ok(Parsed::Payout(PayoutRecord {
            external_id: id,
            amount_minor: minor[0],
            currency: currency.code().to_string(),
            currency_exponent: exponent,
            status: payout_status(status).to_string(),
            arrival_date: None,
            destination: None,
            created,
            raw_json: raw.to_string(),
        }));
    }
    Ok(Parsed::Skipped(format!(
        "PayPal transaction {id} ({code}{}) is not kept: Switchboard keeps received payments, \
         refunds and withdrawals to the bank.",
        describe(&code, amount)
    )))
}

/// A few words on what a skipped event code is.
fn describe(code: &str, amount: i64) -> &'static str {
    match code.get(..3).unwrap_or_default() {
        "T00" if amount <= 0 => ", a payment sent",
        "T01" => ", a fee",
        "T02" => ", a currency conversion",
        "T11" => ", a hold or reversal",
        "T12" => ", a chargeback",
        _ => "",
    }
}

/// `transaction_status`: `S` success, `P` pending, `D` denied, `V` reversed (refunded to the
/// sender: the payment happened; its refund is a record of its own).
fn payment_status(status: &str) -> &'static str {
    match status {
        "S" | "V" => "succeeded",
        "P" => "pending",
        "D" => "failed",
        _ => "unknown",
    }
}

fn refund_status(status: &str) -> &'static str {
    match status {
        "S" => "succeeded",
        "P" => "pending",
        "D" => "failed",
        "V" => "canceled",
        _ => "unknown",
    }
}

fn payout_status(status: &str) -> &'static str {
    match status {
        "S" => "paid",
        "P" => "pending",
        "D" | "V" => "failed",
        _ => "unknown",
    }
}

impl PayPalPayments {
    /// One page of the `transactions` stream.
    pub(crate) async fn transactions_page(
        &self,
        request: &PageRequest,
    ) -> Result<Page, ProviderError> {
        let now = self.now();
        let saved = request.starting_after.as_deref();
        // A checkpoint this version cannot read (written by another one) starts the run's
        // period over: reading again stores nothing twice, skipping could lose transactions.
        let unreadable = saved.filter(|text| SearchPosition::decode(text).is_none());
        let mut position = match saved.and_then(SearchPosition::decode) {
            Some(position) => position,
            None => {
                let start = request
                    .created_gte
                    .unwrap_or(i64::MIN)
                    .max(now - HORIZON_SECS);
                if now - start < 1 {
                    // Nothing can have happened yet (a clock set back): ask nothing.
                    return Ok(Page::default());
                }
                SearchPosition::first(start, now)
            }
        };
        let note = unreadable.map(|text| {
            format!(
                "The saved PayPal sync position `{text}` could not be read; this sync read the \
                 period again from its start."
            )
        });
        loop {
            let query = [
                ("start_date", rfc3339(position.start)),
                ("end_date", rfc3339(position.end)),
                ("fields", "all".to_string()),
                ("page_size", self.page_size.to_string()),
                ("page", position.page.to_string()),
            ];
            let answer = self
                .send(
                    reqwest::Method::GET,
                    "/v1/reporting/transactions",
                    &query,
                    &[],
                    None,
                )
                .await?;
            if (200..300).contains(&answer.status) {
                let mut page = self.search_page(&answer, position, now).await?;
                page.request_id = answer.request_id.clone();
                page.warnings.extend(note);
                return Ok(page);
            }
            let body = ErrorBody::of(&answer);
            if matches!(answer.status, 400 | 404)
                && body.mentions("Data for the given start date is not available")
            {
                // PayPal serves nothing from this start yet: this run has read all there is.
                return Ok(Page {
                    request_id: answer.request_id.clone(),
                    ..Page::default()
                });
            }
            let span = position.end - position.start;
            if body.code().as_deref() == Some("RESULTSET_TOO_LARGE")
                && position.page == 1
                && span > 3_600
            {
                // More than PayPal will page through in one window: halve it.
                position.end = position.start + span / 2;
                continue;
            }
            return Err(api_error(&answer, Call::Search));
        }
    }

    /// Records of one search answer and where the next page is.
    async fn search_page(
        &self,
        answer: &crate::http::Exchange,
        position: SearchPosition,
        now: i64,
    ) -> Result<Page, ProviderError> {
        let envelope: SearchEnvelope<'_> =
            serde_json::from_slice(&answer.body).map_err(|e| unreadable(answer, e))?;
        let details = envelope.transaction_details.unwrap_or_default();
        let total_pages = envelope.total_pages.unwrap_or(0);
        // What PayPal served up to: the window's end, or earlier where its data ends.
        let served_until = envelope
            .end_date
            .as_deref()
            .and_then(parse_time)
            .map_or(position.end, |t| t.min(position.end));
        let mut page = Page {
            fetched: details.len(),
            ..Page::default()
        };
        let mut subscriptions: Vec<String> = Vec::new();
        for detail in details {
            let raw = detail.get();
            let record = match parse_detail(raw) {
                Ok(Parsed::Payment(p, subscription)) => {
                    if let Some(s) = subscription
                        && !subscriptions.contains(&s)
                    {
                        subscriptions.push(s);
                    }
                    Record::Payment(p)
                }
                Ok(Parsed::Refund(r)) => Record::Refund(r),
                Ok(Parsed::Payout(p)) => Record::Payout(p),
                Ok(Parsed::Skipped(why)) => {
                    page.warnings.push(why);
                    continue;
                }
                Err(reason) => {
                    page.rejected.push(Rejected {
                        external_id: transaction_id_of(raw),
                        reason,
                    });
                    continue;
                }
            };
            page.max_created = page.max_created.max(Some(record.created()));
            page.records.push(record);
        }
        self.add_subscriptions(&subscriptions, &mut page).await?;

        let next = if i64::from(position.page) < total_pages {
            Some(SearchPosition {
                page: position.page + 1,
                ..position
            })
        } else {
            // The window is done: everything PayPal served up to its end has been read.
            page.max_created = page.max_created.max(Some(served_until));
            let more_served = served_until >= position.end;
            (more_served && now - position.end >= MIN_WINDOW_SECS)
                .then(|| SearchPosition::first(position.end, now))
        };
        page.has_more = next.is_some();
        page.last_id = next.map(|n| n.encode());
        Ok(page)
    }

    /// A search of the last day for one item: a token and the search permission, proved.
    pub(crate) async fn probe_search(&self) -> Result<(), ProviderError> {
        let now = self.now();
        let query = [
            ("start_date", rfc3339(now - 86_400)),
            ("end_date", rfc3339(now)),
            ("fields", "transaction_info".to_string()),
            ("page_size", "1".to_string()),
        ];
        let answer = self
            .send(
                reqwest::Method::GET,
                "/v1/reporting/transactions",
                &query,
                &[],
                None,
            )
            .await?;
        if (200..300).contains(&answer.status)
            || ErrorBody::of(&answer).mentions("Data for the given start date is not available")
        {
            return Ok(());
        }
        Err(api_error(&answer, Call::Search))
    }
}

/// The `transaction_id` of a detail that could not be read otherwise.
fn transaction_id_of(raw: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(raw).ok()?;
    value
        .pointer("/transaction_info/transaction_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail(code: &str, amount: &str, currency: &str) -> serde_json::Value {
        json!({
            "transaction_info": {
                "transaction_id": "5TY05013RG002845M",
                "transaction_event_code": code,
                "transaction_initiation_date": "2024-05-01T10:00:00+0000",
                "transaction_amount": {"currency_code": currency, "value": amount},
                "fee_amount": {"currency_code": currency, "value": "-1.03"},
                "transaction_status": "S",
                "transaction_subject": "Walnut cutting board",
                "paypal_reference_id": "I-BW452GLLEP1G",
                "paypal_reference_id_type": "SUB",
            },
            "payer_info": {
                "email_address": "ada@example.com",
                "payer_name": {"given_name": "Ada", "surname": "Lovelace"},
            },
        })
    }

    fn parse(v: serde_json::Value) -> Result<Parsed, String> {
        parse_detail(&v.to_string())
    }

    #[test]
    fn positions_round_trip_and_reject_what_paypal_would() {
        let p = SearchPosition {
            start: 1_700_000_000,
            end: 1_700_000_000 + WINDOW_SECS,
            page: 3,
        };
        assert_eq!(p.encode(), "window:1700000000-1702678400:page:3");
        assert_eq!(SearchPosition::decode(&p.encode()), Some(p));
        assert_eq!(SearchPosition::decode("ch_123"), None);
        assert_eq!(SearchPosition::decode("window:10-5:page:1"), None);
        assert_eq!(SearchPosition::decode("window:0-2678401:page:1"), None);
        assert_eq!(SearchPosition::decode("window:0-10:page:0"), None);
    }

    #[test]
    fn search_dates_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(1_714_557_600), "2024-05-01T10:00:00Z");
    }

    #[test]
    fn a_subscription_payment_is_a_payment_with_its_fee_and_subscription() {
        let Ok(Parsed::Payment(p, sub)) = parse(detail("T0002", "25.00", "USD")) else {
            panic!()
        };
        assert_eq!(
            (p.amount_minor, p.currency.as_str(), p.currency_exponent),
            (2500, "USD", 2)
        );
        assert_eq!((p.fee_minor, p.net_minor), (Some(103), Some(2397)));
        assert_eq!(p.method.as_deref(), Some("paypal"));
        assert_eq!(p.customer.as_deref(), Some("Ada Lovelace"));
        assert_eq!(p.customer_email.as_deref(), Some("ada@example.com"));
        assert_eq!(p.description.as_deref(), Some("Walnut cutting board"));
        assert_eq!(p.created, 1_714_557_600);
        assert_eq!(sub.as_deref(), Some("I-BW452GLLEP1G"));
        assert_eq!(p.status, "succeeded");
    }

    #[test]
    fn zero_decimal_currencies_and_forints_convert_exactly() {
        let mut jpy = detail("T0006", "1500", "JPY");
        jpy["transaction_info"]["fee_amount"]["value"] = json!("-92");
        let Ok(Parsed::Payment(p, None)) = parse(jpy) else {
            panic!()
        };
        assert_eq!(
            (p.amount_minor, p.currency_exponent, p.fee_minor),
            (1500, 0, Some(92))
        );
        let mut huf = detail("T0006", "1500", "HUF");
        huf["transaction_info"]["fee_amount"]["value"] = json!("-143");
        let Ok(Parsed::Payment(p, None)) = parse(huf) else {
            panic!()
        };
        assert_eq!((p.amount_minor, p.currency_exponent), (150_000, 2));
        assert_eq!((p.fee_minor, p.net_minor), (Some(14_300), Some(135_700)));
    }

    #[test]
    fn too_many_decimals_reject_the_transaction_with_the_reason() {
        let why = parse(detail("T0006", "1500.5", "JPY")).unwrap_err();
        assert!(why.contains("PayPal uses 0 for JPY"), "{why}");
        let why = parse(detail("T0006", "10.505", "USD")).unwrap_err();
        assert!(why.contains("transaction_amount"), "{why}");
    }

    #[test]
    fn refunds_link_to_their_capture_and_withdrawals_are_payouts() {
        let mut refund = detail("T1107", "-10.00", "EUR");
        refund["transaction_info"]["paypal_reference_id"] = json!("8MC585209K746392H");
        refund["transaction_info"]["paypal_reference_id_type"] = json!("TXN");
        refund["transaction_info"]["fee_amount"]["value"] = json!("0.35");
        let Ok(Parsed::Refund(r)) = parse(refund) else {
            panic!()
        };
        assert_eq!(r.payment_external_id.as_deref(), Some("8MC585209K746392H"));
        assert_eq!((r.amount_minor, r.status.as_str()), (1000, "succeeded"));
        let withdrawal = detail("T0400", "-250.00", "USD");
        let Ok(Parsed::Payout(p)) = parse(withdrawal) else {
            panic!()
        };
        assert_eq!((p.amount_minor, p.status.as_str()), (25_000, "paid"));
    }

    #[test]
    fn other_codes_are_skipped_with_a_reason() {
        let Ok(Parsed::Skipped(why)) = parse(detail("T0200", "-10.00", "USD")) else {
            panic!()
        };
        assert!(why.contains("T0200, a currency conversion"), "{why}");
        let Ok(Parsed::Skipped(why)) = parse(detail("T0006", "-5.00", "USD")) else {
            panic!()
        };
        assert!(why.contains("a payment sent"), "{why}");
        let Ok(Parsed::Skipped(_)) = parse(detail("T1110", "-5.00", "USD")) else {
            panic!()
        };
    }

    #[test]
    fn unreadable_details_say_what_is_missing() {
        let mut v = detail("T0006", "1.00", "USD");
        v["transaction_info"]
            .as_object_mut()
            .unwrap()
            .remove("transaction_initiation_date");
        assert!(
            parse(v)
                .unwrap_err()
                .contains("transaction_initiation_date")
        );
        let mut v = detail("T0006", "1.00", "USD");
        v["transaction_info"]["fee_amount"]["currency_code"] = json!("EUR");
        assert!(parse(v).unwrap_err().contains("fee_amount"));
        assert_eq!(
            transaction_id_of(&detail("T0006", "x", "USD").to_string()).as_deref(),
            Some("5TY05013RG002845M")
        );
    }
}
