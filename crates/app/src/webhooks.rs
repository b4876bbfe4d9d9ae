//! The local webhook receiver: an accelerator on top of polling. Off by default; when run it
//! binds 127.0.0.1 on the configured port (the user exposes it through a tunnel or relay) and
//! serves `POST /webhooks/{connection_id}`:
//!
//! 1. the connection, its provider and its webhook secrets (sealed in `secrets` under
//!    [`purpose::WEBHOOK_SECRET`] and, after a rotation, [`purpose::WEBHOOK_SECRET_PREVIOUS`])
//!    are looked up — unknown connection: 404;
//! 2. the signature is verified (`switchboard_providers::webhooks`): Stripe's
//!    `Stripe-Signature` with a 300 s tolerance, Square's HMAC over the notification URL
//!    registered with Square ([`purpose::WEBHOOK_NOTIFICATION_URL`]) and the body. PayPal
//!    signs with its own certificate and checks the delivery itself: the receiver asks it
//!    ([`VerifyPayPalWebhook`], with the connection's credentials and the id of the webhook
//!    registered in the PayPal app, a setting of the connection);
//! 3. the event id is recorded as accepted (`webhook_events`; an id already accepted is a
//!    replay: answered 200 so the provider stops retrying, recorded `rejected`, no sync);
//! 4. the callback is asked for a targeted incremental sync of that connection, and the
//!    provider gets its 2xx at once (the sync runs on the caller's side).
//!
//! Every rejection is logged (tracing) and recorded with its reason, for `switchboard webhook
//! events` and the UI. Bodies are limited to 1 MiB (413) and requests to 10 s (408). Nothing
//! of the body or the headers is kept.

use crate::sync::blocking;
use crate::workspace::Workspace;
use crate::{Result, errors};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use switchboard_core::secret::SecretString;
use switchboard_core::views::{
    ConnectionStatus, ConnectionView, WebhookConnectionView, WebhookEventOutcome, WebhookEventView,
    WebhookSettingsView,
};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::ProviderErrorKind;
use switchboard_providers::http::{RequestRecord, RequestSink};
use switchboard_secrets::{MasterKey, Sealed};
use switchboard_store::secrets::SecretRow;
use switchboard_store::webhook_events::{self, NewEvent, Recorded};
use switchboard_store::{Store, connections, settings};

pub use switchboard_providers::webhooks::{
    EventSummary, PayPalTransmission, VerifyPayPalWebhook, WebhookError, square, stripe,
};
pub use switchboard_store::webhook_events::{Outcome as WebhookOutcome, WebhookEvent};

/// Secret purposes of webhook verification.
pub mod purpose {
    /// The signing secret (Stripe `whsec_…`) or signature key (Square) in use.
    pub const WEBHOOK_SECRET: &str = "webhook_secret";
    /// The one it replaced, still accepted until the next change (events signed before the
    /// provider switched, and Stripe's overlap while a secret is rolled).
    pub const WEBHOOK_SECRET_PREVIOUS: &str = "webhook_secret_previous";
    /// Square signs the notification URL registered with it (the public tunnel URL, not this
    /// machine's address). Not secret; sealed so it lives and dies with the secrets.
    pub const WEBHOOK_NOTIFICATION_URL: &str = "webhook_notification_url";
}

/// Settings keys of the receiver.
const ENABLED_KEY: &str = "webhooks.receiver.enabled";
const PORT_KEY: &str = "webhooks.receiver.port";
/// The receiver's port unless configured.
pub const DEFAULT_PORT: u16 = 8723;
/// Larger bodies are refused (413): provider events are a few KB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A request (body included) must arrive within this (408 after): providers expect an answer
/// within 10 s (Square) to 20 s (Stripe), and a stalled sender must not hold a task.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks for a targeted incremental sync of a connection (its id). Called once per accepted
/// event, from the receiver's task: it must return at once (queue or spawn the sync).
pub type SyncRequest = Arc<dyn Fn(String) + Send + Sync>;

/// Whether the receiver runs (the desktop shell starts it when enabled) and on which port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WebhookReceiverSettings {
    pub enabled: bool,
    pub port: u16,
}

