//! The Square fake's objects, generated from the sandbox seed, and their JSON as Square's
//! 2025-08-20 API renders them.

use serde_json::{Value, json};

use super::catalog::{self, CatalogPlan};
use super::wire::{date, money, time_ms, time_s};
use crate::seed::{self, PRODUCTS, Person, SeedRng};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The merchant the OAuth fake identifies (`merchants/me`), which the data belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Merchant {
    pub(crate) id: String,
    pub(crate) business_name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Location {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) active: bool,
    pub(crate) currency: &'static str,
    pub(crate) country: &'static str,
    pub(crate) timezone: &'static str,
    pub(crate) created_ms: i64,
}

#[derive(Clone, Debug)]
pub(crate) enum Source {
    Card {
        brand: &'static str,
        last_4: String,
        cardholder: Option<String>,
        entry_method: &'static str,
    },
    Cash {
        supplied: i64,
    },
    Wallet {
        brand: &'static str,
    },
    External {
        kind: &'static str,
        source: &'static str,
    },
}

impl Source {
    fn type_name(&self) -> &'static str {
        match self {
            Source::Card { .. } => "CARD",
            Source::Cash { .. } => "CASH",
            Source::Wallet { .. } => "WALLET",
            Source::External { .. } => "EXTERNAL",
        }
    }

    /// Whether the money went through Square (so Square charges a fee and pays it out).
    pub(crate) fn processed(&self) -> bool {
        matches!(self, Source::Card { .. } | Source::Wallet { .. })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Payment {
    pub(crate) id: String,
    pub(crate) location_id: String,
    pub(crate) order_id: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) amount: i64,
    pub(crate) tip: i64,
    pub(crate) currency: &'static str,
    /// `APPROVED`, `PENDING`, `COMPLETED`, `CANCELED` or `FAILED`.
    pub(crate) status: &'static str,
    pub(crate) source: Source,
    /// Square's processing fee (`processing_fee[0]`, type `INITIAL`), once assessed.
    pub(crate) fee: Option<i64>,
    pub(crate) refunded: i64,
    pub(crate) refund_ids: Vec<String>,
    pub(crate) customer_id: Option<String>,
    pub(crate) buyer_email: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) version: u32,
}

impl Payment {
    pub(crate) fn total(&self) -> i64 {
        self.amount + self.tip
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) payment_id: String,
    pub(crate) location_id: String,
    pub(crate) order_id: String,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    /// `PENDING`, `COMPLETED`, `REJECTED` or `FAILED`.
    pub(crate) status: &'static str,
    pub(crate) reason: Option<String>,
    /// The part of the payment's fee Square gives back (zero or negative).
    pub(crate) fee: i64,
    pub(crate) destination_type: &'static str,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Dispute {
    pub(crate) id: String,
    pub(crate) payment_id: String,
    pub(crate) location_id: String,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    pub(crate) reason: &'static str,
    pub(crate) state: &'static str,
    pub(crate) card_brand: &'static str,
    pub(crate) brand_dispute_id: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) due_ms: i64,
    pub(crate) version: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct PayoutEntry {
    pub(crate) id: String,
    pub(crate) payout_id: String,
    pub(crate) effective_ms: i64,
    /// `CHARGE`, `REFUND` or `DISPUTE`.
    pub(crate) kind: &'static str,
    pub(crate) gross: i64,
    pub(crate) fee: i64,
    pub(crate) net: i64,
    pub(crate) currency: &'static str,
    pub(crate) payment_id: String,
    /// The refund or dispute of a `REFUND` or `DISPUTE` entry.
    pub(crate) detail_id: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Payout {
    pub(crate) id: String,
    pub(crate) location_id: String,
    /// `SENT`, `PAID` or `FAILED`.
    pub(crate) status: &'static str,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) arrival_ms: i64,
    pub(crate) destination_id: String,
    pub(crate) end_to_end_id: String,
    pub(crate) version: u32,
    pub(crate) entries: Vec<PayoutEntry>,
}

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) version: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) location_id: String,
    pub(crate) customer_id: String,
    pub(crate) plan_variation_id: String,
    pub(crate) start_ms: i64,
    pub(crate) charged_through_ms: Option<i64>,
    pub(crate) canceled_ms: Option<i64>,
    /// `PENDING`, `ACTIVE`, `CANCELED`, `DEACTIVATED` or `PAUSED`.
    pub(crate) status: &'static str,
    pub(crate) price: Price,
    pub(crate) created_ms: i64,
    pub(crate) timezone: &'static str,
    pub(crate) card_id: String,
    pub(crate) version: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct PaymentLink {
    pub(crate) id: String,
    pub(crate) version: u32,
    pub(crate) description: Option<String>,
    pub(crate) order_id: String,
    pub(crate) location_id: String,
    pub(crate) name: String,
    pub(crate) price: (i64, String),
    pub(crate) buyer_email: Option<String>,
    pub(crate) payment_note: Option<String>,
    /// `checkout_options.redirect_url`: the buyer's page after paying.
    pub(crate) redirect_url: Option<String>,
    pub(crate) code: String,
    pub(crate) created_ms: i64,
}

