//! The auth relay end to end, in process: the sandbox's fake authorization servers play the
//! providers, the relay runs on 127.0.0.1:0 configured with the fakes' client ids, secrets and
//! endpoints, and the app's own OAuth client (`switchboard_providers::oauth`) plays the
//! desktop app as a PUBLIC client (no secret) whose token and revoke URLs are the relay's.
//! A `reqwest` client that follows no redirects plays the browser, so every hop is checked.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HOST, LOCATION};
use serde_json::Value;
use switchboard_core::catalogue::{LoopbackRedirect, OAuthInfo, ProviderInfo, provider};
use switchboard_core::secret::SecretString;
use switchboard_providers::oauth::{
    Authorization, Credentials, CsrfState, Endpoints, LoopbackListener, OAuthClient, Pkce,
    TokenKind, needs_reconnect,
};
use switchboard_relay::{RelayConfig, http_client, router};
use switchboard_sandbox::{OAuthControl, Sandbox, SandboxConfig};
use tokio::sync::oneshot;
use url::Url;

// ---------------------------------------------------------------------------------------------
// Fixtures

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        stripe_charges: 2,
        ..Default::default()
    })
    .await
    .expect("the sandbox starts")
}

/// A relay serving on 127.0.0.1:0 until dropped.
struct RelayServer {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl RelayServer {
    async fn start(config: RelayConfig) -> RelayServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(config, http_client());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("the relay serves");
        });
        RelayServer { addr, _stop: stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The relay's environment for `key` (the catalogue key) served by `fake`.
fn env_for(key: &str, fake: &OAuthControl, secret: Option<&str>) -> Vec<(String, String)> {
    let up = key.to_ascii_uppercase();
    let mut vars = vec![
        (
            format!("RELAY_{up}_CLIENT_ID"),
            fake.client_id().to_string(),
        ),
        (
            format!("RELAY_{up}_CLIENT_SECRET"),
            secret
                .or(fake.client_secret())
                // Xero's PKCE apps have no secret at the fake; the relay needs one configured.
                .unwrap_or("xero-secret-unused-by-the-fake")
                .to_string(),
        ),
        (format!("RELAY_{up}_TOKEN_URL"), fake.token_url()),
    ];
    if let Some(revoke) = fake.revoke_url() {
        vars.push((format!("RELAY_{up}_REVOKE_URL"), revoke));
    }
    vars
}

async fn relay_for(key: &str, fake: &OAuthControl) -> RelayServer {
    RelayServer::start(RelayConfig::from_env_map(env_for(key, fake, None)).unwrap()).await
}

/// The browser: follows nothing by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn catalogue(key: &str) -> (&'static ProviderInfo, &'static OAuthInfo) {
    let p = provider(key).unwrap();
    (p, p.oauth.unwrap())
}

/// The app's client for `key`: authorize at the fake, token and revoke at `token_base`
/// (`/oauth/{key}/token` and `/revoke` there).
fn app_client(key: &str, fake: &OAuthControl, token_base: &str) -> OAuthClient {
    let (p, info) = catalogue(key);
    let revoke = info
        .revoke_url
        .map(|_| format!("{token_base}/oauth/{key}/revoke"));
    let endpoints = Endpoints::parse(
        &fake.authorize_url(),
        &format!("{token_base}/oauth/{key}/token"),
        revoke.as_deref(),
    )
    .unwrap();
    OAuthClient::new(
        p.display_name,
        info,
        endpoints,
        // The app's relay mode: a public client that revokes with an RFC 7009 form.
        Credentials::relayed(fake.client_id()),
        switchboard_providers::http::client(),
    )
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::FOUND, "{response:?}");
    response
        .headers()
        .get(LOCATION)
        .expect("a Location")
        .to_str()
        .unwrap()
        .to_string()
}

fn query_of(url: &str) -> BTreeMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The port the app's state names when no listener is needed (nothing connects to it).
const APP_PORT: u16 = 53682;

