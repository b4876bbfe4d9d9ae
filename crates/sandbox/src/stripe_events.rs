//! `GET /v1/events[/{id}]` of the Stripe fake (a child module of [`super`]).
//!
//! Every change the fake's state goes through emits the event Stripe would, with the object as
//! it is after the change as `data.object` (and what changed as `data.previous_attributes`):
//! a charge added by a test hook (`charge.succeeded`), a refund (`charge.refunded` and
//! `refund.created`, with the POST's request id and `Idempotency-Key` in `request`), a dispute
//! opened or moved (`charge.dispute.created`, `.updated`, `.closed`), a payout made or moved
//! (`payout.created`, `payout.updated`, `payout.reconciliation_completed`, `payout.paid`), a subscription updated
//! (`customer.subscription.updated`); [`StripeControl::emit_event`] emits any type for an
//! object. Seeded objects have no events: they all lie further back than Stripe keeps events.
//!
//! As at Stripe: newest first, `created` filters and cursors, `type` (one name, `*` wildcards)
//! or `types[]` (up to 20 names), not both; only the last 30 days are kept
//! ([`EVENT_RETENTION_SECS`], on the wall clock); [`StripeControl::expire_events`] drops every
//! event, as if the app had been away longer than that. Ids grow with each event, so events of
//! the same second list in the order they happened (newest first).

use super::*;

/// How long Stripe keeps events: 30 days.
/// <https://docs.stripe.com/api/events> ("only guarantee access to events through the Retrieve
/// Event API for 30 days").
pub const EVENT_RETENTION_SECS: i64 = 30 * DAY;

/// The largest `types[]` Stripe accepts.
const MAX_TYPES: usize = 20;

/// Who asked for the change an event records (the `request` of the event).
#[derive(Clone)]
pub(crate) struct EventRequest {
    pub(crate) id: String,
    pub(crate) idempotency_key: Option<String>,
}

pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) created: i64,
    kind: String,
    object: Value,
    previous: Option<Value>,
    request: Option<EventRequest>,
}

super::objects::object_row!(Event);

impl Event {
    pub(crate) fn json(&self) -> Value {
        let mut data = json!({ "object": self.object });
        if let Some(previous) = &self.previous {
            data["previous_attributes"] = previous.clone();
        }
        let request = match &self.request {
            Some(r) => json!({"id": r.id, "idempotency_key": r.idempotency_key}),
            None => json!({"id": null, "idempotency_key": null}),
        };
        json!({
            "api_version": API_VERSION,
            "created": self.created,
            "data": data,
            "id": self.id,
            "livemode": false,
            "object": "event",
            "pending_webhooks": 0,
            "request": request,
            "type": self.kind,
        })
    }
}

pub(crate) struct EventLog {
    table: Table<Event>,
    /// Events emitted so far, expired ones included; orders ids within a second.
    seq: u64,
    rng: SeedRng,
}

impl EventLog {
    pub(crate) fn new(seed: u64) -> EventLog {
        EventLog {
            table: Table::new(Vec::new()),
            seq: 0,
            rng: SeedRng::derive(seed, "stripe.events"),
        }
    }

    fn horizon() -> i64 {
        seed::now_unix() - EVENT_RETENTION_SECS
    }

    /// Events Stripe still keeps.
    pub(crate) fn retained(&self) -> usize {
        let horizon = EventLog::horizon();
        self.table
            .rows
            .iter()
            .filter(|e| e.created >= horizon)
            .count()
    }

    pub(crate) fn retained_event(&self, id: &str) -> Option<&Event> {
        self.table
            .get(id)
            .filter(|e| e.created >= EventLog::horizon())
    }

    fn push(
        &mut self,
        kind: &str,
        object: Value,
        previous: Option<Value>,
        request: Option<EventRequest>,
    ) -> String {
        self.seq += 1;
        // `evt_1` + the sequence in six base-62 digits (ASCII order is numeric order) + noise.
        let mut seq = String::new();
        let mut n = self.seq;
        for _ in 0..6 {
            let digit = (n % 62) as usize;
            seq.insert(
                0,
                char::from(
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[digit],
                ),
            );
            n /= 62;
        }
        let id = format!("evt_1{seq}{}", self.rng.base62(17));
        self.table.insert(Event {
            id: id.clone(),
            created: seed::now_unix(),
            kind: kind.to_string(),
            object,
            previous,
            request,
        });
        id
    }
}

