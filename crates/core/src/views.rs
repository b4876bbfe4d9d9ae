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
    /// The account at the provider (Stripe `acct_…`, Xero tenant id, QuickBooks realm id,
    /// Google subject), when known.
    pub account_id: Option<String>,
    /// The account as the provider names it (organisation, company, email), when known.
    pub account_name: Option<String>,
    /// The scopes the provider granted (OAuth connections; empty otherwise).
    pub scopes: Vec<String>,
    pub api_base: String,
    pub created_at: String,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    #[ts(type = "number")]
    pub payment_count: i64,
    /// How often the scheduler syncs it, in minutes; `None`: only when asked.
    pub sync_interval_minutes: Option<u32>,
    /// When the scheduler syncs it next (UTC); `None` when it is not scheduled.
    pub next_sync_at: Option<String>,
}

/// Whether the network was reachable when the workspace last looked (the scheduler checks
/// before each scheduled sync and skips while offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NetworkStatusView {
    pub online: bool,
    /// Since when it has been in this state (UTC).
    pub since: String,
    /// When it was last checked (UTC); `None` before the first scheduled sync.
    pub checked_at: Option<String>,
    /// What to tell the user when offline.
    pub message: Option<String>,
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
    /// `card`, `paypal`, `bank_transfer`, `wallet`, `cash`, `other`; unknown when `null`.
    pub method: Option<String>,
    pub customer_email: Option<String>,
    /// What the payment became when the provider converted it into another currency to
    /// settle it; `null` when it settled in its own currency or the provider has not said.
    pub settled_as: Option<SettledAmount>,
}

/// A payment's amount after a currency conversion, in the settlement currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SettledAmount {
    #[ts(type = "number")]
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    pub currency_exponent: u8,
    /// The provider's exchange rate from the payment's currency to this one, as a decimal
    /// (`0.0067`), when it states one (Stripe's balance transaction does; PayPal does not).
    pub exchange_rate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentPage {
    pub items: Vec<PaymentView>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// All payments matching the filter (for the scroll height), when it was asked for: counting
    /// costs more than a page at a million rows, so only the first page of a query counts.
    #[ts(type = "number | null")]
    pub total: Option<i64>,
}

/// Money totals over a period, in one currency (never converted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MoneyTotals {
    /// Succeeded payments and their amounts.
    #[ts(type = "number")]
    pub payments: i64,
    #[ts(type = "number")]
    pub gross_minor: i64,
    /// The providers' fees.
    #[ts(type = "number")]
    pub fee_minor: i64,
    /// Succeeded or pending refunds and their amounts.
    #[ts(type = "number")]
    pub refunds: i64,
    #[ts(type = "number")]
    pub refunded_minor: i64,
    /// gross − fees − refunded.
    #[ts(type = "number")]
    pub net_minor: i64,
    /// Payouts arriving in the period (not failed or canceled) and their amounts.
    #[ts(type = "number")]
    pub payouts: i64,
    #[ts(type = "number")]
    pub payout_minor: i64,
}

/// Totals of one provider (or, in a series, one period) in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TotalsRow {
    /// The catalogue provider id; empty in a series (all providers).
    pub provider: String,
    /// The period's first day (`YYYY-MM-DD`, UTC) in a series; empty in per-provider rows.
    pub period: String,
    pub currency: String,
    pub currency_exponent: u8,
    pub totals: MoneyTotals,
}

/// What the dashboard shows for a date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DashboardView {
    /// First day included (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// First day after the range.
    pub to: String,
    /// `day` or `month`: the series' period.
    pub bucket: String,
    /// Per provider and currency over the whole range, largest gross first.
    pub by_provider: Vec<TotalsRow>,
    /// Per currency over the whole range (all providers).
    pub by_currency: Vec<TotalsRow>,
    /// Per period and currency, oldest first (the chart).
    pub series: Vec<TotalsRow>,
}