/// A connection's webhook set-up after a change (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSetup {
    pub connection_id: String,
    pub connection: String,
    pub provider: String,
    /// Whether a previous secret is still accepted.
    pub previous_kept: bool,
    /// Square: the URL the signature covers.
    pub notification_url: Option<String>,
    /// PayPal: the id of the webhook registered in the PayPal app, which its check needs.
    pub webhook_id: Option<String>,
    /// Where the receiver takes this connection's events.
    pub path: String,
}

/// Providers whose events the receiver verifies with a stored secret.
fn signs_with_secret(provider: &str) -> bool {
    matches!(provider, "stripe" | "square")
}

/// Providers whose events the receiver takes.
fn receives_webhooks(provider: &str) -> bool {
    signs_with_secret(provider) || provider == "paypal"
}

/// The connection setting holding a PayPal connection's webhook id (not a secret: PayPal's
/// check needs the app's credentials as well).
const PAYPAL_WEBHOOK_ID: &str = "webhooks.paypal_webhook_id";

/// How PayPal spells a webhook id (`verify-webhook-signature`: `^[a-zA-Z0-9]+$`, at most 50).
fn is_paypal_webhook_id(id: &str) -> bool {
    (1..=50).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn endpoint_path(connection_id: &str) -> String {
    format!("/webhooks/{connection_id}")
}

fn seal(key: &MasterKey, value: &str) -> SecretRow {
    let id = switchboard_store::new_id();
    let sealed = key.seal(value.as_bytes(), id.as_bytes());
    SecretRow {
        id,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
    }
}

fn open(key: &MasterKey, row: SecretRow) -> Result<SecretString> {
    key.open(
        &Sealed {
            nonce: row.nonce,
            ciphertext: row.ciphertext,
        },
        row.id.as_bytes(),
    )
    .map_err(errors::secrets)
}

impl Workspace {
    /// Sets a connection's webhook secret (Stripe's endpoint signing secret, Square's signature
    /// key). The one it replaces becomes the previous secret, still accepted until the next
    /// change, so events signed before the provider switched still verify. Square also needs
    /// the notification URL registered with it (given once; kept until changed).
    pub async fn set_webhook_secret(
        &self,
        connection: &str,
        secret: SecretString,
        notification_url: Option<String>,
    ) -> Result<WebhookSetup> {
        let target = self.find_connection(connection).await?;
        if target.provider == "paypal" {
            return Err(errors::invalid(
                "PayPal has no webhook secret: PayPal signs events with its own certificate and Switchboard checks them through PayPal's API. Give the webhook's ID instead (`switchboard webhook secret set NAME --webhook-id ID`, or Settings → Webhooks).",
            ));
        }
        if !signs_with_secret(&target.provider) {
            return Err(errors::invalid(format!(
                "Switchboard does not receive webhooks from {} ({}); only from Stripe and Square connections.",
                crate::workspace::catalogue_name(&target.provider),
                target.name
            )));
        }
        let secret = SecretString::new(secret.expose().trim());
        if secret.expose().is_empty() {
            return Err(errors::invalid("The webhook secret is empty."));
        }
        let notification_url = notification_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        match (&target.provider[..], &notification_url) {
            ("stripe", Some(_)) => {
                return Err(errors::invalid(
                    "Stripe signs no URL: give --url only for Square connections.",
                ));
            }
            (_, Some(url)) => check_notification_url(url)?,
            _ => {}
        }
        let sealed_secret = seal(&self.key, secret.expose());
        let sealed_url = notification_url.as_deref().map(|u| seal(&self.key, u));
        let key = self.key.clone();
        let id = target.id.clone();
        let provider = target.provider.clone();
        let (previous_kept, url) = blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            use switchboard_store::secrets::{get, put};
            let current = get(&tx, &id, purpose::WEBHOOK_SECRET)?;
            let same = current.as_ref().is_some_and(|row| {
                open(&key, row.clone()).is_ok_and(|old| old.expose() == secret.expose())
            });
            if !same {
                // The new row first: the old row's id (its AEAD associated data) then moves
                // to the previous purpose without clashing with itself.
                put(&tx, &id, purpose::WEBHOOK_SECRET, &sealed_secret)?;
                if let Some(old) = current {
                    put(&tx, &id, purpose::WEBHOOK_SECRET_PREVIOUS, &old)?;
                }
            }
            if let Some(row) = &sealed_url {
                put(&tx, &id, purpose::WEBHOOK_NOTIFICATION_URL, row)?;
            }
            let previous_kept = get(&tx, &id, purpose::WEBHOOK_SECRET_PREVIOUS)?.is_some();
            let url = get(&tx, &id, purpose::WEBHOOK_NOTIFICATION_URL)?;
            tx.commit()?;
            Ok((previous_kept, url))
        })
        .await?;
        let notification_url = url.map(|row| open(&self.key, row)).transpose()?;
        if provider == "square" && notification_url.is_none() {
            tracing::warn!(connection = %target.name, "Square connection has no notification URL yet");
        }
        tracing::info!(connection = %target.name, previous_kept, "webhook secret set");
        Ok(WebhookSetup {
            path: endpoint_path(&target.id),
            connection_id: target.id,
            connection: target.name,
            provider,
            previous_kept,
            notification_url: notification_url.map(|u| u.expose().to_string()),
            webhook_id: None,
        })
    }

    /// Sets a PayPal connection's webhook id: the ID PayPal shows for the webhook that sends
    /// to this connection's endpoint (PayPal Developer Dashboard → Apps & Credentials → the
    /// app → Webhooks). The receiver gives it to PayPal's `verify-webhook-signature` with
    /// each delivery.
    pub async fn set_paypal_webhook_id(
        &self,
        connection: &str,
        webhook_id: &str,
    ) -> Result<WebhookSetup> {
        let target = self.find_connection(connection).await?;
        if target.provider != "paypal" {
            return Err(errors::invalid(format!(
                "{} ({}) is not a PayPal connection: a webhook ID is PayPal's; {} events are checked with a webhook secret (`switchboard webhook secret set NAME --secret-env VAR`).",
                target.name,
                crate::workspace::catalogue_name(&target.provider),
                crate::workspace::catalogue_name(&target.provider),
            )));
        }
        let webhook_id = webhook_id.trim().to_string();
        if !is_paypal_webhook_id(&webhook_id) {
            return Err(errors::invalid(format!(
                "{webhook_id:?} is not a PayPal webhook ID: copy the ID PayPal shows for the webhook (letters and digits, like 8PT597110X687430LK), from PayPal Developer Dashboard → Apps & Credentials → the app → Webhooks."
            )));
        }
        let (id, value) = (target.id.clone(), webhook_id.clone());
        blocking(&self.store, move |s| {
            settings::set_for(&s.conn(), &id, PAYPAL_WEBHOOK_ID, &value)
        })
        .await?;
        tracing::info!(connection = %target.name, "PayPal webhook id set");
        Ok(WebhookSetup {
            path: endpoint_path(&target.id),
            connection_id: target.id,
            connection: target.name,
            provider: target.provider,
            previous_kept: false,
            notification_url: None,
            webhook_id: Some(webhook_id),
        })
    }

    /// Whether the receiver is on (default: off) and its port (default [`DEFAULT_PORT`]).
    pub async fn webhook_receiver_settings(&self) -> Result<WebhookReceiverSettings> {
        blocking(&self.store, |s| {
            let conn = s.conn();
            let enabled = settings::get(&conn, ENABLED_KEY)?.is_some_and(|v| v == "true");
            let port = settings::get(&conn, PORT_KEY)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_PORT);
            Ok(WebhookReceiverSettings { enabled, port })
        })
        .await
    }

    /// Changes what is given; returns the settings after the change.
    pub async fn set_webhook_receiver_settings(
        &self,
        enabled: Option<bool>,
        port: Option<u16>,
    ) -> Result<WebhookReceiverSettings> {
        if port == Some(0) {
            return Err(errors::invalid(
                "Give the receiver a fixed port (1 to 65535): the tunnel or relay forwards to it.",
            ));
        }
        blocking(&self.store, move |s| {
            let conn = s.conn();
            if let Some(enabled) = enabled {
                settings::set(&conn, ENABLED_KEY, if enabled { "true" } else { "false" })?;
            }
            if let Some(port) = port {
                settings::set(&conn, PORT_KEY, &port.to_string())?;
            }
            Ok(())
        })
        .await?;
        self.webhook_receiver_settings().await
    }

    /// Webhook events received, newest first: one connection (name or id) or all.
    pub async fn list_webhook_events(
        &self,
        connection: Option<&str>,
        limit: usize,
    ) -> Result<Vec<WebhookEvent>> {
        let connection_id = match connection {
            Some(key) => Some(self.find_connection(key).await?.id),
            None => None,
        };
        blocking(&self.store, move |s| {
            webhook_events::list(&s.conn(), connection_id.as_deref(), limit)
        })
        .await
    }

    /// Starts the receiver on 127.0.0.1 (`port`, else the configured one; 0 picks a free
    /// port). It runs until [`WebhookReceiver::stop`] or until dropped. Whether it should run
    /// at all is the caller's decision ([`Workspace::webhook_receiver_settings`]). It holds
    /// the workspace weakly (PayPal events are checked with the connection's adapter): a
    /// closed workspace's receiver answers PayPal 503.
    pub async fn start_webhook_receiver(
        self: &Arc<Self>,
        port: Option<u16>,
        on_verified: SyncRequest,
    ) -> Result<WebhookReceiver> {
        let port = match port {
            Some(port) => port,
            None => self.webhook_receiver_settings().await?.port,
        };
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| {
                CommandError::new(
                    ErrorCode::Conflict,
                    format!(
                        "The webhook receiver cannot listen on 127.0.0.1:{port} ({e}). Another program may use that port: choose another (`switchboard webhook serve --port P`, or the receiver settings)."
                    ),
                )
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| errors::internal(format!("the receiver has no address: {e}")))?;
        let receiver = Arc::new(Receiver {
            store: self.store.clone(),
            key: self.key.clone(),
            workspace: Arc::downgrade(self),
            on_verified,
        });
        let router = Router::new()
            .route("/webhooks/{connection_id}", post(receive))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn(with_timeout))
            .with_state(receiver);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("the webhook receiver stopped: {e}");
            }
        });
        tracing::info!(%addr, "webhook receiver listening");
        Ok(WebhookReceiver {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

fn check_notification_url(url: &str) -> Result<()> {
    let ok = reqwest::Url::parse(url)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(errors::invalid(format!(
            "{url:?} is not a URL: give the notification URL exactly as registered with Square (https://…)."
        )))
    }
}

/// A running receiver; stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl WebhookReceiver {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The local URL of a connection's endpoint (what the tunnel forwards to).
    pub fn endpoint(&self, connection_id: &str) -> String {
        format!("http://{}{}", self.addr, endpoint_path(connection_id))
    }

    /// Stops accepting, lets requests in progress finish, and waits.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepted events waiting for their sync, one entry per connection however many events
/// arrived: the desktop shell and `webhook serve` run them one after the other.
pub struct SyncQueue {
    rx: tokio::sync::mpsc::UnboundedReceiver<String>,
}

/// A [`SyncRequest`] that queues, and the queue it feeds.
pub fn sync_queue() -> (SyncRequest, SyncQueue) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let request: SyncRequest = Arc::new(move |connection_id: String| {
        let _ = tx.send(connection_id);
    });
    (request, SyncQueue { rx })
}

