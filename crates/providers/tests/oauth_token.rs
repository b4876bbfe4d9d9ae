//! The token client against a small in-test token server (not the sandbox's faithful fakes):
//! what goes on the wire per provider, how answers and errors are read, and that no secret
//! leaks into messages, `Debug` output or the request log.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use switchboard_core::catalogue::provider;
use switchboard_core::records::RequestRecord;
use switchboard_core::secret::SecretString;
use switchboard_providers::http::{self, RequestSink};
use switchboard_providers::oauth::{
    Authorization, Credentials, CsrfState, Endpoints, OAuthClient, Pkce, TokenKind, needs_reconnect,
};
use switchboard_providers::{ProviderError, ProviderErrorKind};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CODE: &str = "CODE-sekret-4711";
const CLIENT_SECRET: &str = "CLIENT-sekret-0815";
const REFRESH: &str = "REFRESH-sekret-1234";
const ACCESS: &str = "ACCESS-sekret-5678";
const REDIRECT: &str = "http://localhost:53682/oauth/callback";

/// One request as the token server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    content_type: String,
    authorization: Option<String>,
    body: String,
}

impl Seen {
    fn form(&self) -> HashMap<String, String> {
        assert_eq!(self.content_type, "application/x-www-form-urlencoded");
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json");
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A scripted answer: status, extra headers, body.
type Reply = (u16, Vec<(&'static str, String)>, String);

/// Answers each request with the next scripted reply (200 `{}` when none is left).
#[derive(Clone, Default)]
struct Mock {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
}

impl Mock {
    fn reply(&self, status: u16, body: Value) -> &Self {
        self.reply_raw(status, &[], &body.to_string())
    }

    fn reply_raw(&self, status: u16, headers: &[(&'static str, &str)], body: &str) -> &Self {
        let headers = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.replies
            .lock()
            .unwrap()
            .push_back((status, headers, body.to_string()));
        self
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn only(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen[0].clone()
    }
}

async fn answer(
    State(mock): State<Mock>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    mock.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        content_type: header("content-type").unwrap_or_default(),
        authorization: header("authorization"),
        body,
    });
    let (status, extra_headers, body) =
        mock.replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((200, Vec::new(), "{}".into()));
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
        .into_response();
    for (name, value) in extra_headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Serves `mock` on 127.0.0.1 and returns its origin.
async fn serve(mock: &Mock) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(answer).with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    origin
}

/// A client for catalogue provider `key` whose endpoints are the mock's.
async fn client(key: &str, credentials: Credentials) -> (OAuthClient, Mock) {
    let mock = Mock::default();
    let origin = serve(&mock).await;
    let p = provider(key).unwrap();
    let info = p.oauth.unwrap();
    let revoke = info.revoke_url.map(|_| format!("{origin}/revoke"));
    let endpoints = Endpoints::parse(
        &format!("{origin}/authorize"),
        &format!("{origin}/token"),
        revoke.as_deref(),
    )
    .unwrap();
    let client = OAuthClient::new(p.display_name, info, endpoints, credentials, http::client());
    (client, mock)
}

fn with_secret(id: &str) -> Credentials {
    Credentials::with_secret(id, SecretString::new(CLIENT_SECRET))
}

fn sign_in(client: &OAuthClient) -> Authorization {
    client.authorization_with(
        REDIRECT,
        &[],
        CsrfState::from_value("s"),
        Pkce::from_verifier(VERIFIER).unwrap(),
    )
}

fn code() -> SecretString {
    SecretString::new(CODE)
}

/// Asserts that none of the test's secrets shows in `text`.
fn no_secrets(text: &str) {
    for secret in [CODE, CLIENT_SECRET, REFRESH, ACCESS, VERIFIER] {
        assert!(!text.contains(secret), "{secret} leaked into: {text}");
    }
}

fn no_secrets_in_error(e: &ProviderError) {
    no_secrets(&e.message);
    no_secrets(&e.to_string());
    no_secrets(&format!("{e:?}"));
}

#[tokio::test]
async fn public_client_exchanges_a_code_with_pkce_in_a_form() {
    let (client, mock) = client("xero", Credentials::public("xero-app")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 1800, "token_type": "Bearer",
               "refresh_token": REFRESH, "id_token": "eyJ.id.token",
               "scope": "openid profile email offline_access accounting.settings.read"}),
    );
    let before = Utc::now();
    let tokens = client.exchange(&sign_in(&client), &code()).await.unwrap();
    let seen = mock.only();
    assert_eq!(seen.path, "/token");
    assert_eq!(seen.authorization, None);
    let form = seen.form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], CODE);
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["code_verifier"], VERIFIER);
    assert_eq!(form["client_id"], "xero-app");
    assert!(!form.contains_key("client_secret"));
    assert_eq!(tokens.access_token.expose(), ACCESS);
    assert_eq!(tokens.refresh_token.as_ref().unwrap().expose(), REFRESH);
    assert!(tokens.expires_at >= before + TimeDelta::seconds(1800));
    assert!(tokens.expires_at <= Utc::now() + TimeDelta::seconds(1800));
    assert_eq!(tokens.scopes.len(), 5);
    no_secrets(&format!("{tokens:?}"));
}

