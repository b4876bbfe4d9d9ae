//! A fake of Stripe's REST API (version 2023-08-16) for charges, refunds, balance transactions,
//! disputes, payouts, customers, subscriptions, events and Checkout Sessions, served from seeded
//! data.
//!
//! Faithful to Stripe where an adapter can tell the difference, and checked against the official
//! spec (`shared/specs/stripe.json`) by `tests/stripe_spec.rs` and `tests/stripe_more.rs`:
//! - `GET /v1/charges[/{id}]`, `GET /v1/refunds[/{id}]`, `GET /v1/balance_transactions[/{id}]`;
//!   every object carries every field the spec lists as required, with the spec's types.
//! - `GET /v1/disputes`, `/v1/payouts`, `/v1/customers`, `/v1/subscriptions` (each also by id;
//!   `stripe_objects.rs`), `GET /v1/events[/{id}]` with the events the fake's changes emit
//!   (`stripe_events.rs`), `GET /v1/checkout/sessions[/{session}]`.
//! - `POST /v1/refunds` (`stripe_refunds.rs`), `POST /v1/subscriptions/{id}` and
//!   `POST /v1/checkout/sessions` (`stripe_billing.rs`), with `Idempotency-Key` semantics.
//! - Auth as Stripe does it: `Authorization: Bearer <key>` or HTTP Basic with the key as user.
//!   A missing or wrong key gets Stripe's 401 body (the key masked as Stripe masks it).
//! - Lists: newest first (`created` descending, ties by id descending), `limit` 1..=100 (default
//!   10), `starting_after`/`ending_before` object-id cursors, `has_more`, `url`,
//!   `created`/`created[gt|gte|lt|lte]`, the per-list filters of the spec (`customer`,
//!   `payment_intent`, `charge`, `type`, `payout`, `source`, `currency`, `status`, `email`,
//!   `types[]`, `arrival_date[…]`, …), `expand[]` for `balance_transaction` (charges, refunds)
//!   and `charge` (refunds).
//! - Errors in Stripe's shape (`{"error":{"type","message","param","code","doc_url"}}`):
//!   unknown parameter, invalid integer, limit out of range, both cursors, unknown ids (404
//!   `resource_missing`), unknown URL. Every response has a `Request-Id: req_…` header and the
//!   `Stripe-Version` it was rendered for.
//!
//! Deliberate simplifications: all payment methods are cards; the account settles USD, EUR and
//! GBP as they are and converts JPY, KWD and ISK to USD (so those balance transactions carry an
//! `exchange_rate`); fees are Stripe's published standard rates; refunds carry no fee; charge
//! balance transactions become available two days after midnight UTC of their day and daily
//! automatic payouts (with their own `payout` balance transactions) sweep what became available
//! (`SWITCHBOARD_SANDBOX_STRIPE_PAYOUTS=off` leaves them out); `expand` of anything else
//! answers 400 even where
//! real Stripe could expand it; `Stripe-Version` request headers are accepted but answers
//! always have the 2023-08-16 shape. Where the spec and Stripe's behaviour leave room, the spec
//! wins: the 429 body uses `type: "invalid_request_error"` with `code: "rate_limit"` (the spec's
//! `api_errors.type` enum has no rate-limit type), and charges omit the `refunds` sub-list, as
//! Stripe has since 2022-11-15 unless it is expanded.
//!
//! Seeded data is a pure function of the seed (see [`crate::seed`]); [`StripeControl`] adds
//! objects and injects faults for tests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::faults::{FaultConfig, FaultCounts, FaultKind, RandomFaults, ResetBody};
use crate::seed::{self, PRODUCTS, Person, SeedRng};

#[path = "stripe_refunds.rs"]
mod refunds;
pub use refunds::{CREATE_REFUND_ROUTE, PostFault};
#[path = "stripe_objects.rs"]
mod objects;
pub use objects::{AUTOMATIC_PAYOUTS_ENV, DisputeStatus, PayoutStatus};
#[path = "stripe_events.rs"]
mod events;
pub use events::EVENT_RETENTION_SECS;
#[path = "stripe_billing.rs"]
mod billing;
pub use billing::{CREATE_CHECKOUT_SESSION_ROUTE, UPDATE_SUBSCRIPTION_ROUTE};

/// The API version whose shapes this fake serves (the version of `shared/specs/stripe.json`).
pub const API_VERSION: &str = "2023-08-16";

const DAY: i64 = 86_400;

/// A fault to answer instead of the real response ([`StripeControl::fail_next`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 with Stripe's rate-limit body (`code: "rate_limit"`) and no `Retry-After` header.
    RateLimited,
    /// 500 with an `api_error` body.
    ServerError,
    /// 200 `application/json` whose body is cut off half-way.
    TruncatedJson,
    /// 200 `text/html` (what a captive portal or misrouted proxy answers).
    NotJson,
}

/// A corruption of one item of the next list page ([`StripeControl::corrupt_next_list_item`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// `"status": "teleported"`, a value outside the documented enum.
    UnknownStatus,
    /// The required `amount` field is dropped.
    MissingAmount,
}

/// What the fake has answered so far ([`StripeControl::counters`]). Covers the list/retrieve
/// endpoints (the requests [`StripeControl::request_count`] counts), whatever their answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests per route: `/v1/charges`, `/v1/charges/{id}`, `/v1/refunds`, …
    pub by_path: BTreeMap<String, usize>,
    /// Requests per status sent, injected faults included; a connection reset mid-body counts
    /// as status 0 (the client never gets a whole answer).
    pub by_status: BTreeMap<u16, usize>,
    /// Random faults injected, per kind (deterministic [`StripeControl::fail_next`] faults are
    /// not in here, only in `by_status`).
    pub faults_injected: FaultCounts,
}

impl Counters {
    /// Requests counted (the sum over `by_path`, equal to the sum over `by_status`).
    pub fn requests(&self) -> usize {
        self.by_path.values().sum()
    }

    /// Requests answered with `status` (0: reset mid-body).
    pub fn status(&self, status: u16) -> usize {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Requests to the route `path` (e.g. `/v1/charges`).
    pub fn path(&self, path: &str) -> usize {
        self.by_path.get(path).copied().unwrap_or(0)
    }
}

/// Counts of the objects the fake currently holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectCounts {
    pub charges: usize,
    pub refunds: usize,
    pub balance_transactions: usize,
    pub disputes: usize,
    pub payouts: usize,
    pub customers: usize,
    pub subscriptions: usize,
    /// Events still within Stripe's retention.
    pub events: usize,
}

// ---------------------------------------------------------------------------------------------
// Currencies

/// Stripe's exponent of a currency's amounts: zero-decimal (JPY…), three-decimal (KWD…), else
/// two. ISK is a Stripe special case: zero-decimal in reality but sent in hundredths (so 2 here),
/// with amounts divisible by 100.
pub fn currency_exponent(code: &str) -> u32 {
    match code {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx"
        | "vnd" | "vuv" | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

/// How the seeded account handles a presentment currency.
struct CurrencyPlan {
    code: &'static str,
    weight: u32,
    /// Amount range in minor units (before ISK's ×100).
    min: i64,
    max: i64,
    /// Settled in this currency; `rate` converts one major unit of `code` into it.
    settle: &'static str,
    rate: f64,
    countries: &'static [&'static str],
}

const PLANS: &[CurrencyPlan] = &[
    CurrencyPlan {
        code: "usd",
        weight: 42,
        min: 500,
        max: 60_000,
        settle: "usd",
        rate: 1.0,
        countries: &["US"],
    },
    CurrencyPlan {
        code: "eur",
        weight: 25,
        min: 500,
        max: 40_000,
        settle: "eur",
        rate: 1.0,
        countries: &["DE", "FR", "NL", "IE", "ES", "IT"],
    },
    CurrencyPlan {
        code: "gbp",
        weight: 15,
        min: 400,
        max: 30_000,
        settle: "gbp",
        rate: 1.0,
        countries: &["GB"],
    },
    CurrencyPlan {
        code: "jpy",
        weight: 10,
        min: 500,
        max: 80_000,
        settle: "usd",
        rate: 0.0067,
        countries: &["JP"],
    },
    CurrencyPlan {
        code: "kwd",
        weight: 5,
        min: 1_500,
        max: 150_000,
        settle: "usd",
        rate: 3.25,
        countries: &["KW"],
    },
    // ISK: whole krónur 1,000..60,000, sent in hundredths.
    CurrencyPlan {
        code: "isk",
        weight: 3,
        min: 1_000,
        max: 60_000,
        settle: "usd",
        rate: 0.0072,
        countries: &["IS"],
    },
];

fn plan(code: &str) -> Option<&'static CurrencyPlan> {
    PLANS.iter().find(|p| p.code == code)
}

/// Stripe's standard fee, in minor units of the settlement currency.
fn stripe_fee(settled: i64, settle: &str, converted: bool) -> i64 {
    let pct = |p: f64| (settled as f64 * p).round() as i64;
    let fee = match settle {
        "eur" => pct(0.015) + 25,
        "gbp" => pct(0.015) + 20,
        _ => pct(0.029) + 30,
    };
    fee + if converted { pct(0.01) } else { 0 }
}

/// Convert minor units of `from` into minor units of `to` at `rate` (major to major).
fn convert(amount: i64, from: &str, to: &str, rate: f64) -> i64 {
    let major = amount as f64 / 10f64.powi(currency_exponent(from) as i32);
    (major * rate * 10f64.powi(currency_exponent(to) as i32)).round() as i64
}

