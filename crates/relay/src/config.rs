//! The relay's configuration, read only from environment variables (see docs/RELAY.md).
//!
//! For each OAuth provider of the catalogue (`xero`, `quickbooks`, `google_calendar`,
//! `square`, `myob`, `mautic`), with `<KEY>` its key in upper case:
//!
//! - `RELAY_<KEY>_CLIENT_ID` and `RELAY_<KEY>_CLIENT_SECRET`: the app registration's
//!   credentials. Both or neither: a provider without them is not served (404).
//! - `RELAY_<KEY>_TOKEN_URL`, `RELAY_<KEY>_REVOKE_URL`: overrides of the catalogue's endpoints
//!   (a sandbox, a regional host). Mautic lives on the customer's own host, so its token URL
//!   has no default and must be given.
//!
//! And `RELAY_LISTEN` (default `127.0.0.1:8080`), `RELAY_UPSTREAM_TIMEOUT_SECS` (default 15),
//! `RELAY_LOG` (the log filter, read by the binary). Any other `RELAY_` variable is refused, so a
//! misspelt name fails at start-up instead of leaving a provider silently unserved.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use switchboard_core::catalogue::{self, OAuthInfo, RevokeStyle};
use switchboard_core::secret::SecretString;
use url::Url;

/// Where the relay listens unless `RELAY_LISTEN` says otherwise: loopback only, since it is
/// meant to sit behind an HTTPS reverse proxy.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// How long a provider may take to answer a relayed request.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);
/// The variable holding the log filter (read by the binary; accepted here).
pub const LOG_VARIABLE: &str = "RELAY_LOG";

const PREFIX: &str = "RELAY_";
const LISTEN: &str = "RELAY_LISTEN";
const UPSTREAM_TIMEOUT: &str = "RELAY_UPSTREAM_TIMEOUT_SECS";
const SUFFIXES: [&str; 4] = ["CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL", "REVOKE_URL"];

/// A configuration that cannot be used. Messages name variables, never their values (a value
/// could be a secret pasted into the wrong variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable} is set but {missing} is not: give both or neither")]
    HalfCredentials { variable: String, missing: String },
    #[error(
        "{provider} has no default token URL (it runs on the customer's own host): set {variable}"
    )]
    TokenUrlRequired { provider: String, variable: String },
    #[error("{variable} is not usable: {reason}")]
    BadUrl { variable: String, reason: String },
    #[error("{variable} is set but {provider} offers no token revocation")]
    RevokeNotOffered { provider: String, variable: String },
    #[error("{variable} is not a socket address such as 127.0.0.1:8080 or 0.0.0.0:8080")]
    BadListen { variable: String },
    #[error("{variable} must be a whole number of seconds from 1 to 300")]
    BadTimeout { variable: String },
    #[error("{variable} is not a variable the relay knows (known: {known})")]
    UnknownVariable { variable: String, known: String },
}

/// One provider the relay serves: the catalogue's facts plus this deployment's registration.
#[derive(Clone)]
pub struct ProviderConfig {
    key: &'static str,
    display_name: &'static str,
    info: &'static OAuthInfo,
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
    revoke_url: Option<Url>,
}

impl ProviderConfig {
    /// The catalogue key (`quickbooks`).
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The provider's name for messages ("QuickBooks Online").
    pub fn display_name(&self) -> &'static str {
        self.display_name
    }

    /// The catalogue's OAuth facts (client authentication, body encoding, revoke style).
    pub fn info(&self) -> &'static OAuthInfo {
        self.info
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// `None` where the provider offers no revocation.
    pub fn revoke_url(&self) -> Option<&Url> {
        self.revoke_url.as_ref()
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("key", &self.key)
            .field("client_id", &self.client_id)
            // `SecretString`'s Debug is redacted.
            .field("client_secret", &self.client_secret)
            .field("token_url", &self.token_url.as_str())
            .field("revoke_url", &self.revoke_url.as_ref().map(Url::as_str))
            .finish()
    }
}

/// Everything the relay needs: where to listen, how long to wait for providers, and the
/// providers it serves.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    listen: SocketAddr,
    upstream_timeout: Duration,
    providers: BTreeMap<&'static str, ProviderConfig>,
}

