//! Per-stream sync cursors. `high_water` is where the next run starts (minus a lookback);
//! the `run_*` columns are the checkpoint of a run in progress, written in the same transaction
//! as each page's rows, so a killed run resumes after its last committed page.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub high_water: Option<i64>,
    pub run_floor: Option<i64>,
    pub run_after: Option<String>,
    pub run_max_created: Option<i64>,
}

pub fn get(conn: &Connection, connection_id: &str, stream: &str) -> Result<Cursor> {
    Ok(conn
        .query_row(
            "SELECT high_water, run_floor, run_after, run_max_created FROM sync_cursors
             WHERE connection_id = ?1 AND stream = ?2",
            params![connection_id, stream],
            |r| {
                Ok(Cursor {
                    high_water: r.get(0)?,
                    run_floor: r.get(1)?,
                    run_after: r.get(2)?,
                    run_max_created: r.get(3)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

pub fn put(conn: &Connection, connection_id: &str, stream: &str, c: &Cursor) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_cursors (connection_id, stream, high_water, run_floor, run_after,
           run_max_created, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (connection_id, stream) DO UPDATE SET
           high_water = excluded.high_water, run_floor = excluded.run_floor,
           run_after = excluded.run_after, run_max_created = excluded.run_max_created,
           updated_at = excluded.updated_at",
        params![
            connection_id,
            stream,
            c.high_water,
            c.run_floor,
            c.run_after,
            c.run_max_created,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}