#[tokio::test]
async fn secret_post_puts_id_and_secret_in_the_body() {
    let (client, mock) = client("google_calendar", with_secret("g.apps")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 3599, "refresh_token": REFRESH}),
    );
    client.exchange(&sign_in(&client), &code()).await.unwrap();
    let seen = mock.only();
    assert_eq!(seen.authorization, None);
    let form = seen.form();
    assert_eq!(form["client_id"], "g.apps");
    assert_eq!(form["client_secret"], CLIENT_SECRET);
}

#[tokio::test]
async fn secret_basic_uses_http_basic_and_keeps_the_body_free_of_credentials() {
    let (client, mock) = client("quickbooks", with_secret("qb-id")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 3600, "refresh_token": REFRESH,
               "token_type": "bearer", "x_refresh_token_expires_in": 8_726_400}),
    );
    let tokens = client.exchange(&sign_in(&client), &code()).await.unwrap();
    let seen = mock.only();
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("qb-id:{CLIENT_SECRET}"));
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    let form = seen.form();
    assert!(!form.contains_key("client_id"));
    assert!(!form.contains_key("client_secret"));
    assert_eq!(tokens.extra["x_refresh_token_expires_in"], 8_726_400);
    let refresh_expiry = tokens.refresh_expires_at.unwrap();
    assert!(refresh_expiry > Utc::now() + TimeDelta::days(100));
}

#[tokio::test]
async fn square_sends_json_and_its_expires_at_is_used() {
    let (client, mock) = client("square", Credentials::public("sq0idp-app")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "token_type": "bearer",
               "expires_at": "2030-05-01T12:00:00Z", "merchant_id": "MLQW",
               "refresh_token": REFRESH, "short_lived": false,
               "refresh_token_expires_at": "2030-07-30T12:00:00Z"}),
    );
    let tokens = client.exchange(&sign_in(&client), &code()).await.unwrap();
    let body = mock.only().json();
    assert_eq!(
        body,
        json!({"grant_type": "authorization_code", "code": CODE, "redirect_uri": REDIRECT,
               "code_verifier": VERIFIER, "client_id": "sq0idp-app"})
    );
    assert_eq!(tokens.expires_at.to_rfc3339(), "2030-05-01T12:00:00+00:00");
    assert_eq!(tokens.extra["merchant_id"], "MLQW");
    assert_eq!(
        tokens.refresh_expires_at.unwrap().to_rfc3339(),
        "2030-07-30T12:00:00+00:00"
    );
    // Square lists no scopes: the requested ones stand.
    assert_eq!(
        tokens.scopes.len(),
        switchboard_core::catalogue::provider("square")
            .and_then(|p| p.oauth)
            .map_or(0, |o| o.scopes.len())
    );
}

#[tokio::test]
async fn a_refresh_without_a_refresh_token_says_keep_yours() {
    let (client, mock) = client("google_calendar", with_secret("g.apps")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 3599, "token_type": "Bearer"}),
    );
    let current = vec!["openid".to_string(), "email".to_string()];
    let tokens = client
        .refresh(&SecretString::new(REFRESH), &current)
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_none());
    assert_eq!(tokens.scopes, current);
    let form = mock.only().form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], REFRESH);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert!(!form.contains_key("code_verifier"));
}

#[tokio::test]
async fn a_rotating_provider_returns_the_new_refresh_token() {
    let (client, mock) = client("xero", Credentials::public("xero-app")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 1800, "refresh_token": "NEW-RT"}),
    );
    let tokens = client
        .refresh(&SecretString::new(REFRESH), &[])
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token.unwrap().expose(), "NEW-RT");
}

