//! The revocation endpoint, each provider's way.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::profiles::RevokeStyle;
use super::util::{self, Params, empty_ok, json_response, ms};
use super::{FakeState, Inner};

impl Inner {
    /// The grant of a token that still works, and whether it is a refresh token.
    fn live_token(&self, st: &FakeState, token: &str) -> Option<(usize, bool)> {
        let now = self.now_ms(st);
        if let Some(t) = st.access.get(token) {
            let live = !t.revoked && !st.grants[t.grant].revoked && now < t.expires_ms;
            return live.then_some((t.grant, false));
        }
        let t = st.refresh.get(token)?;
        let grace = ms(st.settings.refresh_grace);
        let live = !t.revoked
            && !st.grants[t.grant].revoked
            && t.expires_ms.is_none_or(|e| now < e)
            && t.rotated_ms.is_none_or(|r| now < r + grace);
        live.then_some((t.grant, true))
    }

    /// `POST revoke`.
    pub(crate) fn revoke(&self, query: &str, headers: &HeaderMap, body: &[u8]) -> Response {
        let mut st = self.state();
        st.counters.revokes += 1;
        let basic = util::basic_credentials(headers);
        match self.profile.revoke {
            RevokeStyle::Rfc7009 {
                client_auth,
                access_ends_grant,
                unknown_is_error,
            } => {
                let form = if body.is_empty() {
                    Ok(Params::default())
                } else if util::content_type(headers) == "application/x-www-form-urlencoded" {
                    Params::from_form(body)
                } else {
                    Err("the body must be application/x-www-form-urlencoded".to_string())
                };
                let form = match form {
                    Ok(form) => form,
                    Err(message) => return self.oauth_error("invalid_request", &message, false),
                };
                let query = Params::from_query(query).unwrap_or_default();
                let Some(token) = form.get("token").or(query.get("token")) else {
                    return self.oauth_error("invalid_request", "token is missing", false);
                };
                if client_auth && let Err(message) = self.authenticate_client(&form, basic.as_ref())
                {
                    return self.oauth_error("invalid_client", message, basic.is_some());
                }
                match self.live_token(&st, token) {
                    Some((grant, true)) => st.revoke_grant(grant),
                    Some((grant, false)) if access_ends_grant => st.revoke_grant(grant),
                    Some(_) => {
                        if let Some(t) = st.access.get_mut(token) {
                            t.revoked = true;
                        }
                    }
                    None if unknown_is_error => {
                        return json_response(
                            StatusCode::BAD_REQUEST,
                            &json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
                        );
                    }
                    None => {}
                }
                empty_ok()
            }
            RevokeStyle::IntuitJson => {
                let Some((id, secret)) = &basic else {
                    return self.oauth_error("invalid_client", "HTTP Basic is missing", false);
                };
                if *id != self.client_id || self.client_secret.as_deref() != Some(secret.as_str()) {
                    return self.oauth_error(
                        "invalid_client",
                        "client authentication failed",
                        true,
                    );
                }
                let params = match Params::from_json(body) {
                    Ok(params) => params,
                    Err(message) => return self.oauth_error("invalid_request", &message, false),
                };
                let Some(token) = params.get("token") else {
                    return self.oauth_error("invalid_request", "token is missing", false);
                };
                let grant = st
                    .access
                    .get(token)
                    .map(|t| t.grant)
                    .or_else(|| st.refresh.get(token).map(|t| t.grant));
                if let Some(grant) = grant {
                    st.revoke_grant(grant);
                }
                empty_ok()
            }
            RevokeStyle::SquareClient => {
                let header = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let secret = header.strip_prefix("Client ").map(str::trim);
                if secret.is_none() || secret != self.client_secret.as_deref() {
                    return self.oauth_error("invalid_client", "Not Authorized", false);
                }
                let params = match Params::from_json(body) {
                    Ok(params) => params,
                    Err(message) => return self.oauth_error("invalid_request", &message, false),
                };
                if params.get("client_id") != Some(self.client_id.as_str()) {
                    return self.oauth_error("invalid_client", "Not Authorized", false);
                }
                let only_access = params.get("revoke_only_access_token") == Some("true");
                match (params.get("access_token"), params.get("merchant_id")) {
                    (Some(token), None) => {
                        if let Some(t) = st.access.get_mut(token) {
                            if only_access {
                                t.revoked = true;
                            } else {
                                revoke_everything(&mut st);
                            }
                        }
                    }
                    (None, Some(merchant)) => {
                        if merchant == st.account.merchant_id {
                            revoke_everything(&mut st);
                        }
                    }
                    _ => {
                        let message = "Provide exactly one of access_token and merchant_id.";
                        return self.oauth_error("invalid_request", message, false);
                    }
                }
                json_response(StatusCode::OK, &json!({ "success": true }))
            }
            RevokeStyle::None => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

/// Square revokes every token the merchant gave the app.
fn revoke_everything(st: &mut FakeState) {
    for g in 0..st.grants.len() {
        st.revoke_grant(g);
    }
}
