//! What a Square subscription is for: its plan variation in the Catalog API.
//!
//! A subscription names a plan variation (`plan_variation_id`, a `SUBSCRIPTION_PLAN_VARIATION`
//! catalog object); the variation holds the phases (`phases[].cadence`, `periods`, and the
//! price: `pricing.price_money` when `pricing.type` is `STATIC`, else the older
//! `recurring_price_money`) and names its plan (`subscription_plan_id`, a `SUBSCRIPTION_PLAN`
//! whose `name` is what the seller sells). One `POST /v2/catalog/batch-retrieve` per page of
//! subscriptions reads the variations it names, with `include_related_objects` so the plans
//! (objects the variations refer to by id) come in the same answer
//! (https://developer.squareup.com/reference/square/catalog-api/batch-retrieve-catalog-objects,
//! https://developer.squareup.com/docs/subscriptions-api/plans-and-variations).
//!
//! The price shown is the one of the phase the subscription's next charge falls in (a plan
//! can start with a free or cheaper phase), counted from `start_date` by each phase's
//! `periods`; a `price_override_money` on the subscription wins over the plan's price. A
//! `RELATIVE` price depends on the items ordered: no amount then, only the cadence. The
//! catalog needs `ITEMS_READ`; without it the subscriptions are kept without their plans and
//! the page says so.

use std::collections::{HashMap, HashSet};

use chrono::{Days, Months, NaiveDate};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use switchboard_core::Currency;
use switchboard_core::records::SubscriptionRecord;

use super::{Square, bad_object, undecodable};
use crate::{Page, ProviderError, Record};

/// The billing interval of a Square cadence, as ours: (`day`/`week`/`month`/`year`, count).
/// <https://developer.squareup.com/reference/square/enums/SubscriptionCadence>
pub(crate) fn cadence_interval(cadence: &str) -> Option<(&'static str, i64)> {
    Some(match cadence {
        "DAILY" => ("day", 1),
        "WEEKLY" => ("week", 1),
        "EVERY_TWO_WEEKS" => ("week", 2),
        "THIRTY_DAYS" => ("day", 30),
        "SIXTY_DAYS" => ("day", 60),
        "NINETY_DAYS" => ("day", 90),
        "MONTHLY" => ("month", 1),
        "EVERY_TWO_MONTHS" => ("month", 2),
        "QUARTERLY" => ("month", 3),
        "EVERY_FOUR_MONTHS" => ("month", 4),
        "EVERY_SIX_MONTHS" => ("month", 6),
        "ANNUAL" => ("year", 1),
        "EVERY_TWO_YEARS" => ("year", 2),
        _ => return None,
    })
}

/// `date` moved on by `times` billing intervals.
fn advance(date: NaiveDate, (unit, count): (&str, i64), times: i64) -> Option<NaiveDate> {
    let n = u32::try_from(count.checked_mul(times)?).ok()?;
    match unit {
        "day" => date.checked_add_days(Days::new(u64::from(n))),
        "week" => date.checked_add_days(Days::new(7 * u64::from(n))),
        "month" => date.checked_add_months(Months::new(n)),
        "year" => date.checked_add_months(Months::new(n.checked_mul(12)?)),
        _ => None,
    }
}

