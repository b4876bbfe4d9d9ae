//! Disputes, payouts, customers and subscriptions of the Stripe fake (a child module of
//! [`super`], sharing its tables, list machinery and helpers).
//!
//! - `GET /v1/disputes[/{dispute}]` (`charge`, `payment_intent`): a few seeded disputes, about one
//!   per 250 succeeded charges (at least two), each on its own succeeded, unrefunded charge
//!   (whose `disputed` is then `true`). Simplification: disputes move no money here
//!   (`balance_transactions: []`), so the balance transaction data stays what it was.
//! - `GET /v1/payouts[/{payout}]` (`status`, `destination`, `arrival_date`): one payout object
//!   per seeded automatic payout (the `type: "payout"` balance transactions), with the payout's
//!   own balance transaction, a bank account per currency, `arrival_date` two days after the
//!   payout's day, `paid` once that has passed (at the seed's reference time), else
//!   `in_transit`. `GET /v1/balance_transactions?payout=po_…` lists what the payout paid out and
//!   the payout's own transaction, as Stripe does; for a manual payout it answers Stripe's 400
//!   (the spec: "For automatic Stripe payouts only").
//! - `GET /v1/customers[/{customer}]` (`email`): the seeded customers the charges point at, each
//!   created before its first charge.
//! - `GET /v1/subscriptions[/{subscription_exposed_id}]` (`customer`, `price`, `status` with
//!   Stripe's default of leaving canceled ones out, `current_period_*` ranges): about one
//!   customer in seven has one, monthly, quarterly or yearly, in the customer's currency, with
//!   periods on calendar months as Stripe counts them.
//!
//! Everything here is drawn from the seed's own stream (`stripe.more`), after the charges,
//! refunds and balance transactions are made, so those stay exactly what they were. Test hooks
//! ([`StripeControl`]) open and move disputes, make and advance payouts (each change emits its
//! event, see `stripe_events.rs`), add a manual payout, and add one payout whose transactions do
//! NOT add up to it, for reconciliation tests.

use super::*;
use std::collections::HashSet;

/// Environment variable of the `switchboard sandbox serve` process: `off` seeds no automatic
/// payouts (no `payout` balance transactions, no payout objects), so the import benchmark
/// measures charges and balance transactions alone. Anything else, or unset: daily payouts.
pub const AUTOMATIC_PAYOUTS_ENV: &str = "SWITCHBOARD_SANDBOX_STRIPE_PAYOUTS";

pub(crate) fn automatic_payouts_enabled() -> bool {
    !matches!(
        std::env::var(AUTOMATIC_PAYOUTS_ENV).as_deref(),
        Ok("off" | "0" | "none")
    )
}

/// A payout's status, as a test hook sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
    Canceled,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::InTransit => "in_transit",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Canceled => "canceled",
        }
    }
}

/// A dispute's status, as a test hook sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisputeStatus {
    WarningNeedsResponse,
    WarningUnderReview,
    WarningClosed,
    NeedsResponse,
    UnderReview,
    Won,
    Lost,
}

