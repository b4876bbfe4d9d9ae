//! The fake OAuth servers over HTTP, as the app's OAuth client meets them: authorization code
//! with PKCE through a loopback redirect, token exchange, refresh and rotation, revocation, the
//! user revoking access, identity endpoints, consent page, and the counters tests rely on.
//! Time moves with the fakes' clock (`advance`), never by sleeping.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_sandbox::{OAUTH_PROVIDERS, OAuthControl, Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};

const REDIRECT: &str = "http://127.0.0.1:53682/oauth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-switchboard-sandbox";
const STATE: &str = "st4te with spaces, ünïcode & an ampersand=1";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn spec(file: &'static str) -> &'static Spec {
    static XERO: OnceLock<Spec> = OnceLock::new();
    static SQUARE: OnceLock<Spec> = OnceLock::new();
    let cell = if file == "xero-identity.json" {
        &XERO
    } else {
        &SQUARE
    };
    cell.get_or_init(|| Spec::load(file).unwrap_or_else(|e| panic!("{e}")))
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed: 7,
        stripe_charges: 2,
    })
    .await
    .expect("sandbox starts")
}

/// Drives one fake the way the app's client does.
struct Client<'a> {
    sandbox: &'a Sandbox,
    key: &'static str,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    body: Value,
    text: String,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body, text }
}

