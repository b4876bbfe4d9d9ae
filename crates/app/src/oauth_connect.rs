//! Connecting through OAuth: the system browser, a loopback redirect, the code exchange, the
//! account's identity from the provider, then the connection and its tokens stored together.
//!
//! Identity comes from each provider's own endpoint (`oauth_identity`). Reconnecting signs the
//! same row in again; disconnecting revokes the grant at the provider and forgets the tokens.

use crate::oauth_identity::{Account, IdentityRequest};
use crate::tokens::{FreshTokens, Tokens};
use crate::workspace::Workspace;
use crate::{Result, errors, sync::blocking};
use std::time::Duration;
use switchboard_core::catalogue::{self, LoopbackRedirect, ProviderInfo, RevokeStyle, ScopeGrant};
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionView;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::oauth::{
    Credentials, CsrfState, Endpoints, LoopbackListener, OAuthClient, Pkce, TokenSet,
};
use switchboard_store::connections::{self, NewConnection, OAuthDetails};

/// Secret purpose of the client secret a user configured for their own developer app.
const CLIENT_SECRET: &str = "oauth_client_secret";

/// How long the app waits for the user to approve in the browser.
const APPROVAL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// One browser sign-in: for which provider, with which client, and how.
#[derive(Clone, Copy)]
struct SignIn<'a> {
    provider: &'a ProviderInfo,
    client: &'a OAuthClient,
    /// Where the identity endpoints are (the connection's API base).
    api_base: &'a str,
    /// Scopes asked for besides the catalogue's least ones (an incremental grant).
    extra_scopes: &'a [&'a str],
    redirect_port: Option<u16>,
    relay: Option<&'a str>,
}

/// Opens the authorize URL: the system browser in the app; printing it, or a script, in the
/// CLI; a plain HTTP client in tests.
pub type OpenBrowser<'a> = dyn Fn(&str) -> std::result::Result<(), String> + Send + Sync + 'a;

/// What the user asked for (the connect dialog, `switchboard connect <provider>`).
#[derive(Debug, Clone, Default)]
pub struct OAuthConnect {
    /// Catalogue key (`xero`).
    pub provider: String,
    pub name: String,
    /// The API base when it is not the catalogue's (the sandbox, a proxy, a regional host).
    pub api_base: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    /// The app's registration with the provider (the user's own developer app, or the
    /// distributor's).
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// The loopback port registered with the provider, when not the catalogue's.
    pub redirect_port: Option<u16>,
    /// Which Xero organisation, by id or name, when the user allowed several.
    pub tenant: Option<String>,
    /// The auth relay that holds the registration's secret and HTTPS redirect
    /// (docs/RELAY.md), e.g. `https://relay.example.com`; `None` to talk to the provider
    /// directly.
    pub relay: Option<String>,
}

/// Reconnecting a connection whose sign-in died (or was disconnected): the same row, so its
/// cursors, checkpoints, mappings and history stay.
#[derive(Debug, Clone, Default)]
pub struct OAuthReconnect {
    /// Connection name or id.
    pub connection: String,
    /// The app's client id, when not the one the connection used before.
    pub client_id: Option<String>,
    /// A new client secret, when not the stored one.
    pub client_secret: Option<SecretString>,
    pub redirect_port: Option<u16>,
    /// Which organisation or company file, when the sign-in reaches several and none of them
    /// is the connection's.
    pub account: Option<String>,
    /// Go on when the user chose a different account than the connection's: the connection
    /// then follows the new account (its history stays).
    pub switch_account: bool,
    /// Ask for the catalogue's extra scopes of this feature too (an incremental grant, e.g.
    /// `post_to_ledger`; see [`Workspace::missing_scopes`]).
    pub feature: Option<String>,
}