impl StripeData {
    /// Emits event `kind` with object `id` as it is now (found by its id's prefix). Returns
    /// the event's id, or `None` when there is no such object.
    pub(crate) fn emit(
        &mut self,
        kind: &str,
        id: &str,
        previous: Option<Value>,
        request: Option<EventRequest>,
    ) -> Option<String> {
        let object = self.object_json(id)?;
        Some(self.more.events.push(kind, object, previous, request))
    }

    /// The JSON of any object the fake holds, by id.
    fn object_json(&self, id: &str) -> Option<Value> {
        let prefix = id.split('_').next().unwrap_or_default();
        let more = &self.more;
        match prefix {
            "ch" => self.charges.get(id).map(|c| self.charge_json(c, &[])),
            "re" => self.refunds.get(id).map(|r| self.refund_json(r, &[])),
            "txn" => self.bts.get(id).map(|b| self.bt_json(b)),
            "dp" => more.disputes.get(id).map(|d| self.dispute_json(d)),
            "po" => more.payouts.get(id).map(|p| self.payout_json(p)),
            "cus" => more.customers.get(id).map(|c| self.customer_json(c)),
            "sub" => more
                .subscriptions
                .get(id)
                .map(|s| self.subscription_json(s)),
            "cs" => more.sessions.get(id).map(billing::CheckoutSession::json),
            _ => None,
        }
    }
}

/// `type` and `types[]` as Stripe checks them: one or the other, at most 20 types.
pub(super) fn check_type_filters(p: &ListParams) -> Result<(), ApiError> {
    let types = p.filter_all("types");
    if !types.is_empty() && p.filter("type").is_some() {
        return Err(invalid(
            "You may pass either `type` or `types`, but not both.",
            "types",
        ));
    }
    if types.len() > MAX_TYPES {
        return Err(invalid(
            format!("You may pass at most {MAX_TYPES} values for `types`."),
            "types",
        ));
    }
    Ok(())
}

/// Whether event type `kind` matches `pattern` (`*` stands for any run of characters).
fn type_matches(pattern: &str, kind: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = kind.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

pub(super) fn page<'a>(
    log: &'a EventLog,
    q: &ListParams,
    missing_cursor: &dyn Fn(&'static str) -> ApiError,
) -> Result<(Vec<Item<'a>>, bool), ApiError> {
    let horizon = EventLog::horizon();
    let types = q.filter_all("types");
    let pattern = q.filter("type");
    let page = log
        .table
        .page(q, |e| {
            e.created >= horizon
                && (types.is_empty() || types.contains(&e.kind.as_str()))
                && pattern.is_none_or(|p| type_matches(p, &e.kind))
        })
        .map_err(missing_cursor)?;
    Ok(objects::items(page, Item::Event))
}

impl StripeControl {
    /// Emits an event of type `kind` (e.g. `charge.updated`) for the object `id` as it is now.
    /// Returns the event's id; panics when the fake holds no object `id`.
    pub fn emit_event(&self, kind: &str, id: &str) -> String {
        let mut state = self.state();
        state.item_json.clear();
        state
            .data
            .emit(kind, id, None, None)
            .unwrap_or_else(|| panic!("the Stripe fake has no object {id}"))
    }

    /// Drops every event: what Stripe's 30-day retention does to events of an app that has
    /// been away longer than that.
    pub fn expire_events(&self) {
        let mut state = self.state();
        state.item_json.clear();
        state.data.more.events.table = Table::new(Vec::new());
    }

    /// Events still kept, newest first: (id, type, the object's id).
    pub fn events(&self) -> Vec<(String, String, String)> {
        let state = self.state();
        let horizon = EventLog::horizon();
        state
            .data
            .more
            .events
            .table
            .rows
            .iter()
            .filter(|e| e.created >= horizon)
            .map(|e| {
                let object = e.object["id"].as_str().unwrap_or_default().to_string();
                (e.id.clone(), e.kind.clone(), object)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns_match_like_stripe_wildcards() {
        assert!(type_matches("charge.refunded", "charge.refunded"));
        assert!(!type_matches("charge.refunded", "charge.refunded.x"));
        assert!(type_matches("charge.*", "charge.dispute.created"));
        assert!(type_matches("*", "payout.paid"));
        assert!(type_matches("charge.dispute.*", "charge.dispute.closed"));
        assert!(!type_matches("charge.dispute.*", "charge.refunded"));
        assert!(type_matches("*.created", "refund.created"));
    }

    #[test]
    fn event_ids_grow_within_a_second() {
        let mut log = EventLog::new(1);
        let ids: Vec<String> = (0..70)
            .map(|_| log.push("charge.updated", json!({"id": "ch_1"}), None, None))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
