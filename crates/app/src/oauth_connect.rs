//! Connecting through OAuth: the system browser, a loopback redirect, the code exchange, the
//! account's identity from the provider, then the connection and its tokens stored together.
//!
//! Identity comes from each provider's own endpoint: Xero's `/connections` (one entry per
//! organisation the user allowed) and QuickBooks' company information (the realm id comes on
//! the redirect). The other OAuth providers follow.

use crate::tokens::{FreshTokens, Tokens};
use crate::workspace::Workspace;
use crate::{Result, errors, sync::blocking};
use std::time::Duration;
use switchboard_core::catalogue::{self, LoopbackRedirect, ProviderInfo};
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionView;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::oauth::{
    Credentials, Endpoints, LoopbackListener, OAuthClient, TokenSet,
};
use switchboard_store::connections::{self, NewConnection, OAuthDetails};

/// Secret purpose of the client secret a user configured for their own developer app.
const CLIENT_SECRET: &str = "oauth_client_secret";

/// How long the app waits for the user to approve in the browser.
const APPROVAL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

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
}

/// The account a grant reaches, as the provider names it.
struct Account {
    /// Xero tenant id, QuickBooks realm id.
    id: String,
    /// Organisation or company name.
    name: Option<String>,
}

/// A Xero organisation the grant reaches (`GET /connections`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct XeroTenant {
    tenant_id: String,
    tenant_name: Option<String>,
}

impl Workspace {
    /// Connects a provider through OAuth. `open_browser` is given the authorize URL (the
    /// desktop app opens the system browser; the CLI may print it instead).
    pub async fn connect_oauth(
        &self,
        request: OAuthConnect,
        open_browser: &(dyn Fn(&str) -> std::result::Result<(), String> + Send + Sync),
    ) -> Result<ConnectionView> {
        let provider = catalogue::provider(&request.provider).ok_or_else(|| {
            errors::invalid(format!("There is no provider `{}`.", request.provider))
        })?;
        let info = provider.oauth.ok_or_else(|| {
            errors::invalid(format!(
                "{} does not connect through a browser sign-in.",
                provider.display_name
            ))
        })?;
        if !["xero", "quickbooks"].contains(&provider.key) {
            return Err(errors::invalid(format!(
                "Connecting {} is not available yet.",
                provider.display_name
            )));
        }
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
        let api_base = request
            .api_base
            .clone()
            .unwrap_or_else(|| provider.api_base.to_string());
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
        )?;
        let redirect = LoopbackRedirect {
            port: request.redirect_port.or(info.redirect.port),
            ..info.redirect
        };
        let listener = LoopbackListener::bind(provider.display_name, &redirect).await?;
        let authorization = client.authorization(listener.redirect_uri(), &[]);
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
        let account = match provider.key {
            "quickbooks" => {
                self.quickbooks_company(&api_base, &tokens, &callback.params)
                    .await?
            }
            _ => {
                let tenant = self
                    .xero_tenant(&api_base, &tokens, request.tenant.as_deref())
                    .await?;
                Account {
                    id: tenant.tenant_id,
                    name: tenant.tenant_name,
                }
            }
        };