/// A subscription's price override: amount and currency.
type Price = Option<(i64, &'static str)>;

/// Everything the fake holds.
pub(crate) struct SquareData {
    pub(crate) merchant: Merchant,
    pub(crate) reference_ms: i64,
    pub(crate) rng: SeedRng,
    pub(crate) locations: Vec<Location>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) payments: Vec<Payment>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) disputes: Vec<Dispute>,
    pub(crate) payouts: Vec<Payout>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) payment_links: Vec<PaymentLink>,
    /// The seller's subscription plans (the Catalog API).
    pub(crate) catalog: Vec<CatalogPlan>,
}

/// Square's fee on a processed payment: 2.6% + 10¢ (US), 3.25% (Japan), 1.75% + 10c (Ireland).
fn processing_fee(total: i64, currency: &str) -> i64 {
    let (basis_points, fixed) = match currency {
        "JPY" => (325, 0),
        "EUR" => (175, 10),
        _ => (260, 10),
    };
    (total * basis_points + 5_000) / 10_000 + fixed
}

fn upper_id(rng: &mut SeedRng, len: usize) -> String {
    rng.base62(len).to_ascii_uppercase()
}

/// A lower-case version-4 UUID.
pub(crate) fn uuid(rng: &mut SeedRng) -> String {
    let hex = |rng: &mut SeedRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
            .collect()
    };
    let variant = char::from(b"89ab"[rng.below(4) as usize]);
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// How many payments each location has, in location order (main, Tokyo, Dublin). The main
/// location has enough processed card payments for its first payout to hold more than one
/// page (100) of payout entries.
const PAYMENTS_PER_LOCATION: [usize; 3] = [230, 60, 30];

/// The main location's first payout sweeps this many activities (Square's first transfer
/// after a new account's review): more than a page of entries.
const FIRST_PAYOUT_ENTRIES: usize = 115;

impl SquareData {
    pub(crate) fn generate(seed: u64, merchant: Merchant) -> SquareData {
        let mut rng = SeedRng::derive(seed, "square");
        let reference_ms = seed::reference_time(seed) * 1000;
        let day = |n: i64| reference_ms - n * DAY_MS;
        let locations = vec![
            Location {
                // The id `merchants/me` names as `main_location_id`.
                id: format!("L{}", &merchant.id[..12]),
                name: "Main Street".into(),
                active: true,
                currency: "USD",
                country: "US",
                timezone: "America/Los_Angeles",
                created_ms: day(800),
            },
            Location {
                id: format!("L{}", upper_id(&mut rng, 12)),
                name: "Tokyo Pop-up".into(),
                active: true,
                currency: "JPY",
                country: "JP",
                timezone: "Asia/Tokyo",
                created_ms: day(600),
            },
            Location {
                id: format!("L{}", upper_id(&mut rng, 12)),
                name: "Dublin Market Stall".into(),
                active: false,
                currency: "EUR",
                country: "IE",
                timezone: "Europe/Dublin",
                created_ms: day(760),
            },
        ];
        let mut data = SquareData {
            merchant,
            reference_ms,
            rng,
            locations,
            customers: Vec::new(),
            payments: Vec::new(),
            refunds: Vec::new(),
            disputes: Vec::new(),
            payouts: Vec::new(),
            subscriptions: Vec::new(),
            payment_links: Vec::new(),
            catalog: Vec::new(),
        };
        data.generate_customers(24);
        // (first day, last day) of each location's sales, in days before the reference time.
        let spans = [(520, 1), (400, 2), (740, 320)];
        for (index, count) in PAYMENTS_PER_LOCATION.iter().enumerate() {
            let (from, to) = spans[index];
            let location = data.locations[index].clone();
            let mut times: Vec<i64> = (0..*count)
                .map(|_| data.rng.range(day(from), day(to)))
                .collect();
            times.sort_unstable();
            for t in times {
                data.generate_payment(&location, t);
            }
        }
        data.generate_disputes();
        for index in 0..data.locations.len() {
            data.generate_payouts(index);
        }
        data.generate_subscriptions();
        data
    }