impl SyncQueue {
    /// The connections asked for since the last call (each once, in order of arrival); waits
    /// for at least one. `None` once every sender is gone.
    pub async fn next(&mut self) -> Option<Vec<String>> {
        let first = self.rx.recv().await?;
        let mut batch = vec![first];
        while let Ok(more) = self.rx.try_recv() {
            if !batch.contains(&more) {
                batch.push(more);
            }
        }
        Some(batch)
    }
}

struct Receiver {
    store: Arc<Store>,
    key: Arc<MasterKey>,
    /// For PayPal's check, which goes through the connection's adapter (its guard, token).
    workspace: Weak<Workspace>,
    on_verified: SyncRequest,
}

async fn with_timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => answer(
            StatusCode::REQUEST_TIMEOUT,
            "rejected",
            "the request did not arrive within 10 s",
        ),
    }
}

#[derive(Serialize)]
struct Answer<'a> {
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn answer(status: StatusCode, outcome: &str, reason: &str) -> Response {
    let reason = (!reason.is_empty()).then_some(reason);
    (status, Json(Answer { outcome, reason })).into_response()
}

/// Why an event is refused, with the status the provider gets.
struct Refusal {
    status: StatusCode,
    reason: String,
    /// Verified facts, when the refusal came after verification (a replay).
    summary: Option<EventSummary>,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
            summary: None,
        }
    }
}