impl Workspace {
    /// Connects a provider through OAuth. `open_browser` is given the authorize URL (the
    /// desktop app opens the system browser; the CLI may print it instead).
    pub async fn connect_oauth(
        &self,
        request: OAuthConnect,
        open_browser: &OpenBrowser<'_>,
    ) -> Result<ConnectionView> {
        let provider = catalogue::provider(&request.provider).ok_or_else(|| {
            errors::invalid(format!("There is no provider `{}`.", request.provider))
        })?;
        let name = request.name.trim().to_string();
        if name.is_empty() {
            return Err(errors::invalid("Give the connection a name."));
        }
        let taken = name.clone();
        if blocking(&self.store, move |s| {
            connections::name_taken(&s.conn(), &taken)
        })
        .await?
        {
            return Err(errors::invalid(format!(
                "A connection named `{name}` already exists; choose another name."
            )));
        }
        let api_base = match request.api_base.clone() {
            Some(base) => base,
            // Mautic runs on the customer's own server: there is no default address.
            None if provider.api_base.is_empty() => {
                return Err(errors::invalid(format!(
                    "{} runs on your own server: give its address (for example \
                     https://mautic.example.com).",
                    provider.display_name
                )));
            }
            None => provider.api_base.to_string(),
        };
        let client = self.client_for(
            provider,
            &api_base,
            [
                request.authorize_url.as_deref(),
                request.token_url.as_deref(),
                request.revoke_url.as_deref(),
            ],
            &request.client_id,
            request.client_secret.clone(),
            request.relay.as_deref(),
        )?;
        let (tokens, candidates) = self
            .sign_in(
                &SignIn {
                    provider,
                    client: &client,
                    api_base: &api_base,
                    extra_scopes: &[],
                    redirect_port: request.redirect_port,
                    relay: request.relay.as_deref(),
                },
                open_browser,
            )
            .await?;
        let account = choose(provider, candidates, request.tenant.as_deref())?;

        let id = switchboard_store::new_id();
        let details = OAuthDetails {
            account_name: account.name.clone(),
            scopes: tokens.scopes.clone(),
            authorize_url: request.authorize_url.clone(),
            token_url: request.token_url.clone(),
            revoke_url: request.revoke_url.clone(),
            relay_url: request.relay.clone(),
            client_id: Some(request.client_id.clone()),
        };
        let fresh = FreshTokens::from(tokens);
        let (row_id, row_name, row_base, account) =
            (id.clone(), name.clone(), api_base.clone(), account.id);
        let provider_key = provider.key;
        let sealed_secret = request
            .client_secret
            .as_ref()
            .map(|secret| self.tokens().seal(secret));
        self.tokens()
            .store_new_with(
                &id,
                &request.client_id,
                &fresh,
                chrono::Utc::now(),
                move |tx| {
                    connections::insert(
                        tx,
                        &NewConnection {
                            id: &row_id,
                            provider: provider_key,
                            name: &row_name,
                            account_id: Some(&account),
                            api_base: &row_base,
                        },
                    )?;
                    connections::set_oauth(tx, &row_id, &details)?;
                    // Nothing is pulled from most of these providers yet (the payments,
                    // bookkeeping and calendar issues add it): a schedule would only record
                    // errors.
                    if !provider.pulls {
                        connections::set_sync_interval(tx, &row_id, None)?;
                    }
                    if let Some(secret) = &sealed_secret {
                        switchboard_store::secrets::put(tx, &row_id, CLIENT_SECRET, secret)?;
                    }
                    Ok(())
                },
            )
            .await?;
        blocking(&self.store, move |s| connections::find(&s.conn(), &id)).await
    }