const CITIES: &[(&str, &[&str])] = &[
    ("US", &["Portland", "Austin", "Chicago", "Denver"]),
    ("DE", &["Berlin", "Hamburg", "München"]),
    ("FR", &["Paris", "Lyon"]),
    ("NL", &["Amsterdam", "Utrecht"]),
    ("IE", &["Dublin", "Cork"]),
    ("ES", &["Madrid", "Valencia"]),
    ("IT", &["Milano", "Torino"]),
    ("GB", &["London", "Leeds", "Bristol"]),
    ("JP", &["Tokyo", "Osaka", "Kyoto"]),
    ("KW", &["Kuwait City", "Hawalli"]),
    ("IS", &["Reykjavík", "Akureyri"]),
];

const STREETS: &[&str] = &[
    "Main St",
    "Market St",
    "High Street",
    "Hauptstraße",
    "Rue de la Paix",
    "Chuo-dori",
];

// ---------------------------------------------------------------------------------------------
// Objects (compact; rendered to JSON only when served)

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    GenericDecline,
    InsufficientFunds,
    ExpiredCard,
    IncorrectCvc,
    Blocked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChargeStatus {
    Succeeded,
    Pending,
    Failed(Failure),
}

#[derive(Clone, Debug)]
pub(crate) struct Card {
    brand: &'static str,
    last4: String,
    exp_month: u8,
    exp_year: u16,
    funding: &'static str,
    fingerprint: String,
    postal_check: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Charge {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: ChargeStatus,
    pub(crate) amount_refunded: i64,
    pub(crate) customer: Option<u32>,
    payer: Person,
    country: &'static str,
    street_no: u16,
    postal_code: String,
    pub(crate) description: Option<String>,
    order_no: Option<u32>,
    receipt_email: bool,
    card: Card,
    payment_intent: String,
    payment_method: String,
    pub(crate) balance_transaction: Option<String>,
    risk_score: u8,
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) charge: String,
    payment_intent: String,
    reason: Option<&'static str>,
    status: &'static str,
    pub(crate) balance_transaction: Option<String>,
    /// Set by `POST /v1/refunds` (seeded refunds have none).
    metadata: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BtType {
    Charge,
    Refund,
    Payout,
}

impl BtType {
    fn as_str(self) -> &'static str {
        match self {
            BtType::Charge => "charge",
            BtType::Refund => "refund",
            BtType::Payout => "payout",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct BalanceTx {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    pub(crate) fee: i64,
    pub(crate) net: i64,
    pub(crate) available_on: i64,
    available: bool,
    pub(crate) exchange_rate: Option<f64>,
    pub(crate) source: String,
    pub(crate) kind: BtType,
    description: Option<String>,
    pub(crate) payout: Option<String>,
}

#[derive(Clone, Debug)]
struct Customer {
    id: String,
    person: Person,
    country: &'static str,
}

pub(crate) trait Row {
    fn id(&self) -> &str;
    fn created(&self) -> i64;
}

macro_rules! row {
    ($t:ty) => {
        impl Row for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn created(&self) -> i64 {
                self.created
            }
        }
    };
}
row!(Charge);
row!(Refund);
row!(BalanceTx);

/// Rows kept in list order (newest first, ties by id descending) with an id index: cursors and
/// `created` bounds are binary searches, a page costs O(log n + limit) without filters.
pub(crate) struct Table<T> {
    rows: Vec<T>,
    created_by_id: HashMap<String, i64>,
}

pub(crate) struct Page<'a, T> {
    pub(crate) items: Vec<&'a T>,
    pub(crate) has_more: bool,
}

impl<T: Row> Table<T> {
    fn new(mut rows: Vec<T>) -> Table<T> {
        rows.sort_unstable_by(|a, b| (b.created(), b.id()).cmp(&(a.created(), a.id())));
        let created_by_id = rows
            .iter()
            .map(|r| (r.id().to_string(), r.created()))
            .collect();
        Table {
            rows,
            created_by_id,
        }
    }

    fn position(&self, created: i64, id: &str) -> usize {
        self.rows
            .partition_point(|r| (r.created(), r.id()) > (created, id))
    }

    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        let created = *self.created_by_id.get(id)?;
        self.rows.get(self.position(created, id))
    }

    fn insert(&mut self, row: T) {
        let p = self.position(row.created(), row.id());
        self.created_by_id
            .insert(row.id().to_string(), row.created());
        self.rows.insert(p, row);
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.iter()
    }

    /// One list page. `Err(param)` when a cursor names no object of this table.
    fn page(&self, q: &ListParams, keep: impl Fn(&T) -> bool) -> Result<Page<'_, T>, &'static str> {
        let lo = self.rows.partition_point(|r| r.created() > q.max_created);
        let hi = self
            .rows
            .partition_point(|r| r.created() >= q.min_created)
            .max(lo);
        let cursor = |id: &str, param: &'static str| {
            let created = self.created_by_id.get(id).ok_or(param)?;
            Ok::<usize, &'static str>(self.position(*created, id))
        };
        let (mut items, backwards) = if let Some(after) = &q.starting_after {
            let from = (cursor(after, "starting_after")? + 1).max(lo);
            let upto = hi.max(from);
            (
                self.rows[from..upto]
                    .iter()
                    .filter(|r| keep(r))
                    .take(q.limit + 1)
                    .collect::<Vec<_>>(),
                false,
            )
        } else if let Some(before) = &q.ending_before {
            let upto = cursor(before, "ending_before")?.min(hi).max(lo);
            (
                self.rows[lo..upto]
                    .iter()
                    .rev()
                    .filter(|r| keep(r))
                    .take(q.limit + 1)
                    .collect(),
                true,
            )
        } else {
            (
                self.rows[lo..hi]
                    .iter()
                    .filter(|r| keep(r))
                    .take(q.limit + 1)
                    .collect(),
                false,
            )
        };
        let has_more = items.len() > q.limit;
        items.truncate(q.limit);
        if backwards {
            items.reverse();
        }
        Ok(Page { items, has_more })
    }
}

// ---------------------------------------------------------------------------------------------
// The seeded data set

pub(crate) struct StripeData {
    pub(crate) reference: i64,
    pub(crate) charges: Table<Charge>,
    pub(crate) refunds: Table<Refund>,
    pub(crate) bts: Table<BalanceTx>,
    customers: Vec<Customer>,
    customer_index: HashMap<String, u32>,
    rng: SeedRng,
    /// Disputes, payouts, customers' list rows, subscriptions, Checkout Sessions and events
    /// (`stripe_objects.rs`, `stripe_events.rs`, `stripe_billing.rs`).
    pub(crate) more: objects::More,
}

/// Descriptions of the two charges every seeded set has, newest of all.
pub const DEMO_JPY_DESCRIPTION: &str = "Demo: Tokyo workshop deposit";
pub const DEMO_EUR_DESCRIPTION: &str = "Demo: Berlin coffee beans";

/// What a new charge looks like; everything else is drawn from the rng.
struct ChargeSpec<'a> {
    created: i64,
    amount: i64,
    currency: &'a str,
    status: ChargeStatus,
    customer: Option<u32>,
    description: Option<String>,
    /// The instant "now" for the balance transaction's status.
    now: i64,
}

