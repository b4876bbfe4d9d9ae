//! Small helpers of the OAuth fakes: request parameters, PKCE, HTTP Basic, times, HTML, JWTs.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::seed::SeedRng;

/// Request parameters in order, from a query string, a form or a JSON object. RFC 6749 section
/// 3.1: a parameter sent without a value counts as omitted, and none may appear twice.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn from_query(query: &str) -> Result<Params, String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(Params)
            .map_err(|e| format!("the parameters are not URL-encoded ({e})"))
    }

    pub(crate) fn from_form(body: &[u8]) -> Result<Params, String> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(Params)
            .map_err(|e| format!("the body is not a URL-encoded form ({e})"))
    }

    /// A JSON object's members; booleans and numbers as their text, arrays of strings joined
    /// with spaces (Square's `scopes`).
    pub(crate) fn from_json(body: &[u8]) -> Result<Params, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
        let Value::Object(map) = value else {
            return Err("the body is not a JSON object".into());
        };
        let mut out = Vec::with_capacity(map.len());
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                Value::Object(_) => return Err(format!("`{key}` must not be an object")),
            };
            out.push((key, text));
        }
        Ok(Params(out))
    }

    /// The value of `name`; empty values count as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first parameter given more than once.
    pub(crate) fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (k, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == k)
                .then_some(k.as_str())
        })
    }
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 section 4.2).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A verifier as RFC 7636 section 4.1 allows: 43 to 128 unreserved characters.
pub(crate) fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A challenge as S256 makes them: 43 base64url characters.
pub(crate) fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// `Authorization: Basic` credentials, each part form-decoded (RFC 6749 section 2.3.1).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map_or_else(|| s.to_string(), |(_, v)| v)
    };
    Some((decode(id), decode(secret)))
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The media type of the request body, lower case, without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `url` with `params` appended to its query (RFC 6749 section 4.1.2: the redirect URI's own
/// query is kept).
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    // Redirect URIs carry no fragment (RFC 6749 section 3.1.2); drop one if given.
    let base = url.split('#').next().unwrap_or(url);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}")
}

/// Text safe inside HTML element content and double-quoted attributes.
pub(crate) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A random version-4 UUID, lower case.
pub(crate) fn uuid(rng: &mut SeedRng) -> String {
    let hex = |rng: &mut SeedRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
            .collect()
    };
    let variant = char::from(b"89ab"[rng.below(4) as usize]);
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// A JWT-shaped token: real header and claims, a random (not a real) signature. Clients that
/// read claims work; clients that verify signatures against the provider's keys do not.
pub(crate) fn fake_jwt(rng: &mut SeedRng, claims: &Value) -> String {
    let header = serde_json::json!({"alg": "RS256", "kid": "sandbox", "typ": "JWT"});
    let signature: Vec<u8> = (0..64).map(|_| rng.below(256) as u8).collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// A JSON answer that no cache keeps (RFC 6749 section 5.1).
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub(crate) fn empty_ok() -> Response {
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn html_page(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:34rem;\
         margin:3rem auto;padding:0 1rem;line-height:1.4}}button{{font-size:1rem;\
         padding:.5rem 1.2rem;margin-right:.6rem}}small{{color:#555}}</style></head>\n\
         <body>{body}</body></html>\n",
        title = html(title)
    );
    let mut response = (status, page).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// Scopes as listed (space or comma separated), without repeats.
pub(crate) fn split_scopes(text: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in text.split(|c: char| c.is_whitespace() || c == ',') {
        if !s.is_empty() && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_string());
        }
    }
    scopes
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DDTHH:MM:SS` and the milliseconds of a Unix time in milliseconds.
fn split(ms: i64) -> (String, i64) {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    (
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        ),
        ms.rem_euclid(1000),
    )
}

/// RFC 3339 in UTC, whole seconds: `2025-03-01T12:00:00Z` (Square).
pub(crate) fn rfc3339(ms: i64) -> String {
    format!("{}Z", split(ms).0)
}

/// RFC 3339 with milliseconds and an offset, as Intuit writes `time`: `…T04:36:44.893-07:00`.
pub(crate) fn intuit_time(ms: i64) -> String {
    let (text, millis) = split(ms - 7 * 3_600_000);
    format!("{text}.{millis:03}-07:00")
}

/// Xero's offset-less UTC with seven fraction digits: `2019-12-07T18:46:19.5165400`.
pub(crate) fn xero_time(ms: i64) -> String {
    let (text, millis) = split(ms);
    format!("{text}.{millis:03}0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_the_providers_write_them() {
        // 2019-12-07T18:46:19.516Z
        let ms = 1_575_744_379_516;
        assert_eq!(rfc3339(ms), "2019-12-07T18:46:19Z");
        assert_eq!(xero_time(ms), "2019-12-07T18:46:19.5160000");
        assert_eq!(intuit_time(ms), "2019-12-07T11:46:19.516-07:00");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_verifier(verifier));
        assert!(!valid_verifier("short"));
        assert!(valid_challenge(&s256(verifier)));
    }

    #[test]
    fn params_treat_empty_as_absent_and_find_repeats() {
        let p = Params::from_query("a=1&b=&c=3&a=2").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.repeated(), Some("a"));
        let j = Params::from_json(br#"{"scopes":["A","B"],"short_lived":false}"#).unwrap();
        assert_eq!(j.get("scopes"), Some("A B"));
        assert_eq!(j.get("short_lived"), Some("false"));
    }

    #[test]
    fn redirect_keeps_the_uri_query() {
        assert_eq!(
            with_query(
                "http://127.0.0.1:9/cb?x=1",
                &[("code", "a b"), ("state", "s&t")]
            ),
            "http://127.0.0.1:9/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
