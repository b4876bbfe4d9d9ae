//! Mautic with HTTP basic auth, where the instance enables it (the other way in is OAuth 2 on
//! the same URL, `crate::oauth`): verifying a user name and password and identifying the user.
//!
//! Facts relied on:
//! - Basic auth is off by default; an administrator turns it on in Settings → Configuration →
//!   API Settings → "Enable HTTP basic auth?", then every API call may carry
//!   `Authorization: Basic base64(user:password)` of a Mautic user
//!   (https://devdocs.mautic.org/en/7.0/rest_api/authentication.html#basic-authentication).
//! - `GET /api/users/self` answers the user (`id`, `username`, `email`, …); a refused call is
//!   401 `{"errors":[{"message":"API authorization denied.","code":401,"type":"access_denied"}]}`
//!   (https://devdocs.mautic.org/en/7.0/rest_api/users.html).

use super::{Http, Identity, answer_error, generic_status_message, kind_of, trim_base};
use crate::ProviderError;
use crate::http::{Guard, RequestSink, transport_error};
use serde::Deserialize;
use switchboard_core::secret::SecretString;

#[derive(Deserialize)]
struct UserBody {
    id: Option<serde_json::Value>,
    username: Option<String>,
    email: Option<String>,
}

pub struct MauticBasic {
    http: Http,
    api_base: String,
    user: String,
    password: SecretString,
}

impl MauticBasic {
    /// `api_base` is the customer's Mautic URL (`https://mautic.example.com`).
    pub fn new(
        client: reqwest::Client,
        api_base: &str,
        user: &str,
        password: SecretString,
    ) -> Self {
        MauticBasic {
            http: Http::new(client),
            api_base: trim_base(api_base),
            user: user.to_string(),
            password,
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

    /// Verifies the user name and password with `GET /api/users/self`: the account is the
    /// user's id, named by its email.
    pub async fn identify(&self) -> Result<Identity, ProviderError> {
        let request = self
            .http
            .client
            .get(format!("{}/api/users/self", self.api_base))
            .basic_auth(&self.user, Some(self.password.expose()))
            .header("Accept", "application/json")
            .build()
            .map_err(|e| transport_error("Mautic", e))?;
        let answer = self.http.send(request, "Mautic", "x-request-id").await?;
        if !(200..300).contains(&answer.status) {
            let message = match answer.status {
                401 | 403 => "Mautic refused the user name or password, or its API does not \
                    accept them: check them, and that an administrator turned on Settings → \
                    Configuration → API Settings → “Enable HTTP basic auth?” (or connect with \
                    the browser sign-in instead)."
                    .to_string(),
                s => generic_status_message("Mautic", s, ""),
            };
            return Err(answer_error(kind_of(answer.status), message, &answer));
        }
        let user: UserBody = serde_json::from_slice(&answer.body)
            .map_err(|e| super::unreadable("Mautic", &answer, e))?;
        let id = match user.id {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        Ok(Identity {
            account_id: id,
            account_name: user.email.or(user.username),
            notes: Vec::new(),
        })
    }
}
