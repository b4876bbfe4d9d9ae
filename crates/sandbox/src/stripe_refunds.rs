//! `POST /v1/refunds` of the Stripe fake (a child module of [`super`], so it shares the data
//! and the helpers of the read endpoints), and what every write of the fake shares:
//! authentication, faults and `Idempotency-Key` (subscription updates and Checkout Sessions
//! are executed by `stripe_billing.rs`).
//!
//! Faithful where a client can tell:
//! - A form-encoded body (`application/x-www-form-urlencoded`) with the spec's parameters:
//!   `charge` or `payment_intent`, `amount` (default: what is left to refund), `reason`
//!   (`duplicate`, `fraudulent`, `requested_by_customer`), `metadata[key]`, `expand[]`
//!   (`charge`, `balance_transaction`), and the ones accepted and ignored (`currency` when it
//!   matches, `customer`, `instructions_email`, `origin`, `refund_application_fee`,
//!   `reverse_transfer`). Unknown parameters, bad integers and reasons are refused as Stripe
//!   refuses them (400, `invalid_request_error`, with `param`).
//! - Business errors: a fully refunded charge (`charge_already_refunded`), more than is left
//!   (`amount_too_large`), a failed charge (`charge_not_refundable`), an unknown charge
//!   (`resource_missing`).
//! - A refund updates its charge (`amount_refunded`, `refunded`), and adds a `refund` balance
//!   transaction as the seeded refunds have; card refunds succeed at once. It emits
//!   `charge.refunded` and `refund.created` (`stripe_events.rs`).
//! - Idempotency (every write): a request with an `Idempotency-Key` that executed is saved with
//!   its answer; the same key with the same parameters on the same path gets that answer again
//!   (header `Idempotent-Replayed: true`) and changes nothing; the same key with other
//!   parameters (or on another path) gets 400 `idempotency_error`. Requests refused before
//!   executing (bad parameters, injected 429 and 5xx) are not saved, so a retry executes.
//! - Faults: deterministic ones queued with [`StripeControl::fail_next_posts`], and the random
//!   ones of [`crate::faults`], which draw for POSTs as for reads. For a POST, `reset` and
//!   [`PostFault::ApplyThenReset`] APPLY the refund and then drop the connection mid-answer: the
//!   client cannot know whether it happened (the uncertain outcome). `malformed` applies it and
//!   answers truncated JSON; `slow` applies it and answers late.

use super::events::EventRequest;
use super::*;

/// Route of the create endpoint in [`Counters::by_path`].
pub const CREATE_REFUND_ROUTE: &str = "POST /v1/refunds";

/// A fault for the next POST ([`StripeControl::fail_next_posts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostFault {
    /// 429 with Stripe's rate-limit body; nothing is applied.
    RateLimited,
    /// 500 `api_error`; nothing is applied.
    ServerError,
    /// The connection drops before anything is applied.
    ResetBeforeApply,
    /// The refund is applied, then the connection drops mid-answer.
    ApplyThenReset,
}

/// What the POST side of the fake keeps: saved idempotent answers, queued faults, counts.
#[derive(Default)]
pub(crate) struct PostState {
    saved: HashMap<String, Saved>,
    faults: VecDeque<PostFault>,
    created: usize,
    replays: usize,
}

struct Saved {
    path: String,
    params: Vec<(String, String)>,
    status: StatusCode,
    body: Vec<u8>,
}

const REASONS: &[&str] = &["duplicate", "fraudulent", "requested_by_customer"];
const IGNORED: &[&str] = &[
    "customer",
    "instructions_email",
    "origin",
    "refund_application_fee",
    "reverse_transfer",
];

impl StripeControl {
    /// Answer the next `n` POSTs (after authentication) with `fault`.
    pub fn fail_next_posts(&self, n: usize, fault: PostFault) {
        self.state()
            .posts
            .faults
            .extend(std::iter::repeat_n(fault, n));
    }

    /// Refunds created through `POST /v1/refunds` (replays not counted).
    pub fn refunds_created(&self) -> usize {
        self.state().posts.created
    }

    /// Answers replayed for an `Idempotency-Key` seen before.
    pub fn idempotent_replays(&self) -> usize {
        self.state().posts.replays
    }

