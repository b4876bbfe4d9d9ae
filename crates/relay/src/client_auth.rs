//! How the relay authenticates as the app's registration: the catalogue's `ClientAuth` says
//! where the client secret goes. The `client_id` the app sent is always replaced by the
//! configured one, and any `client_secret` the app sent is dropped.
//!
//! | catalogue                       | credentials                                            |
//! |---------------------------------|--------------------------------------------------------|
//! | `SecretBasic` (QuickBooks)      | `Authorization: Basic`; no `client_id` in the body     |
//! | `SecretPost` (Google, MYOB, Mautic) | `client_id` and `client_secret` in the body        |
//! | `None`, JSON body (Square)      | `client_id` and `client_secret` in the JSON body       |
//! | `None`, form body (Xero)        | `Authorization: Basic` (RFC 6749 section 2.3.1, which every server must support, and what Xero documents for its confidential "web app" clients) |

use base64::Engine as _;
use switchboard_core::catalogue::{ClientAuth, TokenBody};
use switchboard_core::secret::SecretString;

use crate::config::ProviderConfig;
use crate::params::Params;

/// Puts the configured credentials into `params` (sent as `encoding`) or returns the
/// `Authorization` header value that carries them.
pub fn apply(
    provider: &ProviderConfig,
    params: &mut Params,
    encoding: TokenBody,
) -> Option<SecretString> {
    params.remove("client_secret");
    let in_body = match (provider.info().client_auth, encoding) {
        (ClientAuth::SecretPost, _) | (ClientAuth::None, TokenBody::Json) => true,
        (ClientAuth::SecretBasic, _) | (ClientAuth::None, TokenBody::Form) => false,
    };
    if in_body {
        params.set("client_id", provider.client_id());
        params.set("client_secret", provider.client_secret().expose());
        None
    } else {
        params.remove("client_id");
        Some(basic(provider.client_id(), provider.client_secret()))
    }
}

/// `Basic` credentials as RFC 6749 section 2.3.1 says: id and secret form-encoded, joined with
/// `:`, base64-encoded (the same as plain Basic for the usual characters).
pub fn basic(client_id: &str, secret: &SecretString) -> SecretString {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = SecretString::new(format!("{}:{}", encode(client_id), encode(secret.expose())));
    SecretString::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair.expose())
    ))
}

/// Square's revocation header: `Authorization: Client <application secret>`.
pub fn square_client(secret: &SecretString) -> SecretString {
    SecretString::new(format!("Client {}", secret.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RelayConfig;

    fn config() -> RelayConfig {
        RelayConfig::from_env_map([
            ("RELAY_QUICKBOOKS_CLIENT_ID", "qb-id"),
            ("RELAY_QUICKBOOKS_CLIENT_SECRET", "qb:secret"),
            ("RELAY_MYOB_CLIENT_ID", "myob-id"),
            ("RELAY_MYOB_CLIENT_SECRET", "myob-secret"),
            ("RELAY_SQUARE_CLIENT_ID", "sq-id"),
            ("RELAY_SQUARE_CLIENT_SECRET", "sq-secret"),
            ("RELAY_XERO_CLIENT_ID", "xero-id"),
            ("RELAY_XERO_CLIENT_SECRET", "xero-secret"),
        ])
        .unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Params {
        Params::Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn body(params: Params, encoding: TokenBody) -> String {
        String::from_utf8(params.encode(encoding).unwrap().1).unwrap()
    }

    #[test]
    fn basic_providers_get_a_header_and_no_client_id_in_the_body() {
        let c = config();
        for key in ["quickbooks", "xero"] {
            let p = c.provider(key).unwrap();
            let mut params = form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "r"),
                ("client_id", "the-apps-id"),
                ("client_secret", "whatever-the-app-sent"),
            ]);
            let header = apply(p, &mut params, TokenBody::Form).expect("a header");
            assert!(header.expose().starts_with("Basic "), "{key}");
            assert_eq!(
                body(params, TokenBody::Form),
                "grant_type=refresh_token&refresh_token=r"
            );
        }
        // The secret's `:` is form-encoded before base64 (RFC 6749 section 2.3.1).
        let header = basic("qb-id", &SecretString::new("qb:secret"));
        assert_eq!(
            header.expose(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("qb-id:qb%3Asecret")
            )
        );
    }

    #[test]
    fn post_and_json_providers_get_the_secret_in_the_body() {
        let c = config();
        let mut params = form(&[("grant_type", "authorization_code"), ("client_id", "x")]);
        assert!(apply(c.provider("myob").unwrap(), &mut params, TokenBody::Form).is_none());
        assert_eq!(
            body(params, TokenBody::Form),
            "grant_type=authorization_code&client_id=myob-id&client_secret=myob-secret"
        );
        let mut params = Params::parse(
            Some("application/json"),
            br#"{"grant_type":"authorization_code","client_id":"x"}"#,
        )
        .unwrap();
        assert!(apply(c.provider("square").unwrap(), &mut params, TokenBody::Json).is_none());
        let v: serde_json::Value = serde_json::from_str(&body(params, TokenBody::Json)).unwrap();
        assert_eq!(v["client_id"], "sq-id");
        assert_eq!(v["client_secret"], "sq-secret");
    }
}
