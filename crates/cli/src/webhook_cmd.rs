//! `switchboard webhook verify|secret set|events|serve|receiver` (docs/CLI.md, "Webhooks").
//! Secrets are read only from the environment variables named with `--secret-env`, never from
//! an argument (arguments are visible to every user of the machine in the process list).
//! PayPal's webhook ID is no secret and is an argument (`--webhook-id`).

use crate::output::Output;
use crate::{Global, nothing_configured, open, wait_for_interrupt};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Read;
use switchboard_app::webhooks::{self, WebhookError, WebhookEvent, square, stripe};
use switchboard_app::{CommandError, ErrorCode, Trigger};
use switchboard_core::secret::SecretString;

/// Exit status of `verify` when the signature is not valid (usage errors exit 2).
const INVALID: i32 = 1;
const USAGE: i32 = 2;

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Check a webhook signature offline, the body on standard input: exit 0 valid, 1 invalid
    /// (the reason on standard error), 2 usage error
    Verify(VerifyArgs),
    /// A connection's webhook secret
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Webhook events the receiver got, newest first, with why any was rejected
    Events {
        /// Connection name or id (default: all)
        #[arg(long)]
        connection: Option<String>,
        /// Print at most N events (default: all kept)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Run the local receiver in the foreground (127.0.0.1) and sync a connection on each of
    /// its valid events, until Ctrl-C
    Serve {
        /// Port on 127.0.0.1 (default: the receiver setting, else 8723)
        #[arg(long, value_name = "P")]
        port: Option<u16>,
    },
    /// Show or change the receiver settings (off by default; the desktop app runs it when on)
    Receiver {
        /// Run the receiver in the desktop app
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Do not run it
        #[arg(long)]
        disable: bool,
        /// Port on 127.0.0.1 the tunnel or relay forwards to
        #[arg(long, value_name = "P", value_parser = clap::value_parser!(u16).range(1..))]
        port: Option<u16>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Set a Stripe or Square connection's webhook secret (the one it replaces stays valid as
    /// the previous secret until the next change), or a PayPal connection's webhook ID
    Set {
        /// Connection name or id
        name: String,
        /// Environment variable holding the secret (Stripe: the endpoint's whsec_…; Square:
        /// the subscription's signature key)
        #[arg(
            long = "secret-env",
            value_name = "VAR",
            required_unless_present = "webhook_id"
        )]
        secret_env: Option<String>,
        /// Square: the notification URL exactly as registered with Square
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// PayPal: the ID PayPal shows for the webhook (Developer Dashboard → Apps &
        /// Credentials → the app → Webhooks); not a secret
        #[arg(long, value_name = "ID", conflicts_with_all = ["secret_env", "url"])]
        webhook_id: Option<String>,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderArg {
    Stripe,
    Square,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Whose signature: stripe (Stripe-Signature) or square (x-square-hmacsha256-signature)
    #[arg(value_enum)]
    provider: ProviderArg,
    /// Environment variable holding a secret; repeat it for several (a rotation)
    #[arg(long = "secret-env", value_name = "VAR", required = true)]
    secret_env: Vec<String>,
    /// The signature header's value, exactly as received
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    header: String,
    /// Square: the notification URL exactly as registered with Square
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Stripe: how old (or how far ahead) the timestamp may be, in seconds (default 300; 0
    /// turns the check off)
    #[arg(long, value_name = "S")]
    tolerance: Option<u64>,
    /// Stripe: the time to verify at, in unix seconds (default: now)
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    now: Option<i64>,
}

/// Prints a usage error and exits 2.
fn usage(out: &Output, message: impl Into<String>) -> ! {
    out.error(&CommandError::new(ErrorCode::InvalidInput, message));
    std::process::exit(USAGE)
}

/// The secret in environment variable `var`, or why it cannot be used.
fn secret_from_env(var: &str) -> Result<SecretString, String> {
    match std::env::var(var) {
        Ok(value) if value.trim().is_empty() => {
            Err(format!("The environment variable {var} is empty."))
        }
        Ok(value) => Ok(SecretString::new(value.trim())),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "The environment variable {var} is not set: export the webhook secret in it (never pass a secret as an argument)."
        )),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("The environment variable {var} is not valid text."))
        }
    }
}

