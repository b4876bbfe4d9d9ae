//! The PayPal merchant's money as the fake keeps it: captures (checkout, mobile and
//! subscription payments), refunds, withdrawals to the bank, a currency conversion, billing
//! subscriptions and checkout orders, plus the state of the payments APIs' test hooks.
//!
//! Seeded from [`crate::seed`] (stream `paypal.ledger`): the same seed gives the same ids,
//! amounts, payers and order of events. Transaction Search only reaches three years back, so
//! the history does not hang off the seed's reference time directly (it would fall out of
//! reach as the years pass): it ends at the reference time moved forward by whole 52-week
//! steps to within the last year (weekdays and times of day stay the same), and reaches 430
//! days before that.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::Value;

use crate::credentials::upper_alnum;
use crate::seed::{self, Person, SeedRng};

pub(crate) const DAY: i64 = 86_400;
const WEEKS_52: i64 = 364 * DAY;
/// How far the seeded history reaches before its end.
pub(crate) const HISTORY_DAYS: i64 = 430;
/// Ordinary captures spread over the history.
const REGULAR_CAPTURES: usize = 900;
/// Captures of a busy week (a sale), so some 31-day search windows hold more than one
/// 500-item page whatever their alignment: more than 1,000 within 8 days.
const BURST_CAPTURES: usize = 1_050;
const BURST_DAYS: i64 = 8;
/// The burst starts this long before the history ends.
const BURST_BEFORE_END_DAYS: i64 = 75;
/// Customers who buy (a pool, so people come back).
const PAYERS: usize = 300;

/// The seeded plans' names, one per seeded subscription.
const PLAN_NAMES: [&str; 6] = [
    "Basic membership",
    "Pro membership",
    "Club mensuel",
    "Tea club",
    "Yoga studio pass",
    "Studio plus",
];

/// Decimal places PayPal uses for `currency`: none for JPY, HUF and TWD ("this currency does
/// not support decimals", https://developer.paypal.com/api/rest/reference/currency-codes/),
/// two for the others it supports.
pub(crate) fn decimals(currency: &str) -> u32 {
    match currency {
        "JPY" | "HUF" | "TWD" => 0,
        _ => 2,
    }
}

/// `amount` (in `currency`'s PayPal units) as PayPal writes it: `"10.50"`, `"-1.23"`, `"1000"`.
pub(crate) fn value(amount: i64, currency: &str) -> String {
    let places = decimals(currency) as usize;
    let digits = amount.unsigned_abs().to_string();
    let body = if places == 0 {
        digits
    } else {
        let padded = format!("{digits:0>width$}", width = places + 1);
        let (int, frac) = padded.split_at(padded.len() - places);
        format!("{int}.{frac}")
    };
    if amount < 0 { format!("-{body}") } else { body }
}

/// Why a money `value` cannot be read in `currency`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadValue {
    /// Not a decimal number.
    Syntax,
    /// More decimals than the currency has (PayPal's `DECIMAL_PRECISION`, or
    /// `DECIMALS_NOT_SUPPORTED` for currencies without decimals).
    Precision,
}

