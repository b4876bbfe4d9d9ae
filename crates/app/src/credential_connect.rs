//! Connecting providers with credentials (API keys, client credentials, passwords): the
//! credentials are verified with the provider's real API, the account they reach is read, and
//! only then the connection, its identity and its secrets (sealed) are stored, in one
//! transaction. Nothing is stored when verification fails.
//!
//! Providers: Stripe (the account from `GET /v1/account`), PayPal (client credentials; the app
//! id and environment), Twilio (Account SID with the Auth Token or an API key), SendGrid,
//! BillionMail (self-hosted) and SMTP. The provider facts and their sources are in
//! `switchboard_providers::credentials`.
//!
//! What is stored, per provider (secrets sealed under these purposes):
//!
//! | provider | `api_base` | `account_id` | secrets |
//! |---|---|---|---|
//! | stripe | API base | `acct_…` (unknown when a restricted key may not read it) | `api_key` |
//! | paypal | the environment's host | `sandbox:APP-…` / `live:APP-…` | `client_id`, `client_secret` |
//! | twilio | API base | `AC…` | `auth_token`, or `api_key_sid` and `api_secret` |
//! | sendgrid | API base | the account's email, when the key may read it | `api_key` |
//! | billionmail | the customer's URL | its host | `api_key` |
//! | smtp | `smtp://user@host:587?tls=required` (lettre's URL form, no password) | `user@host` | `smtp_password` |
//!
//! The PayPal client id and Twilio API key SID are not secret, but the connection needs them
//! again and has no other place for them; sealed they cost nothing.
//!
//! Stripe and PayPal connections are pulled and keep the default schedule; the others (nothing
//! is pulled from them yet) are not scheduled (`sync_interval_minutes` NULL).

use crate::workspace::Workspace;
use crate::{Result, errors, sync::blocking};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{ConnectionView, NewStripeConnection};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::credentials::billionmail::{self, BillionMail};
use switchboard_providers::credentials::mautic::MauticBasic;
use switchboard_providers::credentials::paypal::PayPal;
use switchboard_providers::credentials::sendgrid::SendGrid;
use switchboard_providers::credentials::smtp::SmtpLogin;
use switchboard_providers::credentials::stripe::{
    AccountLookup, StripeAccountClient, not_permitted_note,
};
use switchboard_providers::credentials::twilio::{self, Twilio};
use switchboard_store::connections::{self, NewConnection};
use switchboard_store::secrets::SecretRow;

pub use switchboard_providers::credentials::paypal::Environment as PayPalEnvironment;
pub use switchboard_providers::credentials::smtp::Security as SmtpSecurity;

/// Secret purposes of credential connections.
pub mod purpose {
    /// Stripe, SendGrid and BillionMail keys (the Stripe one is what syncing reads).
    pub const API_KEY: &str = "api_key";
    /// PayPal client id (not secret; see the module notes).
    pub const CLIENT_ID: &str = "client_id";
    pub const CLIENT_SECRET: &str = "client_secret";
    /// Twilio Auth Token.
    pub const AUTH_TOKEN: &str = "auth_token";
    /// Twilio API key SID (not secret) and secret.
    pub const API_KEY_SID: &str = "api_key_sid";
    pub const API_SECRET: &str = "api_secret";
    pub const SMTP_PASSWORD: &str = "smtp_password";
    /// Mautic's API user (not secret) and password, for HTTP basic auth.
    pub const BASIC_USER: &str = "basic_user";
    pub const BASIC_PASSWORD: &str = "basic_password";
}

/// What to connect, with which credentials (the CLI's `connect <provider>`).
#[derive(Debug, Clone)]
pub enum CredentialConnect {
    Stripe(StripeConnect),
    PayPal(PayPalConnect),
    Twilio(TwilioConnect),
    SendGrid(SendGridConnect),
    BillionMail(BillionMailConnect),
    Smtp(SmtpConnect),
    MauticBasic(MauticBasicConnect),
}

/// Mautic through HTTP basic auth, where the instance enables it (else: the browser sign-in).
#[derive(Debug, Clone)]
pub struct MauticBasicConnect {
    pub name: String,
    /// The customer's Mautic URL (required: it is self-hosted).
    pub api_base: String,
    pub user: String,
    pub password: SecretString,
}

