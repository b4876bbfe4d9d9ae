//! The `events` stream: updates to objects Switchboard already holds (a charge refunded later,
//! a dispute won, a payout paid, a subscription set to end) read from Stripe's Events API
//! (`GET /v1/events`), each event's `data.object` turned into its record.
//!
//! **Order.** Events are listed newest first, but an object's events must be applied oldest
//! first (the newest state wins). When the events since the last run fit in one page, that
//! page is applied in reverse. Otherwise the run first walks to the oldest page (`Scan`, pages
//! without records), then applies pages walking back towards the newest with `ending_before`
//! (`Apply`). Within a page, one object's several events keep only the newest state.
//!
//! **Retention.** Stripe keeps events for 30 days. When the stream never ran, or its last run
//! is older than that (the app was offline), events cannot tell what changed: the run does not
//! pretend. It re-lists charges, refunds, disputes, payouts, customers and subscriptions
//! created since the last run minus [`RELIST_LOOKBACK_SECS`] (a windowed re-list, `Relist`),
//! says so in a warning on the run, then applies the events Stripe still has.
//!
//! **Checkpoint.** Where a run is ([`EventsCursor`], JSON) is the page's continuation, so a
//! killed run resumes in the same phase. The last page's high-water mark is the newest event
//! seen, or the run's start minus [`QUIET_SECS`] if that is later, so a quiet account does not
//! fall back to a re-list after 30 days without events.

use super::{ListEnvelope, PAGE_LIMIT, Stripe, bad_shape, parse_list};
use crate::{Page, PageRequest, ProviderError, ProviderErrorKind, Record, Rejected};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// How long Stripe keeps events: 30 days.
/// <https://docs.stripe.com/api/events> ("only guarantee access to events through the Retrieve
/// Event API for 30 days").
pub const EVENT_RETENTION_SECS: i64 = 30 * DAY;

/// A last run younger than the retention by less than this falls back too: events at the very
/// edge may already be gone.
const RETENTION_MARGIN_SECS: i64 = DAY;

/// How far before the last run a windowed re-list starts: refunds, disputes and payout
/// changes mostly come within 90 days of the payment.
pub const RELIST_LOOKBACK_SECS: i64 = 90 * DAY;

/// The high-water mark of a run is at least its start minus this (see the module docs).
pub const QUIET_SECS: i64 = 7 * DAY;

const DAY: i64 = 24 * 60 * 60;

/// What a windowed re-list reads again, in order.
pub const RELIST_STREAMS: &[&str] = &[
    "charges",
    "refunds",
    "disputes",
    "payouts",
    "customers",
    "subscriptions",
];

/// The event types read (`types[]`, at most 20): changes to objects after they were created.
/// Creations arrive with each object's own stream.
pub const EVENT_TYPES: &[&str] = &[
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.updated",
    "charge.refunded",
    "charge.refund.updated",
    "refund.updated",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
    "payout.reconciliation_completed",
    "customer.updated",
    // Also sent when one pauses or resumes (a status change).
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

/// Events after which a payout's contents can be listed (read then, once).
const PAYOUT_CONTENTS_EVENTS: &[&str] = &["payout.reconciliation_completed", "payout.paid"];

/// Where an events run is. Serialised (JSON) as the page's continuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsCursor {
    /// When the run began (our clock).
    pub started: i64,
    /// `created[gte]` of the event reads; `None` reads every event Stripe keeps.
    pub since: Option<i64>,
    pub phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Re-listing `RELIST_STREAMS[stream]` created at or after `from`, after object `after`.
    Relist {
        from: i64,
        stream: usize,
        after: Option<String>,
    },
    /// The newest page of events; applied at once when it holds them all.
    Newest,
    /// Walking to the oldest page, after event `after`.
    Scan { after: String },
    /// Applying the pages newer than event `before`, oldest first.
    Apply { before: String },
}

impl EventsCursor {
    fn encode(&self) -> String {
        serde_json::to_string(self).expect("the cursor serialises")
    }
}

/// One event of a page: its id, time and object (kept raw).
#[derive(Deserialize)]
struct EventFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<EventData<'a>>,
}

#[derive(Deserialize)]
struct EventData<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ObjectType<'a> {
    #[serde(borrow)]
    object: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