impl From<WebhookError> for Refusal {
    fn from(e: WebhookError) -> Refusal {
        let status = match e {
            // Our set-up is missing, not the sender's fault: a 5xx makes the provider retry,
            // and those retries succeed once the secret is set.
            WebhookError::NoSecret => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        Refusal::new(status, e.to_string())
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let lookup = {
        let id = connection_id.clone();
        blocking(&receiver.store, move |s| connections::find(&s.conn(), &id)).await
    };
    let connection = match lookup {
        Ok(c) if c.id == connection_id => c,
        Ok(_)
        | Err(CommandError {
            code: ErrorCode::NotFound,
            ..
        }) => {
            tracing::warn!(connection = %connection_id, "webhook for an unknown connection rejected");
            return answer(
                StatusCode::NOT_FOUND,
                "rejected",
                "no connection with this id: check the endpoint URL registered with the provider (`switchboard webhook secret set` prints it)",
            );
        }
        Err(e) => {
            tracing::error!(connection = %connection_id, "webhook lookup failed: {}", e.message);
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "rejected",
                "the local database is busy; retry",
            );
        }
    };
    // The rest runs in a task of its own, so the request timeout never stops it between
    // recording an accepted event and asking for its sync.
    let work = tokio::spawn(async move {
        let received_at = switchboard_core::now_rfc3339();
        let outcome = match body {
            Ok(body) => verify(&receiver, &connection, &headers, &body).await,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the body is larger than {} MiB; provider events are a few KB",
                        MAX_BODY_BYTES / (1024 * 1024)
                    ),
                ))
            }
            Err(rejection) => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {}", rejection.body_text()),
            )),
        };
        settle(&receiver, &connection, &received_at, outcome).await
    });
    work.await.unwrap_or_else(|e| {
        tracing::error!("the webhook task failed: {e}");
        answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rejected",
            "internal error",
        )
    })
}

