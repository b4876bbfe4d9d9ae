//! The authorize endpoint: validation, the consent page, approval and denial.

use axum::http::StatusCode;
use axum::response::Response;
use url::{Host, Url};

use super::profiles::{Identity, RedirectExtras, RefreshIssue};
use super::util::{self, Params, html_page, ms, redirect, split_scopes};
use super::{AuthRequest, Code, Connection, FakeState, Inner};

/// Why an authorization request is refused.
enum Refusal {
    /// Shown to the user; no redirect (bad client or redirect URI, RFC 6749 4.1.2.1).
    Page(String),
    /// Sent back to the client on its redirect URI.
    Redirect {
        uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

fn is_loopback(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(a)) => a.is_loopback(),
            Some(Host::Ipv6(a)) => a.is_loopback(),
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        }
}

fn without_port(mut url: Url) -> String {
    let _ = url.set_port(None);
    url.to_string()
}

impl Inner {
    fn redirect_allowed(&self, st: &FakeState, uri: &str) -> bool {
        let Ok(url) = Url::parse(uri) else {
            return false;
        };
        if url.fragment().is_some() {
            return false;
        }
        match &st.settings.registered_redirects {
            None => is_loopback(&url),
            Some(list) => list.iter().any(|registered| {
                registered == uri
                    || (self.profile.loopback_any_port
                        && is_loopback(&url)
                        && Url::parse(registered)
                            .is_ok_and(|r| without_port(r) == without_port(url.clone())))
            }),
        }
    }

