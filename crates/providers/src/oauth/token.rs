//! The token endpoint: exchange a code, refresh, revoke (RFC 6749 sections 4.1.3, 5, 6;
//! RFC 7009).
//!
//! Written by hand over our reqwest client rather than with a generic OAuth client, because
//! the providers differ in ways such clients do not cover: Square wants JSON bodies, answers
//! `expires_at` (RFC 3339) instead of `expires_in` and revokes with `Authorization: Client
//! <secret>`; Intuit revokes with a JSON body; MYOB sends `expires_in` as a string; Google
//! does not rotate refresh tokens. Each difference is a field of [`OAuthInfo`], read here.
//! Requests go through `http::execute_guarded`, so they reach the request log (never with a
//! body) under the connection's breaker and rate limit. No token, code, verifier or secret
//! ever goes into an error message, a log line or `Debug` output.

use super::OAuthClient;
use super::authorize::Authorization;
use crate::http::{self, Exchange, transport_error};
use crate::{ProviderError, ProviderErrorKind};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};
use switchboard_core::catalogue::{ClientAuth, OAuthInfo, RevokeStyle, TokenBody};
use switchboard_core::secret::SecretString;
use url::Url;

/// The header our logs take a request id from. Token endpoints rarely send one; this is the
/// common name.
const REQUEST_ID_HEADER: &str = "x-request-id";
/// The longest provider-supplied text repeated in an error message.
const MAX_PROVIDER_TEXT: usize = 200;
/// Lifetimes longer than this are treated as nonsense (and the documented one is used).
const MAX_LIFETIME_SECS: i64 = 10 * 366 * 24 * 60 * 60;

/// Which token a revocation names (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }
}

/// What a token endpoint granted. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// The refresh token of this answer. After a refresh, `None` means the provider did not
    /// send a new one (Google never rotates): keep using the refresh token you have. `Some`
    /// replaces it, at once and durably, since rotating providers invalidate the old one.
    pub refresh_token: Option<SecretString>,
    /// The OpenID Connect ID token, when `openid` was asked for.
    pub id_token: Option<SecretString>,
    /// When the access token expires: from `expires_in`, or Square's `expires_at`, or else
    /// the documented lifetime (`OAuthInfo::tokens.access_token_secs`) from when the request
    /// was sent.
    pub expires_at: DateTime<Utc>,
    /// When the refresh token expires, where the answer says (Intuit's
    /// `x_refresh_token_expires_in`, Square's `refresh_token_expires_at`).
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The granted scopes; the requested ones when the answer does not list them (RFC 6749
    /// section 5.1: then they are the same).
    pub scopes: Vec<String>,
    /// `Bearer` unless the provider said otherwise.
    pub token_type: String,
    /// The answer's other fields, none of them secret (Square's `merchant_id`, Intuit's
    /// `x_refresh_token_expires_in`); fields that look like tokens or secrets are left out.
    pub extra: Map<String, Value>,
}

/// Whether `error` means the grant is gone and the user must connect again (a refresh or
/// code refused with `invalid_grant`), as opposed to a problem with the app's configuration.
pub fn needs_reconnect(error: &ProviderError) -> bool {
    error.kind == ProviderErrorKind::Auth
        && error
            .provider_code
            .as_deref()
            .is_some_and(|code| GRANT_REFUSED.contains(&code))
}

/// Error codes with which a token endpoint refuses a code or refresh token for good: RFC 6749's
/// `invalid_grant`, and Square's 401 `service.not_authorized` (its OAuth error shape, `type`).
const GRANT_REFUSED: &[&str] = &["invalid_grant", "service.not_authorized"];

/// What a request to the token endpoint is for (it changes the messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Code,
    Refresh,
    Revoke,
}