    /// Signs a connection in again through the browser, keeping its row: its cursors,
    /// checkpoints, mappings and history stay, and its status returns to `connected`. When the
    /// user picks a different organisation or company than the connection's, nothing changes
    /// and the error says so, unless `switch_account` is set.
    pub async fn reconnect_oauth(
        &self,
        request: OAuthReconnect,
        open_browser: &OpenBrowser<'_>,
    ) -> Result<ConnectionView> {
        let c = self.find_connection(&request.connection).await?;
        let provider = catalogue::provider(&c.provider).ok_or_else(|| {
            errors::invalid(format!(
                "{} has an unknown provider `{}`.",
                c.name, c.provider
            ))
        })?;
        if provider.oauth.is_none() {
            return Err(errors::invalid(format!(
                "{} connects with a key, not a browser sign-in: reconnect it with its new key.",
                provider.display_name
            )));
        }
        let (details, grant, stored_secret) = self.stored_sign_in(&c.id).await?;
        let client_id = request
            .client_id
            .clone()
            .or(grant.map(|g| g.client_id))
            .or(details.client_id.clone())
            .ok_or_else(|| {
                errors::invalid(format!(
                    "Give the client ID of your {} app: this connection no longer has one.",
                    provider.display_name
                ))
            })?;
        let mut extra: Vec<&str> = match request.feature.as_deref() {
            Some(feature) => feature_grant(provider, feature)?.scopes.to_vec(),
            None => Vec::new(),
        };
        // A new sign-in's token holds only the scopes it asked for (Square, Xero): ask again
        // for what earlier incremental grants added, or reconnecting would take it away.
        let incremental = provider.oauth.map_or(&[][..], |o| o.incremental);
        for scope in incremental.iter().flat_map(|g| g.scopes) {
            if c.scopes.iter().any(|s| s == scope) && !extra.contains(scope) {
                extra.push(scope);
            }
        }
        let client_secret = match &request.client_secret {
            Some(secret) => Some(secret.clone()),
            None => stored_secret
                .map(|row| self.tokens().open(row))
                .transpose()?,
        };
        let client = self.client_for(
            provider,
            &c.api_base,
            [
                details.authorize_url.as_deref(),
                details.token_url.as_deref(),
                details.revoke_url.as_deref(),
            ],
            &client_id,
            client_secret,
            details.relay_url.as_deref(),
        )?;
        let (tokens, candidates) = self
            .sign_in(
                &SignIn {
                    provider,
                    client: &client,
                    api_base: &c.api_base,
                    extra_scopes: &extra,
                    redirect_port: request.redirect_port,
                    relay: details.relay_url.as_deref(),
                },
                open_browser,
            )
            .await?;
        let before = c.account_id.as_deref();
        let account = match before.and_then(|b| candidates.iter().find(|a| a.id == b)) {
            Some(same) => same.clone(),
            None => choose(provider, candidates, request.account.as_deref())?,
        };
        if let Some(before) = before.filter(|b| *b != account.id)
            && !request.switch_account
        {
            let was = Account {
                id: before.to_string(),
                name: c.account_name.clone(),
            };
            return Err(CommandError::new(
                ErrorCode::Conflict,
                format!(
                    "You chose {new} at {p}, but “{name}” is connected to {was}. Nothing was \
                     changed. Sign in again and choose {was}; or connect {new} as a new \
                     connection; or switch “{name}” to {new} (its history stays, and its next \
                     syncs read {new}).",
                    new = account.label(),
                    was = was.label(),
                    p = provider.display_name,
                    name = c.name,
                ),
            ));
        }

        let new_details = OAuthDetails {
            account_name: account.name.clone(),
            scopes: tokens.scopes.clone(),
            client_id: Some(client_id.clone()),
            ..details
        };
        let fresh = FreshTokens::from(tokens);
        let row_id = c.id.clone();
        let sealed_secret = request
            .client_secret
            .as_ref()
            .map(|secret| self.tokens().seal(secret));
        self.tokens()
            .store_new_with(&c.id, &client_id, &fresh, chrono::Utc::now(), move |tx| {
                connections::set_oauth(tx, &row_id, &new_details)?;
                connections::set_account(tx, &row_id, Some(&account.id), account.name.as_deref())?;
                if let Some(secret) = &sealed_secret {
                    switchboard_store::secrets::put(tx, &row_id, CLIENT_SECRET, secret)?;
                }
                Ok(())
            })
            .await?;
        tracing::info!(connection = %c.name, provider = provider.key, "reconnected");
        self.find_connection(&c.id).await
    }