    fn generate_customers(&mut self, count: usize) {
        for _ in 0..count {
            let person = Person::random(&mut self.rng);
            let created = self.rng.range(
                self.reference_ms - 780 * DAY_MS,
                self.reference_ms - 5 * DAY_MS,
            );
            let name = person.name();
            let (given, family) = name.split_once(' ').unwrap_or((&name, ""));
            let customer = Customer {
                id: upper_id(&mut self.rng, 26),
                given_name: given.to_string(),
                family_name: family.to_string(),
                email: self.rng.chance(0.85).then(|| person.email()),
                phone: self
                    .rng
                    .chance(0.5)
                    .then(|| format!("+1-555-{}", self.rng.digits(7))),
                created_ms: created,
                updated_ms: created + self.rng.range(0, 30 * DAY_MS),
                version: self.rng.range(0, 3) as u32,
            };
            self.customers.push(customer);
        }
        self.customers.sort_by_key(|c| c.created_ms);
    }

    /// A payment at `location` created at `created_ms`, with its refunds.
    fn generate_payment(&mut self, location: &Location, created_ms: i64) -> usize {
        let rng = &mut self.rng;
        let currency = location.currency;
        let amount = match currency {
            "JPY" => rng.log_uniform(300, 80_000),
            "EUR" => rng.log_uniform(200, 40_000),
            _ => rng.log_uniform(100, 60_000),
        };
        let kind = rng.weighted(&[("CARD", 68), ("CASH", 14), ("WALLET", 12), ("EXTERNAL", 6)]);
        let source = match kind {
            "CARD" => Source::Card {
                brand: rng.weighted(&[
                    ("VISA", 50),
                    ("MASTERCARD", 30),
                    ("AMERICAN_EXPRESS", 12),
                    ("JCB", 8),
                ]),
                last_4: rng.digits(4),
                cardholder: rng
                    .chance(0.7)
                    .then(|| Person::random(rng).name().to_uppercase()),
                entry_method: rng.pick(&["KEYED", "EMV", "CONTACTLESS", "ON_FILE"]),
            },
            "CASH" => Source::Cash {
                supplied: amount + rng.range(0, 2) * amount / 4,
            },
            "WALLET" => Source::Wallet {
                brand: if currency == "JPY" {
                    "PAYPAY"
                } else {
                    "CASH_APP"
                },
            },
            _ => Source::External {
                kind: rng.pick(&["CHECK", "BANK_TRANSFER", "OTHER"]),
                source: rng.pick(&["Food Delivery Service", "Bank deposit", "Market organiser"]),
            },
        };
        // An authorization is captured or voided within days: only recent ones are open.
        let recent = self.reference_ms - created_ms < 5 * DAY_MS;
        let status = match &source {
            Source::Card { .. } => rng.weighted(&[
                ("COMPLETED", 88),
                ("FAILED", 4),
                ("CANCELED", 4),
                (if recent { "APPROVED" } else { "COMPLETED" }, 4),
            ]),
            Source::Wallet { .. } => rng.weighted(&[("COMPLETED", 96), ("FAILED", 4)]),
            _ => "COMPLETED",
        };
        let tip = if matches!(source, Source::Card { .. }) && rng.chance(0.3) {
            amount * rng.range(10, 20) / 100
        } else {
            0
        };
        let fee = (status == "COMPLETED" && source.processed())
            .then(|| processing_fee(amount + tip, currency));
        let customer = (matches!(source, Source::Card { .. }) && rng.chance(0.5))
            .then(|| {
                let known: Vec<&Customer> = self
                    .customers
                    .iter()
                    .filter(|c| c.created_ms <= created_ms)
                    .collect();
                (!known.is_empty()).then(|| known[rng.below(known.len() as u64) as usize].clone())
            })
            .flatten();
        let buyer_email = match &customer {
            Some(c) => c.email.clone(),
            None if source.processed() && rng.chance(0.6) => Some(Person::random(rng).email()),
            None => None,
        };
        let payment = Payment {
            id: rng.base62(29),
            location_id: location.id.clone(),
            order_id: rng.base62(29),
            created_ms,
            updated_ms: created_ms + rng.range(200, 4_000),
            amount,
            tip,
            currency,
            status,
            source,
            fee,
            refunded: 0,
            refund_ids: Vec::new(),
            customer_id: customer.map(|c| c.id),
            buyer_email,
            note: rng.chance(0.6).then(|| rng.pick(PRODUCTS).to_string()),
            version: 1,
        };
        self.payments.push(payment);
        let index = self.payments.len() - 1;
        // About one in eight completed payments is refunded later, half of them in full.
        if status == "COMPLETED" && self.rng.chance(0.12) {
            let total = self.payments[index].total();
            let part = if self.rng.chance(0.5) {
                total
            } else {
                (total * self.rng.range(20, 80) / 100).max(1)
            };
            let at = created_ms + self.rng.range(HOUR_MS, 30 * DAY_MS);
            if at < self.reference_ms {
                let reason = self
                    .rng
                    .pick(&["Returned goods", "Customer request", "Damaged item"]);
                self.add_refund(index, part, Some(reason.to_string()), at, "COMPLETED");
            }
        }
        index
    }

