//! Billing plans: `GET /v1/billing/plans/{id}` (Subscriptions v1, `plans.get` in
//! `shared/specs/paypal.json`; https://developer.paypal.com/docs/api/subscriptions/v1/#plans_get).
//!
//! A subscription names its plan (`plan_id`); the plan says what it is (`name`) and how it
//! bills: `billing_cycles[]`, at most two `TRIAL` cycles and one `REGULAR` one, each with a
//! `frequency` (`interval_unit` `DAY`/`WEEK`/`MONTH`/`YEAR`, `interval_count`) and a
//! `pricing_scheme.fixed_price` (none for a free trial or a tiered price). A subscription shows
//! the regular cycle: its price times the subscription's `quantity`, every `interval_count`
//! `interval_unit`s. When the subscription overrides its plan (`plan_overridden`), the price
//! it pays is not the plan's, so the last payment's amount stays. Each plan is read once per
//! adapter (one sync), however many subscriptions are on it.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use switchboard_core::records::SubscriptionRecord;

use super::fields::MoneyFields;
use super::{Call, PayPalPayments, api_error, unreadable};
use crate::ProviderError;

#[derive(Deserialize)]
struct Frequency<'a> {
    #[serde(borrow)]
    interval_unit: Option<Cow<'a, str>>,
    interval_count: Option<i64>,
}

#[derive(Deserialize)]
struct PricingScheme<'a> {
    #[serde(borrow)]
    fixed_price: Option<MoneyFields<'a>>,
}

#[derive(Deserialize)]
struct BillingCycle<'a> {
    #[serde(borrow)]
    tenure_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    frequency: Option<Frequency<'a>>,
    #[serde(borrow)]
    pricing_scheme: Option<PricingScheme<'a>>,
}

#[derive(Deserialize)]
struct PlanFields<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    billing_cycles: Vec<BillingCycle<'a>>,
}

/// What a subscription shows of its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanTerms {
    pub name: Option<String>,
    /// The regular cycle's fixed price: minor units, currency, exponent.
    pub price: Option<(i64, String, u8)>,
    /// Ours: `day`, `week`, `month`, `year`, and the count.
    pub interval: Option<(String, i64)>,
}

/// A plan object (its JSON text) as the terms a subscription shows.
pub(crate) fn parse_plan(raw: &str) -> Result<PlanTerms, String> {
    let plan: PlanFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let regular = plan
        .billing_cycles
        .iter()
        .find(|c| c.tenure_type.as_deref() == Some("REGULAR"));
    let interval = regular.and_then(|c| c.frequency.as_ref()).and_then(|f| {
        let unit = match f.interval_unit.as_deref()? {
            "DAY" => "day",
            "WEEK" => "week",
            "MONTH" => "month",
            "YEAR" => "year",
            _ => return None,
        };
        Some((unit.to_string(), f.interval_count.unwrap_or(1)))
    });
    let price = match regular
        .and_then(|c| c.pricing_scheme.as_ref())
        .and_then(|p| p.fixed_price.as_ref())
    {
        Some(m) => {
            let (minor, currency, exponent) = m.stored("fixed_price")?;
            Some((minor, currency.code().to_string(), exponent))
        }
        None => None,
    };
    Ok(PlanTerms {
        name: plan
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        price,
        interval,
    })
}

#[derive(Deserialize)]
struct SubscriptionPlanFields<'a> {
    #[serde(borrow)]
    plan_id: Option<Cow<'a, str>>,
    plan_overridden: Option<bool>,
    #[serde(borrow)]
    quantity: Option<Cow<'a, str>>,
}

impl PlanTerms {
    /// Fills `record` (a subscription on this plan) with the plan's name, interval and, unless
    /// the subscription overrides its plan, the regular price times its quantity.
    pub(crate) fn apply(&self, record: &mut SubscriptionRecord) {
        let fields: Option<SubscriptionPlanFields<'_>> =
            serde_json::from_str(&record.raw_json).ok();
        if let Some(name) = &self.name {
            record.description = Some(name.clone());
        }
        if let Some((unit, count)) = &self.interval {
            record.interval = Some(unit.clone());
            record.interval_count = Some(*count);
        }
        let overridden = fields.as_ref().and_then(|f| f.plan_overridden) == Some(true);
        let quantity = fields
            .as_ref()
            .and_then(|f| f.quantity.as_deref())
            .map_or(Some(1), |q| q.trim().parse::<i64>().ok())
            .filter(|q| *q >= 1);
        if let (false, Some((unit, currency, exponent)), Some(quantity)) =
            (overridden, &self.price, quantity)
            && let Some(amount) = unit.checked_mul(quantity)
        {
            record.amount_minor = Some(amount);
            record.currency = Some(currency.clone());
            record.currency_exponent = Some(*exponent);
        }
    }
}

/// The plan a subscription record names.
fn plan_id(record: &SubscriptionRecord) -> Option<String> {
    serde_json::from_str::<SubscriptionPlanFields<'_>>(&record.raw_json)
        .ok()?
        .plan_id
        .map(Cow::into_owned)
        .filter(|id| !id.is_empty())
}

