//! Twilio SendGrid (v3 API): verifying an API key and identifying the account.
//!
//! Facts relied on:
//! - The key goes as `Authorization: Bearer <key>`
//!   (https://docs.sendgrid.com/api-reference/how-to-use-the-sendgrid-v3-api/authorization, as
//!   linked from twilio/sendgrid-oai; the `BearerAuth` scheme of its documents);
//!   hosts `https://api.sendgrid.com`, and `https://api.eu.sendgrid.com` for EU regional
//!   subusers (the `servers` of `shared/specs/sendgrid.json`).
//! - `GET /v3/user/account` answers `{"type": "free"|"paid", "reputation": number}`
//!   (https://www.twilio.com/docs/sendgrid/api-reference/users-api/get-a-users-account-information;
//!   twilio/sendgrid-oai `spec/json/tsg_user_v3.json`); `GET /v3/user/email` answers
//!   `{"email"}` and `GET /v3/user/profile` the profile (`first_name`, `last_name`, `company`…)
//!   (same file). Their scopes: `user.account.read`, `user.email.read`, `user.profile.read`
//!   (https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions).
//! - A key without the scope gets 403 `{"errors":[{"field":null,"message":"access forbidden"}]}`
//!   and a wrong key 401 `{"errors":[{"field":null,"message":"authorization required"}]}`
//!   (the `ErrorResponse` schema of `shared/specs/sendgrid.json`; examples in
//!   `tsg_scopes_v3.json`, `tsg_user_v3.json`).
//! - `GET /v3/scopes` lists the scopes of the key used
//!   (https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access):
//!   used to say which scope a refused key lacks.
//!
//! SendGrid has no account id in these answers: the account is named by its email when the key
//! may read it.

use super::{Http, Identity, answer_error, generic_status_message, kind_of, trim_base};
use crate::http::{Exchange, Guard, RequestSink, transport_error};
use crate::{ProviderError, ProviderErrorKind};
use serde::Deserialize;
use switchboard_core::secret::SecretString;

pub const DEFAULT_API_BASE: &str = "https://api.sendgrid.com";
pub const EU_API_BASE: &str = "https://api.eu.sendgrid.com";
/// The scope identifying the account needs.
pub const IDENTITY_SCOPE: &str = "user.account.read";
/// Scopes that add a display name; connecting works without them.
pub const OPTIONAL_SCOPES: &[&str] = &["user.email.read", "user.profile.read"];

#[derive(Deserialize)]
struct ErrorBody {
    errors: Option<Vec<ErrorItem>>,
}

#[derive(Deserialize)]
struct ErrorItem {
    message: Option<String>,
}

#[derive(Deserialize)]
struct AccountBody {
    #[serde(rename = "type")]
    account_type: Option<String>,
    reputation: Option<f64>,
}

#[derive(Deserialize)]
struct EmailBody {
    email: Option<String>,
}

