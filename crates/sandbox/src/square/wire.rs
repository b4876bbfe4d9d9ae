//! What every Square answer shares: RFC 3339 times, `Money`, query parameters, opaque cursors
//! and the `{"errors": [...]}` envelope.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::API_VERSION;

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

/// A civil date to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of the UTC day holding `ms`.
pub(crate) fn date(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 UTC with milliseconds, as Square writes payment times: `2021-10-13T19:34:33.524Z`.
pub(crate) fn time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let t = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        date(ms),
        t / 3600,
        t / 60 % 60,
        t % 60,
        ms.rem_euclid(1000)
    )
}

/// RFC 3339 UTC in whole seconds, as Square writes payout times: `2022-03-29T16:12:31Z`.
pub(crate) fn time_s(ms: i64) -> String {
    let full = time_ms(ms);
    format!("{}Z", &full[..19])
}

/// Parses RFC 3339 (`2024-01-02T03:04:05Z`, optional fraction, `Z` or `±hh:mm`) to Unix ms.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (rest[1..3].parse::<i64>().ok()? * 60 + rest[4..6].parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some(secs * 1000 + millis)
}

/// Square's `Money`.
pub(crate) fn money(amount: i64, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

/// A Square error answer: `{"errors": [{"category", "code", "detail", "field"}]}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) category: &'static str,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
    pub(crate) field: Option<String>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        category: &'static str,
        code: &'static str,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            category,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    /// 400 `INVALID_REQUEST_ERROR` about one request field.
    pub(crate) fn invalid(code: &'static str, field: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST_ERROR",
                code,
                detail,
            )
        }
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "INVALID_REQUEST_ERROR",
            "NOT_FOUND",
            detail,
        )
    }

    pub(crate) fn into_response(self) -> Response {
        let mut error = json!({
            "category": self.category,
            "code": self.code,
            "detail": self.detail,
        });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        answer(self.status, &json!({ "errors": [error] }))
    }
}

/// A JSON answer with the `Square-Version` it was rendered for.
pub(crate) fn answer(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("square-version", HeaderValue::from_static(API_VERSION));
    response
}

/// Query parameters, checked against what the operation accepts.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `query`; a parameter the operation does not know is refused, as Square refuses
    /// `UNKNOWN_QUERY_PARAMETER`.
    pub(crate) fn parse(query: &str, known: &[&str]) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            ApiError::invalid("BAD_REQUEST", "query", format!("Unreadable query: {e}"))
        })?;
        if let Some((name, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(ApiError::invalid(
                "UNKNOWN_QUERY_PARAMETER",
                name,
                format!("Unknown query parameter `{name}`."),
            ));
        }
        Ok(Query(pairs))
    }

    /// The value of `name`; empty counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::invalid(
                        "EXPECTED_INTEGER",
                        name,
                        format!("Expected an integer value for `{name}`."),
                    )
                })
            })
            .transpose()
    }

    pub(crate) fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                parse_time(v).ok_or_else(|| {
                    ApiError::invalid(
                        "INVALID_TIME",
                        name,
                        format!("`{name}` must be an RFC 3339 timestamp; got `{v}`."),
                    )
                })
            })
            .transpose()
    }

    /// `sort_order`: `ASC` or `DESC` (`default` when absent).
    pub(crate) fn order(&self, name: &str, default: Order) -> Result<Order, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some("ASC") => Ok(Order::Asc),
            Some("DESC") => Ok(Order::Desc),
            Some(other) => Err(ApiError::invalid(
                "INVALID_SORT_ORDER",
                name,
                format!("`{other}` is not a valid sort order; use ASC or DESC."),
            )),
        }
    }

    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(
                "EXPECTED_BOOLEAN",
                name,
                format!("Expected a boolean value for `{name}`."),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Asc,
    Desc,
}

/// One listed object: its sort key (zero-padded times sort as text), id and JSON.
pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) id: String,
    pub(crate) json: Value,
}

/// A time as a sort key.
pub(crate) fn time_key(ms: i64) -> String {
    format!("{:020}", ms.max(0))
}

/// Square's cursor pagination: an opaque cursor naming the last object served (so objects
/// created meanwhile neither shift nor repeat pages), and a cursor on every full page, even
/// the last one (Square does not look ahead; a request with it then answers an empty page).
pub(crate) fn page(
    mut rows: Vec<Row>,
    order: Order,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    rows.sort_by(|a, b| (&a.key, &a.id).cmp(&(&b.key, &b.id)));
    if order == Order::Desc {
        rows.reverse();
    }
    let after = cursor.map(decode_cursor).transpose()?;
    let start = match &after {
        None => 0,
        Some((key, id)) => rows
            .iter()
            .position(|r| match order {
                Order::Asc => (&r.key, &r.id) > (key, id),
                Order::Desc => (&r.key, &r.id) < (key, id),
            })
            .unwrap_or(rows.len()),
    };
    let taken: Vec<&Row> = rows[start..].iter().take(limit).collect();
    let next = (taken.len() == limit)
        .then(|| taken.last().map(|r| encode_cursor(&r.key, &r.id)))
        .flatten();
    Ok((taken.into_iter().map(|r| r.json.clone()).collect(), next))
}

fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("sq1|{key}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            "INVALID_CURSOR",
            "cursor",
            "The pagination cursor is not valid.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let rest = text.strip_prefix("sq1|").ok_or_else(bad)?;
    let (key, id) = rest.split_once('|').ok_or_else(bad)?;
    Ok((key.to_string(), id.to_string()))
}

/// A list answer: `{"<key>": [...], "cursor": "..."}`; Square leaves out an empty list, so an
/// empty page is `{}`.
pub(crate) fn list_body(key: &str, items: Vec<Value>, cursor: Option<String>) -> Value {
    let mut body = serde_json::Map::new();
    if !items.is_empty() {
        body.insert(key.to_string(), Value::Array(items));
    }
    if let Some(cursor) = cursor {
        body.insert("cursor".into(), json!(cursor));
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let ms = 1_575_744_379_516;
        assert_eq!(time_ms(ms), "2019-12-07T18:46:19.516Z");
        assert_eq!(time_s(ms), "2019-12-07T18:46:19Z");
        assert_eq!(date(ms), "2019-12-07");
        assert_eq!(parse_time("2019-12-07T18:46:19.516Z"), Some(ms));
        assert_eq!(parse_time("2019-12-07T19:46:19.516+01:00"), Some(ms));
        assert_eq!(parse_time("2019-12-07T18:46:19Z"), Some(ms - 516));
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2019-13-07T18:46:19Z"), None);
    }

    #[test]
    fn pages_follow_the_cursor_in_either_order() {
        let rows = |n: i64| -> Vec<Row> {
            (0..n)
                .map(|i| Row {
                    key: time_key(i / 2),
                    id: format!("id{i}"),
                    json: json!(i),
                })
                .collect()
        };
        let (first, cursor) = page(rows(5), Order::Asc, None, 2).unwrap();
        assert_eq!(first, vec![json!(0), json!(1)]);
        let (second, cursor) = page(rows(5), Order::Asc, cursor.as_deref(), 2).unwrap();
        assert_eq!(second, vec![json!(2), json!(3)]);
        let (last, cursor) = page(rows(5), Order::Asc, cursor.as_deref(), 2).unwrap();
        assert_eq!((last, cursor), (vec![json!(4)], None));
        let (desc, _) = page(rows(5), Order::Desc, None, 3).unwrap();
        assert_eq!(desc, vec![json!(4), json!(3), json!(2)]);
        assert!(page(rows(1), Order::Asc, Some("nope"), 2).is_err());
    }
}