#[derive(Debug, Clone)]
pub struct StripeConnect {
    pub name: String,
    /// A secret (`sk_…`) or restricted (`rk_…`) key.
    pub api_key: SecretString,
    /// Overrides `https://api.stripe.com`.
    pub api_base: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PayPalConnect {
    pub name: String,
    pub environment: PayPalEnvironment,
    /// Overrides the environment's host (the sandbox fake, a proxy).
    pub api_base: Option<String>,
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct TwilioConnect {
    pub name: String,
    /// `AC…`
    pub account_sid: String,
    /// `SK…` when connecting with an API key (then `secret` is its secret); `None`: `secret`
    /// is the Auth Token.
    pub api_key_sid: Option<String>,
    pub secret: SecretString,
    /// Overrides `https://api.twilio.com`.
    pub api_base: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SendGridConnect {
    pub name: String,
    pub api_key: SecretString,
    /// Overrides `https://api.sendgrid.com` (e.g. `https://api.eu.sendgrid.com`).
    pub api_base: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BillionMailConnect {
    pub name: String,
    /// The customer's BillionMail URL (required: it is self-hosted).
    pub api_base: String,
    pub api_key: SecretString,
}

#[derive(Debug, Clone)]
pub struct SmtpConnect {
    pub name: String,
    pub host: String,
    /// Default: the security's usual port (587, 465, 25).
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    pub user: String,
    pub password: SecretString,
}

impl CredentialConnect {
    fn name(&self) -> &str {
        match self {
            CredentialConnect::Stripe(r) => &r.name,
            CredentialConnect::PayPal(r) => &r.name,
            CredentialConnect::Twilio(r) => &r.name,
            CredentialConnect::SendGrid(r) => &r.name,
            CredentialConnect::BillionMail(r) => &r.name,
            CredentialConnect::Smtp(r) => &r.name,
            CredentialConnect::MauticBasic(r) => &r.name,
        }
    }
}

/// A connection just made, and what the person connecting should know about it (an account
/// that could not be read, a trial account…).
#[derive(Debug, Clone)]
pub struct Connected {
    pub connection: ConnectionView,
    pub notes: Vec<String>,
}

/// Credentials a provider accepted and the account they reach, ready to be stored (nothing is
/// stored yet): [`verify_credentials`], then [`Workspace::store_verified`].
#[derive(Debug)]
pub struct Verified {
    provider: &'static str,
    name: String,
    api_base: String,
    account_id: Option<String>,
    account_name: Option<String>,
    secrets: Vec<(&'static str, SecretString)>,
    /// Whether the scheduler syncs it (only providers with a pull adapter).
    scheduled: bool,
    notes: Vec<String>,
}

impl Verified {
    pub fn provider(&self) -> &str {
        self.provider
    }

    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    pub fn account_name(&self) -> Option<&str> {
        self.account_name.as_deref()
    }

    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Checks the input and verifies the credentials with the provider, without any workspace (the
/// CLI verifies before it creates the real workspace, so wrong credentials store nothing at
/// all).
pub async fn verify_credentials(request: CredentialConnect) -> Result<Verified> {
    verify_with(&switchboard_providers::http::client(), request).await
}

impl Workspace {
    /// Verifies the credentials, reads the account they reach, and stores the connection with
    /// its identity and sealed secrets in one transaction. Nothing is stored on failure.
    pub async fn connect_with_credentials(&self, request: CredentialConnect) -> Result<Connected> {
        let name = checked_name(request.name())?;
        self.ensure_name_free(&name).await?;
        let verified = verify_with(&self.client, request).await?;
        self.store_verified(verified).await
    }

    /// Stores what [`verify_credentials`] accepted: the connection, its account, its sealed
    /// secrets and its schedule, together.
    pub async fn store_verified(&self, verified: Verified) -> Result<Connected> {
        self.ensure_name_free(&verified.name).await?;
        let Verified {
            provider,
            name,
            api_base,
            account_id,
            account_name,
            secrets,
            scheduled,
            notes,
        } = verified;
        let id = switchboard_store::new_id();
        let sealed = self.seal_all(&secrets);
        drop(secrets);
        let connection = blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            connections::insert(
                &tx,
                &NewConnection {
                    id: &id,
                    provider,
                    name: &name,
                    account_id: account_id.as_deref(),
                    api_base: &api_base,
                },
            )?;
            connections::set_account(&tx, &id, account_id.as_deref(), account_name.as_deref())?;
            if !scheduled || !crate::workspace::pulls_from(provider) {
                // Nothing is pulled from this provider yet: a schedule would only record
                // "not available" errors.
                connections::set_sync_interval(&tx, &id, None)?;
            }
            for (purpose, row) in &sealed {
                switchboard_store::secrets::put(&tx, &id, purpose, row)?;
            }
            let view = connections::find(&tx, &id)?;
            tx.commit()?;
            Ok(view)
        })
        .await?;
        Ok(Connected { connection, notes })
    }

    /// Gives an existing connection new credentials (the key was rolled or revoked), on the
    /// same row: its payments, cursors and history stay, and its next sync resumes where the
    /// last one stopped. The credentials are verified first; credentials for a different
    /// account than the connection's are refused with `conflict` unless `switch_account`.
    pub async fn reconnect_with_credentials(
        &self,
        connection: &str,
        request: CredentialConnect,
        switch_account: bool,
    ) -> Result<Connected> {
        let c = self.find_connection(connection).await?;
        let verified = verify_with(&self.client, request).await?;
        if verified.provider != c.provider {
            return Err(errors::invalid(format!(
                "“{}” is a {} connection; these are {} credentials.",
                c.name, c.provider_name, verified.provider
            )));
        }
        if let (Some(before), Some(now)) = (c.account_id.as_deref(), verified.account_id())
            && before != now
            && !switch_account
        {
            return Err(CommandError::new(
                ErrorCode::Conflict,
                format!(
                    "These credentials reach account {now}, but “{}” is connected to {before}. \
                     Nothing was changed. Use credentials of {before}, connect {now} as a new \
                     connection, or switch “{}” to it (its history stays).",
                    c.name, c.name
                ),
            ));
        }
        let Verified {
            api_base,
            account_id,
            account_name,
            secrets,
            notes,
            ..
        } = verified;
        let sealed = self.seal_all(&secrets);
        drop(secrets);
        let id = c.id.clone();
        // A restricted key may not read the account: keep what was known.
        let account_id = account_id.or(c.account_id.clone());
        let account_name = account_name.or(c.account_name.clone());
        let connection = blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            switchboard_store::secrets::delete_all(&tx, &id)?;
            for (purpose, row) in &sealed {
                switchboard_store::secrets::put(&tx, &id, purpose, row)?;
            }
            connections::set_api_base(&tx, &id, &api_base)?;
            connections::set_account(&tx, &id, account_id.as_deref(), account_name.as_deref())?;
            connections::mark_connected(&tx, &id)?;
            let view = connections::find(&tx, &id)?;
            tx.commit()?;
            Ok(view)
        })
        .await?;
        tracing::info!(connection = %connection.name, "reconnected with new credentials");
        Ok(Connected { connection, notes })
    }

    /// Each secret sealed under a fresh row id.
    fn seal_all(&self, secrets: &[(&'static str, SecretString)]) -> Vec<(&'static str, SecretRow)> {
        secrets
            .iter()
            .map(|(purpose, value)| {
                let secret_id = switchboard_store::new_id();
                let sealed = self
                    .key
                    .seal(value.expose().as_bytes(), secret_id.as_bytes());
                (
                    *purpose,
                    SecretRow {
                        id: secret_id,
                        nonce: sealed.nonce,
                        ciphertext: sealed.ciphertext,
                    },
                )
            })
            .collect()
    }

    async fn ensure_name_free(&self, name: &str) -> Result<()> {
        let taken = blocking(&self.store, {
            let name = name.to_string();
            move |s| connections::name_taken(&s.conn(), &name)
        })
        .await?;
        if taken {
            return Err(CommandError::new(
                ErrorCode::Conflict,
                format!("A connection named “{name}” already exists. Choose another name."),
            ));
        }
        Ok(())
    }
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(errors::invalid(
            "Give the connection a name, e.g. “Shop email”.",
        ));
    }
    Ok(name.to_string())
}

/// `base` trimmed, without a trailing slash, checked to be an http(s) URL.
fn checked_base(base: Option<&str>) -> Result<Option<String>> {
    let Some(base) = base
        .map(|b| b.trim().trim_end_matches('/').to_string())
        .filter(|b| !b.is_empty())
    else {
        return Ok(None);
    };
    let ok = reqwest::Url::parse(&base)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(errors::invalid(format!("“{base}” is not an http(s) URL.")));
    }
    Ok(Some(base))
}

/// A secret that must be there and have no spaces inside.
fn checked_secret(secret: &SecretString, what: &str) -> Result<SecretString> {
    let value = secret.expose().trim();
    if value.is_empty() {
        return Err(errors::invalid(format!("No {what} given.")));
    }
    if value.contains(char::is_whitespace) {
        return Err(errors::invalid(format!(
            "The {what} contains spaces or line breaks: paste it again, exactly as shown."
        )));
    }
    Ok(SecretString::new(value))
}

async fn verify_with(client: &reqwest::Client, request: CredentialConnect) -> Result<Verified> {
    let name = checked_name(request.name())?;
    match request {
        CredentialConnect::Stripe(r) => verify_stripe(client, name, r).await,
        CredentialConnect::PayPal(r) => verify_paypal(client, name, r).await,
        CredentialConnect::Twilio(r) => verify_twilio(client, name, r).await,
        CredentialConnect::SendGrid(r) => verify_sendgrid(client, name, r).await,
        CredentialConnect::BillionMail(r) => verify_billionmail(client, name, r).await,
        CredentialConnect::Smtp(r) => verify_smtp(name, r).await,
        CredentialConnect::MauticBasic(r) => verify_mautic_basic(client, name, r).await,
    }
}

async fn verify_stripe(
    client: &reqwest::Client,
    name: String,
    r: StripeConnect,
) -> Result<Verified> {
    let api_key = SecretString::new(r.api_key.expose().trim());
    let api_base = checked_base(r.api_base.as_deref())?;
    // The key's form and one read of charges, exactly as `add_stripe_connection` checks it.
    crate::workspace::check_stripe_key(NewStripeConnection {
        name: name.clone(),
        api_key: api_key.expose().to_string(),
        api_base: api_base.clone(),
    })
    .await?;
    let lookup = StripeAccountClient::new(client.clone(), api_base.as_deref(), api_key.clone())
        .account()
        .await
        .map_err(CommandError::from)?;
    let (account_id, account_name, notes) = match lookup {
        AccountLookup::Found(account) => (Some(account.id), account.name, Vec::new()),
        AccountLookup::NotPermitted { stripe_message } => (
            None,
            None,
            vec![not_permitted_note(stripe_message.as_deref())],
        ),
    };
    Ok(Verified {
        provider: "stripe",
        name,
        api_base: api_base
            .unwrap_or_else(|| switchboard_providers::stripe::DEFAULT_API_BASE.to_string()),
        account_id,
        account_name,
        secrets: vec![(purpose::API_KEY, api_key)],
        scheduled: true,
        notes,
    })
}

async fn verify_paypal(
    client: &reqwest::Client,
    name: String,
    r: PayPalConnect,
) -> Result<Verified> {
    let client_id = r.client_id.trim().to_string();
    if client_id.is_empty() || client_id.contains(char::is_whitespace) {
        return Err(errors::invalid(
            "Give the PayPal app's client id (Apps & Credentials in the PayPal Developer \
             Dashboard).",
        ));
    }
    let secret = checked_secret(&r.client_secret, "PayPal client secret")?;
    let api_base = checked_base(r.api_base.as_deref())?;
    let paypal = PayPal::new(
        client.clone(),
        r.environment,
        api_base.as_deref(),
        &client_id,
        secret.clone(),
    );
    let identity = paypal.identify().await.map_err(CommandError::from)?;
    let env = identity.environment.as_str();
    Ok(Verified {
        provider: "paypal",
        name,
        api_base: api_base.unwrap_or_else(|| r.environment.api_base().to_string()),
        account_id: Some(identity.account_id()),
        account_name: Some(format!("PayPal {env} app {}", identity.app_id)),
        secrets: vec![
            (purpose::CLIENT_ID, SecretString::new(client_id)),
            (purpose::CLIENT_SECRET, secret),
        ],
        // PayPal is pulled (Transaction Search): it keeps the default schedule, like Stripe.
        scheduled: true,
        notes: vec![format!(
            "PayPal identifies client credentials by their app ({}, {env}) only; it has no \
             call that names the merchant account behind them.",
            identity.app_id
        )],
    })
}

async fn verify_twilio(
    client: &reqwest::Client,
    name: String,
    r: TwilioConnect,
) -> Result<Verified> {
    let account_sid = r.account_sid.trim().to_string();
    if !twilio::is_account_sid(&account_sid) {
        return Err(errors::invalid(
            "That is not a Twilio Account SID: it starts with “AC” followed by 32 hex digits \
             (Twilio Console → Account info).",
        ));
    }
    let (credential, secrets) = match r.api_key_sid.as_deref().map(str::trim) {
        Some(sid) => {
            if !twilio::is_api_key_sid(sid) {
                return Err(errors::invalid(
                    "That is not a Twilio API key SID: it starts with “SK” followed by 32 hex \
                     digits (Twilio Console → API keys & tokens).",
                ));
            }
            let secret = checked_secret(&r.secret, "Twilio API key secret")?;
            (
                twilio::Credential::ApiKey {
                    sid: sid.to_string(),
                    secret: secret.clone(),
                },
                vec![
                    (purpose::API_KEY_SID, SecretString::new(sid)),
                    (purpose::API_SECRET, secret),
                ],
            )
        }
        None => {
            let token = checked_secret(&r.secret, "Twilio Auth Token")?;
            (
                twilio::Credential::AuthToken(token.clone()),
                vec![(purpose::AUTH_TOKEN, token)],
            )
        }
    };
    let api_base = checked_base(r.api_base.as_deref())?;
    let identity = Twilio::new(
        client.clone(),
        api_base.as_deref(),
        &account_sid,
        credential,
    )
    .identify()
    .await
    .map_err(CommandError::from)?;
    Ok(Verified {
        provider: "twilio",
        name,
        api_base: api_base.unwrap_or_else(|| twilio::DEFAULT_API_BASE.to_string()),
        account_id: identity.account_id,
        account_name: identity.account_name,
        secrets,
        scheduled: false,
        notes: identity.notes,
    })
}

async fn verify_sendgrid(
    client: &reqwest::Client,
    name: String,
    r: SendGridConnect,
) -> Result<Verified> {
    let api_key = checked_secret(&r.api_key, "SendGrid API key")?;
    if !api_key.expose().starts_with("SG.") {
        return Err(errors::invalid(
            "That does not look like a SendGrid API key: they start with “SG.” (SendGrid → \
             Settings → API Keys).",
        ));
    }
    let api_base = checked_base(r.api_base.as_deref())?;
    let identity = SendGrid::new(client.clone(), api_base.as_deref(), api_key.clone())
        .identify()
        .await
        .map_err(CommandError::from)?;
    Ok(Verified {
        provider: "sendgrid",
        name,
        api_base: api_base.unwrap_or_else(|| {
            switchboard_providers::credentials::sendgrid::DEFAULT_API_BASE.to_string()
        }),
        account_id: identity.account_id,
        account_name: identity.account_name,
        secrets: vec![(purpose::API_KEY, api_key)],
        scheduled: false,
        notes: identity.notes,
    })
}

async fn verify_billionmail(
    client: &reqwest::Client,
    name: String,
    r: BillionMailConnect,
) -> Result<Verified> {
    let api_base = checked_base(Some(&r.api_base))?.ok_or_else(|| {
        errors::invalid(
            "Give your BillionMail's address (e.g. https://mail.example.com): it is \
             self-hosted, so there is no default.",
        )
    })?;
    let api_key = checked_secret(&r.api_key, "BillionMail API key")?;
    BillionMail::new(client.clone(), &api_base, api_key.clone())
        .verify()
        .await
        .map_err(CommandError::from)?;
    Ok(Verified {
        provider: "billionmail",
        name,
        account_id: billionmail::account_id(&api_base),
        account_name: None,
        api_base,
        secrets: vec![(purpose::API_KEY, api_key)],
        scheduled: false,
        notes: vec![
            "A BillionMail API key belongs to one API (its template, sender and subject, set up \
             in BillionMail) and names no account: the connection is known by its server."
                .into(),
        ],
    })
}

async fn verify_mautic_basic(
    client: &reqwest::Client,
    name: String,
    r: MauticBasicConnect,
) -> Result<Verified> {
    let api_base = checked_base(Some(&r.api_base))?.ok_or_else(|| {
        errors::invalid(
            "Give your Mautic's address (e.g. https://mautic.example.com): it is self-hosted, \
             so there is no default.",
        )
    })?;
    let user = r.user.trim().to_string();
    if user.is_empty() {
        return Err(errors::invalid("Give the Mautic user name."));
    }
    if r.password.expose().is_empty() {
        return Err(errors::invalid("No Mautic password given."));
    }
    let identity = MauticBasic::new(client.clone(), &api_base, &user, r.password.clone())
        .identify()
        .await
        .map_err(CommandError::from)?;
    Ok(Verified {
        provider: "mautic",
        name,
        account_id: identity.account_id,
        account_name: identity.account_name,
        api_base,
        secrets: vec![
            (purpose::BASIC_USER, SecretString::new(user)),
            (purpose::BASIC_PASSWORD, r.password),
        ],
        scheduled: false,
        notes: identity.notes,
    })
}

async fn verify_smtp(name: String, r: SmtpConnect) -> Result<Verified> {
    let password = r.password.expose().to_string();
    if password.is_empty() {
        return Err(errors::invalid("No SMTP password given."));
    }
    let login = SmtpLogin {
        host: r.host.trim().to_string(),
        port: r.port.unwrap_or_else(|| r.security.default_port()),
        security: r.security,
        user: r.user.trim().to_string(),
        password: SecretString::new(password),
    };
    login.check().map_err(errors::invalid)?;
    login.verify().await.map_err(CommandError::from)?;
    Ok(Verified {
        provider: "smtp",
        name,
        api_base: login.connection_url(),
        account_id: Some(login.account_id()),
        account_name: Some(login.user.clone()),
        secrets: vec![(purpose::SMTP_PASSWORD, login.password.clone())],
        scheduled: false,
        notes: Vec::new(),
    })
}

impl CredentialConnect {
    /// A connect request from the connect dialog's form (the catalogue's `credential_fields`,
    /// by key). A missing required field or a value out of its choices is `invalid_input`
    /// naming the field.
    pub fn from_form(
        provider: &str,
        name: &str,
        api_base: Option<String>,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<CredentialConnect> {
        let fields = switchboard_core::catalogue::provider(provider)
            .map(|p| p.credential_fields)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                errors::invalid(format!("`{provider}` does not connect with credentials."))
            })?;
        let value = |key: &str| -> Option<String> {
            values
                .get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let label = |key: &str| -> String {
            fields
                .iter()
                .find(|f| f.key == key)
                .map_or(key, |f| f.label)
                .to_string()
        };
        let required = |key: &str| -> Result<String> {
            value(key).ok_or_else(|| errors::invalid(format!("Fill in “{}”.", label(key))))
        };
        let secret = |key: &str| required(key).map(SecretString::new);
        let choice = |key: &str| -> Result<String> {
            let field = fields.iter().find(|f| f.key == key);
            let chosen = value(key)
                .or_else(|| field.and_then(|f| f.choices.first()).map(|c| c.to_string()))
                .unwrap_or_default();
            if field.is_some_and(|f| !f.choices.contains(&chosen.as_str())) {
                return Err(errors::invalid(format!(
                    "“{}” must be one of {}.",
                    label(key),
                    field.map(|f| f.choices.join(", ")).unwrap_or_default()
                )));
            }
            Ok(chosen)
        };
        let name = name.to_string();
        Ok(match provider {
            "stripe" => CredentialConnect::Stripe(StripeConnect {
                name,
                api_key: secret("api_key")?,
                api_base,
            }),
            "paypal" => CredentialConnect::PayPal(PayPalConnect {
                name,
                environment: match choice("environment")?.as_str() {
                    "sandbox" => PayPalEnvironment::Sandbox,
                    _ => PayPalEnvironment::Live,
                },
                api_base,
                client_id: required("client_id")?,
                client_secret: secret("client_secret")?,
            }),
            "twilio" => CredentialConnect::Twilio(TwilioConnect {
                name,
                account_sid: required("account_sid")?,
                api_key_sid: value("api_key_sid"),
                secret: secret("secret")?,
                api_base,
            }),
            "sendgrid" => CredentialConnect::SendGrid(SendGridConnect {
                name,
                api_key: secret("api_key")?,
                api_base,
            }),
            "billionmail" => CredentialConnect::BillionMail(BillionMailConnect {
                name,
                api_base: match api_base {
                    Some(base) => base,
                    None => required(switchboard_core::catalogue::credentials::ADDRESS)?,
                },
                api_key: secret("api_key")?,
            }),
            "smtp" => CredentialConnect::Smtp(SmtpConnect {
                name,
                host: required("host")?,
                port: match value("port") {
                    Some(port) => Some(port.parse::<u16>().map_err(|_| {
                        errors::invalid(format!("“{}” must be a port number.", label("port")))
                    })?),
                    None => None,
                },
                security: match choice("security")?.as_str() {
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    _ => SmtpSecurity::StartTls,
                },
                user: required("user")?,
                password: secret("password")?,
            }),
            "mautic" => CredentialConnect::MauticBasic(MauticBasicConnect {
                name,
                api_base: match api_base {
                    Some(base) => base,
                    None => required(switchboard_core::catalogue::credentials::ADDRESS)?,
                },
                user: required("user")?,
                password: secret("password")?,
            }),
            other => {
                return Err(errors::invalid(format!(
                    "`{other}` does not connect with credentials."
                )));
            }
        })
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;
    use std::collections::BTreeMap;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_credentials_provider_reads_its_catalogue_form() {
        for p in switchboard_core::catalogue::PROVIDERS {
            if p.credential_fields.is_empty() {
                continue;
            }
            // Every field filled with something plausible of its kind.
            let values: BTreeMap<String, String> = p
                .credential_fields
                .iter()
                .map(|f| {
                    let v = match f.kind {
                        switchboard_core::catalogue::FieldKind::Choice => f.choices[0],
                        switchboard_core::catalogue::FieldKind::Number => "587",
                        _ => "x",
                    };
                    (f.key.to_string(), v.to_string())
                })
                .collect();
            let request = CredentialConnect::from_form(p.key, "Name", None, &values)
                .unwrap_or_else(|e| panic!("{}: {e:?}", p.key));
            assert_eq!(request.name(), "Name");
        }
    }

    #[test]
    fn a_missing_field_or_a_bad_choice_names_the_field() {
        let err = CredentialConnect::from_form("twilio", "T", None, &form(&[("secret", "s")]))
            .unwrap_err();
        assert!(err.message.contains("Account SID"), "{}", err.message);
        let err = CredentialConnect::from_form(
            "smtp",
            "M",
            None,
            &form(&[
                ("host", "h"),
                ("security", "rot13"),
                ("user", "u"),
                ("password", "p"),
            ]),
        )
        .unwrap_err();
        assert!(err.message.contains("starttls"), "{}", err.message);
        let err = CredentialConnect::from_form(
            "smtp",
            "M",
            None,
            &form(&[
                ("host", "h"),
                ("port", "x"),
                ("user", "u"),
                ("password", "p"),
            ]),
        )
        .unwrap_err();
        assert!(err.message.contains("port"), "{}", err.message);
        assert!(CredentialConnect::from_form("xero", "X", None, &form(&[])).is_err());
        // A choice left empty takes the first offered (PayPal: live).
        let paypal = CredentialConnect::from_form(
            "paypal",
            "P",
            None,
            &form(&[("client_id", "id"), ("client_secret", "s")]),
        )
        .unwrap();
        assert!(matches!(
            paypal,
            CredentialConnect::PayPal(PayPalConnect {
                environment: PayPalEnvironment::Live,
                ..
            })
        ));
    }
}