/// Which payments to list, export or count. Every field narrows; all empty means every payment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default)]
pub struct PaymentFilter {
    /// Catalogue provider id (`stripe`, `paypal`, `square`).
    pub provider: Option<String>,
    /// Connection name or id.
    pub connection: Option<String>,
    /// `succeeded`, `pending`, `failed`, `unknown`.
    pub status: Option<String>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Created on or after: an RFC 3339 time or a `YYYY-MM-DD` day (UTC).
    pub from: Option<String>,
    /// Created before: an RFC 3339 time or a `YYYY-MM-DD` day (UTC; the day is excluded).
    pub to: Option<String>,
    /// Smallest amount, a decimal in each payment's own currency (`10.50`).
    pub min_amount: Option<String>,
    /// Largest amount, a decimal in each payment's own currency.
    pub max_amount: Option<String>,
    /// Words to find in the customer, email, description or provider id (prefix match).
    pub search: Option<String>,
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
    /// Chargebacks against this payment.
    pub disputes: Vec<DisputeView>,
    /// The payout that carried this payment's money to the bank, when known.
    pub payout: Option<PayoutView>,
    /// What happened, oldest first: created → captured → refunded → disputed → paid out.
    pub timeline: Vec<TimelineEntry>,
    /// The payment in the provider's own dashboard (opened in the browser), when it has one.
    pub dashboard_url: Option<String>,
    /// The provider's object as received, pretty-printed.
    pub raw_json: String,
}

/// One step in a payment's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TimelineEntry {
    /// RFC 3339 UTC.
    pub at: String,
    /// `created`, `captured`, `failed`, `refunded`, `refund_pending`, `disputed`, `paid_out`,
    /// `available`.
    pub kind: String,
    /// What to show (“Refunded 12.50 EUR (requested by customer)”).
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DisputeView {
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub evidence_due_by: Option<String>,
    pub created_at: String,
}

/// A payout to the merchant's bank, with its reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PayoutView {
    pub id: String,
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// `pending`, `in_transit`, `paid`, `failed`, `canceled`, `unknown`.
    pub status: String,
    /// RFC 3339 UTC: expected or actual arrival.
    pub arrival_date: Option<String>,
    pub destination: Option<String>,
    pub created_at: String,
    /// Entries known for it (0 when the provider lists none, e.g. a PayPal withdrawal).
    #[ts(type = "number")]
    pub entries: i64,
    /// What its entries add up to (net), in the payout's currency.
    #[ts(type = "number")]
    pub entries_net_minor: i64,
    /// `amount − entries`, `null` when no entries are known; anything but 0 needs a look.
    #[ts(type = "number | null")]
    pub difference_minor: Option<i64>,
}

