//! The request log: what was asked of each provider and how it answered. Kept bounded.

use crate::Result;
use rusqlite::{Connection, params};
use switchboard_core::records::RequestRecord;
use switchboard_core::views::RequestLogView;

/// Rows kept per connection, and for how long.
pub const KEEP_PER_CONNECTION: i64 = 5_000;
pub const KEEP_DAYS: i64 = 30;

pub fn append(conn: &Connection, connection_id: &str, rows: &[RequestRecord]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO request_log (connection_id, at, method, host, path, status, duration_ms,
           attempt, request_id, bytes, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in rows {
        stmt.execute(params![
            connection_id,
            r.at,
            r.method,
            r.host,
            r.path,
            r.status,
            r.duration_ms,
            r.attempt,
            r.request_id,
            r.bytes,
            r.error
        ])?;
    }
    Ok(())
}

/// Drops rows older than [`KEEP_DAYS`] and beyond the newest [`KEEP_PER_CONNECTION`].
pub fn prune(
    conn: &Connection,
    connection_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let cutoff = (now - chrono::Duration::days(KEEP_DAYS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let old = conn.execute(
        "DELETE FROM request_log WHERE connection_id = ?1 AND at < ?2",
        params![connection_id, cutoff],
    )?;
    let extra = conn.execute(
        "DELETE FROM request_log WHERE connection_id = ?1 AND id <= (
           SELECT id FROM request_log WHERE connection_id = ?1
           ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        params![connection_id, KEEP_PER_CONNECTION],
    )?;
    Ok(old + extra)
}

/// Newest first; one connection or all.
pub fn list(
    conn: &Connection,
    connection_id: Option<&str>,
    limit: usize,
) -> Result<Vec<RequestLogView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.connection_id, c.name, r.at, r.method, r.host, r.path, r.status,
           r.duration_ms, r.attempt, r.request_id, r.bytes, r.error
         FROM request_log r JOIN connections c ON c.id = r.connection_id
         WHERE (?1 IS NULL OR r.connection_id = ?1)
         ORDER BY r.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![connection_id, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            Ok(RequestLogView {
                id: r.get(0)?,
                connection_id: r.get(1)?,
                connection: r.get(2)?,
                at: r.get(3)?,
                method: r.get(4)?,
                host: r.get(5)?,
                path: r.get(6)?,
                status: r.get(7)?,
                duration_ms: r.get(8)?,
                attempt: r.get(9)?,
                request_id: r.get(10)?,
                bytes: r.get(11)?,
                error: r.get(12)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(at: &str) -> RequestRecord {
        RequestRecord {
            at: at.into(),
            method: "GET".into(),
            host: "api.stripe.com".into(),
            path: "/v1/charges".into(),
            status: Some(200),
            duration_ms: 12,
            attempt: 1,
            request_id: Some("req_1".into()),
            bytes: 100,
            error: None,
        }
    }

    #[test]
    fn append_list_and_prune_by_age_and_count() {
        let store = crate::test_store();
        let conn = store.conn();
        let now = chrono::Utc::now();
        let recent = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        append(&conn, "c1", &[row("2000-01-01T00:00:00.000Z")]).unwrap();
        let many: Vec<_> = (0..KEEP_PER_CONNECTION + 3).map(|_| row(&recent)).collect();
        append(&conn, "c1", &many).unwrap();
        assert_eq!(prune(&conn, "c1", now).unwrap(), 4);
        let all = list(&conn, Some("c1"), usize::MAX).unwrap();
        assert_eq!(all.len() as i64, KEEP_PER_CONNECTION);
        assert!(all.iter().all(|r| r.at == recent));
        assert!(all[0].id > all[1].id, "newest first");
        assert_eq!(all[0].connection, "Main");
    }
}