impl RelayConfig {
    /// Reads the process environment (variables that are not valid UTF-8 are skipped; none of
    /// the relay's may be).
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Self::from_env_map(vars)
    }

    /// Builds the configuration from `NAME=value` pairs, as the environment would give them
    /// (tests build it in process this way). Variables not starting with `RELAY_` are ignored;
    /// empty values count as unset.
    pub fn from_env_map<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in vars {
            let (k, v) = (k.into(), v.into());
            if k.starts_with(PREFIX) && !v.trim().is_empty() {
                env.insert(k, v);
            }
        }
        let known = known_variables();
        if let Some(unknown) = env.keys().find(|k| !known.contains(k)) {
            return Err(ConfigError::UnknownVariable {
                variable: unknown.clone(),
                known: known.join(", "),
            });
        }
        let listen = match env.get(LISTEN) {
            None => DEFAULT_LISTEN.parse().expect("the default address parses"),
            Some(v) => v.trim().parse().map_err(|_| ConfigError::BadListen {
                variable: LISTEN.into(),
            })?,
        };
        let upstream_timeout = match env.get(UPSTREAM_TIMEOUT) {
            None => DEFAULT_UPSTREAM_TIMEOUT,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=300).contains(s))
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::BadTimeout {
                    variable: UPSTREAM_TIMEOUT.into(),
                })?,
        };
        let mut providers = BTreeMap::new();
        for p in catalogue::PROVIDERS {
            let Some(info) = p.oauth else { continue };
            if let Some(config) = provider_config(p.key, p.display_name, info, &env)? {
                providers.insert(p.key, config);
            }
        }
        Ok(RelayConfig {
            listen,
            upstream_timeout,
            providers,
        })
    }

    /// Overrides how long a provider may take to answer (tests use a short one).
    pub fn with_upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    pub fn upstream_timeout(&self) -> Duration {
        self.upstream_timeout
    }

    /// The provider `key` if it is configured here.
    pub fn provider(&self, key: &str) -> Option<&ProviderConfig> {
        self.providers.get(key)
    }

    /// The keys of the configured providers (for the start-up log line).
    pub fn provider_keys(&self) -> Vec<&'static str> {
        self.providers.keys().copied().collect()
    }
}

/// `RELAY_QUICKBOOKS_CLIENT_ID` for (`quickbooks`, `CLIENT_ID`).
pub fn variable(key: &str, suffix: &str) -> String {
    format!("{PREFIX}{}_{suffix}", key.to_ascii_uppercase())
}

/// Every variable the relay reads, in a stable order.
fn known_variables() -> Vec<String> {
    let mut known = vec![
        LISTEN.to_string(),
        UPSTREAM_TIMEOUT.to_string(),
        LOG_VARIABLE.to_string(),
    ];
    for p in catalogue::PROVIDERS.iter().filter(|p| p.oauth.is_some()) {
        known.extend(SUFFIXES.iter().map(|s| variable(p.key, s)));
    }
    known
}