    /// Records a refund of `amount` of payment `index` at `at_ms`; returns its index.
    pub(crate) fn add_refund(
        &mut self,
        index: usize,
        amount: i64,
        reason: Option<String>,
        at_ms: i64,
        status: &'static str,
    ) -> usize {
        let suffix = self.rng.base62(50);
        let p = &mut self.payments[index];
        // Square gives back the fee's share of what is refunded.
        let fee = p.fee.map_or(0, |fee| -(fee * amount / p.total()));
        let refund = Refund {
            id: format!("{}_{suffix}", p.id),
            payment_id: p.id.clone(),
            location_id: p.location_id.clone(),
            order_id: p.order_id.clone(),
            amount,
            currency: p.currency,
            status,
            reason,
            fee,
            destination_type: p.source.type_name(),
            created_ms: at_ms,
            updated_ms: at_ms + 1_500,
        };
        p.refunded += amount;
        p.refund_ids.push(refund.id.clone());
        p.updated_ms = p.updated_ms.max(refund.updated_ms);
        p.version += 1;
        self.refunds.push(refund);
        self.refunds.len() - 1
    }

    fn generate_disputes(&mut self) {
        let states = [
            "EVIDENCE_REQUIRED",
            "PROCESSING",
            "WON",
            "LOST",
            "ACCEPTED",
            "INQUIRY_EVIDENCE_REQUIRED",
        ];
        let candidates: Vec<usize> = (0..self.payments.len())
            .filter(|i| {
                let p = &self.payments[*i];
                p.status == "COMPLETED"
                    && matches!(p.source, Source::Card { .. })
                    && p.refunded == 0
                    && self.reference_ms - p.created_ms > 45 * DAY_MS
            })
            .collect();
        for (n, state) in states.iter().enumerate() {
            let index = candidates[(n * 37 + 11) % candidates.len()];
            let p = &self.payments[index];
            let Source::Card { brand, .. } = p.source else {
                continue;
            };
            let created = p.created_ms + self.rng.range(10 * DAY_MS, 40 * DAY_MS);
            let closed = matches!(*state, "WON" | "LOST" | "ACCEPTED");
            let amount = if self.rng.chance(0.7) {
                p.total()
            } else {
                p.total() / 2
            };
            let dispute = Dispute {
                id: self.rng.base62(21),
                payment_id: p.id.clone(),
                location_id: p.location_id.clone(),
                amount,
                currency: p.currency,
                reason: self.rng.pick(&[
                    "NOT_AS_DESCRIBED",
                    "NO_KNOWLEDGE",
                    "DUPLICATE",
                    "NOT_RECEIVED",
                    "AMOUNT_DIFFERS",
                ]),
                state,
                card_brand: brand,
                brand_dispute_id: self.rng.digits(12),
                created_ms: created,
                updated_ms: created + if closed { 20 * DAY_MS } else { HOUR_MS },
                due_ms: seed::day_start(created / 1000) * 1000 + 14 * DAY_MS,
                version: if closed { 3 } else { 1 },
            };
            self.disputes.push(dispute);
        }
    }