#[derive(Deserialize)]
struct ProfileBody {
    company: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct ScopesBody {
    scopes: Vec<String>,
}

/// What SendGrid told about the account.
#[derive(Debug, Clone, PartialEq)]
pub struct SendGridAccount {
    /// `free` or `paid`.
    pub account_type: Option<String>,
    pub reputation: Option<f64>,
    pub email: Option<String>,
    /// The profile's company, else the user's name.
    pub display_name: Option<String>,
}

pub struct SendGrid {
    http: Http,
    api_base: String,
    api_key: SecretString,
}

impl SendGrid {
    pub fn new(client: reqwest::Client, api_base: Option<&str>, api_key: SecretString) -> Self {
        SendGrid {
            http: Http::new(client),
            api_base: trim_base(api_base.unwrap_or(DEFAULT_API_BASE)),
            api_key,
        }
    }

    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.http.sink = Some(sink);
        self
    }

    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.http.guard = Some(guard);
        self
    }

    async fn get(&self, path: &str) -> Result<Exchange, ProviderError> {
        let request = self
            .http
            .client
            .get(format!("{}{path}", self.api_base))
            .bearer_auth(self.api_key.expose())
            .build()
            .map_err(|e| transport_error("SendGrid", e))?;
        // SendGrid sends no request id header on these answers.
        let answer = self.http.send(request, "SendGrid", "x-request-id").await?;
        if (200..300).contains(&answer.status) {
            return Ok(answer);
        }
        let said = said(&answer);
        let message = match answer.status {
            401 => format!(
                "SendGrid rejected the API key.{said} Check the key (Settings → API Keys in \
                 SendGrid; it starts with “SG.” and is shown only once when created)."
            ),
            403 => format!("SendGrid refused the request: the key lacks a permission.{said}"),
            s => generic_status_message("SendGrid", s, &said),
        };
        Err(answer_error(kind_of(answer.status), message, &answer))
    }

    /// The scopes of the key (`GET /v3/scopes`).
    pub async fn scopes(&self) -> Result<Vec<String>, ProviderError> {
        let answer = self.get("/v3/scopes").await?;
        let body: ScopesBody = serde_json::from_slice(&answer.body)
            .map_err(|e| super::unreadable("SendGrid", &answer, e))?;
        Ok(body.scopes)
    }

    /// Verifies the key and reads the account; a key without [`IDENTITY_SCOPE`] fails with a
    /// message naming the missing scope.
    pub async fn account(&self) -> Result<SendGridAccount, ProviderError> {
        let answer = match self.get("/v3/user/account").await {
            Ok(answer) => answer,
            Err(e) if e.http_status == Some(403) => return Err(self.missing_scope(e).await),
            Err(e) => return Err(e),
        };
        let body: AccountBody = serde_json::from_slice(&answer.body)
            .map_err(|e| super::unreadable("SendGrid", &answer, e))?;
        let email = match self.get("/v3/user/email").await {
            Ok(answer) => serde_json::from_slice::<EmailBody>(&answer.body)
                .ok()
                .and_then(|b| b.email)
                .filter(|e| !e.is_empty()),
            Err(e) if e.http_status == Some(403) => None,
            Err(e) => return Err(e),
        };
        let display_name = match self.get("/v3/user/profile").await {
            Ok(answer) => serde_json::from_slice::<ProfileBody>(&answer.body)
                .ok()
                .and_then(profile_name),
            Err(e) if e.http_status == Some(403) => None,
            Err(e) => return Err(e),
        };
        Ok(SendGridAccount {
            account_type: body.account_type,
            reputation: body.reputation,
            email,
            display_name,
        })
    }

    /// [`SendGrid::account`] as an [`Identity`].
    pub async fn identify(&self) -> Result<Identity, ProviderError> {
        let account = self.account().await?;
        let mut notes = Vec::new();
        if account.email.is_none() && account.display_name.is_none() {
            notes.push(format!(
                "Connected; the key may not read the account's email or profile ({}), so the \
                 account is shown without a name.",
                OPTIONAL_SCOPES.join(", ")
            ));
        }
        let kind = account.account_type.as_deref().unwrap_or("unknown");
        let reputation = account
            .reputation
            .map(|r| format!(", sender reputation {r}"))
            .unwrap_or_default();
        notes.push(format!("SendGrid account: {kind} plan{reputation}."));
        Ok(Identity {
            account_id: account.email.clone(),
            account_name: account.display_name.or(account.email),
            notes,
        })
    }

    /// The 403 of `/v3/user/account`, explained with the key's scopes when SendGrid lists them.
    async fn missing_scope(&self, refused: ProviderError) -> ProviderError {
        let how = "In SendGrid, Settings → API Keys → edit the key → Restricted Access → User \
                   Account: Read Access (or use a Full Access key), then connect again.";
        let message = match self.scopes().await {
            Ok(scopes) => {
                let mut missing: Vec<&str> = vec![IDENTITY_SCOPE];
                missing.retain(|s| !scopes.iter().any(|have| have == s));
                let has = if scopes.is_empty() {
                    "none".to_string()
                } else {
                    scopes.join(", ")
                };
                if missing.is_empty() {
                    format!(
                        "SendGrid refused to show the account although the key has the scope \
                         {IDENTITY_SCOPE}. {how}"
                    )
                } else {
                    format!(
                        "The SendGrid API key works but lacks the scope {} that Switchboard \
                         needs to identify the account (the key has: {has}). {how}",
                        missing.join(", ")
                    )
                }
            }
            Err(_) => format!(
                "The SendGrid API key works but may not read the account (it needs the scope \
                 {IDENTITY_SCOPE}). {how}"
            ),
        };
        let mut err = ProviderError::new(ProviderErrorKind::Auth, message);
        err.http_status = refused.http_status;
        err.request_id = refused.request_id;
        err.provider_code = Some("missing_scope".into());
        err
    }
}

fn said(answer: &Exchange) -> String {
    let messages: Vec<String> = serde_json::from_slice::<ErrorBody>(&answer.body)
        .ok()
        .and_then(|b| b.errors)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.message)
        .filter(|m| !m.is_empty())
        .collect();
    if messages.is_empty() {
        String::new()
    } else {
        format!(" SendGrid said: “{}”.", messages.join("; "))
    }
}

fn profile_name(p: ProfileBody) -> Option<String> {
    let non_empty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    non_empty(p.company).or_else(|| {
        let name = [non_empty(p.first_name), non_empty(p.last_name)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!name.is_empty()).then_some(name)
    })
}
