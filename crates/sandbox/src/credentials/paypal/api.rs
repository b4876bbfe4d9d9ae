//! PayPal's payments APIs on the fake's listener, as `shared/specs/paypal.json` keeps them:
//!
//! - Transaction Search `GET /v1/reporting/transactions` ([`super::search`]);
//! - Orders v2 create, show and capture ([`super::orders`]);
//! - Payments v2 show capture, refund capture, show refund ([`super::payments`]);
//! - Subscriptions v1 show and cancel ([`super::subscriptions`]); PayPal has no call that lists
//!   subscriptions; plans show ([`super::plans`]);
//! - Webhooks v1 `POST /v1/notifications/verify-webhook-signature` ([`super::webhooks`]).
//!
//! Every call needs `Authorization: Bearer <token>` with a token the fake's token endpoint
//! issued and that has not expired; anything else is PayPal's 401 `AUTHENTICATION_FAILURE`.
//! Errors have PayPal's shape (`name`, `message`, `debug_id`, `details[]` with `issue`,
//! `field`, `location`, `description`, and `links`), every answer carries `paypal-debug-id`.
//! `PayPal-Request-Id` makes creating orders, capturing them and refunding idempotent: the same
//! id answers with the object the first request made, and nothing is made twice.
//!
//! Test hooks ([`PayPalControl`]): add captures, approve orders, set the search delay, count
//! requests per route, expire tokens, take away the Transaction Search permission, inject
//! failures (before or after applying a write), and sign webhook deliveries.

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::ledger::{self, Ledger, Transmission};
use super::{PayPalControl, search};
use crate::credentials::{bearer, empty_response, json_response, rfc3339};
use crate::seed;

pub use super::ledger::PayPalSearch;

/// Which operation a request is for, with its path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Search,
    CreateOrder,
    ShowOrder(String),
    CaptureOrder(String),
    ShowCapture(String),
    RefundCapture(String),
    ShowRefund(String),
    ShowSubscription(String),
    CancelSubscription(String),
    ShowPlan(String),
    VerifyWebhookSignature,
}

impl Route {
    fn parse(method: &Method, path: &str) -> Option<Route> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let id = |s: &str| s.to_string();
        Some(match (method.as_str(), segments.as_slice()) {
            ("GET", ["v1", "reporting", "transactions"]) => Route::Search,
            ("POST", ["v2", "checkout", "orders"]) => Route::CreateOrder,
            ("GET", ["v2", "checkout", "orders", o]) => Route::ShowOrder(id(o)),
            ("POST", ["v2", "checkout", "orders", o, "capture"]) => Route::CaptureOrder(id(o)),
            ("GET", ["v2", "payments", "captures", c]) => Route::ShowCapture(id(c)),
            ("POST", ["v2", "payments", "captures", c, "refund"]) => Route::RefundCapture(id(c)),
            ("GET", ["v2", "payments", "refunds", r]) => Route::ShowRefund(id(r)),
            ("GET", ["v1", "billing", "subscriptions", s]) => Route::ShowSubscription(id(s)),
            ("GET", ["v1", "billing", "plans", p]) => Route::ShowPlan(id(p)),
            ("POST", ["v1", "billing", "subscriptions", s, "cancel"]) => {
                Route::CancelSubscription(id(s))
            }
            ("POST", ["v1", "notifications", "verify-webhook-signature"]) => {
                Route::VerifyWebhookSignature
            }
            _ => return None,
        })
    }

    /// The spec's name of the operation: method and path template.
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Route::Search => "GET /v1/reporting/transactions",
            Route::CreateOrder => "POST /v2/checkout/orders",
            Route::ShowOrder(_) => "GET /v2/checkout/orders/{id}",
            Route::CaptureOrder(_) => "POST /v2/checkout/orders/{id}/capture",
            Route::ShowCapture(_) => "GET /v2/payments/captures/{capture_id}",
            Route::RefundCapture(_) => "POST /v2/payments/captures/{capture_id}/refund",
            Route::ShowRefund(_) => "GET /v2/payments/refunds/{refund_id}",
            Route::ShowSubscription(_) => "GET /v1/billing/subscriptions/{id}",
            Route::CancelSubscription(_) => "POST /v1/billing/subscriptions/{id}/cancel",
            Route::ShowPlan(_) => "GET /v1/billing/plans/{id}",
            Route::VerifyWebhookSignature => "POST /v1/notifications/verify-webhook-signature",
        }
    }

    fn is_post(&self) -> bool {
        self.template().starts_with("POST")
    }
}