    /// Batch payouts of location `index`: the first sweeps [`FIRST_PAYOUT_ENTRIES`]
    /// activities (main location) or a first week, then one a week; each holds its entries,
    /// whose net amounts add up to the payout's amount. The last one is still `SENT`.
    fn generate_payouts(&mut self, index: usize) {
        let location = self.locations[index].clone();
        let mut activities: Vec<PayoutEntry> = Vec::new();
        for p in self
            .payments
            .iter()
            .filter(|p| p.location_id == location.id)
        {
            if p.status != "COMPLETED" || !p.source.processed() {
                continue;
            }
            let fee = p.fee.unwrap_or(0);
            activities.push(entry(
                "CHARGE",
                p.created_ms,
                p.total(),
                fee,
                p.currency,
                &p.id,
                None,
            ));
        }
        for r in self.refunds.iter().filter(|r| r.location_id == location.id) {
            let processed = matches!(r.destination_type, "CARD" | "WALLET");
            if r.status == "COMPLETED" && processed {
                activities.push(entry(
                    "REFUND",
                    r.created_ms,
                    -r.amount,
                    r.fee,
                    r.currency,
                    &r.payment_id,
                    Some(&r.id),
                ));
            }
        }
        for d in self
            .disputes
            .iter()
            .filter(|d| d.location_id == location.id)
        {
            if matches!(d.state, "LOST" | "ACCEPTED") {
                activities.push(entry(
                    "DISPUTE",
                    d.updated_ms,
                    -d.amount,
                    0,
                    d.currency,
                    &d.payment_id,
                    Some(&d.id),
                ));
            }
        }
        activities.sort_by_key(|a| a.effective_ms);
        let Some(first) = activities.first().map(|a| a.effective_ms) else {
            return;
        };
        let mut period_end = if index == 0 && activities.len() > FIRST_PAYOUT_ENTRIES {
            activities[FIRST_PAYOUT_ENTRIES - 1].effective_ms + 1
        } else {
            seed::day_start(first / 1000) * 1000 + 7 * DAY_MS
        };
        let mut pending = activities.into_iter().peekable();
        let mut made: Vec<usize> = Vec::new();
        loop {
            let created = period_end + 6 * HOUR_MS;
            if created > self.reference_ms {
                break;
            }
            let mut batch = Vec::new();
            while let Some(a) = pending.next_if(|a| a.effective_ms < period_end) {
                batch.push(a);
            }
            let amount: i64 = batch.iter().map(|e| e.net).sum();
            // A payout is never zero; a week without activity carries over.
            if amount != 0 {
                let id = format!("po_{}", uuid(&mut self.rng));
                for (n, e) in batch.iter_mut().enumerate() {
                    e.payout_id = id.clone();
                    e.id = format!("poe_{}{n:02}", self.rng.base62(26));
                }
                self.payouts.push(Payout {
                    id,
                    location_id: location.id.clone(),
                    status: "PAID",
                    amount,
                    currency: location.currency,
                    created_ms: created,
                    updated_ms: created + DAY_MS,
                    arrival_ms: created + DAY_MS,
                    destination_id: format!("bact:{}", self.rng.base62(20)),
                    end_to_end_id: format!("L2{}", self.rng.digits(9)),
                    version: 2,
                    entries: batch,
                });
                made.push(self.payouts.len() - 1);
            }
            if pending.peek().is_none() {
                break;
            }
            period_end += 7 * DAY_MS;
        }
        if let Some(last) = made.last() {
            let p = &mut self.payouts[*last];
            if location.active {
                p.status = "SENT";
                p.version = 1;
                p.updated_ms = p.created_ms;
                p.arrival_ms = p.created_ms + 2 * DAY_MS;
            }
        }
    }

