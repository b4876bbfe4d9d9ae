//! Sync runs. The row is the truth about a run: a run left `running` by a crash is marked
//! `interrupted` at the next open, and its stream resumes from the cursor checkpoint.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use switchboard_core::views::SyncRunView;

/// Counts a run accumulates page by page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub fetched: i64,
    pub inserted: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.fetched += o.fetched;
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.skipped += o.skipped;
        self.failed += o.failed;
    }
}

pub fn start(
    conn: &Connection,
    connection_id: &str,
    stream: &str,
    trigger: &str,
) -> Result<String> {
    let id = crate::new_id();
    conn.execute(
        "INSERT INTO sync_runs (id, connection_id, stream, trigger, status, started_at)
         VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
        params![
            id,
            connection_id,
            stream,
            trigger,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(id)
}

/// Adds a page's counts; call inside the page's transaction.
pub fn add_counts(conn: &Connection, id: &str, c: Counts) -> Result<()> {
    conn.execute(
        "UPDATE sync_runs SET fetched = fetched + ?2, inserted = inserted + ?3,
           updated = updated + ?4, skipped = skipped + ?5, failed = failed + ?6
         WHERE id = ?1",
        params![id, c.fetched, c.inserted, c.updated, c.skipped, c.failed],
    )?;
    Ok(())
}

pub struct Finish<'a> {
    pub status: &'a str,
    pub error_code: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub warnings: &'a [String],
    pub request_ids: &'a [String],
}

pub fn finish(conn: &Connection, id: &str, f: &Finish<'_>) -> Result<()> {
    let warnings =
        serde_json::to_string(f.warnings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let request_ids =
        serde_json::to_string(f.request_ids).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = chrono::Utc::now();
    conn.execute(
        "UPDATE sync_runs SET status = ?2, error_code = ?3, error_message = ?4,
           warnings_json = ?5, request_ids = ?6, finished_at = ?7,
           duration_ms = CAST(ROUND((julianday(?7) - julianday(started_at)) * 86400000) AS INTEGER)
         WHERE id = ?1",
        params![
            id,
            f.status,
            f.error_code,
            f.error_message,
            warnings,
            request_ids,
            now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ],
    )?;
    Ok(())
}

/// Marks runs of a stream left `running` by a process that died as `interrupted`; returns how
/// many. Call only when no other run of the stream can be running (the caller holds the lock).
pub fn mark_interrupted(conn: &Connection, connection_id: &str, stream: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ?3,
           error_message = 'Stopped before it finished; the next run resumed from its last saved page.'
         WHERE connection_id = ?1 AND stream = ?2 AND status = 'running'",
        params![connection_id, stream, switchboard_core::now_rfc3339()],
    )?)
}

const SELECT: &str = "SELECT r.id, r.connection_id, c.name, r.stream, r.trigger, r.status,
        r.fetched, r.inserted, r.updated, r.skipped, r.failed, r.started_at, r.finished_at,
        r.duration_ms, r.error_code, r.error_message, r.warnings_json
    FROM sync_runs r JOIN connections c ON c.id = r.connection_id";

fn view(r: &Row<'_>) -> rusqlite::Result<SyncRunView> {
    Ok(SyncRunView {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        connection: r.get(2)?,
        stream: r.get(3)?,
        trigger: r.get(4)?,
        status: r.get(5)?,
        fetched: r.get(6)?,
        inserted: r.get(7)?,
        updated: r.get(8)?,
        skipped: r.get(9)?,
        failed: r.get(10)?,
        started_at: r.get(11)?,
        finished_at: r.get(12)?,
        duration_ms: r.get(13)?,
        error_code: r.get(14)?,
        error_message: r.get(15)?,
        warnings: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
    })
}

pub fn get(conn: &Connection, id: &str) -> Result<SyncRunView> {
    conn.query_row(&format!("{SELECT} WHERE r.id = ?1"), [id], view)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("sync run `{id}`")))
}

pub fn list(conn: &Connection, limit: usize) -> Result<Vec<SyncRunView>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} ORDER BY r.started_at DESC, r.id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