/// What a handler answers: a status and a JSON body (none for 204).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
        }
    }

    pub(crate) fn no_content() -> Answer {
        Answer {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }
}

/// One entry of an error's `details`.
pub(crate) struct Detail<'a> {
    pub field: Option<&'a str>,
    pub value: Option<&'a str>,
    pub location: &'a str,
    pub issue: &'a str,
    pub description: &'a str,
}

impl Detail<'_> {
    fn json(&self) -> Value {
        let mut d = json!({"issue": self.issue, "description": self.description});
        if let Some(field) = self.field {
            d["field"] = json!(field);
            d["location"] = json!(self.location);
        }
        if let Some(value) = self.value {
            d["value"] = json!(value);
        }
        d
    }
}

/// PayPal's error names and messages for each status (the spec's `error_4xx` enums).
fn name_and_message(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "INVALID_REQUEST",
            "Request is not well-formed, syntactically incorrect, or violates schema.",
        ),
        401 => (
            "AUTHENTICATION_FAILURE",
            "Authentication failed due to missing authorization header, or invalid authentication credentials.",
        ),
        403 => (
            "NOT_AUTHORIZED",
            "Authorization failed due to insufficient permissions.",
        ),
        404 => (
            "RESOURCE_NOT_FOUND",
            "The specified resource does not exist.",
        ),
        409 => (
            "RESOURCE_CONFLICT",
            "The server has detected a conflict while processing this request.",
        ),
        422 => (
            "UNPROCESSABLE_ENTITY",
            "The requested action could not be performed, semantically incorrect, or failed business validation.",
        ),
        429 => (
            "RATE_LIMIT_REACHED",
            "Too many requests. Blocked due to rate limiting.",
        ),
        503 => ("SERVICE_UNAVAILABLE", "Service Unavailable."),
        _ => (
            "INTERNAL_SERVER_ERROR",
            "An internal server error occurred.",
        ),
    }
}

/// An error answer in PayPal's shape (`debug_id` is filled in when it is sent).
pub(crate) fn error(status: StatusCode, details: &[Detail<'_>]) -> Answer {
    let (name, message) = name_and_message(status);
    let mut body = json!({
        "name": name,
        "message": message,
        "links": [{
            "href": format!(
                "https://developer.paypal.com/docs/api/overview/#error-{}",
                name
            ),
            "rel": "information_link",
        }],
    });
    if !details.is_empty() {
        body["details"] = Value::Array(details.iter().map(Detail::json).collect());
    }
    Answer::json(status, body)
}

/// 404 with `INVALID_RESOURCE_ID` (the id in the path is not known).
pub(crate) fn not_found(_id: &str) -> Answer {
    error(
        StatusCode::NOT_FOUND,
        &[Detail {
            field: None,
            value: None,
            location: "path",
            issue: "INVALID_RESOURCE_ID",
            description: "Specified resource ID does not exist. Please check the resource ID and try again.",
        }],
    )
}

/// 400 for a body that is not JSON.
pub(crate) fn malformed_json() -> Answer {
    error(
        StatusCode::BAD_REQUEST,
        &[Detail {
            field: None,
            value: None,
            location: "body",
            issue: "MALFORMED_REQUEST_JSON",
            description: "The request JSON is not well formed.",
        }],
    )
}

/// 400 for a missing field of the body (`field` is its JSON pointer).
pub(crate) fn missing(field: &str, location: &str) -> Answer {
    error(
        StatusCode::BAD_REQUEST,
        &[Detail {
            field: Some(field),
            value: None,
            location,
            issue: "MISSING_REQUIRED_PARAMETER",
            description: "A required parameter is missing.",
        }],
    )
}

/// 422 with one issue.
pub(crate) fn unprocessable(field: Option<&str>, issue: &str, description: &str) -> Answer {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &[Detail {
            field,
            value: None,
            location: "body",
            issue,
            description,
        }],
    )
}