/// One sign-in up to the code: the browser goes to the fake's authorize URL, is sent to the
/// relay's callback, and from there to the app's loopback address. Returns the client, the
/// authorization, the code, and the final Location (what the app's listener would get).
async fn sign_in(
    key: &str,
    fake: &OAuthControl,
    relay: &RelayServer,
) -> (OAuthClient, Authorization, SecretString, String) {
    let client = app_client(key, fake, &relay.url(""));
    let callback = relay.url(&format!("/oauth/{key}/callback"));
    fake.set_registered_redirect_uris(Some(vec![callback.clone()]));
    let state = CsrfState::from_value(format!("{APP_PORT}.{}", CsrfState::new().expose()));
    let authorization = client.authorization_with(&callback, &[], state, Pkce::new());
    let browser = browser();
    let to_relay = location(
        &browser
            .get(authorization.url().clone())
            .send()
            .await
            .unwrap(),
    );
    assert!(to_relay.starts_with(&format!("{callback}?")), "{to_relay}");
    let to_app = location(&browser.get(&to_relay).send().await.unwrap());
    let relay_query = Url::parse(&to_relay).unwrap().query().unwrap().to_string();
    let (_, info) = catalogue(key);
    let host = if info.redirect.host == "127.0.0.1" {
        "127.0.0.1"
    } else {
        "localhost"
    };
    assert_eq!(
        to_app,
        format!("http://{host}:{APP_PORT}/oauth/callback?{relay_query}")
    );
    let code = SecretString::new(query_of(&to_app)["code"].clone());
    (client, authorization, code, to_app)
}

/// A token request as raw bytes, to compare answers byte for byte.
async fn post_form(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
    let mut request = reqwest::Client::new().post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    Answer::of(request.send().await.unwrap()).await
}

#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    body: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status(),
            content_type: response
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_string()),
            body: response.text().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

// ---------------------------------------------------------------------------------------------
// QuickBooks: the whole flow

/// QuickBooks Online in production needs the client secret (HTTP Basic) and an https redirect:
/// the flow the relay exists for, driven as the app drives it, over loopback HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickbooks_signs_in_refreshes_and_revokes_through_the_relay() {
    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let relay = relay_for("quickbooks", qbo).await;
    let (p, info) = catalogue("quickbooks");
    let client = app_client("quickbooks", qbo, &relay.url(""));
    // The relay's callback is the one redirect URI registered with the provider.
    let callback_uri = relay.url("/oauth/quickbooks/callback");
    qbo.set_registered_redirect_uris(Some(vec![callback_uri.clone()]));

    // The app listens on loopback (any free port: tests run in parallel) and puts that port
    // first in `state`.
    let any_port = LoopbackRedirect {
        port: None,
        ..info.redirect
    };
    let listener = LoopbackListener::bind(p.display_name, &any_port)
        .await
        .unwrap();
    let port = listener.port();
    let state = CsrfState::from_value(format!("{port}.{}", CsrfState::new().expose()));
    let authorization = client.authorization_with(&callback_uri, &[], state.clone(), Pkce::new());
    let waiting = tokio::spawn(async move {
        listener
            .wait(&state, info.redirect_params, Duration::from_secs(30))
            .await
    });

    // The browser: authorize (auto-approved) → the relay's callback → the app's listener.
    let browser = browser();
    let to_relay = location(
        &browser
            .get(authorization.url().clone())
            .send()
            .await
            .unwrap(),
    );
    assert!(
        to_relay.starts_with(&format!("{callback_uri}?")),
        "{to_relay}"
    );
    let relay_query = Url::parse(&to_relay).unwrap().query().unwrap().to_string();
    let to_app = location(&browser.get(&to_relay).send().await.unwrap());
    assert_eq!(
        to_app,
        format!("http://localhost:{port}/oauth/callback?{relay_query}"),
        "the query string goes on unchanged"
    );
    let page = browser.get(&to_app).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let callback = waiting.await.unwrap().expect("the listener got the code");
    // The state matched (else `wait` fails) and the company came along.
    assert_eq!(callback.params["realmId"], qbo.account().realm_id);

    // The code, exchanged through the relay: it added HTTP Basic, which the fake requires.
    let tokens = client
        .exchange(&authorization, &callback.code)
        .await
        .unwrap();
    let c = qbo.counters();
    assert_eq!(c.token_requests("authorization_code"), 1);
    assert_eq!(c.codes_exchanged, 1);
    assert_eq!(c.token_errors("invalid_client"), 0);
    assert!(
        tokens.refresh_expires_at.is_some(),
        "Intuit's x_refresh_token_expires_in"
    );

    // Refresh through the relay: QuickBooks rotates, and the old refresh token is refused at
    // once, with the provider's invalid_grant reaching the app.
    let first = tokens.refresh_token.clone().unwrap();
    let renewed = client.refresh(&first, &tokens.scopes).await.unwrap();
    let second = renewed.refresh_token.clone().expect("rotated");
    assert_ne!(first.expose(), second.expose());
    assert_eq!(qbo.counters().refreshes, 1);
    let err = client.refresh(&first, &tokens.scopes).await.unwrap_err();
    assert!(needs_reconnect(&err), "{err:?}");
    assert_eq!(err.http_status, Some(400));
    assert_eq!(err.provider_code.as_deref(), Some("invalid_grant"));

    // Revoke through the relay (Intuit's JSON with HTTP Basic): the grant ends.
    assert_eq!(qbo.active_grants(), 1);
    client.revoke(&second, TokenKind::Refresh).await.unwrap();
    assert_eq!(qbo.counters().revokes, 1);
    assert_eq!(qbo.active_grants(), 0);
    let err = client.refresh(&second, &tokens.scopes).await.unwrap_err();
    assert!(needs_reconnect(&err), "{err:?}");
    // Every token request carried the right client credentials.
    assert_eq!(qbo.counters().token_errors("invalid_client"), 0);
}