impl DisputeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::WarningNeedsResponse => "warning_needs_response",
            DisputeStatus::WarningUnderReview => "warning_under_review",
            DisputeStatus::WarningClosed => "warning_closed",
            DisputeStatus::NeedsResponse => "needs_response",
            DisputeStatus::UnderReview => "under_review",
            DisputeStatus::Won => "won",
            DisputeStatus::Lost => "lost",
        }
    }

    /// Whether the dispute is over (its event is `charge.dispute.closed`).
    fn closed(self) -> bool {
        matches!(
            self,
            DisputeStatus::WarningClosed | DisputeStatus::Won | DisputeStatus::Lost
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Dispute {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) charge: String,
    payment_intent: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: DisputeStatus,
    reason: &'static str,
    due_by: i64,
    brand: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct Payout {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    pub(crate) arrival_date: i64,
    pub(crate) status: PayoutStatus,
    pub(crate) automatic: bool,
    balance_transaction: String,
    destination: String,
}

/// A customer's row in `GET /v1/customers` (the person is the charges' [`Customer`]).
#[derive(Clone, Debug)]
pub(crate) struct CustomerRow {
    pub(crate) id: String,
    pub(crate) created: i64,
    index: u32,
    phone: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) customer: String,
    item: String,
    item_created: i64,
    price: String,
    product: String,
    nickname: &'static str,
    unit_amount: i64,
    quantity: u32,
    currency: &'static str,
    interval: &'static str,
    interval_count: u32,
    pub(crate) status: &'static str,
    billing_cycle_anchor: i64,
    pub(crate) current_period_start: i64,
    pub(crate) current_period_end: i64,
    pub(crate) cancel_at_period_end: bool,
    pub(crate) cancel_at: Option<i64>,
    pub(crate) canceled_at: Option<i64>,
    ended_at: Option<i64>,
    trial: Option<(i64, i64)>,
    pub(crate) cancellation_reason: Option<&'static str>,
    pub(crate) cancellation_comment: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

// (`row!` of the parent is defined after this module's declaration, so out of scope here.)
macro_rules! object_row {
    ($($t:ty),*) => {$(
        impl Row for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn created(&self) -> i64 {
                self.created
            }
        }
    )*};
}
pub(super) use object_row;
object_row!(Dispute, Payout, CustomerRow, Subscription);

/// What the fake holds beyond charges, refunds and balance transactions.
pub(crate) struct More {
    pub(crate) disputes: Table<Dispute>,
    pub(crate) payouts: Table<Payout>,
    pub(crate) customers: Table<CustomerRow>,
    pub(crate) subscriptions: Table<Subscription>,
    pub(crate) sessions: Table<billing::CheckoutSession>,
    pub(crate) events: events::EventLog,
    /// Charges with a dispute.
    disputed: HashSet<String>,
    /// The account's bank account per payout currency.
    bank_accounts: BTreeMap<String, String>,
    /// Ids for what test hooks and writes add.
    pub(crate) rng: SeedRng,
    /// Subscription updates that changed something, and Checkout Sessions created.
    pub(crate) subscription_updates: usize,
    pub(crate) sessions_created: usize,
}

const DISPUTE_REASONS: &[(&str, &str, u32)] = &[
    ("fraudulent", "10.4", 40),
    ("product_not_received", "13.1", 20),
    ("duplicate", "12.6.1", 10),
    ("subscription_canceled", "13.2", 10),
    ("product_unacceptable", "13.3", 10),
    ("general", "13.7", 10),
];

/// Every field of a dispute's `evidence` (none submitted in the fake).
const EVIDENCE_FIELDS: &[&str] = &[
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

impl More {
    pub(crate) fn empty(seed: u64) -> More {
        More {
            disputes: Table::new(Vec::new()),
            payouts: Table::new(Vec::new()),
            customers: Table::new(Vec::new()),
            subscriptions: Table::new(Vec::new()),
            sessions: Table::new(Vec::new()),
            events: events::EventLog::new(seed),
            disputed: HashSet::new(),
            bank_accounts: BTreeMap::new(),
            rng: SeedRng::derive(seed, "stripe.more.hooks"),
            subscription_updates: 0,
            sessions_created: 0,
        }
    }

    /// The seeded disputes, payouts, customer rows and subscriptions of `data`.
    pub(crate) fn generate(seed: u64, data: &StripeData) -> More {
        let mut more = More::empty(seed);
        let mut rng = SeedRng::derive(seed, "stripe.more");
        let reference = data.reference;

        // Customers: created a little before their first charge (or some time ago).
        let mut first_charge: Vec<Option<i64>> = vec![None; data.customers.len()];
        for c in &data.charges.rows {
            if let Some(slot) = c.customer.and_then(|i| first_charge.get_mut(i as usize)) {
                *slot = Some(slot.map_or(c.created, |t| t.min(c.created)));
            }
        }
        let customers: Vec<CustomerRow> = data
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let created = match first_charge[i] {
                    Some(t) => t - rng.range(DAY, 60 * DAY),
                    None => reference - rng.range(DAY, 365 * DAY),
                };
                let phone = rng.chance(0.3).then(|| format!("+1555{}", rng.digits(7)));
                CustomerRow {
                    id: c.id.clone(),
                    created,
                    index: i as u32,
                    phone,
                }
            })
            .collect();

        // Subscriptions: one customer in seven (at least three customers), in their currency.
        let mut subscriptions = Vec::new();
        for row in &customers {
            if row.index % 7 == 3 || rng.chance(0.02) {
                let customer = &data.customers[row.index as usize];
                subscriptions.push(seed_subscription(&mut rng, row, customer, reference));
            }
        }

        // Disputes on a few succeeded, unrefunded charges (never the demo charges).
        let candidates: Vec<&Charge> = data
            .charges
            .rows
            .iter()
            .filter(|c| {
                c.status == ChargeStatus::Succeeded
                    && c.amount_refunded == 0
                    && c.created + 2 * DAY < reference
                    && !matches!(
                        c.description.as_deref(),
                        Some(DEMO_JPY_DESCRIPTION | DEMO_EUR_DESCRIPTION)
                    )
            })
            .collect();
        let wanted = (candidates.len() / 250).clamp(2, 60);
        let mut disputes = Vec::new();
        if candidates.len() >= 10 {
            let mut chosen = HashSet::new();
            while disputes.len() < wanted {
                let i = rng.below(candidates.len() as u64) as usize;
                if chosen.insert(i) {
                    disputes.push(seed_dispute(&mut rng, candidates[i], reference));
                }
            }
        }
        more.disputed = disputes.iter().map(|d| d.charge.clone()).collect();

        // Payouts: one object per seeded payout balance transaction.
        let mut payouts = Vec::new();
        for bt in data.bts.rows.iter().rev() {
            if bt.kind != BtType::Payout {
                continue;
            }
            let arrival_date = seed::day_start(bt.created) + 2 * DAY;
            payouts.push(Payout {
                id: bt.source.clone(),
                created: bt.created,
                amount: -bt.amount,
                currency: bt.currency,
                arrival_date,
                status: if arrival_date <= reference {
                    PayoutStatus::Paid
                } else {
                    PayoutStatus::InTransit
                },
                automatic: true,
                balance_transaction: bt.id.clone(),
                destination: more.bank_account(bt.currency),
            });
        }

        more.customers = Table::new(customers);
        more.subscriptions = Table::new(subscriptions);
        more.disputes = Table::new(disputes);
        more.payouts = Table::new(payouts);
        more
    }

    pub(crate) fn is_disputed(&self, charge: &str) -> bool {
        self.disputed.contains(charge)
    }

    /// The account's bank account for payouts in `currency` (made on first use).
    fn bank_account(&mut self, currency: &str) -> String {
        let rng = &mut self.rng;
        self.bank_accounts
            .entry(currency.to_string())
            .or_insert_with(|| format!("ba_1{}", rng.base62(23)))
            .clone()
    }

    /// Checks a `payout` filter of the balance transaction list as Stripe does: an unknown
    /// payout is a 404, a manual one a 400 (only automatic payouts know their transactions).
    pub(super) fn check_payout_filter(&self, payout: &str) -> Result<(), ApiError> {
        match self.payouts.get(payout) {
            None => Err(missing(Kind::Payout, payout, "payout")),
            Some(p) if !p.automatic => Err(invalid(
                "Balance transaction history can only be filtered on automatic transfers, not manual.",
                "payout",
            )),
            Some(_) => Ok(()),
        }
    }
}

