//! The payments screens' commands (issue 6): filtered payments, export, dashboard, payouts,
//! subscriptions and payment requests. One-line wrappers over `switchboard_app::Workspace`,
//! like `commands.rs`; each is also listed in `build.rs` and `capabilities/main.json`.

use crate::AppState;
use switchboard_app::{CommandError, PaymentQuery};
use switchboard_core::views::{
    DashboardView, ExportView, NewPaymentRequest, PaymentFilter, PaymentPage, PaymentRequestOption,
    PaymentRequestSettingsView, PaymentRequestView, PayoutDetail, PayoutPage, SubscriptionView,
};
use tauri::{AppHandle, Manager, State};

type Result<T> = std::result::Result<T, CommandError>;

/// One keyset page of the payments `filter` selects; `with_total` counts them too.
#[tauri::command]
pub async fn list_payments(
    state: State<'_, AppState>,
    filter: Option<PaymentFilter>,
    limit: Option<usize>,
    after: Option<String>,
    with_total: Option<bool>,
) -> Result<PaymentPage> {
    let query = PaymentQuery {
        filter: filter.unwrap_or_default(),
        limit,
        after,
        with_total: with_total.unwrap_or(false),
    };
    state.workspace().await?.list_payments(query).await
}

#[tauri::command]
pub async fn count_payments(state: State<'_, AppState>, filter: PaymentFilter) -> Result<i64> {
    state.workspace().await?.count_payments(filter).await
}

/// Writes the CSV into the user's Downloads folder (the UI never handles paths it could not
/// open itself), named by the time of the export.
#[tauri::command]
pub async fn export_payments_csv(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: PaymentFilter,
) -> Result<ExportView> {
    let folder = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| {
            CommandError::new(
                switchboard_app::ErrorCode::Internal,
                format!("no Downloads folder to export to: {e}"),
            )
        })?;
    let name = format!(
        "switchboard-payments-{}.csv",
        chrono::Utc::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = folder.join(name);
    let count = state
        .workspace()
        .await?
        .export_payments_csv(filter, &path)
        .await?;
    Ok(ExportView {
        path: path.display().to_string(),
        count: i64::try_from(count).unwrap_or(i64::MAX),
    })
}

#[tauri::command]
pub async fn get_dashboard(
    state: State<'_, AppState>,
    from: String,
    to: String,
) -> Result<DashboardView> {
    state.workspace().await?.dashboard(&from, &to).await
}

#[tauri::command]
pub async fn list_payouts(
    state: State<'_, AppState>,
    connection: Option<String>,
    limit: Option<usize>,
    after: Option<String>,
) -> Result<PayoutPage> {
    state
        .workspace()
        .await?
        .list_payouts(
            connection.as_deref(),
            limit.unwrap_or(100),
            after.as_deref(),
        )
        .await
}

#[tauri::command]
pub async fn get_payout(state: State<'_, AppState>, id: String) -> Result<PayoutDetail> {
    state.workspace().await?.get_payout(&id).await
}

#[tauri::command]
pub async fn list_subscriptions(
    state: State<'_, AppState>,
    connection: Option<String>,
) -> Result<Vec<SubscriptionView>> {
    state
        .workspace()
        .await?
        .list_subscriptions(connection.as_deref())
        .await
}

#[tauri::command]
pub async fn cancel_subscription(
    state: State<'_, AppState>,
    id: String,
) -> Result<SubscriptionView> {
    state.workspace().await?.cancel_subscription(&id).await
}

#[tauri::command]
pub async fn payment_request_options(
    state: State<'_, AppState>,
) -> Result<Vec<PaymentRequestOption>> {
    state.workspace().await?.payment_request_options().await
}

#[tauri::command]
pub async fn request_payment(
    state: State<'_, AppState>,
    input: NewPaymentRequest,
) -> Result<PaymentRequestView> {
    state.workspace().await?.request_payment(input).await
}

#[tauri::command]
pub async fn list_payment_requests(
    state: State<'_, AppState>,
    limit: Option<usize>,
) -> Result<Vec<PaymentRequestView>> {
    state
        .workspace()
        .await?
        .list_payment_requests(limit.unwrap_or(100))
        .await
}

#[tauri::command]
pub async fn payment_request_settings(
    state: State<'_, AppState>,
) -> Result<PaymentRequestSettingsView> {
    state.workspace().await?.payment_request_settings().await
}

/// The page customers land on after paying; `None` or "" for the providers' own.
#[tauri::command]
pub async fn set_payment_return_url(
    state: State<'_, AppState>,
    url: Option<String>,
) -> Result<PaymentRequestSettingsView> {
    state
        .workspace()
        .await?
        .set_payment_return_url(url.as_deref())
        .await
}

/// Opens a payment in its provider's dashboard in the system browser. The address comes from
/// the stored payment (catalogue data), never from the webview, so the UI cannot open
/// arbitrary addresses.
#[tauri::command]
pub async fn open_payment_dashboard(state: State<'_, AppState>, id: String) -> Result<()> {
    let detail = state.workspace().await?.get_payment(&id).await?;
    let url = detail.dashboard_url.ok_or_else(|| {
        CommandError::new(
            switchboard_app::ErrorCode::InvalidInput,
            format!(
                "{} has no dashboard page Switchboard can link to.",
                detail.payment.external_id
            ),
        )
    })?;
    opener::open_browser(&url).map_err(|e| {
        CommandError::new(
            switchboard_app::ErrorCode::Internal,
            format!("could not open the browser: {e}. The address is {url}"),
        )
    })
}

/// Opens a payment request's link in the system browser (the stored link, never an address
/// from the webview).
#[tauri::command]
pub async fn open_payment_request(state: State<'_, AppState>, id: String) -> Result<()> {
    let request = state.workspace().await?.payment_request(&id).await?;
    let url = request.url.ok_or_else(|| {
        CommandError::new(
            switchboard_app::ErrorCode::InvalidInput,
            "The provider has not made this link yet; Switchboard keeps trying.",
        )
    })?;
    opener::open_browser(&url).map_err(|e| {
        CommandError::new(
            switchboard_app::ErrorCode::Internal,
            format!("could not open the browser: {e}. The link is {url}"),
        )
    })
}