/// What verification found: the event and a note (the previous secret matched).
struct Verified {
    summary: EventSummary,
    note: Option<String>,
}

async fn verify(
    receiver: &Receiver,
    connection: &ConnectionView,
    headers: &HeaderMap,
    body: &Bytes,
) -> std::result::Result<Verified, Refusal> {
    if connection.status == ConnectionStatus::Disconnected {
        return Err(Refusal::new(
            StatusCode::GONE,
            "the connection is disconnected: reconnect it, or remove the webhook endpoint at the provider",
        ));
    }
    let provider = connection.provider.as_str();
    match provider {
        "stripe" | "square" => {}
        "paypal" => return verify_paypal(receiver, connection, headers, body).await,
        other => {
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                format!(
                    "Switchboard takes no webhooks from {} connections",
                    crate::workspace::catalogue_name(other)
                ),
            ));
        }
    }
    let (secrets, notification_url) = stored_secrets(receiver, &connection.id)
        .await
        .map_err(|e| {
            tracing::error!(connection = %connection.name, "webhook secrets unreadable: {}", e.message);
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the connection's webhook secrets cannot be read",
            )
        })?;
    let now = chrono::Utc::now().timestamp();
    let (secret_index, summary) = if provider == "stripe" {
        let verified = stripe::verify(
            header(headers, stripe::SIGNATURE_HEADER)?,
            body,
            &secrets,
            now,
            stripe::DEFAULT_TOLERANCE_SECS,
        )?;
        (verified.secret_index, stripe::event_summary(body))
    } else {
        let Some(url) = notification_url else {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no notification URL is set for this Square connection: Square signs the URL registered with it; set it (`switchboard webhook secret set NAME --secret-env VAR --url URL`)",
            ));
        };
        let index = square::verify(
            header(headers, square::SIGNATURE_HEADER)?,
            url.expose(),
            body,
            &secrets,
        )?;
        let summary = square::event_summary(body);
        // Square signs no timestamp: an event older than the ids kept could be an old one
        // replayed, which the replay check no longer recognises.
        let max_age = webhook_events::KEEP_DAYS * 24 * 3600;
        if let Some(created) = summary.as_ref().and_then(|s| s.created)
            && now - created > max_age
        {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the event was created more than {} days ago, longer than event ids are kept for the replay check; ignored (the next sync picks up any change)",
                    webhook_events::KEEP_DAYS
                ),
            ));
        }
        (index, summary)
    };
    let summary = summary.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "the signature is valid but the body is not an event with an id",
        )
    })?;
    let note = (secret_index > 0).then(|| {
        "verified with the previous webhook secret: the provider still signs with it (finish the rotation there)".to_string()
    });
    Ok(Verified { summary, note })
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> std::result::Result<&'h str, Refusal> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| WebhookError::MissingSignature { header: name }.into())
}

