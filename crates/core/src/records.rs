//! Normalised records as provider adapters produce them and the store keeps them.
//! Amounts are integer minor units; `created` is unix seconds (UTC); `raw_json` is the
//! provider's object exactly as received, so nothing the provider said is lost.

use crate::views::FeeLine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub external_id: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// `succeeded`, `pending`, `failed`, or `unknown`.
    pub status: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub balance_transaction_external_id: Option<String>,
    pub created: i64,
    pub raw_json: String,
    /// The provider's fee and what the merchant keeps, in the payment's currency, when the
    /// payment itself states them (Square's processing fee, PayPal's fee). Stripe's come from
    /// the payment's balance transaction instead.
    pub fee_minor: Option<i64>,
    pub net_minor: Option<i64>,
    /// How the customer paid: `card`, `paypal`, `bank_transfer`, `wallet`, `cash`, `other`.
    pub method: Option<String>,
    pub customer_email: Option<String>,
    /// When the money settles in another currency than the payment's (a conversion), what
    /// it became, when the provider says so on the payment.
    pub settlement: Option<Settlement>,
}

/// An amount in a settlement currency (after a conversion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub external_id: String,
    pub payment_external_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub status: String,
    pub reason: Option<String>,
    pub balance_transaction_external_id: Option<String>,
    pub created: i64,
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceTransactionRecord {
    pub external_id: String,
    /// The charge, refund or other object that moved the money.
    pub source_external_id: Option<String>,
    pub kind: String,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub status: String,
    pub available_on: Option<i64>,
    pub payout_external_id: Option<String>,
    pub fee_lines: Vec<FeeLine>,
    pub created: i64,
    pub raw_json: String,
}

/// A dispute (chargeback) a customer's bank opened against a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRecord {
    pub external_id: String,
    pub payment_external_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, …) as sent.
    pub status: String,
    pub reason: Option<String>,
    /// Unix seconds by which evidence must be submitted.
    pub evidence_due_by: Option<i64>,
    pub created: i64,
    pub raw_json: String,
}

/// Money sent from the provider to the merchant's bank (Stripe payout, Square payout, PayPal
/// withdrawal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRecord {
    pub external_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// `pending`, `in_transit`, `paid`, `failed`, `canceled`, or `unknown`.
    pub status: String,
    /// Unix seconds the money is expected in (or reached) the bank.
    pub arrival_date: Option<i64>,
    /// Where it went, as the provider names it (a bank account's last digits).
    pub destination: Option<String>,
    pub created: i64,
    pub raw_json: String,
}

/// One line of a payout: a payment, refund, fee or adjustment it contains. A payout's entries'
/// `net_minor` add up to its amount (reconciliation checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutEntryRecord {
    pub external_id: String,
    pub payout_external_id: String,
    /// `charge`, `refund`, `fee`, `adjustment`, `dispute`, `payout`, `other`, as normalised by
    /// the adapter (the provider's own type stays in `raw_json`).
    pub kind: String,
    /// The payment, refund or other object the entry is for.
    pub source_external_id: Option<String>,
    pub gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// Unix seconds the entry took effect.
    pub created: i64,
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created: i64,
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub external_id: String,
    pub customer_external_id: Option<String>,
    /// `active`, `trialing`, `past_due`, `paused`, `canceled`, `pending`, or `unknown`.
    pub status: String,
    /// What is subscribed to (plan or price name), for display.
    pub description: Option<String>,
    /// The recurring charge, when known.
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub currency_exponent: Option<u8>,
    /// `day`, `week`, `month`, `year`, with `interval_count` (every 3 months).
    pub interval: Option<String>,
    pub interval_count: Option<i64>,
    /// Unix seconds of the next charge (Stripe's `current_period_end`, Square's
    /// `charged_through_date`, PayPal's `billing_info.next_billing_time`).
    pub next_charge_at: Option<i64>,
    /// It ends when the period ends (and will not charge again).
    pub cancel_at_period_end: bool,
    pub created: i64,
    pub raw_json: String,
}

/// What an upsert did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    Unchanged,
}

/// One HTTP exchange with a provider as the request log keeps it: never headers, bodies or
/// query strings (they may hold secrets or personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// RFC 3339 UTC time the request was sent.
    pub at: String,
    pub method: String,
    pub host: String,
    /// The URL path only.
    pub path: String,
    /// `None` when no answer came (connection failed, timed out).
    pub status: Option<u16>,
    pub duration_ms: i64,
    /// Which try this was; the HTTP layer says 1, the sync engine, which retries, sets it.
    pub attempt: u32,
    pub request_id: Option<String>,
    /// Bytes of the answer body.
    pub bytes: i64,
    /// What went wrong at the transport level, without the URL.
    pub error: Option<String>,
}
