//! Settings → Webhooks: the receiver's settings and state, webhook secrets (and PayPal's
//! webhook id), received events.
//! Wrappers over `switchboard_app::Workspace` like `commands.rs`; each is also listed in
//! `build.rs` and `capabilities/main.json`. The receiver itself runs in `webhooks.rs`.

use crate::AppState;
use switchboard_app::{CommandError, ErrorCode, Workspace};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{WebhookEventView, WebhookSettingsView, WorkspaceKind};
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

/// Events listed when the UI does not say.
const DEFAULT_EVENT_LIMIT: usize = 50;

/// The settings, each Stripe/Square/PayPal connection's set-up, and what the receiver is doing.
#[tauri::command]
pub async fn get_webhook_settings(state: State<'_, AppState>) -> Result<WebhookSettingsView> {
    let workspace = state.workspace().await?;
    settings_view(&state, &workspace).await
}

/// Turns the receiver on or off and sets its port, applies that at once, and answers with
/// the outcome (listening, or why not: a port in use, …).
#[tauri::command]
pub async fn set_webhook_receiver(
    state: State<'_, AppState>,
    enabled: bool,
    port: u16,
) -> Result<WebhookSettingsView> {
    let workspace = state.workspace().await?;
    if workspace.info().kind == WorkspaceKind::Demo && enabled {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            "The demo receives no webhooks: leave the demo and connect your own accounts first.",
        ));
    }
    // Below 1024 needs privileges on most systems: a tunnel or relay can forward to any port.
    if port < 1024 {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("Port {port} is reserved for the system: choose one from 1024 to 65535."),
        ));
    }
    workspace
        .set_webhook_receiver_settings(Some(enabled), Some(port))
        .await?;
    state.webhook_receiver.apply().await;
    settings_view(&state, &workspace).await
}

/// Sets (or rotates) a Stripe connection's signing secret or a Square connection's signature
/// key, with Square's notification URL. The secret is sealed at once and never logged or
/// returned; the previous one stays valid until the next change.
#[tauri::command]
pub async fn set_webhook_secret(
    state: State<'_, AppState>,
    connection: String,
    secret: String,
    notification_url: Option<String>,
) -> Result<WebhookSettingsView> {
    let secret = SecretString::new(secret);
    let workspace = state.workspace().await?;
    let setup = workspace
        .set_webhook_secret(&connection, secret, notification_url)
        .await?;
    tracing::info!(connection = %setup.connection, "webhook secret set from the app");
    settings_view(&state, &workspace).await
}

/// Sets a PayPal connection's webhook id (the ID PayPal shows for the webhook; not a secret),
/// which the receiver gives PayPal to check each delivery.
#[tauri::command]
pub async fn set_paypal_webhook_id(
    state: State<'_, AppState>,
    connection: String,
    webhook_id: String,
) -> Result<WebhookSettingsView> {
    let workspace = state.workspace().await?;
    let setup = workspace
        .set_paypal_webhook_id(&connection, &webhook_id)
        .await?;
    tracing::info!(connection = %setup.connection, "PayPal webhook id set from the app");
    settings_view(&state, &workspace).await
}

/// Received events, newest first (all connections).
#[tauri::command]
pub async fn list_webhook_events(
    state: State<'_, AppState>,
    limit: Option<usize>,
) -> Result<Vec<WebhookEventView>> {
    state
        .workspace()
        .await?
        .webhook_event_views(None, limit.unwrap_or(DEFAULT_EVENT_LIMIT))
        .await
}

async fn settings_view(state: &AppState, workspace: &Workspace) -> Result<WebhookSettingsView> {
    let status = state.webhook_receiver.status();
    workspace
        .webhook_settings_view(status.listening_on, status.error)
        .await
}