/// PayPal: the connection's webhook id, the five `PAYPAL-*` headers and the body go to
/// PayPal's `verify-webhook-signature` through the connection's adapter (its token, rate
/// budget and circuit breaker), whose exchange is request-logged like any other.
async fn verify_paypal(
    receiver: &Receiver,
    connection: &ConnectionView,
    headers: &HeaderMap,
    body: &Bytes,
) -> std::result::Result<Verified, Refusal> {
    let webhook_id = {
        let id = connection.id.clone();
        blocking(&receiver.store, move |s| {
            settings::get_for(&s.conn(), &id, PAYPAL_WEBHOOK_ID)
        })
        .await
    };
    let webhook_id = match webhook_id {
        Ok(Some(id)) => id,
        // Like a missing secret: our set-up, not the sender's fault; PayPal retries 5xx and
        // those retries succeed once the id is set.
        Ok(None) => {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no PayPal webhook ID is set for this connection: PayPal's check needs the ID of the webhook that sends here (PayPal Developer Dashboard → Apps & Credentials → the app → Webhooks); set it (`switchboard webhook secret set NAME --webhook-id ID`, or Settings → Webhooks)",
            ));
        }
        Err(e) => {
            tracing::error!(connection = %connection.name, "PayPal webhook id unreadable: {}", e.message);
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the local database is busy; retry",
            ));
        }
    };
    let transmission = PayPalTransmission::from_headers(|name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    })?;
    if body.is_empty() {
        return Err(WebhookError::EmptyBody.into());
    }
    // PayPal signs the transmission time: a delivery older than the event ids kept could be
    // an old one replayed, which the replay check no longer recognises (PayPal itself retries
    // for 3 days).
    let max_age = webhook_events::KEEP_DAYS * 24 * 3600;
    if let Ok(sent) = chrono::DateTime::parse_from_rfc3339(&transmission.transmission_time)
        && chrono::Utc::now().timestamp() - sent.timestamp() > max_age
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the delivery was sent more than {} days ago, longer than event ids are kept for the replay check; ignored (the next sync picks up any change)",
                webhook_events::KEEP_DAYS
            ),
        ));
    }
    let Some(workspace) = receiver.workspace.upgrade() else {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the workspace is closing; PayPal delivers the event again",
        ));
    };
    let exchanges: Arc<Mutex<Vec<RequestRecord>>> = Arc::default();
    let sink: RequestSink = {
        let exchanges = exchanges.clone();
        Arc::new(move |r| exchanges.lock().unwrap_or_else(|e| e.into_inner()).push(r))
    };
    let verdict = match workspace.paypal_payments(connection, sink).await {
        Ok(paypal) => paypal
            .verify_webhook(&webhook_id, &transmission, body)
            .await
            .map_err(|e| (e.kind, e.message)),
        Err(e) => Err((ProviderErrorKind::Auth, e.message)),
    };
    let logged = std::mem::take(&mut *exchanges.lock().unwrap_or_else(|e| e.into_inner()));
    if !logged.is_empty() {
        let id = connection.id.clone();
        let stored = blocking(&receiver.store, move |s| {
            switchboard_store::request_log::append(&s.conn(), &id, &logged)
        })
        .await;
        if let Err(e) = stored {
            tracing::warn!(connection = %connection.name, "PayPal check not request-logged: {}", e.message);
        }
    }
    match verdict {
        Ok(true) => {}
        Ok(false) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "PayPal answered FAILURE: it did not send this event to webhook {webhook_id}. Check that the webhook ID is that of the webhook whose URL forwards here (PayPal Developer Dashboard → Apps & Credentials → the app → Webhooks), that the connection uses that app's credentials, and that nothing between PayPal and here changed the body"
                ),
            ));
        }
        // The question was not answered (PayPal or the network down, rate limited, the
        // circuit open, the credentials refused): nothing says the event is false, so 503
        // makes PayPal deliver it again later instead of it being lost.
        Err((kind, message)) if kind != ProviderErrorKind::InvalidRequest => {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "PayPal could not check the signature, so the event waits for PayPal's next delivery: {message}"
                ),
            ));
        }
        Err((_, message)) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("PayPal refused to check the signature: {message}"),
            ));
        }
    }
    let summary = switchboard_providers::paypal::webhook_event_summary(body).ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "the signature is valid but the body is not an event with an id",
        )
    })?;
    Ok(Verified {
        summary,
        note: None,
    })
}