fn seed_dispute(rng: &mut SeedRng, charge: &Charge, reference: i64) -> Dispute {
    let latest = (45 * DAY).min(reference - 3600 - charge.created);
    let created = charge.created + rng.range(DAY.min(latest), latest);
    let status = if reference - created < 7 * DAY {
        rng.pick(&[
            DisputeStatus::NeedsResponse,
            DisputeStatus::WarningNeedsResponse,
        ])
    } else {
        rng.weighted(&[
            (DisputeStatus::Won, 40),
            (DisputeStatus::Lost, 30),
            (DisputeStatus::UnderReview, 15),
            (DisputeStatus::NeedsResponse, 5),
            (DisputeStatus::WarningClosed, 10),
        ])
    };
    let weights: Vec<(usize, u32)> = DISPUTE_REASONS
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.2))
        .collect();
    let reason = rng.weighted(&weights);
    Dispute {
        id: format!("dp_1{}", rng.base62(23)),
        created,
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        amount: charge.amount,
        currency: charge.currency.clone(),
        status,
        reason: DISPUTE_REASONS[reason].0,
        due_by: seed::day_start(created) + 8 * DAY - 1,
        brand: charge.card.brand,
    }
}

/// Subscription prices per currency, in Stripe's units (ISK in hundredths).
fn subscription_prices(currency: &str) -> &'static [i64] {
    match currency {
        "jpy" => &[980, 1_980, 4_980],
        "kwd" => &[3_000, 5_500],
        "isk" => &[150_000, 290_000],
        _ => &[900, 1_500, 2_900, 4_900],
    }
}

fn seed_subscription(
    rng: &mut SeedRng,
    row: &CustomerRow,
    customer: &Customer,
    reference: i64,
) -> Subscription {
    let currency = PLANS
        .iter()
        .find(|p| p.countries.contains(&customer.country))
        .map_or("usd", |p| p.code);
    let (interval, interval_count, nickname) = rng.weighted(&[
        (("month", 1, "Monthly subscription"), 60),
        (("month", 1, "Online course access"), 15),
        (("month", 3, "Quarterly tea sampler"), 5),
        (("year", 1, "Annual membership"), 20),
    ]);
    let mut unit_amount = rng.pick(subscription_prices(currency));
    if interval == "year" {
        unit_amount *= 10;
    }
    let status = rng.weighted(&[
        ("active", 70),
        ("trialing", 5),
        ("past_due", 5),
        ("canceled", 14),
        ("paused", 2),
        ("unpaid", 2),
        ("incomplete_expired", 2),
    ]);
    let mut created = (row.created + rng.range(0, 30 * DAY)).min(reference - 2 * DAY);
    let trial = if status == "trialing" {
        created = reference - rng.range(DAY, 13 * DAY);
        Some((created, created + 14 * DAY))
    } else {
        None
    };
    let anchor = trial.map_or(created, |(_, end)| end);
    let step = |t: i64, n: i64| add_interval(t, interval, interval_count, n);
    // The period holding `at`: anchor + k periods <= at < anchor + (k + 1) periods.
    let period_at = |at: i64| {
        let mut k = 0;
        while step(anchor, k + 1) <= at {
            k += 1;
        }
        (step(anchor, k), step(anchor, k + 1))
    };
    let (mut start, mut end) = match trial {
        Some((trial_start, trial_end)) => (trial_start, trial_end),
        None => period_at(reference),
    };
    let mut sub = Subscription {
        id: format!("sub_1{}", rng.base62(23)),
        created,
        customer: row.id.clone(),
        item: format!("si_{}", rng.base62(14)),
        item_created: created,
        price: format!("price_1{}", rng.base62(23)),
        product: format!("prod_{}", rng.base62(14)),
        nickname,
        unit_amount,
        quantity: 1,
        currency,
        interval,
        interval_count,
        status,
        billing_cycle_anchor: anchor,
        current_period_start: start,
        current_period_end: end,
        cancel_at_period_end: false,
        cancel_at: None,
        canceled_at: None,
        ended_at: None,
        trial,
        cancellation_reason: None,
        cancellation_comment: None,
        description: None,
        metadata: BTreeMap::new(),
    };
    match status {
        "canceled" | "incomplete_expired" => {
            let ended = rng.range(created + DAY, reference - 3600);
            (start, end) = period_at(ended);
            sub.current_period_start = start;
            sub.current_period_end = end;
            sub.ended_at = Some(ended);
            sub.canceled_at = Some(ended);
            sub.cancellation_reason = Some(if status == "canceled" {
                "cancellation_requested"
            } else {
                "payment_failed"
            });
        }
        "active" if rng.chance(0.1) => {
            sub.cancel_at_period_end = true;
            sub.cancel_at = Some(end);
            sub.canceled_at = Some(rng.range(start, reference));
            sub.cancellation_reason = Some("cancellation_requested");
        }
        _ => {}
    }
    sub
}