/// One line of a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PayoutEntryView {
    pub external_id: String,
    /// `charge`, `refund`, `fee`, `adjustment`, `dispute`, `payout`, `other`.
    pub kind: String,
    pub source_external_id: Option<String>,
    /// Our id of the payment it is for, when stored (the row links to its detail).
    pub payment_id: Option<String>,
    #[ts(type = "number")]
    pub gross_minor: i64,
    #[ts(type = "number")]
    pub fee_minor: i64,
    #[ts(type = "number")]
    pub net_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PayoutPage {
    pub items: Vec<PayoutView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PayoutDetail {
    pub payout: PayoutView,
    pub entries: Vec<PayoutEntryView>,
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SubscriptionView {
    pub id: String,
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    pub external_id: String,
    /// The customer's name or email when known, else the provider's customer id.
    pub customer: Option<String>,
    /// `active`, `trialing`, `past_due`, `paused`, `canceled`, `pending`, `unknown`.
    pub status: String,
    pub description: Option<String>,
    #[ts(type = "number | null")]
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub currency_exponent: Option<u8>,
    /// `day`, `week`, `month`, `year`.
    pub interval: Option<String>,
    #[ts(type = "number | null")]
    pub interval_count: Option<i64>,
    /// RFC 3339 UTC of the next charge.
    pub next_charge_at: Option<String>,
    pub cancel_at_period_end: bool,
    /// A cancel is queued in the outbox and not yet confirmed by the provider.
    pub cancel_pending: bool,
    /// Why it cannot be cancelled from here (already canceled, provider cannot), if so.
    pub cancel_blocked: Option<String>,
    pub created_at: String,
}

/// Asking a customer for money (a quote, a deposit) with a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewPaymentRequest {
    /// The connection (name or id) to ask through.
    pub connection: String,
    /// The amount as the user typed it, a decimal in `currency` (`12.50`; `1200` for JPY): Rust
    /// reads it with the currency's exponent and refuses extra decimals. Give this or
    /// `amount_minor`.
    pub amount: Option<String>,
    /// The amount in the currency's minor units (the CLI's `--amount`).
    #[ts(type = "number | null")]
    pub amount_minor: Option<i64>,
    pub currency: String,
    pub description: String,
    pub customer_email: Option<String>,
    /// When the user accepted a fallback: the connection that was unavailable (recorded).
    pub fallback_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentRequestView {
    pub id: String,
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub description: String,
    pub customer_email: Option<String>,
    /// The link: `queued`, `sending` (being made), `created` (ready, waiting for the
    /// customer), `failed` (could not be made). Then what came of it: `approved` (PayPal: the
    /// customer approved and Switchboard is capturing the money; `error` says why when that
    /// is stuck), `capture_failed` (the capture is in dead letters, waiting for Retry or
    /// Discard; `error` is its last), `capture_discarded` (a person discarded the capture:
    /// Switchboard takes nothing, and still marks it `paid` if it finds it captured, or
    /// `expired`), `paid` (the money is taken: `payment_external_id`), `expired` (it can no
    /// longer be paid: voided, or older than PayPal's 29 days; `error` says why). Stripe and
    /// Square links collect by themselves and stay `created`: their payments arrive with a
    /// sync.
    pub status: String,
    /// The link to give the customer, once created.
    pub url: Option<String>,
    /// The provider's link, order or session id.
    pub external_id: Option<String>,
    /// The payment the request became, once `paid` (PayPal: the capture id, which the
    /// payments list shows under the same id).
    pub payment_external_id: Option<String>,
    pub error: Option<String>,
    /// The connection that was unavailable when this one was used instead.
    pub fallback_from: Option<String>,
    pub outbox_item_id: String,
    pub created_at: String,
}

/// How payment requests are made, for every payment provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentRequestSettingsView {
    /// The page a customer lands on after paying (`None`: the provider's own confirmation).
    pub return_url: Option<String>,
}

/// A connection that can ask for money, and whether it can right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PaymentRequestOption {
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    /// False when its circuit breaker is open or it needs a reconnect.
    pub available: bool,
    /// Why not (“Stripe is not answering; retrying after 10:42”).
    pub unavailable_reason: Option<String>,
}

/// What a CSV export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportView {
    pub path: String,
    #[ts(type = "number")]
    pub count: i64,
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

/// A connection's circuit breaker: `closed` (requests flow), `open` (the provider failed
/// repeatedly; requests are paused until `retry_at`), `half_open` (one trial request decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }

    pub fn parse(s: &str) -> Option<CircuitState> {
        match s {
            "closed" => Some(CircuitState::Closed),
            "open" => Some(CircuitState::Open),
            "half_open" => Some(CircuitState::HalfOpen),
            _ => None,
        }
    }
}

/// The state of a connection's OAuth sign-in. API-key connections have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenState {
    NotApplicable,
    /// The app keeps it alive (refreshing ahead of expiry, and before an idle lapse).
    Valid,
    /// It lapses soon in a way the app cannot prevent (a consent that must be renewed, a
    /// refresh token's hard limit): `token_lapses_at` says when; reconnect before then.
    Expiring,
    /// The provider refused it (revoked, lapsed): the connection needs reconnecting.
    Revoked,
}

/// A connection's request budget: the limits in force and what is left of the daily one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RateBudgetView {
    /// The limits the app keeps to (the catalogue's, or the connection's override).
    pub limits: crate::catalogue::RateLimits,
    /// Whether `limits` is an override set on this connection.
    pub overridden: bool,
    /// How the daily budget resets; `null` without a daily budget.
    pub daily_reset: Option<crate::catalogue::DailyReset>,
    /// Requests counted against the daily budget; `null` without one.
    pub daily_used: Option<u32>,
    /// Requests left of the daily budget; `null` without one.
    pub daily_left: Option<u32>,
    /// When the daily count next goes down (RFC 3339 UTC); `null` when nothing is counted.
    pub daily_resets_at: Option<String>,
}

