//! The token endpoint: client authentication, code exchange, refresh, and the answers.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::profiles::{ClientAuth, ErrorStyle, Expiry, RefreshReport, TokenBody};
use super::util::{self, Params, json_response, ms, split_scopes};
use super::{AccessToken, FakeState, Grant, Inner, RefreshToken};

impl Inner {
    /// An error answer in the provider's shape (not counted).
    pub(crate) fn oauth_error(&self, error: &str, description: &str, basic_used: bool) -> Response {
        match self.profile.errors {
            ErrorStyle::Rfc6749 { describe } => {
                let status = if error == "invalid_client" {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                };
                let mut body = json!({ "error": error });
                if describe {
                    body["error_description"] = json!(description);
                }
                let mut response = json_response(status, &body);
                if status == StatusCode::UNAUTHORIZED && basic_used {
                    let realm = format!("Basic realm=\"{}\"", self.profile.name);
                    if let Ok(v) = HeaderValue::from_str(&realm) {
                        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                    }
                }
                response
            }
            ErrorStyle::Square => {
                let malformed = matches!(
                    error,
                    "invalid_request" | "unsupported_grant_type" | "invalid_scope"
                );
                let (status, kind) = if malformed {
                    (StatusCode::BAD_REQUEST, "bad_request")
                } else {
                    (StatusCode::UNAUTHORIZED, "service.not_authorized")
                };
                json_response(status, &json!({ "message": description, "type": kind }))
            }
        }
    }

    /// A token endpoint refusal, counted by error code.
    fn token_error(
        &self,
        st: &mut FakeState,
        error: &'static str,
        description: &str,
        basic_used: bool,
    ) -> Response {
        *st.counters
            .token_errors
            .entry(error.to_string())
            .or_default() += 1;
        self.oauth_error(error, description, basic_used)
    }

    fn body_params(&self, headers: &HeaderMap, body: &[u8]) -> Result<Params, String> {
        let media = util::content_type(headers);
        match self.profile.token_body {
            TokenBody::Form if media == "application/x-www-form-urlencoded" => {
                Params::from_form(body)
            }
            TokenBody::Json if media == "application/json" => Params::from_json(body),
            TokenBody::Form => Err(format!(
                "the body must be application/x-www-form-urlencoded, not `{media}`"
            )),
            TokenBody::Json => Err(format!("the body must be application/json, not `{media}`")),
        }
    }