#[derive(Deserialize, Clone)]
struct Money {
    amount: Option<i64>,
    currency: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Pricing {
    #[serde(rename = "type")]
    kind: Option<String>,
    price_money: Option<Money>,
}

#[derive(Deserialize, Clone)]
struct Phase {
    cadence: Option<String>,
    periods: Option<i64>,
    ordinal: Option<i64>,
    recurring_price_money: Option<Money>,
    pricing: Option<Pricing>,
}

impl Phase {
    /// The fixed price of one cadence, if the phase has one.
    fn price(&self) -> Option<&Money> {
        match &self.pricing {
            Some(Pricing {
                kind: Some(kind),
                price_money,
            }) if kind == "STATIC" => price_money.as_ref(),
            Some(Pricing { kind: Some(_), .. }) => None,
            _ => self.recurring_price_money.as_ref(),
        }
    }
}

#[derive(Deserialize)]
struct VariationData {
    name: Option<String>,
    #[serde(default)]
    phases: Vec<Phase>,
    subscription_plan_id: Option<String>,
}

#[derive(Deserialize)]
struct PlanData {
    name: Option<String>,
}

#[derive(Deserialize)]
struct CatalogObject {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    subscription_plan_variation_data: Option<VariationData>,
    subscription_plan_data: Option<PlanData>,
}

#[derive(Deserialize, Default)]
struct BatchRetrieved {
    #[serde(default)]
    objects: Vec<CatalogObject>,
    #[serde(default)]
    related_objects: Vec<CatalogObject>,
}

/// A plan variation as a subscription needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanVariation {
    /// The plan's name, with the variation's when it says more (`Coffee club (Monthly)`).
    pub name: Option<String>,
    phases: Vec<PhaseTerms>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PhaseTerms {
    interval: Option<(&'static str, i64)>,
    periods: Option<i64>,
    /// Amount in ISO minor units and its currency; `None` for a relative price.
    price: Option<(i64, Currency)>,
}

/// The plan variations (by id) in a BatchRetrieveCatalogObjects answer.
pub(crate) fn plan_variations(body: &[u8]) -> Result<HashMap<String, PlanVariation>, String> {
    let answer: BatchRetrieved = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let plans: HashMap<&str, &str> = answer
        .objects
        .iter()
        .chain(&answer.related_objects)
        .filter(|o| o.kind.as_deref() == Some("SUBSCRIPTION_PLAN"))
        .filter_map(|o| {
            let name = o.subscription_plan_data.as_ref()?.name.as_deref()?;
            Some((o.id.as_deref()?, name))
        })
        .collect();
    let mut found = HashMap::new();
    for object in &answer.objects {
        let (Some("SUBSCRIPTION_PLAN_VARIATION"), Some(id), Some(data)) = (
            object.kind.as_deref(),
            object.id.as_deref(),
            object.subscription_plan_variation_data.as_ref(),
        ) else {
            continue;
        };
        let plan = data
            .subscription_plan_id
            .as_deref()
            .and_then(|p| plans.get(p).copied())
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let variation = data
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let name = match (plan, variation) {
            (Some(p), Some(v)) if !p.eq_ignore_ascii_case(v) => Some(format!("{p} ({v})")),
            (Some(p), _) => Some(p.to_string()),
            (None, v) => v.map(str::to_string),
        };
        let mut phases = data.phases.clone();
        phases.sort_by_key(|p| p.ordinal.unwrap_or(i64::MAX));
        let phases = phases
            .iter()
            .map(|p| {
                let price = match p.price() {
                    Some(m) => {
                        let amount = m.amount.ok_or("a phase price has no amount")?;
                        let code = m
                            .currency
                            .as_deref()
                            .ok_or("a phase price has no currency")?;
                        Some((amount, Currency::parse(code).map_err(|e| e.to_string())?))
                    }
                    None => None,
                };
                Ok(PhaseTerms {
                    interval: p.cadence.as_deref().and_then(cadence_interval),
                    periods: p.periods,
                    price,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| format!("plan variation {id}: {e}"))?;
        found.insert(id.to_string(), PlanVariation { name, phases });
    }
    Ok(found)
}

#[derive(Deserialize)]
struct SubscriptionDates {
    plan_variation_id: Option<String>,
    start_date: Option<String>,
    charged_through_date: Option<String>,
    price_override_money: Option<Money>,
}

impl PlanVariation {
    /// The phase a charge on `date` falls in, counted from the subscription's `start`: each
    /// phase lasts its `periods` cadences, the last one (or one without `periods`) for ever.
    fn phase_on(&self, start: Option<NaiveDate>, date: Option<NaiveDate>) -> Option<&PhaseTerms> {
        let (Some(mut from), Some(date)) = (start, date) else {
            return self.phases.first();
        };
        for (n, phase) in self.phases.iter().enumerate() {
            let last = n + 1 == self.phases.len();
            let end = match (phase.periods, phase.interval) {
                (Some(periods), Some(interval)) if !last => advance(from, interval, periods),
                _ => None,
            };
            match end {
                Some(end) if date >= end => from = end,
                _ => return Some(phase),
            }
        }
        self.phases.last()
    }

    /// Fills `record` (a subscription of this variation) with the plan's name, price and
    /// cadence. Its own `price_override_money` (already in the record) is kept.
    pub(crate) fn apply(&self, record: &mut SubscriptionRecord) {
        let dates: Option<SubscriptionDates> = serde_json::from_str(&record.raw_json).ok();
        let day = |text: Option<&String>| {
            text.and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        };
        let (start, next) = dates.as_ref().map_or((None, None), |d| {
            let start = day(d.start_date.as_ref());
            (start, day(d.charged_through_date.as_ref()).or(start))
        });
        if record.description.is_none() {
            record.description = self.name.clone();
        }
        let Some(phase) = self.phase_on(start, next) else {
            return;
        };
        if let Some((interval, count)) = phase.interval {
            record.interval = Some(interval.to_string());
            record.interval_count = Some(count);
        }
        let overridden = dates.is_some_and(|d| d.price_override_money.is_some());
        if !overridden && let Some((amount, currency)) = phase.price {
            record.amount_minor = Some(amount);
            record.currency = Some(currency.code().to_string());
            record.currency_exponent = Some(currency.iso_exponent());
        }
    }
}

/// The plan variation a subscription record names.
fn variation_id(record: &SubscriptionRecord) -> Option<String> {
    serde_json::from_str::<SubscriptionDates>(&record.raw_json)
        .ok()?
        .plan_variation_id
        .filter(|id| !id.is_empty())
}

impl Square {
    /// Fills the plan name, price and cadence of `subscriptions` from their plan variations:
    /// one catalog request for all of them. Without the catalog permission, or for a variation
    /// the catalog no longer has, they stay as they are and `warnings` says why.
    pub(crate) async fn add_plans(
        &self,
        subscriptions: &mut [&mut SubscriptionRecord],
        warnings: &mut Vec<String>,
    ) -> Result<(), ProviderError> {
        let wanted: Vec<String> = subscriptions
            .iter()
            .filter_map(|s| variation_id(s))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        // A page holds at most 100 subscriptions: one request.
        let body = json!({ "object_ids": wanted, "include_related_objects": true });
        let answer = self
            .call(Method::POST, "/v2/catalog/batch-retrieve", &[], Some(&body))
            .await;
        let (body, request_id) = match answer {
            Ok(answer) => answer,
            Err(e) if e.provider_code.as_deref() == Some("INSUFFICIENT_SCOPES") => {
                warnings.push(
                    "Square has not given Switchboard permission to read the catalog \
                     (ITEMS_READ), where subscription plans are: subscriptions are kept \
                     without their plan's name and price. Reconnect Square and allow it."
                        .to_string(),
                );
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let variations = plan_variations(&body)
            .map_err(|e| undecodable(bad_object("catalog answer", &e), &request_id))?;
        for record in subscriptions.iter_mut() {
            let Some(id) = variation_id(record) else {
                continue;
            };
            match variations.get(&id) {
                Some(variation) => variation.apply(record),
                None => warnings.push(format!(
                    "Square's catalog has no plan variation {id} (deleted?), which subscription \
                     {} is for: it is kept without its plan's name and price.",
                    record.external_id
                )),
            }
        }
        Ok(())
    }

    /// `record` with its plan, after a write that answered the subscription (a cancel): the
    /// write is done, so a catalog that cannot be read leaves the record as it is.
    pub(crate) async fn with_plan(&self, mut record: SubscriptionRecord) -> SubscriptionRecord {
        let _ = self.add_plans(&mut [&mut record], &mut Vec::new()).await;
        record
    }

    /// [`Square::add_plans`] for the subscriptions of a page.
    pub(crate) async fn add_plans_to_page(&self, page: &mut Page) -> Result<(), ProviderError> {
        let mut subscriptions: Vec<&mut SubscriptionRecord> = page
            .records
            .iter_mut()
            .filter_map(|r| match r {
                Record::Subscription(s) => Some(s),
                _ => None,
            })
            .collect();
        self.add_plans(&mut subscriptions, &mut page.warnings).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::square::parse;

    fn subscription(raw: serde_json::Value) -> SubscriptionRecord {
        parse::subscription(&raw.to_string(), &mut Vec::new()).unwrap()
    }

    fn catalog() -> Vec<u8> {
        json!({
            "objects": [
                {"type": "SUBSCRIPTION_PLAN_VARIATION", "id": "VAR_PRO", "version": 1,
                 "is_deleted": false, "present_at_all_locations": true,
                 "subscription_plan_variation_data": {
                     "name": "Monthly", "subscription_plan_id": "PLAN_PRO",
                     "phases": [
                         {"uid": "p2", "cadence": "MONTHLY", "ordinal": 1,
                          "pricing": {"type": "STATIC",
                                      "price_money": {"amount": 2900, "currency": "USD"}}},
                         {"uid": "p1", "cadence": "WEEKLY", "periods": 2, "ordinal": 0,
                          "pricing": {"type": "STATIC",
                                      "price_money": {"amount": 0, "currency": "USD"}}}
                     ]}},
                {"type": "SUBSCRIPTION_PLAN_VARIATION", "id": "VAR_BOX", "version": 1,
                 "subscription_plan_variation_data": {
                     "name": "Coffee box", "phases": [
                         {"cadence": "QUARTERLY", "ordinal": 0, "pricing": {"type": "RELATIVE"}}]}},
                {"type": "SUBSCRIPTION_PLAN_VARIATION", "id": "VAR_OLD", "version": 1,
                 "subscription_plan_variation_data": {
                     "name": "Yearly", "phases": [
                         {"cadence": "ANNUAL", "ordinal": 0,
                          "recurring_price_money": {"amount": 30000, "currency": "JPY"}}]}}
            ],
            "related_objects": [
                {"type": "SUBSCRIPTION_PLAN", "id": "PLAN_PRO", "version": 1,
                 "subscription_plan_data": {"name": "Pro plan"}}
            ]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_subscription_gets_its_plans_name_and_the_price_of_its_next_charges_phase() {
        let variations = plan_variations(&catalog()).unwrap();
        let pro = &variations["VAR_PRO"];
        assert_eq!(pro.name.as_deref(), Some("Pro plan (Monthly)"));
        // Started 2024-01-01: two free weeks, then 29.00 USD a month.
        let base = json!({"id": "s1", "status": "ACTIVE", "created_at": "2024-01-01T10:00:00Z",
            "plan_variation_id": "VAR_PRO", "start_date": "2024-01-01"});
        let mut paying = base.clone();
        paying["charged_through_date"] = json!("2024-03-15");
        let mut s = subscription(paying);
        pro.apply(&mut s);
        assert_eq!(s.description.as_deref(), Some("Pro plan (Monthly)"));
        assert_eq!(
            (s.amount_minor, s.currency.as_deref(), s.currency_exponent),
            (Some(2900), Some("USD"), Some(2))
        );
        assert_eq!(
            (s.interval.as_deref(), s.interval_count),
            (Some("month"), Some(1))
        );
        // Still in the trial: its next charge is the trial's (nothing, weekly).
        let mut trial = base.clone();
        trial["charged_through_date"] = json!("2024-01-08");
        let mut s = subscription(trial);
        pro.apply(&mut s);
        assert_eq!(
            (s.amount_minor, s.interval.as_deref()),
            (Some(0), Some("week"))
        );
        // The trial's last day moves on to the paid phase.
        let mut edge = base.clone();
        edge["charged_through_date"] = json!("2024-01-15");
        let mut s = subscription(edge);
        pro.apply(&mut s);
        assert_eq!(s.amount_minor, Some(2900));
        // Not started: the first phase.
        let mut s = subscription(json!({"id": "s2", "status": "PENDING",
            "created_at": "2024-01-01T10:00:00Z", "plan_variation_id": "VAR_PRO"}));
        pro.apply(&mut s);
        assert_eq!(s.amount_minor, Some(0));
        // The subscription's own price wins over the plan's.
        let mut custom = base.clone();
        custom["charged_through_date"] = json!("2024-03-15");
        custom["price_override_money"] = json!({"amount": 1500, "currency": "USD"});
        let mut s = subscription(custom);
        pro.apply(&mut s);
        assert_eq!(
            (s.amount_minor, s.interval.as_deref()),
            (Some(1500), Some("month"))
        );
    }

    #[test]
    fn a_relative_price_has_no_amount_and_the_older_price_field_is_read() {
        let variations = plan_variations(&catalog()).unwrap();
        let mut s = subscription(json!({"id": "s3", "status": "ACTIVE",
            "created_at": "2024-01-01T10:00:00Z", "plan_variation_id": "VAR_BOX",
            "start_date": "2024-01-01", "charged_through_date": "2024-04-01"}));
        variations["VAR_BOX"].apply(&mut s);
        assert_eq!(s.description.as_deref(), Some("Coffee box"));
        assert_eq!(s.amount_minor, None);
        assert_eq!(
            (s.interval.as_deref(), s.interval_count),
            (Some("month"), Some(3))
        );
        let mut s = subscription(json!({"id": "s4", "status": "ACTIVE",
            "created_at": "2024-01-01T10:00:00Z", "plan_variation_id": "VAR_OLD",
            "start_date": "2024-01-01", "charged_through_date": "2025-01-01"}));
        variations["VAR_OLD"].apply(&mut s);
        assert_eq!(
            (
                s.amount_minor,
                s.currency.as_deref(),
                s.currency_exponent,
                s.interval.as_deref()
            ),
            (Some(30000), Some("JPY"), Some(0), Some("year"))
        );
    }

    #[test]
    fn every_cadence_has_an_interval_and_a_broken_price_is_an_error() {
        for cadence in [
            "DAILY",
            "WEEKLY",
            "EVERY_TWO_WEEKS",
            "THIRTY_DAYS",
            "SIXTY_DAYS",
            "NINETY_DAYS",
            "MONTHLY",
            "EVERY_TWO_MONTHS",
            "QUARTERLY",
            "EVERY_FOUR_MONTHS",
            "EVERY_SIX_MONTHS",
            "ANNUAL",
            "EVERY_TWO_YEARS",
        ] {
            assert!(cadence_interval(cadence).is_some(), "{cadence}");
        }
        assert_eq!(cadence_interval("FORTNIGHTLY_ISH"), None);
        let broken = json!({"objects": [{"type": "SUBSCRIPTION_PLAN_VARIATION", "id": "V",
            "subscription_plan_variation_data": {"name": "x", "phases": [
                {"cadence": "MONTHLY", "pricing": {"type": "STATIC",
                 "price_money": {"amount": 100, "currency": "XYZ1"}}}]}}]});
        let err = plan_variations(broken.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("plan variation V"), "{err}");
        assert!(plan_variations(b"{}").unwrap().is_empty());
    }
}
