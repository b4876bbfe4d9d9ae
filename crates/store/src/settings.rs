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
}