/// Parameters of a token or revoke request, in order.
type Params = Vec<(&'static str, String)>;

impl OAuthClient {
    /// Exchanges the code from the redirect (with this sign-in's PKCE verifier and redirect
    /// URI) for tokens.
    pub async fn exchange(
        &self,
        authorization: &Authorization,
        code: &SecretString,
    ) -> Result<TokenSet, ProviderError> {
        let verifier = authorization.pkce().verifier();
        let params: Params = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.expose().into()),
            ("redirect_uri", authorization.redirect_uri().into()),
            ("code_verifier", verifier.expose().into()),
        ];
        let secrets = [code.expose(), verifier.expose()];
        self.token_request(Grant::Code, params, &secrets, authorization.scopes())
            .await
    }

    /// A new access token for `refresh_token`. `current_scopes` are the grant's scopes as
    /// stored, kept when the answer does not list them. If the answer carries no refresh
    /// token (`TokenSet::refresh_token` is `None`), keep the one you have.
    pub async fn refresh(
        &self,
        refresh_token: &SecretString,
        current_scopes: &[String],
    ) -> Result<TokenSet, ProviderError> {
        let params: Params = vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh_token.expose().into()),
        ];
        self.token_request(
            Grant::Refresh,
            params,
            &[refresh_token.expose()],
            current_scopes,
        )
        .await
    }

    /// Revokes `token` the provider's way. Where the provider offers no revocation this
    /// succeeds without a request (the caller still deletes its copy). A token the provider
    /// already considers invalid counts as revoked.
    pub async fn revoke(&self, token: &SecretString, kind: TokenKind) -> Result<(), ProviderError> {
        let style = self.info.revoke_style;
        if style == RevokeStyle::NotOffered {
            tracing::debug!(provider = %self.provider, "no token revocation offered; skipped");
            return Ok(());
        }
        let Some(url) = self.endpoints.revoke_url.clone() else {
            return Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!(
                    "No revocation address is set for {}; Switchboard cannot revoke its access \
                     there. Remove Switchboard from the connected apps in your {} account.",
                    self.provider, self.provider
                ),
            ));
        };
        // The relay takes an RFC 7009 form and revokes the provider's way with its secret.
        let style = if self.credentials.via_relay {
            RevokeStyle::Rfc7009
        } else {
            style
        };
        let request = match style {
            RevokeStyle::Rfc7009 => {
                let mut params: Params = vec![
                    ("token", token.expose().into()),
                    ("token_type_hint", kind.hint().into()),
                ];
                let authorization = self.client_auth(&mut params)?;
                self.build(url, params, TokenBody::Form, authorization)?
            }
            RevokeStyle::SquareClientHeader => {
                if kind != TokenKind::Access {
                    return Err(ProviderError::new(
                        ProviderErrorKind::InvalidRequest,
                        format!(
                            "{} revokes by access token, not refresh token.",
                            self.provider
                        ),
                    ));
                }
                let secret = self.revoke_secret()?;
                let params: Params = vec![
                    ("client_id", self.credentials.client_id.clone()),
                    ("access_token", token.expose().into()),
                ];
                let header = format!("Client {}", secret.expose());
                self.build(url, params, TokenBody::Json, Some(header))?
            }
            RevokeStyle::IntuitJson => {
                let secret = self.revoke_secret()?;
                let params: Params = vec![("token", token.expose().into())];
                let header = basic_auth(&self.credentials.client_id, secret.expose());
                self.build(url, params, TokenBody::Json, Some(header))?
            }
            RevokeStyle::NotOffered => unreachable!("handled above"),
        };
        let answer = self.send(request).await?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let secrets = [token.expose()];
        let error = error_from_answer(&self.provider, Grant::Revoke, &answer, &secrets);
        let gone = matches!(
            error.provider_code.as_deref(),
            Some("invalid_token" | "invalid_grant")
        );
        if answer.status == 400 && gone {
            // Google answers 400 invalid_token for a token already revoked or expired: there
            // is nothing left to revoke.
            return Ok(());
        }
        Err(error)
    }

    /// Revokes a whole grant with the token the provider's style needs: the refresh token
    /// where there is one (revoking it ends the grant at Google, Xero and Intuit), the access
    /// token at Square.
    pub async fn revoke_grant(
        &self,
        access_token: Option<&SecretString>,
        refresh_token: Option<&SecretString>,
    ) -> Result<(), ProviderError> {
        let choice = match self.info.revoke_style {
            RevokeStyle::SquareClientHeader => access_token.map(|t| (t, TokenKind::Access)),
            _ => refresh_token
                .map(|t| (t, TokenKind::Refresh))
                .or_else(|| access_token.map(|t| (t, TokenKind::Access))),
        };
        match choice {
            Some((token, kind)) => self.revoke(token, kind).await,
            None => Ok(()),
        }
    }

    /// Sends a grant to the token endpoint and reads the answer.
    async fn token_request(
        &self,
        grant: Grant,
        mut params: Params,
        secrets: &[&str],
        requested_scopes: &[String],
    ) -> Result<TokenSet, ProviderError> {
        let authorization = self.client_auth(&mut params)?;
        let request = self.build(
            self.endpoints.token_url.clone(),
            params,
            self.info.token_body,
            authorization,
        )?;
        let sent_at = Utc::now();
        let answer = self.send(request).await?;
        tracing::debug!(provider = %self.provider, ?grant, status = answer.status, "token endpoint answered");
        if !(200..300).contains(&answer.status) {
            return Err(error_from_answer(&self.provider, grant, &answer, secrets));
        }
        let parsed = parse_token_set(
            &self.provider,
            &self.info,
            &answer.body,
            sent_at,
            requested_scopes,
        );
        match parsed {
            Ok(tokens) => Ok(tokens),
            Err(Unusable::Error) => Err(error_from_answer(&self.provider, grant, &answer, secrets)),
            Err(Unusable::Bad(message)) => {
                let mut err = ProviderError::new(ProviderErrorKind::BadResponse, message);
                err.http_status = Some(answer.status);
                err.request_id = answer.request_id;
                Err(err)
            }
        }
    }

    /// Adds the client's credentials the way the catalogue says: to the body, or as the
    /// `Authorization` header value returned.
    fn client_auth(&self, params: &mut Params) -> Result<Option<String>, ProviderError> {
        let id = &self.credentials.client_id;
        if self.credentials.via_relay {
            // The relay replaces the id and adds the secret the provider's way.
            params.push(("client_id", id.clone()));
            return Ok(None);
        }
        match self.info.client_auth {
            ClientAuth::None => {
                params.push(("client_id", id.clone()));
                Ok(None)
            }
            ClientAuth::SecretPost => {
                let secret = self.token_secret()?;
                params.push(("client_id", id.clone()));
                params.push(("client_secret", secret.expose().into()));
                Ok(None)
            }
            ClientAuth::SecretBasic => {
                let secret = self.token_secret()?;
                Ok(Some(basic_auth(id, secret.expose())))
            }
        }
    }

    /// The client secret the token endpoint needs.
    fn token_secret(&self) -> Result<&SecretString, ProviderError> {
        self.credentials.client_secret.as_ref().ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Auth,
                format!(
                    "{p} needs the client secret of your {p} app, and none is set: give it when \
                     connecting or reconnecting (or sign in through an auth relay that holds it).",
                    p = self.provider
                ),
            )
        })
    }

    /// The client secret a revocation needs (Square, Intuit).
    fn revoke_secret(&self) -> Result<&SecretString, ProviderError> {
        self.credentials.client_secret.as_ref().ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!(
                    "{p} only lets an app revoke its access with the app's client secret, which \
                     this connection does not have. To end Switchboard's access now, remove it \
                     from the connected apps in your {p} account.",
                    p = self.provider
                ),
            )
        })
    }

    /// A POST with `params` as the catalogue's body encoding.
    fn build(
        &self,
        url: Url,
        params: Params,
        body: TokenBody,
        authorization: Option<String>,
    ) -> Result<reqwest::Request, ProviderError> {
        let mut builder = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(value) = authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        builder = match body {
            TokenBody::Form => builder.form(&params),
            TokenBody::Json => {
                let object: Map<String, Value> = params
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Value::String(v)))
                    .collect();
                builder.json(&object)
            }
        };
        builder
            .build()
            .map_err(|e| transport_error(&self.provider, e))
    }

    async fn send(&self, request: reqwest::Request) -> Result<Exchange, ProviderError> {
        http::execute_guarded(
            &self.http,
            request,
            &self.provider,
            REQUEST_ID_HEADER,
            self.request_sink.as_ref(),
            self.guard.as_ref(),
        )
        .await
    }
}

