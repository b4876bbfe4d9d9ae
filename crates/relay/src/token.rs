//! `POST /oauth/{provider}/token`: the app's token request (code exchange or refresh, as a
//! public client would send it), with the registration's credentials added, for the
//! provider's token endpoint.

use crate::client_auth;
use crate::config::ProviderConfig;
use crate::error::{RelayError, printable};
use crate::params::Params;
use crate::upstream::Outgoing;

/// The grants relayed: the ones the app uses. Anything else (`client_credentials`,
/// `password`…) would let a caller act as the app's registration itself.
const GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];

/// The request for the provider, from the app's `content_type` and `body`.
pub fn outgoing(
    provider: &ProviderConfig,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Outgoing, RelayError> {
    let mut params = Params::parse(content_type, body)?;
    params.refuse_repeats()?;
    match params.get("grant_type") {
        Some(grant) if GRANTS.contains(&grant.as_str()) => {}
        other => {
            return Err(RelayError::UnsupportedGrantType(
                other.map(|g| printable(&g, 40)),
            ));
        }
    }
    let encoding = provider.info().token_body;
    let authorization = client_auth::apply(provider, &mut params, encoding);
    let (content_type, body) = params.encode(encoding)?;
    Ok(Outgoing {
        url: provider.token_url().clone(),
        content_type,
        body,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RelayConfig;

    fn config() -> RelayConfig {
        RelayConfig::from_env_map([
            ("RELAY_MAUTIC_CLIENT_ID", "1_id"),
            ("RELAY_MAUTIC_CLIENT_SECRET", "m-secret"),
            (
                "RELAY_MAUTIC_TOKEN_URL",
                "https://crm.example.org/oauth/v2/token",
            ),
        ])
        .unwrap()
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn only_the_apps_grants_are_relayed() {
        let c = config();
        let p = c.provider("mautic").unwrap();
        for body in [
            &b"grant_type=client_credentials"[..],
            b"grant_type=password&username=a&password=b",
            b"code=abc",
        ] {
            let err = outgoing(p, FORM, body).err().expect("refused");
            assert!(matches!(err, RelayError::UnsupportedGrantType(_)), "{err}");
        }
        // A repeated grant_type could be read differently by the provider: refused.
        let err = outgoing(
            p,
            FORM,
            b"grant_type=refresh_token&refresh_token=r&grant_type=client_credentials",
        )
        .err()
        .expect("refused");
        assert!(matches!(err, RelayError::InvalidRequest(_)), "{err}");
        let ok = outgoing(
            p,
            FORM,
            b"grant_type=refresh_token&refresh_token=r&client_id=x",
        )
        .expect("relayed");
        assert_eq!(ok.url.as_str(), "https://crm.example.org/oauth/v2/token");
        assert_eq!(
            String::from_utf8(ok.body).unwrap(),
            "grant_type=refresh_token&refresh_token=r&client_id=1_id&client_secret=m-secret"
        );
        assert!(ok.authorization.is_none());
    }
}
