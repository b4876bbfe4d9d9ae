//! The Switchboard desktop shell: app state, set-up and command registration only.
//! Everything the commands do lives in `switchboard-app` (shared with the CLI).

mod commands;
mod payments_commands;
mod scheduler;
mod state;
mod webhook_commands;
mod webhooks;

use std::io::IsTerminal;
use std::path::PathBuf;
use tauri::Manager;
use tracing_subscriber::EnvFilter;

pub use state::AppState;

/// The label of the one window (`tauri.conf.json`, `capabilities/main.json`).
pub const MAIN_WINDOW: &str = "main";

pub fn run() {
    init_tracing();
    install_panic_hook();
    let data_dir = data_dir_arg(std::env::args().skip(1));

    tauri::Builder::default()
        // First plugin, so a second launch exits before doing anything else.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("second launch: focusing the running window");
            if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_notification::init())
        .manage(AppState::new(data_dir))
        .invoke_handler(tauri::generate_handler![
            commands::get_workspace,
            commands::leave_demo,
            commands::list_providers,
            commands::list_connections,
            commands::add_stripe_connection,
            commands::sync_connection,
            payments_commands::list_payments,
            payments_commands::count_payments,
            payments_commands::export_payments_csv,
            payments_commands::get_dashboard,
            payments_commands::list_payouts,
            payments_commands::get_payout,
            payments_commands::list_subscriptions,
            payments_commands::cancel_subscription,
            payments_commands::payment_request_options,
            payments_commands::request_payment,
            payments_commands::list_payment_requests,
            payments_commands::payment_request_settings,
            payments_commands::set_payment_return_url,
            payments_commands::open_payment_dashboard,
            payments_commands::open_payment_request,
            commands::get_payment,
            commands::list_sync_runs,
            commands::list_requests,
            commands::cancel_sync,
            commands::set_sync_interval,
            commands::get_network_status,
            commands::get_backup_settings,
            commands::set_backup_folder,
            commands::list_backups,
            commands::create_backup,
            commands::verify_backup,
            commands::restore_backup,
            commands::export_master_key,
            commands::get_health,
            commands::test_connection,
            commands::refund_quote,
            commands::refund_payment,
            commands::process_outbox,
            commands::get_outbox_item,
            commands::list_outbox,
            commands::retry_dead_letter,
            commands::discard_dead_letter,
            commands::oauth_defaults,
            commands::connect_oauth,
            commands::reconnect_connection,
            commands::reconnect_with_key,
            commands::reconnect_with_credentials,
            commands::connect_with_credentials,
            commands::disconnect_connection,
            commands::delete_connection,
            webhook_commands::get_webhook_settings,
            webhook_commands::set_webhook_receiver,
            webhook_commands::set_webhook_secret,
            webhook_commands::set_paypal_webhook_id,
            webhook_commands::list_webhook_events,
        ])
        .setup(|app| {
            // Opening (the demo starts a sandbox and runs a first sync) takes seconds: do it
            // after the window is up; commands wait for it.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(state::open_initial(handle));
            tauri::async_runtime::spawn(scheduler::run(app.handle().clone()));
            tauri::async_runtime::spawn(webhooks::run(app.handle().clone()));
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Switchboard desktop app");
}

/// `--data-dir DIR` or `--data-dir=DIR`; other arguments are ignored (WebDriver and desktop
/// launchers may add their own).
fn data_dir_arg(mut args: impl Iterator<Item = String>) -> Option<PathBuf> {
    let mut found = None;
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            found = args.next().map(PathBuf::from);
        } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
            found = Some(PathBuf::from(dir));
        }
    }
    found
}

/// Logs go to standard error (coloured only on a terminal); `RUST_LOG` filters them
/// (default `info`).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Panics are logged through tracing (message and location only, no backtrace of values).
/// With `panic = "unwind"` (debug builds) a panic in a task becomes a command error; the
/// release profile aborts after this hook has logged.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            %location,
            "panic: {message}"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn reads_the_data_dir_argument_in_both_forms() {
        assert_eq!(data_dir_arg(args(&[])), None);
        assert_eq!(
            data_dir_arg(args(&["--automation", "--data-dir", "/tmp/a"])),
            Some(PathBuf::from("/tmp/a"))
        );
        assert_eq!(
            data_dir_arg(args(&["--data-dir=/tmp/b"])),
            Some(PathBuf::from("/tmp/b"))
        );
        assert_eq!(data_dir_arg(args(&["--data-dir"])), None);
    }
}