/// `Basic` credentials as RFC 6749 section 2.3.1 says: id and secret form-encoded, then
/// joined with `:` and base64-encoded (the same as plain Basic for the usual characters).
fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Why a 2xx answer gave no tokens.
#[derive(Debug)]
enum Unusable {
    /// It was an error body after all (`{"error": …}` with 200).
    Error,
    /// Unreadable or incomplete: the message says so.
    Bad(String),
}

/// Reads a token answer. `sent_at` anchors relative lifetimes (it is a little early, so the
/// token is refreshed a little early, never late).
fn parse_token_set(
    provider: &str,
    info: &OAuthInfo,
    body: &[u8],
    sent_at: DateTime<Utc>,
    requested_scopes: &[String],
) -> Result<TokenSet, Unusable> {
    // Parsed as a `Value` first: serde's messages for a wrongly typed value quote the value,
    // and a bare string here would be a token.
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Unusable::Bad(format!(
            "{provider} sent an unreadable token answer (truncated or not JSON: {e})."
        ))
    })?;
    let Value::Object(mut map) = value else {
        return Err(Unusable::Bad(format!(
            "{provider} sent a token answer that is not a JSON object."
        )));
    };
    if map.get("error").is_some_and(|e| !e.is_null()) {
        return Err(Unusable::Error);
    }
    let access_token = take_string(&mut map, "access_token").ok_or_else(|| {
        Unusable::Bad(format!(
            "{provider} answered the sign-in without an access token."
        ))
    })?;
    let refresh_token = take_string(&mut map, "refresh_token").map(SecretString::new);
    let id_token = take_string(&mut map, "id_token").map(SecretString::new);
    let token_type = take_string(&mut map, "token_type").unwrap_or_else(|| "Bearer".into());
    let expires_in = map.remove("expires_in").as_ref().and_then(seconds);
    let expires_at_field = map.remove("expires_at").as_ref().and_then(timestamp);
    let documented = TimeDelta::seconds(i64::from(info.tokens.access_token_secs));
    let expires_at = match (expires_in, expires_at_field) {
        (Some(secs), _) => sent_at + TimeDelta::seconds(secs),
        (None, Some(at)) => at,
        (None, None) => sent_at + documented,
    };
    let refresh_expires_at = ["x_refresh_token_expires_in", "refresh_token_expires_in"]
        .iter()
        .find_map(|k| map.get(*k).and_then(seconds))
        .map(|secs| sent_at + TimeDelta::seconds(secs))
        .or_else(|| map.get("refresh_token_expires_at").and_then(timestamp));
    let scopes = match map.remove("scope").or_else(|| map.remove("scopes")) {
        Some(Value::String(s)) => split_scopes(&s),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let scopes = if scopes.is_empty() {
        requested_scopes.to_vec()
    } else {
        scopes
    };
    map.retain(|key, _| !looks_secret(key));
    Ok(TokenSet {
        access_token: SecretString::new(access_token),
        refresh_token,
        id_token,
        expires_at,
        refresh_expires_at,
        scopes,
        token_type,
        extra: map,
    })
}

