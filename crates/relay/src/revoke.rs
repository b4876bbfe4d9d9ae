//! `POST /oauth/{provider}/revoke`: revokes a token the provider's way (the catalogue's
//! `RevokeStyle`), with the registration's credentials.
//!
//! The app may send an RFC 7009 form (`token`, optional `token_type_hint`; what a public client
//! sends) or the JSON body of the provider's own style (`{"token"}` for Intuit,
//! `{"access_token"}` for Square); the relay builds the provider's request from the token:
//!
//! - `Rfc7009` (Xero, Google): a form with `token` (and `token_type_hint`) and the client
//!   credentials as at the token endpoint.
//! - `IntuitJson` (QuickBooks): JSON `{"token"}` with HTTP Basic.
//! - `SquareClientHeader` (Square): JSON `{"client_id", "access_token"}` with
//!   `Authorization: Client <secret>`. Square revokes by access token only.

use serde_json::{Map, Value};
use switchboard_core::catalogue::{RevokeStyle, TokenBody};

use crate::client_auth;
use crate::config::ProviderConfig;
use crate::error::RelayError;
use crate::params::Params;
use crate::upstream::Outgoing;

/// The request for the provider, from the app's `content_type` and `body`.
pub fn outgoing(
    provider: &ProviderConfig,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Outgoing, RelayError> {
    let style = provider.info().revoke_style;
    let url = match (style, provider.revoke_url()) {
        (RevokeStyle::NotOffered, _) | (_, None) => {
            return Err(RelayError::RevocationNotOffered(provider.display_name()));
        }
        (_, Some(url)) => url.clone(),
    };
    let params = Params::parse(content_type, body)?;
    params.refuse_repeats()?;
    let token = params
        .get("token")
        .or_else(|| params.get("access_token"))
        .ok_or_else(|| RelayError::invalid_request("token is missing."))?;
    let hint = params.get("token_type_hint");
    let (content_type, body, authorization) = match style {
        RevokeStyle::Rfc7009 => {
            let mut out = Params::Form(vec![("token".into(), token)]);
            if let Some(hint) = hint {
                out.set("token_type_hint", &hint);
            }
            let authorization = client_auth::apply(provider, &mut out, TokenBody::Form);
            let (content_type, body) = out.encode(TokenBody::Form)?;
            (content_type, body, authorization)
        }
        RevokeStyle::IntuitJson => {
            let out = json_object([("token", token)]);
            let authorization = client_auth::basic(provider.client_id(), provider.client_secret());
            let (content_type, body) = out.encode(TokenBody::Json)?;
            (content_type, body, Some(authorization))
        }
        RevokeStyle::SquareClientHeader => {
            if hint.as_deref() == Some("refresh_token") {
                return Err(RelayError::invalid_request(format!(
                    "{} revokes by access token, not refresh token.",
                    provider.display_name()
                )));
            }
            let out = json_object([
                ("client_id", provider.client_id().to_string()),
                ("access_token", token),
            ]);
            let authorization = client_auth::square_client(provider.client_secret());
            let (content_type, body) = out.encode(TokenBody::Json)?;
            (content_type, body, Some(authorization))
        }
        RevokeStyle::NotOffered => unreachable!("refused above"),
    };
    Ok(Outgoing {
        url,
        content_type,
        body,
        authorization,
    })
}

fn json_object<const N: usize>(members: [(&str, String); N]) -> Params {
    let map: Map<String, Value> = members
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    Params::Json(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RelayConfig;

    fn config() -> RelayConfig {
        RelayConfig::from_env_map([
            ("RELAY_QUICKBOOKS_CLIENT_ID", "qb-id"),
            ("RELAY_QUICKBOOKS_CLIENT_SECRET", "qb-secret"),
            ("RELAY_SQUARE_CLIENT_ID", "sq-id"),
            ("RELAY_SQUARE_CLIENT_SECRET", "sq-secret"),
            ("RELAY_GOOGLE_CALENDAR_CLIENT_ID", "g-id"),
            ("RELAY_GOOGLE_CALENDAR_CLIENT_SECRET", "g-secret"),
            ("RELAY_MYOB_CLIENT_ID", "myob-id"),
            ("RELAY_MYOB_CLIENT_SECRET", "myob-secret"),
        ])
        .unwrap()
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json");

    fn body(out: &Outgoing) -> String {
        String::from_utf8(out.body.clone()).unwrap()
    }

    #[test]
    fn each_style_gets_its_shape() {
        let c = config();
        let rfc = b"token=t1&token_type_hint=refresh_token&client_id=app";
        let intuit = outgoing(c.provider("quickbooks").unwrap(), FORM, rfc).unwrap();
        assert_eq!(intuit.content_type, "application/json");
        assert_eq!(body(&intuit), r#"{"token":"t1"}"#);
        assert!(intuit.authorization.unwrap().expose().starts_with("Basic "));

        let square = outgoing(
            c.provider("square").unwrap(),
            JSON,
            br#"{"client_id":"app","access_token":"a1"}"#,
        )
        .unwrap();
        assert_eq!(
            body(&square),
            r#"{"access_token":"a1","client_id":"sq-id"}"#
        );
        assert_eq!(square.authorization.unwrap().expose(), "Client sq-secret");

        let google = outgoing(c.provider("google_calendar").unwrap(), FORM, rfc).unwrap();
        assert_eq!(google.content_type, "application/x-www-form-urlencoded");
        assert_eq!(
            body(&google),
            "token=t1&token_type_hint=refresh_token&client_id=g-id&client_secret=g-secret"
        );
        assert!(google.authorization.is_none());
    }

    #[test]
    fn what_cannot_be_revoked_is_refused() {
        let c = config();
        let err = outgoing(c.provider("myob").unwrap(), FORM, b"token=t")
            .err()
            .unwrap();
        assert!(matches!(err, RelayError::RevocationNotOffered(_)), "{err}");
        let err = outgoing(
            c.provider("square").unwrap(),
            FORM,
            b"token=r&token_type_hint=refresh_token",
        )
        .err()
        .unwrap();
        assert!(matches!(err, RelayError::InvalidRequest(_)), "{err}");
        let err = outgoing(
            c.provider("quickbooks").unwrap(),
            FORM,
            b"token_type_hint=x",
        )
        .err()
        .unwrap();
        assert!(matches!(err, RelayError::InvalidRequest(_)), "{err}");
    }
}
