//! Embedded, numbered migrations. `PRAGMA user_version` records how many have run; each runs in
//! its own transaction, so a crash mid-migration leaves the previous version intact.

use crate::{Result, StoreError};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_sync_leases.sql"),
    include_str!("migrations/0003_request_log.sql"),
    include_str!("migrations/0004_outbox.sql"),
    include_str!("migrations/0005_rate_budget.sql"),
    include_str!("migrations/0006_settings.sql"),
    include_str!("migrations/0007_sync_schedule.sql"),
    include_str!("migrations/0008_drop_unused_index.sql"),
    include_str!("migrations/0009_oauth.sql"),
    include_str!("migrations/0010_auth_relay.sql"),
    include_str!("migrations/0011_payments_model.sql"),
    include_str!("migrations/0012_webhooks.sql"),
    include_str!("migrations/0013_payments_search_and_totals.sql"),
    include_str!("migrations/0014_payment_requests.sql"),
    include_str!("migrations/0015_payment_request_outcomes.sql"),
    include_str!("migrations/0016_totals_of_inserts_per_statement.sql"),
    include_str!("migrations/0017_payments_indexed_for_search_per_call.sql"),
    include_str!("migrations/0018_connection_settings.sql"),
];

pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    run_up_to(conn, MIGRATIONS.len())
}

/// Runs the migrations not yet run, up to the `last`-th.
fn run_up_to(conn: &mut Connection, last: usize) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS[..last].iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paypal_webhook_ids_move_to_their_connections_settings_and_orphans_go() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_up_to(&mut conn, 17).unwrap();
        conn.execute_batch(
            "INSERT INTO connections (id, provider, name, status, api_base, created_at)
             VALUES ('c1', 'paypal', 'PayPal', 'connected', 'https://api-m.paypal.com', 't');
             INSERT INTO settings (key, value, updated_at) VALUES
                 ('webhooks.paypal_webhook_id.c1', '8PT597110X687430LK', 't1'),
                 ('webhooks.paypal_webhook_id.gone', '1AB', 't2'),
                 ('backup.folder', '/b', 't3');",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let moved: Vec<(String, String, String, String)> = conn
            .prepare("SELECT connection_id, key, value, updated_at FROM connection_settings")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let row = |a: &str, b: &str, c: &str, d: &str| {
            (a.to_string(), b.to_string(), c.to_string(), d.to_string())
        };
        assert_eq!(
            moved,
            [row(
                "c1",
                "webhooks.paypal_webhook_id",
                "8PT597110X687430LK",
                "t1"
            )]
        );
        let left: Vec<String> = conn
            .prepare("SELECT key FROM settings")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(left, ["backup.folder"]);
    }
}