/// A non-empty string field, removed from the map.
fn take_string(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// A lifetime in seconds: a number or a numeric string (MYOB sends `"1200"`), within reason.
fn seconds(value: &Value) -> Option<i64> {
    let secs = match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }?;
    (0..=MAX_LIFETIME_SECS).contains(&secs).then_some(secs)
}

/// An RFC 3339 time (Square's `expires_at`).
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Scopes as RFC 6749 lists them (space-separated); commas are tolerated.
fn split_scopes(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Fields kept out of `TokenSet::extra` because they may hold a credential.
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("token") || key.contains("secret") || key.contains("password")
}

/// An error answer from the token or revoke endpoint, as a [`ProviderError`] whose kind says
/// what to do: `invalid_grant` means reconnect ([`needs_reconnect`]), `invalid_client` means
/// fix the app's credentials, 429/5xx are worth retrying.
fn error_from_answer(
    provider: &str,
    grant: Grant,
    answer: &Exchange,
    secrets: &[&str],
) -> ProviderError {
    let (code, description) = error_fields(&answer.body);
    let said = description
        .map(|d| redact(&d, secrets))
        .filter(|d| !d.is_empty())
        .map(|d| format!(" {provider} said: “{d}”"))
        .unwrap_or_default();
    let status = answer.status;
    let code_lower = code.as_deref().unwrap_or_default().to_ascii_lowercase();
    let (kind, message) = if status == 429 {
        (
            ProviderErrorKind::RateLimited,
            format!("{provider} asked Switchboard to slow down; it will try again shortly.{said}"),
        )
    } else if status >= 500 {
        (
            ProviderErrorKind::Server,
            format!(
                "{provider}'s sign-in service failed (HTTP {status}); Switchboard will try \
                 again.{said}"
            ),
        )
    } else if code_lower.contains("invalid_grant")
        || (grant != Grant::Revoke && GRANT_REFUSED.contains(&code_lower.as_str()))
    {
        let what = match grant {
            Grant::Code => format!(
                "{provider} did not accept the sign-in code (it may have expired or been used \
                 already). Start connecting again."
            ),
            Grant::Refresh | Grant::Revoke => format!(
                "{provider} no longer accepts Switchboard's access: it was revoked, lapsed \
                 after a long time unused, or was replaced by a newer sign-in. Reconnect \
                 {provider} to continue."
            ),
        };
        (ProviderErrorKind::Auth, format!("{what}{said}"))
    } else if code_lower.contains("invalid_client") || code_lower.contains("unauthorized_client") {
        (
            ProviderErrorKind::Auth,
            format!(
                "{provider} did not accept Switchboard's client ID or secret. Check the client \
                 ID and secret set for {provider} in Switchboard's settings: they must be \
                 those of the app registered with {provider}.{said}"
            ),
        )
    } else if status == 401 || status == 403 {
        (
            ProviderErrorKind::Auth,
            format!(
                "{provider} refused Switchboard's credentials (HTTP {status}). Reconnect \
                 {provider}; if that does not help, check the client ID and secret in \
                 Switchboard's settings.{said}"
            ),
        )
    } else if (400..500).contains(&status) {
        let code_text = code
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        (
            ProviderErrorKind::InvalidRequest,
            format!("{provider} refused the request{code_text}.{said}"),
        )
    } else {
        (
            ProviderErrorKind::BadResponse,
            format!("{provider} answered the token request with an error (HTTP {status}).{said}"),
        )
    };
    let mut err = ProviderError::new(kind, message);
    err.provider_code = code;
    err.http_status = Some(status);
    err.request_id = answer.request_id.clone();
    err.retry_after_secs = answer.retry_after_secs;
    err
}