impl StripeData {
    pub(crate) fn generate(seed: u64, charges: usize) -> StripeData {
        let reference = seed::reference_time(seed);
        let mut rng = SeedRng::derive(seed, "stripe.data");
        let weights: Vec<(&CurrencyPlan, u32)> = PLANS.iter().map(|p| (p, p.weight)).collect();
        let customers: Vec<Customer> = (0..(charges / 6).clamp(20, 5_000))
            .map(|_| {
                let id = format!("cus_{}", rng.base62(14));
                let plan = rng.weighted(&weights);
                Customer {
                    id,
                    person: Person::random(&mut rng),
                    country: rng.pick(plan.countries),
                }
            })
            .collect();
        let customer_index = customers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i as u32))
            .collect();
        let mut data = StripeData {
            reference,
            charges: Table::new(Vec::new()),
            refunds: Table::new(Vec::new()),
            bts: Table::new(Vec::new()),
            customers,
            customer_index,
            rng,
            more: objects::More::empty(seed),
        };

        let mut charge_rows = Vec::with_capacity(charges.max(2));
        let mut bt_rows = Vec::with_capacity(charges + charges / 5);
        let regular = charges.saturating_sub(2);
        for _ in 0..regular {
            let rng = &mut data.rng;
            let plan = rng.weighted(&weights);
            let created = rng.range(reference - 180 * DAY, reference - 3600);
            let mut amount = rng.log_uniform(plan.min, plan.max);
            if rng.chance(0.4) {
                // Round prices are common: whole units (or 10s for zero-decimal currencies).
                let unit = 10i64.pow(currency_exponent(plan.code)).max(10);
                amount = (amount / unit).max(1) * unit;
            }
            if plan.code == "isk" {
                amount *= 100;
            }
            let mut status = rng.weighted(&[
                (ChargeStatus::Succeeded, 900),
                (ChargeStatus::Failed(Failure::GenericDecline), 35),
                (ChargeStatus::Failed(Failure::InsufficientFunds), 18),
                (ChargeStatus::Failed(Failure::ExpiredCard), 7),
                (ChargeStatus::Failed(Failure::IncorrectCvc), 3),
                (ChargeStatus::Failed(Failure::Blocked), 7),
                (ChargeStatus::Pending, 30),
            ]);
            if status == ChargeStatus::Pending && created < reference - 4 * DAY {
                status = ChargeStatus::Succeeded; // old charges have long settled
            }
            let customer = rng
                .chance(0.6)
                .then(|| rng.below(data.customers.len() as u64) as u32);
            let description = rng.chance(0.9).then(|| {
                let product = rng.pick(PRODUCTS);
                format!("{product} — order #{}", rng.range(1000, 99_999))
            });
            let spec = ChargeSpec {
                created,
                amount,
                currency: plan.code,
                status,
                customer,
                description,
                now: reference,
            };
            let (charge, bt) = data.make_charge(spec);
            charge_rows.push(charge);
            bt_rows.extend(bt);
        }
        // The two known demo charges, newest of the seeded set.
        for (amount, currency, description, age) in [
            (1234, "jpy", DEMO_JPY_DESCRIPTION, 60),
            (1234, "eur", DEMO_EUR_DESCRIPTION, 120),
        ] {
            let spec = ChargeSpec {
                created: reference - age,
                amount,
                currency,
                status: ChargeStatus::Succeeded,
                customer: Some(0),
                description: Some(description.to_string()),
                now: reference,
            };
            let (charge, bt) = data.make_charge(spec);
            charge_rows.push(charge);
            bt_rows.extend(bt);
        }

        // Refunds: ~5% of succeeded charges fully, ~5% partially (never the demo charges).
        let mut refund_rows = Vec::new();
        let bt_rate: HashMap<String, Option<f64>> = bt_rows
            .iter()
            .map(|b: &BalanceTx| (b.source.clone(), b.exchange_rate))
            .collect();
        for charge in charge_rows.iter_mut().take(regular) {
            if charge.status != ChargeStatus::Succeeded {
                continue;
            }
            let rng = &mut data.rng;
            let roll = rng.unit();
            if roll >= 0.10 {
                continue;
            }
            // An hour to two weeks later, and before the reference time.
            let latest = (14 * DAY).min(reference - 300 - charge.created);
            if latest < 3600 {
                continue;
            }
            let created = charge.created + rng.range(3600, latest);
            let amount = if roll < 0.05 {
                charge.amount
            } else {
                let step = if charge.currency == "isk" { 100 } else { 1 };
                let part = (charge.amount as f64 * (0.1 + 0.8 * rng.unit())) as i64 / step * step;
                part.clamp(step, charge.amount - step)
            };
            if amount <= 0 {
                continue;
            }
            let reason = rng.weighted(&[
                (Some("requested_by_customer"), 70),
                (Some("duplicate"), 15),
                (Some("fraudulent"), 5),
                (None, 10),
            ]);
            let rate = bt_rate.get(&charge.id).copied().flatten();
            let (refund, bt) = data.make_refund(charge, created, amount, reason, rate, reference);
            charge.amount_refunded += amount;
            refund_rows.push(refund);
            bt_rows.push(bt);
        }

        if objects::automatic_payouts_enabled() {
            data.add_payouts(&mut bt_rows, reference);
        }
        data.charges = Table::new(charge_rows);
        data.refunds = Table::new(refund_rows);
        data.bts = Table::new(bt_rows);
        // The newer object kinds draw from their own streams: the data above stays what it was.
        data.more = objects::More::generate(seed, &data);
        data
    }

    /// A charge (and its balance transaction when it succeeded) from a spec; ids and card from the rng.
    fn make_charge(&mut self, spec: ChargeSpec<'_>) -> (Charge, Option<BalanceTx>) {
        let rng = &mut self.rng;
        let currency = spec.currency.to_ascii_lowercase();
        let plan = plan(&currency);
        let (payer, country) = match spec.customer.and_then(|i| self.customers.get(i as usize)) {
            Some(c) => (c.person, c.country),
            None => (
                Person::random(rng),
                plan.map_or("US", |p| rng.pick(p.countries)),
            ),
        };
        let brand = rng.weighted(&[
            ("visa", 55),
            ("mastercard", 30),
            ("amex", 10),
            ("discover", 5),
        ]);
        let card = Card {
            brand,
            last4: rng.digits(4),
            exp_month: rng.range(1, 12) as u8,
            exp_year: rng.range(2025, 2031) as u16,
            funding: rng.weighted(&[("credit", 60), ("debit", 35), ("prepaid", 5)]),
            fingerprint: rng.base62(16),
            postal_check: rng.chance(0.7),
        };
        let risk_score = match spec.status {
            ChargeStatus::Failed(Failure::Blocked) => rng.range(80, 99),
            _ if rng.chance(0.03) => rng.range(66, 75),
            _ => rng.range(0, 60),
        } as u8;
        let mut charge = Charge {
            id: format!("ch_3{}", rng.base62(23)),
            created: spec.created,
            amount: spec.amount,
            currency: currency.clone(),
            status: spec.status,
            amount_refunded: 0,
            customer: spec.customer,
            payer,
            country,
            street_no: rng.range(1, 250) as u16,
            postal_code: rng.digits(5),
            order_no: rng.chance(0.7).then(|| rng.range(1000, 99_999) as u32),
            description: spec.description,
            receipt_email: rng.chance(0.7),
            card,
            payment_intent: format!("pi_3{}", rng.base62(23)),
            payment_method: format!("pm_1{}", rng.base62(23)),
            balance_transaction: None,
            risk_score,
        };
        if charge.status != ChargeStatus::Succeeded {
            return (charge, None);
        }
        let (settle, rate) = match plan {
            Some(p) if p.settle != currency => {
                // A day-to-day wobble of ±2% around the base rate, rounded as Stripe shows it.
                let r = p.rate * (1.0 + (rng.unit() - 0.5) * 0.04);
                let digits = 6 - r.log10().floor() as i32;
                let scale = 10f64.powi(digits.max(0));
                (p.settle, Some((r * scale).round() / scale))
            }
            Some(p) => (p.settle, None),
            None => (leak(&currency), None),
        };
        let amount = rate.map_or(charge.amount, |r| {
            convert(charge.amount, &currency, settle, r)
        });
        let fee = stripe_fee(amount, settle, rate.is_some()).min(amount);
        let available_on = seed::day_start(charge.created) + 2 * DAY;
        let bt = BalanceTx {
            id: format!("txn_3{}", rng.base62(23)),
            created: charge.created,
            amount,
            currency: settle,
            fee,
            net: amount - fee,
            available_on,
            available: available_on <= spec.now,
            exchange_rate: rate,
            source: charge.id.clone(),
            kind: BtType::Charge,
            description: charge.description.clone(),
            payout: None,
        };
        charge.balance_transaction = Some(bt.id.clone());
        (charge, Some(bt))
    }

    fn make_refund(
        &mut self,
        charge: &Charge,
        created: i64,
        amount: i64,
        reason: Option<&'static str>,
        rate: Option<f64>,
        now: i64,
    ) -> (Refund, BalanceTx) {
        let rng = &mut self.rng;
        let settle = plan(&charge.currency).map_or("usd", |p| p.settle);
        let settled = rate.map_or(amount, |r| convert(amount, &charge.currency, settle, r));
        let bt = BalanceTx {
            id: format!("txn_3{}", rng.base62(23)),
            created,
            amount: -settled,
            currency: settle,
            fee: 0,
            net: -settled,
            available_on: created,
            available: created <= now,
            exchange_rate: rate,
            source: String::new(),
            kind: BtType::Refund,
            description: Some(match &charge.description {
                Some(d) => format!("REFUND FOR CHARGE ({d})"),
                None => "REFUND FOR CHARGE".to_string(),
            }),
            payout: None,
        };
        let refund = Refund {
            id: format!("re_3{}", rng.base62(23)),
            created,
            amount,
            currency: charge.currency.clone(),
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            reason,
            status: if created > now - DAY {
                "pending"
            } else {
                "succeeded"
            },
            balance_transaction: Some(bt.id.clone()),
            metadata: BTreeMap::new(),
        };
        let bt = BalanceTx {
            source: refund.id.clone(),
            ..bt
        };
        (refund, bt)
    }

    /// Daily automatic payouts per settlement currency of everything that became available.
    fn add_payouts(&mut self, bts: &mut Vec<BalanceTx>, now: i64) {
        let mut groups: BTreeMap<(&'static str, i64), (i64, Vec<usize>)> = BTreeMap::new();
        for (i, bt) in bts.iter().enumerate() {
            let day = seed::day_start(bt.available_on + DAY - 1);
            let entry = groups.entry((bt.currency, day)).or_default();
            entry.0 += bt.net;
            entry.1.push(i);
        }
        for ((currency, day), (net, members)) in groups {
            let created = day + 3600;
            if created > now || net <= 0 {
                continue;
            }
            let payout = format!("po_1{}", self.rng.base62(23));
            for i in members {
                bts[i].payout = Some(payout.clone());
            }
            bts.push(BalanceTx {
                id: format!("txn_1{}", self.rng.base62(23)),
                created,
                amount: -net,
                currency,
                fee: 0,
                net: -net,
                available_on: created,
                available: true,
                exchange_rate: None,
                source: payout,
                kind: BtType::Payout,
                description: Some("STRIPE PAYOUT".to_string()),
                payout: None,
            });
        }
    }

    fn add_charge(&mut self, created: i64, amount: i64, currency: &str) -> String {
        let spec = ChargeSpec {
            created,
            amount,
            currency,
            status: ChargeStatus::Succeeded,
            customer: None,
            description: Some("Sandbox test charge".to_string()),
            now: seed::now_unix(),
        };
        let (charge, bt) = self.make_charge(spec);
        let id = charge.id.clone();
        self.charges.insert(charge);
        if let Some(bt) = bt {
            self.bts.insert(bt);
        }
        self.emit("charge.succeeded", &id, None, None);
        id
    }

    // --- rendering --------------------------------------------------------------------------

    pub(crate) fn charge_json(&self, c: &Charge, expand: &[&str]) -> Value {
        let succeeded = c.status == ChargeStatus::Succeeded;
        let customer = c.customer.and_then(|i| self.customers.get(i as usize));
        let city = CITIES
            .iter()
            .find(|(cc, _)| *cc == c.country)
            .map_or("Springfield", |(_, cities)| {
                cities[usize::from(c.street_no) % cities.len()]
            });
        let (failure_code, failure_message, outcome) = match c.status {
            ChargeStatus::Succeeded => (
                Value::Null,
                Value::Null,
                json!({
                    "network_status": "approved_by_network",
                    "reason": null,
                    "risk_level": if c.risk_score > 65 { "elevated" } else { "normal" },
                    "risk_score": c.risk_score,
                    "seller_message": "Payment complete.",
                    "type": "authorized",
                }),
            ),
            ChargeStatus::Pending => (Value::Null, Value::Null, Value::Null),
            ChargeStatus::Failed(f) => {
                let (code, message, reason) = match f {
                    Failure::GenericDecline => (
                        "card_declined",
                        "Your card was declined.",
                        "generic_decline",
                    ),
                    Failure::InsufficientFunds => (
                        "card_declined",
                        "Your card has insufficient funds.",
                        "insufficient_funds",
                    ),
                    Failure::ExpiredCard => {
                        ("expired_card", "Your card has expired.", "expired_card")
                    }
                    Failure::IncorrectCvc => (
                        "incorrect_cvc",
                        "Your card's security code is incorrect.",
                        "incorrect_cvc",
                    ),
                    Failure::Blocked => (
                        "card_declined",
                        "Your card was declined.",
                        "highest_risk_level",
                    ),
                };
                let outcome = if f == Failure::Blocked {
                    json!({
                        "network_status": "not_sent_to_network",
                        "reason": reason,
                        "risk_level": "highest",
                        "risk_score": c.risk_score,
                        "seller_message": "Stripe blocked this payment as too risky.",
                        "type": "blocked",
                    })
                } else {
                    let seller_message = if f == Failure::GenericDecline {
                        "The bank did not return any further details with this decline.".to_string()
                    } else {
                        format!("The bank returned the decline code `{reason}`.")
                    };
                    json!({
                        "network_status": "declined_by_network",
                        "reason": reason,
                        "risk_level": "normal",
                        "risk_score": c.risk_score,
                        "seller_message": seller_message,
                        "type": "issuer_declined",
                    })
                };
                (json!(code), json!(message), outcome)
            }
        };
        let cvc_check = if c.status == ChargeStatus::Failed(Failure::IncorrectCvc) {
            "fail"
        } else {
            "pass"
        };
        let mut metadata = Map::new();
        if let Some(order) = c.order_no {
            metadata.insert("order_id".into(), json!(order.to_string()));
        }
        let balance_transaction = match (
            &c.balance_transaction,
            expand.contains(&"balance_transaction"),
        ) {
            (Some(id), true) => self.bts.get(id).map_or(json!(id), |bt| self.bt_json(bt)),
            (Some(id), false) => json!(id),
            (None, _) => Value::Null,
        };
        json!({
            "id": c.id,
            "object": "charge",
            "amount": c.amount,
            "amount_captured": if matches!(c.status, ChargeStatus::Failed(_)) { 0 } else { c.amount },
            "amount_refunded": c.amount_refunded,
            "application": null,
            "application_fee": null,
            "application_fee_amount": null,
            "balance_transaction": balance_transaction,
            "billing_details": {
                "address": {
                    "city": city,
                    "country": c.country,
                    "line1": format!("{} {}", c.street_no, STREETS[usize::from(c.street_no) % STREETS.len()]),
                    "line2": null,
                    "postal_code": c.postal_code,
                    "state": null,
                },
                "email": c.payer.email(),
                "name": c.payer.name(),
                "phone": null,
            },
            "calculated_statement_descriptor": if matches!(c.status, ChargeStatus::Failed(Failure::Blocked)) {
                Value::Null
            } else {
                json!("SWITCHBOARD DEMO")
            },
            "captured": !matches!(c.status, ChargeStatus::Failed(_)),
            "created": c.created,
            "currency": c.currency,
            "customer": customer.map(|c| c.id.as_str()),
            "description": c.description,
            "disputed": self.more.is_disputed(&c.id),
            "failure_balance_transaction": null,
            "failure_code": failure_code,
            "failure_message": failure_message,
            "fraud_details": {},
            "invoice": null,
            "livemode": false,
            "metadata": metadata,
            "on_behalf_of": null,
            "outcome": outcome,
            "paid": succeeded,
            "payment_intent": c.payment_intent,
            "payment_method": c.payment_method,
            "payment_method_details": {
                "card": {
                    "brand": c.card.brand,
                    "checks": {
                        "address_line1_check": null,
                        "address_postal_code_check": if c.card.postal_check { json!("pass") } else { Value::Null },
                        "cvc_check": cvc_check,
                    },
                    "country": c.country,
                    "exp_month": c.card.exp_month,
                    "exp_year": c.card.exp_year,
                    "fingerprint": c.card.fingerprint,
                    "funding": c.card.funding,
                    "installments": null,
                    "last4": c.card.last4,
                    "mandate": null,
                    "network": c.card.brand,
                    "network_token": {"used": false},
                    "three_d_secure": null,
                    "wallet": null,
                },
                "type": "card",
            },
            "radar_options": {},
            "receipt_email": if c.receipt_email { json!(c.payer.email()) } else { Value::Null },
            "receipt_number": null,
            "receipt_url": format!("https://pay.stripe.com/receipts/payment/{}", &c.id[3..]),
            "refunded": c.amount_refunded > 0 && c.amount_refunded == c.amount,
            "review": null,
            "shipping": null,
            "source_transfer": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": match c.status {
                ChargeStatus::Succeeded => "succeeded",
                ChargeStatus::Pending => "pending",
                ChargeStatus::Failed(_) => "failed",
            },
            "transfer_data": null,
            "transfer_group": null,
        })
    }

    pub(crate) fn refund_json(&self, r: &Refund, expand: &[&str]) -> Value {
        let balance_transaction = match (
            &r.balance_transaction,
            expand.contains(&"balance_transaction"),
        ) {
            (Some(id), true) => self.bts.get(id).map_or(json!(id), |bt| self.bt_json(bt)),
            (Some(id), false) => json!(id),
            (None, _) => Value::Null,
        };
        let charge = match self.charges.get(&r.charge) {
            Some(c) if expand.contains(&"charge") => self.charge_json(c, &[]),
            _ => json!(r.charge),
        };
        json!({
            "id": r.id,
            "object": "refund",
            "amount": r.amount,
            "balance_transaction": balance_transaction,
            "charge": charge,
            "created": r.created,
            "currency": r.currency,
            "metadata": r.metadata,
            "payment_intent": r.payment_intent,
            "reason": r.reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": r.status,
            "transfer_reversal": null,
        })
    }

    /// Every object's list-item JSON (no `expand`), by id, for [`StripeState::item_json`].
    fn item_json(&self) -> HashMap<String, Box<str>> {
        let charges = self.charges.rows.iter().map(Item::Charge);
        let refunds = self.refunds.rows.iter().map(Item::Refund);
        let bts = self.bts.rows.iter().map(Item::BalanceTx);
        charges
            .chain(refunds)
            .chain(bts)
            .map(|item| {
                let json = item.json(self, &[]).to_string().into_boxed_str();
                (item.id().to_string(), json)
            })
            .collect()
    }

    pub(crate) fn bt_json(&self, b: &BalanceTx) -> Value {
        let fee_details = if b.fee > 0 {
            json!([{
                "amount": b.fee,
                "application": null,
                "currency": b.currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }])
        } else {
            json!([])
        };
        json!({
            "id": b.id,
            "object": "balance_transaction",
            "amount": b.amount,
            "available_on": b.available_on,
            "created": b.created,
            "currency": b.currency,
            "description": b.description,
            "exchange_rate": b.exchange_rate,
            "fee": b.fee,
            "fee_details": fee_details,
            "net": b.net,
            "reporting_category": b.kind.as_str(),
            "source": b.source,
            "status": if b.available { "available" } else { "pending" },
            "type": b.kind.as_str(),
        })
    }
}