    /// Checks the client's credentials the profile's way.
    pub(crate) fn authenticate_client(
        &self,
        params: &Params,
        basic: Option<&(String, String)>,
    ) -> Result<(), &'static str> {
        let id_ok = |id: &str| id == self.client_id;
        let secret_ok = |s: &str| self.client_secret.as_deref() == Some(s);
        let body_id = params.get("client_id");
        match self.profile.client_auth {
            ClientAuth::SecretBasic => {
                let (id, secret) = basic.ok_or("client authentication (HTTP Basic) is missing")?;
                (id_ok(id) && secret_ok(secret) && body_id.is_none_or(id_ok))
                    .then_some(())
                    .ok_or("client authentication failed")
            }
            ClientAuth::SecretPost => {
                let (id, secret) = match basic {
                    Some((id, secret)) => (id.as_str(), secret.as_str()),
                    None => (
                        body_id.ok_or("client_id is missing")?,
                        params
                            .get("client_secret")
                            .ok_or("client_secret is missing")?,
                    ),
                };
                (id_ok(id) && secret_ok(secret) && body_id.is_none_or(id_ok))
                    .then_some(())
                    .ok_or("client authentication failed")
            }
            ClientAuth::Public => {
                let id = body_id
                    .or(basic.map(|(id, _)| id.as_str()))
                    .ok_or("client_id is missing")?;
                id_ok(id).then_some(()).ok_or("unknown client_id")
            }
            ClientAuth::PublicOrSecret => {
                let id = body_id.ok_or("client_id is missing")?;
                let secret = params.get("client_secret").is_none_or(secret_ok);
                (id_ok(id) && secret)
                    .then_some(())
                    .ok_or("client authentication failed")
            }
        }
    }

    /// `POST token`.
    pub(crate) fn token(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let mut st = self.state();
        let params = match self.body_params(headers, body) {
            Ok(params) => params,
            Err(message) => {
                *st.counters
                    .token_requests
                    .entry("(unreadable)".into())
                    .or_default() += 1;
                return self.token_error(&mut st, "invalid_request", &message, false);
            }
        };
        let grant_type = params.get("grant_type").unwrap_or("(none)").to_string();
        *st.counters
            .token_requests
            .entry(grant_type.clone())
            .or_default() += 1;
        if grant_type == "refresh_token"
            && let Some(token) = params.get("refresh_token")
        {
            *st.counters
                .refresh_token_uses
                .entry(token.to_string())
                .or_default() += 1;
        }
        if let Some(name) = params.repeated() {
            let message = format!("`{name}` is repeated");
            return self.token_error(&mut st, "invalid_request", &message, false);
        }
        let basic = util::basic_credentials(headers);
        if let Err(message) = self.authenticate_client(&params, basic.as_ref()) {
            return self.token_error(&mut st, "invalid_client", message, basic.is_some());
        }
        match grant_type.as_str() {
            "authorization_code" => self.exchange(&mut st, &params),
            "refresh_token" => self.refresh(&mut st, &params),
            "(none)" => {
                self.token_error(&mut st, "invalid_request", "grant_type is missing", false)
            }
            other => {
                let message = format!("grant_type `{other}` is not supported");
                self.token_error(&mut st, "unsupported_grant_type", &message, false)
            }
        }
    }

    fn exchange(&self, st: &mut FakeState, params: &Params) -> Response {
        let now = self.now_ms(st);
        let Some(code) = params.get("code") else {
            return self.token_error(st, "invalid_request", "code is missing", false);
        };
        let Some(c) = st.codes.get_mut(code) else {
            return self.token_error(
                st,
                "invalid_grant",
                "The authorization code is unknown.",
                false,
            );
        };
        // Single use: any attempt burns the code, whatever else is wrong with it.
        let used = std::mem::replace(&mut c.used, true);
        let expires_ms = c.expires_ms;
        let offline = c.offline;
        let redirect_uri = c.redirect_uri.clone();
        let challenge = c.challenge.clone();
        let scopes = c.scopes.clone();
        let auth_event_id = c.auth_event_id.clone();
        if used {
            let message = "The authorization code was already used.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        if now >= expires_ms {
            let message = "The authorization code has expired.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        if let Some(expected) = &redirect_uri
            && params.get("redirect_uri") != Some(expected.as_str())
        {
            let message = "redirect_uri does not match the one of the authorization request.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        let Some(verifier) = params.get("code_verifier") else {
            return self.token_error(st, "invalid_request", "code_verifier is missing", false);
        };
        if !util::valid_verifier(verifier) || util::s256(verifier) != challenge {
            let message = "The code_verifier does not match the code_challenge.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        let short_lived = self.profile.key == "square" && params.get("short_lived") == Some("true");
        let grant = st.grants.len();
        st.grants.push(Grant {
            scopes: scopes.clone(),
            revoked: false,
            consent_ms: now,
            auth_event_id,
        });
        st.counters.codes_exchanged += 1;
        let answer = self.issue(st, grant, &scopes, offline && !short_lived, short_lived);
        json_response(StatusCode::OK, &answer)
    }

    fn refresh(&self, st: &mut FakeState, params: &Params) -> Response {
        let p = self.profile;
        let now = self.now_ms(st);
        let Some(token) = params.get("refresh_token") else {
            return self.token_error(st, "invalid_request", "refresh_token is missing", false);
        };
        let Some(rt) = st.refresh.get(token) else {
            return self.token_error(st, "invalid_grant", "The refresh token is unknown.", false);
        };
        let (grant, expires, rotated, revoked) =
            (rt.grant, rt.expires_ms, rt.rotated_ms, rt.revoked);
        let g = &st.grants[grant];
        if revoked || g.revoked {
            let message = "Token has been expired or revoked.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        if expires.is_some_and(|e| now >= e) {
            let message = "The refresh token has expired.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        if rotated.is_some_and(|t| now >= t + ms(st.settings.refresh_grace)) {
            let message = "The refresh token was already used.";
            return self.token_error(st, "invalid_grant", message, false);
        }
        let scopes = match params.get("scope") {
            None => g.scopes.clone(),
            Some(asked) => {
                let asked = split_scopes(asked);
                if !asked.iter().all(|s| g.scopes.contains(s)) {
                    let message = "The scope asked for exceeds the grant.";
                    return self.token_error(st, "invalid_scope", message, false);
                }
                asked
            }
        };
        let lifetime = st.settings.refresh_lifetime;
        if let Some(rt) = st.refresh.get_mut(token) {
            if p.refresh.rotates {
                rt.rotated_ms.get_or_insert(now);
            } else if p.refresh.slides {
                rt.expires_ms = lifetime.map(|l| now + ms(l));
            }
        }
        st.counters.refreshes += 1;
        let answer = self.issue(st, grant, &scopes, p.refresh.rotates, false);
        json_response(StatusCode::OK, &answer)
    }

    /// New tokens for `grant` and the answer announcing them.
    fn issue(
        &self,
        st: &mut FakeState,
        grant: usize,
        scopes: &[String],
        with_refresh: bool,
        short_lived: bool,
    ) -> Value {
        let p = self.profile;
        let now = self.now_ms(st);
        let ttl = if short_lived {
            Duration::from_secs(86_400)
        } else {
            st.settings.access_ttl
        };
        let expires_ms = now + ms(ttl);
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let access = if p.jwt_access_tokens {
            let claims = json!({
                "nbf": now / 1000,
                "exp": expires_ms / 1000,
                "iss": "https://identity.xero.com",
                "aud": "https://identity.xero.com/resources",
                "client_id": self.client_id,
                "sub": st.account.subject.replace('-', ""),
                "auth_time": st.grants[grant].consent_ms / 1000,
                "xero_userid": st.account.subject,
                "global_session_id": st.rng.base62(32),
                "jti": st.rng.base62(32),
                "authentication_event_id": st.grants[grant].auth_event_id,
                "scope": scopes,
            });
            util::fake_jwt(&mut st.rng, &claims)
        } else {
            format!("{}{}", p.prefixes[1], st.rng.base62(64))
        };
        st.access.insert(
            access.clone(),
            AccessToken {
                grant,
                expires_ms,
                revoked: false,
                scopes: scopes.to_vec(),
            },
        );
        let mut answer = Map::new();
        answer.insert("access_token".into(), json!(access));
        answer.insert("token_type".into(), json!(p.token_type));
        let secs = (expires_ms - now) / 1000;
        match p.expiry {
            Expiry::Seconds => answer.insert("expires_in".into(), json!(secs)),
            Expiry::SecondsText => answer.insert("expires_in".into(), json!(secs.to_string())),
            Expiry::Timestamp => {
                answer.insert("expires_at".into(), json!(util::rfc3339(expires_ms)))
            }
        };
        if with_refresh {
            let token = format!("{}{}", p.prefixes[2], st.rng.base62(60));
            let lifetime = st.settings.refresh_lifetime.map(|l| now + ms(l));
            let cap = p
                .refresh
                .consent_cap
                .map(|c| st.grants[grant].consent_ms + ms(c));
            let expires = match (lifetime, cap) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            st.refresh.insert(
                token.clone(),
                RefreshToken {
                    grant,
                    expires_ms: expires,
                    rotated_ms: None,
                    revoked: false,
                },
            );
            answer.insert("refresh_token".into(), json!(token));
            match (p.refresh.report, expires) {
                (RefreshReport::ExpiresInSecs(field), Some(e)) => {
                    answer.insert(field.into(), json!((e - now) / 1000));
                }
                (RefreshReport::ExpiresAt(field), Some(e)) => {
                    answer.insert(field.into(), json!(util::rfc3339(e)));
                }
                _ => {}
            }
        }
        if p.answer_scope {
            answer.insert("scope".into(), json!(scopes.join(" ")));
        }
        if p.id_token && has("openid") {
            let account = &st.account;
            let mut claims = json!({
                "iss": match p.key {
                    "xero" => "https://identity.xero.com",
                    "quickbooks" => "https://oauth.platform.intuit.com/op/v1",
                    _ => "https://accounts.google.com",
                },
                "aud": self.client_id,
                "sub": account.subject,
                "iat": now / 1000,
                "exp": now / 1000 + 3600,
            });
            if has("email") {
                claims["email"] = json!(account.email);
                claims["email_verified"] = json!(true);
            }
            if p.key == "google" {
                claims["azp"] = json!(self.client_id);
            }
            if p.key == "xero" {
                claims["xero_userid"] = json!(account.subject);
                claims["given_name"] = json!(st.person.name().split(' ').next().unwrap_or(""));
            }
            if p.key == "quickbooks" {
                claims["realmid"] = json!(account.realm_id);
            }
            answer.insert(
                "id_token".into(),
                json!(util::fake_jwt(&mut st.rng, &claims)),
            );
        }
        match p.key {
            "square" => {
                answer.insert("merchant_id".into(), json!(st.account.merchant_id));
                answer.insert("short_lived".into(), json!(short_lived));
            }
            "myob" => {
                answer.insert(
                    "user".into(),
                    json!({ "uid": st.account.subject, "username": st.account.email }),
                );
            }
            _ => {}
        }
        Value::Object(answer)
    }
}