/// The same request without the relay fails: QuickBooks refuses a public client. So the
/// relay's success above is the secret it adds, not a lenient fake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_client_alone_is_refused_by_quickbooks_and_the_relay_fixes_it() {
    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let relay = relay_for("quickbooks", qbo).await;
    let (_, authorization, code, _) = sign_in("quickbooks", qbo, &relay).await;

    // The app's public client, its token URL the provider's own.
    let (p, info) = catalogue("quickbooks");
    let direct = OAuthClient::new(
        p.display_name,
        info,
        Endpoints::parse(&qbo.authorize_url(), &qbo.token_url(), None).unwrap(),
        // A public client sent straight to Intuit, as the relay mode sends (without the relay).
        Credentials::relayed(qbo.client_id()),
        switchboard_providers::http::client(),
    );
    let err = direct.exchange(&authorization, &code).await.unwrap_err();
    assert_eq!(err.http_status, Some(401), "{err:?}");
    assert_eq!(err.provider_code.as_deref(), Some("invalid_client"));
    let c = qbo.counters();
    assert_eq!(c.token_errors("invalid_client"), 1);
    assert_eq!(c.codes_exchanged, 0);

    // The very same exchange through the relay works (the refused attempt never reached the
    // code, so it is still good).
    let via_relay = app_client("quickbooks", qbo, &relay.url(""));
    via_relay.exchange(&authorization, &code).await.unwrap();
    assert_eq!(qbo.counters().codes_exchanged, 1);
}

/// A provider's refusal comes back with the provider's own status, content type and body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_come_back_unchanged() {
    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let relay = relay_for("quickbooks", qbo).await;
    let (client, authorization, code, _) = sign_in("quickbooks", qbo, &relay).await;
    client.exchange(&authorization, &code).await.unwrap();

    // The code again: through the relay as the app sends it, and straight to the fake with
    // the right Basic credentials. Both are refused the same way, byte for byte.
    let verifier = authorization.pkce().verifier().expose().to_string();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", authorization.redirect_uri()),
        ("code_verifier", verifier.as_str()),
        ("client_id", qbo.client_id()),
    ];
    let via_relay = post_form(&relay.url("/oauth/quickbooks/token"), &form, None).await;
    let secret = qbo.client_secret().unwrap();
    let direct = post_form(&qbo.token_url(), &form, Some((qbo.client_id(), secret))).await;
    assert_eq!(via_relay.status, StatusCode::BAD_REQUEST);
    assert_eq!(via_relay.json()["error"], "invalid_grant");
    assert_eq!(via_relay, direct);
    assert_eq!(qbo.counters().token_errors("invalid_grant"), 2);
}