fn provider_config(
    key: &'static str,
    display_name: &'static str,
    info: &'static OAuthInfo,
    env: &BTreeMap<String, String>,
) -> Result<Option<ProviderConfig>, ConfigError> {
    let name = |suffix: &str| variable(key, suffix);
    let get = |suffix: &str| env.get(&name(suffix)).map(|v| v.trim().to_string());
    let (client_id, client_secret) = match (get("CLIENT_ID"), get("CLIENT_SECRET")) {
        (None, None) => {
            // Endpoint overrides alone configure nothing; say so rather than ignore them.
            for suffix in ["TOKEN_URL", "REVOKE_URL"] {
                if env.contains_key(&name(suffix)) {
                    return Err(ConfigError::HalfCredentials {
                        variable: name(suffix),
                        missing: format!("{} and {}", name("CLIENT_ID"), name("CLIENT_SECRET")),
                    });
                }
            }
            return Ok(None);
        }
        (Some(_), None) => {
            return Err(ConfigError::HalfCredentials {
                variable: name("CLIENT_ID"),
                missing: name("CLIENT_SECRET"),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::HalfCredentials {
                variable: name("CLIENT_SECRET"),
                missing: name("CLIENT_ID"),
            });
        }
        (Some(id), Some(secret)) => (id, SecretString::new(secret)),
    };
    let token_url = match get("TOKEN_URL") {
        Some(v) => checked_url(&name("TOKEN_URL"), &v)?,
        // A path (Mautic's) is on the customer's host: only an override can say which.
        None if info.token_url.starts_with('/') => {
            return Err(ConfigError::TokenUrlRequired {
                provider: display_name.into(),
                variable: name("TOKEN_URL"),
            });
        }
        None => checked_url(&name("TOKEN_URL"), info.token_url)?,
    };
    let revoke_url = match (info.revoke_style, get("REVOKE_URL")) {
        (RevokeStyle::NotOffered, Some(_)) => {
            return Err(ConfigError::RevokeNotOffered {
                provider: display_name.into(),
                variable: name("REVOKE_URL"),
            });
        }
        (RevokeStyle::NotOffered, None) => None,
        (_, Some(v)) => Some(checked_url(&name("REVOKE_URL"), &v)?),
        (_, None) => match info.revoke_url {
            Some(u) if !u.starts_with('/') => Some(checked_url(&name("REVOKE_URL"), u)?),
            _ => None,
        },
    };
    Ok(Some(ProviderConfig {
        key,
        display_name,
        info,
        client_id,
        client_secret,
        token_url,
        revoke_url,
    }))
}

/// An absolute `https` URL, or plain `http` to this computer only (a local sandbox): the relay
/// sends the client secret there.
fn checked_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    let bad = |reason: String| ConfigError::BadUrl {
        variable: variable.into(),
        reason,
    };
    let url = Url::parse(value.trim()).map_err(|e| bad(format!("not an absolute URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "plain http would send the client secret unencrypted; use https".into(),
        )),
        other => Err(bad(format!("the scheme {other}: is not https"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "the-very-secret-value-1234";

    fn qbo() -> Vec<(String, String)> {
        vec![
            ("RELAY_QUICKBOOKS_CLIENT_ID".into(), "AB-client".into()),
            ("RELAY_QUICKBOOKS_CLIENT_SECRET".into(), SECRET.into()),
        ]
    }

    fn with(mut vars: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
        vars.push((k.into(), v.into()));
        vars
    }

    #[test]
    fn defaults_come_from_the_catalogue() {
        let c = RelayConfig::from_env_map(with(qbo(), "PATH", "/usr/bin")).unwrap();
        assert_eq!(c.listen(), DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(c.upstream_timeout(), DEFAULT_UPSTREAM_TIMEOUT);
        assert_eq!(c.provider_keys(), vec!["quickbooks"]);
        let p = c.provider("quickbooks").unwrap();
        assert_eq!(
            p.token_url().as_str(),
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
        );
        assert_eq!(
            p.revoke_url().unwrap().as_str(),
            "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
        );
        assert_eq!(p.client_secret().expose(), SECRET);
        assert!(c.provider("xero").is_none());
    }

    #[test]
    fn overrides_listen_and_timeout_are_read() {
        let vars = with(
            with(
                with(qbo(), "RELAY_LISTEN", "0.0.0.0:9090"),
                "RELAY_UPSTREAM_TIMEOUT_SECS",
                "5",
            ),
            "RELAY_QUICKBOOKS_TOKEN_URL",
            "https://sandbox.example/token",
        );
        let c = RelayConfig::from_env_map(vars).unwrap();
        assert_eq!(c.listen().to_string(), "0.0.0.0:9090");
        assert_eq!(c.upstream_timeout(), Duration::from_secs(5));
        let p = c.provider("quickbooks").unwrap();
        assert_eq!(p.token_url().as_str(), "https://sandbox.example/token");
    }

    #[test]
    fn half_a_registration_is_refused() {
        let only_id = vec![("RELAY_SQUARE_CLIENT_ID", "sq0idp")];
        let err = RelayConfig::from_env_map(only_id).unwrap_err();
        assert!(matches!(err, ConfigError::HalfCredentials { .. }), "{err}");
        assert!(err.to_string().contains("RELAY_SQUARE_CLIENT_SECRET"));
        let only_url = vec![("RELAY_XERO_TOKEN_URL", "https://x.example/t")];
        assert!(RelayConfig::from_env_map(only_url).is_err());
    }

    #[test]
    fn mautic_needs_its_token_url() {
        let vars = vec![
            ("RELAY_MAUTIC_CLIENT_ID", "1_abc"),
            ("RELAY_MAUTIC_CLIENT_SECRET", SECRET),
        ];
        let err = RelayConfig::from_env_map(vars.clone()).unwrap_err();
        assert!(matches!(err, ConfigError::TokenUrlRequired { .. }), "{err}");
        let mut vars = vars;
        vars.push((
            "RELAY_MAUTIC_TOKEN_URL",
            "https://crm.example.org/oauth/v2/token",
        ));
        let c = RelayConfig::from_env_map(vars).unwrap();
        let m = c.provider("mautic").unwrap();
        assert!(m.revoke_url().is_none());
    }

    #[test]
    fn bad_values_are_refused_without_echoing_them() {
        for (k, v) in [
            ("RELAY_QUICKBOOKS_TOKEN_URL", "http://remote.example/token"),
            ("RELAY_QUICKBOOKS_TOKEN_URL", "not a url"),
            ("RELAY_QUICKBOOKS_REVOKE_URL", "ftp://x.example/"),
            ("RELAY_LISTEN", "eighty"),
            ("RELAY_UPSTREAM_TIMEOUT_SECS", "0"),
            ("RELAY_MYOB_REVOKE_URL", "https://myob.example/revoke"),
            ("RELAY_GOOGLE_CLIENT_SECRET", SECRET),
        ] {
            let err = RelayConfig::from_env_map(with(qbo(), k, v)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(k) || k.starts_with("RELAY_MYOB"), "{text}");
            assert!(!text.contains(v) || v.len() < 6, "{text}");
            assert!(!text.contains(SECRET), "{text}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = RelayConfig::from_env_map(qbo()).unwrap();
        let shown = format!("{c:?} {:#?}", c.provider("quickbooks").unwrap());
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("AB-client"), "{shown}");
    }

    #[test]
    fn every_oauth_provider_of_the_catalogue_has_its_variables() {
        let known = known_variables();
        for key in [
            "XERO",
            "QUICKBOOKS",
            "GOOGLE_CALENDAR",
            "SQUARE",
            "MYOB",
            "MAUTIC",
        ] {
            for suffix in SUFFIXES {
                assert!(known.contains(&format!("RELAY_{key}_{suffix}")), "{key}");
            }
        }
    }
}
