//! Workspace settings: a key/value table. A missing key means "the default", which the caller
//! knows; nothing secret is ever stored here.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// Where backups are written (an absolute folder path); default `<workspace folder>/backups`.
pub const BACKUP_FOLDER: &str = "backup.folder";
/// Where a customer is sent after paying a payment request (the business's own page, an
/// absolute URL); default: the provider's own confirmation.
pub const PAYMENT_RETURN_URL: &str = "payments.return_url";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, switchboard_core::now_rfc3339()],
    )?;
    Ok(())
}

/// Back to the default.
pub fn remove(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    Ok(())
}

/// A connection's setting (`connection_settings`), deleted with the connection.
pub fn get_for(conn: &Connection, connection_id: &str, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM connection_settings WHERE connection_id = ?1 AND key = ?2",
            [connection_id, key],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_for(conn: &Connection, connection_id: &str, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO connection_settings (connection_id, key, value, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (connection_id, key) DO UPDATE SET
             value = excluded.value, updated_at = excluded.updated_at",
        params![connection_id, key, value, switchboard_core::now_rfc3339()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_overwrite_remove() {
        let store = crate::Store::open_in_memory().unwrap();
        let conn = store.conn();
        assert_eq!(get(&conn, BACKUP_FOLDER).unwrap(), None);
        set(&conn, BACKUP_FOLDER, "/a").unwrap();
        set(&conn, BACKUP_FOLDER, "/b").unwrap();
        assert_eq!(get(&conn, BACKUP_FOLDER).unwrap().as_deref(), Some("/b"));
        remove(&conn, BACKUP_FOLDER).unwrap();
        assert_eq!(get(&conn, BACKUP_FOLDER).unwrap(), None);
    }

    #[test]
    fn a_connections_settings_are_its_own_and_go_with_it() {
        let store = crate::Store::open_in_memory().unwrap();
        let conn = store.conn();
        for id in ["a", "b"] {
            conn.execute(
                "INSERT INTO connections (id, provider, name, status, api_base, created_at)
                 VALUES (?1, 'paypal', ?1, 'connected', 'https://api-m.paypal.com', 't')",
                [id],
            )
            .unwrap();
        }
        set_for(&conn, "a", "k", "1").unwrap();
        set_for(&conn, "a", "k", "2").unwrap();
        set_for(&conn, "b", "k", "3").unwrap();
        assert_eq!(get_for(&conn, "a", "k").unwrap().as_deref(), Some("2"));
        assert_eq!(get_for(&conn, "a", "other").unwrap(), None);
        assert_eq!(get(&conn, "k").unwrap(), None, "not a workspace setting");
        // Only settings of a connection that exists.
        assert!(set_for(&conn, "missing", "k", "4").is_err());

        crate::connections::delete(&conn, "a").unwrap();
        assert_eq!(get_for(&conn, "a", "k").unwrap(), None);
        assert_eq!(get_for(&conn, "b", "k").unwrap().as_deref(), Some("3"));
    }
}
