//! The scheduler: syncs each connection on the interval its owner chose, skips while the
//! network is down (and says so), and catches up when it returns.
//!
//! It is a tick, not a thread: `Workspace::run_due_syncs(now, …)` decides what is due at `now`
//! and runs it. The desktop shell calls it every [`TICK`]; `switchboard sync watch` does the
//! same in a terminal; tests call it with the times they choose. A connection is due when its
//! interval has passed since its last sync (whatever that sync's outcome), so a run missed
//! while offline or asleep happens at the first tick after the network is back.
//!
//! Offline detection: before running anything due, one TCP connect to each due connection's
//! API host (cheap, needs no credentials, and fails fast without a network). When none of
//! them answers, or when a run fails for lack of network, the workspace is marked offline and
//! nothing is attempted again until [`OFFLINE_PROBE_EVERY`] has passed.

use crate::workspace::{Trigger, Workspace};
use crate::{PaymentRequestCheck, Result};
use chrono::{DateTime, Utc};
use std::time::Duration;
use switchboard_core::views::{
    ConnectionView, NetworkStatusView, OutboxRunView, SyncProgress, SyncRunView,
};
use switchboard_core::{CommandError, ErrorCode};

/// How often the desktop shell and `sync watch` call the scheduler.
pub const TICK: Duration = Duration::from_secs(30);
/// While offline, how long to wait between connectivity checks.
pub const OFFLINE_PROBE_EVERY: chrono::Duration = chrono::Duration::seconds(15);
/// How long a connectivity check may take before the host counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Intervals the user may choose, in minutes (1 minute to 1 week).
pub const INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 1..=10_080;

/// What the workspace last learned about the network.
#[derive(Debug, Clone)]
pub(crate) struct NetworkState {
    online: bool,
    since: DateTime<Utc>,
    checked_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

impl Default for NetworkState {
    fn default() -> Self {
        NetworkState {
            online: true,
            since: Utc::now(),
            checked_at: None,
            reason: None,
        }
    }
}

/// What one scheduler tick did.
#[derive(Debug, Default)]
pub struct SchedulerTick {
    /// Runs started by this tick (one per stream of each due connection).
    pub runs: Vec<SyncRunView>,
    /// Connections that were due but skipped (offline, or already syncing elsewhere).
    pub skipped: Vec<String>,
    pub network: Option<NetworkStatusView>,
    /// The outbox pass of this tick (refunds and other sends due for a retry), if it ran.
    pub outbox: Option<OutboxRunView>,
    /// The follow-up of open PayPal payment requests due for a look-up, if it ran.
    pub payment_requests: Option<PaymentRequestCheck>,
}

/// The connections due at `now`: scheduled, connected or in error (not waiting for the user to
/// reconnect), and with their interval passed since their last sync (or never synced).
pub fn due_connections(connections: &[ConnectionView], now: DateTime<Utc>) -> Vec<&ConnectionView> {
    use switchboard_core::views::ConnectionStatus;
    connections
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                ConnectionStatus::Connected | ConnectionStatus::Error
            )
        })
        .filter(|c| {
            c.next_sync_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|next| next.with_timezone(&Utc) <= now)
        })
        .collect()
}

impl Workspace {
    /// Sets how often the scheduler syncs a connection (name or id); `None` turns it off.
    pub async fn set_sync_interval(
        &self,
        connection: &str,
        minutes: Option<u32>,
    ) -> Result<ConnectionView> {
        if let Some(m) = minutes.filter(|m| !INTERVAL_RANGE.contains(m)) {
            return Err(crate::errors::invalid(format!(
                "{m} minutes is not a sync interval Switchboard offers: choose between 1 minute and 1 week (10080 minutes), or turn scheduled syncs off."
            )));
        }
        let id = self.find_connection(connection).await?.id;
        crate::sync::blocking(&self.store, move |s| {
            let conn = s.conn();
            switchboard_store::connections::set_sync_interval(&conn, &id, minutes)?;
            switchboard_store::connections::find(&conn, &id)
        })
        .await
    }

    /// Whether the network was reachable the last time the workspace looked.
    pub fn network_status(&self) -> NetworkStatusView {
        let state = self.network.lock().unwrap_or_else(|e| e.into_inner());
        NetworkStatusView {
            online: state.online,
            since: rfc3339(state.since),
            checked_at: state.checked_at.map(rfc3339),
            message: (!state.online).then(|| {
                format!(
                    "Offline: {}. Switchboard keeps everything it has and syncs again as soon as the network is back.",
                    state.reason.as_deref().unwrap_or("no provider could be reached")
                )
            }),
        }
    }