/// `{"currency_code", "value"}`.
pub(crate) fn money(currency: &str, amount: i64) -> Value {
    json!({"currency_code": currency, "value": ledger::value(amount, currency)})
}

/// A HATEOAS link.
pub(crate) fn link(href: String, rel: &str, method: &str) -> Value {
    json!({"href": href, "rel": rel, "method": method})
}

/// `PayPal-Request-Id`, when sent.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Whether `Prefer: return=representation` was asked (PayPal's default is `return=minimal`).
pub(crate) fn wants_representation(headers: &HeaderMap) -> bool {
    headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.replace(' ', "")
                .eq_ignore_ascii_case("return=representation")
        })
}

/// Everything a handler needs.
pub(crate) struct Call<'a> {
    pub ledger: &'a mut Ledger,
    pub base: &'a str,
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    pub body: &'a [u8],
    pub now: i64,
}

impl Call<'_> {
    /// The body as JSON (an empty body is an empty object, as PayPal treats it).
    pub(crate) fn json_body(&self) -> Result<Value, Answer> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(self.body).map_err(|_| malformed_json())
    }
}

pub(crate) fn handle(
    ctl: &PayPalControl,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    debug_id: &str,
) -> Response {
    let send = |answer: Answer| -> Response {
        let headers = [("paypal-debug-id", debug_id.to_string())];
        match answer.body {
            Some(mut body) => {
                if answer.status.is_client_error() || answer.status.is_server_error() {
                    body["debug_id"] = json!(debug_id);
                }
                json_response(answer.status, &body, &headers)
            }
            None => {
                let mut response = empty_response(answer.status);
                response.headers_mut().insert(
                    "paypal-debug-id",
                    debug_id.parse().expect("hex is a valid header value"),
                );
                response
            }
        }
    };
    let Some(route) = Route::parse(method, uri.path()) else {
        return send(error(StatusCode::NOT_FOUND, &[]));
    };
    let token_ok = bearer(headers).is_some_and(|t| ctl.token_is_valid(&t));
    let mut ledger = ctl.ledger();
    *ledger
        .counts
        .entry(route.template().to_string())
        .or_default() += 1;
    if !token_ok {
        return send(error(StatusCode::UNAUTHORIZED, &[]));
    }
    if let Some(status) = ledger.faults.next.pop_front() {
        return send(error(status_code(status), &[]));
    }
    if let Some((ok_left, status)) = ledger.faults.after {
        if ok_left == 0 {
            return send(error(status_code(status), &[]));
        }
        ledger.faults.after = Some((ok_left - 1, status));
    }
    let base = ctl.api_base();
    let mut call = Call {
        ledger: &mut ledger,
        base: &base,
        headers,
        query: uri.query().unwrap_or(""),
        body,
        now: seed::now_unix(),
    };
    let answer = match &route {
        Route::Search => search::search(&mut call),
        Route::CreateOrder => super::orders::create(&mut call),
        Route::ShowOrder(id) => super::orders::show(&mut call, id),
        Route::CaptureOrder(id) => super::orders::capture(&mut call, id),
        Route::ShowCapture(id) => super::payments::show_capture(&mut call, id),
        Route::RefundCapture(id) => super::payments::refund(&mut call, id),
        Route::ShowRefund(id) => super::payments::show_refund(&mut call, id),
        Route::ShowSubscription(id) => super::subscriptions::show(&mut call, id),
        Route::CancelSubscription(id) => super::subscriptions::cancel(&mut call, id),
        Route::ShowPlan(id) => super::plans::show(&mut call, id),
        Route::VerifyWebhookSignature => super::webhooks::verify(&mut call),
    };
    if route.is_post() && answer.status.is_success() && ledger.faults.lose_posts > 0 {
        // Applied, but the answer never arrives whole: the client sees a server error.
        ledger.faults.lose_posts -= 1;
        return send(error(StatusCode::INTERNAL_SERVER_ERROR, &[]));
    }
    send(answer)
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A Transaction Search line as the fake serves it, for tests to compare with what a sync
/// stored. Amounts are signed as PayPal shows them and counted in the currency's PayPal
/// units (`decimals` places: none for JPY, HUF and TWD).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayPalTransaction {
    pub id: String,
    /// `T0006`, `T0011`, `T0002` (payments), `T1107` (refund), `T0400` (withdrawal), `T0200`.
    pub event_code: String,
    pub currency: String,
    pub decimals: u32,
    pub amount: i64,
    /// As PayPal shows it: negative for a fee charged, positive for a fee given back.
    pub fee: i64,
    /// `S`, `P`, `V`.
    pub status: String,
    /// The capture a refund belongs to, the subscription a subscription payment is for.
    pub reference_id: Option<String>,
    /// `transaction_initiation_date`, unix seconds.
    pub at: i64,
}