/// A money `value` in `currency`'s PayPal units.
pub(crate) fn parse_value(text: &str, currency: &str) -> Result<i64, BadValue> {
    let places = decimals(currency) as usize;
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty())
        || (digits.contains('.') && frac.is_empty())
        || !all_digits(int)
        || !all_digits(frac)
    {
        return Err(BadValue::Syntax);
    }
    if frac.len() > places {
        return Err(BadValue::Precision);
    }
    let scaled = format!("{int}{frac:0<places$}");
    let magnitude: i64 = if scaled.is_empty() {
        0
    } else {
        scaled.parse().map_err(|_| BadValue::Syntax)?
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// PayPal's fee on a received payment: 3.49 % plus a fixed part per currency, in the
/// currency's PayPal units (PayPal's published commercial rates, rounded).
pub(crate) fn fee_for(amount: i64, currency: &str) -> i64 {
    let fixed = match currency {
        "USD" => 49,
        "EUR" => 39,
        "GBP" => 30,
        "JPY" => 40,
        "HUF" => 90,
        _ => 30,
    };
    (amount * 349 + 5_000) / 10_000 + fixed
}

/// A customer's PayPal account.
#[derive(Clone, Debug)]
pub(crate) struct Payer {
    /// 13 characters of `[2-9A-HJ-NP-Z]` (PayPal's payer id alphabet).
    pub account_id: String,
    pub person: Person,
    pub country: &'static str,
}

impl Payer {
    pub(crate) fn random(rng: &mut SeedRng) -> Payer {
        const COUNTRIES: &[&str] = &["US", "US", "US", "GB", "DE", "FR", "JP", "HU", "CA"];
        Payer {
            account_id: payer_id(rng),
            person: Person::random(rng),
            country: rng.pick(COUNTRIES),
        }
    }

    pub(crate) fn given_name(&self) -> &'static str {
        seed::FIRST_NAMES[self.person.first as usize]
    }

    pub(crate) fn surname(&self) -> &'static str {
        seed::LAST_NAMES[self.person.last as usize]
    }
}

/// A PayPal payer or merchant id: 13 characters without 0, 1, I and O.
pub(crate) fn payer_id(rng: &mut SeedRng) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    (0..13)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// A PayPal transaction, capture, refund or order id: 17 upper-case letters and digits.
pub(crate) fn transaction_id(rng: &mut SeedRng) -> String {
    upper_alnum(rng, 17)
}

/// Money the merchant received: a capture of a checkout order, a mobile payment or a
/// subscription's payment.
#[derive(Clone, Debug)]
pub(crate) struct Capture {
    pub id: String,
    /// `T0006` (checkout APIs), `T0011` (mobile payment) or `T0002` (subscription payment).
    pub event_code: &'static str,
    pub currency: String,
    /// In the currency's PayPal units.
    pub amount: i64,
    pub fee: i64,
    pub refunded: i64,
    /// An eCheck that has not cleared: `PENDING` (`P` in search).
    pub pending: bool,
    pub at: i64,
    pub updated: i64,
    pub payer: Payer,
    pub item: String,
    pub order_id: Option<String>,
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub custom_id: Option<String>,
}

impl Capture {
    /// Payments v2 status.
    pub(crate) fn status(&self) -> &'static str {
        if self.pending {
            "PENDING"
        } else if self.refunded >= self.amount {
            "REFUNDED"
        } else if self.refunded > 0 {
            "PARTIALLY_REFUNDED"
        } else {
            "COMPLETED"
        }
    }

    /// Transaction Search status: `P` pending, `V` reversed (refunded in full), `S` success.
    pub(crate) fn search_status(&self) -> &'static str {
        if self.pending {
            "P"
        } else if self.refunded >= self.amount {
            "V"
        } else {
            "S"
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub id: String,
    pub capture_id: String,
    pub currency: String,
    pub amount: i64,
    /// The part of the capture's fee PayPal gives back (never the fixed part).
    pub fee_returned: i64,
    pub at: i64,
    pub payer: Payer,
    pub invoice_id: Option<String>,
    pub custom_id: Option<String>,
    pub note_to_payer: Option<String>,
}

/// Money sent from the PayPal balance to the merchant's bank (`T0400`).
#[derive(Clone, Debug)]
pub(crate) struct Withdrawal {
    pub id: String,
    pub currency: String,
    pub amount: i64,
    pub at: i64,
}

/// Another balance movement the fake serves as it comes (a currency conversion, `T0200`):
/// Switchboard has no record kind for it.
#[derive(Clone, Debug)]
pub(crate) struct Other {
    pub id: String,
    pub event_code: &'static str,
    pub currency: String,
    /// Signed, as PayPal shows it.
    pub amount: i64,
    pub at: i64,
}