    /// One scheduler tick at `now`: runs every due connection (see [`due_connections`]) unless
    /// the network is down, then sends what the outbox has due (retries of refunds and other
    /// sends, across restarts) and follows up the open PayPal payment requests due for a
    /// look-up. A connection already syncing elsewhere is skipped, not an error;
    /// an outbox failure is logged and left for the next tick.
    pub async fn run_due_syncs(
        &self,
        now: DateTime<Utc>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SchedulerTick> {
        let mut tick = self.sync_due(now, progress).await?;
        let offline = tick.network.as_ref().is_some_and(|n| !n.online);
        if !offline {
            match self.process_outbox().await {
                Ok(run) => tick.outbox = Some(run),
                // Another window or command is sending it.
                Err(CommandError {
                    code: ErrorCode::Conflict,
                    ..
                }) => {}
                Err(e) => tracing::warn!(code = e.code.as_str(), "outbox pass: {e}"),
            }
            // Approved PayPal orders are captured before PayPal reverses the approval
            // (`requests/paypal_capture.rs`); each request is looked up on its own schedule.
            match self.follow_up_due_requests(now).await {
                Ok(check) => tick.payment_requests = Some(check),
                Err(e) => tracing::warn!(code = e.code.as_str(), "payment request follow-up: {e}"),
            }
            // Refresh tokens that lapse when unused are used before they do.
            let kept = self.keep_sign_ins_alive(now).await;
            if !kept.is_empty() {
                tracing::info!(connections = ?kept, "refreshed sign-ins to keep them alive");
            }
        }
        Ok(tick)
    }

    async fn sync_due(
        &self,
        now: DateTime<Utc>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SchedulerTick> {
        let connections = self.list_connections().await?;
        let due = due_connections(&connections, now);
        let mut tick = SchedulerTick::default();
        if due.is_empty() {
            return Ok(tick);
        }
        let probe_wait = {
            let state = self.network.lock().unwrap_or_else(|e| e.into_inner());
            !state.online
                && state
                    .checked_at
                    .is_some_and(|at| now - at < OFFLINE_PROBE_EVERY)
        };
        if probe_wait {
            tick.skipped = due.iter().map(|c| c.name.clone()).collect();
            tick.network = Some(self.network_status());
            return Ok(tick);
        }
        let mut reachable = Vec::new();
        let mut unreachable = Vec::new();
        for connection in &due {
            match probe(&connection.api_base).await {
                Ok(()) => reachable.push(*connection),
                Err(why) => unreachable.push((*connection, why)),
            }
        }
        if reachable.is_empty() {
            let why = unreachable
                .first()
                .map(|(c, why)| format!("{} ({why})", host_of(&c.api_base)));
            self.set_network(false, now, why);
            tick.skipped = due.iter().map(|c| c.name.clone()).collect();
            tick.network = Some(self.network_status());
            return Ok(tick);
        }
        self.set_network(true, now, None);
        tick.skipped
            .extend(unreachable.iter().map(|(c, _)| c.name.clone()));
        for connection in reachable {
            match self
                .sync(Some(&connection.id), Trigger::Schedule, progress)
                .await
            {
                Ok(runs) => {
                    let offline = runs
                        .iter()
                        .any(|r| r.error_code.as_deref() == Some(ErrorCode::Network.as_str()));
                    if offline {
                        self.set_network(
                            false,
                            now,
                            Some(format!(
                                "{} stopped answering",
                                host_of(&connection.api_base)
                            )),
                        );
                    }
                    tick.runs.extend(runs);
                }
                // Another window or command is syncing it right now: it is being done.
                Err(CommandError {
                    code: ErrorCode::Conflict,
                    ..
                }) => tick.skipped.push(connection.name.clone()),
                Err(e) => return Err(e),
            }
        }
        tick.network = Some(self.network_status());
        Ok(tick)
    }

    fn set_network(&self, online: bool, now: DateTime<Utc>, reason: Option<String>) {
        let mut state = self.network.lock().unwrap_or_else(|e| e.into_inner());
        if state.online != online {
            state.since = now;
            tracing::info!(online, reason = reason.as_deref(), "network state changed");
        }
        state.online = online;
        state.checked_at = Some(now);
        state.reason = reason;
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn host_of(api_base: &str) -> String {
    reqwest::Url::parse(api_base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| api_base.to_string())
}

/// One TCP connect to the API host of `api_base` (port 443/80 unless the URL names one).
async fn probe(api_base: &str) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(api_base).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host")?.to_string();
    let port = url.port_or_known_default().ok_or("no port")?;
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(PROBE_TIMEOUT, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::views::ConnectionStatus;

    fn connection(name: &str, next: Option<&str>, status: ConnectionStatus) -> ConnectionView {
        ConnectionView {
            id: name.to_string(),
            provider: "stripe".into(),
            provider_name: "Stripe".into(),
            name: name.to_string(),
            status,
            account_id: None,
            account_name: None,
            scopes: Vec::new(),
            api_base: "http://127.0.0.1:9".into(),
            created_at: "2026-11-01T00:00:00.000Z".into(),
            last_sync_at: None,
            last_error: None,
            payment_count: 0,
            sync_interval_minutes: next.map(|_| 60),
            next_sync_at: next.map(str::to_string),
        }
    }

    #[test]
    fn due_means_scheduled_usable_and_past_its_time() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let all = [
            connection(
                "past",
                Some("2026-11-23T11:59:59.000Z"),
                ConnectionStatus::Connected,
            ),
            connection(
                "exact",
                Some("2026-11-23T12:00:00.000Z"),
                ConnectionStatus::Error,
            ),
            connection(
                "future",
                Some("2026-11-23T12:00:01.000Z"),
                ConnectionStatus::Connected,
            ),
            connection("manual", None, ConnectionStatus::Connected),
            connection(
                "revoked",
                Some("2026-11-23T11:00:00.000Z"),
                ConnectionStatus::NeedsReconnect,
            ),
        ];
        let due: Vec<_> = due_connections(&all, now)
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(due, ["past", "exact"]);
    }

    #[test]
    fn next_sync_follows_the_last_sync_by_the_interval() {
        use switchboard_store::connections::next_sync_at;
        let created = "2026-11-01T08:00:00.000Z";
        assert_eq!(
            next_sync_at(Some("2026-11-23T11:30:00.000Z"), created, Some(45)).as_deref(),
            Some("2026-11-23T12:15:00.000Z")
        );
        assert_eq!(
            next_sync_at(Some("2026-11-23T11:30:00.000Z"), created, None),
            None
        );
        // Never synced: due since it was created.
        assert_eq!(
            next_sync_at(None, created, Some(60)).as_deref(),
            Some(created)
        );
    }
}
