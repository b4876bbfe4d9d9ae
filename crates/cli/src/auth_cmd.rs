//! OAuth sign-ins from the terminal: `switchboard connect xero …`, `switchboard auth refresh`
//! and `switchboard auth status` (docs/CLI.md). Client secrets come from the environment, never
//! from arguments.

use crate::output::Output;
use crate::{Global, open};
use clap::{Args, Subcommand};
use switchboard_app::{CommandError, ErrorCode, OAuthConnect};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{ConnectionHealthView, TokenState};

/// The client secret of the user's own developer app, when the provider needs one.
const CLIENT_SECRET_ENV: &str = "SWITCHBOARD_CLIENT_SECRET";

#[derive(Args, Debug)]
pub struct OAuthConnectArgs {
    /// A name for the connection, e.g. "Books"
    #[arg(long)]
    pub name: String,
    /// API base URL (default: the provider's)
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
    /// Authorize endpoint (with --token-url; default: the provider's)
    #[arg(long, value_name = "URL")]
    auth_url: Option<String>,
    /// Token endpoint (with --auth-url)
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,
    /// Revocation endpoint
    #[arg(long, value_name = "URL")]
    revoke_url: Option<String>,
    /// Your app's client id at the provider (default: $SWITCHBOARD_<PROVIDER>_CLIENT_ID)
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// The loopback port registered with the provider, if not the default (0: any free port)
    #[arg(long, value_name = "PORT")]
    redirect_port: Option<u16>,
    /// Which organisation (Xero), by name or id, when the sign-in reaches several
    #[arg(long, value_name = "NAME_OR_ID")]
    tenant: Option<String>,
    /// Sign in through an auth relay that holds your app's secret and HTTPS redirect
    /// (docs/RELAY.md; default: $SWITCHBOARD_<PROVIDER>_RELAY)
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// Print the sign-in address alone on standard output instead of opening a browser
    #[arg(long)]
    no_browser: bool,
}

/// `connect mautic`: the browser sign-in, or HTTP basic auth with `--user`.
#[derive(Args, Debug)]
pub struct MauticArgs {
    #[command(flatten)]
    pub oauth: OAuthConnectArgs,
    /// Connect with this Mautic user's name and password (HTTP basic auth, where the instance
    /// enables it; the password from $MAUTIC_PASSWORD or standard input) instead of the browser
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Refresh a connection's access token now
    Refresh {
        /// Connection name or id
        name: String,
        /// Only if it expires within a few minutes (what syncing does before each use)
        #[arg(long)]
        if_expiring: bool,
    },
    /// The sign-in state of every OAuth connection
    Status,
}

/// `switchboard connect <provider>` for OAuth providers.
pub async fn connect(
    provider: &str,
    args: OAuthConnectArgs,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let env_id = format!("SWITCHBOARD_{}_CLIENT_ID", provider.to_uppercase());
    let defaults = switchboard_app::oauth_defaults(provider);
    let client_id = args
        .client_id
        .filter(|id| !id.trim().is_empty())
        .or(defaults.client_id)
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::InvalidInput,
                format!(
                    "No client id: pass --client-id or set {env_id} to your app's client id at \
                     the provider."
                ),
            )
        })?;
    let client_secret = client_secret_from_env();
    let request = OAuthConnect {
        provider: provider.to_string(),
        name: args.name,
        api_base: args.api_base,
        authorize_url: args.auth_url,
        token_url: args.token_url,
        revoke_url: args.revoke_url,
        client_id,
        client_secret,
        redirect_port: args.redirect_port,
        tenant: args.tenant,
        relay: args.relay.or(defaults.relay),
    };
    let workspace = open(global).await?;
    let no_browser = args.no_browser;
    let connection = workspace
        .connect_oauth(request, &browser(out, no_browser))
        .await?;
    if !no_browser || global.json {
        out.connection(&connection);
    } else {
        out.hint(&format!("Connected {}.", connection.name));
    }
    Ok(())
}

/// The client secret of the user's own app, from the environment (never an argument).
pub fn client_secret_from_env() -> Option<SecretString> {
    std::env::var(CLIENT_SECRET_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .map(SecretString::new)
}

/// Opens the sign-in address in the system browser or, with `--no-browser`, prints it alone
/// on its line of standard output, so a script can pick it up and complete the flow.
pub fn browser(
    out: &Output,
    no_browser: bool,
) -> impl Fn(&str) -> Result<(), String> + Send + Sync {
    move |url: &str| {
        if no_browser {
            out.line(url);
            return Ok(());
        }
        out.hint("Opening your browser to sign in; come back here when you have approved.");
        opener::open_browser(url).map_err(|e| e.to_string())
    }
}

pub async fn run(command: AuthCommand, global: &Global, out: &Output) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    match command {
        AuthCommand::Refresh { name, if_expiring } => {
            let health = workspace.refresh_sign_in(&name, !if_expiring).await?;
            print(out, global.json, &health);
        }
        AuthCommand::Status => {
            let signed_in: Vec<_> = workspace
                .health()
                .await?
                .connections
                .into_iter()
                .filter(|h| h.token != TokenState::NotApplicable)
                .collect();
            if signed_in.is_empty() {
                out.hint("No OAuth connections yet. Connect one with `switchboard connect xero`.");
            }
            for h in &signed_in {
                print(out, global.json, h);
            }
        }
    }
    Ok(())
}

fn print(out: &Output, json: bool, h: &ConnectionHealthView) {
    if json {
        match serde_json::to_string(h) {
            Ok(s) => out.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
        return;
    }
    let state = match h.token {
        TokenState::NotApplicable => "no sign-in",
        TokenState::Valid => "signed in",
        TokenState::Expiring => "sign-in expiring",
        TokenState::Revoked => "NEEDS RECONNECT",
    };
    let lapses = h
        .token_lapses_at
        .as_deref()
        .map(|at| format!("\trenew by {at}"))
        .unwrap_or_default();
    out.line(&format!(
        "{}\t{}\t{state}{lapses}",
        h.connection, h.provider
    ));
}
