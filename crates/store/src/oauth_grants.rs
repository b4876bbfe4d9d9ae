//! OAuth grants: per connection, what is not secret about its tokens (expiries, the last
//! refresh, the consent date, a generation counter), stored together with the sealed tokens.
//!
//! The invariant this module exists for: new tokens (above all a rotated refresh token) and
//! their metadata are written in ONE transaction, so the stored refresh token is always the
//! newest one the app has received, or the previous one if the app died before writing. See
//! [`Store::write_durably`] for how that transaction reaches the disk.
//!
//! [`Store::write_durably`]: crate::Store::write_durably

use crate::secrets::{self, SecretRow};
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// Secret purposes of an OAuth grant's tokens.
pub const ACCESS_TOKEN: &str = "oauth_access";
pub const REFRESH_TOKEN: &str = "oauth_refresh";

/// The metadata of a grant (times are RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub connection_id: String,
    pub client_id: String,
    pub access_expires_at: String,
    pub refresh_expires_at: Option<String>,
    pub last_refreshed_at: Option<String>,
    pub consented_at: String,
    pub generation: i64,
}

/// Tokens to store, already sealed by the caller. `refresh: None` keeps the stored refresh
/// token (providers that do not rotate answer a refresh without one).
#[derive(Debug)]
pub struct SealedTokens<'a> {
    pub access: &'a SecretRow,
    pub refresh: Option<&'a SecretRow>,
    pub access_expires_at: &'a str,
    pub refresh_expires_at: Option<&'a str>,
}

/// Stores the tokens of a new grant (connect or reconnect): generation 1, consent now.
pub fn put_new(
    conn: &Connection,
    connection_id: &str,
    client_id: &str,
    tokens: &SealedTokens<'_>,
    now: &str,
) -> Result<()> {
    put_secrets(conn, connection_id, tokens)?;
    conn.execute(
        "INSERT INTO oauth_grants (connection_id, client_id, access_expires_at,
            refresh_expires_at, last_refreshed_at, consented_at, generation, updated_at)
         VALUES (?1, ?2, ?3, ?4, NULL, ?5, 1, ?5)
         ON CONFLICT (connection_id) DO UPDATE SET
           client_id = excluded.client_id, access_expires_at = excluded.access_expires_at,
           refresh_expires_at = excluded.refresh_expires_at, last_refreshed_at = NULL,
           consented_at = excluded.consented_at,
           generation = oauth_grants.generation + 1, updated_at = excluded.updated_at",
        params![
            connection_id,
            client_id,
            tokens.access_expires_at,
            tokens.refresh_expires_at,
            now
        ],
    )?;
    Ok(())
}

/// Stores the tokens a refresh returned, only if the grant is still at `expected_generation`
/// (another process may have refreshed while this one waited). Returns the new generation.
pub fn put_refreshed(
    conn: &Connection,
    connection_id: &str,
    expected_generation: i64,
    tokens: &SealedTokens<'_>,
    now: &str,
) -> Result<i64> {
    let changed = conn.execute(
        "UPDATE oauth_grants SET access_expires_at = ?3,
            refresh_expires_at = COALESCE(?4, refresh_expires_at), last_refreshed_at = ?5,
            generation = generation + 1, updated_at = ?5
         WHERE connection_id = ?1 AND generation = ?2",
        params![
            connection_id,
            expected_generation,
            tokens.access_expires_at,
            tokens.refresh_expires_at,
            now
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::Invalid(format!(
            "the OAuth grant of connection `{connection_id}` changed while it was being refreshed"
        )));
    }
    put_secrets(conn, connection_id, tokens)?;
    Ok(expected_generation + 1)
}

fn put_secrets(conn: &Connection, connection_id: &str, tokens: &SealedTokens<'_>) -> Result<()> {
    secrets::put(conn, connection_id, ACCESS_TOKEN, tokens.access)?;
    if let Some(refresh) = tokens.refresh {
        secrets::put(conn, connection_id, REFRESH_TOKEN, refresh)?;
    }
    Ok(())
}

