//! Provider adapters, one module each, behind small capability traits. An adapter speaks the
//! provider's real API (paths, parameters, auth, pagination, error bodies) and turns answers
//! into the normalised records of `switchboard_core::records`. It does not touch the database.

pub mod breaker;
pub mod credentials;
pub mod error;
pub mod http;
pub mod limiter;
pub mod oauth;
pub mod paypal;
pub mod square;
pub mod stripe;
pub mod webhooks;

pub use error::{ProviderError, ProviderErrorKind};

use async_trait::async_trait;
use switchboard_core::records::{
    BalanceTransactionRecord, CustomerRecord, DisputeRecord, PaymentRecord, PayoutEntryRecord,
    PayoutRecord, RefundRecord, SubscriptionRecord,
};

/// One normalised object from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Payment(PaymentRecord),
    Refund(RefundRecord),
    BalanceTransaction(BalanceTransactionRecord),
    Dispute(DisputeRecord),
    Payout(PayoutRecord),
    PayoutEntry(PayoutEntryRecord),
    Customer(CustomerRecord),
    Subscription(SubscriptionRecord),
}

impl Record {
    /// The provider's id of the object.
    pub fn external_id(&self) -> &str {
        match self {
            Record::Payment(p) => &p.external_id,
            Record::Refund(r) => &r.external_id,
            Record::BalanceTransaction(b) => &b.external_id,
            Record::Dispute(d) => &d.external_id,
            Record::Payout(p) => &p.external_id,
            Record::PayoutEntry(e) => &e.external_id,
            Record::Customer(c) => &c.external_id,
            Record::Subscription(s) => &s.external_id,
        }
    }

    /// When the provider created the object (unix seconds).
    pub fn created(&self) -> i64 {
        match self {
            Record::Payment(p) => p.created,
            Record::Refund(r) => r.created,
            Record::BalanceTransaction(b) => b.created,
            Record::Dispute(d) => d.created,
            Record::Payout(p) => p.created,
            Record::PayoutEntry(e) => e.created,
            Record::Customer(c) => c.created,
            Record::Subscription(s) => s.created,
        }
    }
}

/// Where a page starts: objects created at or after `created_gte`, continuing after
/// `starting_after`. What `starting_after` holds is the adapter's own continuation: Stripe's
/// last object id, Square's opaque `cursor`, PayPal's search window and page number. The engine
/// stores it as the stream's checkpoint and hands it back unchanged, so it must let the adapter
/// resume after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub created_gte: Option<i64>,
    pub starting_after: Option<String>,
}

/// An object the adapter could not use: kept out of the store, counted as failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub external_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<Record>,
    pub rejected: Vec<Rejected>,
    /// Things worth telling the user that did not stop the record (an unknown status value).
    pub warnings: Vec<String>,
    /// Objects the provider returned (usable or not).
    pub fetched: usize,
    /// The continuation of the next page (its `starting_after`): Stripe's last object id,
    /// Square's cursor, PayPal's window and page.
    pub last_id: Option<String>,
    /// Largest `created` on the page.
    pub max_created: Option<i64>,
    pub has_more: bool,
    /// The provider's request id, for support.
    pub request_id: Option<String>,
}

/// The lookback of a stream that does not say otherwise: one hour.
pub const DEFAULT_LOOKBACK_SECS: i64 = 60 * 60;

/// Capability: pull payments and what belongs to them, stream by stream, page by page.
#[async_trait]
pub trait PullPayments: Send + Sync {
    /// Stream names this adapter syncs, in the order they should run.
    fn streams(&self) -> &'static [&'static str];

    /// One page of `stream`.
    async fn fetch_page(&self, stream: &str, request: &PageRequest) -> Result<Page, ProviderError>;

    /// How far before the newest object seen an incremental run of `stream` starts again, so
    /// objects that appear late, or change after they were first seen (a payout's status
    /// until it arrives), are read again.
    fn lookback_secs(&self, _stream: &str) -> i64 {
        DEFAULT_LOOKBACK_SECS
    }

    /// One cheap authenticated call that proves the credentials work.
    async fn verify(&self) -> Result<(), ProviderError>;
}

/// The metadata key under which a write carries our outbox item id, so the object can be found
/// again at the provider when the outcome of a send is uncertain.
pub const OUTBOX_METADATA_KEY: &str = "switchboard_outbox_id";

