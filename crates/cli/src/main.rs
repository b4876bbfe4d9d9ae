//! `switchboard`: the command-line interface. A thin layer over `switchboard-app`, so it and
//! the desktop app always agree. Results go to standard output; errors and progress go to
//! standard error (one JSON object per error under `--json`). Exit status: 0 success,
//! 1 failure, 2 usage error. See docs/CLI.md.

mod auth_cmd;
mod backup_cmd;
mod confirm;
mod connections_cmd;
mod credential_cmd;
mod health_cmd;
mod money_cmd;
mod outbox_cmd;
mod output;
mod payments_cmd;
mod requests_cmd;
mod webhook_cmd;

use clap::{Args, Parser, Subcommand};
use output::Output;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_app::{CommandError, ErrorCode, Trigger, Workspace};

#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "Run your business integrations from one place"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct Global {
    /// Data folder (default: $SWITCHBOARD_DATA_DIR, else the OS data folder)
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Machine-readable output: JSON Lines on stdout, JSON errors on stderr
    #[arg(long, global = true)]
    json: bool,
    /// Use the demo workspace (with its in-process sandbox) instead of the real one
    #[arg(long, global = true)]
    demo: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fake providers on loopback, for tests, benchmarks and trying things out
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Connect a provider account
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Connections of the workspace
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Pull data from providers
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Payments pulled from payment providers
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Gross, fees, refunds, net and payouts per provider and currency for a date range
    Dashboard(payments_cmd::DashboardArgs),
    /// Payouts to your bank and whether their contents add up
    #[command(subcommand)]
    Payouts(money_cmd::PayoutsCommand),
    /// Subscriptions: list, cancel at period end
    #[command(subcommand)]
    Subscriptions(money_cmd::SubscriptionsCommand),
    /// Logs kept by the workspace
    #[command(subcommand)]
    Log(LogCommand),
    /// What Switchboard sends to providers: queued items, dead letters, retries
    #[command(subcommand)]
    Outbox(outbox_cmd::OutboxCommand),
    /// How each connection is doing; exits 1 when something needs attention
    Health(health_cmd::HealthArgs),
    /// Backups of the workspace: create, list, verify, restore; the master key export
    #[command(subcommand)]
    Backup(backup_cmd::BackupCommand),
    /// OAuth sign-ins: refresh now, status
    #[command(subcommand)]
    Auth(auth_cmd::AuthCommand),
    /// Provider webhooks: verify a signature, set a connection's secret, run the local
    /// receiver, list received events
    #[command(subcommand)]
    Webhook(webhook_cmd::WebhookCommand),
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Requests made to providers, newest first (no headers, bodies or query strings)
    Requests {
        /// Connection name or id (default: all)
        #[arg(long)]
        connection: Option<String>,
        /// Print at most N requests (default: all kept)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
enum SandboxCommand {
    /// Serve fake providers until interrupted; prints one JSON line when ready
    Serve {
        /// Port on 127.0.0.1 (default: a free one)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Seed of the generated data
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Number of Stripe charges to generate
        #[arg(long, default_value_t = 3000)]
        stripe_charges: usize,
        /// Random faults per request, e.g. rate_limit=0.05,server_error=0.05,reset=0.02
        /// (kinds: rate_limit, server_error, reset, slow, malformed)
        #[arg(long, value_name = "SPEC")]
        faults: Option<switchboard_sandbox::FaultSpec>,
        /// Seed of the fault sequence (separate from --seed), to replay a run
        #[arg(long, value_name = "N", default_value_t = 0)]
        fault_seed: u64,
        /// How long the OAuth fakes' refresh tokens live, in seconds (default: unlimited), so a
        /// sign-in can be made to die and be reconnected
        #[arg(long, value_name = "SECS")]
        oauth_refresh_token_lifetime: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum ConnectCommand {
    /// Connect Stripe with an API key read from $STRIPE_API_KEY or standard input
    Stripe {
        /// A name for the connection, e.g. "Main Stripe"
        #[arg(long)]
        name: String,
        /// API base URL (default https://api.stripe.com)
        #[arg(long, value_name = "URL")]
        api_base: Option<String>,
    },
    /// Connect Xero: sign in with your browser (client secret, if any, in $SWITCHBOARD_CLIENT_SECRET)
    Xero(auth_cmd::OAuthConnectArgs),
    /// Connect QuickBooks Online: sign in with your browser (your app's secret in $SWITCHBOARD_CLIENT_SECRET)
    Quickbooks(auth_cmd::OAuthConnectArgs),
    /// Connect PayPal with a REST app's client credentials (secret in $PAYPAL_CLIENT_SECRET or standard input)
    Paypal(credential_cmd::PayPalArgs),
    /// Connect Twilio with the Auth Token ($TWILIO_AUTH_TOKEN) or an API key ($TWILIO_API_KEY_SECRET), or standard input
    Twilio(credential_cmd::TwilioArgs),
    /// Connect SendGrid with an API key from $SENDGRID_API_KEY or standard input
    Sendgrid(credential_cmd::SendGridArgs),
    /// Connect a self-hosted BillionMail with an API key from $BILLIONMAIL_API_KEY or standard input
    Billionmail(credential_cmd::BillionMailArgs),
    /// Connect a mail server (SMTP) with a password from $SMTP_PASSWORD or standard input
    Smtp(credential_cmd::SmtpArgs),
    /// Connect Google Calendar: sign in with your browser (your desktop client's secret in $SWITCHBOARD_CLIENT_SECRET)
    #[command(name = "google-calendar", alias = "google")]
    GoogleCalendar(auth_cmd::OAuthConnectArgs),
    /// Connect Square: sign in with your browser (PKCE; a secret is only needed to revoke)
    Square(auth_cmd::OAuthConnectArgs),
    /// Connect MYOB Business: sign in with your browser (your app's secret in $SWITCHBOARD_CLIENT_SECRET)
    Myob(auth_cmd::OAuthConnectArgs),
    /// Connect your Mautic (--api-base is its address): sign in with your browser, or --user
    /// for HTTP basic auth (password in $MAUTIC_PASSWORD or standard input)
    Mautic(auth_cmd::MauticArgs),
}

#[derive(Subcommand, Debug)]
enum ConnectionsCommand {
    /// List connections
    List,
    /// Make one cheap authenticated call through the connection's budget and breaker
    Test(health_cmd::TestArgs),
    /// Override the connection's request budget (or go back to the provider's documented one)
    SetBudget(health_cmd::SetBudgetArgs),
    /// One connection: its account, scopes, sign-in and health
    Show(connections_cmd::ShowArgs),
    /// Sign a connection in again through the browser, keeping its data and cursors
    Reconnect(connections_cmd::ReconnectArgs),
    /// Revoke the connection's access where the provider can and forget its secrets; its
    /// data stays
    Disconnect(connections_cmd::DisconnectArgs),
    /// Delete a disconnected connection and all its data (asks first)
    Delete(connections_cmd::DeleteArgs),
}

#[derive(Subcommand, Debug)]
enum SyncCommand {
    /// Sync one connection, or all
    Run {
        /// Connection name or id (default: all)
        #[arg(long)]
        connection: Option<String>,
    },
    /// Set how often a connection syncs on its own (in the app, or under `sync watch`)
    Schedule {
        /// Connection name or id
        connection: String,
        /// Minutes between syncs (1 to 10080)
        #[arg(
            long,
            value_name = "MINUTES",
            conflicts_with = "off",
            required_unless_present = "off"
        )]
        every: Option<u32>,
        /// Only sync when asked
        #[arg(long)]
        off: bool,
    },
    /// Run scheduled syncs in the foreground until interrupted (what the app does in the
    /// background); skips while offline and catches up when the network returns
    Watch,
}

#[derive(Subcommand, Debug)]
enum PaymentsCommand {
    /// List payments, newest first, optionally filtered
    List(payments_cmd::ListArgs),
    /// Write the payments a filter selects to a CSV file
    Export(payments_cmd::ExportArgs),
    /// Ask a customer for money: make a payment link (Stripe, PayPal or Square) and print it
    Request(money_cmd::RequestArgs),
    /// List payment requests with their status (open PayPal ones are checked first: paid,
    /// expired, or captured now that the customer approved)
    Requests(requests_cmd::RequestsArgs),
    /// Refund a payment (all that is left, or --amount), through the outbox
    Refund(outbox_cmd::RefundArgs),
    /// Show or set the page customers land on after paying a payment request
    ReturnUrl(money_cmd::ReturnUrlArgs),
}

/// mimalloc (see `Cargo.toml`): an import allocates and frees many small objects on several
/// threads, where glibc's allocator cost it about a tenth of its CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; anything else is a usage error (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let out = Output::new(cli.global.json);
    let runtime = match runtime_for(&cli.command).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&CommandError::new(
                ErrorCode::Internal,
                format!("cannot start: {e}"),
            ));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::FAILURE
        }
    }
}

