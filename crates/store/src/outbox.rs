//! The durable outbox: what Switchboard sends to providers, written before it is sent.
//!
//! Life of an item: `queued` → (`sending` → `queued` again after a transient failure)* →
//! `succeeded`, or `dead` (a permanent refusal, or too many failures) → `queued` again
//! (retry) or `discarded`. `sending` and `needs_lookup = 1` are committed together BEFORE a
//! request leaves; an answer that proves nothing was applied (a 4xx, a 429) clears
//! `needs_lookup`, an answer that leaves it open (the connection died, a 5xx) keeps it. An item
//! with `needs_lookup` is looked up at the provider before it is sent again. Times are RFC 3339
//! UTC with milliseconds, so they compare as text.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Statuses an item moves through.
pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const SUCCEEDED: &str = "succeeded";
pub const DEAD: &str = "dead";
pub const DISCARDED: &str = "discarded";

/// One outbox row, with its connection's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub connection_id: String,
    pub connection_name: String,
    pub kind: String,
    pub target: Option<String>,
    pub payload_json: String,
    pub idempotency_key: String,
    pub status: String,
    pub needs_lookup: bool,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub result_external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

/// What to enqueue.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub connection_id: &'a str,
    pub kind: &'a str,
    pub target: Option<&'a str>,
    pub payload_json: &'a str,
}

const COLUMNS: &str = "o.id, o.connection_id, c.name, o.kind, o.target, o.payload_json,
    o.idempotency_key, o.status, o.needs_lookup, o.attempts, o.next_attempt_at,
    o.last_error_code, o.last_error_message, o.result_external_id, o.created_at, o.updated_at,
    o.finished_at";
const FROM: &str = "FROM outbox o JOIN connections c ON c.id = o.connection_id";

fn item(r: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        connection_name: r.get(2)?,
        kind: r.get(3)?,
        target: r.get(4)?,
        payload_json: r.get(5)?,
        idempotency_key: r.get(6)?,
        status: r.get(7)?,
        needs_lookup: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt_at: r.get(10)?,
        last_error_code: r.get(11)?,
        last_error_message: r.get(12)?,
        result_external_id: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        finished_at: r.get(16)?,
    })
}

/// Writes a new `queued` item, due now. Its idempotency key is made here, once: every send of
/// the item, in this process or after a restart, carries the same key.
pub fn enqueue(conn: &Connection, new: &NewItem<'_>) -> Result<Item> {
    let id = crate::new_id();
    let key = format!("switchboard-{}", uuid::Uuid::new_v4());
    let now = switchboard_core::now_rfc3339();
    conn.execute(
        "INSERT INTO outbox (id, connection_id, kind, target, payload_json, idempotency_key,
           status, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7, ?7)",
        params![
            id,
            new.connection_id,
            new.kind,
            new.target,
            new.payload_json,
            key,
            now
        ],
    )?;
    get(conn, &id)
}

pub fn get(conn: &Connection, id: &str) -> Result<Item> {
    conn.query_row(
        &format!("SELECT {COLUMNS} {FROM} WHERE o.id = ?1"),
        [id],
        item,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("outbox item `{id}`")))
}

/// Items to work on at `now`, oldest first: queued items that are due, and items left
/// `sending` (call only while holding the outbox lock: then nobody else is sending them, so
/// they belong to a process that died mid-send).
pub fn due(conn: &Connection, now: &str, limit: usize) -> Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE (o.status = 'queued' AND o.next_attempt_at <= ?1) OR o.status = 'sending'
         ORDER BY o.created_at, o.id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, i64::try_from(limit).unwrap_or(i64::MAX)], item)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Items not yet final (queued or sending) that act on `target`.
pub fn open_for_target(conn: &Connection, connection_id: &str, target: &str) -> Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE o.connection_id = ?1 AND o.target = ?2 AND o.status IN ('queued', 'sending')
         ORDER BY o.created_at, o.id"
    ))?;
    let rows = stmt.query_map(params![connection_id, target], item)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Newest first; only dead letters when `dead_only`.
pub fn list(conn: &Connection, dead_only: bool, limit: usize) -> Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE (?1 = 0 OR o.status = 'dead')
         ORDER BY o.created_at DESC, o.id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(
        params![dead_only, i64::try_from(limit).unwrap_or(i64::MAX)],
        item,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many items are dead letters (for a badge).
pub fn dead_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE status = 'dead'",
        [],
        |r| r.get(0),
    )?)
}