/// How a connection is doing (`switchboard health`, the connection card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionHealthView {
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    pub status: ConnectionStatus,
    /// Last sync or test that worked (RFC 3339 UTC).
    pub last_success_at: Option<String>,
    /// Last sync or test that failed, and why.
    pub last_error_at: Option<String>,
    pub last_error: Option<String>,
    pub circuit: CircuitState,
    /// Transient failures in a row (5xx, timeouts, resets) since the last success.
    pub consecutive_failures: u32,
    /// While `open`: when the breaker lets a trial request through (RFC 3339 UTC).
    pub circuit_retry_at: Option<String>,
    pub token: TokenState,
    /// When the sign-in lapses whatever the app does (RFC 3339 UTC), when that is known.
    pub token_lapses_at: Option<String>,
    pub budget: RateBudgetView,
    /// Whether a person should look at it; `reasons` says why.
    pub needs_attention: bool,
    pub reasons: Vec<String>,
}

/// Every connection's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HealthView {
    /// When this was put together (RFC 3339 UTC).
    pub checked_at: String,
    pub needs_attention: bool,
    pub connections: Vec<ConnectionHealthView>,
}

/// The outcome of "Test connection": one cheap authenticated call through the connection's
/// rate budget and circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionTestView {
    pub ok: bool,
    /// When the test ran (RFC 3339 UTC).
    pub at: String,
    #[ts(type = "number")]
    pub duration_ms: i64,
    /// Why it failed; `null` when `ok`.
    pub error: Option<crate::CommandError>,
    /// The connection's health after the test.
    pub health: ConnectionHealthView,
}

/// Input of `connect_oauth`: a browser sign-in to a provider of the catalogue. The client
/// secret of the user's own developer app goes in (when the provider needs one and no relay
/// holds it); it never comes back out.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewOAuthConnection {
    /// Catalogue key (`xero`).
    pub provider: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The provider's API base when not the catalogue's (Mautic: the customer's own URL).
    pub api_base: Option<String>,
    /// The authorize, token and revoke endpoints when not the catalogue's (the sandbox, a
    /// proxy, a regional host); authorize and token go together.
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    /// The auth relay's URL, when the secret and HTTPS redirect live there (docs/RELAY.md).
    pub relay: Option<String>,
    /// Which organisation or company file, by name or id, when the sign-in reaches several.
    pub account: Option<String>,
}

impl std::fmt::Debug for NewOAuthConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOAuthConnection")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("api_base", &self.api_base)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("revoke_url", &self.revoke_url)
            .field("relay", &self.relay)
            .field("account", &self.account)
            .finish()
    }
}

/// Input of `reconnect_connection`: sign the same connection in again.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReconnectRequest {
    pub connection_id: String,
    /// The app registration's client secret, when the provider needs one and the connection
    /// no longer has it (a disconnect forgets it); `null` to use the stored one.
    pub client_secret: Option<String>,
    /// Which organisation or company file, when the sign-in reaches several and none of them
    /// is the connection's.
    pub account: Option<String>,
    /// Go on although the user chose a different organisation or company than before.
    pub switch_account: bool,
    /// Also ask for the permissions this feature of the catalogue needs (an incremental
    /// grant, e.g. `post_to_ledger`).
    pub feature: Option<String>,
}

/// Input of `connect_with_credentials`: the provider's credentials form (the catalogue's
/// `credential_fields`, by key). Secrets go in; they never come back out.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewCredentialConnection {
    /// Catalogue key (`twilio`).
    pub provider: String,
    pub name: String,
    /// The API base when not the provider's (the sandbox, a proxy, a regional host).
    pub api_base: Option<String>,
    pub values: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for NewCredentialConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredentialConnection")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("api_base", &self.api_base)
            .field("values", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Input of `reconnect_with_credentials`: new credentials for a connection made with the
/// credentials form (the catalogue's `credential_fields`, by key), kept on the same row.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CredentialReconnect {
    pub connection_id: String,
    pub values: std::collections::BTreeMap<String, String>,
    /// Go on although the credentials reach a different account than the connection's.
    pub switch_account: bool,
}

impl std::fmt::Debug for CredentialReconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialReconnect")
            .field("connection_id", &self.connection_id)
            .field("values", &self.values.keys().collect::<Vec<_>>())
            .field("switch_account", &self.switch_account)
            .finish()
    }
}

/// Input of `reconnect_with_key`: a key connection's new key (rolled or replaced at the
/// provider). The key goes in; it never comes back out.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KeyReconnect {
    pub connection_id: String,
    pub api_key: String,
    /// Go on although the key reaches a different account than the connection's.
    pub switch_account: bool,
}

