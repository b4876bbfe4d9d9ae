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