/// Our ids of the payments `key` names: our id, or a provider's external id (which two
/// connections to the same account may share).
pub fn payment_ids(conn: &Connection, key: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM payments WHERE id = ?1 OR external_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([key], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn changed(n: usize, id: &str, what: &str) -> Result<()> {
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "outbox item `{id}` cannot be {what} in its current state"
        )))
    }
}

/// Commit this BEFORE the request leaves: one more attempt, outcome uncertain until answered.
pub fn mark_sending(conn: &Connection, id: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE outbox SET status = 'sending', needs_lookup = 1, attempts = attempts + 1,
           updated_at = ?2
         WHERE id = ?1 AND status IN ('queued', 'sending')",
        params![id, switchboard_core::now_rfc3339()],
    )?;
    changed(n, id, "sent")
}

/// A look-up at the provider found nothing: the item was never applied, send it.
pub fn clear_lookup(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET needs_lookup = 0, updated_at = ?2 WHERE id = ?1",
        params![id, switchboard_core::now_rfc3339()],
    )?;
    Ok(())
}

/// The provider applied it (answered, or found by a look-up).
pub fn record_success(conn: &Connection, id: &str, result_external_id: &str) -> Result<()> {
    let now = switchboard_core::now_rfc3339();
    let n = conn.execute(
        "UPDATE outbox SET status = 'succeeded', needs_lookup = 0, result_external_id = ?2,
           last_error_code = NULL, last_error_message = NULL, updated_at = ?3, finished_at = ?3
         WHERE id = ?1 AND status IN ('queued', 'sending')",
        params![id, result_external_id, now],
    )?;
    changed(n, id, "marked succeeded")
}

/// A failed attempt (or look-up).
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    pub code: &'a str,
    pub message: &'a str,
    /// Whether the provider may have applied it anyway (it must be looked up before a resend).
    pub uncertain: bool,
    /// When to try again; `None` makes it a dead letter.
    pub retry_at: Option<&'a str>,
    /// Whether this failure counts as an attempt (a send does already, in `mark_sending`).
    pub count_attempt: bool,
}

pub fn record_failure(conn: &Connection, id: &str, f: &Failure<'_>) -> Result<()> {
    let now = switchboard_core::now_rfc3339();
    let (status, next, finished) = match f.retry_at {
        Some(at) => (QUEUED, at.to_string(), None),
        None => (DEAD, now.clone(), Some(now.clone())),
    };
    let n = conn.execute(
        "UPDATE outbox SET status = ?2, needs_lookup = ?3, next_attempt_at = ?4,
           last_error_code = ?5, last_error_message = ?6, attempts = attempts + ?7,
           updated_at = ?8, finished_at = ?9
         WHERE id = ?1 AND status IN ('queued', 'sending')",
        params![
            id,
            status,
            f.uncertain,
            next,
            f.code,
            f.message,
            i64::from(f.count_attempt),
            now,
            finished
        ],
    )?;
    changed(n, id, "marked failed")
}

/// A dead letter goes back to the queue, due now, with a fresh count of attempts (its key,
/// and whether it must be looked up first, are kept).
pub fn retry(conn: &Connection, id: &str) -> Result<Item> {
    let now = switchboard_core::now_rfc3339();
    let n = conn.execute(
        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?2,
           updated_at = ?2, finished_at = NULL
         WHERE id = ?1 AND status = 'dead'",
        params![id, now],
    )?;
    get(conn, id)?;
    changed(n, id, "retried (only dead letters can)")?;
    get(conn, id)
}