impl<'a> Client<'a> {
    fn new(sandbox: &'a Sandbox, key: &'static str) -> Client<'a> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client { sandbox, key, http }
    }

    fn ctl(&self) -> &OAuthControl {
        self.sandbox.oauth(self.key)
    }

    /// The authorize parameters the app sends for this provider.
    fn authorize_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("response_type", "code".to_string()),
            ("client_id", self.ctl().client_id().to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("state", STATE.to_string()),
            ("code_challenge", challenge(VERIFIER)),
            ("code_challenge_method", "S256".to_string()),
        ];
        let scope = match self.key {
            "xero" => "openid profile email offline_access accounting.settings.read",
            "quickbooks" => "com.intuit.quickbooks.accounting openid",
            "google" => "openid email https://www.googleapis.com/auth/calendar.events",
            "square" => "MERCHANT_PROFILE_READ PAYMENTS_READ",
            "myob" => "sme-company-file sme-banking",
            _ => "",
        };
        if !scope.is_empty() {
            params.push(("scope", scope.to_string()));
        }
        if self.key == "google" {
            params.push(("access_type", "offline".into()));
            params.push(("prompt", "consent".into()));
        }
        if self.key == "myob" {
            params.push(("prompt", "consent".into()));
        }
        params
    }

    /// GET authorize with the app's parameters, `changes` replacing them (an empty value drops one).
    async fn authorize(&self, changes: &[(&'static str, &str)]) -> reqwest::Response {
        let mut params = self.authorize_params();
        for (name, value) in changes {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, value.to_string()));
            }
        }
        let url = format!(
            "{}?{}",
            self.ctl().authorize_url(),
            serde_urlencoded::to_string(&params).unwrap()
        );
        self.http.get(url).send().await.expect("authorize")
    }

    /// The query of a 302 to the app's redirect URI.
    fn redirected(resp: &reqwest::Response) -> HashMap<String, String> {
        assert_eq!(resp.status(), StatusCode::FOUND, "{resp:?}");
        let location = resp.headers()["location"].to_str().unwrap();
        let url = url::Url::parse(location).unwrap();
        assert_eq!(
            format!("{}://{}{}", url.scheme(), url.authority(), url.path()),
            REDIRECT
        );
        url.query_pairs().into_owned().collect()
    }

    /// Authorize (auto-approved) and return the redirect's parameters.
    async fn approve(&self, changes: &[(&'static str, &str)]) -> HashMap<String, String> {
        let resp = self.authorize(changes).await;
        let query = Self::redirected(&resp);
        assert!(query.contains_key("code"), "{query:?}");
        query
    }

    /// POST to the token endpoint with the provider's client authentication and encoding.
    async fn token(&self, params: &[(&str, &str)]) -> Answer {
        let ctl = self.ctl();
        let mut params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut req = self.http.post(ctl.token_url());
        match self.key {
            "quickbooks" => {
                let pair = format!("{}:{}", ctl.client_id(), ctl.client_secret().unwrap());
                req = req.header("authorization", format!("Basic {}", STANDARD.encode(pair)));
            }
            "xero" | "square" => params.push(("client_id".into(), ctl.client_id().into())),
            _ => {
                params.push(("client_id".into(), ctl.client_id().into()));
                params.push(("client_secret".into(), ctl.client_secret().unwrap().into()));
            }
        }
        req = if self.key == "square" {
            let object: serde_json::Map<String, Value> =
                params.into_iter().map(|(k, v)| (k, json!(v))).collect();
            req.json(&object)
        } else {
            req.form(&params)
        };
        answer(
            req.header("accept", "application/json")
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Answer {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Answer {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// The whole flow: authorize, exchange; the token answer.
    async fn connect(&self) -> Value {
        let query = self.approve(&[]).await;
        let tokens = self.exchange(&query["code"], VERIFIER).await;
        assert_eq!(
            tokens.status,
            StatusCode::OK,
            "{}: {}",
            self.key,
            tokens.text
        );
        tokens.body
    }

    /// The provider's identity endpoint with `access_token`.
    async fn api(&self, access_token: &str) -> Answer {
        let ctl = self.ctl();
        let base = ctl.api_base();
        let url = match self.key {
            "xero" => format!("{base}/connections"),
            "quickbooks" => {
                let realm = ctl.account().realm_id;
                format!("{base}/v3/company/{realm}/companyinfo/{realm}")
            }
            "google" => format!("{base}/v1/userinfo"),
            "square" => format!("{base}/v2/merchants/me"),
            "myob" => format!("{base}/accountright/"),
            _ => format!("{base}/api/users/self"),
        };
        answer(
            self.http
                .get(url)
                .bearer_auth(access_token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Revoke `token` the provider's way (Square: an access token).
    async fn revoke(&self, token: &str) -> Answer {
        let ctl = self.ctl();
        let url = ctl.revoke_url().expect("a revocation endpoint");
        let basic = || {
            let pair = format!("{}:{}", ctl.client_id(), ctl.client_secret().unwrap());
            format!("Basic {}", STANDARD.encode(pair))
        };
        let req = match self.key {
            "xero" => self
                .http
                .post(url)
                .form(&[("token", token), ("client_id", ctl.client_id())]),
            "google" => self.http.post(url).form(&[("token", token)]),
            "quickbooks" => self
                .http
                .post(url)
                .header("authorization", basic())
                .json(&json!({ "token": token })),
            "square" => self
                .http
                .post(url)
                .header(
                    "authorization",
                    format!("Client {}", ctl.client_secret().unwrap()),
                )
                .json(&json!({ "client_id": ctl.client_id(), "access_token": token })),
            other => panic!("{other} has no revocation"),
        };
        answer(req.send().await.unwrap()).await
    }
}

fn str_of<'v>(v: &'v Value, field: &str) -> &'v str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {v}"))
}

/// A refused grant in the provider's shape: RFC 6749 `invalid_grant`, or Square's own.
fn assert_grant_refused(key: &str, answer: &Answer) {
    if key == "square" {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert_eq!(
            answer.body["type"], "service.not_authorized",
            "{}",
            answer.text
        );
    } else {
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{key}: {}",
            answer.text
        );
        assert_eq!(
            answer.body["error"], "invalid_grant",
            "{key}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn ready_line_announces_every_oauth_fake_and_keeps_stripe_as_it_was() {
    let sb = sandbox().await;
    let ready = sb.ready_line();
    let providers = ready["providers"].as_object().unwrap();
    let mut stripe_keys: Vec<_> = providers["stripe"].as_object().unwrap().keys().collect();
    stripe_keys.sort();
    assert_eq!(stripe_keys, ["api_base", "api_key", "rate_limits"]);
    for key in OAUTH_PROVIDERS {
        let entry = &providers[key];
        let ctl = sb.oauth(key);
        let base = str_of(entry, "api_base");
        assert!(base.starts_with("http://127.0.0.1:"), "{key}: {base}");
        assert_ne!(base, str_of(&providers["stripe"], "api_base"));
        for field in ["authorize_url", "token_url"] {
            assert!(str_of(entry, field).starts_with(base), "{key} {field}");
        }
        assert_eq!(entry["authorize_url"], ctl.authorize_url());
        assert_eq!(entry["client_id"], ctl.client_id());
        assert_eq!(entry["rate_limits"], providers["stripe"]["rate_limits"]);
        assert_eq!(
            entry["revoke_url"].is_null(),
            matches!(key, "myob" | "mautic"),
            "{key}"
        );
        assert_eq!(entry.get("client_secret").is_some(), key != "xero", "{key}");
    }
    let paths: Vec<_> = OAUTH_PROVIDERS
        .iter()
        .map(|k| {
            let e = &providers[*k];
            let base = str_of(e, "api_base");
            str_of(e, "token_url")[base.len()..].to_string()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/connect/token",
            "/oauth2/v1/tokens/bearer",
            "/token",
            "/oauth2/token",
            "/oauth2/v1/authorize",
            "/oauth/v2/token"
        ]
    );
}

#[tokio::test]
async fn full_pkce_flow_for_every_provider() {
    let sb = sandbox().await;
    for key in OAUTH_PROVIDERS {
        let c = Client::new(&sb, key);
        let account = c.ctl().account();
        let query = c.approve(&[]).await;
        assert_eq!(query["state"], STATE, "{key}: state comes back unchanged");
        match key {
            "quickbooks" => assert_eq!(query["realmId"], account.realm_id),
            "myob" => {
                assert_eq!(query["businessId"], account.business_id);
                assert_eq!(query["businessName"], account.company);
            }
            _ => assert!(!query.contains_key("realmId"), "{key}"),
        }
        let tokens = c.exchange(&query["code"], VERIFIER).await;
        assert_eq!(tokens.status, StatusCode::OK, "{key}: {}", tokens.text);
        let t = &tokens.body;
        let access = str_of(t, "access_token");
        assert!(t["refresh_token"].is_string(), "{key}: {t}");
        match key {
            "xero" | "google" => assert_eq!(t["token_type"], "Bearer"),
            _ => assert_eq!(t["token_type"], "bearer", "{key}"),
        }
        match key {
            "square" => {
                assert!(t.get("expires_in").is_none());
                assert!(str_of(t, "expires_at").ends_with('Z'));
                assert_eq!(t["merchant_id"], account.merchant_id);
                let violations = spec("square.json")
                    .validate_response("POST", "/oauth2/token", 200, t)
                    .unwrap();
                assert_no_violations("Square ObtainToken answer", &violations);
            }
            "myob" => {
                assert_eq!(t["expires_in"], "1200");
                assert_eq!(t["user"]["uid"], account.subject);
            }
            "xero" => {
                assert_eq!(t["expires_in"], 1800);
                assert!(t["id_token"].is_string());
                assert_eq!(access.split('.').count(), 3, "Xero access tokens are JWTs");
            }
            "quickbooks" => {
                assert_eq!(t["expires_in"], 3600);
                assert_eq!(t["x_refresh_token_expires_in"], 100 * 86_400);
            }
            "google" => assert_eq!(t["expires_in"], 3599),
            _ => assert_eq!(t["expires_in"], 3600),
        }
        let me = c.api(access).await;
        assert_eq!(me.status, StatusCode::OK, "{key}: {}", me.text);
        let b = &me.body;
        match key {
            "xero" => assert_eq!(b.as_array().unwrap().len(), 2),
            "quickbooks" => assert_eq!(b["CompanyInfo"]["CompanyName"], account.company),
            "google" => assert_eq!(b["email"], account.email),
            "square" => assert_eq!(b["merchant"]["id"], account.merchant_id),
            "myob" => assert_eq!(b[0]["Id"], account.business_id),
            _ => assert_eq!(b["email"], account.email),
        }
        let n = c.ctl().counters();
        assert_eq!(n.approvals, 1, "{key}");
        assert_eq!(n.token_requests("authorization_code"), 1, "{key}");
        assert_eq!(n.codes_exchanged, 1, "{key}");
        assert_eq!(n.api_requests, 1, "{key}");
        assert_eq!(c.ctl().active_grants(), 1, "{key}");
    }
}

#[tokio::test]
async fn pkce_is_required_plain_refused_and_the_verifier_checked() {
    let sb = sandbox().await;
    for key in OAUTH_PROVIDERS {
        let c = Client::new(&sb, key);
        // `plain`, or no method (which means plain), or no challenge: refused on the redirect.
        for changes in [
            vec![
                ("code_challenge_method", "plain"),
                ("code_challenge", VERIFIER),
            ],
            vec![("code_challenge_method", "")],
            vec![("code_challenge", "")],
        ] {
            let query = Client::redirected(&c.authorize(&changes).await);
            assert_eq!(query["error"], "invalid_request", "{key} {changes:?}");
            assert_eq!(query["state"], STATE);
            assert!(!query.contains_key("code"));
        }
        // A wrong verifier is refused, and the code is burnt by the attempt.
        let code = c.approve(&[]).await["code"].clone();
        let wrong = format!("{VERIFIER}-wrong");
        assert_grant_refused(key, &c.exchange(&code, &wrong).await);
        assert_grant_refused(key, &c.exchange(&code, VERIFIER).await);
        assert_eq!(c.ctl().counters().codes_exchanged, 0, "{key}");
    }
}

#[tokio::test]
async fn codes_are_single_use_and_short_lived() {
    let sb = sandbox().await;
    for key in OAUTH_PROVIDERS {
        let c = Client::new(&sb, key);
        let code = c.approve(&[]).await["code"].clone();
        assert_eq!(c.exchange(&code, VERIFIER).await.status, StatusCode::OK);
        assert_grant_refused(key, &c.exchange(&code, VERIFIER).await);

        // Each provider's own code lifetime: fine a second before, refused a second after.
        let code = c.approve(&[]).await["code"].clone();
        c.ctl().advance(Duration::from_secs(25));
        assert_eq!(
            c.exchange(&code, VERIFIER).await.status,
            StatusCode::OK,
            "{key}"
        );
        let code = c.approve(&[]).await["code"].clone();
        c.ctl().advance(Duration::from_secs(10 * 60 + 1));
        assert_grant_refused(key, &c.exchange(&code, VERIFIER).await);

        c.ctl().set_code_lifetime(Duration::from_secs(5));
        let code = c.approve(&[]).await["code"].clone();
        c.ctl().advance(Duration::from_secs(6));
        let late = c.exchange(&code, VERIFIER).await;
        assert_grant_refused(key, &late);
        if key != "square" && key != "xero" {
            assert_eq!(
                late.body["error_description"],
                "The authorization code has expired."
            );
        }
        assert!(c.ctl().counters().token_errors.values().sum::<usize>() >= 3);
    }
}

#[tokio::test]
async fn redirect_uri_rules() {
    let sb = sandbox().await;
    let xero = Client::new(&sb, "xero");
    // The exchange must repeat the authorize request's redirect URI.
    let code = xero.approve(&[]).await["code"].clone();
    let other = xero
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:53682/elsewhere"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_grant_refused("xero", &other);
    assert_eq!(
        other.body,
        json!({"error": "invalid_grant"}),
        "Xero sends no description"
    );

    // Not loopback, or not registered: an error page, never a redirect.
    for uri in [
        "https://evil.example/cb",
        "http://192.168.1.2:53682/oauth/callback",
    ] {
        let resp = xero.authorize(&[("redirect_uri", uri)]).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("redirect_uri_mismatch"));
    }
    let resp = xero.authorize(&[("client_id", "someone-else")]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());

    // Registered URIs match exactly at Xero (port included) and on any loopback port at Google.
    let registered = Some(vec!["http://localhost:53682/oauth/callback".to_string()]);
    xero.ctl().set_registered_redirect_uris(registered.clone());
    let elsewhere = "http://localhost:40000/oauth/callback";
    let resp = xero.authorize(&[("redirect_uri", elsewhere)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = xero
        .authorize(&[("redirect_uri", "http://localhost:53682/oauth/callback")])
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let google = Client::new(&sb, "google");
    google.ctl().set_registered_redirect_uris(registered);
    let resp = google.authorize(&[("redirect_uri", elsewhere)]).await;
    assert_eq!(
        resp.status(),
        StatusCode::FOUND,
        "Google ignores a loopback port"
    );
}

#[tokio::test]
async fn xero_rotates_refresh_tokens_with_a_thirty_minute_grace() {
    let sb = sandbox().await;
    let c = Client::new(&sb, "xero");
    let first = c.connect().await;
    let r1 = str_of(&first, "refresh_token").to_string();
    let second = c.refresh(&r1).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let r2 = str_of(&second.body, "refresh_token").to_string();
    assert_ne!(r1, r2, "every refresh rotates");
    // The answer was lost: the old token may be retried within 30 minutes.
    c.ctl().advance(Duration::from_secs(29 * 60));
    assert_eq!(c.refresh(&r1).await.status, StatusCode::OK);
    c.ctl().advance(Duration::from_secs(2 * 60));
    assert_grant_refused("xero", &c.refresh(&r1).await);
    // The token of the first rotation was never used: it still works.
    let third = c.refresh(&r2).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.text);
    let n = c.ctl().counters();
    assert_eq!(n.refresh_token_uses(&r1), 3);
    assert_eq!(n.refresh_token_uses(&r2), 1);
    assert_eq!(n.refresh_requests(), 4);
    assert_eq!(n.refreshes, 3);
    assert_eq!(n.token_errors("invalid_grant"), 1);

    // Unused refresh tokens lapse after 60 days; without offline_access there is none.
    let r3 = str_of(&third.body, "refresh_token").to_string();
    c.ctl().advance(Duration::from_secs(60 * 86_400));
    assert_grant_refused("xero", &c.refresh(&r3).await);
    let query = c
        .approve(&[("scope", "openid email accounting.settings.read")])
        .await;
    let tokens = c.exchange(&query["code"], VERIFIER).await;
    assert_eq!(tokens.status, StatusCode::OK);
    assert!(
        tokens.body.get("refresh_token").is_none(),
        "{}",
        tokens.text
    );
}

#[tokio::test]
async fn square_quickbooks_myob_and_mautic_refuse_a_rotated_token_at_once() {
    let sb = sandbox().await;
    for key in ["square", "quickbooks", "myob", "mautic"] {
        let c = Client::new(&sb, key);
        let r1 = str_of(&c.connect().await, "refresh_token").to_string();
        let next = c.refresh(&r1).await;
        assert_eq!(next.status, StatusCode::OK, "{key}: {}", next.text);
        let r2 = str_of(&next.body, "refresh_token").to_string();
        assert_ne!(r1, r2, "{key}");
        assert_grant_refused(key, &c.refresh(&r1).await);
        assert_eq!(c.refresh(&r2).await.status, StatusCode::OK, "{key}");
        if key == "square" {
            let violations = spec("square.json")
                .validate_response("POST", "/oauth2/token", 200, &next.body)
                .unwrap();
            assert_no_violations("Square refresh answer", &violations);
            assert!(str_of(&next.body, "refresh_token_expires_at").ends_with('Z'));
        }
        assert_eq!(c.ctl().counters().refresh_token_uses(&r1), 2, "{key}");
    }
    // Square's PKCE refresh tokens expire after 90 days.
    let c = Client::new(&sb, "square");
    let r = str_of(&c.connect().await, "refresh_token").to_string();
    c.ctl().advance(Duration::from_secs(90 * 86_400 + 1));
    assert_grant_refused("square", &c.refresh(&r).await);
}

#[tokio::test]
async fn google_does_not_rotate_and_issues_refresh_tokens_only_for_offline_consent() {
    let sb = sandbox().await;
    let c = Client::new(&sb, "google");
    let first = c.connect().await;
    let r = str_of(&first, "refresh_token").to_string();
    for _ in 0..3 {
        let again = c.refresh(&r).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert!(again.body.get("refresh_token").is_none(), "no rotation");
        assert!(again.body["access_token"].is_string());
    }
    assert_eq!(c.ctl().counters().refresh_token_uses(&r), 3);

    // Re-granting without prompt=consent: no new refresh token. Online access: none either.
    let q = c.approve(&[("prompt", "")]).await;
    let t = c.exchange(&q["code"], VERIFIER).await;
    assert!(t.body.get("refresh_token").is_none(), "{}", t.text);
    let q = c.approve(&[("access_type", "")]).await;
    let t = c.exchange(&q["code"], VERIFIER).await;
    assert!(t.body.get("refresh_token").is_none(), "{}", t.text);
    let q = c.approve(&[]).await;
    let t = c.exchange(&q["code"], VERIFIER).await;
    assert!(t.body["refresh_token"].is_string(), "{}", t.text);

    // Revoking the access token ends the grant (refresh token included); a second revoke of
    // the same token is Google's 400 invalid_token.
    let access = str_of(&first, "access_token").to_string();
    assert_eq!(c.revoke(&access).await.status, StatusCode::OK);
    assert_grant_refused("google", &c.refresh(&r).await);
    let twice = c.revoke(&access).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(twice.body["error"], "invalid_token");
}

#[tokio::test]
async fn access_tokens_expire_by_the_clock_and_refresh_brings_them_back() {
    let sb = sandbox().await;
    for key in OAUTH_PROVIDERS {
        let c = Client::new(&sb, key);
        c.ctl().set_access_token_lifetime(Duration::from_secs(5));
        let tokens = c.connect().await;
        if key == "square" {
            assert!(str_of(&tokens, "expires_at").ends_with('Z'));
        } else {
            assert_eq!(
                tokens["expires_in"].to_string().trim_matches('"'),
                "5",
                "{key}"
            );
        }
        let access = str_of(&tokens, "access_token");
        assert_eq!(c.api(access).await.status, StatusCode::OK, "{key}");
        c.ctl().advance(Duration::from_secs(6));
        let expired = c.api(access).await;
        assert_eq!(
            expired.status,
            StatusCode::UNAUTHORIZED,
            "{key}: {}",
            expired.text
        );
        if key == "square" {
            assert_eq!(expired.body["errors"][0]["code"], "ACCESS_TOKEN_EXPIRED");
        }
        let fresh = c.refresh(str_of(&tokens, "refresh_token")).await;
        assert_eq!(fresh.status, StatusCode::OK, "{key}: {}", fresh.text);
        let me = c.api(str_of(&fresh.body, "access_token")).await;
        assert_eq!(me.status, StatusCode::OK, "{key}");
        assert_eq!(c.ctl().counters().api_unauthorized, 1, "{key}");
    }
}

#[tokio::test]
async fn the_user_revoking_access_ends_refresh_and_api_calls() {
    let sb = sandbox().await;
    for key in OAUTH_PROVIDERS {
        let c = Client::new(&sb, key);
        let tokens = c.connect().await;
        assert_eq!(c.ctl().revoke_all_grants(), 1, "{key}");
        assert_eq!(c.ctl().active_grants(), 0);
        assert_grant_refused(key, &c.refresh(str_of(&tokens, "refresh_token")).await);
        let api = c.api(str_of(&tokens, "access_token")).await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{key}: {}", api.text);
        match key {
            "square" => assert_eq!(api.body["errors"][0]["code"], "ACCESS_TOKEN_REVOKED"),
            "quickbooks" => assert_eq!(api.body["fault"]["error"][0]["code"], "3200"),
            "xero" => assert_eq!(api.body["Detail"], "AuthenticationUnsuccessful"),
            _ => {}
        }
        // Connecting again works and gives a new grant.
        let again = c.connect().await;
        assert_eq!(
            c.api(str_of(&again, "access_token")).await.status,
            StatusCode::OK
        );
        // One token's grant only.
        assert!(c.ctl().revoke_grant_of(str_of(&again, "refresh_token")));
        assert!(!c.ctl().revoke_grant_of("no-such-token"));
    }
}

#[tokio::test]
async fn revocation_endpoints_each_providers_way() {
    let sb = sandbox().await;
    // Xero: revoking the refresh token removes the connections and ends the grant.
    let xero = Client::new(&sb, "xero");
    let t = xero.connect().await;
    let revoked = xero.revoke(str_of(&t, "refresh_token")).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(
        xero.api(str_of(&t, "access_token")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_grant_refused("xero", &xero.refresh(str_of(&t, "refresh_token")).await);
    assert_eq!(
        xero.revoke("unknown").await.status,
        StatusCode::OK,
        "RFC 7009: unknown is fine"
    );

    // QuickBooks: JSON with HTTP Basic; the grant ends.
    let qb = Client::new(&sb, "quickbooks");
    let t = qb.connect().await;
    assert_eq!(
        qb.revoke(str_of(&t, "refresh_token")).await.status,
        StatusCode::OK
    );
    assert_grant_refused("quickbooks", &qb.refresh(str_of(&t, "refresh_token")).await);
    let no_auth = qb
        .http
        .post(qb.ctl().revoke_url().unwrap())
        .json(&json!({"token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);

    // Square: `Authorization: Client <secret>`; answers {"success": true}; all tokens end.
    let sq = Client::new(&sb, "square");
    let t = sq.connect().await;
    let bad = sq
        .http
        .post(sq.ctl().revoke_url().unwrap())
        .header("authorization", "Client wrong")
        .json(
            &json!({"client_id": sq.ctl().client_id(), "access_token": str_of(&t, "access_token")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let ok = sq.revoke(str_of(&t, "access_token")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body, json!({"success": true}));
    let violations = spec("square.json")
        .validate_response("POST", "/oauth2/revoke", 200, &ok.body)
        .unwrap();
    assert_no_violations("Square RevokeToken answer", &violations);
    let api = sq.api(str_of(&t, "access_token")).await;
    assert_eq!(api.body["errors"][0]["code"], "ACCESS_TOKEN_REVOKED");
    assert_grant_refused("square", &sq.refresh(str_of(&t, "refresh_token")).await);

    for (client, n) in [(&xero, 2), (&qb, 2), (&sq, 2)] {
        assert_eq!(client.ctl().counters().revokes, n, "{}", client.key);
    }
}

#[tokio::test]
async fn xero_connections_match_the_identity_spec() {
    let sb = sandbox().await;
    let c = Client::new(&sb, "xero");
    c.ctl().set_tenant_count(3);
    let t = c.connect().await;
    let access = str_of(&t, "access_token");
    let list = c.api(access).await;
    assert_eq!(list.status, StatusCode::OK);
    let violations = spec("xero-identity.json")
        .validate_response("GET", "/Connections", 200, &list.body)
        .unwrap();
    assert_no_violations("GET /connections", &violations);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    let tenants: Vec<_> = c
        .ctl()
        .account()
        .tenants
        .into_iter()
        .map(|t| t.tenant_id)
        .collect();
    for (item, tenant) in items.iter().zip(&tenants) {
        assert_eq!(item["tenantType"], "ORGANISATION");
        assert_eq!(&item["tenantId"], tenant);
        let created = str_of(item, "createdDateUtc");
        assert_eq!(
            created.len(),
            "2019-12-07T18:46:19.5165400".len(),
            "{created}"
        );
        assert!(!created.ends_with('Z'));
    }
    // The access token is a JWT whose authentication_event_id filters the connections.
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let event = str_of(&claims, "authentication_event_id");
    assert_eq!(items[0]["authEventId"], event);
    let base = c.ctl().api_base();
    let filtered = answer(
        c.http
            .get(format!(
                "{base}/connections?authEventId=00000000-0000-0000-0000-000000000000"
            ))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(filtered.body, json!([]));
    // Disconnecting one tenant.
    let id = str_of(&items[0], "id");
    let deleted = c
        .http
        .delete(format!("{base}/connections/{id}"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.api(access).await.body.as_array().unwrap().len(), 2);
    // No token: 401.
    let anonymous = c
        .http
        .get(format!("{base}/connections"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn quickbooks_realm_square_status_and_client_authentication() {
    let sb = sandbox().await;
    let qb = Client::new(&sb, "quickbooks");
    let realm = qb.ctl().account().realm_id;
    let query = qb.approve(&[]).await;
    assert_eq!(query["realmId"], realm);
    assert!(realm.chars().all(|c| c.is_ascii_digit()));
    // Without HTTP Basic the token endpoint refuses the client.
    let no_basic = answer(
        qb.http
            .post(qb.ctl().token_url())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", query["code"].as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(no_basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_basic.body["error"], "invalid_client");
    let t = qb.connect().await;
    let other = answer(
        qb.http
            .get(format!(
                "{}/v3/company/1234/companyinfo/1234",
                qb.ctl().api_base()
            ))
            .bearer_auth(str_of(&t, "access_token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "another company");

    // Google with a wrong secret.
    let google = Client::new(&sb, "google");
    let code = google.approve(&[]).await["code"].clone();
    let wrong = answer(
        google
            .http
            .post(google.ctl().token_url())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", google.ctl().client_id()),
                ("client_secret", "GOCSPX-wrong"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["error"], "invalid_client");
    assert_eq!(google.ctl().counters().token_errors("invalid_client"), 1);

    // Square's token status, checked against the spec.
    let sq = Client::new(&sb, "square");
    let t = sq.connect().await;
    let status = answer(
        sq.http
            .post(format!("{}/oauth2/token/status", sq.ctl().api_base()))
            .bearer_auth(str_of(&t, "access_token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    let violations = spec("square.json")
        .validate_response("POST", "/oauth2/token/status", 200, &status.body)
        .unwrap();
    assert_no_violations("Square RetrieveTokenStatus", &violations);
    assert_eq!(
        status.body["scopes"],
        json!(["MERCHANT_PROFILE_READ", "PAYMENTS_READ"])
    );
    // A form body is not what Square takes.
    let form = sq
        .http
        .post(sq.ctl().token_url())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn consent_page_approves_and_denies() {
    let sb = sandbox().await;
    for key in ["xero", "square", "quickbooks"] {
        let c = Client::new(&sb, key);
        c.ctl().set_auto_approve(false);
        let ticket = |html: &str| {
            let start = html.find("name=\"ticket\" value=\"").expect("a ticket") + 21;
            html[start..start + html[start..].find('"').unwrap()].to_string()
        };
        let post = |ticket: String, decision: &'static str| {
            c.http
                .post(c.ctl().authorize_url())
                .form(&[("ticket", ticket.as_str()), ("decision", decision)])
                .send()
        };
        let page = c.authorize(&[]).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("<form method=\"post\""), "{html}");
        if key == "xero" {
            assert!(html.contains("Demo Company (NZ)"));
        }
        let denied = Client::redirected(&post(ticket(&html), "deny").await.unwrap());
        assert_eq!(denied["error"], "access_denied");
        assert_eq!(denied["state"], STATE);
        if key == "square" {
            assert_eq!(denied["error_description"], "user_denied");
        }

        let html = c.authorize(&[]).await.text().await.unwrap();
        let t = ticket(&html);
        let approved = Client::redirected(&post(t.clone(), "approve").await.unwrap());
        assert_eq!(approved["state"], STATE);
        assert_eq!(
            c.exchange(&approved["code"], VERIFIER).await.status,
            StatusCode::OK
        );
        let reused = post(t, "approve").await.unwrap();
        assert_eq!(
            reused.status(),
            StatusCode::BAD_REQUEST,
            "a ticket answers once"
        );
        let n = c.ctl().counters();
        assert_eq!(
            (n.consent_pages, n.approvals, n.denials),
            (2, 1, 1),
            "{key}"
        );
    }
}

#[tokio::test]
async fn oauth_listeners_stop_with_the_sandbox() {
    let sb = sandbox().await;
    let url = sb.oauth("mautic").token_url();
    let http = reqwest::Client::new();
    assert!(http.post(&url).send().await.is_ok());
    sb.shutdown().await;
    assert!(http.post(&url).send().await.is_err());
}
