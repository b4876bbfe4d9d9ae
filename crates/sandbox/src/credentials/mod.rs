//! Fakes of the providers connected with credentials instead of a browser sign-in: PayPal
//! (client credentials), Twilio, SendGrid, BillionMail and an SMTP server, plus Stripe's
//! `GET /v1/account` ([`stripe_account`], served by the Stripe fake itself).
//!
//! Each fake has its own listener on 127.0.0.1 (PayPal's `/v1` paths would collide with
//! Stripe's; the others keep theirs apart the same way) and a `providers.<key>` entry in the
//! ready line with its base URL and the credentials it accepts. Each fake answers what the
//! app's verify-and-identify calls use, with the provider's real auth scheme and error bodies;
//! how faithful each is, and what it leaves out, is written at the top of its module. Test hooks
//! and counters: [`crate::Sandbox::paypal`], [`crate::Sandbox::twilio`],
//! [`crate::Sandbox::sendgrid`], [`crate::Sandbox::billionmail`], [`crate::Sandbox::smtp`].

pub mod billionmail;
pub mod paypal;
pub mod sendgrid;
pub mod smtp;
pub mod stripe_account;
pub mod twilio;

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Sandbox;
use crate::seed::SeedRng;

pub use billionmail::BillionMailControl;
pub use paypal::{PayPalControl, PayPalSearch, PayPalTransaction, PayPalWebhookHeaders};
pub use sendgrid::SendGridControl;
pub use smtp::SmtpControl;
pub use twilio::TwilioControl;

/// The fakes of this module, each served on its own listener.
pub(crate) struct CredentialFakes {
    paypal: PayPalControl,
    twilio: TwilioControl,
    sendgrid: SendGridControl,
    billionmail: BillionMailControl,
    smtp: SmtpControl,
    servers: Vec<Served>,
}

impl CredentialFakes {
    /// Generates every fake's credentials and data from `seed` and starts serving them.
    pub(crate) async fn start(seed: u64) -> std::io::Result<CredentialFakes> {
        let paypal = PayPalControl::new(seed);
        let twilio = TwilioControl::new(seed);
        let sendgrid = SendGridControl::new(seed);
        let billionmail = BillionMailControl::new(seed);
        let smtp = SmtpControl::new(seed);
        let mut servers = Vec::with_capacity(5);
        let served = serve_http("paypal", paypal.router()).await?;
        paypal.set_base(served.addr);
        servers.push(served);
        let served = serve_http("twilio", twilio.router()).await?;
        twilio.set_base(served.addr);
        servers.push(served);
        let served = serve_http("sendgrid", sendgrid.router()).await?;
        sendgrid.set_base(served.addr);
        servers.push(served);
        let served = serve_http("billionmail", billionmail.router()).await?;
        billionmail.set_base(served.addr);
        servers.push(served);
        servers.push(smtp.serve().await?);
        Ok(CredentialFakes {
            paypal,
            twilio,
            sendgrid,
            billionmail,
            smtp,
            servers,
        })
    }

    /// Adds `providers.paypal`, `.twilio`, `.sendgrid`, `.billionmail`, `.smtp` to the ready
    /// line. (Stripe's restricted key stays out of `providers.stripe`, whose fields are fixed:
    /// tests take it from [`crate::StripeControl::restricted_api_key`].)
    pub(crate) fn ready_entries(&self, providers: &mut Map<String, Value>, rate_limits: Value) {
        providers.insert(
            "paypal".into(),
            self.paypal.ready_entry(rate_limits.clone()),
        );
        providers.insert(
            "twilio".into(),
            self.twilio.ready_entry(rate_limits.clone()),
        );
        providers.insert(
            "sendgrid".into(),
            self.sendgrid.ready_entry(rate_limits.clone()),
        );
        providers.insert(
            "billionmail".into(),
            self.billionmail.ready_entry(rate_limits.clone()),
        );
        providers.insert("smtp".into(), self.smtp.ready_entry(rate_limits));
    }

    /// Stops accepting connections; the tasks to await for in-flight requests.
    pub(crate) fn stop(&mut self) -> Vec<JoinHandle<()>> {
        self.servers.iter_mut().filter_map(Served::stop).collect()
    }
}

impl Sandbox {
    /// Test hooks of the PayPal fake: client credentials and tokens, and its payments APIs'
    /// data, failures and request counters.
    pub fn paypal(&self) -> &PayPalControl {
        &self.credentials.paypal
    }

    /// Test hooks of the Twilio fake (account, auth token, API key).
    pub fn twilio(&self) -> &TwilioControl {
        &self.credentials.twilio
    }

    /// Test hooks of the SendGrid fake (keys with their scopes).
    pub fn sendgrid(&self) -> &SendGridControl {
        &self.credentials.sendgrid
    }

    /// Test hooks of the BillionMail fake (API keys, what was sent).
    pub fn billionmail(&self) -> &BillionMailControl {
        &self.credentials.billionmail
    }

    /// Test hooks of the SMTP fake (login, counters).
    pub fn smtp(&self) -> &SmtpControl {
        &self.credentials.smtp
    }
}

/// A listener being served; stopped by [`Served::stop`] or on drop.
pub(crate) struct Served {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    pub(crate) fn new(addr: SocketAddr, stop: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
        Served {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn stop(&mut self) -> Option<JoinHandle<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1 on an ephemeral port and serves `app` on a tokio task.
async fn serve_http(name: &'static str, app: Router) -> std::io::Result<Served> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = served.await {
            tracing::warn!(provider = name, error = %e, "sandbox fake stopped with an error");
        }
    });
    Ok(Served::new(addr, stop, task))
}

/// `Authorization: Basic` user and password (not form-decoded: these providers take them as
/// they are).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// A JSON answer with extra headers.
pub(crate) fn json_response(
    status: StatusCode,
    body: &Value,
    headers: &[(&str, String)],
) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Body::from(
            serde_json::to_vec(body).expect("JSON values serialize"),
        ))
        .expect("valid response")
}

/// An answer without a body.
pub(crate) fn empty_response(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .expect("valid response")
}

pub(crate) fn hex(rng: &mut SeedRng, len: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..len)
        .map(|_| HEX[rng.below(16) as usize] as char)
        .collect()
}

pub(crate) fn upper_alnum(rng: &mut SeedRng, len: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..len)
        .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize] as char)
        .collect()
}

/// (year, month, day) of a day number since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `Thu, 24 Aug 2023 05:01:45 +0000` (RFC 2822, as Twilio writes dates).
pub(crate) fn rfc2822(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `2025-03-01T12:00:00Z`
pub(crate) fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_formatted_like_the_providers() {
        // Twilio's own example (shared/specs/README.md).
        assert_eq!(rfc2822(1_692_853_305), "Thu, 24 Aug 2023 05:01:45 +0000");
        assert_eq!(rfc3339(1_740_830_400), "2025-03-01T12:00:00Z");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    }
}
