//! Declares the app's commands so Tauri's ACL generates an `allow-<command>` permission for
//! each; `capabilities/main.json` grants the main window exactly these.

/// Every `#[tauri::command]` in `src/commands.rs`. Keep in sync with `generate_handler!` in
/// `src/lib.rs` (a command missing here is rejected at run time by the ACL).
const COMMANDS: &[&str] = &[
    "get_workspace",
    "leave_demo",
    "list_providers",
    "list_connections",
    "add_stripe_connection",
    "sync_connection",
    "cancel_sync",
    "set_sync_interval",
    "get_network_status",
    "list_payments",
    "get_payment",
    "count_payments",
    "export_payments_csv",
    "get_dashboard",
    "list_payouts",
    "get_payout",
    "list_subscriptions",
    "cancel_subscription",
    "payment_request_options",
    "request_payment",
    "list_payment_requests",
    "payment_request_settings",
    "set_payment_return_url",
    "open_payment_dashboard",
    "open_payment_request",
    "list_sync_runs",
    "list_requests",
    "get_backup_settings",
    "set_backup_folder",
    "list_backups",
    "create_backup",
    "verify_backup",
    "restore_backup",
    "export_master_key",
    "get_health",
    "test_connection",
    "refund_quote",
    "refund_payment",
    "process_outbox",
    "get_outbox_item",
    "list_outbox",
    "retry_dead_letter",
    "discard_dead_letter",
    "oauth_defaults",
    "connect_oauth",
    "reconnect_connection",
    "reconnect_with_key",
    "reconnect_with_credentials",
    "connect_with_credentials",
    "disconnect_connection",
    "delete_connection",
    "get_webhook_settings",
    "set_webhook_receiver",
    "set_webhook_secret",
    "set_paypal_webhook_id",
    "list_webhook_events",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