/// Currencies added by tests outside the plans need a `'static` code; there are only a few.
fn leak(code: &str) -> &'static str {
    static KNOWN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = known.iter().find(|k| **k == code) {
        return k;
    }
    let k: &'static str = Box::leak(code.to_string().into_boxed_str());
    known.push(k);
    k
}

// ---------------------------------------------------------------------------------------------
// Control handle and HTTP

struct StripeState {
    data: StripeData,
    faults: VecDeque<Fault>,
    corruptions: Vec<Corruption>,
    request_count: usize,
    request_ids: SeedRng,
    random: RandomFaults,
    by_path: BTreeMap<&'static str, usize>,
    by_status: BTreeMap<u16, usize>,
    /// Each object's list-item JSON (no `expand`), by id: building every object's JSON again
    /// for each page made the fake, not the client, the bottleneck of the import benchmark.
    /// Filled at seeding; emptied by anything that may change the data (see
    /// [`StripeControl::respond`] and the test hooks), so it can never serve a stale object.
    item_json: HashMap<String, Box<str>>,
    /// Idempotent answers, faults and counts of writes (`stripe_refunds.rs`).
    posts: refunds::PostState,
    /// The secret key after the user rolled it ([`StripeControl::roll_api_key`]); the seeded
    /// one is refused from then on.
    rolled_key: Option<String>,
    rolls: u64,
}