pub async fn run(
    command: WebhookCommand,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    match command {
        WebhookCommand::Verify(args) => verify(args, global, out),
        WebhookCommand::Secret(SecretCommand::Set {
            name,
            secret_env,
            url,
            webhook_id,
        }) => {
            // clap asks for one of the two.
            let secret =
                secret_env.map(|var| secret_from_env(&var).unwrap_or_else(|m| usage(out, m)));
            if nothing_configured(global) {
                return Err(CommandError::new(
                    ErrorCode::NotFound,
                    format!("No connection `{name}`: nothing is connected yet."),
                ));
            }
            let workspace = open(global).await?;
            let setup = match (secret, &webhook_id) {
                (Some(secret), _) => workspace.set_webhook_secret(&name, secret, url).await?,
                (None, Some(id)) => workspace.set_paypal_webhook_id(&name, id).await?,
                (None, None) => usage(out, "Give --secret-env VAR, or --webhook-id ID for PayPal."),
            };
            let port = workspace.webhook_receiver_settings().await?.port;
            if global.json {
                out.line(&serde_json::to_string(&setup).unwrap_or_default());
            } else if let Some(id) = &setup.webhook_id {
                out.line(&format!(
                    "PayPal webhook ID set for {} ({id}).",
                    setup.connection
                ));
            } else {
                out.line(&format!(
                    "Webhook secret set for {} ({}){}.",
                    setup.connection,
                    setup.provider,
                    if setup.previous_kept {
                        "; the previous one stays valid until the next change"
                    } else {
                        ""
                    }
                ));
            }
            if !global.json {
                out.line(&format!(
                    "Receiver endpoint: POST http://127.0.0.1:{port}{} (forward your public URL to it)",
                    setup.path
                ));
                if let Some(url) = &setup.notification_url {
                    out.line(&format!("Square notification URL: {url}"));
                } else if setup.provider == "square" {
                    out.hint("Square signs the notification URL: set it with --url (the URL registered with Square), or its events are refused.");
                }
            }
            Ok(())
        }
        WebhookCommand::Events { connection, limit } => {
            if nothing_configured(global) {
                return Ok(());
            }
            let workspace = open(global).await?;
            let events = workspace
                .list_webhook_events(connection.as_deref(), limit.unwrap_or(usize::MAX))
                .await?;
            for e in &events {
                print_event(out, global.json, e);
            }
            Ok(())
        }
        WebhookCommand::Serve { port } => serve(port, global, out).await,
        WebhookCommand::Receiver {
            enable,
            disable,
            port,
        } => {
            let enabled = match (enable, disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let change = enabled.is_some() || port.is_some();
            // Reading must not create the real workspace (that would end the app's demo).
            let settings = match (nothing_configured(global), change) {
                (true, false) => webhooks::WebhookReceiverSettings {
                    enabled: false,
                    port: webhooks::DEFAULT_PORT,
                },
                (true, true) => {
                    return Err(CommandError::new(
                        ErrorCode::NotFound,
                        "Nothing to receive webhooks for: connect Stripe, Square or PayPal first.",
                    ));
                }
                (false, true) => {
                    open(global)
                        .await?
                        .set_webhook_receiver_settings(enabled, port)
                        .await?
                }
                (false, false) => open(global).await?.webhook_receiver_settings().await?,
            };
            if global.json {
                out.line(&serde_json::to_string(&settings).unwrap_or_default());
            } else {
                out.line(&format!(
                    "receiver {}\tport {}",
                    if settings.enabled { "on" } else { "off" },
                    settings.port
                ));
            }
            Ok(())
        }
    }
}

fn print_event(out: &Output, json: bool, e: &WebhookEvent) {
    if json {
        match serde_json::to_string(e) {
            Ok(s) => out.line(&s),
            Err(err) => eprintln!("cannot serialise output: {err}"),
        }
        return;
    }
    let outcome = match e.outcome {
        webhooks::WebhookOutcome::Accepted => "accepted",
        webhooks::WebhookOutcome::Rejected => "rejected",
    };
    out.line(&format!(
        "{}\t{}\t{}\t{outcome}\t{}\t{}\t{}",
        e.received_at,
        e.connection,
        e.provider,
        e.event_type.as_deref().unwrap_or("-"),
        e.event_id.as_deref().unwrap_or("-"),
        e.reason.as_deref().unwrap_or("")
    ));
}

/// `webhook verify`: exits 0 (valid), 1 (invalid, the reason on stderr) or 2 (usage).
fn verify(args: VerifyArgs, global: &Global, out: &Output) -> ! {
    let VerifyArgs {
        provider,
        secret_env,
        header,
        url,
        tolerance,
        now,
    } = args;
    match provider {
        ProviderArg::Stripe if url.is_some() => {
            usage(out, "Stripe signs no URL: --url is for square only.")
        }
        ProviderArg::Square if tolerance.is_some() || now.is_some() => usage(
            out,
            "Square signs no timestamp: --tolerance and --now are for stripe only.",
        ),
        ProviderArg::Square if url.is_none() => usage(
            out,
            "Square signs the notification URL: give it with --url, exactly as registered with Square.",
        ),
        _ => {}
    }
    let secrets: Vec<SecretString> = secret_env
        .iter()
        .map(|var| secret_from_env(var).unwrap_or_else(|m| usage(out, m)))
        .collect();
    let mut body = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut body) {
        usage(
            out,
            format!("Cannot read the body from standard input: {e}"),
        );
    }
    let outcome: Result<(usize, Option<i64>), WebhookError> = match provider {
        ProviderArg::Stripe => stripe::verify(
            &header,
            &body,
            &secrets,
            now.unwrap_or_else(|| chrono::Utc::now().timestamp()),
            tolerance.unwrap_or(stripe::DEFAULT_TOLERANCE_SECS),
        )
        .map(|v| (v.secret_index, Some(v.timestamp))),
        ProviderArg::Square => {
            square::verify(&header, url.as_deref().unwrap_or_default(), &body, &secrets)
                .map(|index| (index, None))
        }
    };
    match outcome {
        Ok((index, timestamp)) => {
            let var = &secret_env[index];
            if global.json {
                out.line(
                    &serde_json::json!({
                        "valid": true,
                        "secret_env": var,
                        "timestamp": timestamp,
                    })
                    .to_string(),
                );
            } else {
                let signed = timestamp
                    .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map(|t| format!(", signed at {}", t.format("%Y-%m-%dT%H:%M:%SZ")))
                    .unwrap_or_default();
                out.line(&format!("valid: verified with the secret in {var}{signed}"));
            }
            std::process::exit(0)
        }
        Err(e) => {
            if global.json {
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "code": ErrorCode::InvalidInput.as_str(),
                        "message": format!("invalid signature: {e}"),
                        "retryable": false,
                        "reason": e.kind(),
                    })
                );
            } else {
                eprintln!("invalid ({}): {e}", e.kind());
            }
            std::process::exit(INVALID)
        }
    }
}