impl PayPalControl {
    pub(crate) fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.inner.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn token_is_valid(&self, token: &str) -> bool {
        self.state()
            .issued
            .get(token)
            .is_some_and(|expires_at| *expires_at > seed::now_unix())
    }

    /// Every token issued so far expires now (the next API call with one is a 401).
    pub fn expire_tokens(&self) {
        let now = seed::now_unix();
        for expires_at in self.state().issued.values_mut() {
            *expires_at = now;
        }
    }

    /// Every transaction the fake holds, oldest first, whether search shows it yet or not.
    pub fn transactions(&self) -> Vec<PayPalTransaction> {
        search::lines(&self.ledger())
    }

    /// When the seeded history ends (unix seconds); it reaches 430 days back from there.
    pub fn history_end(&self) -> i64 {
        self.ledger().history_end
    }

    /// Adds a completed checkout capture (`T0006`) made at `at` (unix seconds) for `amount`
    /// in `currency`'s PayPal units, with PayPal's fee. Returns its id.
    pub fn add_capture_at(&self, at: i64, amount: i64, currency: &str) -> String {
        let mut ledger = self.ledger();
        let capture = ledger.new_capture(at, amount, &currency.to_ascii_uppercase());
        let id = capture.id.clone();
        ledger.push_capture(capture);
        id
    }

    /// [`PayPalControl::add_capture_at`] now.
    pub fn add_capture_now(&self, amount: i64, currency: &str) -> String {
        self.add_capture_at(seed::now_unix(), amount, currency)
    }

    /// Transactions show in search this many seconds after they happen (PayPal: up to three
    /// hours); search's `last_refreshed_datetime` lags by as much. Default 0.
    pub fn set_search_delay(&self, secs: i64) {
        self.ledger().search_delay = secs.max(0);
    }

    /// Whether the app may use Transaction Search (PayPal enables it per app); without it,
    /// search answers 403 `NOT_AUTHORIZED`.
    pub fn set_search_permitted(&self, permitted: bool) {
        self.ledger().search_permitted = permitted;
    }

    /// The buyer approves order `id` (what PayPal's checkout page does): it can be captured.
    /// Returns whether there was such an order awaiting approval.
    pub fn approve_order(&self, id: &str) -> bool {
        let mut ledger = self.ledger();
        let payer = ledger::Payer::random(&mut ledger.rng);
        let now = seed::now_unix();
        let Some(order) = ledger.orders.iter_mut().find(|o| o.id == id) else {
            return false;
        };
        if !matches!(order.status, "CREATED" | "PAYER_ACTION_REQUIRED") {
            return false;
        }
        order.status = "APPROVED";
        order.payer = Some(payer);
        order.updated = now;
        true
    }

    /// What `read` takes from order `id`, if there is one.
    fn read_order<T>(&self, id: &str, read: impl FnOnce(&ledger::Order) -> Option<T>) -> Option<T> {
        self.ledger()
            .orders
            .iter()
            .find(|o| o.id == id)
            .and_then(read)
    }

    /// Status of order `id`, if there is one.
    pub fn order_status(&self, id: &str) -> Option<String> {
        self.read_order(id, |o| Some(o.status.to_string()))
    }

    /// Where order `id` sends its payer after approving (`experience_context.return_url`).
    pub fn order_return_url(&self, id: &str) -> Option<String> {
        self.read_order(id, |o| o.return_url.clone())
    }

    /// Orders made so far (through the API), oldest first: their ids.
    pub fn order_ids(&self) -> Vec<String> {
        self.ledger().orders.iter().map(|o| o.id.clone()).collect()
    }