/// A refund to create. Amounts are in our minor units (`currency_exponent` decimals); the
/// adapter converts them to the provider's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The payment (Stripe charge `ch_…`) to refund.
    pub payment_external_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    pub reason: Option<String>,
    /// Made once when the refund was queued; the same on every send.
    pub idempotency_key: String,
    /// Our outbox item id, stored with the refund (metadata) to look it up.
    pub outbox_id: String,
}

/// A refund the provider holds, with its payment as it is after the refund when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRefund {
    pub refund: RefundRecord,
    pub payment: Option<PaymentRecord>,
    pub request_id: Option<String>,
}

/// Capability: create refunds, and find one again when a send's outcome is uncertain.
#[async_trait]
pub trait IssueRefunds: Send + Sync {
    /// Creates the refund, sending `request.idempotency_key` so a resend never refunds twice.
    async fn create_refund(&self, request: &RefundRequest) -> Result<IssuedRefund, ProviderError>;

    /// The refund of `payment_external_id` created for outbox item `outbox_id`, if any.
    async fn find_refund(
        &self,
        payment_external_id: &str,
        outbox_id: &str,
    ) -> Result<Option<IssuedRefund>, ProviderError>;
}

/// A request for money (a quote, a deposit): a hosted payment page the customer opens.
/// Amounts are in our minor units; the adapter converts them to the provider's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLinkRequest {
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub description: String,
    pub customer_email: Option<String>,
    /// The business's page the customer is sent to after paying (Stripe Checkout's
    /// `success_url`, PayPal's `experience_context.return_url`, Square's
    /// `checkout_options.redirect_url`); `None`: the provider's own confirmation. Fixed when
    /// the request was queued, so every send of it is the same request.
    pub return_url: Option<String>,
    /// Made once when the request was queued; the same on every send.
    pub idempotency_key: String,
    /// Our outbox item id, stored with the link (metadata, reference id) to find it again.
    pub outbox_id: String,
}

/// A payment link the provider made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    /// Stripe `plink_…`/`cs_…`, PayPal order id, Square payment link id.
    pub external_id: String,
    /// The address to give the customer.
    pub url: String,
    pub raw_json: String,
    pub request_id: Option<String>,
}

/// Where a payment link stands at the provider: what a follow-up found, or what completing it
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProgress {
    /// The link takes the money by itself when the customer pays (Stripe, Square): there is
    /// nothing to follow up; its payment arrives with a sync.
    CollectsItself,
    /// Waiting for the customer; `status` is the provider's (`CREATED`,
    /// `PAYER_ACTION_REQUIRED`).
    Open { status: String },
    /// The customer approved; completing it (PayPal: capturing the order) takes the money.
    Approved,
    /// The money is taken (or on its way: a pending capture), as this payment.
    Paid(Box<PaymentRecord>),
    /// It can no longer be paid (voided, expired, unknown to the provider), and why.
    Expired { reason: String },
}

/// Capability: ask a customer for money with a link.
#[async_trait]
pub trait RequestPayments: Send + Sync {
    /// Creates the link, sending `request.idempotency_key` so a resend never makes two.
    async fn create_payment_link(
        &self,
        request: &PaymentLinkRequest,
    ) -> Result<PaymentLink, ProviderError>;

    /// The link created for outbox item `outbox_id`, if any (an uncertain send's look-up).
    async fn find_payment_link(
        &self,
        outbox_id: &str,
    ) -> Result<Option<PaymentLink>, ProviderError>;

    /// Where link `external_id` stands (one read, nothing changed). Links that collect by
    /// themselves (the default) need no look-up.
    async fn link_progress(&self, _external_id: &str) -> Result<LinkProgress, ProviderError> {
        Ok(LinkProgress::CollectsItself)
    }

    /// Takes the money of an approved link (PayPal: captures the order), sending
    /// `idempotency_key` so a resend never takes it twice; a link already completed answers
    /// with its payment. A no-op for links that collect by themselves (the default).
    async fn complete_link(
        &self,
        _external_id: &str,
        _idempotency_key: &str,
    ) -> Result<LinkProgress, ProviderError> {
        Ok(LinkProgress::CollectsItself)
    }
}

/// Capability: end a subscription when its current period ends.
#[async_trait]
pub trait ManageSubscriptions: Send + Sync {
    /// Asks the provider to stop charging after the current period (Stripe
    /// `cancel_at_period_end`, Square cancel, PayPal cancel) and returns the subscription as it
    /// is then. Doing it twice is harmless, so it is safe to resend.
    async fn cancel_at_period_end(
        &self,
        subscription_external_id: &str,
        idempotency_key: &str,
    ) -> Result<SubscriptionRecord, ProviderError>;
}
