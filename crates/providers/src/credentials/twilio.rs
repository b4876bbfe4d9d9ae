//! Twilio: verifying credentials and identifying the account.
//!
//! Facts relied on:
//! - Auth is HTTP Basic with either an API key SID (`SK…`) and its secret (Twilio's
//!   recommendation) or the Account SID (`AC…`) and Auth Token
//!   (https://www.twilio.com/docs/usage/requests-to-twilio); the account is always the one in
//!   the path. SIDs: `^AC[0-9a-fA-F]{32}$` (`shared/specs/twilio-messaging.json`, parameter
//!   `AccountSid`), `^SK[0-9a-fA-F]{32}$` (https://www.twilio.com/docs/iam/api-keys/key-resource-v1).
//! - `GET /2010-04-01/Accounts/{Sid}.json` fetches the account: `sid`, `friendly_name`,
//!   `status` (`active`, `suspended`, `closed`), `type` (`Trial`, `Full`), dates in RFC 2822
//!   (https://www.twilio.com/docs/iam/api/account).
//! - Standard API keys may not read `/Accounts` ("Access to all Twilio API resources, except
//!   for Accounts (/Accounts) or Keys", https://www.twilio.com/docs/iam/api-keys/keys-in-console);
//!   Twilio then answers 401 error 20003 as for wrong credentials (twilio/twilio-python#259).
//!   So with an API key a 401 there is checked again with
//!   `GET /2010-04-01/Accounts/{AccountSid}/Messages.json?PageSize=1` (in
//!   `shared/specs/twilio-messaging.json`; Standard keys may read messages): if that works the
//!   key is good and only the account's name is unknown.
//! - Errors: `{"code": 20003, "message": "Authenticate", "more_info":
//!   "https://www.twilio.com/docs/errors/20003", "status": 401}`
//!   (https://www.twilio.com/docs/errors/20003: wrong SID/token pair, deleted key, suspended
//!   or closed account…); answers carry a `Twilio-Request-Id` header.

use super::{Http, Identity, answer_error, generic_status_message, kind_of, trim_base};
use crate::ProviderError;
use crate::http::{Exchange, Guard, RequestSink, transport_error};
use serde::Deserialize;
use switchboard_core::secret::SecretString;

pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
pub const REQUEST_ID_HEADER: &str = "twilio-request-id";

/// How the requests authenticate.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The account's Auth Token (user: the Account SID).
    AuthToken(SecretString),
    /// An API key (user: its `SK…` SID).
    ApiKey { sid: String, secret: SecretString },
}

/// `^AC[0-9a-fA-F]{32}$`
pub fn is_account_sid(s: &str) -> bool {
    is_sid(s, "AC")
}

