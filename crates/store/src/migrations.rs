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
];

pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}