/// A billing plan (`GET /v1/billing/plans/{id}`): a regular monthly cycle at a fixed price,
/// some after free trial months.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub id: String,
    pub product_id: String,
    pub name: &'static str,
    pub currency: String,
    /// The regular cycle's fixed price, in PayPal units of `currency`.
    pub amount: i64,
    /// Free months before the regular cycle (a `TRIAL` cycle without a price), if any.
    pub trial_months: Option<i64>,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub id: String,
    pub plan_id: String,
    /// `ACTIVE`, `SUSPENDED`, `CANCELLED`…
    pub status: &'static str,
    pub status_note: Option<String>,
    pub status_updated: i64,
    pub payer: Payer,
    pub currency: String,
    pub start: i64,
    pub created: i64,
    pub updated: i64,
    pub cycles_completed: i64,
    pub last_payment: Option<(i64, i64)>,
    pub next_billing: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub id: String,
    pub intent: String,
    /// `CREATED`, `PAYER_ACTION_REQUIRED`, `APPROVED`, `COMPLETED`, `VOIDED`.
    pub status: &'static str,
    pub currency: String,
    pub amount: i64,
    pub reference_id: String,
    pub description: Option<String>,
    pub custom_id: Option<String>,
    pub invoice_id: Option<String>,
    /// `payment_source.paypal.email_address` of the request, when given.
    pub payer_email: Option<String>,
    /// Whether the request named `payment_source.paypal` (then the payer's link is
    /// `payer-action`, else `approve`).
    pub payer_action: bool,
    /// `payment_source.paypal.experience_context.return_url`: where PayPal sends the payer
    /// after approving.
    pub return_url: Option<String>,
    /// Who approved it (a test hook plays the buyer).
    pub payer: Option<Payer>,
    pub capture_id: Option<String>,
    pub at: i64,
    pub updated: i64,
}

/// What an earlier request with the same `PayPal-Request-Id` made.
#[derive(Clone, Debug)]
pub(crate) struct Replay {
    pub status: u16,
    pub object_id: String,
}

/// A webhook delivery the fake signed (see `webhooks`).
#[derive(Clone, Debug)]
pub(crate) struct Transmission {
    pub webhook_id: String,
    pub time: String,
    pub signature: String,
    pub event: Value,
}

/// Injected failures of the payments APIs (never of the token endpoint).
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Statuses the next requests answer with, before anything is applied.
    pub next: VecDeque<u16>,
    /// After this many more answered requests, every request fails with the status.
    pub after: Option<(usize, u16)>,
    /// The next POSTs are applied, then answered with a 500 (an answer lost on the way).
    pub lose_posts: usize,
}

/// One Transaction Search request as the fake received it (for tests to see where a sync
/// asked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayPalSearch {
    pub start_date: String,
    pub end_date: String,
    pub page: i64,
    pub page_size: i64,
}

pub(crate) struct Ledger {
    /// New ids and payers for objects made through the API or the test hooks.
    pub rng: SeedRng,
    pub merchant_id: String,
    pub merchant_email: String,
    pub account_number: String,
    pub captures: Vec<Capture>,
    capture_index: HashMap<String, usize>,
    pub refunds: Vec<Refund>,
    pub withdrawals: Vec<Withdrawal>,
    pub others: Vec<Other>,
    pub subscriptions: Vec<Subscription>,
    pub plans: Vec<Plan>,
    pub orders: Vec<Order>,
    /// By (route, `PayPal-Request-Id`).
    pub replays: HashMap<(String, String), Replay>,
    /// By transmission id.
    pub transmissions: HashMap<String, Transmission>,
    /// Seconds after it happens that a transaction shows in Transaction Search.
    pub search_delay: i64,
    /// Whether the app may use Transaction Search (a REST app feature PayPal must enable).
    pub search_permitted: bool,
    pub faults: Faults,
    /// Requests per route (`GET /v1/reporting/transactions`), whatever their answer.
    pub counts: BTreeMap<String, usize>,
    pub searches: Vec<PayPalSearch>,
    /// When the seeded history ends.
    pub history_end: i64,
}

