//! The authorize URL (RFC 6749 section 4.1.1 with RFC 7636 section 4.3) and what the token
//! exchange later needs from the same sign-in: the PKCE verifier and the redirect URI.

use super::OAuthClient;
use super::pkce::{CsrfState, Pkce};
use std::fmt;
use url::Url;

/// One sign-in in progress: the URL to open in the browser, the `state` the redirect must
/// bring back, and the PKCE verifier and redirect URI the code exchange must repeat.
#[derive(Clone)]
pub struct Authorization {
    url: Url,
    state: CsrfState,
    pkce: Pkce,
    redirect_uri: String,
    scopes: Vec<String>,
}

impl Authorization {
    /// The URL to open in the system browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn state(&self) -> &CsrfState {
        &self.state
    }

    pub fn pkce(&self) -> &Pkce {
        &self.pkce
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The scopes asked for (the catalogue's plus the extra ones), in order.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl fmt::Debug for Authorization {
    // The URL carries `state`; everything secret is redacted by its own type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("endpoint", &self.url.path())
            .field("state", &self.state)
            .field("pkce", &self.pkce)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OAuthClient {
    /// Starts a sign-in: a fresh `state` and PKCE pair and the authorize URL for
    /// `redirect_uri` (the loopback listener's). `extra_scopes` are asked for besides the
    /// catalogue's least scopes, for an incremental grant (a feature that needs more).
    pub fn authorization(&self, redirect_uri: &str, extra_scopes: &[&str]) -> Authorization {
        self.authorization_with(redirect_uri, extra_scopes, CsrfState::new(), Pkce::new())
    }

    /// [`OAuthClient::authorization`] with given `state` and PKCE values (tests).
    pub fn authorization_with(
        &self,
        redirect_uri: &str,
        extra_scopes: &[&str],
        state: CsrfState,
        pkce: Pkce,
    ) -> Authorization {
        let scopes = merged_scopes(self.info.scopes, extra_scopes);
        let mut url = self.endpoints.authorize_url.clone();
        {
            // Appended, so parameters already on a configured URL are kept.
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.credentials.client_id)
                .append_pair("redirect_uri", redirect_uri);
            if !scopes.is_empty() {
                query.append_pair("scope", &scopes.join(" "));
            }
            query
                .append_pair("state", state.expose())
                .append_pair("code_challenge", pkce.challenge())
                .append_pair("code_challenge_method", pkce.method());
            for param in self.info.authorize_params {
                query.append_pair(param.name, param.value);
            }
        }
        Authorization {
            url,
            state,
            pkce,
            redirect_uri: redirect_uri.to_string(),
            scopes,
        }
    }
}

/// The catalogue's scopes, then the extra ones not already there (blank ones dropped).
fn merged_scopes(base: &[&str], extra: &[&str]) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in base.iter().chain(extra).map(|s| s.trim()) {
        if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{Credentials, Endpoints};
    use std::collections::HashMap;
    use switchboard_core::catalogue::provider;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://localhost:53682/oauth/callback";

    fn client(key: &str, base: Option<&str>) -> OAuthClient {
        let p = provider(key).unwrap();
        let info = p.oauth.unwrap();
        OAuthClient::new(
            p.display_name,
            info,
            Endpoints::resolve(info, base).unwrap(),
            Credentials::public("the-client"),
            reqwest::Client::new(),
        )
    }

    fn build(
        key: &str,
        base: Option<&str>,
        extra: &[&str],
    ) -> (Authorization, Vec<(String, String)>) {
        let auth = client(key, base).authorization_with(
            REDIRECT,
            extra,
            CsrfState::from_value("st4te"),
            Pkce::from_verifier(VERIFIER).unwrap(),
        );
        let pairs = auth.url().query_pairs().into_owned().collect();
        (auth, pairs)
    }

    fn params(pairs: &[(String, String)]) -> HashMap<&str, &str> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn every_provider_gets_the_standard_pkce_parameters() {
        for key in ["xero", "quickbooks", "google_calendar", "square", "myob"] {
            let (auth, pairs) = build(key, None, &[]);
            let p = params(&pairs);
            assert_eq!(p["response_type"], "code", "{key}");
            assert_eq!(p["client_id"], "the-client");
            assert_eq!(p["redirect_uri"], REDIRECT);
            assert_eq!(p["state"], "st4te");
            assert_eq!(p["code_challenge"], CHALLENGE);
            assert_eq!(p["code_challenge_method"], "S256");
            let info = provider(key).unwrap().oauth.unwrap();
            assert_eq!(p["scope"], info.scopes.join(" "), "{key}");
            assert_eq!(auth.scopes().len(), info.scopes.len());
            // Each parameter once.
            assert_eq!(pairs.len(), p.len(), "{key}: {pairs:?}");
        }
    }

    #[test]
    fn xero_url_is_the_documented_one() {
        let (auth, pairs) = build("xero", None, &[]);
        assert!(
            auth.url()
                .as_str()
                .starts_with("https://login.xero.com/identity/connect/authorize?")
        );
        assert_eq!(
            params(&pairs)["scope"],
            "openid profile email offline_access accounting.settings.read"
        );
        // Spaces are form-encoded.
        assert!(auth.url().query().unwrap().contains("scope=openid+profile"));
    }

    #[test]
    fn google_adds_offline_access_and_consent() {
        let (_, pairs) = build("google_calendar", None, &[]);
        let p = params(&pairs);
        assert_eq!(p["access_type"], "offline");
        assert_eq!(p["prompt"], "consent");
        assert!(p["scope"].contains("https://www.googleapis.com/auth/calendar.events"));
    }

    #[test]
    fn myob_asks_for_consent_so_the_company_file_comes_back() {
        let (_, pairs) = build("myob", None, &[]);
        assert_eq!(params(&pairs)["prompt"], "consent");
    }

    #[test]
    fn incremental_grants_add_scopes_once() {
        let (auth, pairs) = build(
            "xero",
            None,
            &["accounting.invoices", "openid", " ", "accounting.payments"],
        );
        assert_eq!(
            params(&pairs)["scope"],
            "openid profile email offline_access accounting.settings.read \
             accounting.invoices accounting.payments"
        );
        assert_eq!(auth.scopes().len(), 7);
    }

    #[test]
    fn mautic_has_no_scope_parameter_and_uses_the_customer_host() {
        let (auth, pairs) = build("mautic", Some("https://crm.example.org"), &[]);
        assert!(
            auth.url()
                .as_str()
                .starts_with("https://crm.example.org/oauth/v2/authorize?")
        );
        assert!(!params(&pairs).contains_key("scope"));
    }

    #[test]
    fn parameters_already_on_an_overridden_url_are_kept() {
        let p = provider("square").unwrap();
        let info = p.oauth.unwrap();
        let endpoints = Endpoints::parse(
            "https://connect.squareupsandbox.com/oauth2/authorize?session=false",
            "https://connect.squareupsandbox.com/oauth2/token",
            None,
        )
        .unwrap();
        let client = OAuthClient::new(
            "Square",
            info,
            endpoints,
            Credentials::public("sq0idp"),
            reqwest::Client::new(),
        );
        let auth = client.authorization(REDIRECT, &[]);
        let pairs: Vec<(String, String)> = auth.url().query_pairs().into_owned().collect();
        assert_eq!(params(&pairs)["session"], "false");
        assert_eq!(params(&pairs)["scope"], info.scopes.join(" "));
    }

    #[test]
    fn debug_shows_no_state_or_verifier() {
        let (auth, _) = build("xero", None, &[]);
        let shown = format!("{auth:?}");
        assert!(!shown.contains("st4te"), "{shown}");
        assert!(!shown.contains(VERIFIER), "{shown}");
    }
}
