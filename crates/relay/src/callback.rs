//! `GET /oauth/{provider}/callback`: where the provider sends the browser after sign-in (the
//! relay's HTTPS redirect URI). The app made `state` as `{port}.{random}`, `port` being its
//! loopback listener's; the relay sends the browser on to that listener with the query string
//! unchanged: `302 Found`, `Location: http://localhost:{port}/oauth/callback?{query}`.
//!
//! Only ever to this computer: the host and path are the catalogue's loopback redirect
//! (`localhost`, or `127.0.0.1` for Google, whose catalogue entry listens there), never
//! anything from the request; only the port comes from `state`, and only 1024–65535. A
//! provider's `error=…` (the user denied) is forwarded the same way, for the app to show.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::catalogue::LoopbackRedirect;

use crate::error::printable;
use crate::page;

/// The lowest port the relay sends a browser to: below it are system services, never the
/// app's listener.
pub const MIN_PORT: u16 = 1024;

/// Why a redirect is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("this relay does not serve that provider")]
    UnknownProvider,
    #[error("the answer carries no state")]
    MissingState { provider_error: Option<String> },
    #[error("the answer carries more than one state")]
    RepeatedState,
    #[error("the state does not name a port of this computer")]
    BadState,
}

/// Where to send the browser: the app's listener, with `query` unchanged.
pub fn location(redirect: &LoopbackRedirect, query: &str) -> Result<String, CallbackError> {
    let mut states = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    let Some(state) = states.next().filter(|s| !s.is_empty()) else {
        let provider_error = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "error")
            .map(|(_, v)| printable(&v, 60));
        return Err(CallbackError::MissingState { provider_error });
    };
    if states.next().is_some() {
        return Err(CallbackError::RepeatedState);
    }
    let port = port_of(&state).ok_or(CallbackError::BadState)?;
    Ok(format!(
        "http://{}:{port}{}?{query}",
        loopback_host(redirect.host),
        redirect.path
    ))
}

/// The port of a `{port}.{random}` state: decimal digits without a leading zero, 1024–65535,
/// followed by a dot and a non-empty random part.
pub fn port_of(state: &str) -> Option<u16> {
    let (port, random) = state.split_once('.')?;
    if random.is_empty()
        || port.is_empty()
        || port.len() > 5
        || port.starts_with('0')
        || !port.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    port.parse::<u16>().ok().filter(|p| *p >= MIN_PORT)
}

/// The catalogue's loopback host as it goes into a URL; anything else (there is none) falls
/// back to `localhost`, so the relay can never point a browser off this computer.
fn loopback_host(host: &str) -> &'static str {
    match host {
        "127.0.0.1" => "127.0.0.1",
        "::1" | "[::1]" => "[::1]",
        _ => "localhost",
    }
}

/// The relay's answer: the redirect, or a page saying what went wrong.
pub fn respond(outcome: Result<String, CallbackError>) -> Response {
    let location = match outcome {
        Ok(location) => location,
        Err(e) => return refusal(&e),
    };
    let Ok(value) = HeaderValue::from_str(&location) else {
        return refusal(&CallbackError::BadState);
    };
    let mut response = StatusCode::FOUND.into_response();
    let h = response.headers_mut();
    h.insert(header::LOCATION, value);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The query holds the code: never send it on as a referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn refusal(error: &CallbackError) -> Response {
    let message = match error {
        CallbackError::UnknownProvider => {
            "This sign-in relay does not serve the provider named in this address, so the \
             answer cannot be passed on. Start the sign-in again from Switchboard."
                .to_string()
        }
        CallbackError::MissingState { provider_error } => {
            let said = provider_error
                .as_deref()
                .map(|e| format!(" The provider reported “{e}”."))
                .unwrap_or_default();
            format!(
                "The provider's answer carries no state, so the relay cannot tell which \
                 Switchboard window it belongs to.{said} Start the sign-in again from \
                 Switchboard."
            )
        }
        CallbackError::RepeatedState | CallbackError::BadState => {
            "The provider's answer does not carry a state made by Switchboard (it must start \
             with the port Switchboard listens on), so it was not passed on. Start the sign-in \
             again from Switchboard."
                .to_string()
        }
    };
    page::render(
        StatusCode::BAD_REQUEST,
        "The sign-in cannot continue",
        &message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIRECT: LoopbackRedirect = LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: "/oauth/callback",
    };

    #[test]
    fn ports_are_read_strictly() {
        assert_eq!(port_of("53682.abc"), Some(53682));
        assert_eq!(port_of("1024.x.y"), Some(1024));
        assert_eq!(port_of("65535.x"), Some(65535));
        for bad in [
            "",
            "abc",
            "53682",
            "53682.",
            ".abc",
            "1023.x",
            "0.x",
            "65536.x",
            "99999.x",
            "080.x",
            "+8080.x",
            "-1.x",
            "80a.x",
            "８０８０.x",
            "123456.x",
        ] {
            assert_eq!(port_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_query_goes_on_unchanged_to_localhost() {
        let q = "code=a%2Fb&state=53682.r4nd0m&realmId=9341&x=%20";
        assert_eq!(
            location(&REDIRECT, q).unwrap(),
            format!("http://localhost:53682/oauth/callback?{q}")
        );
        let denied = "error=access_denied&state=4000.zz";
        assert_eq!(
            location(&REDIRECT, denied).unwrap(),
            format!("http://localhost:4000/oauth/callback?{denied}")
        );
        let google = LoopbackRedirect {
            host: "127.0.0.1",
            ..REDIRECT
        };
        assert!(
            location(&google, "state=2000.a")
                .unwrap()
                .starts_with("http://127.0.0.1:2000/")
        );
        // Whatever the state holds after the port, the host stays this computer.
        let sneaky = "state=2000.x%40evil.example%2F";
        assert!(
            location(&REDIRECT, sneaky)
                .unwrap()
                .starts_with("http://localhost:2000/oauth/callback?")
        );
    }

    #[test]
    fn missing_or_repeated_state_is_refused() {
        assert_eq!(
            location(&REDIRECT, "error=access_denied"),
            Err(CallbackError::MissingState {
                provider_error: Some("access_denied".into())
            })
        );
        assert_eq!(
            location(&REDIRECT, "code=c&state="),
            Err(CallbackError::MissingState {
                provider_error: None
            })
        );
        assert_eq!(
            location(&REDIRECT, "state=2000.a&state=3000.b"),
            Err(CallbackError::RepeatedState)
        );
        assert_eq!(
            location(&REDIRECT, "state=http://evil.example"),
            Err(CallbackError::BadState)
        );
    }
}