    fn generate_subscriptions(&mut self) {
        let main = self.locations[0].clone();
        let tokyo = self.locations[1].clone();
        let mut catalog_rng = self.rng.clone();
        self.catalog = catalog::generate(&mut catalog_rng, self.reference_ms);
        // (status, the subscription's own price, location, plan variation): one of them
        // overrides its plan's price; the pending one is in its plan's free first phase.
        let plans: [(&'static str, Price, &Location, (usize, usize)); 6] = [
            ("ACTIVE", None, &main, catalog::COFFEE_MONTHLY),
            (
                "ACTIVE",
                Some((4_900, "USD")),
                &main,
                catalog::PRO_WITH_TRIAL,
            ),
            ("PAUSED", None, &main, catalog::BUILD_A_BOX),
            ("CANCELED", None, &main, catalog::COFFEE_ANNUAL),
            ("PENDING", None, &main, catalog::PRO_WITH_TRIAL),
            ("ACTIVE", None, &tokyo, catalog::TOKYO_TEA),
        ];
        for (n, (status, price, location, (plan, variation))) in plans.into_iter().enumerate() {
            let customer = self.customers[(n * 5 + 2) % self.customers.len()].clone();
            let created = customer.created_ms + self.rng.range(DAY_MS, 60 * DAY_MS);
            let start = seed::day_start(created / 1000) * 1000 + DAY_MS;
            let subscription = Subscription {
                id: uuid(&mut self.rng),
                location_id: location.id.clone(),
                customer_id: customer.id.clone(),
                plan_variation_id: self.catalog[plan].variations[variation].id.clone(),
                start_ms: if status == "PENDING" {
                    seed::day_start(self.reference_ms / 1000) * 1000 + 10 * DAY_MS
                } else {
                    start
                },
                charged_through_ms: matches!(status, "ACTIVE" | "PAUSED")
                    .then(|| seed::day_start(self.reference_ms / 1000) * 1000 + 20 * DAY_MS),
                canceled_ms: (status == "CANCELED").then_some(start + 90 * DAY_MS),
                status,
                price,
                created_ms: created,
                timezone: location.timezone,
                card_id: format!("ccof:{}", self.rng.base62(18)),
                version: 1,
            };
            self.subscriptions.push(subscription);
        }
        // One active subscription is already set to end with its period.
        let ending = &mut self.subscriptions[1];
        ending.canceled_ms = ending.charged_through_ms;
        ending.version = 2;
    }

    /// A completed card payment at `location_id` created at `at_ms`; returns its id.
    pub(crate) fn add_card_payment(
        &mut self,
        location_id: &str,
        amount: i64,
        at_ms: i64,
    ) -> String {
        let location = self
            .locations
            .iter()
            .find(|l| l.id == location_id)
            .cloned()
            .expect("a known location");
        let fee = processing_fee(amount, location.currency);
        let payment = Payment {
            id: self.rng.base62(29),
            location_id: location.id.clone(),
            order_id: self.rng.base62(29),
            created_ms: at_ms,
            updated_ms: at_ms + 1_000,
            amount,
            tip: 0,
            currency: location.currency,
            status: "COMPLETED",
            source: Source::Card {
                brand: "VISA",
                last_4: self.rng.digits(4),
                cardholder: Some(Person::random(&mut self.rng).name().to_uppercase()),
                entry_method: "KEYED",
            },
            fee: Some(fee),
            refunded: 0,
            refund_ids: Vec::new(),
            customer_id: None,
            buyer_email: Some(Person::random(&mut self.rng).email()),
            note: Some("Added by a test".into()),
            version: 1,
        };
        let id = payment.id.clone();
        self.payments.push(payment);
        id
    }

    pub(crate) fn location(&self, id: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.id == id)
    }

    /// The main location (`merchants/me`'s `main_location_id`).
    pub(crate) fn main_location(&self) -> &Location {
        &self.locations[0]
    }
}

fn entry(
    kind: &'static str,
    at_ms: i64,
    gross: i64,
    fee: i64,
    currency: &'static str,
    payment_id: &str,
    detail_id: Option<&str>,
) -> PayoutEntry {
    PayoutEntry {
        id: String::new(),
        payout_id: String::new(),
        effective_ms: at_ms,
        kind,
        gross,
        fee,
        net: gross - fee,
        currency,
        payment_id: payment_id.to_string(),
        detail_id: detail_id.map(str::to_string),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON, as Square renders each object (fields it would leave out stay out).

impl Location {
    pub(crate) fn json(&self, merchant: &Merchant) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "business_name": merchant.business_name,
            "timezone": self.timezone,
            "capabilities": ["CREDIT_CARD_PROCESSING", "AUTOMATIC_TRANSFERS"],
            "status": if self.active { "ACTIVE" } else { "INACTIVE" },
            "created_at": time_s(self.created_ms),
            "merchant_id": merchant.id,
            "country": self.country,
            "language_code": if self.country == "JP" { "ja-JP" } else { "en-US" },
            "currency": self.currency,
            "type": "PHYSICAL",
            "mcc": "5999",
        })
    }
}

