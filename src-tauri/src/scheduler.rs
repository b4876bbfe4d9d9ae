//! Runs the workspace's scheduler in the background (`switchboard_app::scheduler`): a tick
//! every `TICK`, on whichever workspace is current. Events for the UI:
//! `scheduled-sync` (payload `SyncRunView[]`) after a tick that ran something (syncs, or a
//! payment request that was paid or expired), and
//! `network-status` (payload `NetworkStatusView`) when the network goes or comes back. Each tick
//! also shows desktop notifications for sign-ins that need the user.

use crate::AppState;
use switchboard_app::scheduler::TICK;
use switchboard_core::views::NetworkStatusView;
use tauri::{AppHandle, Emitter, Manager};

pub const SCHEDULED_SYNC: &str = "scheduled-sync";
pub const NETWORK_STATUS: &str = "network-status";

/// The first tick waits this long, so start-up work (the demo's first sync, the first screen)
/// goes first.
const FIRST_TICK_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(app: AppHandle) {
    tokio::time::sleep(FIRST_TICK_AFTER).await;
    let mut last_online: Option<bool> = None;
    loop {
        let state = app.state::<AppState>();
        // A workspace that failed to open has nothing to schedule; the next tick looks again.
        if let Ok(workspace) = state.workspace().await {
            match workspace.run_due_syncs(chrono::Utc::now(), &|_| {}).await {
                Ok(tick) => {
                    // A payment request that became paid or expired changes what the
                    // screens show even when no sync ran.
                    let requests_changed = tick
                        .payment_requests
                        .as_ref()
                        .is_some_and(|c| c.paid + c.expired + c.captures_queued > 0);
                    if !tick.runs.is_empty() || requests_changed {
                        let _ = app.emit(SCHEDULED_SYNC, &tick.runs);
                    }
                    if let Some(network) = tick.network {
                        emit_network_change(&app, &mut last_online, network);
                    }
                }
                Err(err) => tracing::warn!(code = err.code.as_str(), "scheduled sync: {err}"),
            }
            notify_sign_ins(&app, &workspace).await;
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Desktop notifications for sign-ins that need the user (each once; see
/// `Workspace::sign_in_notices`). A desktop without a notification service only logs them.
async fn notify_sign_ins(app: &AppHandle, workspace: &switchboard_app::Workspace) {
    use tauri_plugin_notification::NotificationExt;
    match workspace.sign_in_notices().await {
        Ok(notices) => {
            for notice in notices {
                let shown = app
                    .notification()
                    .builder()
                    .title(&notice.title)
                    .body(&notice.body)
                    .show();
                if let Err(e) = shown {
                    tracing::warn!("notification not shown ({e}): {}", notice.title);
                }
            }
        }
        Err(err) => tracing::warn!(code = err.code.as_str(), "sign-in notices: {err}"),
    }
}

fn emit_network_change(app: &AppHandle, last: &mut Option<bool>, network: NetworkStatusView) {
    if *last != Some(network.online) {
        *last = Some(network.online);
        let _ = app.emit(NETWORK_STATUS, &network);
    }
}