    fn check_authorize(&self, st: &FakeState, query: &str) -> Result<AuthRequest, Refusal> {
        let p = self.profile;
        let params = Params::from_query(query).map_err(Refusal::Page)?;
        match params.get("client_id") {
            None => return Err(Refusal::Page("The request has no client_id.".into())),
            Some(id) if id != self.client_id => {
                return Err(Refusal::Page(format!(
                    "invalid_client: no app with client_id “{id}” is registered here."
                )));
            }
            Some(_) => {}
        }
        let registered = st.settings.registered_redirects.as_ref();
        let (redirect_uri, redirect_given) = match params.get("redirect_uri") {
            Some(uri) => (uri.to_string(), true),
            None if p.redirect_uri_optional => match registered.and_then(|r| r.first()) {
                Some(uri) => (uri.clone(), false),
                None => {
                    return Err(Refusal::Page(
                        "The request has no redirect_uri and the app has none registered.".into(),
                    ));
                }
            },
            None => return Err(Refusal::Page("The request has no redirect_uri.".into())),
        };
        if !self.redirect_allowed(st, &redirect_uri) {
            return Err(Refusal::Page(format!(
                "redirect_uri_mismatch: “{redirect_uri}” is not a redirect URI registered for \
                 this app (loopback http URIs are accepted unless the test registered others)."
            )));
        }
        let state = params.get("state").map(str::to_string);
        let refuse = |error: &'static str, description: String| Refusal::Redirect {
            uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description,
        };
        if let Some(name) = params.repeated() {
            return Err(refuse("invalid_request", format!("`{name}` is repeated")));
        }
        match params.get("response_type") {
            Some("code") => {}
            Some(other) => {
                return Err(refuse(
                    "unsupported_response_type",
                    format!("response_type `{other}` is not supported; use `code`"),
                ));
            }
            None => return Err(refuse("invalid_request", "response_type is missing".into())),
        }
        let Some(challenge) = params.get("code_challenge") else {
            return Err(refuse(
                "invalid_request",
                "code_challenge is required (PKCE, RFC 7636)".into(),
            ));
        };
        match params.get("code_challenge_method") {
            Some("S256") => {}
            Some(other) => {
                return Err(refuse(
                    "invalid_request",
                    format!("code_challenge_method `{other}` is not accepted; use S256"),
                ));
            }
            None => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge_method is missing (it would mean `plain`); use S256".into(),
                ));
            }
        }
        if !util::valid_challenge(challenge) {
            return Err(refuse(
                "invalid_request",
                "code_challenge is not a base64url SHA-256 (43 characters)".into(),
            ));
        }
        let scope = match params.get("scope") {
            Some(s) => s,
            None if p.scope_required => {
                return Err(refuse("invalid_request", "scope is missing".into()));
            }
            None => p.default_scope,
        };
        Ok(AuthRequest {
            redirect_uri: redirect_uri.clone(),
            redirect_given,
            state: state.clone(),
            scopes: split_scopes(scope),
            challenge: challenge.to_string(),
            offline_access_type: params.get("access_type") == Some("offline"),
            prompt_consent: params
                .get("prompt")
                .is_some_and(|v| v.split(' ').any(|x| x == "consent")),
        })
    }

    /// `GET authorize`.
    pub(crate) fn authorize(&self, query: &str) -> Response {
        let mut st = self.state();
        st.counters.authorize_requests += 1;
        let request = match self.check_authorize(&st, query) {
            Ok(request) => request,
            Err(Refusal::Page(message)) => return self.error_page(&message),
            Err(Refusal::Redirect {
                uri,
                state,
                error,
                description,
            }) => {
                let mut params = vec![("error", error), ("error_description", &description)];
                if let Some(state) = &state {
                    params.push(("state", state));
                }
                return redirect(&util::with_query(&uri, &params));
            }
        };
        if st.settings.auto_approve {
            return self.approve(&mut st, request);
        }
        st.counters.consent_pages += 1;
        let ticket = st.rng.base62(32);
        let page = self.consent_page(&st, &request, &ticket);
        st.pending.insert(ticket, request);
        page
    }

    /// `POST authorize`: the consent page's Approve or Deny.
    pub(crate) fn consent(&self, body: &[u8]) -> Response {
        let mut st = self.state();
        st.counters.authorize_requests += 1;
        let params = Params::from_form(body).unwrap_or_default();
        let request = params.get("ticket").and_then(|t| st.pending.remove(t));
        let Some(request) = request else {
            return self.error_page(
                "This sign-in request has expired or was already answered. Start again from the app.",
            );
        };
        if params.get("decision") == Some("approve") {
            self.approve(&mut st, request)
        } else {
            st.counters.denials += 1;
            let mut out = vec![("error", "access_denied")];
            if let Some(description) = self.profile.deny_description {
                out.push(("error_description", description));
            }
            if let Some(state) = &request.state {
                out.push(("state", state));
            }
            redirect(&util::with_query(&request.redirect_uri, &out))
        }
    }

    fn error_page(&self, message: &str) -> Response {
        let name = self.profile.name;
        html_page(
            StatusCode::BAD_REQUEST,
            &format!("{name} (sandbox): sign-in error"),
            &format!(
                "<h1>{} (sandbox)</h1><p role=\"alert\">{}</p>",
                util::html(name),
                util::html(message)
            ),
        )
    }

    fn consent_page(&self, st: &FakeState, request: &AuthRequest, ticket: &str) -> Response {
        let p = self.profile;
        let account = &st.account;
        let items = |list: &mut dyn Iterator<Item = String>| -> String {
            list.map(|s| format!("<li>{}</li>", util::html(&s)))
                .collect()
        };
        let scopes = items(&mut request.scopes.iter().cloned());
        let what = match p.identity {
            Identity::XeroConnections => format!(
                "<p>Organisations to connect:</p><ul id=\"tenants\">{}</ul>",
                items(
                    &mut account
                        .tenants
                        .iter()
                        .take(st.settings.tenant_count)
                        .map(|t| t.name.clone())
                )
            ),
            Identity::QuickBooksCompanyInfo | Identity::MyobCompanyFiles => format!(
                "<p>Company: <strong id=\"company\">{}</strong></p>",
                util::html(&account.company)
            ),
            _ => String::new(),
        };
        let body = format!(
            "<h1>{name} (sandbox)</h1>\
             <p>An app (client <code>{client}</code>) asks to use your {name} account \
             <strong id=\"user\">{email}</strong>.</p>\
             <p>It asks for:</p><ul id=\"scopes\">{scopes}</ul>{what}\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
             <button type=\"submit\" id=\"approve\" name=\"decision\" value=\"approve\">Allow access</button>\
             <button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\
             </form><p><small>Switchboard sandbox: a fake of {name}'s consent page; \
             nothing leaves this computer.</small></p>",
            name = util::html(p.name),
            client = util::html(&self.client_id),
            email = util::html(&account.email),
            action = util::html(p.authorize_path),
            ticket = util::html(ticket),
        );
        html_page(
            StatusCode::OK,
            &format!("Allow access to {}?", p.name),
            &body,
        )
    }

    /// Issue a code and redirect back with it.
    fn approve(&self, st: &mut FakeState, request: AuthRequest) -> Response {
        let p = self.profile;
        let now = self.now_ms(st);
        st.counters.approvals += 1;
        let offline = match p.refresh.issue {
            RefreshIssue::Always => true,
            RefreshIssue::WithScope(scope) => request.scopes.iter().any(|s| s == scope),
            RefreshIssue::GoogleOffline => {
                let first = !st.offline_consented;
                if request.offline_access_type {
                    st.offline_consented = true;
                }
                request.offline_access_type && (first || request.prompt_consent)
            }
        };
        let auth_event_id = util::uuid(&mut st.rng);
        if p.identity == Identity::XeroConnections {
            for tenant in 0..st.settings.tenant_count {
                if let Some(c) = st.connections.iter_mut().find(|c| c.tenant == tenant) {
                    c.auth_event_id = auth_event_id.clone();
                    c.updated_ms = now;
                } else {
                    let id = util::uuid(&mut st.rng);
                    st.connections.push(Connection {
                        id,
                        tenant,
                        auth_event_id: auth_event_id.clone(),
                        created_ms: now,
                        updated_ms: now,
                    });
                }
            }
        }
        let code = format!("{}{}", p.prefixes[0], st.rng.base62(43));
        st.codes.insert(
            code.clone(),
            Code {
                redirect_uri: request.redirect_given.then(|| request.redirect_uri.clone()),
                challenge: request.challenge.clone(),
                scopes: request.scopes.clone(),
                offline,
                expires_ms: now + ms(st.settings.code_ttl),
                used: false,
                auth_event_id,
            },
        );
        let scope = request.scopes.join(" ");
        let mut out: Vec<(&str, &str)> = vec![("code", &code)];
        if let Some(state) = &request.state {
            out.push(("state", state));
        }
        if p.redirect_scope {
            out.push(("scope", &scope));
        }
        match p.redirect_extras {
            RedirectExtras::RealmId => out.push(("realmId", &st.account.realm_id)),
            RedirectExtras::MyobBusiness if request.prompt_consent => {
                out.push(("businessId", &st.account.business_id));
                out.push(("businessName", &st.account.company));
            }
            _ => {}
        }
        redirect(&util::with_query(&request.redirect_uri, &out))
    }
}