/// One listed event: its id, time, and its object's record (or why not; `None` for objects
/// Switchboard does not keep).
struct ListedEvent {
    id: String,
    created: i64,
    outcome: Option<Result<Record, Rejected>>,
}

struct EventsPage {
    /// Newest first, as listed.
    events: Vec<ListedEvent>,
    /// Payouts whose contents became listable (see [`PAYOUT_CONTENTS_EVENTS`]).
    reconciled: Vec<String>,
    has_more: bool,
    request_id: Option<String>,
    warnings: Vec<String>,
}

fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| t.to_string())
}

impl Stripe {
    pub(super) async fn events_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let mut warnings = Vec::new();
        let cursor = match &request.starting_after {
            Some(token) => match serde_json::from_str::<EventsCursor>(token) {
                Ok(cursor) => {
                    if matches!(cursor.phase, Phase::Relist { .. })
                        && !self.relist_warned.swap(true, Ordering::SeqCst)
                    {
                        // A resumed re-list says so again (the first run's warning died with it).
                        warnings.push(format!(
                            "Continuing a re-list of Stripe objects created since {} (events older than 30 days are gone).",
                            day(match cursor.phase {
                                Phase::Relist { from, .. } => from,
                                _ => cursor.started,
                            })
                        ));
                    }
                    cursor
                }
                Err(_) => self.fresh_events_cursor(None, &mut warnings),
            },
            None => self.fresh_events_cursor(request.created_gte, &mut warnings),
        };
        let mut page = match self.events_step(&cursor).await {
            Err(e)
                if e.http_status == Some(404)
                    && matches!(cursor.phase, Phase::Scan { .. } | Phase::Apply { .. }) =>
            {
                // The event the run stood on is gone (the run was interrupted for weeks): what
                // changed since can only be re-listed.
                let since = cursor.since.unwrap_or(cursor.started);
                warnings.push(
                    "The Stripe event this sync stopped at is no longer kept; re-listing instead."
                        .to_string(),
                );
                let restart = EventsCursor {
                    started: cursor.started,
                    since: None,
                    phase: Phase::Relist {
                        from: since - RELIST_LOOKBACK_SECS,
                        stream: 0,
                        after: None,
                    },
                };
                self.relist_warned.store(true, Ordering::SeqCst);
                self.events_step(&restart).await?
            }
            other => other?,
        };
        warnings.append(&mut page.warnings);
        page.warnings = warnings;
        Ok(page)
    }

    /// The cursor of a run that starts afresh: events since `created_gte`, or a windowed
    /// re-list when that is beyond Stripe's retention (or the stream never ran).
    fn fresh_events_cursor(
        &self,
        created_gte: Option<i64>,
        warnings: &mut Vec<String>,
    ) -> EventsCursor {
        let now = (self.clock)();
        let horizon = now - EVENT_RETENTION_SECS + RETENTION_MARGIN_SECS;
        match created_gte {
            Some(since) if since >= horizon => EventsCursor {
                started: now,
                since: Some(since),
                phase: Phase::Newest,
            },
            last => {
                let from = last.unwrap_or(now) - RELIST_LOOKBACK_SECS;
                warnings.push(match last {
                    None => format!(
                        "Stripe keeps events for 30 days and this stream has not read them before, so it cannot tell what changed earlier: charges, refunds, disputes, payouts, customers and subscriptions created since {} were re-listed instead (older objects keep the state they were synced with).",
                        day(from)
                    ),
                    Some(since) => format!(
                        "Stripe keeps events for 30 days and this stream last read them up to {} ({} days ago; Switchboard was offline or not syncing): changes since then are no longer available as events, so charges, refunds, disputes, payouts, customers and subscriptions created since {} were re-listed instead. Changes made in that gap to objects created before {} are not seen.",
                        day(since),
                        (now - since) / DAY,
                        day(from),
                        day(from)
                    ),
                });
                self.relist_warned.store(true, Ordering::SeqCst);
                EventsCursor {
                    started: now,
                    since: None,
                    phase: Phase::Relist {
                        from,
                        stream: 0,
                        after: None,
                    },
                }
            }
        }
    }

    async fn events_step(&self, cursor: &EventsCursor) -> Result<Page, ProviderError> {
        match &cursor.phase {
            Phase::Relist {
                from,
                stream,
                after,
            } => {
                self.relist_step(cursor, *from, *stream, after.as_deref())
                    .await
            }
            Phase::Newest => {
                let listed = self.list_events(cursor.since, None, None).await?;
                if listed.has_more {
                    let oldest = listed.events.last().map(|e| e.id.clone());
                    let Some(after) = oldest else {
                        return Err(bad_shape("has_more without object ids"));
                    };
                    Ok(Self::walking(listed, cursor, Phase::Scan { after }))
                } else {
                    self.applied_with_entries(listed, cursor, None).await
                }
            }
            Phase::Scan { after } => {
                let listed = self.list_events(cursor.since, Some(after), None).await?;
                if listed.has_more {
                    let Some(oldest) = listed.events.last().map(|e| e.id.clone()) else {
                        return Err(bad_shape("has_more without object ids"));
                    };
                    return Ok(Self::walking(listed, cursor, Phase::Scan { after: oldest }));
                }
                // The oldest page: apply it, then walk back towards the newest.
                let listed = if listed.events.is_empty() {
                    // Stripe said more followed `after` and then listed none: `after` is the
                    // oldest event, so it is applied on its own.
                    self.one_event(after).await?
                } else {
                    listed
                };
                let newest = listed
                    .events
                    .first()
                    .map_or_else(|| after.clone(), |e| e.id.clone());
                self.applied_with_entries(listed, cursor, Some(newest))
                    .await
            }
            Phase::Apply { before } => {
                let listed = self.list_events(cursor.since, None, Some(before)).await?;
                let next = if listed.has_more {
                    match listed.events.first() {
                        Some(e) => Some(e.id.clone()),
                        None => return Err(bad_shape("has_more without object ids")),
                    }
                } else {
                    None
                };
                self.applied_with_entries(listed, cursor, next).await
            }
        }
    }

    /// A scanning page: no records, only the way on.
    fn walking(listed: EventsPage, cursor: &EventsCursor, next: Phase) -> Page {
        Page {
            records: Vec::new(),
            rejected: Vec::new(),
            warnings: listed.warnings,
            // Counted when applied.
            fetched: 0,
            last_id: Some(
                EventsCursor {
                    phase: next,
                    ..cursor.clone()
                }
                .encode(),
            ),
            max_created: None,
            has_more: true,
            request_id: listed.request_id,
        }
    }

    /// [`Stripe::applied`], with the contents of the payouts whose reconciliation completed.
    async fn applied_with_entries(
        &self,
        mut listed: EventsPage,
        cursor: &EventsCursor,
        next: Option<String>,
    ) -> Result<Page, ProviderError> {
        let reconciled = std::mem::take(&mut listed.reconciled);
        let mut page = Self::applied(listed, cursor, next);
        self.entries_of(&reconciled, &mut page).await?;
        Ok(page)
    }

    /// A page applied oldest first, one state per object (the newest); `next` is the event to
    /// continue before (`None`: the run is done).
    fn applied(listed: EventsPage, cursor: &EventsCursor, next: Option<String>) -> Page {
        let mut page = Page {
            warnings: listed.warnings,
            fetched: listed.events.len(),
            request_id: listed.request_id,
            has_more: next.is_some(),
            ..Page::default()
        };
        let mut at: HashMap<(u8, String), usize> = HashMap::new();
        for event in listed.events.into_iter().rev() {
            let created = event.created;
            page.max_created = Some(page.max_created.map_or(created, |m| m.max(created)));
            match event.outcome {
                Some(Ok(record)) => {
                    let key = (record_kind(&record), record.external_id().to_string());
                    match at.get(&key) {
                        Some(&i) => page.records[i] = record,
                        None => {
                            at.insert(key, page.records.len());
                            page.records.push(record);
                        }
                    }
                }
                Some(Err(rejected)) => page.rejected.push(rejected),
                None => {}
            }
        }
        match next {
            Some(before) => {
                page.last_id = Some(
                    EventsCursor {
                        phase: Phase::Apply { before },
                        ..cursor.clone()
                    }
                    .encode(),
                );
            }
            None => {
                let floor = cursor.started - QUIET_SECS;
                page.max_created = Some(page.max_created.map_or(floor, |m| m.max(floor)));
            }
        }
        page
    }

    async fn relist_step(
        &self,
        cursor: &EventsCursor,
        from: i64,
        stream: usize,
        after: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let name = RELIST_STREAMS
            .get(stream)
            .ok_or_else(|| bad_shape("a re-list checkpoint names no stream"))?;
        let mut page = if *name == "payouts" {
            // Events of their reconciliation may be gone too: the contents come along.
            self.payouts_list_page(Some(from), after, super::PAYOUT_PAGE_LIMIT, |_| true)
                .await?
        } else {
            let mut query = vec![
                ("limit", PAGE_LIMIT.to_string()),
                ("created[gte]", from.to_string()),
            ];
            query.extend(super::list_filters(name));
            if let Some(after) = after {
                query.push(("starting_after", after.to_string()));
            }
            let (body, request_id) = self.get_bytes(super::list_path(name)?, &query).await?;
            let mut page = parse_list(name, &body).map_err(|mut e| {
                e.http_status = Some(200);
                e.request_id = request_id.clone();
                e
            })?;
            page.request_id = request_id;
            page
        };
        let phase = if page.has_more {
            Phase::Relist {
                from,
                stream,
                after: page.last_id.clone(),
            }
        } else if stream + 1 < RELIST_STREAMS.len() {
            Phase::Relist {
                from,
                stream: stream + 1,
                after: None,
            }
        } else {
            Phase::Newest
        };
        page.has_more = true;
        // The events' high-water mark is not the re-listed objects' `created`.
        page.max_created = None;
        page.last_id = Some(
            EventsCursor {
                phase,
                ..cursor.clone()
            }
            .encode(),
        );
        Ok(page)
    }

    /// Event `id` alone, as a page.
    async fn one_event(&self, id: &str) -> Result<EventsPage, ProviderError> {
        if !super::is_object_id(id) {
            return Err(bad_shape("an event id that is not an id"));
        }
        let (body, request_id) = self.get_bytes(&format!("/v1/events/{id}"), &[]).await?;
        let body = format!(
            r#"{{"object":"list","has_more":false,"data":[{}]}}"#,
            String::from_utf8_lossy(&body)
        );
        let mut page = Self::read_events(body.as_bytes(), request_id)?;
        page.has_more = false;
        Ok(page)
    }

    /// One page of events (newest first) of the types Switchboard reads.
    async fn list_events(
        &self,
        since: Option<i64>,
        starting_after: Option<&str>,
        ending_before: Option<&str>,
    ) -> Result<EventsPage, ProviderError> {
        let mut query = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(since) = since {
            query.push(("created[gte]", since.to_string()));
        }
        for kind in EVENT_TYPES {
            query.push(("types[]", kind.to_string()));
        }
        if let Some(after) = starting_after {
            query.push(("starting_after", after.to_string()));
        }
        if let Some(before) = ending_before {
            query.push(("ending_before", before.to_string()));
        }
        let (body, request_id) = self.get_bytes("/v1/events", &query).await?;
        Self::read_events(&body, request_id)
    }

    fn read_events(body: &[u8], request_id: Option<String>) -> Result<EventsPage, ProviderError> {
        let envelope: ListEnvelope<'_> =
            serde_json::from_slice(body).map_err(|e| super::unreadable(e, &request_id))?;
        let data = envelope.data.ok_or_else(|| bad_shape("no `data` array"))?;
        let has_more = envelope
            .has_more
            .ok_or_else(|| bad_shape("no `has_more`"))?;
        let mut warnings = Vec::new();
        let mut reconciled = Vec::new();
        let mut events = Vec::with_capacity(data.len());
        for raw in data {
            let fields: EventFields<'_> = serde_json::from_str(raw.get()).map_err(|e| {
                ProviderError::new(
                    ProviderErrorKind::BadResponse,
                    format!("Stripe sent an event Switchboard cannot read ({e})."),
                )
            })?;
            let (Some(id), Some(created)) = (fields.id, fields.created) else {
                return Err(bad_shape("an event without `id` or `created`"));
            };
            let object = fields.data.and_then(|d| d.object);
            let outcome = object.and_then(|o| record_of(&id, o.get(), &mut warnings));
            if let Some(Ok(Record::Payout(p))) = &outcome
                && fields
                    .kind
                    .as_deref()
                    .is_some_and(|k| PAYOUT_CONTENTS_EVENTS.contains(&k))
                && !reconciled.contains(&p.external_id)
            {
                reconciled.push(p.external_id.clone());
            }
            events.push(ListedEvent {
                id: id.into_owned(),
                created,
                outcome,
            });
        }
        Ok(EventsPage {
            events,
            reconciled,
            has_more,
            request_id,
            warnings,
        })
    }
}

