//! PKCE (RFC 7636, S256 only) and the `state` value that ties a redirect to the sign-in that
//! asked for it (RFC 6749 section 10.12).
//!
//! The random values come from the `oauth2` crate (`PkceCodeChallenge`, `CsrfToken`): it is
//! widely used and reviewed, draws from a CSPRNG (`rand`'s thread RNG, seeded by the OS) and
//! gets the verifier's length and alphabet right. We use nothing else of it: its HTTP client
//! side assumes one RFC-shaped token endpoint, and ours differ per provider (see `token`).
//! The values are kept as [`SecretString`] so they never show in `Debug` output or logs.

use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use std::fmt;
use switchboard_core::secret::SecretString;

/// A PKCE verifier and its S256 challenge. The challenge goes into the authorize URL (it is
/// not secret); the verifier only into the token request.
#[derive(Clone)]
pub struct Pkce {
    verifier: SecretString,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier (32 random bytes, base64url: 43 characters) and its challenge.
    pub fn new() -> Self {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        Pkce {
            verifier: SecretString::new(verifier.secret().clone()),
            challenge: challenge.as_str().to_string(),
        }
    }

    /// The pair for a known verifier, or `None` when it is not a valid RFC 7636 verifier
    /// (43 to 128 characters of `A-Z a-z 0-9 - . _ ~`).
    pub fn from_verifier(verifier: &str) -> Option<Self> {
        let valid_len = (43..=128).contains(&verifier.len());
        let valid_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !(valid_len && valid_chars) {
            return None;
        }
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.into()));
        Some(Pkce {
            verifier: SecretString::new(verifier),
            challenge: challenge.as_str().to_string(),
        })
    }

    /// `code_challenge` for the authorize URL.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Always `S256`: the `plain` method protects nothing if the authorize URL leaks.
    pub fn method(&self) -> &'static str {
        "S256"
    }

    /// `code_verifier` for the token request.
    pub fn verifier(&self) -> &SecretString {
        &self.verifier
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// The `state` of one sign-in: unguessable, sent in the authorize URL, and required back
/// unchanged on the redirect, so a redirect forged by another page cannot be completed.
#[derive(Clone)]
pub struct CsrfState(SecretString);

impl CsrfState {
    /// 128 random bits, base64url.
    pub fn new() -> Self {
        CsrfState(SecretString::new(CsrfToken::new_random().secret().clone()))
    }

    /// A known value (tests, or a state kept across an app restart).
    pub fn from_value(value: impl Into<String>) -> Self {
        CsrfState(SecretString::new(value.into()))
    }

    /// The value to put into the authorize URL.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Whether `received` is this state, compared in constant time.
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.expose().as_bytes(), received.as_bytes())
    }
}

impl Default for CsrfState {
    fn default() -> Self {
        CsrfState::new()
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState([redacted])")
    }
}

/// Equality whose time does not depend on where the inputs differ (it does on their lengths,
/// which are not secret here).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(pkce.method(), "S256");
    }

    #[test]
    fn fresh_verifiers_are_valid_distinct_and_redacted() {
        let a = Pkce::new();
        let b = Pkce::new();
        assert_eq!(a.verifier().expose().len(), 43);
        assert_ne!(a.verifier().expose(), b.verifier().expose());
        // The challenge is the S256 of the verifier.
        let again = Pkce::from_verifier(a.verifier().expose()).unwrap();
        assert_eq!(again.challenge(), a.challenge());
        assert!(!format!("{a:?}").contains(a.verifier().expose()));
    }

    #[test]
    fn invalid_verifiers_are_refused() {
        assert!(Pkce::from_verifier("short").is_none());
        assert!(Pkce::from_verifier(&"a".repeat(129)).is_none());
        assert!(Pkce::from_verifier(&format!("{}+", "a".repeat(43))).is_none());
    }

    #[test]
    fn state_matches_only_itself_and_never_prints() {
        let state = CsrfState::new();
        let value = state.expose().to_string();
        assert!(value.len() >= 22);
        assert!(state.matches(&value));
        assert!(!state.matches(&format!("{value}x")));
        assert!(!state.matches(""));
        assert_ne!(CsrfState::new().expose(), value);
        assert!(!format!("{state:?}").contains(&value));
    }
}