impl Payment {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "created_at": time_ms(self.created_ms),
            "updated_at": time_ms(self.updated_ms),
            "amount_money": money(self.amount, self.currency),
            "total_money": money(self.total(), self.currency),
            "approved_money": money(self.total(), self.currency),
            "status": self.status,
            "source_type": self.source.type_name(),
            "location_id": self.location_id,
            "order_id": self.order_id,
            "application_details": {
                "square_product": "ECOMMERCE_API",
                "application_id": "sandbox-sq0idb-switchboard",
            },
            "version_token": format!("v{}{}", self.version, &self.id[..12]),
        });
        if self.tip > 0 {
            o["tip_money"] = money(self.tip, self.currency);
        }
        if let Some(fee) = self.fee {
            o["processing_fee"] = json!([{
                "effective_at": time_ms(self.created_ms + 2 * HOUR_MS),
                "type": "INITIAL",
                "amount_money": money(fee, self.currency),
            }]);
        }
        if self.refunded > 0 {
            o["refunded_money"] = money(self.refunded, self.currency);
            o["refund_ids"] = json!(self.refund_ids);
        }
        let completed = self.status == "COMPLETED";
        match &self.source {
            Source::Card {
                brand,
                last_4,
                cardholder,
                entry_method,
            } => {
                let card_status = match self.status {
                    "COMPLETED" => "CAPTURED",
                    "APPROVED" => "AUTHORIZED",
                    "CANCELED" => "VOIDED",
                    _ => "FAILED",
                };
                let mut card = json!({
                    "card_brand": brand,
                    "last_4": last_4,
                    "exp_month": 11,
                    "exp_year": 2030,
                    "fingerprint": format!("sq-1-{}", &self.id[..20]),
                    "card_type": "CREDIT",
                    "prepaid_type": "NOT_PREPAID",
                    "bin": "411111",
                });
                if let Some(name) = cardholder {
                    card["cardholder_name"] = json!(name);
                }
                o["card_details"] = json!({
                    "status": card_status,
                    "card": card,
                    "entry_method": entry_method,
                    "cvv_status": "CVV_ACCEPTED",
                    "avs_status": "AVS_ACCEPTED",
                    "statement_description": "SQ *SWITCHBOARD SANDBOX",
                    "card_payment_timeline": {"authorized_at": time_ms(self.created_ms + 150)},
                });
                if self.status == "APPROVED" {
                    o["delay_action"] = json!("CANCEL");
                    o["delay_duration"] = json!("PT168H");
                    o["delayed_until"] = json!(time_ms(self.created_ms + 7 * DAY_MS));
                }
            }
            Source::Cash { supplied } => {
                o["cash_details"] = json!({
                    "buyer_supplied_money": money(*supplied, self.currency),
                    "change_back_money": money(supplied - self.amount, self.currency),
                });
            }
            Source::Wallet { brand } => {
                let status = if completed { "CAPTURED" } else { "FAILED" };
                o["wallet_details"] = json!({"status": status, "brand": brand});
            }
            Source::External { kind, source } => {
                o["external_details"] = json!({"type": kind, "source": source});
            }
        }
        if let Some(customer) = &self.customer_id {
            o["customer_id"] = json!(customer);
        }
        if let Some(email) = &self.buyer_email {
            o["buyer_email_address"] = json!(email);
        }
        if let Some(note) = &self.note {
            o["note"] = json!(note);
        }
        if completed {
            o["receipt_number"] = json!(&self.id[..4]);
            o["receipt_url"] = json!(format!(
                "https://squareupsandbox.com/receipt/preview/{}",
                self.id
            ));
        }
        let mut capabilities = Vec::new();
        if completed && self.refunded < self.total() {
            capabilities.push("REFUND");
        }
        o["capabilities"] = json!(capabilities);
        o
    }
}

impl Refund {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "status": self.status,
            "location_id": self.location_id,
            "unlinked": false,
            "destination_type": self.destination_type,
            "amount_money": money(self.amount, self.currency),
            "payment_id": self.payment_id,
            "order_id": self.order_id,
            "created_at": time_ms(self.created_ms),
            "updated_at": time_ms(self.updated_ms),
        });
        if self.fee != 0 {
            o["processing_fee"] = json!([{
                "effective_at": time_ms(self.created_ms),
                "type": "INITIAL",
                "amount_money": money(self.fee, self.currency),
            }]);
        }
        if let Some(reason) = &self.reason {
            o["reason"] = json!(reason);
        }
        o
    }
}

