//! Rate budgets and circuit breakers: a connection's budget override, its daily request count
//! (per UTC hour) and its breaker state, so the CLI sees what the app did and a restart keeps
//! both (`connection_health`, `rate_budget_usage`).

use crate::Result;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use switchboard_core::catalogue::RateLimits;
use switchboard_core::views::CircuitState;

/// A connection's breaker as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitRow {
    pub circuit: CircuitState,
    pub consecutive_failures: u32,
    /// Opens in a row; the cool-down doubles with each.
    pub trips: u32,
    /// Unix milliseconds (UTC) until which an open circuit refuses requests.
    pub open_until_ms: Option<i64>,
}

impl Default for CircuitRow {
    fn default() -> Self {
        CircuitRow {
            circuit: CircuitState::Closed,
            consecutive_failures: 0,
            trips: 0,
            open_until_ms: None,
        }
    }
}

/// Everything kept about a connection's health; the defaults when nothing is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthRow {
    /// The connection's own budget, replacing the catalogue's.
    pub rate_override: Option<RateLimits>,
    pub circuit: CircuitRow,
    pub last_success_at: Option<String>,
    pub last_error_at: Option<String>,
    pub last_error: Option<String>,
}

/// Requests counted against a daily budget, and the oldest hour holding any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub used: u32,
    pub oldest_hour: Option<i64>,
}

fn ensure_row(conn: &Connection, connection_id: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO connection_health (connection_id, updated_at) VALUES (?1, ?2)
         ON CONFLICT (connection_id) DO NOTHING",
    )?
    .execute(params![connection_id, switchboard_core::now_rfc3339()])?;
    Ok(())
}

