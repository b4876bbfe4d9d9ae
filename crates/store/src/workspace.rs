//! The single `workspace` row: the UUID naming the keyring entry, and the key check.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRow {
    pub uuid: String,
    pub kind: String,
    pub key_check_nonce: Vec<u8>,
    pub key_check: Vec<u8>,
}

pub fn get(conn: &Connection) -> Result<Option<WorkspaceRow>> {
    Ok(conn
        .query_row(
            "SELECT uuid, kind, key_check_nonce, key_check FROM workspace WHERE id = 1",
            [],
            |r| {
                Ok(WorkspaceRow {
                    uuid: r.get(0)?,
                    kind: r.get(1)?,
                    key_check_nonce: r.get(2)?,
                    key_check: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn insert(conn: &Connection, row: &WorkspaceRow) -> Result<()> {
    conn.execute(
        "INSERT INTO workspace (id, uuid, kind, key_check_nonce, key_check, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            row.uuid,
            row.kind,
            row.key_check_nonce,
            row.key_check,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}