#[tokio::test]
async fn myob_lifetime_as_a_string_and_mautic_on_the_customer_host() {
    let (client, mock) = client("myob", with_secret("myob-key")).await;
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": "1200", "refresh_token": REFRESH}),
    );
    let tokens = client.exchange(&sign_in(&client), &code()).await.unwrap();
    let in_20_min = Utc::now() + TimeDelta::seconds(1200);
    assert!((tokens.expires_at - in_20_min).num_seconds().abs() <= 5);

    let mock = Mock::default();
    let origin = serve(&mock).await;
    let p = provider("mautic").unwrap();
    let info = p.oauth.unwrap();
    let endpoints = Endpoints::resolve(info, Some(&format!("{origin}/crm/"))).unwrap();
    let mautic = OAuthClient::new(
        p.display_name,
        info,
        endpoints,
        with_secret("m-id"),
        http::client(),
    );
    mock.reply(
        200,
        json!({"access_token": ACCESS, "expires_in": 3600, "refresh_token": REFRESH}),
    );
    mautic.exchange(&sign_in(&mautic), &code()).await.unwrap();
    let seen = mock.only();
    assert_eq!(seen.path, "/crm/oauth/v2/token");
    assert_eq!(seen.form()["client_secret"], CLIENT_SECRET);
}

#[tokio::test]
async fn invalid_grant_on_refresh_means_reconnect_and_leaks_nothing() {
    for status in [400, 401] {
        let (client, mock) = client("xero", Credentials::public("xero-app")).await;
        mock.reply(
            status,
            json!({"error": "invalid_grant",
                   "error_description": format!("refresh token {REFRESH} has expired")}),
        );
        let err = client
            .refresh(&SecretString::new(REFRESH), &[])
            .await
            .unwrap_err();
        assert!(needs_reconnect(&err), "{err:?}");
        assert_eq!(err.kind, ProviderErrorKind::Auth);
        assert_eq!(err.http_status, Some(status));
        assert!(!err.is_transient());
        assert!(err.message.contains("Reconnect Xero"), "{}", err.message);
        no_secrets_in_error(&err);
    }
}

#[tokio::test]
async fn invalid_grant_on_exchange_says_start_again() {
    let (client, mock) = client("google_calendar", with_secret("g.apps")).await;
    mock.reply(
        400,
        json!({"error": "invalid_grant", "error_description": "Bad Request"}),
    );
    let err = client
        .exchange(&sign_in(&client), &code())
        .await
        .unwrap_err();
    assert!(needs_reconnect(&err));
    assert!(
        err.message.contains("Start connecting again"),
        "{}",
        err.message
    );
    no_secrets_in_error(&err);
}

#[tokio::test]
async fn invalid_client_points_at_the_client_configuration() {
    let (client, mock) = client("quickbooks", with_secret("qb-id")).await;
    mock.reply(401, json!({"error": "invalid_client"}));
    let err = client
        .refresh(&SecretString::new(REFRESH), &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth);
    assert!(!needs_reconnect(&err));
    assert!(
        err.message.contains("client ID and secret"),
        "{}",
        err.message
    );
    assert_eq!(err.provider_code.as_deref(), Some("invalid_client"));
    no_secrets_in_error(&err);
}

#[tokio::test]
async fn throttling_outages_and_transport_failures_are_transient() {
    let (client, mock) = client("xero", Credentials::public("xero-app")).await;
    mock.reply_raw(429, &[("retry-after", "12")], "")
        .reply_raw(503, &[], "<html>down</html>");
    let rt = SecretString::new(REFRESH);
    let limited = client.refresh(&rt, &[]).await.unwrap_err();
    assert_eq!(limited.kind, ProviderErrorKind::RateLimited);
    assert_eq!(limited.retry_after_secs, Some(12));
    assert!(limited.is_transient());
    let down = client.refresh(&rt, &[]).await.unwrap_err();
    assert_eq!(down.kind, ProviderErrorKind::Server);
    assert!(down.is_transient());

    // Nothing listens on this port any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let info = provider("xero").unwrap().oauth.unwrap();
    let endpoints = Endpoints::parse(
        &format!("{origin}/a"),
        &format!("{origin}/token?x={REFRESH}"),
        None,
    )
    .unwrap();
    let unreachable = OAuthClient::new(
        "Xero",
        info,
        endpoints,
        Credentials::public("x"),
        http::client(),
    );
    let err = unreachable.refresh(&rt, &[]).await.unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Network);
    assert!(err.is_transient());
    no_secrets_in_error(&err);
}

