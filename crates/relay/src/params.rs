//! The parameters of a token or revoke request: read from the app's body (a form or a JSON
//! object), changed (credentials), and written in the encoding the provider wants.

use serde_json::{Map, Value};
use switchboard_core::catalogue::TokenBody;

use crate::error::RelayError;

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// A request's parameters, in the encoding they came in. JSON keeps its value types (Square's
/// `short_lived: true`) when it goes out as JSON again.
#[derive(Clone)]
pub enum Params {
    Form(Vec<(String, String)>),
    Json(Map<String, Value>),
}

impl Params {
    /// Reads a body by its media type: a form, or a JSON object.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Params, RelayError> {
        let media = content_type
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match media.as_str() {
            FORM => serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .map(Params::Form)
                .map_err(|_| RelayError::invalid_request("The body is not a URL-encoded form.")),
            JSON => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(Params::Json(map)),
                _ => Err(RelayError::invalid_request(
                    "The body is not a JSON object.",
                )),
            },
            _ => Err(RelayError::UnsupportedMediaType),
        }
    }

    /// The value of `name` as text (the first one of a repeated form field); empty counts as
    /// absent (RFC 6749 section 3.1).
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match self {
            Params::Form(pairs) => pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            Params::Json(map) => map.get(name).and_then(scalar_text),
        };
        value.filter(|v| !v.is_empty())
    }

    /// Refuses a form with a parameter given twice (RFC 6749 section 3.1): the relay and the
    /// provider could read different values (PHP servers take the last, the relay the first).
    /// A JSON object has one value per name once parsed.
    pub fn refuse_repeats(&self) -> Result<(), RelayError> {
        let Params::Form(pairs) = self else {
            return Ok(());
        };
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(RelayError::invalid_request(format!(
                    "`{}` is repeated.",
                    shown_name(name)
                )));
            }
        }
        Ok(())
    }

    /// Removes every `name`.
    pub fn remove(&mut self, name: &str) {
        match self {
            Params::Form(pairs) => pairs.retain(|(k, _)| k != name),
            Params::Json(map) => {
                map.remove(name);
            }
        }
    }

    /// Sets `name` to `value`, replacing any value it had.
    pub fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        match self {
            Params::Form(pairs) => pairs.push((name.to_string(), value.to_string())),
            Params::Json(map) => {
                map.insert(name.to_string(), Value::String(value.to_string()));
            }
        }
    }

    /// The body in `encoding`: its media type and bytes.
    pub fn encode(self, encoding: TokenBody) -> Result<(&'static str, Vec<u8>), RelayError> {
        match encoding {
            TokenBody::Form => {
                let pairs = match self {
                    Params::Form(pairs) => pairs,
                    Params::Json(map) => {
                        let mut pairs = Vec::with_capacity(map.len());
                        for (k, v) in map {
                            if v.is_null() {
                                continue;
                            }
                            let text = scalar_text(&v).ok_or_else(|| {
                                RelayError::invalid_request(format!(
                                    "`{}` must be a string, number or boolean.",
                                    shown_name(&k)
                                ))
                            })?;
                            pairs.push((k, text));
                        }
                        pairs
                    }
                };
                let body = serde_urlencoded::to_string(&pairs)
                    .map_err(|_| RelayError::invalid_request("The form cannot be encoded."))?;
                Ok((FORM, body.into_bytes()))
            }
            TokenBody::Json => {
                let map = match self {
                    Params::Json(map) => map,
                    Params::Form(pairs) => pairs
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                };
                let body = serde_json::to_vec(&Value::Object(map))
                    .map_err(|_| RelayError::invalid_request("The body cannot be encoded."))?;
                Ok((JSON, body))
            }
        }
    }
}

/// A JSON scalar as text; arrays of strings joined with spaces (Square's `scopes`).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(" ")),
        _ => None,
    }
}

/// A parameter name fit for a message: short and printable.
fn shown_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_json_objects_are_read_by_media_type() {
        let form = Params::parse(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"grant_type=refresh_token&refresh_token=a%2Bb&x=",
        )
        .unwrap();
        assert_eq!(form.get("refresh_token").as_deref(), Some("a+b"));
        assert_eq!(form.get("x"), None);
        let json = Params::parse(
            Some("Application/JSON"),
            br#"{"grant_type":"authorization_code","short_lived":true}"#,
        )
        .unwrap();
        assert_eq!(json.get("short_lived").as_deref(), Some("true"));
        assert!(matches!(
            Params::parse(Some("text/plain"), b"a=b"),
            Err(RelayError::UnsupportedMediaType)
        ));
        assert!(Params::parse(None, b"a=b").is_err());
        assert!(Params::parse(Some("application/json"), b"[1]").is_err());
    }

    #[test]
    fn set_replaces_every_earlier_value() {
        let mut p = Params::Form(vec![
            ("client_id".into(), "a".into()),
            ("code".into(), "c".into()),
            ("client_id".into(), "b".into()),
        ]);
        p.set("client_id", "mine");
        let (media, body) = p.encode(TokenBody::Form).unwrap();
        assert_eq!(media, FORM);
        assert_eq!(String::from_utf8(body).unwrap(), "code=c&client_id=mine");
    }

    #[test]
    fn json_keeps_its_types_and_forms_become_strings() {
        let mut p = Params::parse(
            Some(JSON),
            br#"{"code":"c","short_lived":false,"client_secret":null}"#,
        )
        .unwrap();
        p.set("client_secret", "s");
        let (media, body) = p.encode(TokenBody::Json).unwrap();
        assert_eq!(media, JSON);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["short_lived"], Value::Bool(false));
        assert_eq!(v["client_secret"], "s");
        let form = Params::Form(vec![("code".into(), "c".into())]);
        let (_, body) = form.encode(TokenBody::Json).unwrap();
        assert_eq!(body, br#"{"code":"c"}"#);
        let json = Params::parse(Some(JSON), br#"{"a":1,"b":null}"#).unwrap();
        let (_, body) = json.encode(TokenBody::Form).unwrap();
        assert_eq!(body, b"a=1");
        let nested = Params::parse(Some(JSON), br#"{"a":{"b":1}}"#).unwrap();
        assert!(nested.encode(TokenBody::Form).is_err());
    }
}