    /// Refunds of capture `capture_id`: (refund id, amount in PayPal units, custom_id).
    pub fn refunds_of(&self, capture_id: &str) -> Vec<(String, i64, Option<String>)> {
        self.ledger()
            .refunds
            .iter()
            .filter(|r| r.capture_id == capture_id)
            .map(|r| (r.id.clone(), r.amount, r.custom_id.clone()))
            .collect()
    }

    /// Subscription ids (PayPal has no call that lists them; tests read them here).
    pub fn subscription_ids(&self) -> Vec<String> {
        self.ledger()
            .subscriptions
            .iter()
            .map(|s| s.id.clone())
            .collect()
    }

    /// Requests to `route` so far, whatever their answer; `route` is the spec's method and
    /// path template: `GET /v1/reporting/transactions`,
    /// `POST /v2/payments/captures/{capture_id}/refund`.
    pub fn requests(&self, route: &str) -> usize {
        self.ledger().counts.get(route).copied().unwrap_or(0)
    }

    /// Requests to the payments APIs so far (the token endpoint not included).
    pub fn api_requests(&self) -> usize {
        self.ledger().counts.values().sum()
    }

    /// Every Transaction Search request so far, in order.
    pub fn searches(&self) -> Vec<PayPalSearch> {
        self.ledger().searches.clone()
    }

    /// The next `n` API requests answer `status` (PayPal's error body for it:
    /// `RATE_LIMIT_REACHED` for 429, `INTERNAL_SERVER_ERROR`…) without doing anything.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut ledger = self.ledger();
        ledger.faults.next.extend(std::iter::repeat_n(status, n));
    }

    /// After `ok` more answered API requests, every request answers `status` until
    /// [`PayPalControl::clear_faults`].
    pub fn fail_after(&self, ok: usize, status: u16) {
        self.ledger().faults.after = Some((ok, status));
    }

    /// The next `n` successful POSTs are applied, then answered with a 500 (an answer lost
    /// on the way back: the client cannot tell whether it happened).
    pub fn lose_next_post_answers(&self, n: usize) {
        self.ledger().faults.lose_posts = n;
    }

    pub fn clear_faults(&self) {
        self.ledger().faults = ledger::Faults::default();
    }

    /// Signs a webhook delivery of `body` (the event JSON) to webhook `webhook_id`: the fake's
    /// `verify-webhook-signature` answers `SUCCESS` for exactly these header values, this
    /// webhook id and this event, and `FAILURE` for anything else.
    pub fn sign_webhook(&self, webhook_id: &str, body: &str) -> super::PayPalWebhookHeaders {
        let event: Value = serde_json::from_str(body).expect("a webhook event is JSON");
        let mut ledger = self.ledger();
        let rng = &mut ledger.rng;
        let transmission_id = format!(
            "{}-{}-{}-{}-{}",
            crate::credentials::hex(rng, 8),
            crate::credentials::hex(rng, 4),
            crate::credentials::hex(rng, 4),
            crate::credentials::hex(rng, 4),
            crate::credentials::hex(rng, 12)
        );
        let signature = format!("{}==", rng.base62(342));
        let time = rfc3339(seed::now_unix());
        ledger.transmissions.insert(
            transmission_id.clone(),
            Transmission {
                webhook_id: webhook_id.to_string(),
                time: time.clone(),
                signature: signature.clone(),
                event,
            },
        );
        super::PayPalWebhookHeaders {
            transmission_id,
            transmission_time: time,
            transmission_sig: signature,
            cert_url: format!(
                "{}/v1/notifications/certs/CERT-360caa42-fca2a594-7a8abba8",
                self.api_base()
            ),
            auth_algo: "SHA256withRSA".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_the_specs_operations() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            Route::parse(&get, "/v1/reporting/transactions"),
            Some(Route::Search)
        );
        assert_eq!(
            Route::parse(&post, "/v2/payments/captures/ABC/refund"),
            Some(Route::RefundCapture("ABC".into()))
        );
        assert_eq!(
            Route::parse(&post, "/v1/billing/subscriptions/I-X/cancel")
                .unwrap()
                .template(),
            "POST /v1/billing/subscriptions/{id}/cancel"
        );
        assert_eq!(Route::parse(&get, "/v1/billing/subscriptions"), None);
        assert_eq!(Route::parse(&post, "/v1/reporting/transactions"), None);
    }
}