    /// The catalogue's incremental grant for `feature` when the connection lacks any of its
    /// scopes (then the feature asks the user for it, with its reason, through
    /// `reconnect_oauth` with `feature`); `None` when everything is granted.
    pub async fn missing_scopes(
        &self,
        connection: &str,
        feature: &str,
    ) -> Result<Option<ScopeGrant>> {
        let c = self.find_connection(connection).await?;
        let provider = catalogue::provider(&c.provider)
            .ok_or_else(|| errors::invalid(format!("{} has an unknown provider.", c.name)))?;
        let grant = feature_grant(provider, feature)?;
        let missing = grant
            .scopes
            .iter()
            .any(|scope| !c.scopes.iter().any(|s| s == scope));
        Ok(missing.then_some(*grant))
    }

    /// The browser step: a loopback listener, the authorize URL handed to `open_browser`, the
    /// redirect (state checked), the code exchanged, and the accounts the grant reaches from
    /// the provider's identity endpoint (see `oauth_identity`).
    ///
    /// Through a relay the provider redirects to the relay's HTTPS callback, which sends the
    /// browser on to the loopback port named at the front of `state` (`{port}.{random}`); the
    /// provider never sees the port, so any free one does.
    async fn sign_in(
        &self,
        how: &SignIn<'_>,
        open_browser: &OpenBrowser<'_>,
    ) -> Result<(TokenSet, Vec<Account>)> {
        let SignIn {
            provider,
            client,
            api_base,
            extra_scopes,
            redirect_port,
            relay,
        } = *how;
        let info = client.info();
        let redirect = LoopbackRedirect {
            port: match relay {
                Some(_) => redirect_port,
                None => redirect_port.or(info.redirect.port),
            },
            ..info.redirect
        };
        let listener = LoopbackListener::bind(provider.display_name, &redirect).await?;
        let authorization = match relay {
            Some(relay) => client.authorization_with(
                &relay_endpoint(relay, provider.key, "callback"),
                extra_scopes,
                CsrfState::from_value(format!("{}.{}", listener.port(), CsrfState::new().expose())),
                Pkce::new(),
            ),
            None => client.authorization(listener.redirect_uri(), extra_scopes),
        };
        open_browser(authorization.url().as_str()).map_err(|e| {
            CommandError::new(
                ErrorCode::Internal,
                format!(
                    "The browser could not be opened ({e}). Open this address yourself: {}",
                    authorization.url()
                ),
            )
        })?;
        let callback = listener
            .wait(
                authorization.state(),
                info.redirect_params,
                APPROVAL_TIMEOUT,
            )
            .await?;
        let tokens = client.exchange(&authorization, &callback.code).await?;
        let accounts = self
            .identify(
                &IdentityRequest {
                    provider: provider.key,
                    api_base,
                    redirect: &callback.params,
                    client_id: client.client_id(),
                },
                &tokens,
            )
            .await?;
        Ok((tokens, accounts))
    }

    /// Refreshes a connection's access token if it expires within a few minutes (always, with
    /// `force`), and returns the connection's health. A refused grant marks the connection
    /// `needs_reconnect` and fails with `auth_failed`.
    pub async fn refresh_sign_in(
        &self,
        connection: &str,
        force: bool,
    ) -> Result<switchboard_core::views::ConnectionHealthView> {
        self.refresh_sign_in_at(connection, force, chrono::Utc::now())
            .await
    }