    /// Ids of the refunds whose `metadata[key]` is `value`, newest first.
    pub fn refunds_with_metadata(&self, key: &str, value: &str) -> Vec<String> {
        let state = self.state();
        state
            .data
            .refunds
            .rows
            .iter()
            .filter(|r| r.metadata.get(key).map(String::as_str) == Some(value))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Refunds `amount` of `charge` now, as `POST /v1/refunds` would (events included), and
    /// returns the refund's id. Panics when Stripe would refuse the refund.
    pub fn refund_now(&self, charge: &str, amount: i64) -> String {
        let mut state = self.state();
        state.item_json.clear();
        let params = RefundParams {
            charge: Some(charge.to_string()),
            payment_intent: None,
            amount: Some(amount),
            currency: None,
            reason: Some("requested_by_customer"),
            metadata: BTreeMap::new(),
            expand: Vec::new(),
        };
        create(&mut state.data, &params, None)
            .unwrap_or_else(|e| panic!("the Stripe fake refused the refund: {}", e.body))
    }

    /// Answers one POST: the response, and how long to hold it back (a `slow` fault).
    pub(super) fn respond_post(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> (Response, Option<Duration>) {
        let mut state = self.state();
        let rid = state.next_request_id();
        let write = write_route(path);
        let route = write.map(|(_, route)| route);
        let (response, reset, slow) =
            match self.answer_post(&mut state, write, path, headers, body, &rid) {
                Answered::Plain(r) => (r, false, false),
                Answered::Reset(r) => (r, true, false),
                Answered::Slow(r) => (r, false, true),
            };
        // Written data changes what lists serve: no cached list item may outlive it.
        state.item_json.clear();
        if let Some(route) = route {
            *state.by_path.entry(route).or_default() += 1;
            let status = if reset { 0 } else { response.status().as_u16() };
            *state.by_status.entry(status).or_default() += 1;
        }
        let delay = slow.then(|| state.random.slow());
        (response, delay)
    }

    fn answer_post(
        &self,
        state: &mut StripeState,
        write: Option<(Write<'_>, &'static str)>,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        rid: &str,
    ) -> Answered {
        let key = presented_key(headers);
        if !state.is_secret_key(&self.api_key, key.as_deref()) {
            return Answered::Plain(unauthorized(key.as_deref(), rid));
        }
        let Some((write, _)) = write else {
            let body = json!({"error": {
                "message": format!(
                    "Unrecognized request URL (POST: {path}). Please see https://stripe.com/docs or we can \
                     help at https://support.stripe.com/."
                ),
                "type": "invalid_request_error",
            }});
            return Answered::Plain(json_response(StatusCode::NOT_FOUND, &body, rid));
        };
        // One random draw per authenticated POST, as for reads; a queued fault wins.
        let drawn = state.random.draw();
        let queued = state.posts.faults.pop_front();
        let random = if queued.is_some() { None } else { drawn };
        if let Some(kind) = random {
            let nth = state.random.inject(kind);
            match kind {
                FaultKind::RateLimit => {
                    let mut r =
                        json_response(StatusCode::TOO_MANY_REQUESTS, &rate_limit_body(), rid);
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    return Answered::Plain(r);
                }
                FaultKind::ServerError => {
                    let status = if nth % 2 == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    return Answered::Plain(json_response(status, &api_error_body(), rid));
                }
                FaultKind::Reset | FaultKind::Slow | FaultKind::Malformed => {}
            }
        }
        match queued {
            Some(PostFault::RateLimited) => {
                return Answered::Plain(json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &rate_limit_body(),
                    rid,
                ));
            }
            Some(PostFault::ServerError) => {
                return Answered::Plain(json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &api_error_body(),
                    rid,
                ));
            }
            Some(PostFault::ResetBeforeApply) => {
                return Answered::Reset(reset_response(StatusCode::OK, b"{\"id\": \"re_", rid));
            }
            Some(PostFault::ApplyThenReset) | None => {}
        }
        let idempotency_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request = EventRequest {
            id: rid.to_string(),
            idempotency_key: idempotency_key.clone(),
        };
        let (status, bytes, replayed) = match self.execute(state, write, path, body, request) {
            Ok((status, bytes, replayed)) => (status, bytes, replayed),
            Err(e) => (
                e.status,
                serde_json::to_vec(&json!({ "error": e.body })).expect("JSON values serialize"),
                false,
            ),
        };
        if queued == Some(PostFault::ApplyThenReset) || random == Some(FaultKind::Reset) {
            return Answered::Reset(reset_response(status, &bytes, rid));
        }
        let mut builder = with_headers(Response::builder().status(status), "application/json", rid);
        if let Some(key) = &idempotency_key {
            builder = builder.header("Idempotency-Key", key.as_str());
        }
        if replayed {
            builder = builder.header("Idempotent-Replayed", "true");
        }
        let mut bytes = bytes;
        if random == Some(FaultKind::Malformed) {
            bytes.truncate(bytes.len() / 2);
        }
        let response = builder.body(Body::from(bytes)).expect("valid response");
        if random == Some(FaultKind::Slow) {
            Answered::Slow(response)
        } else {
            Answered::Plain(response)
        }
    }