pub fn get(conn: &Connection, connection_id: &str) -> Result<Option<Grant>> {
    Ok(conn
        .query_row(
            "SELECT connection_id, client_id, access_expires_at, refresh_expires_at,
                last_refreshed_at, consented_at, generation
             FROM oauth_grants WHERE connection_id = ?1",
            [connection_id],
            |r| {
                Ok(Grant {
                    connection_id: r.get(0)?,
                    client_id: r.get(1)?,
                    access_expires_at: r.get(2)?,
                    refresh_expires_at: r.get(3)?,
                    last_refreshed_at: r.get(4)?,
                    consented_at: r.get(5)?,
                    generation: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// Forgets a grant and its tokens (disconnect); the connection's data stays.
pub fn delete(conn: &Connection, connection_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM oauth_grants WHERE connection_id = ?1",
        [connection_id],
    )?;
    conn.execute(
        "DELETE FROM secrets WHERE connection_id = ?1 AND purpose IN (?2, ?3)",
        params![connection_id, ACCESS_TOKEN, REFRESH_TOKEN],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(tag: &str) -> SecretRow {
        SecretRow {
            id: format!("id-{tag}"),
            nonce: vec![1; 12],
            ciphertext: tag.as_bytes().to_vec(),
        }
    }

    fn stored(conn: &Connection, purpose: &str) -> Vec<u8> {
        secrets::get(conn, "c1", purpose)
            .unwrap()
            .unwrap()
            .ciphertext
    }

    #[test]
    fn a_refresh_stores_tokens_only_at_the_generation_it_read() {
        let store = crate::test_store();
        let conn = store.conn();
        let (access, refresh) = (sealed("a1"), sealed("r1"));
        let tokens = SealedTokens {
            access: &access,
            refresh: Some(&refresh),
            access_expires_at: "2026-01-01T00:30:00Z",
            refresh_expires_at: None,
        };
        put_new(&conn, "c1", "client", &tokens, "2026-01-01T00:00:00Z").unwrap();
        let grant = get(&conn, "c1").unwrap().unwrap();
        assert_eq!(grant.generation, 1);
        assert_eq!(stored(&conn, REFRESH_TOKEN), b"r1");

        // A provider that does not rotate: the refresh token stays, the access token changes.
        let access2 = sealed("a2");
        let tokens = SealedTokens {
            access: &access2,
            refresh: None,
            access_expires_at: "2026-01-01T01:00:00Z",
            refresh_expires_at: Some("2026-04-01T00:00:00Z"),
        };
        let generation = put_refreshed(&conn, "c1", 1, &tokens, "2026-01-01T00:31:00Z").unwrap();
        assert_eq!(generation, 2);
        assert_eq!(stored(&conn, ACCESS_TOKEN), b"a2");
        assert_eq!(stored(&conn, REFRESH_TOKEN), b"r1");
        let grant = get(&conn, "c1").unwrap().unwrap();
        assert_eq!(
            grant.last_refreshed_at.as_deref(),
            Some("2026-01-01T00:31:00Z")
        );
        assert_eq!(
            grant.refresh_expires_at.as_deref(),
            Some("2026-04-01T00:00:00Z")
        );

        // A second refresher that read generation 1 must not overwrite the newer tokens.
        let (access3, refresh3) = (sealed("a3"), sealed("r3"));
        let stale = SealedTokens {
            access: &access3,
            refresh: Some(&refresh3),
            access_expires_at: "2026-01-01T01:01:00Z",
            refresh_expires_at: None,
        };
        assert!(put_refreshed(&conn, "c1", 1, &stale, "2026-01-01T00:32:00Z").is_err());
        assert_eq!(stored(&conn, ACCESS_TOKEN), b"a2");

        delete(&conn, "c1").unwrap();
        assert!(get(&conn, "c1").unwrap().is_none());
        assert!(secrets::get(&conn, "c1", REFRESH_TOKEN).unwrap().is_none());
    }

    #[test]
    fn a_reconnect_replaces_the_grant_and_moves_its_generation_on() {
        let store = crate::test_store();
        let conn = store.conn();
        let (access, refresh) = (sealed("a1"), sealed("r1"));
        let tokens = SealedTokens {
            access: &access,
            refresh: Some(&refresh),
            access_expires_at: "2026-01-01T00:30:00Z",
            refresh_expires_at: None,
        };
        put_new(&conn, "c1", "client", &tokens, "2026-01-01T00:00:00Z").unwrap();
        put_new(&conn, "c1", "client2", &tokens, "2026-02-01T00:00:00Z").unwrap();
        let grant = get(&conn, "c1").unwrap().unwrap();
        assert_eq!(grant.generation, 2);
        assert_eq!(grant.client_id, "client2");
        assert_eq!(grant.consented_at, "2026-02-01T00:00:00Z");
    }
}

#[cfg(test)]
mod durable_tests {
    use crate::{Store, StoreError};

    #[test]
    fn a_durable_write_commits_or_rolls_back_and_restores_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_folder(dir.path()).unwrap();
        let synchronous = |s: &Store| -> i64 {
            s.conn()
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap()
        };
        let during = store
            .write_durably(|tx| {
                tx.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 'now')",
                    [],
                )?;
                Ok(tx.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0))?)
            })
            .unwrap();
        assert_eq!(during, 2, "FULL while the tokens commit");
        assert_eq!(synchronous(&store), 1, "NORMAL again afterwards");
        let failed: Result<(), _> = store.write_durably(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ('b', '2', 'now')",
                [],
            )?;
            Err(StoreError::Invalid("stop".into()))
        });
        assert!(failed.is_err());
        assert_eq!(synchronous(&store), 1);
        let keys: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM settings WHERE key IN ('a', 'b')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(keys, 1, "the failed write left nothing behind");
    }
}