impl StripeState {
    /// Whether `presented` is the account's current secret key.
    fn is_secret_key(&self, seeded: &str, presented: Option<&str>) -> bool {
        presented.is_some() && presented == Some(self.rolled_key.as_deref().unwrap_or(seeded))
    }
}

/// One object of a list page.
enum Item<'a> {
    Charge(&'a Charge),
    Refund(&'a Refund),
    BalanceTx(&'a BalanceTx),
    Dispute(&'a objects::Dispute),
    Payout(&'a objects::Payout),
    Customer(&'a objects::CustomerRow),
    Subscription(&'a objects::Subscription),
    Event(&'a events::Event),
    CheckoutSession(&'a billing::CheckoutSession),
}

impl Item<'_> {
    fn id(&self) -> &str {
        match self {
            Item::Charge(c) => &c.id,
            Item::Refund(r) => &r.id,
            Item::BalanceTx(b) => &b.id,
            Item::Dispute(d) => &d.id,
            Item::Payout(p) => &p.id,
            Item::Customer(c) => &c.id,
            Item::Subscription(s) => &s.id,
            Item::Event(e) => &e.id,
            Item::CheckoutSession(s) => &s.id,
        }
    }

    fn json(&self, data: &StripeData, expand: &[&str]) -> Value {
        match self {
            Item::Charge(c) => data.charge_json(c, expand),
            Item::Refund(r) => data.refund_json(r, expand),
            Item::BalanceTx(b) => data.bt_json(b),
            Item::Dispute(d) => data.dispute_json(d),
            Item::Payout(p) => data.payout_json(p),
            Item::Customer(c) => data.customer_json(c),
            Item::Subscription(s) => data.subscription_json(s),
            Item::Event(e) => e.json(),
            Item::CheckoutSession(s) => s.json(),
        }
    }
}

/// The Stripe fake's shared state: test hooks plus the router. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct StripeControl {
    inner: Arc<Mutex<StripeState>>,
    api_key: Arc<str>,
}

impl StripeControl {
    /// Generate the seeded data set (`charges` charges, at least the two demo ones).
    pub fn seeded(seed: u64, charges: usize) -> StripeControl {
        let mut key_rng = SeedRng::derive(seed, "stripe.api_key");
        let api_key = format!("sk_test_51{}", key_rng.base62(97));
        let data = StripeData::generate(seed, charges);
        let item_json = data.item_json();
        StripeControl {
            inner: Arc::new(Mutex::new(StripeState {
                data,
                faults: VecDeque::new(),
                corruptions: Vec::new(),
                request_count: 0,
                request_ids: SeedRng::derive(seed, "stripe.request_ids"),
                random: RandomFaults::new(FaultConfig::default()),
                by_path: BTreeMap::new(),
                by_status: BTreeMap::new(),
                item_json,
                posts: Default::default(),
                rolled_key: None,
                rolls: 0,
            })),
            api_key: api_key.into(),
        }
    }

    fn state(&self) -> MutexGuard<'_, StripeState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The secret key the fake accepts (`sk_test_…`, deterministic from the seed).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The user rolls the secret key in the Dashboard: a new key works, the previous one is
    /// refused with Stripe's 401 from now on. Returns the new key.
    pub fn roll_api_key(&self) -> String {
        let mut state = self.state();
        state.rolls += 1;
        let mut rng = SeedRng::derive(state.rolls, &format!("stripe.rolled.{}", self.api_key));
        let key = format!("sk_test_51{}", rng.base62(97));
        state.rolled_key = Some(key.clone());
        key
    }

    /// The fixed "now" the seeded data was generated against.
    pub fn reference_time(&self) -> i64 {
        self.state().data.reference
    }

    pub fn object_counts(&self) -> ObjectCounts {
        let s = self.state();
        let more = &s.data.more;
        ObjectCounts {
            charges: s.data.charges.len(),
            refunds: s.data.refunds.len(),
            balance_transactions: s.data.bts.len(),
            disputes: more.disputes.len(),
            payouts: more.payouts.len(),
            customers: more.customers.len(),
            subscriptions: more.subscriptions.len(),
            events: more.events.retained(),
        }
    }

    /// Create a succeeded charge (and its pending balance transaction) created now; returns its id.
    pub fn add_charge_now(&self, amount: i64, currency: &str) -> String {
        self.add_charge_at(seed::now_unix(), amount, currency)
    }

    /// Create a succeeded charge with a `created` in the past: a late-arriving object that a
    /// cursor walk which has already passed that time will not see. Returns its id.
    pub fn add_charge_at(&self, created_unix: i64, amount: i64, currency: &str) -> String {
        let mut state = self.state();
        state.item_json.clear();
        state.data.add_charge(created_unix, amount, currency)
    }

    /// Answer the next `n` list/retrieve requests (after authentication) with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Corrupt one item of the next list page served. Calls before that page accumulate: the
    /// first corruption hits item 0, the second item 1, and so on.
    pub fn corrupt_next_list_item(&self, kind: Corruption) {
        self.state().corruptions.push(kind);
    }

    /// List/retrieve requests received so far (including ones answered 401 or with a fault).
    pub fn request_count(&self) -> usize {
        self.state().request_count
    }

    /// Inject random faults from now on: the fault PRNG restarts from `config.fault_seed` and
    /// the injected-fault counts restart from zero (see [`crate::faults`]). `FaultConfig::default()`
    /// turns random faults off.
    pub fn set_random_faults(&self, config: FaultConfig) {
        self.state().random = RandomFaults::new(config);
    }

    /// Requests per route and per status, and random faults injected, so far.
    pub fn counters(&self) -> Counters {
        let s = self.state();
        Counters {
            by_path: s
                .by_path
                .iter()
                .map(|(path, n)| (path.to_string(), *n))
                .collect(),
            by_status: s.by_status.clone(),
            faults_injected: s.random.counts(),
        }
    }

    /// An axum router serving the fake at the root (`/v1/...`).
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

async fn handle(
    State(ctl): State<StripeControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, delay) = if method == Method::POST {
        ctl.respond_post(uri.path(), &headers, &body)
    } else {
        ctl.respond(&method, uri.path(), uri.query().unwrap_or(""), &headers)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    tracing::debug!(%method, %uri, status = response.status().as_u16(), "stripe sandbox");
    response
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Charge,
    Refund,
    BalanceTransaction,
    Dispute,
    Payout,
    Customer,
    Subscription,
    Event,
    CheckoutSession,
}

impl Kind {
    /// The kind listed at `/v1/{segment}` (Checkout Sessions live at `/v1/checkout/sessions`).
    fn from_segment(s: &str) -> Option<Kind> {
        match s {
            "charges" => Some(Kind::Charge),
            "refunds" => Some(Kind::Refund),
            "balance_transactions" => Some(Kind::BalanceTransaction),
            "disputes" => Some(Kind::Dispute),
            "payouts" => Some(Kind::Payout),
            "customers" => Some(Kind::Customer),
            "subscriptions" => Some(Kind::Subscription),
            "events" => Some(Kind::Event),
            _ => None,
        }
    }

    fn url(self) -> &'static str {
        match self {
            Kind::Charge => "/v1/charges",
            Kind::Refund => "/v1/refunds",
            Kind::BalanceTransaction => "/v1/balance_transactions",
            Kind::Dispute => "/v1/disputes",
            Kind::Payout => "/v1/payouts",
            Kind::Customer => "/v1/customers",
            Kind::Subscription => "/v1/subscriptions",
            Kind::Event => "/v1/events",
            Kind::CheckoutSession => "/v1/checkout/sessions",
        }
    }

    /// The route of the retrieve endpoint (the spec's path template), for
    /// [`Counters::by_path`].
    fn item_route(self) -> &'static str {
        match self {
            Kind::Charge => "/v1/charges/{id}",
            Kind::Refund => "/v1/refunds/{id}",
            Kind::BalanceTransaction => "/v1/balance_transactions/{id}",
            Kind::Dispute => "/v1/disputes/{dispute}",
            Kind::Payout => "/v1/payouts/{payout}",
            Kind::Customer => "/v1/customers/{customer}",
            Kind::Subscription => "/v1/subscriptions/{subscription_exposed_id}",
            Kind::Event => "/v1/events/{id}",
            Kind::CheckoutSession => "/v1/checkout/sessions/{session}",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Charge => "charge",
            Kind::Refund => "refund",
            Kind::BalanceTransaction => "balance transaction",
            Kind::Dispute => "dispute",
            Kind::Payout => "payout",
            Kind::Customer => "customer",
            Kind::Subscription => "subscription",
            Kind::Event => "event",
            Kind::CheckoutSession => "checkout.session",
        }
    }

    /// Filters the spec lists for this list operation (besides the common ones).
    fn filters(self) -> &'static [&'static str] {
        match self {
            Kind::Charge => &["customer", "payment_intent", "transfer_group"],
            Kind::Refund => &["charge", "payment_intent"],
            Kind::BalanceTransaction => &["currency", "payout", "source", "type"],
            Kind::Dispute => &["charge", "payment_intent"],
            Kind::Payout => &["destination", "status"],
            Kind::Customer => &["email", "test_clock"],
            Kind::Subscription => &[
                "automatic_tax[enabled]",
                "collection_method",
                "customer",
                "price",
                "status",
                "test_clock",
            ],
            Kind::Event => &["delivery_success", "type"],
            Kind::CheckoutSession => &[
                "customer",
                "customer_details[email]",
                "payment_intent",
                "payment_link",
                "subscription",
            ],
        }
    }

    /// Filters that take a range like `created` (`field`, `field[gt|gte|lt|lte]`).
    fn ranges(self) -> &'static [&'static str] {
        match self {
            Kind::Payout => &["arrival_date"],
            Kind::Subscription => &["current_period_end", "current_period_start"],
            _ => &[],
        }
    }

    /// Filters that take an array (`types[]=a&types[]=b`).
    fn arrays(self) -> &'static [&'static str] {
        match self {
            Kind::Event => &["types"],
            _ => &[],
        }
    }

    fn expandable(self) -> &'static [&'static str] {
        match self {
            Kind::Charge => &["balance_transaction"],
            Kind::Refund => &["balance_transaction", "charge"],
            _ => &[],
        }
    }
}

enum Endpoint<'a> {
    List(Kind),
    Retrieve(Kind, &'a str),
}

/// An error answer: HTTP status and the inside of `{"error": …}`.
struct ApiError {
    status: StatusCode,
    body: Value,
}

fn invalid(message: impl Into<String>, param: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body: json!({"message": message.into(), "param": param, "type": "invalid_request_error"}),
    }
}

