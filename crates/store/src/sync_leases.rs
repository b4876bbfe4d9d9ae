//! Run leases: at most one run per (connection, stream) at a time, across processes. Taking a
//! lease is one `INSERT … ON CONFLICT` that only succeeds over a free, expired or own lease, so
//! two processes racing for it cannot both win (SQLite serialises writers).

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// Who holds a lease that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub pid: i64,
    pub expires_at: i64,
}

/// Takes (or renews) the lease for `holder` until `now_ms + ttl_ms`. `Err(Held)` when another
/// live holder has it.
pub fn acquire(
    conn: &Connection,
    connection_id: &str,
    stream: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<Result<(), Held>> {
    let taken = conn.execute(
        "INSERT INTO sync_leases (connection_id, stream, holder, pid, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (connection_id, stream) DO UPDATE SET
           holder = excluded.holder, pid = excluded.pid, expires_at = excluded.expires_at
         WHERE sync_leases.holder = excluded.holder OR sync_leases.expires_at <= ?6",
        params![
            connection_id,
            stream,
            holder,
            i64::from(std::process::id()),
            now_ms + ttl_ms,
            now_ms
        ],
    )?;
    if taken == 1 {
        return Ok(Ok(()));
    }
    let held = conn
        .query_row(
            "SELECT pid, expires_at FROM sync_leases WHERE connection_id = ?1 AND stream = ?2",
            params![connection_id, stream],
            |r| {
                Ok(Held {
                    pid: r.get(0)?,
                    expires_at: r.get(1)?,
                })
            },
        )
        .optional()?;
    Ok(Err(held.unwrap_or(Held {
        pid: 0,
        expires_at: now_ms,
    })))
}

pub fn release(conn: &Connection, connection_id: &str, stream: &str, holder: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sync_leases WHERE connection_id = ?1 AND stream = ?2 AND holder = ?3",
        params![connection_id, stream, holder],
    )?;
    Ok(())
}

/// Marks runs left `running` whose stream has no live lease as `interrupted` (their process
/// died); returns how many. Safe at any time: a live run always holds a live lease.
pub fn interrupt_orphaned_runs(conn: &Connection, now_ms: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ?2,
           error_message = 'Stopped before it finished (the app or command was closed); the next sync resumes from its last saved page.'
         WHERE status = 'running' AND NOT EXISTS (
           SELECT 1 FROM sync_leases l
           WHERE l.connection_id = sync_runs.connection_id AND l.stream = sync_runs.stream
             AND l.expires_at > ?1)",
        params![now_ms, switchboard_core::now_rfc3339()],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, connections, sync_runs};

    fn store() -> Store {
        let store = Store::open_in_memory().unwrap();
        connections::insert(
            &store.conn(),
            &connections::NewConnection {
                id: "c1",
                provider: "stripe",
                name: "Main",
                account_id: None,
                api_base: "http://x",
            },
        )
        .unwrap();
        store
    }

    #[test]
    fn one_holder_at_a_time_until_expiry() {
        let store = store();
        let conn = store.conn();
        assert_eq!(
            acquire(&conn, "c1", "charges", "a", 1_000, 500).unwrap(),
            Ok(())
        );
        // Another holder is refused while the lease lives…
        let held = acquire(&conn, "c1", "charges", "b", 1_200, 500)
            .unwrap()
            .unwrap_err();
        assert_eq!(held.expires_at, 1_500);
        // …the holder renews it…
        assert_eq!(
            acquire(&conn, "c1", "charges", "a", 1_400, 500).unwrap(),
            Ok(())
        );
        assert!(
            acquire(&conn, "c1", "charges", "b", 1_600, 500)
                .unwrap()
                .is_err()
        );
        // …other streams are independent, and an expired lease can be taken over.
        assert_eq!(
            acquire(&conn, "c1", "refunds", "b", 1_600, 500).unwrap(),
            Ok(())
        );
        assert_eq!(
            acquire(&conn, "c1", "charges", "b", 1_900, 500).unwrap(),
            Ok(())
        );
        // Releasing someone else's lease does nothing.
        release(&conn, "c1", "charges", "a").unwrap();
        assert!(
            acquire(&conn, "c1", "charges", "a", 2_000, 500)
                .unwrap()
                .is_err()
        );
        release(&conn, "c1", "charges", "b").unwrap();
        assert_eq!(
            acquire(&conn, "c1", "charges", "a", 2_000, 500).unwrap(),
            Ok(())
        );
    }

    #[test]
    fn only_runs_without_a_live_lease_are_interrupted() {
        let store = store();
        let conn = store.conn();
        let live = sync_runs::start(&conn, "c1", "charges", "manual").unwrap();
        let dead = sync_runs::start(&conn, "c1", "refunds", "manual").unwrap();
        acquire(&conn, "c1", "charges", "a", 1_000, 500)
            .unwrap()
            .unwrap();
        acquire(&conn, "c1", "refunds", "b", 0, 500)
            .unwrap()
            .unwrap();
        assert_eq!(interrupt_orphaned_runs(&conn, 1_100).unwrap(), 1);
        assert_eq!(sync_runs::get(&conn, &live).unwrap().status, "running");
        assert_eq!(sync_runs::get(&conn, &dead).unwrap().status, "interrupted");
    }
}