/// A command that serves or watches until interrupted gets a worker thread per core; any other
/// command runs its async work on this one thread (database work still goes to the blocking
/// pool). For `sync run` that keeps the HTTP connection, the parsing and the hand-over of each
/// page on one thread instead of passing every page between threads: the import benchmark
/// used about a tenth less CPU and time.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    let serves = matches!(
        command,
        Command::Sandbox(_)
            | Command::Sync(SyncCommand::Watch)
            | Command::Webhook(webhook_cmd::WebhookCommand::Serve { .. })
    );
    if serves {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
}

async fn open(global: &Global) -> Result<Workspace, CommandError> {
    let data_dir = switchboard_app::resolve_data_dir(global.data_dir.as_deref());
    if global.demo {
        Workspace::open_demo(&data_dir).await
    } else {
        Workspace::open_real(&data_dir).await
    }
}

/// Whether there is anything to read: a real workspace that was never created is empty,
/// and reading it must not create it (that would switch the app out of its demo).
fn nothing_configured(global: &Global) -> bool {
    !global.demo
        && !Workspace::real_exists(&switchboard_app::resolve_data_dir(
            global.data_dir.as_deref(),
        ))
}

async fn run(cli: Cli, out: &Output) -> Result<(), CommandError> {
    let global = cli.global;
    match cli.command {
        Command::Sandbox(SandboxCommand::Serve {
            port,
            seed,
            stripe_charges,
            faults,
            fault_seed,
            oauth_refresh_token_lifetime,
        }) => {
            let sandbox = switchboard_sandbox::Sandbox::start_with_faults(
                switchboard_sandbox::SandboxConfig {
                    port,
                    seed,
                    stripe_charges,
                },
                switchboard_sandbox::FaultConfig {
                    faults: faults.unwrap_or_default(),
                    fault_seed,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                CommandError::new(
                    ErrorCode::Internal,
                    format!("the sandbox could not start: {e}"),
                )
            })?;
            if let Some(secs) = oauth_refresh_token_lifetime {
                for key in switchboard_sandbox::OAUTH_PROVIDERS {
                    sandbox
                        .oauth(key)
                        .set_refresh_token_lifetime(Some(std::time::Duration::from_secs(secs)));
                }
            }
            out.line(&sandbox.ready_line().to_string());
            wait_for_interrupt().await;
            sandbox.shutdown().await;
            Ok(())
        }
        Command::Connect(ConnectCommand::Stripe { name, api_base }) => {
            // Verified, identified (GET /v1/account), then stored: credential_cmd.rs.
            credential_cmd::stripe(name, api_base, &global, out).await
        }
        Command::Connect(ConnectCommand::Paypal(args)) => {
            credential_cmd::paypal(args, &global, out).await
        }
        Command::Connect(ConnectCommand::Twilio(args)) => {
            credential_cmd::twilio(args, &global, out).await
        }
        Command::Connect(ConnectCommand::Sendgrid(args)) => {
            credential_cmd::sendgrid(args, &global, out).await
        }
        Command::Connect(ConnectCommand::Billionmail(args)) => {
            credential_cmd::billionmail(args, &global, out).await
        }
        Command::Connect(ConnectCommand::Smtp(args)) => {
            credential_cmd::smtp(args, &global, out).await
        }
        Command::Connections(ConnectionsCommand::List) => {
            if nothing_configured(&global) {
                out.hint("No connections yet. Connect one with `switchboard connect stripe --name NAME` (key on stdin or in STRIPE_API_KEY), or try `--demo`.");
                return Ok(());
            }
            let workspace = open(&global).await?;
            let connections = workspace.list_connections().await?;
            if connections.is_empty() {
                out.hint("No connections yet. Connect one with `switchboard connect stripe --name NAME`.");
            }
            for c in &connections {
                out.connection(c);
            }
            Ok(())
        }
        Command::Outbox(command) => outbox_cmd::run(&global, out, command).await,
        Command::Payments(PaymentsCommand::Refund(args)) => {
            outbox_cmd::refund(&global, out, args).await
        }
        Command::Connect(ConnectCommand::Xero(args)) => {
            auth_cmd::connect("xero", args, &global, out).await
        }
        Command::Connect(ConnectCommand::Quickbooks(args)) => {
            auth_cmd::connect("quickbooks", args, &global, out).await
        }
        Command::Auth(command) => auth_cmd::run(command, &global, out).await,
        Command::Webhook(command) => webhook_cmd::run(command, &global, out).await,
        Command::Health(args) => health_cmd::health(&global, out, args).await,
        Command::Backup(command) => backup_cmd::run(command, &global, out).await,
        Command::Connections(ConnectionsCommand::Test(args)) => {
            health_cmd::test(&global, out, args).await
        }
        Command::Connections(ConnectionsCommand::SetBudget(args)) => {
            health_cmd::set_budget(&global, out, args).await
        }
        Command::Connections(ConnectionsCommand::Show(args)) => {
            connections_cmd::show(&global, out, args).await
        }
        Command::Connections(ConnectionsCommand::Reconnect(args)) => {
            connections_cmd::reconnect(&global, out, args).await
        }
        Command::Connections(ConnectionsCommand::Disconnect(args)) => {
            connections_cmd::disconnect(&global, out, args).await
        }
        Command::Connections(ConnectionsCommand::Delete(args)) => {
            connections_cmd::delete(&global, out, args).await
        }
        Command::Connect(ConnectCommand::GoogleCalendar(args)) => {
            auth_cmd::connect("google_calendar", args, &global, out).await
        }
        Command::Connect(ConnectCommand::Square(args)) => {
            auth_cmd::connect("square", args, &global, out).await
        }
        Command::Connect(ConnectCommand::Myob(args)) => {
            auth_cmd::connect("myob", args, &global, out).await
        }
        Command::Connect(ConnectCommand::Mautic(args)) => match args.user {
            Some(user) => {
                credential_cmd::mautic_basic(
                    args.oauth.name,
                    args.oauth.api_base,
                    user,
                    &global,
                    out,
                )
                .await
            }
            None => auth_cmd::connect("mautic", args.oauth, &global, out).await,
        },
        Command::Sync(SyncCommand::Run { connection }) => {
            if nothing_configured(&global) {
                return Err(CommandError::new(
                    ErrorCode::NotFound,
                    "Nothing to sync: connect an account first (`switchboard connect stripe --name NAME`), or use --demo.",
                ));
            }
            let workspace = open(&global).await?;
            let progress = out.progress();
            // The first Ctrl-C (or SIGTERM) stops after the page in hand, keeping everything
            // saved; a second one ends the process at once (the next sync resumes either way).
            let sync = workspace.sync(connection.as_deref(), Trigger::Manual, &progress);
            tokio::pin!(sync);
            let runs = tokio::select! {
                runs = &mut sync => runs?,
                () = wait_for_interrupt() => {
                    out.hint("Stopping after the current page… (press Ctrl-C again to stop now)");
                    workspace.cancel_sync(connection.as_deref());
                    tokio::select! {
                        runs = &mut sync => runs?,
                        () = wait_for_interrupt() => std::process::exit(130),
                    }
                }
            };
            for run in &runs {
                out.sync_run(run);
            }
            match runs
                .iter()
                .find(|r| matches!(r.status.as_str(), "failed" | "partial" | "cancelled"))
            {
                Some(bad) => Err(CommandError::new(
                    bad.error_code
                        .as_deref()
                        .and_then(|c| {
                            serde_json::from_value(serde_json::Value::String(c.into())).ok()
                        })
                        .unwrap_or(ErrorCode::ProviderError),
                    format!(
                        "Sync of {} ({}) {}: {}",
                        bad.connection,
                        bad.stream,
                        bad.status,
                        bad.error_message
                            .as_deref()
                            .unwrap_or("see `switchboard sync` runs")
                    ),
                )),
                None => Ok(()),
            }
        }
        Command::Sync(SyncCommand::Schedule {
            connection,
            every,
            off: _,
        }) => {
            let workspace = open(&global).await?;
            let c = workspace.set_sync_interval(&connection, every).await?;
            out.connection(&c);
            Ok(())
        }
        Command::Sync(SyncCommand::Watch) => {
            let workspace = open(&global).await?;
            let progress = out.progress();
            out.hint("Running scheduled syncs; press Ctrl-C to stop.");
            let mut was_online = true;
            // One listener for the whole watch: a signal that arrives between two waits is
            // kept for the next one, not lost (tokio delivers only to existing listeners).
            let interrupted = wait_for_interrupt();
            tokio::pin!(interrupted);
            loop {
                let tick = tokio::select! {
                    tick = workspace.run_due_syncs(chrono::Utc::now(), &progress) => tick?,
                    () = &mut interrupted => return Ok(()),
                };
                for run in &tick.runs {
                    out.sync_run(run);
                }
                if let Some(network) = &tick.network
                    && network.online != was_online
                {
                    was_online = network.online;
                    out.network(network);
                }
                tokio::select! {
                    () = tokio::time::sleep(switchboard_app::scheduler::TICK) => {}
                    () = &mut interrupted => return Ok(()),
                }
            }
        }
        Command::Log(LogCommand::Requests { connection, limit }) => {
            if nothing_configured(&global) {
                return Ok(());
            }
            let workspace = open(&global).await?;
            let requests = workspace
                .list_requests(connection.as_deref(), limit.unwrap_or(usize::MAX))
                .await?;
            for r in &requests {
                out.request(r);
            }
            Ok(())
        }
        Command::Payments(PaymentsCommand::List(args)) => {
            payments_cmd::list(&global, out, args).await
        }
        Command::Payments(PaymentsCommand::Export(args)) => {
            payments_cmd::export(&global, out, args).await
        }
        Command::Dashboard(args) => payments_cmd::dashboard(&global, out, args).await,
        Command::Payments(PaymentsCommand::Request(args)) => {
            money_cmd::request(&global, out, args).await
        }
        Command::Payments(PaymentsCommand::Requests(args)) => {
            requests_cmd::list(&global, out, args).await
        }
        Command::Payments(PaymentsCommand::ReturnUrl(args)) => {
            money_cmd::return_url(&global, out, args).await
        }
        Command::Payouts(command) => money_cmd::payouts(&global, out, command).await,
        Command::Subscriptions(command) => money_cmd::subscriptions(&global, out, command).await,
    }
}

/// The key comes from the environment or standard input, never from an argument (arguments
/// are visible to every user of the machine in the process list).
fn read_api_key() -> Result<String, CommandError> {
    if let Ok(key) = std::env::var("STRIPE_API_KEY")
        && !key.trim().is_empty()
    {
        return Ok(key.trim().to_string());
    }
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key).map_err(|e| {
        CommandError::new(
            ErrorCode::InvalidInput,
            format!("cannot read the key from standard input: {e}"),
        )
    })?;
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            "No API key given: set STRIPE_API_KEY or pipe the key on standard input.",
        ));
    }
    Ok(key)
}

async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
