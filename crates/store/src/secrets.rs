//! Encrypted secrets. This module only moves ciphertext; sealing and opening happen in
//! `switchboard-secrets` with the workspace master key.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// The AEAD associated data: a ciphertext only opens under its own row id.
    pub id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub fn put(conn: &Connection, connection_id: &str, purpose: &str, row: &SecretRow) -> Result<()> {
    conn.execute(
        "INSERT INTO secrets (id, connection_id, purpose, nonce, ciphertext, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (connection_id, purpose) DO UPDATE SET
           id = excluded.id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
           created_at = excluded.created_at",
        params![
            row.id,
            connection_id,
            purpose,
            row.nonce,
            row.ciphertext,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, connection_id: &str, purpose: &str) -> Result<Option<SecretRow>> {
    Ok(conn
        .query_row(
            "SELECT id, nonce, ciphertext FROM secrets WHERE connection_id = ?1 AND purpose = ?2",
            params![connection_id, purpose],
            |r| {
                Ok(SecretRow {
                    id: r.get(0)?,
                    nonce: r.get(1)?,
                    ciphertext: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Removes every secret of a connection (disconnect); returns how many there were.
pub fn delete_all(conn: &Connection, connection_id: &str) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM secrets WHERE connection_id = ?1",
        [connection_id],
    )?)
}
