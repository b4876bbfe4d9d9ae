//! Connections: a provider account the workspace talks to.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use switchboard_core::catalogue;
use switchboard_core::views::{ConnectionStatus, ConnectionView};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnection<'a> {
    pub id: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub account_id: Option<&'a str>,
    pub api_base: &'a str,
}

fn status_from_str(s: &str) -> ConnectionStatus {
    match s {
        "connected" => ConnectionStatus::Connected,
        "needs_reconnect" => ConnectionStatus::NeedsReconnect,
        "disconnected" => ConnectionStatus::Disconnected,
        _ => ConnectionStatus::Error,
    }
}

const SELECT: &str = "SELECT c.id, c.provider, c.name, c.status, c.account_id, c.api_base,
        c.created_at, c.last_sync_at, c.last_error,
        (SELECT COUNT(*) FROM payments p WHERE p.connection_id = c.id), c.sync_interval_minutes,
        c.account_name, c.scopes
    FROM connections c";

fn view(r: &Row<'_>) -> rusqlite::Result<ConnectionView> {
    let provider: String = r.get(1)?;
    let status: String = r.get(3)?;
    let last_sync_at: Option<String> = r.get(7)?;
    let sync_interval_minutes: Option<u32> = r.get(10)?;
    let created_at: String = r.get(6)?;
    let next_sync_at = next_sync_at(last_sync_at.as_deref(), &created_at, sync_interval_minutes);
    Ok(ConnectionView {
        id: r.get(0)?,
        provider_name: catalogue::provider(&provider)
            .map_or_else(|| provider.clone(), |p| p.display_name.to_string()),
        provider,
        name: r.get(2)?,
        status: status_from_str(&status),
        account_id: r.get(4)?,
        account_name: r.get(11)?,
        scopes: r
            .get::<_, Option<String>>(12)?
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        api_base: r.get(5)?,
        created_at,
        next_sync_at,
        last_sync_at,
        last_error: r.get(8)?,
        payment_count: r.get(9)?,
        sync_interval_minutes,
    })
}

/// When the scheduler next syncs a connection: `interval` after its last sync, or its creation
/// time if it never synced (due at once); `None` when it syncs only on request.
pub fn next_sync_at(
    last_sync_at: Option<&str>,
    created_at: &str,
    interval_minutes: Option<u32>,
) -> Option<String> {
    let interval = chrono::Duration::minutes(i64::from(interval_minutes?));
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let next = match last_sync_at.and_then(parse) {
        Some(last) => last + interval,
        None => parse(created_at)?,
    };
    Some(
        next.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

pub fn insert(conn: &Connection, c: &NewConnection<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO connections (id, provider, name, status, account_id, api_base, created_at)
         VALUES (?1, ?2, ?3, 'connected', ?4, ?5, ?6)",
        params![
            c.id,
            c.provider,
            c.name,
            c.account_id,
            c.api_base,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}

pub fn name_taken(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM connections WHERE name = ?1", [name], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

pub fn list(conn: &Connection) -> Result<Vec<ConnectionView>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY c.created_at, c.name"))?;
    let rows = stmt.query_map([], view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A connection by its name or its id.
pub fn find(conn: &Connection, name_or_id: &str) -> Result<ConnectionView> {
    conn.query_row(
        &format!("{SELECT} WHERE c.name = ?1 OR c.id = ?1"),
        [name_or_id],
        view,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("connection `{name_or_id}`")))
}

pub fn set_api_base(conn: &Connection, id: &str, api_base: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET api_base = ?2 WHERE id = ?1",
        params![id, api_base],
    )?;
    Ok(())
}

/// Sets how often the scheduler syncs a connection (`None`: only when asked).
pub fn set_sync_interval(conn: &Connection, id: &str, minutes: Option<u32>) -> Result<()> {
    let changed = conn.execute(
        "UPDATE connections SET sync_interval_minutes = ?2 WHERE id = ?1",
        params![id, minutes],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("connection `{id}`")));
    }
    Ok(())
}

/// Records the end of a sync: its time, and the error (or `None` to clear it).
pub fn record_sync(
    conn: &Connection,
    id: &str,
    finished_at: &str,
    error: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE connections SET last_sync_at = ?2, last_error = ?3,
           status = CASE WHEN ?3 IS NULL THEN 'connected' ELSE status END
         WHERE id = ?1",
        params![id, finished_at, error],
    )?;
    Ok(())
}

/// What connecting through OAuth learned: the account's display name, the scopes granted, and
/// the endpoints used when they are not the catalogue's (`None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthDetails {
    pub account_name: Option<String>,
    pub scopes: Vec<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    /// The auth relay the connection signs in through, if any.
    pub relay_url: Option<String>,
    /// The app registration's client id.
    pub client_id: Option<String>,
}

pub fn set_oauth(conn: &Connection, id: &str, d: &OAuthDetails) -> Result<()> {
    conn.execute(
        "UPDATE connections SET account_name = ?2, scopes = ?3, authorize_url = ?4,
           token_url = ?5, revoke_url = ?6, relay_url = ?7, client_id = ?8,
           status = 'connected', last_error = NULL
         WHERE id = ?1",
        params![
            id,
            d.account_name,
            d.scopes.join(" "),
            d.authorize_url,
            d.token_url,
            d.revoke_url,
            d.relay_url,
            d.client_id
        ],
    )?;
    Ok(())
}

pub fn oauth_details(conn: &Connection, id: &str) -> Result<OAuthDetails> {
    conn.query_row(
        "SELECT account_name, scopes, authorize_url, token_url, revoke_url, relay_url, client_id
         FROM connections WHERE id = ?1",
        [id],
        |r| {
            let scopes: Option<String> = r.get(1)?;
            Ok(OAuthDetails {
                account_name: r.get(0)?,
                scopes: scopes
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                authorize_url: r.get(2)?,
                token_url: r.get(3)?,
                revoke_url: r.get(4)?,
                relay_url: r.get(5)?,
                client_id: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("connection `{id}`")))
}

/// Marks a connection as needing the user's attention (the key was revoked).
pub fn mark_needs_reconnect(conn: &Connection, id: &str, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET status = 'needs_reconnect', last_error = ?2 WHERE id = ?1",
        params![id, reason],
    )?;
    Ok(())
}

/// Records which account a connection reaches, as the provider identified it.
pub fn set_account(
    conn: &Connection,
    id: &str,
    account_id: Option<&str>,
    account_name: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE connections SET account_id = ?2, account_name = ?3 WHERE id = ?1",
        params![id, account_id, account_name],
    )?;
    Ok(())
}

/// Marks a connection usable again (new credentials were verified and stored).
pub fn mark_connected(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET status = 'connected', last_error = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Marks a connection disconnected: the user ended it; its data stays until deleted.
pub fn mark_disconnected(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET status = 'disconnected', last_error = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Deletes a connection and, through the foreign keys, everything pulled or logged for it.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    let removed = conn.execute("DELETE FROM connections WHERE id = ?1", [id])?;
    if removed == 0 {
        return Err(StoreError::NotFound(format!("connection `{id}`")));
    }
    Ok(())
}