fn missing(kind: Kind, id: &str, param: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        body: json!({
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": format!("No such {}: '{id}'", kind.noun()),
            "param": param,
            "type": "invalid_request_error",
        }),
    }
}

struct ListParams {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
    min_created: i64,
    max_created: i64,
    filters: Vec<(String, String)>,
    /// Range filters other than `created` ([`Kind::ranges`]): field, lowest, highest.
    ranges: Vec<(String, i64, i64)>,
}

impl ListParams {
    /// The last value given for filter `name` (array filters: every value, in order).
    fn filter(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn filter_all(&self, name: &str) -> Vec<&str> {
        self.filters
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether `value` of range filter `field` is within the asked range (or none is asked).
    fn in_range(&self, field: &str, value: i64) -> bool {
        self.ranges
            .iter()
            .filter(|(f, _, _)| f == field)
            .all(|(_, lo, hi)| (*lo..=*hi).contains(&value))
    }
}

/// `field`, `field[op]` → (field, op) for a range filter of `kind`.
fn range_key(kind: Kind, key: &str) -> Option<(&'static str, &str)> {
    kind.ranges().iter().find_map(|field| {
        if key == *field {
            return Some((*field, ""));
        }
        let op = key
            .strip_prefix(field)?
            .strip_prefix('[')?
            .strip_suffix(']')?;
        matches!(op, "gt" | "gte" | "lt" | "lte").then_some((*field, op))
    })
}

/// `name[]`, `name[3]` → name, for an array filter of `kind`.
fn array_key(kind: Kind, key: &str) -> Option<&'static str> {
    kind.arrays().iter().copied().find(|name| {
        key.strip_prefix(name)
            .and_then(|r| r.strip_prefix('['))
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()))
    })
}

fn parse_int(value: &str, param: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| invalid(format!("Invalid integer: {value}"), param))
}

/// Parse and check query parameters the way Stripe does; `expand` comes back separately.
fn parse_params(
    kind: Kind,
    list: bool,
    query: &str,
) -> Result<(ListParams, Vec<String>), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|_| {
        invalid(
            "Invalid request: the query string could not be decoded.",
            "query",
        )
    })?;
    let mut p = ListParams {
        limit: 10,
        starting_after: None,
        ending_before: None,
        min_created: i64::MIN,
        max_created: i64::MAX,
        filters: Vec::new(),
        ranges: Vec::new(),
    };
    let mut expand = Vec::new();
    for (key, value) in pairs {
        let is_expand = key == "expand"
            || key
                .strip_prefix("expand[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()));
        if is_expand {
            expand.push(value);
            continue;
        }
        if !list {
            return Err(unknown_param(&key));
        }
        match key.as_str() {
            "limit" => {
                let n = parse_int(&value, "limit")?;
                if n < 1 {
                    return Err(invalid(
                        "This value must be greater than or equal to 1.",
                        "limit",
                    ));
                }
                if n > 100 {
                    return Err(invalid(
                        "This value must be less than or equal to 100.",
                        "limit",
                    ));
                }
                p.limit = n as usize;
            }
            "starting_after" => p.starting_after = Some(value),
            "ending_before" => p.ending_before = Some(value),
            "created" => {
                let t = parse_int(&value, "created")?;
                p.min_created = p.min_created.max(t);
                p.max_created = p.max_created.min(t);
            }
            "created[gt]" => {
                p.min_created = p
                    .min_created
                    .max(parse_int(&value, &key)?.saturating_add(1))
            }
            "created[gte]" => p.min_created = p.min_created.max(parse_int(&value, &key)?),
            "created[lt]" => {
                p.max_created = p
                    .max_created
                    .min(parse_int(&value, &key)?.saturating_sub(1))
            }
            "created[lte]" => p.max_created = p.max_created.min(parse_int(&value, &key)?),
            "delivery_success" | "automatic_tax[enabled]"
                if kind.filters().contains(&key.as_str())
                    && !matches!(value.as_str(), "true" | "false") =>
            {
                return Err(invalid(format!("Invalid boolean: {value}"), &key));
            }
            k if kind.filters().contains(&k) => p.filters.push((key, value)),
            k if array_key(kind, k).is_some() => {
                let name = array_key(kind, k).unwrap_or_default();
                p.filters.push((name.to_string(), value));
            }
            k if range_key(kind, k).is_some() => {
                let (field, op) = range_key(kind, k).unwrap_or_default();
                let t = parse_int(&value, &key)?;
                let (lo, hi) = match op {
                    "gt" => (t.saturating_add(1), i64::MAX),
                    "gte" => (t, i64::MAX),
                    "lt" => (i64::MIN, t.saturating_sub(1)),
                    "lte" => (i64::MIN, t),
                    _ => (t, t),
                };
                p.ranges.push((field.to_string(), lo, hi));
            }
            _ => return Err(unknown_param(&key)),
        }
    }
    if kind == Kind::Event {
        events::check_type_filters(&p)?;
    }
    if p.starting_after.is_some() && p.ending_before.is_some() {
        return Err(invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        ));
    }
    for e in &expand {
        let field = if list {
            match e.strip_prefix("data.") {
                Some(f) => f,
                None => {
                    return Err(invalid(
                        format!(
                            "This property cannot be expanded ({e}). You may want to try expanding 'data.{e}' instead."
                        ),
                        "expand",
                    ));
                }
            }
        } else {
            e.as_str()
        };
        if !kind.expandable().contains(&field) {
            return Err(invalid(
                format!("This property cannot be expanded ({field})."),
                "expand",
            ));
        }
    }
    let expand = expand
        .into_iter()
        .map(|e| e.strip_prefix("data.").unwrap_or(&e).to_string())
        .collect();
    Ok((p, expand))
}

fn unknown_param(key: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body: json!({
            "code": "parameter_unknown",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
            "message": format!("Received unknown parameter: {key}"),
            "param": key,
            "type": "invalid_request_error",
        }),
    }
}

/// Stripe's masking of a key in "Invalid API Key provided": prefix kept, last four kept.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let prefix_len = [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ]
    .iter()
    .find(|p| key.starts_with(*p))
    .map_or(0, |p| p.len());
    if chars.len() <= prefix_len + 4 {
        return format!(
            "{}{}",
            &key[..prefix_len.min(key.len())],
            "*".repeat(chars.len().saturating_sub(prefix_len))
        );
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!(
        "{}{}{tail}",
        &key[..prefix_len],
        "*".repeat(chars.len() - prefix_len - 4)
    )
}

/// The key from `Authorization: Bearer <key>` or `Basic base64(<key>:)`, if any.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        Some(
            text.split_once(':')
                .map_or(text.as_str(), |(user, _)| user)
                .to_string(),
        )
    } else {
        None
    }
}

impl StripeState {
    fn next_request_id(&mut self) -> String {
        format!("req_{}", self.request_ids.base62(14))
    }
}

fn rate_limit_body() -> Value {
    json!({"error": {
        "code": "rate_limit",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
        "message": "Request rate limit exceeded. You can learn more about rate limits here \
                    https://stripe.com/docs/rate-limits.",
        "type": "invalid_request_error",
    }})
}

fn api_error_body() -> Value {
    json!({"error": {
        "message": "An unknown error occurred",
        "type": "api_error",
    }})
}

