//! Domain types shared by every Switchboard crate: money, ids, the provider catalogue, the
//! view types the UI renders, and the one serializable error shape of the command edge.

pub mod catalogue;
pub mod error;
pub mod money;
pub mod records;
pub mod secret;
pub mod views;

pub use error::{CommandError, ErrorCode};
pub use money::{Currency, Money, MoneyError};

/// Formats unix seconds as RFC 3339 UTC (`2026-11-23T13:41:04Z`).
pub fn unix_to_rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| secs.to_string())
}

/// Now as RFC 3339 UTC with milliseconds, for our own timestamps.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
