//! The commands the UI calls: one-line wrappers over `switchboard_app::Workspace`.
//! Argument names reach JavaScript in camelCase (`connectionId`, `onProgress`).
//! Every command must also be listed in `build.rs` and `capabilities/main.json`.

use crate::AppState;
use switchboard_app::{CommandError, Trigger};
use switchboard_core::catalogue::{PROVIDERS, ProviderInfo};
use switchboard_core::views::{
    ConnectionView, NewStripeConnection, PaymentDetail, RequestLogView, SyncProgress, SyncRunView,
    WorkspaceInfo,
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

/// How often a connection syncs on its own, in minutes; `None` turns scheduled syncs off.
#[tauri::command]
pub async fn set_sync_interval(
    state: State<'_, AppState>,
    connection_id: String,
    minutes: Option<u32>,
) -> Result<ConnectionView> {
    state
        .workspace()
        .await?
        .set_sync_interval(&connection_id, minutes)
        .await
}

#[tauri::command]
pub async fn get_network_status(
    state: State<'_, AppState>,
) -> Result<switchboard_core::views::NetworkStatusView> {
    Ok(state.workspace().await?.network_status())
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

// Backups (Settings → Backups). Paths are typed by the user; the passphrase is turned into a
// `SecretString` at once and never sent back.

#[tauri::command]
pub async fn get_backup_settings(
    state: State<'_, AppState>,
) -> Result<switchboard_core::views::BackupSettingsView> {
    state.workspace().await?.backup_settings().await
}

/// Chooses the backup folder (a full path), or the default when `folder` is null or empty.
#[tauri::command]
pub async fn set_backup_folder(
    state: State<'_, AppState>,
    folder: Option<String>,
) -> Result<switchboard_core::views::BackupSettingsView> {
    state
        .workspace()
        .await?
        .set_backup_folder(folder.as_deref())
        .await
}

#[tauri::command]
pub async fn list_backups(
    state: State<'_, AppState>,
) -> Result<Vec<switchboard_core::views::BackupView>> {
    state.workspace().await?.list_backups(None).await
}

#[tauri::command]
pub async fn create_backup(
    state: State<'_, AppState>,
) -> Result<switchboard_core::views::BackupView> {
    state.workspace().await?.create_backup(None).await
}

/// Verifies one backup, or the newest when `id` is null.
#[tauri::command]
pub async fn verify_backup(
    state: State<'_, AppState>,
    id: Option<String>,
) -> Result<switchboard_core::views::BackupVerification> {
    state
        .workspace()
        .await?
        .verify_backup(id.as_deref(), None)
        .await
}

/// Restores a backup (the current database is backed up first), then reopens the workspace.
/// `key_file` and `passphrase` are for a backup whose master key this computer lacks.
#[tauri::command]
pub async fn restore_backup(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    key_file: Option<String>,
    passphrase: Option<String>,
) -> Result<switchboard_core::views::RestoreView> {
    let key_file = key_file.map(|path| switchboard_app::KeyFileInput {
        path: path.into(),
        passphrase: switchboard_core::secret::SecretString::new(passphrase.unwrap_or_default()),
    });
    state.restore_backup(&app, id, key_file).await
}

/// Writes the master key sealed with `passphrase` to `to` (a new file, or a folder).
#[tauri::command]
pub async fn export_master_key(
    state: State<'_, AppState>,
    to: String,
    passphrase: String,
) -> Result<switchboard_core::views::KeyExportView> {
    let passphrase = switchboard_core::secret::SecretString::new(passphrase);
    state
        .workspace()
        .await?
        .export_master_key(std::path::Path::new(&to), passphrase)
        .await
}

// Health (connection cards): rate budget, circuit breaker, "Test connection".

/// Every connection's health: last success and error, circuit, budget left, attention.
#[tauri::command]
pub async fn get_health(state: State<'_, AppState>) -> Result<switchboard_core::views::HealthView> {
    state.workspace().await?.health().await
}

/// One cheap authenticated call through the connection's budget and breaker.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    connection_id: String,
) -> Result<switchboard_core::views::ConnectionTestView> {
    state
        .workspace()
        .await?
        .test_connection(&connection_id)
        .await
}

// The outbox: refunds (and, later, everything else sent to providers), dead letters.

/// What a payment (our id or `ch_…`) can still be refunded, and the reasons to pick from.
#[tauri::command]
pub async fn refund_quote(
    state: State<'_, AppState>,
    payment: String,
) -> Result<switchboard_core::views::RefundQuoteView> {
    state.workspace().await?.refund_quote(&payment).await
}

/// Queues the refund in the outbox and sends it; the item as it is then (maybe still queued).
#[tauri::command]
pub async fn refund_payment(
    state: State<'_, AppState>,
    input: switchboard_core::views::NewRefund,
) -> Result<switchboard_core::views::OutboxItemView> {
    state.workspace().await?.refund_payment(input).await
}

/// Sends every outbox item that is due now.
#[tauri::command]
pub async fn process_outbox(
    state: State<'_, AppState>,
) -> Result<switchboard_core::views::OutboxRunView> {
    state.workspace().await?.process_outbox().await
}

#[tauri::command]
pub async fn get_outbox_item(
    state: State<'_, AppState>,
    id: String,
) -> Result<switchboard_core::views::OutboxItemView> {
    state.workspace().await?.get_outbox_item(&id).await
}

/// The outbox, newest first; only dead letters when `dead_only`.
#[tauri::command]
pub async fn list_outbox(
    state: State<'_, AppState>,
    dead_only: bool,
    limit: Option<usize>,
) -> Result<Vec<switchboard_core::views::OutboxItemView>> {
    state
        .workspace()
        .await?
        .list_outbox(dead_only, limit.unwrap_or(DEFAULT_OUTBOX))
        .await
}

/// How many items `list_outbox` returns when the UI gives no limit.
const DEFAULT_OUTBOX: usize = 200;

#[tauri::command]
pub async fn retry_dead_letter(
    state: State<'_, AppState>,
    id: String,
) -> Result<switchboard_core::views::OutboxItemView> {
    state.workspace().await?.retry_dead_letter(&id).await
}

#[tauri::command]
pub async fn discard_dead_letter(
    state: State<'_, AppState>,
    id: String,
) -> Result<switchboard_core::views::OutboxItemView> {
    state.workspace().await?.discard_dead_letter(&id).await
}

// Connections through a browser sign-in: connect, Reconnect, Disconnect, delete.

/// The sign-in configuration the app has for a provider (client id, relay), to prefill the
/// connect dialog.
#[tauri::command]
pub fn oauth_defaults(provider: String) -> switchboard_core::views::OAuthDefaults {
    switchboard_app::oauth_defaults(&provider)
}

/// Opens the sign-in page in the system browser (never in the webview: the user must see the
/// provider's own address bar), waits for the approval on the loopback redirect, then stores
/// the connection with its account.
#[tauri::command]
pub async fn connect_oauth(
    state: State<'_, AppState>,
    input: switchboard_core::views::NewOAuthConnection,
) -> Result<ConnectionView> {
    let request = switchboard_app::OAuthConnect {
        provider: input.provider,
        name: input.name,
        api_base: given(input.api_base),
        authorize_url: given(input.authorize_url),
        token_url: given(input.token_url),
        revoke_url: given(input.revoke_url),
        client_id: input.client_id.trim().to_string(),
        client_secret: input
            .client_secret
            .filter(|s| !s.is_empty())
            .map(switchboard_core::secret::SecretString::new),
        relay: given(input.relay),
        tenant: given(input.account),
        ..Default::default()
    };
    state
        .workspace()
        .await?
        .connect_oauth(request, &open_system_browser)
        .await
}

/// Signs a connection in again through the browser, on the same row (its data, cursors and
/// history stay).
#[tauri::command]
pub async fn reconnect_connection(
    state: State<'_, AppState>,
    input: switchboard_core::views::ReconnectRequest,
) -> Result<ConnectionView> {
    let request = switchboard_app::OAuthReconnect {
        connection: input.connection_id,
        client_secret: given(input.client_secret).map(switchboard_core::secret::SecretString::new),
        account: given(input.account),
        switch_account: input.switch_account,
        feature: given(input.feature),
        ..Default::default()
    };
    state
        .workspace()
        .await?
        .reconnect_oauth(request, &open_system_browser)
        .await
}

/// Connects a provider by key or account credentials (the catalogue's form): verified and
/// identified first; nothing is stored when the provider refuses them.
#[tauri::command]
pub async fn connect_with_credentials(
    state: State<'_, AppState>,
    input: switchboard_core::views::NewCredentialConnection,
) -> Result<ConnectionView> {
    let request = switchboard_app::CredentialConnect::from_form(
        &input.provider,
        &input.name,
        given(input.api_base),
        &input.values,
    )?;
    let connected = state
        .workspace()
        .await?
        .connect_with_credentials(request)
        .await?;
    for note in &connected.notes {
        tracing::info!(connection = %connected.connection.name, "{note}");
    }
    Ok(connected.connection)
}

/// Gives a key connection (Stripe) its new key, verified first, on the same row; its next sync
/// resumes where the last one stopped.
#[tauri::command]
pub async fn reconnect_with_key(
    state: State<'_, AppState>,
    input: switchboard_core::views::KeyReconnect,
) -> Result<ConnectionView> {
    let workspace = state.workspace().await?;
    let c = workspace.find_connection(&input.connection_id).await?;
    if c.provider != "stripe" {
        return Err(CommandError::new(
            switchboard_app::ErrorCode::InvalidInput,
            format!("{} does not reconnect with a key here.", c.provider_name),
        ));
    }
    let request = switchboard_app::CredentialConnect::Stripe(switchboard_app::StripeConnect {
        name: c.name.clone(),
        api_key: switchboard_core::secret::SecretString::new(input.api_key.trim()),
        api_base: Some(c.api_base.clone()),
    });
    Ok(workspace
        .reconnect_with_credentials(&c.id, request, input.switch_account)
        .await?
        .connection)
}

/// Gives a connection made with the credentials form new credentials (a rotated token, a new
/// password), verified first, on the same row.
#[tauri::command]
pub async fn reconnect_with_credentials(
    state: State<'_, AppState>,
    input: switchboard_core::views::CredentialReconnect,
) -> Result<ConnectionView> {
    let workspace = state.workspace().await?;
    let c = workspace.find_connection(&input.connection_id).await?;
    // The same host as before (the sandbox, a region, the customer's server); SMTP's comes
    // from its form.
    let request = switchboard_app::CredentialConnect::from_form(
        &c.provider,
        &c.name,
        Some(c.api_base.clone()),
        &input.values,
    )?;
    Ok(workspace
        .reconnect_with_credentials(&c.id, request, input.switch_account)
        .await?
        .connection)
}

/// Revokes at the provider where it can and forgets the secrets; the data stays.
#[tauri::command]
pub async fn disconnect_connection(
    state: State<'_, AppState>,
    connection_id: String,
) -> Result<switchboard_core::views::DisconnectView> {
    state.workspace().await?.disconnect(&connection_id).await
}

/// Deletes a disconnected connection and all its data (the UI has asked the user to confirm).
#[tauri::command]
pub async fn delete_connection(
    state: State<'_, AppState>,
    connection_id: String,
) -> Result<String> {
    state
        .workspace()
        .await?
        .delete_connection(&connection_id)
        .await
}

/// A form field the user filled in (blank means "the default").
fn given(field: Option<String>) -> Option<String> {
    field
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The system's default browser (`$BROWSER` first, where set).
fn open_system_browser(url: &str) -> std::result::Result<(), String> {
    opener::open_browser(url).map_err(|e| e.to_string())
}