/// The connection's current and previous secrets (current first), and Square's notification
/// URL.
async fn stored_secrets(
    receiver: &Receiver,
    connection_id: &str,
) -> Result<(Vec<SecretString>, Option<SecretString>)> {
    let id = connection_id.to_string();
    let (current, previous, url) = blocking(&receiver.store, move |s| {
        use switchboard_store::secrets::get;
        let conn = s.conn();
        Ok((
            get(&conn, &id, purpose::WEBHOOK_SECRET)?,
            get(&conn, &id, purpose::WEBHOOK_SECRET_PREVIOUS)?,
            get(&conn, &id, purpose::WEBHOOK_NOTIFICATION_URL)?,
        ))
    })
    .await?;
    let secrets = [current, previous]
        .into_iter()
        .flatten()
        .map(|row| open(&receiver.key, row))
        .collect::<Result<Vec<_>>>()?;
    let url = url.map(|row| open(&receiver.key, row)).transpose()?;
    Ok((secrets, url))
}

/// Records the outcome, asks for the sync of an accepted event, and answers.
async fn settle(
    receiver: &Receiver,
    connection: &ConnectionView,
    received_at: &str,
    outcome: std::result::Result<Verified, Refusal>,
) -> Response {
    let (id, provider, at) = (
        connection.id.clone(),
        connection.provider.clone(),
        received_at.to_string(),
    );
    let outcome = match outcome {
        Ok(verified) => {
            let summary = verified.summary.clone();
            let note = verified.note.clone();
            let recorded = blocking(&receiver.store, move |s| {
                let mut conn = s.conn();
                let tx = conn.transaction()?;
                let event = NewEvent {
                    connection_id: &id,
                    provider: &provider,
                    event_id: Some(&summary.id),
                    event_type: summary.event_type.as_deref(),
                    received_at: &at,
                };
                let recorded = webhook_events::record_accepted(&tx, &event, note.as_deref())?;
                if let Recorded::Replay { first_received_at } = &recorded {
                    let reason = format!(
                        "replay: event {} was already accepted at {first_received_at}",
                        summary.id
                    );
                    webhook_events::record_rejected(&tx, &event, &reason)?;
                }
                webhook_events::prune(&tx, &id, chrono::Utc::now())?;
                tx.commit()?;
                Ok(recorded)
            })
            .await;
            match recorded {
                Ok(Recorded::Accepted) => Ok(verified),
                Ok(Recorded::Replay { first_received_at }) => Err(Refusal {
                    // A duplicate delivery is acknowledged (2xx) so the provider stops
                    // retrying; it is not acted on again.
                    status: StatusCode::OK,
                    reason: format!(
                        "replay: event {} was already accepted at {first_received_at}",
                        verified.summary.id
                    ),
                    summary: Some(verified.summary),
                }),
                Err(e) => {
                    tracing::error!(connection = %connection.name, "webhook event not recorded: {}", e.message);
                    return answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "rejected",
                        "the local database could not record the event; retry",
                    );
                }
            }
        }
        Err(refusal) => Err(refusal),
    };
    match outcome {
        Ok(verified) => {
            tracing::info!(
                connection = %connection.name,
                provider = %connection.provider,
                event_id = %verified.summary.id,
                event_type = verified.summary.event_type.as_deref().unwrap_or("-"),
                "webhook event accepted; asking for a sync"
            );
            if let Some(note) = &verified.note {
                tracing::warn!(connection = %connection.name, "{note}");
            }
            (receiver.on_verified)(connection.id.clone());
            answer(StatusCode::OK, "accepted", "")
        }
        Err(refusal) => {
            tracing::warn!(
                connection = %connection.name,
                provider = %connection.provider,
                status = refusal.status.as_u16(),
                reason = %refusal.reason,
                "webhook event rejected"
            );
            // A replay was recorded with the event above; anything else is recorded here.
            if refusal.summary.is_none() {
                let (id, provider, at, reason) = (
                    connection.id.clone(),
                    connection.provider.clone(),
                    received_at.to_string(),
                    refusal.reason.clone(),
                );
                let recorded = blocking(&receiver.store, move |s| {
                    let mut conn = s.conn();
                    let tx = conn.transaction()?;
                    let event = NewEvent {
                        connection_id: &id,
                        provider: &provider,
                        event_id: None,
                        event_type: None,
                        received_at: &at,
                    };
                    webhook_events::record_rejected(&tx, &event, &reason)?;
                    webhook_events::prune(&tx, &id, chrono::Utc::now())?;
                    tx.commit()?;
                    Ok(())
                })
                .await;
                if let Err(e) = recorded {
                    tracing::error!(connection = %connection.name, "webhook rejection not recorded: {}", e.message);
                }
            }
            answer(refusal.status, "rejected", &refusal.reason)
        }
    }
}