impl Dispute {
    pub(crate) fn json(&self) -> Value {
        json!({
            "dispute_id": self.id,
            "id": self.id,
            "amount_money": money(self.amount, self.currency),
            "reason": self.reason,
            "state": self.state,
            "due_at": time_ms(self.due_ms),
            "disputed_payment": {"payment_id": self.payment_id},
            "card_brand": self.card_brand,
            "created_at": time_ms(self.created_ms),
            "updated_at": time_ms(self.updated_ms),
            "brand_dispute_id": self.brand_dispute_id,
            "reported_at": time_ms(seed::day_start(self.created_ms / 1000) * 1000),
            "version": self.version,
            "location_id": self.location_id,
        })
    }
}

impl Payout {
    pub(crate) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "location_id": self.location_id,
            "created_at": time_s(self.created_ms),
            "updated_at": time_s(self.updated_ms),
            "amount_money": money(self.amount, self.currency),
            "destination": {"type": "BANK_ACCOUNT", "id": self.destination_id},
            "version": self.version,
            "type": "BATCH",
            "arrival_date": date(self.arrival_ms),
            "end_to_end_id": self.end_to_end_id,
        })
    }
}

impl PayoutEntry {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "payout_id": self.payout_id,
            "effective_at": time_s(self.effective_ms),
            "type": self.kind,
            "gross_amount_money": money(self.gross, self.currency),
            "fee_amount_money": money(self.fee, self.currency),
            "net_amount_money": money(self.net, self.currency),
        });
        match self.kind {
            "CHARGE" => o["type_charge_details"] = json!({"payment_id": self.payment_id}),
            "REFUND" => {
                o["type_refund_details"] =
                    json!({"payment_id": self.payment_id, "refund_id": self.detail_id});
            }
            _ => {
                o["type_dispute_details"] =
                    json!({"payment_id": self.payment_id, "dispute_id": self.detail_id});
            }
        }
        o
    }
}

impl Customer {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "created_at": time_ms(self.created_ms),
            "updated_at": time_ms(self.updated_ms),
            "given_name": self.given_name,
            "family_name": self.family_name,
            "preferences": {"email_unsubscribed": false},
            "creation_source": "DIRECTORY",
            "version": self.version,
        });
        if let Some(email) = &self.email {
            o["email_address"] = json!(email);
        }
        if let Some(phone) = &self.phone {
            o["phone_number"] = json!(phone);
        }
        o
    }
}

impl Subscription {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "location_id": self.location_id,
            "plan_variation_id": self.plan_variation_id,
            "customer_id": self.customer_id,
            "start_date": date(self.start_ms),
            "status": self.status,
            "version": self.version,
            "created_at": time_s(self.created_ms),
            "card_id": self.card_id,
            "timezone": self.timezone,
            "source": {"name": "Switchboard Sandbox"},
        });
        if let Some(at) = self.charged_through_ms {
            o["charged_through_date"] = json!(date(at));
        }
        if let Some(at) = self.canceled_ms {
            o["canceled_date"] = json!(date(at));
        }
        if let Some((amount, currency)) = self.price {
            o["price_override_money"] = money(amount, currency);
        }
        o
    }
}

impl PaymentLink {
    pub(crate) fn json(&self) -> Value {
        let mut o = json!({
            "id": self.id,
            "version": self.version,
            "order_id": self.order_id,
            "url": format!("https://sandbox.square.link/u/{}", self.code),
            "long_url": format!("https://sandbox.checkout.square.site/merchant/{}/order/{}", self.location_id, self.order_id),
            "created_at": time_s(self.created_ms),
        });
        if let Some(description) = &self.description {
            o["description"] = json!(description);
        }
        if let Some(email) = &self.buyer_email {
            o["pre_populated_data"] = json!({"buyer_email": email});
        }
        if let Some(note) = &self.payment_note {
            o["payment_note"] = json!(note);
        }
        if let Some(url) = &self.redirect_url {
            o["checkout_options"] = json!({"redirect_url": url});
        }
        o
    }

    /// The order a quick-pay link creates (`related_resources.orders`).
    pub(crate) fn order_json(&self) -> Value {
        let price = money(self.price.0, &self.price.1);
        json!({
            "id": self.order_id,
            "location_id": self.location_id,
            "source": {"name": "Switchboard Sandbox"},
            "line_items": [{
                "uid": format!("{}-1", &self.code),
                "name": self.name,
                "quantity": "1",
                "item_type": "ITEM",
                "base_price_money": price,
                "variation_total_price_money": price,
                "gross_sales_money": price,
                "total_money": price,
            }],
            "created_at": time_ms(self.created_ms),
            "updated_at": time_ms(self.created_ms),
            "state": "DRAFT",
            "version": 1,
            "total_money": price,
        })
    }
}