    async fn refresh_sign_in_at(
        &self,
        connection: &str,
        force: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<switchboard_core::views::ConnectionHealthView> {
        let c = self.find_connection(connection).await?;
        self.access_token_at(&c, now, force).await?;
        self.connection_health(&c.id).await
    }

    /// A valid access token for an OAuth connection's API calls, refreshed first when it is
    /// about to expire (or when `force` is set).
    pub(crate) async fn access_token_at(
        &self,
        c: &ConnectionView,
        now: chrono::DateTime<chrono::Utc>,
        force: bool,
    ) -> Result<SecretString> {
        let (client, scopes) = self.oauth_client(c).await?;
        let refresher = crate::tokens::ClientRefresher {
            client: &client,
            scopes,
        };
        let (token, _) = self
            .tokens()
            .access_token(&c.id, &refresher, now, force)
            .await?;
        Ok(token)
    }

    /// Keep-alive: refreshes each connected OAuth connection whose refresh token would lapse
    /// from disuse (Xero: 60 days unused) once two thirds of that time has passed. Returns the
    /// connections refreshed; a failure is logged (and a refused grant asks for a reconnect).
    pub async fn keep_sign_ins_alive(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
        let Ok(connections) = self.list_connections().await else {
            return Vec::new();
        };
        let mut refreshed = Vec::new();
        for c in connections
            .iter()
            .filter(|c| c.status == switchboard_core::views::ConnectionStatus::Connected)
        {
            let Some(lifetimes) = catalogue::provider(&c.provider)
                .and_then(|p| p.oauth)
                .map(|o| o.tokens)
            else {
                continue;
            };
            let id = c.id.clone();
            let grant = blocking(&self.store, move |s| {
                switchboard_store::oauth_grants::get(&s.conn(), &id)
            })
            .await;
            let Ok(Some(grant)) = grant else { continue };
            if !crate::tokens::keep_alive_due(&grant, &lifetimes, now) {
                continue;
            }
            match self.refresh_sign_in_at(&c.id, true, now).await {
                Ok(_) => refreshed.push(c.name.clone()),
                Err(e) => tracing::warn!(connection = %c.name, "keep-alive refresh: {e}"),
            }
        }
        refreshed
    }

    /// The OAuth client of a stored connection: its endpoints (overrides or the catalogue's),
    /// its client id and, when the user configured one, its client secret.
    pub(crate) async fn oauth_client(
        &self,
        c: &ConnectionView,
    ) -> Result<(OAuthClient, Vec<String>)> {
        let provider = catalogue::provider(&c.provider).ok_or_else(|| {
            errors::invalid(format!(
                "{} has an unknown provider `{}`.",
                c.name, c.provider
            ))
        })?;
        let (details, grant, secret) = self.stored_sign_in(&c.id).await?;
        let grant = grant.ok_or_else(|| {
            CommandError::new(
                ErrorCode::AuthFailed,
                format!("{} has no stored sign-in. Reconnect it.", c.name),
            )
        })?;
        let secret = secret.map(|row| self.tokens().open(row)).transpose()?;
        let client = self.client_for(
            provider,
            &c.api_base,
            [
                details.authorize_url.as_deref(),
                details.token_url.as_deref(),
                details.revoke_url.as_deref(),
            ],
            &grant.client_id,
            secret,
            details.relay_url.as_deref(),
        )?;
        Ok((client, details.scopes))
    }

    /// What a connection's sign-in left stored, read together: its OAuth details, its grant
    /// (gone after a disconnect) and its sealed client secret, if any.
    async fn stored_sign_in(
        &self,
        connection_id: &str,
    ) -> Result<(
        OAuthDetails,
        Option<switchboard_store::oauth_grants::Grant>,
        Option<switchboard_store::secrets::SecretRow>,
    )> {
        let id = connection_id.to_string();
        blocking(&self.store, move |s| {
            let conn = s.conn();
            Ok((
                connections::oauth_details(&conn, &id)?,
                switchboard_store::oauth_grants::get(&conn, &id)?,
                switchboard_store::secrets::get(&conn, &id, CLIENT_SECRET)?,
            ))
        })
        .await
    }

    /// The OAuth client of a provider for a connection: its endpoint overrides (authorize,
    /// token, revoke; the first two together) or the catalogue's (Mautic's paths joined onto
    /// its own URL), and its registration (a secret only where the user configured one).
    fn client_for(
        &self,
        provider: &ProviderInfo,
        api_base: &str,
        [authorize_url, token_url, revoke_url]: [Option<&str>; 3],
        client_id: &str,
        client_secret: Option<SecretString>,
        relay: Option<&str>,
    ) -> Result<OAuthClient> {
        let info = provider.oauth.ok_or_else(|| {
            errors::invalid(format!(
                "{} does not connect through a browser sign-in.",
                provider.display_name
            ))
        })?;
        let (endpoints, credentials) = match relay {
            // The relay holds the secret: token and revoke requests go to it, the browser
            // still goes to the provider's authorize URL.
            Some(relay) => {
                let authorize = match authorize_url {
                    Some(url) => url.to_string(),
                    None => Endpoints::resolve(info, Some(api_base))?
                        .authorize_url
                        .to_string(),
                };
                let revoke = (info.revoke_style != RevokeStyle::NotOffered)
                    .then(|| relay_endpoint(relay, provider.key, "revoke"));
                (
                    Endpoints::parse(
                        &authorize,
                        &relay_endpoint(relay, provider.key, "token"),
                        revoke.as_deref(),
                    )?,
                    Credentials::relayed(client_id),
                )
            }
            None => {
                let endpoints = match (authorize_url, token_url) {
                    (Some(authorize), Some(token)) => {
                        Endpoints::parse(authorize, token, revoke_url)?
                    }
                    (None, None) => Endpoints::resolve(info, Some(api_base))?,
                    _ => {
                        return Err(errors::invalid(
                            "Give both the authorize URL and the token URL, or neither.",
                        ));
                    }
                };
                let credentials = match client_secret {
                    Some(secret) => Credentials::with_secret(client_id, secret),
                    None => Credentials::public(client_id),
                };
                (endpoints, credentials)
            }
        };
        Ok(OAuthClient::new(
            provider.display_name,
            info,
            endpoints,
            credentials,
            self.client.clone(),
        ))
    }

    /// The token lifecycle of this workspace.
    pub(crate) fn tokens(&self) -> Tokens {
        Tokens {
            store: self.store.clone(),
            key: self.key.clone(),
            folder: self.folder.clone(),
        }
    }
}

/// The catalogue's incremental grant `feature` of `provider`.
fn feature_grant(provider: &ProviderInfo, feature: &str) -> Result<&'static ScopeGrant> {
    let grants = provider.oauth.map_or(&[][..], |o| o.incremental);
    grants.iter().find(|g| g.feature == feature).ok_or_else(|| {
        let known: Vec<&str> = grants.iter().map(|g| g.feature).collect();
        errors::invalid(if known.is_empty() {
            format!("{} asks for no further permissions.", provider.display_name)
        } else {
            format!(
                "{} has no feature `{feature}`; it has {}.",
                provider.display_name,
                known.join(", ")
            )
        })
    })
}