/// `^SK[0-9a-fA-F]{32}$`
pub fn is_api_key_sid(s: &str) -> bool {
    is_sid(s, "SK")
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[derive(Deserialize)]
struct AccountBody {
    sid: Option<String>,
    friendly_name: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    account_type: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// What Twilio told about the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioAccount {
    pub sid: String,
    /// `None` when a Standard API key may not read the account.
    pub friendly_name: Option<String>,
    pub status: Option<String>,
    pub account_type: Option<String>,
    /// False when the credentials (a Standard API key) may not read the Account resource and
    /// were proven on the Messages list instead.
    pub account_readable: bool,
}

pub struct Twilio {
    http: Http,
    api_base: String,
    account_sid: String,
    credential: Credential,
}

impl Twilio {
    pub fn new(
        client: reqwest::Client,
        api_base: Option<&str>,
        account_sid: &str,
        credential: Credential,
    ) -> Self {
        Twilio {
            http: Http::new(client),
            api_base: trim_base(api_base.unwrap_or(DEFAULT_API_BASE)),
            account_sid: account_sid.trim().to_string(),
            credential,
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

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Exchange, ProviderError> {
        let (user, secret) = match &self.credential {
            Credential::AuthToken(token) => (self.account_sid.as_str(), token),
            Credential::ApiKey { sid, secret } => (sid.as_str(), secret),
        };
        let request = self
            .http
            .client
            .get(format!("{}{path}", self.api_base))
            .basic_auth(user, Some(secret.expose()))
            .query(query)
            .build()
            .map_err(|e| transport_error("Twilio", e))?;
        let answer = self.http.send(request, "Twilio", REQUEST_ID_HEADER).await?;
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(self.error(&answer))
        }
    }

    fn error(&self, answer: &Exchange) -> ProviderError {
        let body: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
        let code = body.as_ref().and_then(|b| b.code);
        let said = match (&code, body.as_ref().and_then(|b| b.message.as_deref())) {
            (Some(code), Some(m)) => format!(" Twilio said: {code} “{m}”."),
            (None, Some(m)) => format!(" Twilio said: “{m}”."),
            _ => String::new(),
        };
        let what = match self.credential {
            Credential::AuthToken(_) => "the Account SID and Auth Token",
            Credential::ApiKey { .. } => "the API key SID and secret (and the Account SID)",
        };
        let message = match answer.status {
            401 | 403 => format!(
                "Twilio rejected the credentials.{said} Check {what} in the Twilio Console \
                 (Account → API keys & tokens), and that the account is active."
            ),
            404 => format!(
                "Twilio has no account {} for these credentials.{said} Check the Account SID.",
                self.account_sid
            ),
            s => generic_status_message("Twilio", s, &said),
        };
        let mut err = answer_error(kind_of(answer.status), message, answer);
        err.provider_code = code.map(|c| c.to_string());
        err
    }

    /// Verifies the credentials and reads the account (see the module notes for API keys).
    pub async fn account(&self) -> Result<TwilioAccount, ProviderError> {
        let path = format!("/2010-04-01/Accounts/{}.json", self.account_sid);
        match self.get(&path, &[]).await {
            Ok(answer) => {
                let body: AccountBody = serde_json::from_slice(&answer.body)
                    .map_err(|e| super::unreadable("Twilio", &answer, e))?;
                Ok(TwilioAccount {
                    sid: body.sid.unwrap_or_else(|| self.account_sid.clone()),
                    friendly_name: body.friendly_name.filter(|n| !n.is_empty()),
                    status: body.status,
                    account_type: body.account_type,
                    account_readable: true,
                })
            }
            Err(e)
                if e.http_status == Some(401)
                    && matches!(self.credential, Credential::ApiKey { .. }) =>
            {
                // A Standard key may not read /Accounts: a resource it may read tells whether
                // the key itself is good.
                let messages = format!("/2010-04-01/Accounts/{}/Messages.json", self.account_sid);
                self.get(&messages, &[("PageSize", "1")]).await?;
                Ok(TwilioAccount {
                    sid: self.account_sid.clone(),
                    friendly_name: None,
                    status: None,
                    account_type: None,
                    account_readable: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// [`Twilio::account`] as an [`Identity`], with what the user should know.
    pub async fn identify(&self) -> Result<Identity, ProviderError> {
        let account = self.account().await?;
        let mut notes = Vec::new();
        if !account.account_readable {
            notes.push(
                "Connected with a Standard API key: Twilio lets only Main keys and the Auth \
                 Token read the account itself, so its name is unknown (sending works)."
                    .to_string(),
            );
        }
        if let Some(status) = account.status.as_deref().filter(|s| *s != "active") {
            notes.push(format!(
                "Twilio reports this account as {status}: it cannot send messages until it is \
                 active again."
            ));
        }
        if account.account_type.as_deref() == Some("Trial") {
            notes.push(
                "This is a Twilio trial account: it can message only verified numbers.".into(),
            );
        }
        Ok(Identity {
            account_id: Some(account.sid),
            account_name: account.friendly_name,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_follow_twilios_patterns() {
        assert!(is_account_sid("AC0123456789abcdef0123456789ABCDEF"));
        assert!(!is_account_sid("AC0123456789abcdef0123456789ABCDE"));
        assert!(!is_account_sid("SK0123456789abcdef0123456789abcdef"));
        assert!(!is_account_sid("AC0123456789abcdef0123456789abcdeg"));
        assert!(is_api_key_sid("SK0123456789abcdef0123456789abcdef"));
        assert!(!is_api_key_sid("AC0123456789abcdef0123456789abcdef"));
    }
}
