//! `switchboard connect stripe|paypal|twilio|sendgrid|billionmail|smtp` (docs/CLI.md): the
//! credentials are verified with the provider and the account they reach is read before
//! anything is stored. Secrets come from an environment variable, else standard input (a
//! prompt without echo on a terminal), never from an argument: arguments are visible to every
//! user of the machine in the process list.

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Read};
use switchboard_app::{
    BillionMailConnect, CommandError, Connected, CredentialConnect, ErrorCode, PayPalConnect,
    PayPalEnvironment, SendGridConnect, SmtpConnect, SmtpSecurity, StripeConnect, TwilioConnect,
    verify_credentials,
};
use switchboard_core::secret::SecretString;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentArg {
    Sandbox,
    Live,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityArg {
    Starttls,
    Tls,
    None,
}

#[derive(Args, Debug)]
pub struct PayPalArgs {
    /// A name for the connection, e.g. "PayPal shop"
    #[arg(long)]
    name: String,
    /// Which PayPal the app's credentials are for
    #[arg(long, value_enum, default_value = "live")]
    environment: EnvironmentArg,
    /// API base URL (default: the environment's, https://api-m.paypal.com or
    /// https://api-m.sandbox.paypal.com)
    #[arg(long, value_name = "URL")]
    api_base: Option<String>,
    /// The REST app's client id (PayPal Developer Dashboard → Apps & Credentials); its secret
    /// comes from $PAYPAL_CLIENT_SECRET or standard input
    #[arg(long, value_name = "ID", env = "PAYPAL_CLIENT_ID")]
    client_id: String,
}

#[derive(Args, Debug)]
pub struct TwilioArgs {
    /// A name for the connection, e.g. "Shop SMS"
    #[arg(long)]
    name: String,
    /// The Account SID (AC…)
    #[arg(long, value_name = "AC…")]
    account_sid: String,
    /// Connect with this API key (SK…; its secret from $TWILIO_API_KEY_SECRET or standard
    /// input) instead of the Auth Token ($TWILIO_AUTH_TOKEN or standard input)
    #[arg(long, value_name = "SK…")]
    api_key_sid: Option<String>,
    /// API base URL (default https://api.twilio.com)
    #[arg(long, value_name = "URL")]
    api_base: Option<String>,
}

#[derive(Args, Debug)]
pub struct SendGridArgs {
    /// A name for the connection, e.g. "Newsletter"
    #[arg(long)]
    name: String,
    /// API base URL (default https://api.sendgrid.com; EU subusers: https://api.eu.sendgrid.com)
    #[arg(long, value_name = "URL")]
    api_base: Option<String>,
}

#[derive(Args, Debug)]
pub struct BillionMailArgs {
    /// A name for the connection, e.g. "Campaigns"
    #[arg(long)]
    name: String,
    /// Your BillionMail's address, e.g. https://mail.example.com
    #[arg(long, value_name = "URL")]
    api_base: String,
}

#[derive(Args, Debug)]
pub struct SmtpArgs {
    /// A name for the connection, e.g. "Office mail"
    #[arg(long)]
    name: String,
    /// The mail server, e.g. smtp.example.com
    #[arg(long)]
    host: String,
    /// Port (default: 587 for starttls, 465 for tls, 25 for none)
    #[arg(long)]
    port: Option<u16>,
    /// How the connection is protected (none: only for a server on this machine)
    #[arg(long, value_enum, default_value = "starttls")]
    security: SecurityArg,
    /// The login (often the email address); the password from $SMTP_PASSWORD or standard input
    #[arg(long)]
    user: String,
}

/// `connect stripe`: the key from $STRIPE_API_KEY or standard input.
pub async fn stripe(
    name: String,
    api_base: Option<String>,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let api_key = SecretString::new(crate::read_api_key()?);
    let request = CredentialConnect::Stripe(StripeConnect {
        name,
        api_key,
        api_base,
    });
    connect(request, global, out).await
}

pub async fn paypal(args: PayPalArgs, global: &Global, out: &Output) -> Result<(), CommandError> {
    let client_secret = read_secret("PAYPAL_CLIENT_SECRET", "PayPal client secret")?;
    let request = CredentialConnect::PayPal(PayPalConnect {
        name: args.name,
        environment: match args.environment {
            EnvironmentArg::Sandbox => PayPalEnvironment::Sandbox,
            EnvironmentArg::Live => PayPalEnvironment::Live,
        },
        api_base: args.api_base,
        client_id: args.client_id,
        client_secret,
    });
    connect(request, global, out).await
}

pub async fn twilio(args: TwilioArgs, global: &Global, out: &Output) -> Result<(), CommandError> {
    let secret = match &args.api_key_sid {
        Some(_) => read_secret("TWILIO_API_KEY_SECRET", "Twilio API key secret")?,
        None => read_secret("TWILIO_AUTH_TOKEN", "Twilio Auth Token")?,
    };
    let request = CredentialConnect::Twilio(TwilioConnect {
        name: args.name,
        account_sid: args.account_sid,
        api_key_sid: args.api_key_sid,
        secret,
        api_base: args.api_base,
    });
    connect(request, global, out).await
}

pub async fn sendgrid(
    args: SendGridArgs,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let api_key = read_secret("SENDGRID_API_KEY", "SendGrid API key")?;
    let request = CredentialConnect::SendGrid(SendGridConnect {
        name: args.name,
        api_key,
        api_base: args.api_base,
    });
    connect(request, global, out).await
}

pub async fn billionmail(
    args: BillionMailArgs,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let api_key = read_secret("BILLIONMAIL_API_KEY", "BillionMail API key")?;
    let request = CredentialConnect::BillionMail(BillionMailConnect {
        name: args.name,
        api_base: args.api_base,
        api_key,
    });
    connect(request, global, out).await
}

pub async fn smtp(args: SmtpArgs, global: &Global, out: &Output) -> Result<(), CommandError> {
    let password = read_secret("SMTP_PASSWORD", "SMTP password")?;
    let request = CredentialConnect::Smtp(SmtpConnect {
        name: args.name,
        host: args.host,
        port: args.port,
        security: match args.security {
            SecurityArg::Starttls => SmtpSecurity::StartTls,
            SecurityArg::Tls => SmtpSecurity::Tls,
            SecurityArg::None => SmtpSecurity::None,
        },
        user: args.user,
        password,
    });
    connect(request, global, out).await
}

/// Verifies, then stores; without a real workspace yet, the workspace is created only after the
/// provider accepted the credentials, so wrong ones leave nothing behind.
/// `connect mautic --user U`: HTTP basic auth, where the instance enables it; the password
/// from $MAUTIC_PASSWORD or standard input.
pub async fn mautic_basic(
    name: String,
    api_base: Option<String>,
    user: String,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let password = read_secret("MAUTIC_PASSWORD", "Mautic password")?;
    let api_base = api_base.ok_or_else(|| {
        CommandError::new(
            ErrorCode::InvalidInput,
            "Give your Mautic's address with --api-base (e.g. https://mautic.example.com).",
        )
    })?;
    let request = CredentialConnect::MauticBasic(switchboard_app::MauticBasicConnect {
        name,
        api_base,
        user,
        password,
    });
    connect(request, global, out).await
}

async fn connect(
    request: CredentialConnect,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let connected: Connected = if nothing_configured(global) {
        let verified = verify_credentials(request).await?;
        open(global).await?.store_verified(verified).await?
    } else {
        open(global)
            .await?
            .connect_with_credentials(request)
            .await?
    };
    for note in &connected.notes {
        note_line(global.json, note);
    }
    out.connection(&connected.connection);
    Ok(())
}

/// A note for the person connecting, on standard error (`--json`: `{"event":"note",…}`).
fn note_line(json: bool, note: &str) {
    if json {
        eprintln!("{}", serde_json::json!({"event": "note", "message": note}));
    } else {
        eprintln!("note: {note}");
    }
}

/// A secret from `env`, else standard input: a prompt without echo on a terminal, else the
/// whole input (trimmed).
fn read_secret(env: &str, what: &str) -> Result<SecretString, CommandError> {
    if let Ok(value) = std::env::var(env)
        && !value.trim().is_empty()
    {
        return Ok(SecretString::new(value.trim()));
    }
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        rpassword::prompt_password(format!("{what}: ")).map_err(|e| {
            CommandError::new(
                ErrorCode::InvalidInput,
                format!("cannot read the {what} from the terminal: {e}"),
            )
        })?
    } else {
        let mut value = String::new();
        stdin.lock().read_to_string(&mut value).map_err(|e| {
            CommandError::new(
                ErrorCode::InvalidInput,
                format!("cannot read the {what} from standard input: {e}"),
            )
        })?;
        value
    };
    let value = SecretString::new(value.trim());
    if value.expose().is_empty() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("No {what} given: set {env} or pipe it on standard input."),
        ));
    }
    Ok(value)
}