/// The error code and description of an error body: RFC 6749 section 5.2
/// (`error`, `error_description`), Square's (`errors[0].code`, `.detail`) or its older OAuth
/// shape (`type`, `message`).
fn error_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(provider_text);
    let first = map
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let code = text(map.get("error"))
        .or_else(|| text(first.and_then(|e| e.get("code"))))
        .or_else(|| text(map.get("type")))
        .filter(|c| !c.is_empty());
    let description = text(map.get("error_description"))
        .or_else(|| text(first.and_then(|e| e.get("detail"))))
        .or_else(|| text(map.get("message")));
    (code, description)
}

/// Provider text made safe to repeat: no control characters, bounded length.
fn provider_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PROVIDER_TEXT)
        .collect();
    clean.trim().to_string()
}

/// `text` with every secret we sent cut out (a provider may quote the code it refused).
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::catalogue::provider;

    fn info(key: &str) -> OAuthInfo {
        *provider(key).unwrap().oauth.unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn parse(key: &str, body: &str) -> TokenSet {
        parse_token_set(
            "P",
            &info(key),
            body.as_bytes(),
            at("2026-01-01T00:00:00Z"),
            &["a".into(), "b".into()],
        )
        .unwrap()
    }

    #[test]
    fn expires_in_as_number_or_string() {
        let t = parse(
            "xero",
            r#"{"access_token":"at","expires_in":1800,"token_type":"Bearer","refresh_token":"rt","scope":"openid offline_access"}"#,
        );
        assert_eq!(t.expires_at, at("2026-01-01T00:30:00Z"));
        assert_eq!(t.scopes, vec!["openid", "offline_access"]);
        assert_eq!(t.refresh_token.unwrap().expose(), "rt");
        let myob = parse("myob", r#"{"access_token":"at","expires_in":"1200"}"#);
        assert_eq!(myob.expires_at, at("2026-01-01T00:20:00Z"));
        assert_eq!(myob.token_type, "Bearer");
    }

    #[test]
    fn square_expires_at_and_extra_fields() {
        let t = parse(
            "square",
            r#"{"access_token":"EAAA","token_type":"bearer","expires_at":"2026-01-31T00:00:00Z",
                "merchant_id":"ML1","refresh_token":"EQAA","short_lived":false,
                "refresh_token_expires_at":"2026-04-01T00:00:00Z"}"#,
        );
        assert_eq!(t.expires_at, at("2026-01-31T00:00:00Z"));
        assert_eq!(t.refresh_expires_at, Some(at("2026-04-01T00:00:00Z")));
        assert_eq!(t.extra["merchant_id"], "ML1");
        assert_eq!(t.token_type, "bearer");
        // No scope in the answer: the requested ones.
        assert_eq!(t.scopes, vec!["a", "b"]);
    }

    #[test]
    fn documented_lifetime_when_the_answer_has_none() {
        let t = parse("google_calendar", r#"{"access_token":"ya29"}"#);
        assert_eq!(t.expires_at, at("2026-01-01T00:59:59Z"));
        let nonsense = parse(
            "google_calendar",
            r#"{"access_token":"ya29","expires_in":-5}"#,
        );
        assert_eq!(nonsense.expires_at, at("2026-01-01T00:59:59Z"));
    }

    #[test]
    fn intuit_refresh_lifetime_is_read_and_kept_in_extra() {
        let t = parse(
            "quickbooks",
            r#"{"access_token":"x","expires_in":3600,"x_refresh_token_expires_in":8640000,"refresh_token":"r"}"#,
        );
        assert_eq!(t.refresh_expires_at, Some(at("2026-04-11T00:00:00Z")));
        assert_eq!(t.extra["x_refresh_token_expires_in"], 8640000);
    }

    #[test]
    fn secret_looking_fields_stay_out_of_extra_and_debug() {
        let t = parse(
            "xero",
            r#"{"access_token":"AT-SECRET","refresh_token":"RT-SECRET","id_token":"ID-SECRET",
                "session_token":"S-SECRET","client_secret":"C-SECRET","tenant":"t1"}"#,
        );
        let shown = format!("{t:?}");
        for s in [
            "AT-SECRET",
            "RT-SECRET",
            "ID-SECRET",
            "S-SECRET",
            "C-SECRET",
        ] {
            assert!(!shown.contains(s), "{s} in {shown}");
        }
        assert_eq!(t.extra.len(), 1);
        assert_eq!(t.id_token.unwrap().expose(), "ID-SECRET");
    }

    #[test]
    fn unusable_answers_never_quote_the_body() {
        let bad = |body: &str| {
            parse_token_set("P", &info("xero"), body.as_bytes(), Utc::now(), &[]).unwrap_err()
        };
        for body in [
            r#""TOKENVALUE""#,
            r#"{"token_type":"Bearer"}"#,
            "TOKENVALUE",
            "{\"a\":",
        ] {
            let Unusable::Bad(message) = bad(body) else {
                panic!("{body}")
            };
            assert!(!message.contains("TOKENVALUE"), "{message}");
        }
        assert!(matches!(
            bad(r#"{"error":"invalid_grant"}"#),
            Unusable::Error
        ));
    }

    #[test]
    fn basic_auth_form_encodes_then_base64s() {
        assert_eq!(basic_auth("id", "secret"), "Basic aWQ6c2VjcmV0");
        // "a b:c/d" → "a+b:c%2Fd"
        assert_eq!(basic_auth("a b", "c/d"), "Basic YStiOmMlMkZk");
    }

    fn answer(status: u16, body: &str) -> Exchange {
        Exchange {
            status,
            request_id: Some("req-1".into()),
            retry_after_secs: Some(7),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn a_refused_square_refresh_token_means_reconnect() {
        let e = error_from_answer(
            "Square",
            Grant::Refresh,
            &answer(
                401,
                r#"{"message":"The refresh token is invalid.","type":"service.not_authorized"}"#,
            ),
            &[],
        );
        assert!(needs_reconnect(&e), "{e:?}");
        assert!(e.message.contains("Reconnect Square"), "{}", e.message);
    }

    #[test]
    fn error_bodies_map_to_kinds() {
        let e = error_from_answer(
            "Xero",
            Grant::Refresh,
            &answer(
                400,
                r#"{"error":"invalid_grant","error_description":"Token expired"}"#,
            ),
            &[],
        );
        assert!(needs_reconnect(&e));
        assert!(e.message.contains("Reconnect Xero"), "{}", e.message);
        assert!(!e.is_transient());
        let e = error_from_answer(
            "Xero",
            Grant::Code,
            &answer(401, r#"{"error":"invalid_client"}"#),
            &[],
        );
        assert_eq!(e.kind, ProviderErrorKind::Auth);
        assert!(!needs_reconnect(&e));
        assert!(e.message.contains("client ID"));
        let e = error_from_answer("Xero", Grant::Refresh, &answer(429, ""), &[]);
        assert_eq!(
            (e.kind, e.retry_after_secs),
            (ProviderErrorKind::RateLimited, Some(7))
        );
        assert!(e.is_transient());
        let e = error_from_answer("Xero", Grant::Refresh, &answer(503, "<html>"), &[]);
        assert!(e.is_transient());
        let e = error_from_answer(
            "Square",
            Grant::Code,
            &answer(
                400,
                r#"{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"BAD_REQUEST","detail":"nope"}]}"#,
            ),
            &[],
        );
        assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
        assert_eq!(e.provider_code.as_deref(), Some("BAD_REQUEST"));
        assert!(e.message.contains("nope"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn quoted_secrets_are_cut_from_messages() {
        let e = error_from_answer(
            "Mautic",
            Grant::Code,
            &answer(
                400,
                r#"{"error":"invalid_grant","error_description":"Code 'sekret-code-123' expired"}"#,
            ),
            &["sekret-code-123"],
        );
        assert!(!e.message.contains("sekret-code-123"), "{}", e.message);
        assert!(e.message.contains("[redacted]"));
    }
}