/// The local URL a tunnel or relay forwards a connection's events to.
pub fn endpoint_url(addr: SocketAddr, connection_id: &str) -> String {
    format!("http://{addr}{}", endpoint_path(connection_id))
}

/// An event row as the settings screen shows it.
pub fn event_view(e: WebhookEvent) -> WebhookEventView {
    WebhookEventView {
        id: e.id,
        received_at: e.received_at,
        connection_id: e.connection_id,
        connection: e.connection,
        provider: e.provider,
        event_id: e.event_id,
        event_type: e.event_type,
        outcome: match e.outcome {
            WebhookOutcome::Accepted => WebhookEventOutcome::Accepted,
            WebhookOutcome::Rejected => WebhookEventOutcome::Rejected,
        },
        reason: e.reason,
    }
}

/// What the store knows of one connection's webhook set-up (the URL still sealed).
struct StoredSetup {
    connection: ConnectionView,
    has_secret: bool,
    has_previous_secret: bool,
    notification_url: Option<SecretRow>,
    webhook_id: Option<String>,
}

impl Workspace {
    /// Settings → Webhooks. Whoever runs the receiver says where it listens (`listening_on`;
    /// `None`: not running) and, when it could not start, why (`error`); endpoints use the
    /// address it listens on, else the configured port. Secrets are only reported as set.
    pub async fn webhook_settings_view(
        &self,
        listening_on: Option<SocketAddr>,
        error: Option<String>,
    ) -> Result<WebhookSettingsView> {
        let settings = self.webhook_receiver_settings().await?;
        let stored = blocking(&self.store, |s| {
            use switchboard_store::secrets::get;
            let conn = s.conn();
            let mut out = Vec::new();
            for connection in connections::list(&conn)? {
                // Disconnecting removes the secrets and the receiver answers 410: nothing to
                // set up there.
                if !receives_webhooks(&connection.provider)
                    || connection.status == ConnectionStatus::Disconnected
                {
                    continue;
                }
                let id = connection.id.as_str();
                out.push(StoredSetup {
                    has_secret: get(&conn, id, purpose::WEBHOOK_SECRET)?.is_some(),
                    has_previous_secret: get(&conn, id, purpose::WEBHOOK_SECRET_PREVIOUS)?
                        .is_some(),
                    notification_url: get(&conn, id, purpose::WEBHOOK_NOTIFICATION_URL)?,
                    webhook_id: settings::get_for(&conn, id, PAYPAL_WEBHOOK_ID)?,
                    connection,
                });
            }
            Ok(out)
        })
        .await?;
        let addr = listening_on.unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port)));
        let connections = stored
            .into_iter()
            .map(|setup| {
                let c = setup.connection;
                let notification_url = setup
                    .notification_url
                    .map(|row| open(&self.key, row).map(|u| u.expose().to_string()))
                    .transpose()?;
                Ok(WebhookConnectionView {
                    endpoint_url: endpoint_url(addr, &c.id),
                    connection_id: c.id,
                    connection: c.name,
                    provider: c.provider,
                    provider_name: c.provider_name,
                    has_secret: setup.has_secret,
                    has_previous_secret: setup.has_previous_secret,
                    notification_url,
                    webhook_id: setup.webhook_id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(WebhookSettingsView {
            enabled: settings.enabled,
            port: settings.port,
            running: listening_on.is_some(),
            listening_on: listening_on.map(|a| a.to_string()),
            error,
            connections,
        })
    }

    /// [`Workspace::list_webhook_events`] as the settings screen shows them.
    pub async fn webhook_event_views(
        &self,
        connection: Option<&str>,
        limit: usize,
    ) -> Result<Vec<WebhookEventView>> {
        Ok(self
            .list_webhook_events(connection, limit)
            .await?
            .into_iter()
            .map(event_view)
            .collect())
    }
}