fn to_u32(v: Option<i64>) -> Option<u32> {
    v.map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

pub fn get(conn: &Connection, connection_id: &str) -> Result<HealthRow> {
    let row = conn
        .query_row(
            "SELECT rate_override, per_second, per_minute, per_day, concurrent, circuit,
                    consecutive_failures, trips, open_until, last_success_at, last_error_at,
                    last_error
             FROM connection_health WHERE connection_id = ?1",
            [connection_id],
            |r| {
                let overridden: i64 = r.get(0)?;
                let circuit: String = r.get(5)?;
                let limits = RateLimits {
                    per_second: to_u32(r.get(1)?),
                    per_minute: to_u32(r.get(2)?),
                    per_day: to_u32(r.get(3)?),
                    concurrent: to_u32(r.get(4)?),
                };
                Ok(HealthRow {
                    rate_override: (overridden == 1).then_some(limits),
                    circuit: CircuitRow {
                        circuit: CircuitState::parse(&circuit).unwrap_or(CircuitState::Closed),
                        consecutive_failures: to_u32(Some(r.get(6)?)).unwrap_or(0),
                        trips: to_u32(Some(r.get(7)?)).unwrap_or(0),
                        open_until_ms: r.get(8)?,
                    },
                    last_success_at: r.get(9)?,
                    last_error_at: r.get(10)?,
                    last_error: r.get(11)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Sets (or, with `None`, removes) the connection's budget override.
pub fn set_override(
    conn: &Connection,
    connection_id: &str,
    limits: Option<&RateLimits>,
) -> Result<()> {
    ensure_row(conn, connection_id)?;
    let l = limits.copied().unwrap_or(RateLimits::NONE);
    conn.execute(
        "UPDATE connection_health SET rate_override = ?2, per_second = ?3, per_minute = ?4,
           per_day = ?5, concurrent = ?6, updated_at = ?7
         WHERE connection_id = ?1",
        params![
            connection_id,
            i64::from(limits.is_some()),
            l.per_second,
            l.per_minute,
            l.per_day,
            l.concurrent,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}

pub fn put_circuit(conn: &Connection, connection_id: &str, c: &CircuitRow) -> Result<()> {
    ensure_row(conn, connection_id)?;
    conn.prepare_cached(
        "UPDATE connection_health SET circuit = ?2, consecutive_failures = ?3, trips = ?4,
           open_until = ?5, updated_at = ?6
         WHERE connection_id = ?1",
    )?
    .execute(params![
        connection_id,
        c.circuit.as_str(),
        c.consecutive_failures,
        c.trips,
        c.open_until_ms,
        switchboard_core::now_rfc3339()
    ])?;
    Ok(())
}

/// Records how a sync or a connection test ended: `error` `None` is a success.
pub fn record_outcome(
    conn: &Connection,
    connection_id: &str,
    at: &str,
    error: Option<&str>,
) -> Result<()> {
    ensure_row(conn, connection_id)?;
    match error {
        None => conn.execute(
            "UPDATE connection_health SET last_success_at = ?2, updated_at = ?2
             WHERE connection_id = ?1",
            params![connection_id, at],
        )?,
        Some(e) => conn.execute(
            "UPDATE connection_health SET last_error_at = ?2, last_error = ?3, updated_at = ?2
             WHERE connection_id = ?1",
            params![connection_id, at, e],
        )?,
    };
    Ok(())
}

/// Requests counted from the hour `since_hour` on.
pub fn usage(conn: &Connection, connection_id: &str, since_hour: i64) -> Result<Usage> {
    let (used, oldest): (i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(requests), 0), MIN(hour) FROM rate_budget_usage
             WHERE connection_id = ?1 AND hour >= ?2 AND requests > 0",
        )?
        .query_row(params![connection_id, since_hour], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(Usage {
        used: to_u32(Some(used)).unwrap_or(0),
        oldest_hour: oldest,
    })
}

/// Counts one request in `hour` if fewer than `limit` are counted from `since_hour` on, in one
/// transaction (so two processes cannot both take the last one). Returns whether it was
/// counted, and the usage after.
pub fn take(
    conn: &mut Connection,
    connection_id: &str,
    hour: i64,
    since_hour: i64,
    limit: u32,
) -> Result<(bool, Usage)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = usage(&tx, connection_id, since_hour)?;
    if before.used >= limit {
        tx.commit()?;
        return Ok((false, before));
    }
    tx.prepare_cached(
        "INSERT INTO rate_budget_usage (connection_id, hour, requests) VALUES (?1, ?2, 1)
         ON CONFLICT (connection_id, hour) DO UPDATE SET requests = requests + 1",
    )?
    .execute(params![connection_id, hour])?;
    // Hours older than any window are no longer needed.
    tx.prepare_cached("DELETE FROM rate_budget_usage WHERE connection_id = ?1 AND hour < ?2")?
        .execute(params![connection_id, hour - 3 * 86_400])?;
    let after = usage(&tx, connection_id, since_hour)?;
    tx.commit()?;
    Ok((true, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_row_and_round_trips() {
        let store = crate::test_store();
        let conn = store.conn();
        assert_eq!(get(&conn, "c1").unwrap(), HealthRow::default());
        let limits = RateLimits {
            per_second: Some(3),
            per_minute: None,
            per_day: Some(100),
            concurrent: Some(2),
        };
        set_override(&conn, "c1", Some(&limits)).unwrap();
        let circuit = CircuitRow {
            circuit: CircuitState::Open,
            consecutive_failures: 5,
            trips: 2,
            open_until_ms: Some(1_700_000_000_000),
        };
        put_circuit(&conn, "c1", &circuit).unwrap();
        record_outcome(&conn, "c1", "2024-05-01T10:00:00Z", None).unwrap();
        record_outcome(
            &conn,
            "c1",
            "2024-05-01T11:00:00Z",
            Some("Stripe had a problem"),
        )
        .unwrap();
        let row = get(&conn, "c1").unwrap();
        assert_eq!(row.rate_override, Some(limits));
        assert_eq!(row.circuit, circuit);
        assert_eq!(row.last_success_at.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(row.last_error.as_deref(), Some("Stripe had a problem"));
        set_override(&conn, "c1", None).unwrap();
        assert_eq!(get(&conn, "c1").unwrap().rate_override, None);
    }

    #[test]
    fn take_stops_at_the_limit_and_counts_only_the_window() {
        let store = crate::test_store();
        let mut conn = store.conn();
        let h = 1_700_000_000 - 1_700_000_000 % 3600;
        // Two requests in an hour outside the window, three inside.
        for _ in 0..2 {
            assert!(take(&mut conn, "c1", h - 7200, h - 7200, 10).unwrap().0);
        }
        for i in 0..3 {
            let (taken, u) = take(&mut conn, "c1", h, h - 3600, 3).unwrap();
            assert!(taken);
            assert_eq!(u.used, i + 1);
        }
        let (taken, u) = take(&mut conn, "c1", h, h - 3600, 3).unwrap();
        assert!(!taken);
        assert_eq!(u.used, 3);
        assert_eq!(u.oldest_hour, Some(h));
        assert_eq!(usage(&conn, "c1", h - 7200).unwrap().used, 5);
    }
}