impl std::fmt::Debug for KeyReconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyReconnect")
            .field("connection_id", &self.connection_id)
            .field("api_key", &"[redacted]")
            .field("switch_account", &self.switch_account)
            .finish()
    }
}

impl std::fmt::Debug for ReconnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectRequest")
            .field("connection_id", &self.connection_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("account", &self.account)
            .field("switch_account", &self.switch_account)
            .field("feature", &self.feature)
            .finish()
    }
}

/// What the app is configured with for a provider's sign-in (the distributor's built-in
/// client id, or the user's, from `SWITCHBOARD_<PROVIDER>_CLIENT_ID`; a relay from
/// `SWITCHBOARD_<PROVIDER>_RELAY`), so the connect dialog can fill them in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OAuthDefaults {
    pub client_id: Option<String>,
    pub relay: Option<String>,
}

/// What "Disconnect" did: the connection keeps its data, forgets its secrets, and, where the
/// provider offers it, its access was revoked there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DisconnectView {
    pub connection: ConnectionView,
    pub revoked: RevocationOutcome,
    /// One sentence for the user: what happened at the provider and what, if anything, is
    /// left for them to do there.
    pub message: String,
}

/// Whether the provider was told to end Switchboard's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RevocationOutcome {
    /// The provider revoked the grant.
    Revoked,
    /// The provider offers no revocation (an API key, MYOB, Mautic): the user ends it there.
    NotOffered,
    /// Revocation was tried and failed (offline, refused); the local secrets are gone anyway.
    Failed,
}

/// Rows in one table of a database (a backup's summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TableCount {
    pub table: String,
    #[ts(type = "number")]
    pub rows: i64,
}

/// One backup in the backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackupView {
    /// `YYYYMMDDTHHMMSSZ-xxxxxx` (UTC creation time, then random hex).
    pub id: String,
    /// `manual`, or `pre_restore` (the database as it was just before a restore; never deleted
    /// automatically).
    pub kind: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The backup's database file.
    pub path: String,
    #[ts(type = "number")]
    pub size_bytes: u64,
    pub workspace_uuid: Option<String>,
    /// Whether it is a backup of the open workspace (else restoring it needs that workspace's
    /// master key).
    pub this_workspace: bool,
    #[ts(type = "number")]
    pub schema_version: i64,
    /// Rows per table when it was made.
    pub counts: Vec<TableCount>,
    /// The last verification (at creation, then by "Verify"): when, and whether it passed.
    pub verified_at: Option<String>,
    pub verified_ok: Option<bool>,
    /// What the last verification found wrong.
    pub problem: Option<String>,
}

/// Where backups go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackupSettingsView {
    pub folder: String,
    /// `<workspace folder>/backups`.
    pub default_folder: String,
    pub is_default: bool,
    /// The retention rule, in words.
    pub retention: String,
}

/// What checking a backup found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackupVerification {
    pub backup: BackupView,
    pub ok: bool,
    /// SQLite's `integrity_check`: `ok`, or its first problems.
    pub integrity: String,
    /// The file still has the checksum recorded when it was made.
    pub checksum_ok: bool,
    /// Rows per table now (compared with the counts recorded at creation).
    pub counts: Vec<TableCount>,
    pub problems: Vec<String>,
}

/// The outcome of a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RestoreView {
    pub restored: BackupView,
    /// The database as it was before the restore, kept as a backup; `null` when there was none
    /// (a new machine).
    pub safety_backup: Option<BackupView>,
    /// Where the unreadable database was moved, when it could not be backed up through SQLite.
    pub moved_aside: Option<String>,
    /// Rows per table of the workspace now.
    pub counts: Vec<TableCount>,
}

/// Where an exported master key was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KeyExportView {
    pub path: String,
    pub workspace_uuid: String,
}