/// `t` moved by `n` intervals (calendar months and years keep the day of the month, clamped to
/// the month's length, as Stripe's billing periods do).
fn add_interval(t: i64, interval: &str, count: u32, n: i64) -> i64 {
    let n = n * i64::from(count);
    match interval {
        "day" => t + n * DAY,
        "week" => t + n * 7 * DAY,
        "year" => add_months(t, 12 * n),
        _ => add_months(t, n),
    }
}

fn add_months(t: i64, months: i64) -> i64 {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let d = d.min(days_in_month(y, m));
    days_from_civil(y, m, d) * DAY + secs
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl StripeData {
    pub(crate) fn dispute_json(&self, d: &Dispute) -> Value {
        let evidence: Map<String, Value> = EVIDENCE_FIELDS
            .iter()
            .map(|f| (f.to_string(), Value::Null))
            .collect();
        let code = DISPUTE_REASONS
            .iter()
            .find(|r| r.0 == d.reason)
            .map_or("13.7", |r| r.1);
        let answered = matches!(
            d.status,
            DisputeStatus::UnderReview
                | DisputeStatus::WarningUnderReview
                | DisputeStatus::Won
                | DisputeStatus::Lost
        );
        let awaiting = matches!(
            d.status,
            DisputeStatus::NeedsResponse | DisputeStatus::WarningNeedsResponse
        );
        json!({
            "amount": d.amount,
            "balance_transactions": [],
            "charge": d.charge,
            "created": d.created,
            "currency": d.currency,
            "evidence": evidence,
            "evidence_details": {
                "due_by": d.due_by,
                "has_evidence": answered,
                // Seeded disputes are as of the reference time; ones opened by a hook are new.
                "past_due": awaiting && d.due_by < self.reference,
                "submission_count": i64::from(answered),
            },
            "id": d.id,
            "is_charge_refundable": matches!(
                d.status,
                DisputeStatus::WarningNeedsResponse | DisputeStatus::WarningUnderReview
            ),
            "livemode": false,
            "metadata": {},
            "object": "dispute",
            "payment_intent": d.payment_intent,
            "payment_method_details": {
                "card": {"brand": d.brand, "network_reason_code": code},
                "type": "card",
            },
            "reason": d.reason,
            "status": d.status.as_str(),
        })
    }

    pub(crate) fn payout_json(&self, p: &Payout) -> Value {
        let reconciliation = match (p.automatic, p.status) {
            (false, _) => "not_applicable",
            (true, PayoutStatus::Pending) => "in_progress",
            (true, _) => "completed",
        };
        json!({
            "amount": p.amount,
            "arrival_date": p.arrival_date,
            "automatic": p.automatic,
            "balance_transaction": p.balance_transaction,
            "created": p.created,
            "currency": p.currency,
            "description": if p.automatic { "STRIPE PAYOUT" } else { "Manual payout" },
            "destination": p.destination,
            "failure_balance_transaction": null,
            "failure_code": if p.status == PayoutStatus::Failed { json!("account_closed") } else { Value::Null },
            "failure_message": if p.status == PayoutStatus::Failed {
                json!("The bank account has been closed.")
            } else {
                Value::Null
            },
            "id": p.id,
            "livemode": false,
            "metadata": {},
            "method": "standard",
            "object": "payout",
            "original_payout": null,
            "reconciliation_status": reconciliation,
            "reversed_by": null,
            "source_type": "card",
            "statement_descriptor": null,
            "status": p.status.as_str(),
            "type": "bank_account",
        })
    }

    pub(crate) fn customer_json(&self, row: &CustomerRow) -> Value {
        let c = &self.customers[row.index as usize];
        let city = CITIES
            .iter()
            .find(|(cc, _)| *cc == c.country)
            .map_or("Springfield", |(_, cities)| {
                cities[row.index as usize % cities.len()]
            });
        // Stripe's invoice prefix: eight upper-case letters and digits, fixed per customer.
        let prefix: String = row.id[4..]
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|ch| ch.to_ascii_uppercase())
            .take(8)
            .collect();
        json!({
            "address": {
                "city": city,
                "country": c.country,
                "line1": null,
                "line2": null,
                "postal_code": null,
                "state": null,
            },
            "balance": 0,
            "created": row.created,
            "currency": null,
            "default_source": null,
            "delinquent": false,
            "description": null,
            "discount": null,
            "email": c.person.email(),
            "id": row.id,
            "invoice_prefix": prefix,
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": null,
                "footer": null,
                "rendering_options": null,
            },
            "livemode": false,
            "metadata": {},
            "name": c.person.name(),
            "next_invoice_sequence": 1,
            "object": "customer",
            "phone": row.phone,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }

    pub(crate) fn subscription_json(&self, s: &Subscription) -> Value {
        let price = json!({
            "active": true,
            "billing_scheme": "per_unit",
            "created": s.item_created,
            "currency": s.currency,
            "custom_unit_amount": null,
            "id": s.price,
            "livemode": false,
            "lookup_key": null,
            "metadata": {},
            "nickname": s.nickname,
            "object": "price",
            "product": s.product,
            "recurring": {
                "aggregate_usage": null,
                "interval": s.interval,
                "interval_count": s.interval_count,
                "usage_type": "licensed",
            },
            "tax_behavior": "unspecified",
            "tiers_mode": null,
            "transform_quantity": null,
            "type": "recurring",
            "unit_amount": s.unit_amount,
            "unit_amount_decimal": s.unit_amount.to_string(),
        });
        json!({
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": {"enabled": false},
            "billing_cycle_anchor": s.billing_cycle_anchor,
            "billing_thresholds": null,
            "cancel_at": s.cancel_at,
            "cancel_at_period_end": s.cancel_at_period_end,
            "canceled_at": s.canceled_at,
            "cancellation_details": {
                "comment": s.cancellation_comment,
                "feedback": null,
                "reason": s.cancellation_reason,
            },
            "collection_method": "charge_automatically",
            "created": s.created,
            "currency": s.currency,
            "current_period_end": s.current_period_end,
            "current_period_start": s.current_period_start,
            "customer": s.customer,
            "days_until_due": null,
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": s.description,
            "discount": null,
            "ended_at": s.ended_at,
            "id": s.id,
            "items": {
                "data": [{
                    "billing_thresholds": null,
                    "created": s.item_created,
                    "id": s.item,
                    "metadata": {},
                    "object": "subscription_item",
                    "price": price,
                    "quantity": s.quantity,
                    "subscription": s.id,
                    "tax_rates": [],
                }],
                "has_more": false,
                "object": "list",
                "url": format!("/v1/subscription_items?subscription={}", s.id),
            },
            "latest_invoice": null,
            "livemode": false,
            "metadata": s.metadata,
            "next_pending_invoice_item_invoice": null,
            "object": "subscription",
            "on_behalf_of": null,
            "pause_collection": null,
            "payment_settings": {
                "payment_method_options": null,
                "payment_method_types": null,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "schedule": null,
            "start_date": s.created,
            "status": s.status,
            "test_clock": null,
            "transfer_data": null,
            "trial_end": s.trial.map(|t| t.1),
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": s.trial.map(|t| t.0),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Lists and retrieves

/// One page of a list this module (or the events and Checkout modules) serves.
pub(super) fn page<'a>(
    data: &'a StripeData,
    kind: Kind,
    q: &ListParams,
    missing_cursor: &dyn Fn(&'static str) -> ApiError,
) -> Result<(Vec<Item<'a>>, bool), ApiError> {
    let more = &data.more;
    Ok(match kind {
        Kind::Dispute => {
            let (charge, pi) = (q.filter("charge"), q.filter("payment_intent"));
            let page = more
                .disputes
                .page(q, |d| {
                    charge.is_none_or(|w| d.charge == w) && pi.is_none_or(|w| d.payment_intent == w)
                })
                .map_err(missing_cursor)?;
            items(page, Item::Dispute)
        }
        Kind::Payout => {
            let (status, destination) = (q.filter("status"), q.filter("destination"));
            let page = more
                .payouts
                .page(q, |p| {
                    status.is_none_or(|w| p.status.as_str() == w)
                        && destination.is_none_or(|w| p.destination == w)
                        && q.in_range("arrival_date", p.arrival_date)
                })
                .map_err(missing_cursor)?;
            items(page, Item::Payout)
        }
        Kind::Customer => {
            let email = q.filter("email");
            // No seeded customer belongs to a test clock.
            let clock = q.filter("test_clock");
            let page = more
                .customers
                .page(q, |c| {
                    clock.is_none()
                        && email
                            .is_none_or(|w| data.customers[c.index as usize].person.email() == w)
                })
                .map_err(missing_cursor)?;
            items(page, Item::Customer)
        }
        Kind::Subscription => {
            let status = q.filter("status");
            if let Some(s) = status
                && ![
                    "active",
                    "all",
                    "canceled",
                    "ended",
                    "incomplete",
                    "incomplete_expired",
                    "past_due",
                    "paused",
                    "trialing",
                    "unpaid",
                ]
                .contains(&s)
            {
                return Err(invalid(
                    format!(
                        "Invalid status: must be one of active, all, canceled, ended, incomplete, incomplete_expired, past_due, paused, trialing, or unpaid (got {s})"
                    ),
                    "status",
                ));
            }
            let (customer, price) = (q.filter("customer"), q.filter("price"));
            let method = q.filter("collection_method");
            let tax = q.filter("automatic_tax[enabled]");
            let clock = q.filter("test_clock");
            let page = more
                .subscriptions
                .page(q, |s| {
                    let by_status = match status {
                        // Stripe leaves canceled subscriptions out unless asked for them.
                        None => s.status != "canceled",
                        Some("all") => true,
                        Some("ended") => matches!(s.status, "canceled" | "incomplete_expired"),
                        Some(w) => s.status == w,
                    };
                    by_status
                        && customer.is_none_or(|w| s.customer == w)
                        && price.is_none_or(|w| s.price == w)
                        && method.is_none_or(|w| w == "charge_automatically")
                        && tax.is_none_or(|w| w == "false")
                        && clock.is_none()
                        && q.in_range("current_period_end", s.current_period_end)
                        && q.in_range("current_period_start", s.current_period_start)
                })
                .map_err(missing_cursor)?;
            items(page, Item::Subscription)
        }
        Kind::Event => events::page(&more.events, q, missing_cursor)?,
        Kind::CheckoutSession => billing::page(&more.sessions, q, missing_cursor)?,
        Kind::Charge | Kind::Refund | Kind::BalanceTransaction => {
            unreachable!("listed by stripe.rs")
        }
    })
}

/// A page's objects as list items, and whether more follow.
pub(super) fn items<'a, T>(
    page: Page<'a, T>,
    wrap: fn(&'a T) -> Item<'a>,
) -> (Vec<Item<'a>>, bool) {
    (page.items.into_iter().map(wrap).collect(), page.has_more)
}

/// One object of the kinds this module (or the events and Checkout modules) serves.
pub(super) fn retrieve(data: &StripeData, kind: Kind, id: &str) -> Option<Value> {
    let more = &data.more;
    match kind {
        Kind::Dispute => more.disputes.get(id).map(|d| data.dispute_json(d)),
        Kind::Payout => more.payouts.get(id).map(|p| data.payout_json(p)),
        Kind::Customer => more.customers.get(id).map(|c| data.customer_json(c)),
        Kind::Subscription => more
            .subscriptions
            .get(id)
            .map(|s| data.subscription_json(s)),
        Kind::Event => more.events.retained_event(id).map(events::Event::json),
        Kind::CheckoutSession => more.sessions.get(id).map(billing::CheckoutSession::json),
        Kind::Charge | Kind::Refund | Kind::BalanceTransaction => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Test hooks

impl StripeControl {
    /// Opens a dispute on `charge` now (`needs_response`, evidence due in a week) and emits
    /// `charge.dispute.created`. Returns the dispute's id. Panics on an unknown charge.
    pub fn open_dispute(&self, charge: &str) -> String {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let c = data
            .charges
            .get(charge)
            .unwrap_or_else(|| panic!("the Stripe fake has no charge {charge}"))
            .clone();
        let now = seed::now_unix();
        let dispute = Dispute {
            id: format!("dp_1{}", data.more.rng.base62(23)),
            created: now,
            charge: c.id.clone(),
            payment_intent: c.payment_intent.clone(),
            amount: c.amount,
            currency: c.currency.clone(),
            status: DisputeStatus::NeedsResponse,
            reason: "fraudulent",
            due_by: seed::day_start(now) + 8 * DAY - 1,
            brand: c.card.brand,
        };
        let id = dispute.id.clone();
        data.more.disputed.insert(c.id);
        data.more.disputes.insert(dispute);
        data.emit("charge.dispute.created", &id, None, None);
        id
    }

    /// Moves dispute `id` to `status` and emits `charge.dispute.updated` (or
    /// `charge.dispute.closed` when it is over). Panics on an unknown dispute.
    pub fn set_dispute_status(&self, id: &str, status: DisputeStatus) {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let dispute = data
            .more
            .disputes
            .get_mut(id)
            .unwrap_or_else(|| panic!("the Stripe fake has no dispute {id}"));
        let before = dispute.status;
        dispute.status = status;
        let kind = if status.closed() {
            "charge.dispute.closed"
        } else {
            "charge.dispute.updated"
        };
        data.emit(kind, id, Some(json!({"status": before.as_str()})), None);
    }

    /// Pays out the balance transactions of `charges` (and of their refunds) in a new automatic
    /// payout created now: `pending`, arriving in two days, its reconciliation `in_progress`
    /// until it moves on. Emits `payout.created`; returns the payout's id. Panics on an unknown
    /// charge, one without a balance transaction, one already paid out, or mixed currencies.
    pub fn add_payout_now(&self, charges: &[&str]) -> String {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let mut members = Vec::new();
        for charge in charges {
            let c = data
                .charges
                .get(charge)
                .unwrap_or_else(|| panic!("the Stripe fake has no charge {charge}"));
            members.extend(c.balance_transaction.clone());
            members.extend(
                data.refunds
                    .rows
                    .iter()
                    .filter(|r| r.charge == *charge)
                    .filter_map(|r| r.balance_transaction.clone()),
            );
        }
        let now = seed::now_unix();
        let id = data.pay_out(&members, 0, now, PayoutStatus::Pending);
        data.emit("payout.created", &id, None, None);
        id
    }

    /// Moves payout `id` one step: `pending` → `in_transit` → `paid` (then it stays), emitting
    /// `payout.updated`, `payout.reconciliation_completed` when it leaves `pending` (its
    /// transactions can be listed from then on) and `payout.paid` when it is paid. Returns the
    /// new status. Panics on an unknown payout.
    pub fn advance_payout(&self, id: &str) -> PayoutStatus {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let payout = data
            .more
            .payouts
            .get_mut(id)
            .unwrap_or_else(|| panic!("the Stripe fake has no payout {id}"));
        let before = payout.status;
        payout.status = match before {
            PayoutStatus::Pending => PayoutStatus::InTransit,
            PayoutStatus::InTransit | PayoutStatus::Paid => PayoutStatus::Paid,
            other => other,
        };
        let after = payout.status;
        if after != before {
            let mut previous = json!({"status": before.as_str()});
            if before == PayoutStatus::Pending {
                previous["reconciliation_status"] = json!("in_progress");
            }
            data.emit("payout.updated", id, Some(previous), None);
            if before == PayoutStatus::Pending {
                data.emit("payout.reconciliation_completed", id, None, None);
            }
            if after == PayoutStatus::Paid {
                data.emit("payout.paid", id, None, None);
            }
        }
        after
    }

    /// A manual payout (one the user asked for in the Dashboard) of `amount` `currency` made
    /// now and already paid. Stripe cannot say which transactions a manual payout contains, so
    /// `GET /v1/balance_transactions?payout=` refuses it. Emits `payout.created`; returns its id.
    pub fn add_manual_payout(&self, amount: i64, currency: &str) -> String {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let currency = leak(&currency.to_ascii_lowercase());
        let now = seed::now_unix();
        let id = format!("po_1{}", data.more.rng.base62(23));
        let bt = data.payout_transaction(&id, amount, currency, now);
        let destination = data.more.bank_account(currency);
        data.more.payouts.insert(Payout {
            id: id.clone(),
            created: now,
            amount,
            currency,
            arrival_date: now,
            status: PayoutStatus::Paid,
            automatic: false,
            balance_transaction: bt,
            destination,
        });
        data.emit("payout.created", &id, None, None);
        id
    }

    /// Adds, in the seeded past (five days before the reference time), an automatic paid USD
    /// payout whose balance transactions do NOT add up to it: two charges are paid out and the
    /// payout's amount is one dollar more than what they net. For reconciliation tests.
    /// Returns the payout's id.
    pub fn add_unbalanced_payout(&self) -> String {
        let mut state = self.state();
        state.item_json.clear();
        let data = &mut state.data;
        let at = data.reference - 5 * DAY;
        let mut members = Vec::new();
        for (amount, age) in [(4_200, 7), (1_850, 6)] {
            let spec = ChargeSpec {
                created: data.reference - age * DAY,
                amount,
                currency: "usd",
                status: ChargeStatus::Succeeded,
                customer: None,
                description: Some("Sandbox charge of an unbalanced payout".to_string()),
                now: data.reference,
            };
            let (charge, bt) = data.make_charge(spec);
            data.charges.insert(charge);
            if let Some(bt) = bt {
                members.push(bt.id.clone());
                data.bts.insert(bt);
            }
        }
        data.pay_out(&members, 100, at, PayoutStatus::Paid)
    }

    /// Ids of the payouts the fake holds, newest first.
    pub fn payout_ids(&self) -> Vec<String> {
        let state = self.state();
        state
            .data
            .more
            .payouts
            .rows
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    /// Ids of the disputes the fake holds, newest first.
    pub fn dispute_ids(&self) -> Vec<String> {
        let state = self.state();
        state
            .data
            .more
            .disputes
            .rows
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }
}

impl StripeData {
    /// Makes an automatic payout created `at` of the balance transactions `members` (all in
    /// one currency, none paid out yet), its amount their net plus `extra`, with its own
    /// `payout` balance transaction. Returns the payout's id.
    fn pay_out(&mut self, members: &[String], extra: i64, at: i64, status: PayoutStatus) -> String {
        let id = format!("po_1{}", self.more.rng.base62(23));
        let mut net = 0;
        let mut currency: Option<&'static str> = None;
        for member in members {
            let bt = self
                .bts
                .get_mut(member)
                .unwrap_or_else(|| panic!("no balance transaction {member}"));
            assert!(
                bt.payout.is_none(),
                "{member} is already in payout {:?}",
                bt.payout
            );
            assert!(
                currency.is_none_or(|c| c == bt.currency),
                "a payout has one currency"
            );
            currency = Some(bt.currency);
            bt.payout = Some(id.clone());
            net += bt.net;
        }
        let currency = currency.expect("a payout pays out at least one transaction");
        let amount = net + extra;
        let bt = self.payout_transaction(&id, amount, currency, at);
        let destination = self.more.bank_account(currency);
        self.more.payouts.insert(Payout {
            id: id.clone(),
            created: at,
            amount,
            currency,
            arrival_date: seed::day_start(at) + 2 * DAY,
            status,
            automatic: true,
            balance_transaction: bt,
            destination,
        });
        id
    }

    /// The `payout` balance transaction of payout `id`; returns its id.
    fn payout_transaction(
        &mut self,
        id: &str,
        amount: i64,
        currency: &'static str,
        at: i64,
    ) -> String {
        let bt = BalanceTx {
            id: format!("txn_1{}", self.more.rng.base62(23)),
            created: at,
            amount: -amount,
            currency,
            fee: 0,
            net: -amount,
            available_on: at,
            available: true,
            exchange_rate: None,
            source: id.to_string(),
            kind: BtType::Payout,
            description: Some("STRIPE PAYOUT".to_string()),
            payout: None,
        };
        let bt_id = bt.id.clone();
        self.bts.insert(bt);
        bt_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_keep_the_day_and_clamp_it() {
        // 2024-01-31T10:00:00Z + 1 month = 2024-02-29 (leap year), + 13 months = 2025-02-28.
        let jan31 = days_from_civil(2024, 1, 31) * DAY + 36_000;
        assert_eq!(
            add_months(jan31, 1),
            days_from_civil(2024, 2, 29) * DAY + 36_000
        );
        assert_eq!(
            add_months(jan31, 13),
            days_from_civil(2025, 2, 28) * DAY + 36_000
        );
        assert_eq!(
            civil_from_days(days_from_civil(1999, 12, 31)),
            (1999, 12, 31)
        );
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(add_interval(0, "week", 2, 1), 14 * DAY);
    }

    #[test]
    fn seeded_objects_are_consistent() {
        let data = StripeData::generate(8, 3_000);
        let more = &data.more;
        assert!(more.disputes.len() >= 2);
        for d in more.disputes.rows.iter() {
            let c = data.charges.get(&d.charge).expect("dispute's charge");
            assert_eq!(
                (d.amount, d.currency.as_str()),
                (c.amount, c.currency.as_str())
            );
            assert!(d.created > c.created && d.created < data.reference);
            assert!(data.charge_json(c, &[])["disputed"] == true);
        }
        assert_eq!(more.customers.len(), data.customers.len());
        assert!(more.subscriptions.len() >= 3);
        for s in more.subscriptions.rows.iter() {
            assert!(more.customers.get(&s.customer).is_some());
            assert!(s.current_period_start < s.current_period_end);
            if s.status != "canceled" && s.status != "incomplete_expired" && s.trial.is_none() {
                assert!(
                    (s.current_period_start..s.current_period_end).contains(&data.reference),
                    "{s:?}"
                );
            }
        }
        // Every payout balance transaction has its payout object, and its members add up.
        let payouts: Vec<&BalanceTx> = data
            .bts
            .rows
            .iter()
            .filter(|b| b.kind == BtType::Payout)
            .collect();
        assert_eq!(payouts.len(), more.payouts.len());
        for bt in payouts {
            let p = more.payouts.get(&bt.source).expect("payout object");
            assert_eq!(p.amount, -bt.amount);
            let members: i64 = data
                .bts
                .rows
                .iter()
                .filter(|m| m.payout.as_deref() == Some(p.id.as_str()))
                .map(|m| m.net)
                .sum();
            assert_eq!(members, p.amount, "{}", p.id);
        }
        // The same seed gives the same objects.
        let again = StripeData::generate(8, 3_000);
        let ids = |t: &Table<Subscription>| t.rows.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&more.subscriptions), ids(&again.more.subscriptions));
    }
}
