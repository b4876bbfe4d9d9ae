//! Where one connection's authorize, token and revoke requests go. They default from the
//! catalogue but every connection may override them (a regional host, a sandbox, a fake
//! provider in tests), so the client only ever reads an [`Endpoints`] value.
//! Self-hosted providers (Mautic) have paths in the catalogue, joined onto the customer's URL.

use std::fmt;
use switchboard_core::catalogue::OAuthInfo;
use switchboard_core::{CommandError, ErrorCode};
use url::Url;

/// The three endpoints of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize_url: Url,
    pub token_url: Url,
    /// `None` where the provider offers no revocation.
    pub revoke_url: Option<Url>,
}

/// An endpoint that cannot be used: a bad or missing base URL, or plain HTTP to a remote host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

impl From<EndpointError> for CommandError {
    fn from(e: EndpointError) -> Self {
        CommandError::new(ErrorCode::InvalidInput, e.0)
    }
}

impl Endpoints {
    /// The catalogue's endpoints. Absolute URLs are used as they are; paths (a self-hosted
    /// provider's) are joined onto `base_url`, the connection's own URL, which is then required.
    pub fn resolve(info: &OAuthInfo, base_url: Option<&str>) -> Result<Self, EndpointError> {
        let one = |value: &str| endpoint(value, base_url);
        Ok(Endpoints {
            authorize_url: one(info.authorize_url)?,
            token_url: one(info.token_url)?,
            revoke_url: info.revoke_url.map(one).transpose()?,
        })
    }

    /// Endpoints given in full (a connection's overrides, a test server).
    pub fn parse(
        authorize_url: &str,
        token_url: &str,
        revoke_url: Option<&str>,
    ) -> Result<Self, EndpointError> {
        Ok(Endpoints {
            authorize_url: checked(authorize_url)?,
            token_url: checked(token_url)?,
            revoke_url: revoke_url.map(checked).transpose()?,
        })
    }
}

fn endpoint(value: &str, base_url: Option<&str>) -> Result<Url, EndpointError> {
    if !value.starts_with('/') {
        return checked(value);
    }
    let base = base_url
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            EndpointError(
                "This provider runs on your own server: enter its address (for example \
             https://mautic.example.com) in the connection settings."
                    .into(),
            )
        })?;
    // Concatenated rather than `Url::join`, which would drop a path the base has
    // (`https://example.com/mautic` + `/oauth/v2/token`).
    checked(&format!("{}{}", base.trim_end_matches('/'), value))
}

/// Parses `value` and refuses what would send codes and tokens in the clear: plain HTTP is
/// only accepted to this computer (tests, fake providers).
fn checked(value: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(value.trim())
        .map_err(|e| EndpointError(format!("“{}” is not a usable URL ({e}).", Shown(value))))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(EndpointError(format!(
            "“{}” uses plain HTTP; sign-in codes and tokens would cross the network \
             unencrypted. Use its https:// address.",
            Shown(value)
        ))),
        other => Err(EndpointError(format!(
            "“{}” is not a web address ({other}:); use its https:// address.",
            Shown(value)
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL for a message, without its query (a mistyped value could carry a secret).
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.split(['?', '#']).next().unwrap_or_default();
        f.write_str(text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::catalogue::provider;

    fn info(key: &str) -> &'static OAuthInfo {
        provider(key).unwrap().oauth.unwrap()
    }

    #[test]
    fn absolute_catalogue_urls_are_used_as_they_are() {
        let e = Endpoints::resolve(info("xero"), None).unwrap();
        assert_eq!(
            e.token_url.as_str(),
            "https://identity.xero.com/connect/token"
        );
        assert!(e.revoke_url.is_some());
        let myob = Endpoints::resolve(info("myob"), Some("https://ignored.example")).unwrap();
        assert!(myob.revoke_url.is_none());
    }

    #[test]
    fn self_hosted_paths_join_onto_the_base_keeping_its_path() {
        let e = Endpoints::resolve(info("mautic"), Some("https://m.example.com/mautic/")).unwrap();
        assert_eq!(
            e.authorize_url.as_str(),
            "https://m.example.com/mautic/oauth/v2/authorize"
        );
        assert_eq!(
            e.token_url.as_str(),
            "https://m.example.com/mautic/oauth/v2/token"
        );
        let err = Endpoints::resolve(info("mautic"), None).unwrap_err();
        assert!(err.0.contains("your own server"), "{err}");
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        assert!(Endpoints::parse("http://127.0.0.1:1/a", "http://localhost:1/t", None).is_ok());
        assert!(Endpoints::parse("http://[::1]:1/a", "http://[::1]:1/t", None).is_ok());
        let err = Endpoints::resolve(info("mautic"), Some("http://m.example.com")).unwrap_err();
        assert!(err.0.contains("plain HTTP"), "{err}");
        // Messages quote the URL without its query, which could hold a secret.
        let err = Endpoints::parse("http://a.example/x?key=hunter2", "nope", None).unwrap_err();
        assert!(err.0.contains("http://a.example/x"), "{err}");
        assert!(!err.0.contains("hunter2"), "{err}");
    }
}