    /// Parses, checks the idempotency key, and executes the write. `Ok` carries the status and
    /// body of an executed request (which may be a business error) and whether it is a replay.
    fn execute(
        &self,
        state: &mut StripeState,
        write: Write<'_>,
        path: &str,
        body: &[u8],
        request: EventRequest,
    ) -> Result<(StatusCode, Vec<u8>, bool), ApiError> {
        let idempotency_key = request.idempotency_key.clone();
        let idempotency_key = idempotency_key.as_deref();
        let path = path.trim_end_matches('/');
        let mut params: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|_| {
                invalid(
                    "Invalid request: the form-encoded body could not be decoded.",
                    "body",
                )
            })?;
        if let Some(key) = idempotency_key {
            if key.len() > 255 {
                return Err(invalid(
                    "Idempotency-Key must be at most 255 characters long.",
                    "Idempotency-Key",
                ));
            }
            params.sort();
            if let Some(saved) = state.posts.saved.get(key) {
                if saved.params != params || saved.path != path {
                    return Err(ApiError {
                        status: StatusCode::BAD_REQUEST,
                        body: json!({
                            "message": format!(
                                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                            ),
                            "type": "idempotency_error",
                        }),
                    });
                }
                state.posts.replays += 1;
                return Ok((saved.status, saved.body.clone(), true));
            }
        }
        // Parameters are checked before executing: a refusal then is not saved.
        let executed = match write {
            Write::Refund => {
                let refund = parse_refund_params(&params)?;
                create(&mut state.data, &refund, Some(request)).map(|refund_id| {
                    state.posts.created += 1;
                    let data = &state.data;
                    let object = data.refunds.get(&refund_id).expect("just inserted");
                    let expand: Vec<&str> = refund.expand.iter().map(String::as_str).collect();
                    data.refund_json(object, &expand)
                })
            }
            Write::Subscription(id) => Ok(billing::update_subscription(
                &mut state.data,
                id,
                &params,
                request,
            )?),
            Write::CheckoutSession => Ok(billing::create_session(&mut state.data, &params)?),
        };
        let (status, bytes) = match executed {
            Ok(value) => (
                StatusCode::OK,
                serde_json::to_vec(&value).expect("JSON values serialize"),
            ),
            Err(e) => (
                e.status,
                serde_json::to_vec(&json!({ "error": e.body })).expect("JSON values serialize"),
            ),
        };
        if let Some(key) = idempotency_key {
            state.posts.saved.insert(
                key.to_string(),
                Saved {
                    path: path.to_string(),
                    params,
                    status,
                    body: bytes.clone(),
                },
            );
        }
        Ok((status, bytes, false))
    }
}

/// A write the fake serves.
#[derive(Clone, Copy)]
enum Write<'p> {
    Refund,
    /// An update of the subscription with this id.
    Subscription(&'p str),
    CheckoutSession,
}

