//! Run leases: the record of which process runs which stream. Mutual exclusion itself comes
//! from an OS file lock held by the running process (see `switchboard-app`'s `locks`):
//! the OS drops it when the process dies, so this table never needs a time-to-live.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub pid: i64,
    pub acquired_at: String,
}

/// Records `holder` (this process) as running the stream. Call while holding the stream's lock.
pub fn record(conn: &Connection, connection_id: &str, stream: &str, holder: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_leases (connection_id, stream, holder, pid, acquired_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (connection_id, stream) DO UPDATE SET
           holder = excluded.holder, pid = excluded.pid, acquired_at = excluded.acquired_at",
        params![
            connection_id,
            stream,
            holder,
            i64::from(std::process::id()),
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, connection_id: &str, stream: &str) -> Result<Option<Lease>> {
    Ok(conn
        .query_row(
            "SELECT holder, pid, acquired_at FROM sync_leases WHERE connection_id = ?1 AND stream = ?2",
            params![connection_id, stream],
            |r| {
                Ok(Lease {
                    holder: r.get(0)?,
                    pid: r.get(1)?,
                    acquired_at: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn release(conn: &Connection, connection_id: &str, stream: &str, holder: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sync_leases WHERE connection_id = ?1 AND stream = ?2 AND holder = ?3",
        params![connection_id, stream, holder],
    )?;
    Ok(())
}

/// Streams with a run still marked `running` (live, or left by a process that died).
pub fn running_streams(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare("SELECT DISTINCT connection_id, stream FROM sync_runs WHERE status = 'running'")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync_runs;

    #[test]
    fn record_get_release_and_running_streams() {
        let store = crate::test_store();
        let conn = store.conn();
        record(&conn, "c1", "charges", "a").unwrap();
        assert_eq!(get(&conn, "c1", "charges").unwrap().unwrap().holder, "a");
        release(&conn, "c1", "charges", "someone-else").unwrap();
        assert!(get(&conn, "c1", "charges").unwrap().is_some());
        release(&conn, "c1", "charges", "a").unwrap();
        assert!(get(&conn, "c1", "charges").unwrap().is_none());
        sync_runs::start(&conn, "c1", "refunds", "manual").unwrap();
        assert_eq!(
            running_streams(&conn).unwrap(),
            vec![("c1".to_string(), "refunds".to_string())]
        );
    }
}