/// The record of an event's object; `None` for an object kind Switchboard does not keep.
fn record_of(
    event: &str,
    raw: &str,
    warnings: &mut Vec<String>,
) -> Option<Result<Record, Rejected>> {
    let head: ObjectType<'_> = serde_json::from_str(raw).ok()?;
    let parsed = match head.object.as_deref()? {
        "charge" => super::parse_charge_raw(raw, warnings).map(Record::Payment),
        "refund" => super::parse_refund_raw(raw, warnings).map(Record::Refund),
        "dispute" => super::parse_dispute_raw(raw, warnings).map(Record::Dispute),
        "payout" => super::parse_payout_raw(raw, warnings).map(Record::Payout),
        "customer" => super::parse_customer_raw(raw, warnings).map(Record::Customer),
        "subscription" => super::parse_subscription_raw(raw, warnings).map(Record::Subscription),
        _ => return None,
    };
    Some(parsed.map_err(|reason| Rejected {
        external_id: head.id.map(Cow::into_owned),
        reason: format!("in event {event}: {reason}"),
    }))
}

fn record_kind(record: &Record) -> u8 {
    match record {
        Record::Payment(_) => 0,
        Record::Refund(_) => 1,
        Record::BalanceTransaction(_) => 2,
        Record::Dispute(_) => 3,
        Record::Payout(_) => 4,
        Record::PayoutEntry(_) => 5,
        Record::Customer(_) => 6,
        Record::Subscription(_) => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_as_json() {
        for phase in [
            Phase::Relist {
                from: 5,
                stream: 2,
                after: Some("dp_1".into()),
            },
            Phase::Newest,
            Phase::Scan {
                after: "evt_1".into(),
            },
            Phase::Apply {
                before: "evt_2".into(),
            },
        ] {
            let c = EventsCursor {
                started: 100,
                since: Some(7),
                phase,
            };
            assert_eq!(
                serde_json::from_str::<EventsCursor>(&c.encode()).unwrap(),
                c
            );
        }
        assert!(EVENT_TYPES.len() <= 20, "Stripe takes at most 20 types");
    }

    use crate::PullPayments;
    use switchboard_sandbox::{Sandbox, SandboxConfig};

    async fn sandbox() -> Sandbox {
        Sandbox::start(SandboxConfig {
            port: 0,
            seed: 4,
            stripe_charges: 40,
        })
        .await
        .unwrap()
    }

    fn adapter(sb: &Sandbox, now: i64) -> Stripe {
        Stripe::new(
            crate::http::client(),
            Some(&sb.stripe_api_base()),
            sb.stripe_api_key().into(),
        )
        .with_clock(std::sync::Arc::new(move || now))
    }

    /// Runs the stream from `since` as the engine would: page after page, each page's records
    /// applied in order (the last write of an object wins, as in the store).
    async fn run(stripe: &Stripe, since: Option<i64>) -> (Vec<Page>, HashMap<String, Record>) {
        let mut pages = Vec::new();
        let mut store = HashMap::new();
        let mut request = PageRequest {
            created_gte: since,
            starting_after: None,
        };
        loop {
            let page = stripe.fetch_page("events", &request).await.unwrap();
            for record in &page.records {
                store.insert(record.external_id().to_string(), record.clone());
            }
            let more = page.has_more;
            request.starting_after = page.last_id.clone();
            pages.push(page);
            if !more {
                return (pages, store);
            }
        }
    }

    fn refunded(store: &HashMap<String, Record>, charge: &str) -> i64 {
        match &store[charge] {
            Record::Payment(p) => p.refunded_minor,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn many_events_are_applied_oldest_first_so_the_newest_state_wins() {
        let sb = sandbox().await;
        let ctl = sb.stripe();
        let now = chrono::Utc::now().timestamp();
        let charge = ctl.add_charge_now(10_000, "usd");
        let other = ctl.add_charge_now(500, "usd");
        ctl.refund_now(&charge, 1_000);
        // More than two pages of events between the first refund and the second.
        for _ in 0..230 {
            ctl.emit_event("charge.updated", &other);
        }
        ctl.refund_now(&charge, 2_500);
        let stripe = adapter(&sb, now);
        let (pages, store) = run(&stripe, Some(now - 3600)).await;
        assert_eq!(refunded(&store, &charge), 3_500, "the newest state wins");
        // Walked to the oldest page first (pages without records), then applied.
        assert!(pages.len() >= 5, "{}", pages.len());
        assert!(pages[0].records.is_empty() && pages[1].records.is_empty());
        // Two `charge.succeeded`, two `charge.refunded`, 230 `charge.updated` (no
        // `refund.created`: new refunds come with the refunds stream).
        assert_eq!(pages.iter().map(|p| p.fetched).sum::<usize>(), 234);
        assert!(pages.iter().all(|p| p.warnings.is_empty()));
        // The high-water mark is the newest event's time (not before the run's quiet floor).
        let high = pages.iter().filter_map(|p| p.max_created).max().unwrap();
        assert!(high >= now - 5 && high >= now - QUIET_SECS);
        // One page of events is applied at once, newest state kept once per object.
        let (pages, store) = run(&stripe, Some(chrono::Utc::now().timestamp() + 3600)).await;
        assert_eq!((pages.len(), store.len()), (1, 0));
        sb.shutdown().await;
    }

    #[tokio::test]
    async fn beyond_the_retention_it_re_lists_a_window_then_reads_the_events_kept() {
        let sb = sandbox().await;
        let ctl = sb.stripe();
        let now = chrono::Utc::now().timestamp();
        let old = ctl.add_charge_at(now - 20 * DAY, 4_000, "usd");
        let ancient = ctl.add_charge_at(now - 200 * DAY, 4_000, "usd");
        ctl.refund_now(&old, 1_000);
        ctl.refund_now(&ancient, 1_000);
        ctl.expire_events();
        let stripe = adapter(&sb, now);
        let last_run = now - 45 * DAY;
        let (pages, store) = run(&stripe, Some(last_run)).await;
        let warnings: Vec<&String> = pages.iter().flat_map(|p| &p.warnings).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("45 days ago"), "{}", warnings[0]);
        // Re-listed from the last run minus the window: the 20-day-old charge and its refund,
        // not the 200-day-old one.
        assert_eq!(refunded(&store, &old), 1_000);
        assert!(!store.contains_key(&ancient));
        assert!(store.values().any(|r| matches!(r, Record::Refund(x) if x.payment_external_id.as_deref() == Some(old.as_str()))));
        // One page per re-listed stream, then the events.
        assert_eq!(pages.len(), RELIST_STREAMS.len() + 1);
        assert!(
            pages[..RELIST_STREAMS.len()]
                .iter()
                .all(|p| p.max_created.is_none())
        );
        assert_eq!(pages.last().unwrap().max_created, Some(now - QUIET_SECS));
        // Never ran: the window ends now; a run within the retention reads events only.
        let (pages, _) = run(&adapter(&sb, now), None).await;
        assert!(pages[0].warnings[0].contains("has not read them before"));
        let (pages, _) = run(&adapter(&sb, now), Some(now - 29 * DAY + 60)).await;
        assert_eq!(pages.len(), 1);
        assert!(pages[0].warnings.is_empty());
        sb.shutdown().await;
    }

    #[test]
    fn an_event_object_becomes_its_record_and_a_broken_one_is_rejected() {
        let mut w = Vec::new();
        let charge = r#"{"id":"ch_1","object":"charge","amount":100,"amount_refunded":40,"currency":"usd","created":1,"status":"succeeded"}"#;
        let Some(Ok(Record::Payment(p))) = record_of("evt_1", charge, &mut w) else {
            panic!("a charge")
        };
        assert_eq!((p.refunded_minor, p.raw_json.as_str()), (40, charge));
        let broken =
            r#"{"id":"po_1","object":"payout","currency":"usd","created":1,"status":"paid"}"#;
        let Some(Err(rejected)) = record_of("evt_2", broken, &mut w) else {
            panic!("rejected")
        };
        assert_eq!(rejected.external_id.as_deref(), Some("po_1"));
        assert!(rejected.reason.contains("evt_2") && rejected.reason.contains("amount"));
        assert!(record_of("evt_3", r#"{"id":"in_1","object":"invoice"}"#, &mut w).is_none());
    }
}