impl PayPalPayments {
    /// Plan `id`, read once per adapter; `None` when PayPal does not know it (deleted).
    async fn plan(&self, id: &str) -> Result<Option<Arc<PlanTerms>>, ProviderError> {
        if let Some(known) = self.plans.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(known.clone());
        }
        let segment: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let path = format!("/v1/billing/plans/{segment}");
        let answer = self
            .send(reqwest::Method::GET, &path, &[], &[], None)
            .await?;
        let terms = match answer.status {
            404 => None,
            200..=299 => {
                let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
                let terms =
                    parse_plan(raw).map_err(|e| unreadable(&answer, format!("plan {id}: {e}")))?;
                Some(Arc::new(terms))
            }
            // Reading the plan is part of reading the subscription (the same app feature).
            _ => return Err(api_error(&answer, Call::ShowSubscription)),
        };
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), terms.clone());
        Ok(terms)
    }

    /// Fills `record` with its plan's name, price and interval; a plan PayPal no longer has
    /// leaves it as it is (its last payment's amount, the plan id as its description).
    pub(crate) async fn add_plan(
        &self,
        record: &mut SubscriptionRecord,
    ) -> Result<(), ProviderError> {
        let Some(id) = plan_id(record) else {
            return Ok(());
        };
        if let Some(terms) = self.plan(&id).await? {
            terms.apply(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(cycles: serde_json::Value) -> String {
        json!({"id": "P-1", "product_id": "PROD-1", "name": "Pro membership", "status": "ACTIVE",
            "billing_cycles": cycles})
        .to_string()
    }

    fn subscription(extra: serde_json::Value) -> SubscriptionRecord {
        let mut raw = json!({"id": "I-1", "plan_id": "P-1", "status": "ACTIVE",
            "create_time": "2024-01-01T10:00:00Z",
            "billing_info": {"last_payment": {"amount": {"currency_code": "USD", "value": "9.99"},
                                              "time": "2024-05-01T10:00:00Z"}}});
        for (k, v) in extra.as_object().unwrap() {
            raw[k] = v.clone();
        }
        super::super::subscriptions::parse_subscription(&raw.to_string()).unwrap()
    }

    #[test]
    fn the_regular_cycle_gives_the_price_and_interval_not_the_trial() {
        let terms = parse_plan(&plan(json!([
            {"tenure_type": "TRIAL", "sequence": 1, "total_cycles": 1,
             "frequency": {"interval_unit": "WEEK", "interval_count": 2}},
            {"tenure_type": "REGULAR", "sequence": 2, "total_cycles": 0,
             "frequency": {"interval_unit": "MONTH", "interval_count": 3},
             "pricing_scheme": {"fixed_price": {"currency_code": "JPY", "value": "1500"}}}
        ])))
        .unwrap();
        assert_eq!(
            terms,
            PlanTerms {
                name: Some("Pro membership".into()),
                price: Some((1500, "JPY".into(), 0)),
                interval: Some(("month".into(), 3)),
            }
        );
        let mut s = subscription(json!({"quantity": "2"}));
        assert_eq!(s.amount_minor, Some(999));
        terms.apply(&mut s);
        assert_eq!(s.description.as_deref(), Some("Pro membership"));
        assert_eq!(
            (s.amount_minor, s.currency.as_deref(), s.currency_exponent),
            (Some(3000), Some("JPY"), Some(0))
        );
        assert_eq!(
            (s.interval.as_deref(), s.interval_count),
            (Some("month"), Some(3))
        );
        // Overridden: the price paid is not the plan's; the last payment's stays.
        let mut s = subscription(json!({"plan_overridden": true}));
        terms.apply(&mut s);
        assert_eq!(
            (s.amount_minor, s.currency.as_deref()),
            (Some(999), Some("USD"))
        );
        assert_eq!(s.interval.as_deref(), Some("month"));
    }

    #[test]
    fn a_tiered_plan_has_no_fixed_price_and_a_bad_price_is_an_error() {
        let tiered = parse_plan(&plan(json!([
            {"tenure_type": "REGULAR", "sequence": 1,
             "frequency": {"interval_unit": "YEAR"},
             "pricing_scheme": {"pricing_model": "VOLUME", "tiers": []}}
        ])))
        .unwrap();
        assert_eq!(tiered.price, None);
        assert_eq!(tiered.interval, Some(("year".into(), 1)));
        let mut s = subscription(json!({}));
        tiered.apply(&mut s);
        assert_eq!(s.amount_minor, Some(999));
        let bad = plan(json!([{"tenure_type": "REGULAR", "sequence": 1,
            "frequency": {"interval_unit": "MONTH"},
            "pricing_scheme": {"fixed_price": {"currency_code": "JPY", "value": "10.5"}}}]));
        assert!(parse_plan(&bad).unwrap_err().contains("fixed_price"));
    }
}
