//! BillionMail (self-hosted, aaPanel/BillionMail): verifying an API key without sending.
//!
//! Facts relied on (BillionMail publishes no API reference besides the API page of its admin UI;
//! these come from its source, read in a fork of aaPanel/BillionMail, volkanersumer/BillionMail,
//! files named below, and from `shared/specs/README.md`):
//! - The API lives on the customer's own server: `{their URL}/api/…` (`core/internal/cmd/cmd.go`
//!   binds the API group at `/api`, after an optional `WEB_BASE_PATH` prefix, which then belongs
//!   in the URL the user gives).
//! - API keys are per "API" (a template, sender and subject set up in the admin UI) and are
//!   accepted by one endpoint only: `POST /api/batch_mail/api/send` with the key in the
//!   `X-API-Key` header and a JSON body `{"recipient", "addresser"?, "attribs"?}`
//!   (`core/api/batch_mail/v1/api_mail.go`, `ApiMailSendReq`: `json:"x-api-key" in:"header"`).
//!   Every other `/api` route wants the admin's session token, so there is no read-only call an
//!   API key could make.
//! - That endpoint checks, in this order (`core/internal/controller/batch_mail/
//!   batch_mail_v1_api_mail_send.go`): the key (unknown or inactive → `code` 1001 "API key is
//!   invalid"), its expiry (1002 "API key has expired"), the API's email template (1004), then
//!   the recipient (no `@` → 1003 "Invalid recipient"), and only then creates a contact and
//!   sends. So a request with an empty recipient proves the key without sending anything or
//!   writing a contact: 1003 means the key is good.
//! - Answers are HTTP 200 with `{"success": bool, "code": int, "msg": string, "data": …}`
//!   (`core/utility/types/api_v1/common.go`, `StandardRes`).
//!
//! Unverified: the behaviour was read in the source, not tried against a running BillionMail;
//! a later version may check the recipient before the key (then a valid key would also answer
//! 1003 and an invalid one too, which this check would take for valid). Servers with
//! BillionMail's self-signed certificate are refused by the TLS check (give a URL with a real
//! certificate).

use super::{Http, answer_error, generic_status_message, kind_of, quoted, trim_base};
use crate::http::{Guard, RequestSink, transport_error};
use crate::{ProviderError, ProviderErrorKind};
use serde::Deserialize;
use switchboard_core::secret::SecretString;

/// The header BillionMail reads the API key from.
pub const API_KEY_HEADER: &str = "X-API-Key";
/// The only endpoint that takes an API key.
pub const SEND_PATH: &str = "/api/batch_mail/api/send";

const INVALID_KEY: i64 = 1001;
const EXPIRED_KEY: i64 = 1002;
const INVALID_RECIPIENT: i64 = 1003;
const NO_TEMPLATE: i64 = 1004;

#[derive(Deserialize)]
struct StandardRes {
    success: Option<bool>,
    code: Option<i64>,
    msg: Option<String>,
}

pub struct BillionMail {
    http: Http,
    api_base: String,
    api_key: SecretString,
}

impl BillionMail {
    /// `api_base` is the customer's BillionMail URL (`https://mail.example.com`).
    pub fn new(client: reqwest::Client, api_base: &str, api_key: SecretString) -> Self {
        BillionMail {
            http: Http::new(client),
            api_base: trim_base(api_base),
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

    /// Proves the key with a send request BillionMail refuses before sending (see the module
    /// notes).
    pub async fn verify(&self) -> Result<(), ProviderError> {
        let request = self
            .http
            .client
            .post(format!("{}{SEND_PATH}", self.api_base))
            .header(API_KEY_HEADER, self.api_key.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(r#"{"recipient":""}"#)
            .build()
            .map_err(|e| transport_error("BillionMail", e))?;
        let answer = self
            .http
            .send(request, "BillionMail", "x-request-id")
            .await?;
        let base = &self.api_base;
        if answer.status == 404 {
            return Err(answer_error(
                ProviderErrorKind::InvalidRequest,
                format!(
                    "There is no BillionMail API at {base} (HTTP 404). Give the address of your \
                     BillionMail admin (e.g. https://mail.example.com, with its path prefix if \
                     it has one)."
                ),
                &answer,
            ));
        }
        if !(200..300).contains(&answer.status) {
            let message = generic_status_message("BillionMail", answer.status, "");
            return Err(answer_error(kind_of(answer.status), message, &answer));
        }
        let body: StandardRes = serde_json::from_slice(&answer.body).map_err(|_| {
            super::unreadable(
                "BillionMail",
                &answer,
                format!("not BillionMail's JSON: is {base} the BillionMail admin address?"),
            )
        })?;
        let said = quoted("BillionMail", body.msg.as_deref());
        match (body.success, body.code) {
            (_, Some(INVALID_RECIPIENT)) | (Some(true), _) => Ok(()),
            (_, Some(INVALID_KEY)) => Err(answer_error(
                ProviderErrorKind::Auth,
                format!(
                    "BillionMail rejected the API key.{said} Check the key on the API page of \
                     your BillionMail admin, and that the API is active."
                ),
                &answer,
            )),
            (_, Some(EXPIRED_KEY)) => Err(answer_error(
                ProviderErrorKind::Auth,
                format!(
                    "The BillionMail API key has expired.{said} Reset the key (or its expiry) on \
                     the API page of your BillionMail admin and connect with the new key."
                ),
                &answer,
            )),
            (_, Some(NO_TEMPLATE)) => Err(answer_error(
                ProviderErrorKind::InvalidRequest,
                format!(
                    "The key is valid, but its BillionMail API has no email template any more.\
                     {said} Choose a template for the API in your BillionMail admin."
                ),
                &answer,
            )),
            (_, code) => Err(answer_error(
                ProviderErrorKind::BadResponse,
                format!(
                    "BillionMail answered with code {}.{said}",
                    code.map_or("none".into(), |c| c.to_string())
                ),
                &answer,
            )),
        }
    }
}

/// The account a BillionMail connection reaches: the server's host (and port, when given),
/// since an API key names no account.
pub fn account_id(api_base: &str) -> Option<String> {
    let url = url::Url::parse(api_base).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_account_is_the_host() {
        assert_eq!(
            super::account_id("https://mail.example.com/").as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(
            super::account_id("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
    }
}