/// The seed's reference time moved forward by whole 52-week steps to within a year before
/// `now` (see the module notes).
pub(crate) fn history_end(seed: u64, now: i64) -> i64 {
    let reference = seed::reference_time(seed);
    let steps = ((now - reference) / WEEKS_52).max(0);
    reference + steps * WEEKS_52
}

impl Ledger {
    pub(crate) fn seeded(seed: u64, now: i64) -> Ledger {
        let mut rng = SeedRng::derive(seed, "paypal.ledger");
        let end = history_end(seed, now);
        let start = end - HISTORY_DAYS * DAY;
        let merchant_id = payer_id(&mut rng);
        let account_number = payer_id(&mut rng);
        let mut ledger = Ledger {
            rng: SeedRng::derive(seed, "paypal.live"),
            merchant_email: "sales@shop.example".to_string(),
            merchant_id,
            account_number,
            captures: Vec::new(),
            capture_index: HashMap::new(),
            refunds: Vec::new(),
            withdrawals: Vec::new(),
            others: Vec::new(),
            subscriptions: Vec::new(),
            plans: Vec::new(),
            orders: Vec::new(),
            replays: HashMap::new(),
            transmissions: HashMap::new(),
            search_delay: 0,
            search_permitted: true,
            faults: Faults::default(),
            counts: BTreeMap::new(),
            searches: Vec::new(),
            history_end: end,
        };
        let payers: Vec<Payer> = (0..PAYERS).map(|_| Payer::random(&mut rng)).collect();

        // Ordinary days, and a busy sale week.
        let burst_start = end - BURST_BEFORE_END_DAYS * DAY;
        let mut times: Vec<i64> = (0..REGULAR_CAPTURES)
            .map(|_| rng.range(start, end - 3_600))
            .collect();
        times.extend(
            (0..BURST_CAPTURES).map(|_| rng.range(burst_start, burst_start + BURST_DAYS * DAY)),
        );
        times.sort_unstable();
        for at in times {
            let currency = rng.weighted(&[
                ("USD", 45),
                ("EUR", 25),
                ("GBP", 10),
                ("JPY", 12),
                ("HUF", 8),
            ]);
            let amount = match currency {
                "JPY" => rng.log_uniform(30, 5_000) * 10,
                "HUF" => rng.log_uniform(1_000, 90_000),
                _ => rng.log_uniform(500, 50_000),
            };
            let payer = payers[rng.below(payers.len() as u64) as usize].clone();
            let event_code = if rng.chance(0.12) { "T0011" } else { "T0006" };
            let pending = rng.chance(0.02);
            let item = rng.pick(seed::PRODUCTS).to_string();
            let invoice_id = rng.chance(0.3).then(|| format!("INV-{}", rng.digits(6)));
            let order_id = (event_code == "T0006").then(|| transaction_id(&mut rng));
            let id = transaction_id(&mut rng);
            ledger.push_capture(Capture {
                id,
                event_code,
                currency: currency.to_string(),
                amount,
                fee: fee_for(amount, currency),
                refunded: 0,
                pending,
                at,
                updated: at + rng.range(1, 40),
                payer,
                item,
                order_id,
                subscription_id: None,
                invoice_id,
                custom_id: None,
            });
        }

        // Refunds of some of them: whole or in part, hours to weeks later.
        for i in 0..ledger.captures.len() {
            if ledger.captures[i].pending || !rng.chance(0.07) {
                continue;
            }
            let at = ledger.captures[i].at + rng.range(3_600, 20 * DAY);
            if at >= end {
                continue;
            }
            let c = &ledger.captures[i];
            let unit = 10i64.pow(decimals(&c.currency));
            let amount = if rng.chance(0.5) {
                c.amount
            } else {
                ((c.amount * rng.range(10, 90) / 100) / unit * unit).max(1)
            };
            let id = transaction_id(&mut rng);
            ledger.record_refund(i, id, amount, at, None, None);
        }

        // Subscriptions paid monthly, two of them cancelled since; one plan starts with a free
        // month.
        let plans: [(&str, i64); 6] = [
            ("USD", 999),
            ("USD", 1_900),
            ("EUR", 1_200),
            ("GBP", 750),
            ("JPY", 1_500),
            ("USD", 4_900),
        ];
        for (n, (currency, amount)) in plans.into_iter().enumerate() {
            let payer = payers[rng.below(payers.len() as u64) as usize].clone();
            let created = rng.range(start + DAY, end - 60 * DAY);
            let sub_start = created + rng.range(60, 3_600);
            let cancelled_at = (n % 3 == 1).then(|| rng.range(sub_start + 40 * DAY, end - DAY));
            let id = format!("I-{}", upper_alnum(&mut rng, 12));
            let plan_id = format!("P-{}", upper_alnum(&mut rng, 24));
            // Each subscription on a plan of its own (names by position: no draw, so the
            // seeded data is what it was before plans were served).
            ledger.plans.push(Plan {
                id: plan_id.clone(),
                product_id: format!("PROD-{}", &plan_id[2..14]),
                name: PLAN_NAMES[n],
                currency: currency.to_string(),
                amount,
                trial_months: (n == 5).then_some(1),
                created: created - 30 * DAY,
            });
            let mut cycles = 0;
            let mut last = None;
            let mut at = sub_start;
            while at < end && cancelled_at.is_none_or(|c| at < c) {
                let capture_id = transaction_id(&mut rng);
                ledger.push_capture(Capture {
                    id: capture_id,
                    event_code: "T0002",
                    currency: currency.to_string(),
                    amount,
                    fee: fee_for(amount, currency),
                    refunded: 0,
                    pending: false,
                    at,
                    updated: at + 5,
                    payer: payer.clone(),
                    item: "Monthly subscription".to_string(),
                    order_id: None,
                    subscription_id: Some(id.clone()),
                    invoice_id: None,
                    custom_id: None,
                });
                cycles += 1;
                last = Some((amount, at));
                at += 30 * DAY;
            }
            let (status, note, status_updated, next_billing) = match cancelled_at {
                Some(c) => (
                    "CANCELLED",
                    Some("Customer asked to stop".to_string()),
                    c,
                    None,
                ),
                None => ("ACTIVE", None, sub_start, Some(at)),
            };
            ledger.subscriptions.push(Subscription {
                id,
                plan_id,
                status,
                status_note: note,
                status_updated,
                payer,
                currency: currency.to_string(),
                start: sub_start,
                created,
                updated: status_updated.max(last.map_or(created, |(_, t)| t)),
                cycles_completed: cycles,
                last_payment: last,
                next_billing,
            });
        }

        // Withdrawals to the bank: USD every two weeks, EUR monthly.
        let mut at = seed::day_start(start) + 14 * DAY + 9 * 3_600;
        while at < end {
            let id = transaction_id(&mut rng);
            let amount = rng.log_uniform(20_000, 300_000);
            ledger.withdrawals.push(Withdrawal {
                id,
                currency: "USD".into(),
                amount,
                at,
            });
            if (at - start) / DAY % 28 < 14 {
                let id = transaction_id(&mut rng);
                let amount = rng.log_uniform(10_000, 200_000);
                ledger.withdrawals.push(Withdrawal {
                    id,
                    currency: "EUR".into(),
                    amount,
                    at: at + 600,
                });
            }
            at += 14 * DAY;
        }

        // One currency conversion (a pair of T0200 lines): served, but no record kind of ours.
        let at = end - 100 * DAY;
        let (from, to) = (transaction_id(&mut rng), transaction_id(&mut rng));
        ledger.others.push(Other {
            id: from,
            event_code: "T0200",
            currency: "USD".into(),
            amount: -10_000,
            at,
        });
        ledger.others.push(Other {
            id: to,
            event_code: "T0200",
            currency: "EUR".into(),
            amount: 9_150,
            at,
        });
        ledger
    }