/// `webhook serve`: the receiver in the foreground; valid events sync their connection, one
/// sync at a time (events arriving meanwhile are merged per connection).
async fn serve(port: Option<u16>, global: &Global, out: &Output) -> Result<(), CommandError> {
    if nothing_configured(global) {
        return Err(CommandError::new(
            ErrorCode::NotFound,
            "Nothing to receive webhooks for: connect Stripe, Square or PayPal first.",
        ));
    }
    // Shared with the receiver, which checks PayPal events with the connection's adapter.
    let workspace = std::sync::Arc::new(open(global).await?);
    let (request, mut queue) = webhooks::sync_queue();
    let receiver = workspace.start_webhook_receiver(port, request).await?;
    let endpoints: Vec<_> = workspace
        .list_connections()
        .await?
        .into_iter()
        .filter(|c| matches!(c.provider.as_str(), "stripe" | "square" | "paypal"))
        .map(|c| (c.name.clone(), c.provider.clone(), receiver.endpoint(&c.id)))
        .collect();
    if global.json {
        eprintln!(
            "{}",
            serde_json::json!({
                "event": "listening",
                "address": receiver.local_addr().to_string(),
                "endpoints": endpoints.iter().map(|(name, provider, url)| serde_json::json!({
                    "connection": name, "provider": provider, "url": url,
                })).collect::<Vec<_>>(),
            })
        );
    } else {
        out.hint(&format!(
            "Receiving webhooks on http://{}; press Ctrl-C to stop.",
            receiver.local_addr()
        ));
        for (name, provider, url) in &endpoints {
            out.hint(&format!("  {name} ({provider}): POST {url}"));
        }
    }
    let progress = out.progress();
    let interrupted = wait_for_interrupt();
    tokio::pin!(interrupted);
    loop {
        let batch = tokio::select! {
            batch = queue.next() => batch,
            () = &mut interrupted => break,
        };
        let Some(batch) = batch else { break };
        for connection_id in batch {
            let sync = workspace.sync(Some(&connection_id), Trigger::Webhook, &progress);
            tokio::pin!(sync);
            let runs = tokio::select! {
                runs = &mut sync => runs,
                () = &mut interrupted => {
                    // Stop after the page in hand (kept); the next sync resumes.
                    workspace.cancel_sync(None);
                    let _ = sync.await;
                    receiver.stop().await;
                    return Ok(());
                }
            };
            match runs {
                Ok(runs) => runs.iter().for_each(|r| out.sync_run(r)),
                // A sync the app (or another command) is running already covers the event.
                Err(e) => out.error(&e),
            }
        }
    }
    receiver.stop().await;
    Ok(())
}
