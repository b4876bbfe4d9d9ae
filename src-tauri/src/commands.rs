//! The commands the UI calls: one-line wrappers over `switchboard_app::Workspace`.
//! Argument names reach JavaScript in camelCase (`connectionId`, `onProgress`).
//! Every command must also be listed in `build.rs` and `capabilities/main.json`.

use crate::AppState;
use switchboard_app::{CommandError, PaymentQuery, Trigger};
use switchboard_core::catalogue::{PROVIDERS, ProviderInfo};
use switchboard_core::views::{
    ConnectionView, NewStripeConnection, PaymentDetail, PaymentPage, RequestLogView, SyncProgress,
    SyncRunView, WorkspaceInfo,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

type Result<T> = std::result::Result<T, CommandError>;

/// How many runs `list_sync_runs` returns when the UI gives no limit.
const DEFAULT_SYNC_RUNS: usize = 100;

/// How many request-log entries `list_requests` returns when the UI gives no limit.
const DEFAULT_REQUESTS: usize = 500;

/// Waits until the workspace has been opened; its error if opening failed.
#[tauri::command]
pub async fn get_workspace(state: State<'_, AppState>) -> Result<WorkspaceInfo> {
    state.info().await
}

/// Switches from the demo to the real (possibly empty) workspace.
#[tauri::command]
pub async fn leave_demo(app: AppHandle, state: State<'_, AppState>) -> Result<WorkspaceInfo> {
    state.leave_demo(&app).await
}

#[tauri::command]
pub fn list_providers() -> Vec<ProviderInfo> {
    PROVIDERS.to_vec()
}

#[tauri::command]
pub async fn list_connections(state: State<'_, AppState>) -> Result<Vec<ConnectionView>> {
    state.workspace().await?.list_connections().await
}

#[tauri::command]
pub async fn add_stripe_connection(
    state: State<'_, AppState>,
    input: NewStripeConnection,
) -> Result<ConnectionView> {
    state.workspace().await?.add_stripe_connection(input).await
}

/// Syncs one connection (name or id) or all, streaming progress over `on_progress`.
#[tauri::command]
pub async fn sync_connection(
    state: State<'_, AppState>,
    connection_id: Option<String>,
    on_progress: Channel<SyncProgress>,
) -> Result<Vec<SyncRunView>> {
    let progress = |p: SyncProgress| {
        let _ = on_progress.send(p);
    };
    let workspace = state.workspace().await?;
    workspace
        .sync(connection_id.as_deref(), Trigger::Manual, &progress)
        .await
}

#[tauri::command]
pub async fn list_payments(
    state: State<'_, AppState>,
    connection: Option<String>,
    limit: Option<usize>,
    after: Option<String>,
) -> Result<PaymentPage> {
    let query = PaymentQuery {
        connection,
        limit,
        after,
    };
    state.workspace().await?.list_payments(query).await
}

#[tauri::command]
pub async fn get_payment(state: State<'_, AppState>, id: String) -> Result<PaymentDetail> {
    state.workspace().await?.get_payment(&id).await
}

#[tauri::command]
pub async fn list_sync_runs(
    state: State<'_, AppState>,
    limit: Option<usize>,
) -> Result<Vec<SyncRunView>> {
    let limit = limit.unwrap_or(DEFAULT_SYNC_RUNS);
    state.workspace().await?.list_sync_runs(limit).await
}

/// Asks running syncs of one connection (or all) to stop after the page in hand.
#[tauri::command]
pub async fn cancel_sync(state: State<'_, AppState>, connection_id: Option<String>) -> Result<()> {
    state
        .workspace()
        .await?
        .cancel_sync(connection_id.as_deref());
    Ok(())
}

/// The request log, newest first: one connection's (name or id) or every connection's.
#[tauri::command]
pub async fn list_requests(
    state: State<'_, AppState>,
    connection_id: Option<String>,
    limit: Option<usize>,
) -> Result<Vec<RequestLogView>> {
    let limit = limit.unwrap_or(DEFAULT_REQUESTS);
    state
        .workspace()
        .await?
        .list_requests(connection_id.as_deref(), limit)
        .await
}