    pub(crate) fn push_capture(&mut self, capture: Capture) {
        self.capture_index
            .insert(capture.id.clone(), self.captures.len());
        self.captures.push(capture);
    }

    pub(crate) fn capture_position(&self, id: &str) -> Option<usize> {
        self.capture_index.get(id).copied()
    }

    /// Refunds `amount` of capture number `index` at `at` (the caller checked it is possible).
    pub(crate) fn record_refund(
        &mut self,
        index: usize,
        id: String,
        amount: i64,
        at: i64,
        custom_id: Option<String>,
        note_to_payer: Option<String>,
    ) -> usize {
        let c = &mut self.captures[index];
        let fixed = fee_for(0, &c.currency);
        let fee_returned = ((c.fee - fixed).max(0) * amount) / c.amount.max(1);
        c.refunded += amount;
        c.updated = at;
        let refund = Refund {
            id,
            capture_id: c.id.clone(),
            currency: c.currency.clone(),
            amount,
            fee_returned,
            at,
            payer: c.payer.clone(),
            invoice_id: c.invoice_id.clone(),
            custom_id,
            note_to_payer,
        };
        self.refunds.push(refund);
        self.refunds.len() - 1
    }

    /// A new capture made now (or at `at`) from a random payer: a test hook and what capturing
    /// an approved order makes.
    pub(crate) fn new_capture(&mut self, at: i64, amount: i64, currency: &str) -> Capture {
        let payer = Payer::random(&mut self.rng);
        let id = transaction_id(&mut self.rng);
        Capture {
            id,
            event_code: "T0006",
            currency: currency.to_string(),
            amount,
            fee: fee_for(amount, currency),
            refunded: 0,
            pending: false,
            at,
            updated: at,
            payer,
            item: "Workshop ticket".to_string(),
            order_id: None,
            subscription_id: None,
            invoice_id: None,
            custom_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_and_read_with_the_currencys_decimals() {
        assert_eq!(value(1050, "USD"), "10.50");
        assert_eq!(value(-123, "EUR"), "-1.23");
        assert_eq!(value(5, "USD"), "0.05");
        assert_eq!(value(1000, "JPY"), "1000");
        assert_eq!(parse_value("10.5", "USD"), Ok(1050));
        assert_eq!(parse_value("1000", "JPY"), Ok(1000));
        assert_eq!(parse_value("1000.5", "JPY"), Err(BadValue::Precision));
        assert_eq!(parse_value("1.005", "USD"), Err(BadValue::Precision));
        assert_eq!(parse_value("1.", "USD"), Err(BadValue::Syntax));
        assert_eq!(parse_value("x", "USD"), Err(BadValue::Syntax));
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let now = 1_800_000_000;
        let a = Ledger::seeded(5, now);
        let b = Ledger::seeded(5, now);
        let ids = |l: &Ledger| l.captures.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&Ledger::seeded(6, now)));
        assert!(a.captures.iter().all(|c| c.at < a.history_end));
        assert!(a.history_end <= now && a.history_end > now - WEEKS_52);
        let first = a.captures.iter().map(|c| c.at).min().unwrap();
        assert!(
            a.history_end - first > 365 * DAY,
            "more than a year of history"
        );
        assert!(!a.refunds.is_empty() && !a.withdrawals.is_empty());
        assert!(a.captures.iter().any(|c| c.currency == "JPY"));
        assert!(a.captures.iter().any(|c| c.event_code == "T0002"));
    }
}
