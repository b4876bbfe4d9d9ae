//! What the command layer returns and the UI renders. TypeScript types are generated from
//! these by ts-rs (`cargo test -p switchboard-core` writes `ui/src/lib/bindings/`).
//! Amounts are integer minor units with their exponent; times are RFC 3339 UTC strings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WorkspaceKind {
    Demo,
    Real,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkspaceInfo {
    pub kind: WorkspaceKind,
    /// The workspace folder (holds `switchboard.db`).
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionStatus {
    Connected,
    NeedsReconnect,
    Disconnected,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionView {
    pub id: String,
    /// Provider key (`stripe`).
    pub provider: String,
    pub provider_name: String,
    pub name: String,
    pub status: ConnectionStatus,
    /// The account at the provider (Stripe `acct_…`), when known.
    pub account_id: Option<String>,
    pub api_base: String,
    pub created_at: String,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    #[ts(type = "number")]
    pub payment_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentView {
    pub id: String,
    pub connection_id: String,
    /// The connection's name.
    pub connection: String,
    pub provider: String,
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    #[ts(type = "number | null")]
    pub fee_minor: Option<i64>,
    #[ts(type = "number | null")]
    pub net_minor: Option<i64>,
    #[ts(type = "number")]
    pub refunded_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// Decimal places of `*_minor` amounts. The UI never derives it.
    pub currency_exponent: u8,
    /// `succeeded`, `pending`, `failed`, or `unknown` when the provider sent a value we do not know.
    pub status: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentPage {
    pub items: Vec<PaymentView>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// All payments matching the filter (for the scroll height).
    #[ts(type = "number")]
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RefundView {
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FeeLine {
    #[ts(type = "number")]
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// Provider's fee type (`stripe_fee`, `tax`, `application_fee`).
    pub kind: String,
    pub description: Option<String>,
}

/// Where the money of a payment went: Stripe's balance transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SettlementView {
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    #[ts(type = "number")]
    pub fee_minor: i64,
    #[ts(type = "number")]
    pub net_minor: i64,
    /// Settlement currency; may differ from the payment's.
    pub currency: String,
    pub currency_exponent: u8,
    pub status: String,
    pub available_on: Option<String>,
    pub payout_id: Option<String>,
    pub fee_lines: Vec<FeeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub refunds: Vec<RefundView>,
    pub settlement: Option<SettlementView>,
    /// The provider's object as received, pretty-printed.
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SyncRunView {
    pub id: String,
    pub connection_id: String,
    pub connection: String,
    /// `charges`, `refunds`, `balance_transactions`.
    pub stream: String,
    /// `manual`, `demo`, `schedule`.
    pub trigger: String,
    /// `running`, `succeeded`, `partial`, `failed`, `interrupted`.
    pub status: String,
    #[ts(type = "number")]
    pub fetched: i64,
    #[ts(type = "number")]
    pub inserted: i64,
    #[ts(type = "number")]
    pub updated: i64,
    #[ts(type = "number")]
    pub skipped: i64,
    #[ts(type = "number")]
    pub failed: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    #[ts(type = "number | null")]
    pub duration_ms: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Things worth knowing that did not stop the run (an unknown status value stored as
    /// `unknown`).
    pub warnings: Vec<String>,
}

/// Streamed while a sync runs (over a Tauri Channel; as JSON Lines by the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SyncProgress {
    pub connection_id: String,
    pub stream: String,
    #[ts(type = "number")]
    pub pages: i64,
    #[ts(type = "number")]
    pub fetched: i64,
    /// True on the last event of a stream.
    pub done: bool,
}

/// Input of `add_stripe_connection`. The key goes in; it never comes back out.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewStripeConnection {
    pub name: String,
    pub api_key: String,
    /// Overrides `https://api.stripe.com` (sandbox, proxies).
    pub api_base: Option<String>,
}

impl std::fmt::Debug for NewStripeConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStripeConnection")
            .field("name", &self.name)
            .field("api_key", &"[redacted]")
            .field("api_base", &self.api_base)
            .finish()
    }
}

/// One HTTP exchange with a provider, as the request log keeps it (no headers, bodies or
/// query strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RequestLogView {
    #[ts(type = "number")]
    pub id: i64,
    pub connection_id: String,
    pub connection: String,
    pub at: String,
    pub method: String,
    pub host: String,
    pub path: String,
    /// `null` when no answer came.
    pub status: Option<u16>,
    #[ts(type = "number")]
    pub duration_ms: i64,
    /// 1 for the first try, 2+ for retries.
    pub attempt: u32,
    pub request_id: Option<String>,
    #[ts(type = "number")]
    pub bytes: i64,
    pub error: Option<String>,
}
