//! The Square fake's catalog: the seller's subscription plans and their variations, and
//! `POST /v2/catalog/batch-retrieve` (BatchRetrieveCatalogObjects).
//!
//! The trimmed spec (`shared/specs/square.json`) keeps the catalog's object schemas
//! (`CatalogObject`, `CatalogSubscriptionPlan`, `CatalogSubscriptionPlanVariation`,
//! `SubscriptionPhase`, `SubscriptionPricing`) but not the batch-retrieve operation, so the
//! objects are checked against those schemas and the operation follows Square's reference
//! (https://developer.squareup.com/reference/square/catalog-api/batch-retrieve-catalog-objects):
//! `object_ids` required; `include_related_objects` adds the objects the found ones refer to
//! by id, one level deep (a variation's plan); ids the catalog does not have are left out, not
//! an error; an empty result is `{}`; the operation needs `ITEMS_READ`.
//!
//! Seeded plans: a coffee club (monthly and annual variations), a "Pro plan" whose variation
//! starts with two free weeks, a Tokyo tea plan in yen, and a build-your-own box priced by
//! what is ordered (`RELATIVE`).

use serde_json::{Map, Value, json};

use super::wire::{ApiError, money, time_s};
use crate::seed::SeedRng;

/// One phase of a plan variation.
#[derive(Clone, Debug)]
pub(crate) struct CatalogPhase {
    pub(crate) uid: String,
    /// A `SubscriptionCadence`: `MONTHLY`, `WEEKLY`, `ANNUAL`…
    pub(crate) cadence: &'static str,
    /// How many cadences the phase lasts; `None` for ever (the last phase only).
    pub(crate) periods: Option<i64>,
    /// A `STATIC` price (amount in the currency's minor unit); `None` is `RELATIVE` pricing.
    pub(crate) price: Option<(i64, &'static str)>,
}

#[derive(Clone, Debug)]
pub(crate) struct PlanVariation {
    pub(crate) id: String,
    pub(crate) name: &'static str,
    pub(crate) phases: Vec<CatalogPhase>,
}

#[derive(Clone, Debug)]
pub(crate) struct CatalogPlan {
    pub(crate) id: String,
    pub(crate) name: &'static str,
    pub(crate) variations: Vec<PlanVariation>,
    pub(crate) updated_ms: i64,
    pub(crate) version: i64,
}

/// Which seeded variation a seeded subscription is for: (plan, variation) positions.
pub(crate) const COFFEE_MONTHLY: (usize, usize) = (0, 0);
pub(crate) const COFFEE_ANNUAL: (usize, usize) = (0, 1);
pub(crate) const PRO_WITH_TRIAL: (usize, usize) = (1, 0);
pub(crate) const TOKYO_TEA: (usize, usize) = (2, 0);
pub(crate) const BUILD_A_BOX: (usize, usize) = (3, 0);

/// A seeded variation: its name and phases.
type VariationSeed = (&'static str, Vec<CatalogPhase>);

fn catalog_id(rng: &mut SeedRng) -> String {
    rng.base62(24).to_ascii_uppercase()
}

/// The seller's plans, from their own stream of the seed (so the rest of the data is as it
/// was before there was a catalog).
pub(crate) fn generate(seed_rng: &mut SeedRng, reference_ms: i64) -> Vec<CatalogPlan> {
    let mut rng = SeedRng::new(seed_rng.next_u64());
    let mut phase = |cadence, periods, price| CatalogPhase {
        uid: catalog_id(&mut rng),
        cadence,
        periods,
        price,
    };
    let plans: Vec<(&'static str, Vec<VariationSeed>)> = vec![
        (
            "Coffee club",
            vec![
                (
                    "Monthly",
                    vec![phase("MONTHLY", None, Some((1_500, "USD")))],
                ),
                ("Annual", vec![phase("ANNUAL", None, Some((15_000, "USD")))]),
            ],
        ),
        (
            "Pro plan",
            vec![(
                "Monthly, first two weeks free",
                vec![
                    phase("WEEKLY", Some(2), Some((0, "USD"))),
                    phase("MONTHLY", None, Some((2_900, "USD"))),
                ],
            )],
        ),
        (
            "Tea of the month",
            vec![(
                "Monthly",
                vec![phase("MONTHLY", None, Some((3_000, "JPY")))],
            )],
        ),
        (
            "Build your own box",
            vec![("Quarterly", vec![phase("QUARTERLY", None, None)])],
        ),
    ];
    let mut ids = SeedRng::new(rng.next_u64());
    plans
        .into_iter()
        .enumerate()
        .map(|(n, (name, variations))| CatalogPlan {
            id: catalog_id(&mut ids),
            name,
            variations: variations
                .into_iter()
                .map(|(name, phases)| PlanVariation {
                    id: catalog_id(&mut ids),
                    name,
                    phases,
                })
                .collect(),
            updated_ms: reference_ms - (900 - 30 * n as i64) * 86_400_000,
            version: reference_ms - (900 - 30 * n as i64) * 86_400_000,
        })
        .collect()
}

impl CatalogPlan {
    /// The variation as a `CatalogObject` of type `SUBSCRIPTION_PLAN_VARIATION`.
    pub(crate) fn variation_json(&self, v: &PlanVariation) -> Value {
        let phases: Vec<Value> = v
            .phases
            .iter()
            .enumerate()
            .map(|(ordinal, p)| {
                let pricing = match p.price {
                    Some((amount, currency)) => {
                        json!({"type": "STATIC", "price_money": money(amount, currency)})
                    }
                    None => json!({"type": "RELATIVE"}),
                };
                let mut phase = json!({
                    "uid": p.uid,
                    "cadence": p.cadence,
                    "ordinal": ordinal,
                    "pricing": pricing,
                });
                if let Some(periods) = p.periods {
                    phase["periods"] = json!(periods);
                }
                phase
            })
            .collect();
        json!({
            "type": "SUBSCRIPTION_PLAN_VARIATION",
            "id": v.id,
            "updated_at": time_s(self.updated_ms),
            "version": self.version,
            "is_deleted": false,
            "present_at_all_locations": true,
            "subscription_plan_variation_data": {
                "name": v.name,
                "phases": phases,
                "subscription_plan_id": self.id,
                "can_prorate": false,
            },
        })
    }

    /// The plan as a `CatalogObject` of type `SUBSCRIPTION_PLAN`, its variations inside.
    pub(crate) fn json(&self) -> Value {
        json!({
            "type": "SUBSCRIPTION_PLAN",
            "id": self.id,
            "updated_at": time_s(self.updated_ms),
            "version": self.version,
            "is_deleted": false,
            "present_at_all_locations": true,
            "subscription_plan_data": {
                "name": self.name,
                "subscription_plan_variations": self
                    .variations
                    .iter()
                    .map(|v| self.variation_json(v))
                    .collect::<Vec<_>>(),
                "all_items": false,
            },
        })
    }
}

/// A catalog object by id: a plan, or a variation with its plan.
fn find<'a>(
    catalog: &'a [CatalogPlan],
    id: &str,
) -> Option<(&'a CatalogPlan, Option<&'a PlanVariation>)> {
    catalog.iter().find_map(|plan| {
        if plan.id == id {
            return Some((plan, None));
        }
        plan.variations
            .iter()
            .find(|v| v.id == id)
            .map(|v| (plan, Some(v)))
    })
}

/// The body parameters BatchRetrieveCatalogObjects takes.
pub(crate) const BATCH_RETRIEVE_FIELDS: &[&str] = &[
    "object_ids",
    "include_related_objects",
    "catalog_version",
    "include_deleted_objects",
    "include_category_path_to_root",
];

/// `POST /v2/catalog/batch-retrieve` with its body's members (unknown ones already refused).
pub(crate) fn batch_retrieve(
    catalog: &[CatalogPlan],
    map: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let ids: Vec<&str> = match map.get("object_ids") {
        Some(Value::Array(ids)) if !ids.is_empty() => ids
            .iter()
            .map(|id| {
                id.as_str().ok_or_else(|| {
                    ApiError::invalid(
                        "EXPECTED_STRING",
                        "object_ids",
                        "Expected a string value in `object_ids`.",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::invalid(
                "MISSING_REQUIRED_PARAMETER",
                "object_ids",
                "Field must be set: `object_ids`.",
            ));
        }
    };
    let related = match map.get("include_related_objects") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                "EXPECTED_BOOLEAN",
                "include_related_objects",
                "Expected a boolean value for `include_related_objects`.",
            ));
        }
    };
    let mut objects: Vec<Value> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut parents: Vec<&CatalogPlan> = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        match find(catalog, id) {
            Some((plan, Some(variation))) => {
                objects.push(plan.variation_json(variation));
                if !parents.iter().any(|p| p.id == plan.id) {
                    parents.push(plan);
                }
            }
            Some((plan, None)) => objects.push(plan.json()),
            None => {}
        }
    }
    let mut answer = json!({});
    if !objects.is_empty() {
        answer["objects"] = json!(objects);
    }
    if related {
        let related: Vec<Value> = parents
            .iter()
            .filter(|p| !seen.contains(&p.id.as_str()))
            .map(|p| p.json())
            .collect();
        if !related.is_empty() {
            answer["related_objects"] = json!(related);
        }
    }
    Ok(answer)
}