/// One item of the outbox: something Switchboard sends to a provider (a refund now), written
/// down before it is sent and retried until it succeeds or becomes a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxItemView {
    pub id: String,
    pub connection_id: String,
    pub connection: String,
    /// `stripe.refund`, …
    pub kind: String,
    /// What it does, for people: "Refund 12.34 EUR of ch_…".
    pub summary: String,
    /// External id of the object it acts on (the payment `ch_…`).
    pub target: Option<String>,
    /// Our id of that payment, when it is stored (to open it).
    pub payment_id: Option<String>,
    #[ts(type = "number | null")]
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub currency_exponent: Option<u8>,
    pub reason: Option<String>,
    /// `queued`, `sending`, `succeeded`, `dead` or `discarded`.
    pub status: String,
    /// True once it cannot change any more by itself (`succeeded`, `dead`, `discarded`).
    pub is_final: bool,
    #[ts(type = "number")]
    pub attempts: i64,
    /// Failures before an item becomes a dead letter.
    #[ts(type = "number")]
    pub max_attempts: i64,
    /// When it is tried next (queued items).
    pub next_attempt_at: Option<String>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    /// What the provider created (`re_…`).
    pub result_external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a payment can still be refunded, from stored data and refunds not yet sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RefundQuoteView {
    pub payment_id: String,
    pub external_id: String,
    #[ts(type = "number")]
    pub amount_minor: i64,
    #[ts(type = "number")]
    pub refunded_minor: i64,
    /// Refunds queued in the outbox and not yet sent.
    #[ts(type = "number")]
    pub pending_minor: i64,
    /// Still refundable: amount − refunded − pending.
    #[ts(type = "number")]
    pub refundable_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// Why it cannot be refunded (failed, fully refunded, provider cannot), when it cannot.
    pub blocked_reason: Option<String>,
    /// Reasons the provider accepts (`duplicate`, `fraudulent`, `requested_by_customer`).
    pub reasons: Vec<String>,
}

/// Input of `refund_payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewRefund {
    /// Our payment id, or the provider's (`ch_…`).
    pub payment: String,
    /// In the payment's minor units (`currency_exponent` decimals); everything still
    /// refundable when `null`.
    #[ts(type = "number | null")]
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxRunView {
    /// Items sent (or looked up) in this pass.
    #[ts(type = "number")]
    pub processed: i64,
    #[ts(type = "number")]
    pub succeeded: i64,
    /// Failed and scheduled again.
    #[ts(type = "number")]
    pub retrying: i64,
    /// Became dead letters.
    #[ts(type = "number")]
    pub dead: i64,
    /// Reconciled by a look-up at the provider, without a resend.
    #[ts(type = "number")]
    pub found_by_lookup: i64,
}

/// Settings → Webhooks: the local receiver's settings and state, and each connection that
/// can send events. Never holds a secret: only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WebhookSettingsView {
    /// Whether the app should run the receiver (off by default).
    pub enabled: bool,
    /// The port on 127.0.0.1 the receiver listens on (or would).
    pub port: u16,
    /// Whether it is listening now.
    pub running: bool,
    /// `127.0.0.1:PORT` while it listens.
    pub listening_on: Option<String>,
    /// Why it is not listening although enabled (the port is in use, …).
    pub error: Option<String>,
    /// Stripe, Square and PayPal connections (not disconnected ones), in the order they were
    /// added.
    pub connections: Vec<WebhookConnectionView>,
}

/// One connection's webhook set-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WebhookConnectionView {
    pub connection_id: String,
    /// The connection's name.
    pub connection: String,
    /// Provider key (`stripe`, `square`, `paypal`).
    pub provider: String,
    pub provider_name: String,
    /// The local address the tunnel or relay forwards to:
    /// `http://127.0.0.1:PORT/webhooks/<connection id>`.
    pub endpoint_url: String,
    /// Whether a signing secret (Stripe) or signature key (Square) is set.
    pub has_secret: bool,
    /// Whether the secret it replaced is still accepted (a rotation in progress).
    pub has_previous_secret: bool,
    /// Square: the notification URL registered with Square, which its signature covers.
    pub notification_url: Option<String>,
    /// PayPal: the id of the webhook registered in the PayPal app (not a secret), which
    /// PayPal's signature check needs; `None` until set.
    pub webhook_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WebhookEventOutcome {
    /// Verified and new: it asked for a sync.
    Accepted,
    /// Refused (bad signature, expired, replay, …): see the reason.
    Rejected,
}

/// A webhook event the receiver got (never its body or headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WebhookEventView {
    pub id: String,
    /// When it arrived (RFC 3339 UTC).
    pub received_at: String,
    pub connection_id: String,
    /// The connection's name.
    pub connection: String,
    pub provider: String,
    /// The provider's event id, once its signature was verified.
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub outcome: WebhookEventOutcome,
    /// Why it was rejected, or a note on an accepted one (verified with the previous secret).
    pub reason: Option<String>,
}