/// A dead letter is given up (kept, for the record).
pub fn discard(conn: &Connection, id: &str) -> Result<Item> {
    let now = switchboard_core::now_rfc3339();
    let n = conn.execute(
        "UPDATE outbox SET status = 'discarded', updated_at = ?2, finished_at = ?2
         WHERE id = ?1 AND status = 'dead'",
        params![id, now],
    )?;
    get(conn, id)?;
    changed(n, id, "discarded (only dead letters can)")?;
    get(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(target: &'a str) -> NewItem<'a> {
        NewItem {
            connection_id: "c1",
            kind: "stripe.refund",
            target: Some(target),
            payload_json: "{\"amount_minor\":100}",
        }
    }

    const FAR: &str = "9999-12-31T00:00:00.000Z";

    #[test]
    fn enqueue_makes_a_due_item_with_a_stable_unique_key() {
        let store = crate::test_store();
        let conn = store.conn();
        let a = enqueue(&conn, &new("ch_1")).unwrap();
        let b = enqueue(&conn, &new("ch_1")).unwrap();
        assert_eq!(
            (a.status.as_str(), a.attempts, a.needs_lookup),
            (QUEUED, 0, false)
        );
        assert_eq!(a.connection_name, "Main");
        assert_ne!(a.idempotency_key, b.idempotency_key);
        assert!(a.idempotency_key.starts_with("switchboard-"));
        let due_now = due(&conn, &switchboard_core::now_rfc3339(), 10).unwrap();
        assert_eq!(due_now.len(), 2);
        assert_eq!(due_now[0].id, a.id);
        // Sending and failing keep the key.
        mark_sending(&conn, &a.id).unwrap();
        let sent = get(&conn, &a.id).unwrap();
        assert_eq!(
            (sent.status.as_str(), sent.attempts, sent.needs_lookup),
            (SENDING, 1, true)
        );
        assert_eq!(sent.idempotency_key, a.idempotency_key);
        assert_eq!(open_for_target(&conn, "c1", "ch_1").unwrap().len(), 2);
    }

    #[test]
    fn failures_schedule_retries_or_make_dead_letters() {
        let store = crate::test_store();
        let conn = store.conn();
        let a = enqueue(&conn, &new("ch_1")).unwrap();
        mark_sending(&conn, &a.id).unwrap();
        record_failure(
            &conn,
            &a.id,
            &Failure {
                code: "network",
                message: "reset",
                uncertain: true,
                retry_at: Some(FAR),
                count_attempt: false,
            },
        )
        .unwrap();
        let item = get(&conn, &a.id).unwrap();
        assert_eq!((item.status.as_str(), item.needs_lookup), (QUEUED, true));
        assert_eq!(item.last_error_code.as_deref(), Some("network"));
        // Not due before its time; a `sending` item is always picked up (its sender died).
        assert!(
            due(&conn, "2000-01-01T00:00:00.000Z", 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(due(&conn, FAR, 10).unwrap().len(), 1);
        clear_lookup(&conn, &a.id).unwrap();
        mark_sending(&conn, &a.id).unwrap();
        assert_eq!(due(&conn, "2000-01-01T00:00:00.000Z", 10).unwrap().len(), 1);
        record_failure(
            &conn,
            &a.id,
            &Failure {
                code: "provider_error",
                message: "amount too large",
                uncertain: false,
                retry_at: None,
                count_attempt: false,
            },
        )
        .unwrap();
        let dead = get(&conn, &a.id).unwrap();
        assert_eq!((dead.status.as_str(), dead.attempts), (DEAD, 2));
        assert!(dead.finished_at.is_some());
        assert_eq!(list(&conn, true, 10).unwrap().len(), 1);
        assert_eq!(dead_count(&conn).unwrap(), 1);
        assert!(open_for_target(&conn, "c1", "ch_1").unwrap().is_empty());
        // A dead letter cannot be sent or succeed; it can be retried.
        assert!(mark_sending(&conn, &a.id).is_err());
        assert!(record_success(&conn, &a.id, "re_1").is_err());
        let again = retry(&conn, &a.id).unwrap();
        assert_eq!((again.status.as_str(), again.attempts), (QUEUED, 0));
        assert_eq!(again.idempotency_key, a.idempotency_key);
        assert!(
            retry(&conn, &a.id).is_err(),
            "only dead letters are retried"
        );
        record_success(&conn, &a.id, "re_1").unwrap();
        let done = get(&conn, &a.id).unwrap();
        assert_eq!(done.status, SUCCEEDED);
        assert_eq!(done.result_external_id.as_deref(), Some("re_1"));
        assert!(done.last_error_code.is_none());
        assert!(
            discard(&conn, &a.id).is_err(),
            "only dead letters are discarded"
        );
    }

    #[test]
    fn discard_keeps_the_item_out_of_the_queue() {
        let store = crate::test_store();
        let conn = store.conn();
        let a = enqueue(&conn, &new("ch_2")).unwrap();
        record_failure(
            &conn,
            &a.id,
            &Failure {
                code: "provider_error",
                message: "no",
                uncertain: false,
                retry_at: None,
                count_attempt: true,
            },
        )
        .unwrap();
        assert_eq!(get(&conn, &a.id).unwrap().attempts, 1);
        let gone = discard(&conn, &a.id).unwrap();
        assert_eq!(gone.status, DISCARDED);
        assert!(due(&conn, FAR, 10).unwrap().is_empty());
        assert!(list(&conn, true, 10).unwrap().is_empty());
        assert_eq!(list(&conn, false, 10).unwrap().len(), 1);
        assert!(matches!(get(&conn, "nope"), Err(StoreError::NotFound(_))));
        assert!(matches!(retry(&conn, "nope"), Err(StoreError::NotFound(_))));
    }
}