#[tokio::test]
async fn unreadable_answers_are_bad_responses() {
    let (client, mock) = client("xero", Credentials::public("xero-app")).await;
    mock.reply_raw(200, &[], "<html>login</html>")
        .reply(200, json!({"token_type": "Bearer"}))
        .reply(200, json!(ACCESS));
    for _ in 0..3 {
        let err = client
            .exchange(&sign_in(&client), &code())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::BadResponse, "{err:?}");
        no_secrets_in_error(&err);
    }
    // An error body with 200 is still an error.
    mock.reply(200, json!({"error": "invalid_grant"}));
    let err = client
        .exchange(&sign_in(&client), &code())
        .await
        .unwrap_err();
    assert!(needs_reconnect(&err));
}

#[tokio::test]
async fn a_missing_client_secret_is_refused_before_anything_is_sent() {
    let (client, mock) = client("google_calendar", Credentials::public("g.apps")).await;
    let err = client
        .exchange(&sign_in(&client), &code())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth);
    assert!(err.message.contains("client secret"), "{}", err.message);
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn rfc7009_revocation_is_a_form_with_the_token_and_client() {
    let (client, mock) = client("xero", Credentials::public("xero-app")).await;
    client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap();
    let seen = mock.only();
    assert_eq!(seen.path, "/revoke");
    let form = seen.form();
    assert_eq!(form["token"], REFRESH);
    assert_eq!(form["token_type_hint"], "refresh_token");
    assert_eq!(form["client_id"], "xero-app");
}

#[tokio::test]
async fn an_already_revoked_token_counts_as_revoked() {
    let (client, mock) = client("google_calendar", with_secret("g.apps")).await;
    mock.reply(
        400,
        json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
    );
    client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap();
    mock.reply(500, json!({}));
    let err = client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap_err();
    assert!(err.is_transient());
}

#[tokio::test]
async fn square_revokes_with_its_client_header_and_json() {
    let (client, mock) = client("square", with_secret("sq0idp-app")).await;
    mock.reply(200, json!({"success": true}));
    client
        .revoke_grant(
            Some(&SecretString::new(ACCESS)),
            Some(&SecretString::new(REFRESH)),
        )
        .await
        .unwrap();
    let seen = mock.only();
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Client {CLIENT_SECRET}").as_str())
    );
    assert_eq!(
        seen.json(),
        json!({"client_id": "sq0idp-app", "access_token": ACCESS})
    );
}

#[tokio::test]
async fn square_without_a_secret_cannot_revoke_and_says_what_to_do() {
    let (client, mock) = client("square", Credentials::public("sq0idp-app")).await;
    let err = client
        .revoke(&SecretString::new(ACCESS), TokenKind::Access)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::InvalidRequest);
    assert!(err.message.contains("remove it"), "{}", err.message);
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn intuit_revokes_with_json_and_basic_auth() {
    let (client, mock) = client("quickbooks", with_secret("qb-id")).await;
    client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap();
    let seen = mock.only();
    assert!(seen.authorization.as_deref().unwrap().starts_with("Basic "));
    assert_eq!(seen.json(), json!({"token": REFRESH}));
}

#[tokio::test]
async fn providers_without_revocation_succeed_without_a_request() {
    let (client, mock) = client("myob", with_secret("myob-key")).await;
    client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap();
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn exchanges_reach_the_request_log_without_bodies_or_queries() {
    let (client, mock) = client("google_calendar", with_secret("g.apps")).await;
    let records: Arc<Mutex<Vec<RequestRecord>>> = Arc::default();
    let sink_records = Arc::clone(&records);
    let sink: RequestSink = Arc::new(move |r| sink_records.lock().unwrap().push(r));
    let client = client.with_request_sink(sink);
    mock.reply(400, json!({"error": "invalid_grant"}));
    let _ = client.exchange(&sign_in(&client), &code()).await;
    client
        .revoke(&SecretString::new(REFRESH), TokenKind::Refresh)
        .await
        .unwrap();
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (
            records[0].method.as_str(),
            records[0].path.as_str(),
            records[0].status
        ),
        ("POST", "/token", Some(400))
    );
    assert_eq!(records[1].path, "/revoke");
    no_secrets(&format!("{records:?}"));
}

#[tokio::test]
async fn client_debug_output_hides_the_secret() {
    let (client, _) = client("google_calendar", with_secret("g.apps")).await;
    let shown = format!("{client:?}");
    assert!(shown.contains("g.apps"));
    no_secrets(&shown);
}
