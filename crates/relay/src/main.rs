//! `switchboard-relay`: reads its configuration from the environment (docs/RELAY.md), listens
//! on `RELAY_LISTEN` and serves until Ctrl-C or SIGTERM, letting requests in flight finish.
//! Exit status: 0 after a clean stop, 1 when it cannot listen or serve, 2 for a configuration
//! error (the message names the variable, never its value).

use std::io::IsTerminal;
use std::process::ExitCode;

use switchboard_relay::config::LOG_VARIABLE;
use switchboard_relay::{RelayConfig, http_client, router};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env(LOG_VARIABLE).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colours only for a person at a terminal, not for journald or a container's log.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let config = match RelayConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("switchboard-relay: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if config.provider_keys().is_empty() {
        tracing::warn!("no provider is configured: every OAuth request will get 404");
    }
    let listener = match tokio::net::TcpListener::bind(config.listen()).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "switchboard-relay: cannot listen on {}: {e}",
                config.listen()
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listen = %config.listen(),
        providers = ?config.provider_keys(),
        upstream_timeout_secs = config.upstream_timeout().as_secs(),
        "relay listening"
    );
    let app = router(config, http_client());
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("switchboard-relay: server error: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!("relay stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM (what container runtimes and systemd send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: stopping"),
        _ = terminate => tracing::info!("SIGTERM: stopping"),
    }
}