// ---------------------------------------------------------------------------------------------
// Square: JSON bodies and `Authorization: Client`

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_gets_the_secret_in_its_json_body_and_revokes_with_a_client_header() {
    let sandbox = sandbox().await;
    let square = sandbox.oauth("square");
    let relay = relay_for("square", square).await;
    let (client, authorization, code, _) = sign_in("square", square, &relay).await;
    let tokens = client.exchange(&authorization, &code).await.unwrap();
    assert_eq!(square.counters().codes_exchanged, 1);
    assert_eq!(tokens.extra["merchant_id"], square.account().merchant_id);
    let renewed = client
        .refresh(tokens.refresh_token.as_ref().unwrap(), &tokens.scopes)
        .await
        .unwrap();
    assert_eq!(square.counters().refreshes, 1);

    // Square takes a code with or without the secret; a wrong one is refused. A relay with a
    // wrong secret is refused, so the relay does send it.
    let wrong = RelayServer::start(
        RelayConfig::from_env_map(env_for("square", square, Some("sandbox-sq0csb-wrong"))).unwrap(),
    )
    .await;
    let (wrong_client, authorization, code, _) = sign_in("square", square, &wrong).await;
    let err = wrong_client
        .exchange(&authorization, &code)
        .await
        .unwrap_err();
    assert_eq!(err.http_status, Some(401), "{err:?}");
    assert_eq!(square.counters().token_errors("invalid_client"), 1);

    // Revocation needs `Authorization: Client <secret>`: refused with the wrong secret (and the
    // 401 passed on), done with the right one.
    let access = renewed.access_token.clone();
    let err = wrong_client
        .revoke(&access, TokenKind::Access)
        .await
        .unwrap_err();
    assert_eq!(err.http_status, Some(401), "{err:?}");
    assert_eq!(square.active_grants(), 1);
    client.revoke(&access, TokenKind::Access).await.unwrap();
    assert_eq!(square.counters().revokes, 2);
    assert_eq!(square.active_grants(), 0);

    // Square's own JSON shape is accepted at the relay's revoke endpoint too.
    let answer = Answer::of(
        reqwest::Client::new()
            .post(relay.url("/oauth/square/revoke"))
            .json(&serde_json::json!({"client_id": "ignored", "access_token": access.expose()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["success"], true);
}

// ---------------------------------------------------------------------------------------------
// Form providers with the secret in the body (MYOB), or Basic (Xero), and RFC 7009 revocation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn myob_gets_client_id_and_secret_in_the_form_and_has_nothing_to_revoke() {
    let sandbox = sandbox().await;
    let myob = sandbox.oauth("myob");
    let relay = relay_for("myob", myob).await;
    let (client, authorization, code, to_app) = sign_in("myob", myob, &relay).await;
    // The company file comes along on the redirect.
    assert_eq!(query_of(&to_app)["businessId"], myob.account().business_id);
    let tokens = client.exchange(&authorization, &code).await.unwrap();
    client
        .refresh(tokens.refresh_token.as_ref().unwrap(), &tokens.scopes)
        .await
        .unwrap();
    let c = myob.counters();
    assert_eq!((c.codes_exchanged, c.refreshes), (1, 1));
    assert_eq!(c.token_errors("invalid_client"), 0);

    // A wrong secret is refused by the fake: the relay sends the configured one.
    let wrong = RelayServer::start(
        RelayConfig::from_env_map(env_for("myob", myob, Some("not-the-secret"))).unwrap(),
    )
    .await;
    let (wrong_client, authorization, code, _) = sign_in("myob", myob, &wrong).await;
    let err = wrong_client
        .exchange(&authorization, &code)
        .await
        .unwrap_err();
    assert_eq!(
        err.provider_code.as_deref(),
        Some("invalid_client"),
        "{err:?}"
    );

    // MYOB offers no revocation: the relay says so without calling anyone.
    let answer = post_form(&relay.url("/oauth/myob/revoke"), &[("token", "t")], None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "revocation_not_offered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_and_xero_revoke_with_an_rfc_7009_form() {
    let sandbox = sandbox().await;
    // Google: secret in the body (SecretPost); the loopback redirect is 127.0.0.1.
    let google = sandbox.oauth("google");
    let relay = relay_for("google_calendar", google).await;
    let (client, authorization, code, _) = sign_in("google_calendar", google, &relay).await;
    let tokens = client.exchange(&authorization, &code).await.unwrap();
    assert_eq!(google.counters().token_errors("invalid_client"), 0);
    assert_eq!(google.active_grants(), 1);
    client
        .revoke(tokens.refresh_token.as_ref().unwrap(), TokenKind::Refresh)
        .await
        .unwrap();
    assert_eq!(google.active_grants(), 0);

    // Xero: HTTP Basic for a confidential client; its revocation checks the client too.
    let xero = sandbox.oauth("xero");
    let relay = relay_for("xero", xero).await;
    let (client, authorization, code, _) = sign_in("xero", xero, &relay).await;
    let tokens = client.exchange(&authorization, &code).await.unwrap();
    client
        .revoke(tokens.refresh_token.as_ref().unwrap(), TokenKind::Refresh)
        .await
        .unwrap();
    assert_eq!(xero.counters().revokes, 1);
    assert_eq!(xero.active_grants(), 0);
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_refuses_bad_states_and_only_ever_redirects_to_localhost() {
    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let relay = relay_for("quickbooks", qbo).await;
    let browser = browser();
    let get = |path: String| {
        let browser = browser.clone();
        let url = relay.url(&path);
        async move { browser.get(url).send().await.unwrap() }
    };
    for query in [
        "code=c&state=abc.def",   // not a port
        "code=c&state=80.abc",    // below 1024
        "code=c&state=70000.abc", // above 65535
        "code=c&state=53682",     // no random part
        "code=c",                 // no state
        "code=c&state=",          // empty state
        "code=c&state=2000.a&state=3000.b",
        "error=access_denied", // a denial without state cannot be routed either
    ] {
        let response = get(format!("/oauth/quickbooks/callback?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get(LOCATION).is_none());
        let ct = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(ct.starts_with("text/html"), "{ct}");
        let page = response.text().await.unwrap();
        assert!(page.contains("The sign-in cannot continue"), "{page}");
        if query.starts_with("error=") {
            assert!(page.contains("access_denied"), "{page}");
        }
    }
    // Providers this relay does not serve.
    for key in ["xero", "stripe", "nope"] {
        let response = get(format!("/oauth/{key}/callback?code=c&state=2000.a")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{key}");
    }
    // No open redirect: the host is always this computer's, whatever the request says.
    let response = browser
        .get(relay.url(
            "/oauth/quickbooks/callback?state=2000.x%40evil.example&next=https%3A%2F%2Fevil.example",
        ))
        .header(HOST, "evil.example")
        .send()
        .await
        .unwrap();
    let to = location(&response);
    assert!(
        to.starts_with("http://localhost:2000/oauth/callback?"),
        "{to}"
    );
    // A denial with state is forwarded like a code, for the app to show.
    let denied = "error=access_denied&state=4242.r4nd";
    let to = location(&get(format!("/oauth/quickbooks/callback?{denied}")).await);
    assert_eq!(to, format!("http://localhost:4242/oauth/callback?{denied}"));
    assert_eq!(qbo.counters().token_requests.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfigured_providers_get_404_and_nothing_is_sent() {
    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let relay = relay_for("quickbooks", qbo).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "r")];
    for path in [
        "/oauth/xero/token",
        "/oauth/square/revoke",
        "/oauth/stripe/token",
        "/oauth/not-a-provider/token",
    ] {
        let answer = post_form(&relay.url(path), &form, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/json"),
            "{path}"
        );
        let v = answer.json();
        assert_eq!(v["error"], "unknown_provider", "{path}");
        assert!(v["error_description"].is_string());
    }
    assert_eq!(qbo.counters().token_requests.len(), 0);
    let health = reqwest::get(relay.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    let other = reqwest::get(relay.url("/config")).await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_grants_big_bodies_and_other_media_types_are_refused_before_the_provider() {
    let sandbox = sandbox().await;
    let mautic = sandbox.oauth("mautic");
    let relay = relay_for("mautic", mautic).await;
    let token_url = relay.url("/oauth/mautic/token");
    // The relay's secret must not get tokens for the app itself.
    let answer = post_form(&token_url, &[("grant_type", "client_credentials")], None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "unsupported_grant_type");
    let answer = post_form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("grant_type", "client_credentials"),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_request");

    let big = "r".repeat(70 * 1024);
    let answer = post_form(
        &token_url,
        &[("grant_type", "refresh_token"), ("refresh_token", &big)],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["error"], "invalid_request");

    let answer = Answer::of(
        reqwest::Client::new()
            .post(&token_url)
            .header(CONTENT_TYPE, "text/plain")
            .body("grant_type=refresh_token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let get = reqwest::get(&token_url).await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mautic.counters().token_requests.len(), 0);
}

/// A provider that never answers: the relay gives up after its upstream timeout (504), and
/// one that cannot be reached is a 502; both in RFC 6749's error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_provider_times_out_and_an_absent_one_is_a_bad_gateway() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket); // read nothing, answer nothing
        }
    });
    // Port 1 (tcpmux) is privileged and unused here: connections are refused.
    let absent: SocketAddr = "127.0.0.1:1".parse().unwrap();
    for (addr, status) in [
        (silent_addr, StatusCode::GATEWAY_TIMEOUT),
        (absent, StatusCode::BAD_GATEWAY),
    ] {
        let config = RelayConfig::from_env_map([
            ("RELAY_QUICKBOOKS_CLIENT_ID", "id".to_string()),
            ("RELAY_QUICKBOOKS_CLIENT_SECRET", "secret".to_string()),
            ("RELAY_QUICKBOOKS_TOKEN_URL", format!("http://{addr}/token")),
        ])
        .unwrap()
        .with_upstream_timeout(Duration::from_millis(300));
        let relay = RelayServer::start(config).await;
        let answer = post_form(
            &relay.url("/oauth/quickbooks/token"),
            &[("grant_type", "refresh_token"), ("refresh_token", "r")],
            None,
        )
        .await;
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(answer.json()["error"], "temporarily_unavailable");
    }
    held.abort();
}

// ---------------------------------------------------------------------------------------------
// Nothing secret in logs or Debug output

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything is logged at TRACE while a whole sign-in, a refresh, a refused refresh and a
/// revocation go through the relay; the output names each request but holds no secret, code
/// or token. A current-thread runtime keeps the relay's tasks on the thread that captures.
#[tokio::test(flavor = "current_thread")]
async fn logs_and_debug_output_hold_no_secret_code_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = sandbox().await;
    let qbo = sandbox.oauth("quickbooks");
    let secret = qbo.client_secret().unwrap().to_string();
    let config = RelayConfig::from_env_map(env_for("quickbooks", qbo, None)).unwrap();
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains(&secret), "{shown}");
    assert!(
        shown.contains(qbo.client_id()),
        "the Debug output is real: {shown}"
    );
    let relay = RelayServer::start(config).await;

    let (client, authorization, code, to_app) = sign_in("quickbooks", qbo, &relay).await;
    let state = query_of(&to_app)["state"].clone();
    let tokens = client.exchange(&authorization, &code).await.unwrap();
    let first = tokens.refresh_token.clone().unwrap();
    let renewed = client.refresh(&first, &tokens.scopes).await.unwrap();
    let _ = client.refresh(&first, &tokens.scopes).await.unwrap_err();
    let second = renewed.refresh_token.clone().unwrap();
    client.revoke(&second, TokenKind::Refresh).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let relay_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("relay request"))
        .collect();
    // callback, exchange, refresh, refused refresh, revoke
    assert_eq!(relay_lines.len(), 5, "{logs}");
    assert!(relay_lines.iter().any(|l| l.contains("endpoint=\"revoke\"")
        && l.contains("provider=\"quickbooks\"")
        && l.contains("status=200")));
    assert!(relay_lines.iter().any(|l| l.contains("status=400")));
    let random = state.split_once('.').unwrap().1;
    for (what, value) in [
        ("client secret", secret.as_str()),
        ("code", code.expose()),
        ("code verifier", authorization.pkce().verifier().expose()),
        ("state", random),
        ("access token", tokens.access_token.expose()),
        ("refresh token", first.expose()),
        ("rotated refresh token", second.expose()),
        ("new access token", renewed.access_token.expose()),
    ] {
        assert!(!logs.contains(value), "the {what} is in the logs:\n{logs}");
    }
}