/// One of the relay's endpoints for a provider (`callback`, `token`, `revoke`).
fn relay_endpoint(relay: &str, provider: &str, endpoint: &str) -> String {
    format!(
        "{}/oauth/{provider}/{endpoint}",
        relay.trim_end_matches('/')
    )
}

/// The account to connect among those a sign-in reaches: the only one, or the one wanted.
fn choose(
    provider: &ProviderInfo,
    accounts: Vec<Account>,
    wanted: Option<&str>,
) -> Result<Account> {
    let kind = match provider.key {
        "xero" => "Xero organisation",
        "myob" => "MYOB company file",
        _ => "account",
    };
    crate::oauth_identity::choose(kind, accounts, wanted)
}

/// The sign-in configuration of `provider` from the environment: the client id
/// (`SWITCHBOARD_<PROVIDER>_CLIENT_ID`) and the auth relay (`SWITCHBOARD_<PROVIDER>_RELAY`),
/// where `<PROVIDER>` is the catalogue key in capitals (`GOOGLE_CALENDAR`). A distribution
/// sets these for its built-in registrations; a user sets them for their own developer app.
pub fn oauth_defaults(provider: &str) -> switchboard_core::views::OAuthDefaults {
    let var = |suffix: &str| {
        std::env::var(format!("SWITCHBOARD_{}_{suffix}", provider.to_uppercase()))
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    switchboard_core::views::OAuthDefaults {
        client_id: var("CLIENT_ID"),
        relay: var("RELAY"),
    }
}