impl StripeControl {
    /// Answer one request: the response, and how long to hold it back (a `slow` fault). Counts
    /// it in [`Counters`].
    fn respond(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> (Response, Option<Duration>) {
        let mut state = self.state();
        let (response, route, random) = self.answer(&mut state, method, path, query, headers);
        if method != Method::GET {
            // Whatever a write changed, no cached item may outlive it.
            state.item_json.clear();
        }
        if let Some(route) = route {
            *state.by_path.entry(route).or_default() += 1;
            let status = match random {
                Some(FaultKind::Reset) => 0,
                _ => response.status().as_u16(),
            };
            *state.by_status.entry(status).or_default() += 1;
        }
        let delay = (random == Some(FaultKind::Slow)).then(|| state.random.slow());
        (response, delay)
    }

    /// The response, the route it counts under (list/retrieve endpoints only) and the random
    /// fault injected into it, if any.
    fn answer(
        &self,
        state: &mut StripeState,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> (Response, Option<&'static str>, Option<FaultKind>) {
        let rid = state.next_request_id();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let endpoint = match (method, segments.as_slice()) {
            (&Method::GET, ["v1", list]) => Kind::from_segment(list).map(Endpoint::List),
            (&Method::GET, ["v1", "checkout", "sessions"]) => {
                Some(Endpoint::List(Kind::CheckoutSession))
            }
            (&Method::GET, ["v1", "checkout", "sessions", id]) if !id.is_empty() => {
                Some(Endpoint::Retrieve(Kind::CheckoutSession, id))
            }
            (&Method::GET, ["v1", list, id]) if !id.is_empty() => {
                Kind::from_segment(list).map(|k| Endpoint::Retrieve(k, id))
            }
            _ => None,
        };
        if endpoint.is_some() {
            state.request_count += 1;
        }
        let route = endpoint.as_ref().map(|e| match e {
            Endpoint::List(kind) => kind.url(),
            Endpoint::Retrieve(kind, _) => kind.item_route(),
        });

        // Authentication comes first, as at Stripe. The restricted key reads what the secret
        // key reads, except `GET /v1/account` (`credentials/stripe_account.rs`).
        let key = presented_key(headers);
        let restricted = crate::credentials::stripe_account::restricted_key(&self.api_key);
        if !state.is_secret_key(&self.api_key, key.as_deref())
            && key.as_deref() != Some(restricted.as_str())
        {
            let message = match key.as_deref() {
                None | Some("") => "You did not provide an API key. You need to provide your API key in the \
                    Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). \
                    See https://stripe.com/docs/api#authentication for details, or we can help at \
                    https://support.stripe.com/."
                    .to_string(),
                Some(k) => format!("Invalid API Key provided: {}", mask_key(k)),
            };
            let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
            let mut response = json_response(StatusCode::UNAUTHORIZED, &body, &rid);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Stripe\""),
            );
            return (response, route, None);
        }

        if method == Method::GET && path == crate::credentials::stripe_account::ROUTE {
            let presented = key.as_deref().unwrap_or_default();
            let (status, body) =
                crate::credentials::stripe_account::answer(&self.api_key, presented, query);
            let route = Some(crate::credentials::stripe_account::ROUTE);
            return (json_response(status, &body, &rid), route, None);
        }

        let Some(endpoint) = endpoint else {
            let body = json!({"error": {
                "message": format!(
                    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can \
                     help at https://support.stripe.com/."
                ),
                "type": "invalid_request_error",
            }});
            return (
                json_response(StatusCode::NOT_FOUND, &body, &rid),
                None,
                None,
            );
        };

        // One draw per authenticated list/retrieve request, in arrival order, even when a
        // queued deterministic fault wins, so the random sequence stays replayable.
        let drawn = state.random.draw();
        let fault = state.faults.pop_front();
        let random = if fault.is_some() { None } else { drawn };
        match fault {
            Some(Fault::RateLimited) => {
                let response =
                    json_response(StatusCode::TOO_MANY_REQUESTS, &rate_limit_body(), &rid);
                return (response, route, None);
            }
            Some(Fault::ServerError) => {
                let response =
                    json_response(StatusCode::INTERNAL_SERVER_ERROR, &api_error_body(), &rid);
                return (response, route, None);
            }
            Some(Fault::NotJson) => {
                let html = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\
                            <body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>\n";
                let response = with_headers(
                    Response::builder().status(StatusCode::OK),
                    "text/html; charset=utf-8",
                    &rid,
                )
                .body(Body::from(html))
                .expect("static response");
                return (response, route, None);
            }
            Some(Fault::TruncatedJson) | None => {}
        }
        if let Some(kind) = random {
            let nth = state.random.inject(kind);
            match kind {
                FaultKind::RateLimit => {
                    let mut response =
                        json_response(StatusCode::TOO_MANY_REQUESTS, &rate_limit_body(), &rid);
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    return (response, route, random);
                }
                FaultKind::ServerError => {
                    let status = if nth % 2 == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    return (
                        json_response(status, &api_error_body(), &rid),
                        route,
                        random,
                    );
                }
                FaultKind::Reset | FaultKind::Slow | FaultKind::Malformed => {}
            }
        }

        let result = match endpoint {
            Endpoint::List(kind) => self.list(state, kind, query),
            Endpoint::Retrieve(kind, id) => self
                .retrieve(state, kind, id, query)
                .map(|body| serde_json::to_vec(&body).expect("JSON values serialize")),
        };
        let (status, mut bytes) = match result {
            Ok(bytes) => (StatusCode::OK, bytes),
            Err(e) => (
                e.status,
                serde_json::to_vec(&json!({ "error": e.body })).expect("JSON values serialize"),
            ),
        };
        let response = match random {
            Some(FaultKind::Reset) => {
                // The whole length is announced, half is sent, then the connection drops.
                let full = bytes.len();
                bytes.truncate(full / 2);
                with_headers(Response::builder().status(status), "application/json", &rid)
                    .header(header::CONTENT_LENGTH, full)
                    .body(Body::new(ResetBody::new(Bytes::from(bytes))))
                    .expect("valid response")
            }
            Some(FaultKind::Malformed) => {
                bytes.truncate(bytes.len() / 2);
                with_headers(
                    Response::builder().status(StatusCode::OK),
                    "application/json",
                    &rid,
                )
                .body(Body::from(bytes))
                .expect("valid response")
            }
            _ => {
                if fault == Some(Fault::TruncatedJson) {
                    bytes.truncate(bytes.len() / 2);
                }
                with_headers(Response::builder().status(status), "application/json", &rid)
                    .body(Body::from(bytes))
                    .expect("valid response")
            }
        };
        (response, route, random)
    }

    /// A list page, serialised. Items without `expand` come from [`StripeState::item_json`].
    fn list(&self, state: &mut StripeState, kind: Kind, query: &str) -> Result<Vec<u8>, ApiError> {
        let (q, expand) = parse_params(kind, true, query)?;
        let expand: Vec<&str> = expand.iter().map(String::as_str).collect();
        let StripeState {
            data,
            item_json,
            corruptions,
            ..
        } = state;
        let data = &*data;
        let filter = |name: &str| {
            q.filters
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let missing_cursor = |param: &'static str| {
            let id = if param == "starting_after" {
                &q.starting_after
            } else {
                &q.ending_before
            };
            missing(kind, id.as_deref().unwrap_or(""), param)
        };
        let (items, has_more): (Vec<Item<'_>>, bool) = match kind {
            Kind::Charge => {
                // An unknown customer matches nothing (u32::MAX is never an index).
                let customer = filter("customer")
                    .map(|id| data.customer_index.get(id).copied().unwrap_or(u32::MAX));
                let pi = filter("payment_intent");
                let group = filter("transfer_group");
                let page = data
                    .charges
                    .page(&q, |c| {
                        customer.is_none_or(|want| c.customer == Some(want))
                            && pi.is_none_or(|want| c.payment_intent == want)
                            && group.is_none() // no seeded charge belongs to a transfer group
                    })
                    .map_err(missing_cursor)?;
                (
                    page.items.into_iter().map(Item::Charge).collect(),
                    page.has_more,
                )
            }
            Kind::Refund => {
                let charge = filter("charge");
                let pi = filter("payment_intent");
                let page = data
                    .refunds
                    .page(&q, |r| {
                        charge.is_none_or(|w| r.charge == w)
                            && pi.is_none_or(|w| r.payment_intent == w)
                    })
                    .map_err(missing_cursor)?;
                (
                    page.items.into_iter().map(Item::Refund).collect(),
                    page.has_more,
                )
            }
            Kind::BalanceTransaction => {
                let currency = filter("currency");
                let payout = filter("payout");
                if let Some(payout) = payout {
                    data.more.check_payout_filter(payout)?;
                }
                let source = filter("source");
                let typ = filter("type");
                let page = data
                    .bts
                    .page(&q, |b| {
                        currency.is_none_or(|w| b.currency == w)
                            // What the payout paid out, and the payout's own transaction.
                            && payout.is_none_or(|w| {
                                b.payout.as_deref() == Some(w)
                                    || (b.kind == BtType::Payout && b.source == w)
                            })
                            && source.is_none_or(|w| b.source == w)
                            && typ.is_none_or(|w| b.kind.as_str() == w)
                    })
                    .map_err(missing_cursor)?;
                (
                    page.items.into_iter().map(Item::BalanceTx).collect(),
                    page.has_more,
                )
            }
            Kind::Dispute
            | Kind::Payout
            | Kind::Customer
            | Kind::Subscription
            | Kind::Event
            | Kind::CheckoutSession => objects::page(data, kind, &q, &missing_cursor)?,
        };
        // The envelope as serde_json writes it (whatever its key order), with the items
        // spliced into its empty `data` array.
        let envelope = serde_json::to_string(
            &json!({"object": "list", "data": [], "has_more": has_more, "url": kind.url()}),
        )
        .expect("JSON values serialize");
        let (head, rest) = envelope
            .split_once("\"data\":[]")
            .expect("the envelope has an empty data array");
        let mut out = Vec::with_capacity(head.len() + rest.len() + items.len() * 2048);
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(b"\"data\":[");
        let mut corruptions = std::mem::take(corruptions).into_iter();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match corruptions.next() {
                Some(corruption) => {
                    let mut value = item.json(data, &expand);
                    match corruption {
                        Corruption::UnknownStatus => value["status"] = json!("teleported"),
                        Corruption::MissingAmount => {
                            value.as_object_mut().map(|o| o.remove("amount"));
                        }
                    }
                    serde_json::to_writer(&mut out, &value).expect("JSON values serialize");
                }
                None if expand.is_empty() => {
                    let cached = item_json
                        .entry(item.id().to_string())
                        .or_insert_with(|| item.json(data, &[]).to_string().into_boxed_str());
                    out.extend_from_slice(cached.as_bytes());
                }
                None => serde_json::to_writer(&mut out, &item.json(data, &expand))
                    .expect("JSON values serialize"),
            }
        }
        out.push(b']');
        out.extend_from_slice(rest.as_bytes());
        Ok(out)
    }

    fn retrieve(
        &self,
        state: &StripeState,
        kind: Kind,
        id: &str,
        query: &str,
    ) -> Result<Value, ApiError> {
        let (_, expand) = parse_params(kind, false, query)?;
        let expand: Vec<&str> = expand.iter().map(String::as_str).collect();
        let data = &state.data;
        let found = match kind {
            Kind::Charge => data.charges.get(id).map(|c| data.charge_json(c, &expand)),
            Kind::Refund => data.refunds.get(id).map(|r| data.refund_json(r, &expand)),
            Kind::BalanceTransaction => data.bts.get(id).map(|b| data.bt_json(b)),
            _ => objects::retrieve(data, kind, id),
        };
        found.ok_or_else(|| missing(kind, id, "id"))
    }
}