        let id = switchboard_store::new_id();
        let details = OAuthDetails {
            account_name: account.name.clone(),
            scopes: tokens.scopes.clone(),
            authorize_url: request.authorize_url.clone(),
            token_url: request.token_url.clone(),
            revoke_url: request.revoke_url.clone(),
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
                    // Nothing is pulled from accounting providers yet (the bookkeeping issue
                    // adds it): a schedule would only record "not available" errors.
                    connections::set_sync_interval(tx, &row_id, None)?;
                    if let Some(secret) = &sealed_secret {
                        switchboard_store::secrets::put(tx, &row_id, CLIENT_SECRET, secret)?;
                    }
                    Ok(())
                },
            )
            .await?;
        blocking(&self.store, move |s| connections::find(&s.conn(), &id)).await
    }

    /// The Xero organisation this grant is for: the only one, or the one the user named.
    async fn xero_tenant(
        &self,
        api_base: &str,
        tokens: &TokenSet,
        wanted: Option<&str>,
    ) -> Result<XeroTenant> {
        // `/connections` lives at the API host's root (https://api.xero.com/connections).
        let mut url = reqwest::Url::parse(api_base)
            .map_err(|e| errors::invalid(format!("`{api_base}` is not a URL: {e}")))?;
        url.set_path("/connections");
        url.set_query(None);
        let tenants: Vec<XeroTenant> = self
            .identity_get("Xero", url.as_str(), tokens, "its list of organisations")
            .await?;
        let label = |t: &XeroTenant| {
            format!(
                "{} ({})",
                t.tenant_name.as_deref().unwrap_or("unnamed"),
                t.tenant_id
            )
        };
        match (wanted, tenants.as_slice()) {
            (_, []) => Err(errors::invalid(
                "The sign-in did not allow any Xero organisation. Connect again and pick one.",
            )),
            (None, [only]) => Ok(only.clone()),
            (None, several) => Err(errors::invalid(format!(
                "This sign-in reaches several Xero organisations: {}. Choose one (by name or id).",
                several.iter().map(label).collect::<Vec<_>>().join(", ")
            ))),
            (Some(want), all) => all
                .iter()
                .find(|t| t.tenant_id == want || t.tenant_name.as_deref() == Some(want))
                .cloned()
                .ok_or_else(|| {
                    errors::invalid(format!(
                        "No organisation `{want}` in this sign-in; it reaches {}.",
                        all.iter().map(label).collect::<Vec<_>>().join(", ")
                    ))
                }),
        }
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
        let (client, scopes) = self.oauth_client(&c).await?;
        let refresher = crate::tokens::ClientRefresher {
            client: &client,
            scopes,
        };
        self.tokens()
            .access_token(&c.id, &refresher, now, force)
            .await?;
        self.connection_health(&c.id).await
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
    async fn oauth_client(&self, c: &ConnectionView) -> Result<(OAuthClient, Vec<String>)> {
        let provider = catalogue::provider(&c.provider).ok_or_else(|| {
            errors::invalid(format!(
                "{} has an unknown provider `{}`.",
                c.name, c.provider
            ))
        })?;
        let id = c.id.clone();
        let (details, grant, secret) = blocking(&self.store, move |s| {
            let conn = s.conn();
            Ok((
                connections::oauth_details(&conn, &id)?,
                switchboard_store::oauth_grants::get(&conn, &id)?,
                switchboard_store::secrets::get(&conn, &id, CLIENT_SECRET)?,
            ))
        })
        .await?;
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
        )?;
        Ok((client, details.scopes))
    }

    /// The QuickBooks company this grant is for: its realm id from the redirect, its name from
    /// `GET /v3/company/{realm}/companyinfo/{realm}`.
    async fn quickbooks_company(
        &self,
        api_base: &str,
        tokens: &TokenSet,
        redirect: &std::collections::BTreeMap<String, String>,
    ) -> Result<Account> {
        let realm = redirect.get("realmId").cloned().ok_or_else(|| {
            CommandError::new(
                ErrorCode::BadResponse,
                "Intuit did not say which QuickBooks company was chosen (no realmId). Connect \
                 again.",
            )
        })?;
        let url = format!(
            "{}/v3/company/{realm}/companyinfo/{realm}",
            api_base.trim_end_matches('/')
        );
        let info: serde_json::Value = self
            .identity_get(
                "QuickBooks",
                &url,
                tokens,
                "the chosen company's information",
            )
            .await?;
        let name = info["CompanyInfo"]["CompanyName"]
            .as_str()
            .map(str::to_string);
        Ok(Account { id: realm, name })
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
    ) -> Result<OAuthClient> {
        let info = provider.oauth.ok_or_else(|| {
            errors::invalid(format!(
                "{} does not connect through a browser sign-in.",
                provider.display_name
            ))
        })?;
        let endpoints = match (authorize_url, token_url) {
            (Some(authorize), Some(token)) => Endpoints::parse(authorize, token, revoke_url)?,
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
        Ok(OAuthClient::new(
            provider.display_name,
            info,
            endpoints,
            credentials,
            self.client.clone(),
        ))
    }

    /// One identity request right after the sign-in (`what` names what it fetches), as JSON.
    async fn identity_get<T: serde::de::DeserializeOwned>(
        &self,
        provider: &str,
        url: &str,
        tokens: &TokenSet,
        what: &str,
    ) -> Result<T> {
        let answer = self
            .client
            .get(url)
            .bearer_auth(tokens.access_token.expose())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| switchboard_providers::http::transport_error(provider, e))?;
        if !answer.status().is_success() {
            return Err(CommandError::new(
                ErrorCode::ProviderError,
                format!(
                    "{provider} did not send {what} (HTTP {}). Try connecting again.",
                    answer.status().as_u16()
                ),
            ));
        }
        answer.json().await.map_err(|e| {
            CommandError::new(
                ErrorCode::BadResponse,
                format!(
                    "{provider} sent {what} in a form Switchboard cannot read: {}",
                    e.without_url()
                ),
            )
        })
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
