//! Webhook events the local receiver got: accepted ones (each asked for a sync) and rejected
//! ones with the reason. An accepted event id is unique per connection (a partial unique
//! index), so recording an accepted event is also the replay check. Kept bounded
//! ([`prune`]); the bound is also how long a replay is recognised, which is why it is longer
//! than the providers' retry windows (Stripe: 3 days, Square: 72 hours).

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// How long rows are kept, and at most how many per connection and outcome.
pub const KEEP_DAYS: i64 = 7;
pub const KEEP_PER_CONNECTION: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Rejected,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
        }
    }
}

/// One event as listed (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    pub id: String,
    pub connection_id: String,
    /// The connection's name.
    pub connection: String,
    pub provider: String,
    /// The provider's event id, once the signature was verified.
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub outcome: Outcome,
    /// Why it was rejected, or a note on an accepted one.
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub received_at: String,
}

/// An event about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub connection_id: &'a str,
    pub provider: &'a str,
    pub event_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub received_at: &'a str,
}

/// What [`record_accepted`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Accepted,
    /// The event id was already accepted (at `first_received_at`); nothing was recorded.
    Replay {
        first_received_at: String,
    },
}

/// Records a verified event as accepted, unless its id was already accepted for this
/// connection (a duplicate delivery or a replay); the unique index decides, so two deliveries
/// racing each other cannot both be accepted.
pub fn record_accepted(
    conn: &Connection,
    event: &NewEvent<'_>,
    note: Option<&str>,
) -> Result<Recorded> {
    let inserted = conn.execute(
        "INSERT INTO webhook_events
           (id, connection_id, provider, event_id, event_type, outcome, reason, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'accepted', ?6, ?7)
         ON CONFLICT (connection_id, event_id) WHERE outcome = 'accepted' DO NOTHING",
        params![
            crate::new_id(),
            event.connection_id,
            event.provider,
            event.event_id,
            event.event_type,
            note,
            event.received_at
        ],
    )?;
    if inserted == 1 {
        return Ok(Recorded::Accepted);
    }
    let first_received_at: Option<String> = conn
        .query_row(
            "SELECT received_at FROM webhook_events
             WHERE connection_id = ?1 AND event_id = ?2 AND outcome = 'accepted'",
            params![event.connection_id, event.event_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(Recorded::Replay {
        first_received_at: first_received_at.unwrap_or_default(),
    })
}

/// Records a rejected event with the reason.
pub fn record_rejected(conn: &Connection, event: &NewEvent<'_>, reason: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO webhook_events
           (id, connection_id, provider, event_id, event_type, outcome, reason, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'rejected', ?6, ?7)",
        params![
            crate::new_id(),
            event.connection_id,
            event.provider,
            event.event_id,
            event.event_type,
            reason,
            event.received_at
        ],
    )?;
    Ok(())
}

/// Drops a connection's rows older than [`KEEP_DAYS`], and beyond the newest
/// [`KEEP_PER_CONNECTION`] of each outcome (so a flood of rejected requests cannot push
/// accepted ids, the replay memory, out early).
pub fn prune(
    conn: &Connection,
    connection_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let cutoff = (now - chrono::Duration::days(KEEP_DAYS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut removed = conn.execute(
        "DELETE FROM webhook_events WHERE connection_id = ?1 AND received_at < ?2",
        params![connection_id, cutoff],
    )?;
    for outcome in [Outcome::Accepted, Outcome::Rejected] {
        removed += conn.execute(
            "DELETE FROM webhook_events WHERE connection_id = ?1 AND outcome = ?2 AND id <= (
               SELECT id FROM webhook_events WHERE connection_id = ?1 AND outcome = ?2
               ORDER BY id DESC LIMIT 1 OFFSET ?3)",
            params![connection_id, outcome.as_str(), KEEP_PER_CONNECTION],
        )?;
    }
    Ok(removed)
}

/// Newest first; one connection or all.
pub fn list(
    conn: &Connection,
    connection_id: Option<&str>,
    limit: usize,
) -> Result<Vec<WebhookEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, w.connection_id, c.name, w.provider, w.event_id, w.event_type, w.outcome,
           w.reason, w.received_at
         FROM webhook_events w JOIN connections c ON c.id = w.connection_id
         WHERE (?1 IS NULL OR w.connection_id = ?1)
         ORDER BY w.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![connection_id, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            let outcome: String = r.get(6)?;
            Ok(WebhookEvent {
                id: r.get(0)?,
                connection_id: r.get(1)?,
                connection: r.get(2)?,
                provider: r.get(3)?,
                event_id: r.get(4)?,
                event_type: r.get(5)?,
                outcome: if outcome == "accepted" {
                    Outcome::Accepted
                } else {
                    Outcome::Rejected
                },
                reason: r.get(7)?,
                received_at: r.get(8)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(event_id: Option<&'a str>, at: &'a str) -> NewEvent<'a> {
        NewEvent {
            connection_id: "c1",
            provider: "stripe",
            event_id,
            event_type: Some("charge.succeeded"),
            received_at: at,
        }
    }

    #[test]
    fn an_event_id_is_accepted_once_and_rejections_do_not_block_it() {
        let store = crate::test_store();
        let conn = store.conn();
        let at = "2025-10-09T08:00:00.000Z";
        // A rejected delivery with that id (say, signed with a stale secret) does not count.
        record_rejected(&conn, &event(Some("evt_1"), at), "bad signature").unwrap();
        assert_eq!(
            record_accepted(&conn, &event(Some("evt_1"), at), None).unwrap(),
            Recorded::Accepted
        );
        assert_eq!(
            record_accepted(
                &conn,
                &event(Some("evt_1"), "2025-10-09T08:01:00.000Z"),
                None
            )
            .unwrap(),
            Recorded::Replay {
                first_received_at: at.into()
            }
        );
        assert_eq!(
            record_accepted(&conn, &event(Some("evt_2"), at), Some("previous secret")).unwrap(),
            Recorded::Accepted
        );
        let rows = list(&conn, Some("c1"), 10).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].event_id.as_deref(), Some("evt_2"));
        assert_eq!(rows[0].reason.as_deref(), Some("previous secret"));
        assert_eq!(rows[0].connection, "Main");
        assert_eq!(rows[2].outcome, Outcome::Rejected);
        assert_eq!(rows[2].reason.as_deref(), Some("bad signature"));
    }

    #[test]
    fn prune_by_age_and_by_count_per_outcome() {
        let store = crate::test_store();
        let conn = store.conn();
        let now = chrono::Utc::now();
        let recent = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        record_accepted(&conn, &event(Some("old"), "2000-01-01T00:00:00.000Z"), None).unwrap();
        record_accepted(&conn, &event(Some("kept"), &recent), None).unwrap();
        for _ in 0..KEEP_PER_CONNECTION + 2 {
            record_rejected(&conn, &event(None, &recent), "bad").unwrap();
        }
        assert_eq!(prune(&conn, "c1", now).unwrap(), 3);
        let rows = list(&conn, None, usize::MAX).unwrap();
        assert_eq!(rows.len() as i64, KEEP_PER_CONNECTION + 1);
        // The flood of rejections did not push the accepted id out.
        assert!(rows.iter().any(|r| r.event_id.as_deref() == Some("kept")));
        assert!(rows.iter().all(|r| r.event_id.as_deref() != Some("old")));
    }
}
