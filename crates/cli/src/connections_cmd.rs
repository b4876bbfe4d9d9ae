//! `switchboard connections show|reconnect|disconnect|delete` (docs/CLI.md).

use crate::auth_cmd::{browser, client_secret_from_env};
use crate::output::Output;
use crate::{Global, open};
use clap::Args;
use switchboard_app::{CommandError, OAuthReconnect};
use switchboard_core::views::{ConnectionHealthView, ConnectionView};

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Connection name or id
    name: String,
}

#[derive(Args, Debug)]
pub struct ReconnectArgs {
    /// Connection name or id
    name: String,
    /// Your app's client id, when not the one the connection used (needed after a disconnect)
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// The loopback port registered with the provider, if not the default (0: any free port)
    #[arg(long, value_name = "PORT")]
    redirect_port: Option<u16>,
    /// Which organisation or company file, by name or id, when the sign-in reaches several
    /// and none is the connection's
    #[arg(long, value_name = "NAME_OR_ID")]
    account: Option<String>,
    /// Go on when you chose a different organisation or company than the connection's: the
    /// connection then follows the new one (its history stays)
    #[arg(long)]
    switch_account: bool,
    /// Also ask for the permissions a feature needs (an incremental grant), e.g.
    /// post_to_ledger (Xero) or payment_links (Square)
    #[arg(long = "for", value_name = "FEATURE")]
    feature: Option<String>,
    /// Print the sign-in address alone on standard output instead of opening a browser
    #[arg(long)]
    no_browser: bool,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// Connection name or id
    name: String,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Connection name or id (disconnect it first)
    name: String,
    /// Do not ask for confirmation (required when standard input is not a terminal)
    #[arg(long)]
    yes: bool,
}

/// `connections show NAME`: the connection, its account, scopes and health.
pub async fn show(global: &Global, out: &Output, args: ShowArgs) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let connection = workspace.find_connection(&args.name).await?;
    let health = workspace.connection_health(&connection.id).await?;
    if global.json {
        out.line(&serde_json::json!({ "connection": connection, "health": health }).to_string());
        return Ok(());
    }
    for (label, value) in details(&connection, &health) {
        out.line(&format!("{label:<14}{value}"));
    }
    Ok(())
}

fn details(c: &ConnectionView, h: &ConnectionHealthView) -> Vec<(&'static str, String)> {
    let or_dash = |v: Option<&str>| v.unwrap_or("—").to_string();
    let account = match (&c.account_name, &c.account_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (None, Some(id)) => id.clone(),
        (Some(name), None) => name.clone(),
        (None, None) => "—".into(),
    };
    vec![
        ("Name", c.name.clone()),
        ("Provider", c.provider_name.clone()),
        ("Status", format!("{:?}", c.status)),
        ("Account", account),
        (
            "Scopes",
            if c.scopes.is_empty() {
                "—".into()
            } else {
                c.scopes.join(" ")
            },
        ),
        ("API base", c.api_base.clone()),
        ("Sign-in", format!("{:?}", h.token)),
        ("Renew by", or_dash(h.token_lapses_at.as_deref())),
        ("Circuit", format!("{:?}", h.circuit)),
        ("Last sync", or_dash(c.last_sync_at.as_deref())),
        ("Last error", or_dash(c.last_error.as_deref())),
        ("Payments", c.payment_count.to_string()),
    ]
}

/// `connections reconnect NAME`: the browser sign-in again, on the same connection.
pub async fn reconnect(
    global: &Global,
    out: &Output,
    args: ReconnectArgs,
) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let c = workspace.find_connection(&args.name).await?;
    if c.provider == "stripe" {
        // A key connection: the new key (rolled or replaced) from $STRIPE_API_KEY or stdin.
        let request = switchboard_app::CredentialConnect::Stripe(switchboard_app::StripeConnect {
            name: c.name.clone(),
            api_key: switchboard_core::secret::SecretString::new(crate::read_api_key()?),
            api_base: Some(c.api_base.clone()),
        });
        let done = workspace
            .reconnect_with_credentials(&c.id, request, args.switch_account)
            .await?;
        for note in &done.notes {
            out.hint(&format!("note: {note}"));
        }
        out.connection(&done.connection);
        return Ok(());
    }
    if let Some(feature) = &args.feature {
        match workspace.missing_scopes(&args.name, feature).await? {
            Some(grant) => out.hint(&format!(
                "{} Asking for: {}.",
                grant.why,
                grant.scopes.join(", ")
            )),
            None => out.hint("Everything this feature needs is granted already; signing in again."),
        }
    }
    let request = OAuthReconnect {
        connection: args.name,
        client_id: args.client_id,
        client_secret: client_secret_from_env(),
        redirect_port: args.redirect_port,
        account: args.account,
        switch_account: args.switch_account,
        feature: args.feature,
    };
    let connection = workspace
        .reconnect_oauth(request, &browser(out, args.no_browser))
        .await?;
    if !args.no_browser || global.json {
        out.connection(&connection);
    } else {
        out.hint(&format!("Reconnected {}.", connection.name));
    }
    Ok(())
}

/// `connections disconnect NAME`: revoke where the provider can, forget the secrets, keep
/// the data.
pub async fn disconnect(
    global: &Global,
    out: &Output,
    args: DisconnectArgs,
) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let done = workspace.disconnect(&args.name).await?;
    if global.json {
        out.line(&serde_json::to_string(&done).unwrap_or_default());
    } else {
        out.line(&format!(
            "Disconnected {}. {}",
            done.connection.name, done.message
        ));
        out.hint("Its data stays; `switchboard connections delete` removes it.");
    }
    Ok(())
}

/// `connections delete NAME`: the connection and all its data, after confirmation.
pub async fn delete(global: &Global, out: &Output, args: DeleteArgs) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let c = workspace.find_connection(&args.name).await?;
    crate::confirm::confirm(
        &format!(
            "Delete “{}” and everything kept for it ({} payments, its sync history and logs)?",
            c.name, c.payment_count
        ),
        args.yes,
        "Deleting a connection's data",
        "Nothing was deleted.",
    )?;
    let name = workspace.delete_connection(&c.id).await?;
    out.hint(&format!("Deleted {name} and its data."));
    Ok(())
}