fn with_headers(
    builder: axum::http::response::Builder,
    content_type: &str,
    rid: &str,
) -> axum::http::response::Builder {
    builder
        .header(header::CONTENT_TYPE, content_type)
        .header("Request-Id", rid)
        .header("Stripe-Version", API_VERSION)
        .header(header::CACHE_CONTROL, "no-cache, no-store")
}

fn json_response(status: StatusCode, body: &Value, rid: &str) -> Response {
    let bytes = serde_json::to_vec(body).expect("JSON values serialize");
    with_headers(Response::builder().status(status), "application/json", rid)
        .body(Body::from(bytes))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(seed: u64, n: usize) -> StripeData {
        StripeData::generate(seed, n)
    }

    #[test]
    fn exponents_are_respected() {
        let d = data(42, 5_000);
        let mut seen = HashMap::new();
        for c in d.charges.iter() {
            *seen.entry(c.currency.as_str()).or_insert(0) += 1;
            assert!(c.amount > 0, "{}", c.id);
            if c.currency == "isk" {
                assert_eq!(
                    c.amount % 100,
                    0,
                    "ISK is sent in hundredths of whole krónur: {}",
                    c.amount
                );
            }
        }
        for code in ["usd", "eur", "gbp", "jpy", "kwd", "isk"] {
            assert!(
                seen.get(code).copied().unwrap_or(0) > 20,
                "few {code} charges: {seen:?}"
            );
        }
        // JPY has no minor unit: amounts are whole yen by construction; check plausibility of
        // magnitudes instead (¥500..¥80,000, not cents).
        assert!(
            d.charges
                .iter()
                .filter(|c| c.currency == "jpy")
                .all(|c| (500..=80_000).contains(&c.amount))
        );
        assert!(
            d.charges
                .iter()
                .filter(|c| c.currency == "kwd")
                .all(|c| (1_000..=150_000).contains(&c.amount))
        );
        assert_eq!(currency_exponent("jpy"), 0);
        assert_eq!(currency_exponent("kwd"), 3);
        assert_eq!(currency_exponent("isk"), 2);
    }

    #[test]
    fn refunds_never_exceed_their_charge_and_match_it() {
        let d = data(7, 5_000);
        assert!(d.refunds.len() > 200, "{} refunds", d.refunds.len());
        let mut full = 0;
        let mut partial = 0;
        let mut refunded_by_charge: HashMap<&str, i64> = HashMap::new();
        for r in d.refunds.iter() {
            let c = d.charges.get(&r.charge).expect("refund's charge exists");
            assert_eq!(c.status, ChargeStatus::Succeeded);
            assert!(
                r.amount > 0 && r.amount <= c.amount,
                "{} refunds {} of {}",
                r.id,
                r.amount,
                c.amount
            );
            assert_eq!(r.currency, c.currency);
            assert!(r.created > c.created);
            if c.currency == "isk" {
                assert_eq!(r.amount % 100, 0);
            }
            *refunded_by_charge.entry(&r.charge).or_default() += r.amount;
            if r.amount == c.amount {
                full += 1
            } else {
                partial += 1
            }
        }
        for c in d.charges.iter() {
            assert_eq!(
                c.amount_refunded,
                refunded_by_charge.get(c.id.as_str()).copied().unwrap_or(0)
            );
            assert!(c.amount_refunded <= c.amount);
        }
        let succeeded = d
            .charges
            .iter()
            .filter(|c| c.status == ChargeStatus::Succeeded)
            .count() as f64;
        for (what, n) in [("full", full), ("partial", partial)] {
            let share = n as f64 / succeeded;
            assert!((0.03..0.07).contains(&share), "{what} refunds: {share}");
        }
    }

    #[test]
    fn balance_transactions_add_up() {
        let d = data(3, 3_000);
        let mut kinds = HashMap::new();
        for b in d.bts.iter() {
            *kinds.entry(b.kind).or_insert(0) += 1;
            assert_eq!(b.net, b.amount - b.fee, "{}", b.id);
            assert!(b.fee >= 0);
            match b.kind {
                BtType::Charge => {
                    let c = d.charges.get(&b.source).expect("bt source charge");
                    assert_eq!(c.balance_transaction.as_deref(), Some(b.id.as_str()));
                    assert!(b.amount > 0 && b.fee > 0 && b.fee < b.amount);
                    assert_eq!(
                        b.exchange_rate.is_some(),
                        !["usd", "eur", "gbp"].contains(&c.currency.as_str())
                    );
                    if b.exchange_rate.is_none() {
                        assert_eq!((b.amount, b.currency), (c.amount, c.currency.as_str()));
                    }
                    assert!(b.available_on > b.created);
                }
                BtType::Refund => {
                    let r = d.refunds.get(&b.source).expect("bt source refund");
                    assert_eq!(r.balance_transaction.as_deref(), Some(b.id.as_str()));
                    assert!(b.amount < 0);
                }
                BtType::Payout => {
                    let members: i64 = d
                        .bts
                        .iter()
                        .filter(|m| m.payout.as_deref() == Some(&b.source))
                        .map(|m| m.net)
                        .sum();
                    assert_eq!(
                        -b.amount, members,
                        "payout {} sums its transactions",
                        b.source
                    );
                }
            }
        }
        for c in d.charges.iter() {
            assert_eq!(
                c.balance_transaction.is_some(),
                c.status == ChargeStatus::Succeeded,
                "{}",
                c.id
            );
        }
        assert!(kinds.len() == 3, "{kinds:?}");
    }

    #[test]
    fn demo_charges_exist_for_every_seed_and_are_newest() {
        for seed in [0, 1, 42, 12345, u64::MAX] {
            let d = data(seed, 50);
            let first: Vec<&Charge> = d.charges.iter().take(2).collect();
            let mut found: Vec<(i64, &str, Option<&str>)> = first
                .iter()
                .map(|c| (c.amount, c.currency.as_str(), c.description.as_deref()))
                .collect();
            found.sort();
            assert_eq!(
                found,
                vec![
                    (1234, "eur", Some(DEMO_EUR_DESCRIPTION)),
                    (1234, "jpy", Some(DEMO_JPY_DESCRIPTION))
                ]
            );
            assert!(
                first
                    .iter()
                    .all(|c| c.status == ChargeStatus::Succeeded && c.amount_refunded == 0)
            );
            assert_eq!(d.charges.len(), 50);
        }
        assert_eq!(
            data(1, 0).charges.len(),
            2,
            "the demo charges exist even in an empty set"
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (data(9, 500), data(9, 500));
        let ids = |d: &StripeData| d.charges.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(
            a.charge_json(a.charges.iter().nth(5).unwrap(), &[]),
            b.charge_json(b.charges.iter().nth(5).unwrap(), &[])
        );
        assert_ne!(ids(&a), ids(&data(10, 500)));
    }

    #[test]
    fn table_pages_by_cursor_and_created() {
        let d = data(5, 1_000);
        let all: Vec<&str> = d.charges.iter().map(|c| c.id.as_str()).collect();
        let params = |limit, after: Option<&str>, before: Option<&str>| ListParams {
            limit,
            starting_after: after.map(str::to_string),
            ending_before: before.map(str::to_string),
            min_created: i64::MIN,
            max_created: i64::MAX,
            filters: vec![],
            ranges: vec![],
        };
        let page = d
            .charges
            .page(&params(3, Some(all[10]), None), |_| true)
            .unwrap();
        assert_eq!(
            page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            &all[11..14]
        );
        assert!(page.has_more);
        let page = d
            .charges
            .page(&params(3, None, Some(all[10])), |_| true)
            .unwrap();
        assert_eq!(
            page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            &all[7..10]
        );
        assert!(page.has_more);
        let page = d
            .charges
            .page(&params(100, None, Some(all[2])), |_| true)
            .unwrap();
        assert_eq!(page.items.len(), 2);
        assert!(!page.has_more);
        assert!(
            d.charges
                .page(&params(3, Some("ch_nope"), None), |_| true)
                .is_err()
        );
        let last = d
            .charges
            .page(&params(5, Some(all[all.len() - 3]), None), |_| true)
            .unwrap();
        assert_eq!(last.items.len(), 2);
        assert!(!last.has_more);
    }

    #[test]
    fn masks_keys_like_stripe() {
        assert_eq!(mask_key("sk_test_abcdefgh1234"), "sk_test_********1234");
        assert_eq!(mask_key("nope"), "****");
    }

    #[test]
    #[ignore = "timing; run with --release -- --ignored --nocapture"]
    fn generate_100k_timing() {
        let t = std::time::Instant::now();
        let d = data(42, 100_000);
        eprintln!(
            "generated {} charges, {} refunds, {} balance transactions in {:?}",
            d.charges.len(),
            d.refunds.len(),
            d.bts.len(),
            t.elapsed()
        );
    }
}