/// The write at `path`, and its route in [`Counters::by_path`].
fn write_route(path: &str) -> Option<(Write<'_>, &'static str)> {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    match segments.as_slice() {
        ["v1", "refunds"] => Some((Write::Refund, CREATE_REFUND_ROUTE)),
        ["v1", "subscriptions", id] if !id.is_empty() => {
            Some((Write::Subscription(id), UPDATE_SUBSCRIPTION_ROUTE))
        }
        ["v1", "checkout", "sessions"] => {
            Some((Write::CheckoutSession, CREATE_CHECKOUT_SESSION_ROUTE))
        }
        _ => None,
    }
}

enum Answered {
    Plain(Response),
    /// Part of the answer is sent, then the connection drops.
    Reset(Response),
    /// The answer, held back.
    Slow(Response),
}

fn unauthorized(key: Option<&str>, rid: &str) -> Response {
    let message = match key {
        None | Some("") => "You did not provide an API key. You need to provide your API key in the \
            Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). \
            See https://stripe.com/docs/api#authentication for details, or we can help at \
            https://support.stripe.com/."
            .to_string(),
        Some(k) => format!("Invalid API Key provided: {}", mask_key(k)),
    };
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
    let mut response = json_response(StatusCode::UNAUTHORIZED, &body, rid);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Stripe\""),
    );
    response
}

/// The full length announced, half the body sent, then the connection dropped.
fn reset_response(status: StatusCode, bytes: &[u8], rid: &str) -> Response {
    let full = bytes.len().max(2);
    let head = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    with_headers(Response::builder().status(status), "application/json", rid)
        .header(header::CONTENT_LENGTH, full)
        .body(Body::new(ResetBody::new(head)))
        .expect("valid response")
}

/// A checked create-refund request.
struct RefundParams {
    charge: Option<String>,
    payment_intent: Option<String>,
    amount: Option<i64>,
    currency: Option<String>,
    reason: Option<&'static str>,
    metadata: BTreeMap<String, String>,
    expand: Vec<String>,
}

fn parse_refund_params(params: &[(String, String)]) -> Result<RefundParams, ApiError> {
    let mut p = RefundParams {
        charge: None,
        payment_intent: None,
        amount: None,
        currency: None,
        reason: None,
        metadata: BTreeMap::new(),
        expand: Vec::new(),
    };
    for (key, value) in params {
        if let Some(inner) = key
            .strip_prefix("metadata[")
            .and_then(|r| r.strip_suffix(']'))
        {
            if inner.is_empty() || inner.chars().count() > 40 {
                return Err(invalid(
                    "Metadata keys must be between 1 and 40 characters long.",
                    key,
                ));
            }
            if value.chars().count() > 500 {
                return Err(invalid(
                    "Metadata values can have up to 500 characters.",
                    key,
                ));
            }
            // An empty value unsets the key.
            if value.is_empty() {
                p.metadata.remove(inner);
            } else {
                p.metadata.insert(inner.to_string(), value.clone());
            }
            continue;
        }
        let is_expand = key == "expand"
            || key == "expand[]"
            || key
                .strip_prefix("expand[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()));
        if is_expand {
            if !Kind::Refund.expandable().contains(&value.as_str()) {
                return Err(invalid(
                    format!("This property cannot be expanded ({value})."),
                    "expand",
                ));
            }
            p.expand.push(value.clone());
            continue;
        }
        match key.as_str() {
            "charge" => p.charge = Some(value.clone()),
            "payment_intent" => p.payment_intent = Some(value.clone()),
            "amount" => {
                let n = value.trim().parse::<i64>().ok().filter(|n| *n >= 1);
                p.amount = Some(n.ok_or_else(|| {
                    invalid(format!("Invalid positive integer: {value}"), "amount")
                })?);
            }
            "currency" => p.currency = Some(value.to_ascii_lowercase()),
            "reason" => {
                p.reason = Some(
                    REASONS
                        .iter()
                        .find(|r| **r == value)
                        .copied()
                        .ok_or_else(|| {
                            invalid(
                                format!(
                                    "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {value})"
                                ),
                                "reason",
                            )
                        })?,
                );
            }
            "metadata" if value.is_empty() => p.metadata.clear(),
            "refund_application_fee" | "reverse_transfer"
                if !matches!(value.as_str(), "true" | "false") =>
            {
                return Err(invalid(format!("Invalid boolean: {value}"), key));
            }
            k if IGNORED.contains(&k) => {}
            _ => return Err(unknown_param(key)),
        }
    }
    if p.metadata.len() > 50 {
        return Err(invalid("You can have up to 50 metadata keys.", "metadata"));
    }
    if p.charge.is_none() && p.payment_intent.is_none() {
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "message": "One of the following params should be provided for this request: payment_intent or charge.",
                "type": "invalid_request_error",
            }),
        });
    }
    Ok(p)
}

/// A business refusal of an executed request (Stripe's `code` and `doc_url`).
fn refused(code: &str, message: String, param: Option<&str>) -> ApiError {
    let mut body = json!({
        "code": code,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
        "message": message,
        "type": "invalid_request_error",
    });
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body,
    }
}

fn money(amount: i64, currency: &str) -> String {
    let exp = currency_exponent(currency);
    let scale = 10i64.pow(exp);
    if exp == 0 {
        format!("{amount} {currency}")
    } else {
        format!(
            "{}.{:0width$} {currency}",
            amount / scale,
            amount % scale,
            width = exp as usize
        )
    }
}

/// Applies the refund to the data: refund, its balance transaction, the charge's refunded
/// amount, and their events. Returns the refund's id.
fn create(
    data: &mut StripeData,
    p: &RefundParams,
    request: Option<EventRequest>,
) -> Result<String, ApiError> {
    let charge = match (&p.charge, &p.payment_intent) {
        (Some(id), _) => data.charges.get(id).cloned().ok_or_else(|| {
            refused(
                "resource_missing",
                format!("No such charge: '{id}'"),
                Some("charge"),
            )
        })?,
        (None, Some(pi)) => data
            .charges
            .rows
            .iter()
            .find(|c| &c.payment_intent == pi)
            .cloned()
            .ok_or_else(|| {
                refused(
                    "resource_missing",
                    format!("No such payment_intent: '{pi}'"),
                    Some("payment_intent"),
                )
            })?,
        (None, None) => unreachable!("checked by parse_refund_params"),
    };
    if let Some(currency) = &p.currency
        && *currency != charge.currency
    {
        return Err(invalid(
            format!(
                "The currency of the refund ({currency}) must match the charge's ({}).",
                charge.currency
            ),
            "currency",
        ));
    }
    if matches!(charge.status, ChargeStatus::Failed(_)) {
        return Err(refused(
            "charge_not_refundable",
            format!("Charge {} has failed and cannot be refunded.", charge.id),
            None,
        ));
    }
    let left = charge.amount - charge.amount_refunded;
    if left <= 0 {
        return Err(refused(
            "charge_already_refunded",
            format!("Charge {} has already been refunded.", charge.id),
            None,
        ));
    }
    let amount = p.amount.unwrap_or(left);
    if amount > left {
        return Err(refused(
            "amount_too_large",
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                money(amount, &charge.currency),
                money(left, &charge.currency)
            ),
            Some("amount"),
        ));
    }
    let now = seed::now_unix();
    let rate = charge
        .balance_transaction
        .as_ref()
        .and_then(|id| data.bts.get(id))
        .and_then(|bt| bt.exchange_rate);
    let (mut refund, bt) = data.make_refund(&charge, now, amount, p.reason, rate, now);
    // Card refunds made through the API succeed at once.
    refund.status = "succeeded";
    refund.metadata = p.metadata.clone();
    let id = refund.id.clone();
    if let Some(c) = data.charges.get_mut(&charge.id) {
        c.amount_refunded += amount;
    }
    data.refunds.insert(refund);
    data.bts.insert(bt);
    let previous = json!({
        "amount_refunded": charge.amount_refunded,
        "refunded": charge.amount_refunded > 0 && charge.amount_refunded == charge.amount,
    });
    data.emit(
        "charge.refunded",
        &charge.id,
        Some(previous),
        request.clone(),
    );
    data.emit("refund.created", &id, None, request);
    Ok(id)
}

impl<T: Row> Table<T> {
    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let created = *self.created_by_id.get(id)?;
        let p = self.position(created, id);
        self.rows.get_mut(p).filter(|r| r.id() == id)
    }
}
