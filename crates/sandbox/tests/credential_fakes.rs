//! The fakes of the providers connected with credentials, over the wire: Stripe's
//! `GET /v1/account` (and its restricted key), PayPal's token endpoint, Twilio, SendGrid,
//! BillionMail and the SMTP server. Answers are checked against the official schemas: from
//! `shared/specs/` where it has them (Stripe's `account` and `error`, Twilio's Messages list,
//! SendGrid's `ErrorResponse`), else against the upstream schema copied here with its source.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_sandbox::{Sandbox, SandboxConfig};
use switchboard_speccheck::{Spec, assert_no_violations};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn shared(file: &'static str) -> &'static Spec {
    static STRIPE: OnceLock<Spec> = OnceLock::new();
    static TWILIO: OnceLock<Spec> = OnceLock::new();
    static SENDGRID: OnceLock<Spec> = OnceLock::new();
    let cell = match file {
        "stripe.json" => &STRIPE,
        "twilio-messaging.json" => &TWILIO,
        _ => &SENDGRID,
    };
    cell.get_or_init(|| Spec::load(file).unwrap_or_else(|e| panic!("{e}")))
}

/// Schemas the shared specs do not have, copied from upstream (OpenAPI 3.0 `nullable` form):
/// - `twilio_account`: Twilio's `api.v2010.account` (twilio/twilio-oai `twilio_api_v2010`;
///   the properties table of https://www.twilio.com/docs/iam/api/account).
/// - `sendgrid_user_account`, `sendgrid_user_email`, `sendgrid_user_profile`: the 200 schemas
///   of `GET /v3/user/account`, `/v3/user/email`, `/v3/user/profile` in twilio/sendgrid-oai
///   `spec/json/tsg_user_v3.json` (commit 2a6ae1824abb462e3903687a9188df2270475ffa).
/// - `sendgrid_scopes`: the 200 schema of `GET /v3/scopes` in `tsg_scopes_v3.json` (same commit).
fn upstream() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let string = || json!({"type": "string", "nullable": true});
        Spec::from_value(json!({"components": {"schemas": {
            "twilio_account": {
                "type": "object",
                "properties": {
                    "auth_token": string(),
                    "date_created": string(),
                    "date_updated": string(),
                    "friendly_name": string(),
                    "owner_account_sid": {"type": "string", "nullable": true, "minLength": 34,
                        "maxLength": 34, "pattern": "^AC[0-9a-fA-F]{32}$"},
                    "sid": {"type": "string", "nullable": true, "minLength": 34,
                        "maxLength": 34, "pattern": "^AC[0-9a-fA-F]{32}$"},
                    "status": {"type": "string", "enum": ["active", "suspended", "closed"]},
                    "subresource_uris": {"type": "object", "nullable": true},
                    "type": {"type": "string", "enum": ["Trial", "Full"]},
                    "uri": string(),
                },
            },
            "sendgrid_user_account": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["free", "paid"]},
                    "reputation": {"type": "number"},
                },
                "required": ["type", "reputation"],
            },
            "sendgrid_user_email": {
                "type": "object",
                "properties": {"email": {"type": "string", "format": "email"}},
                "required": ["email"],
            },
            "sendgrid_user_profile": {
                "type": "object",
                "properties": {
                    "address": {"type": "string"}, "address2": {"type": "string"},
                    "city": {"type": "string"}, "company": {"type": "string"},
                    "country": {"type": "string"}, "first_name": {"type": "string"},
                    "last_name": {"type": "string"}, "phone": {"type": "string"},
                    "state": {"type": "string"}, "website": {"type": "string"},
                    "zip": {"type": "string"},
                },
                "required": ["address", "city", "company", "country", "first_name",
                    "last_name", "phone", "state", "website", "zip"],
            },
            "sendgrid_scopes": {
                "type": "object",
                "properties": {"scopes": {"type": "array", "uniqueItems": true,
                    "items": {"type": "string"}}},
                "required": ["scopes"],
            },
        }}}))
    })
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed: 11,
        stripe_charges: 2,
    })
    .await
    .expect("sandbox starts")
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn check(spec: &Spec, schema: &str, what: &str, body: &Value) {
    let violations = spec.validate_schema(schema, body).unwrap();
    assert_no_violations(what, &violations);
}

#[tokio::test]
async fn stripe_account_has_the_spec_shape_and_restricted_keys_get_a_permission_error() {
    let sb = sandbox().await;
    let http = reqwest::Client::new();
    let base = sb.stripe_api_base();
    let get = |key: String, path: &str| {
        http.get(format!("{base}{path}"))
            .bearer_auth(key)
            .header("Stripe-Version", "2023-08-16")
            .send()
    };

    let a = answer(get(sb.stripe_api_key(), "/v1/account").await.unwrap()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    check(shared("stripe.json"), "account", "GET /v1/account", &a.body);
    assert_eq!(a.body["id"], json!(sb.stripe().account_id()));
    assert!(a.body["id"].as_str().unwrap().starts_with("acct_"));
    assert_eq!(
        a.body["business_profile"]["name"],
        "Switchboard Sandbox Coffee"
    );
    assert!(
        a.headers["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );

    // The restricted key reads charges like the secret key…
    let rk = sb.stripe().restricted_api_key();
    assert!(rk.starts_with("rk_test_"));
    let charges = answer(get(rk.clone(), "/v1/charges?limit=1").await.unwrap()).await;
    assert_eq!(charges.status, StatusCode::OK);
    // …but not the account: Stripe's 403 invalid_request_error naming the account.
    let refused = answer(get(rk.clone(), "/v1/account").await.unwrap()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    check(
        shared("stripe.json"),
        "error",
        "403 of GET /v1/account",
        &refused.body,
    );
    assert_eq!(refused.body["error"]["type"], "invalid_request_error");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not have the required permissions"),
        "{message}"
    );
    assert!(message.contains(&sb.stripe().account_id()), "{message}");
    assert!(!message.contains(&rk), "the key is masked: {message}");

    // Unknown parameters and keys are refused as Stripe refuses them.
    let bad = answer(
        get(sb.stripe_api_key(), "/v1/account?limit=1")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    check(
        shared("stripe.json"),
        "error",
        "400 of GET /v1/account",
        &bad.body,
    );
    let wrong = answer(get("sk_test_nope".into(), "/v1/account").await.unwrap()).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sb.stripe().counters().path("/v1/account"), 3);

    sb.shutdown().await;
}

#[tokio::test]
async fn paypal_token_endpoint_speaks_client_credentials() {
    let sb = sandbox().await;
    let pp = sb.paypal();
    let http = reqwest::Client::new();
    let token = |id: &str, secret: &str, body: &'static str| {
        http.post(format!("{}/v1/oauth2/token", pp.api_base()))
            .basic_auth(id, Some(secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };

    let ok = answer(
        token(
            pp.client_id(),
            pp.client_secret(),
            "grant_type=client_credentials",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let fields: Vec<&str> = ok
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "access_token",
            "app_id",
            "expires_in",
            "nonce",
            "scope",
            "token_type"
        ],
        "the fields of PayPal's documented answer"
    );
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["app_id"], json!(pp.app_id()));
    assert!(pp.app_id().starts_with("APP-") && pp.app_id().len() == 21);
    assert_eq!(ok.body["expires_in"], json!(32_400));
    assert!(ok.body["scope"].as_str().unwrap().contains("openid"));
    assert!(ok.headers.contains_key("paypal-debug-id"));

    // PayPal's refusal of wrong client credentials, exactly.
    let refused = answer(
        token(pp.client_id(), "wrong", "grant_type=client_credentials")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.body,
        json!({"error": "invalid_client", "error_description": "Client Authentication failed"})
    );
    let missing = answer(
        http.post(format!("{}/v1/oauth2/token", pp.api_base()))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let no_grant = answer(token(pp.client_id(), pp.client_secret(), "").await.unwrap()).await;
    assert_eq!(no_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_grant.body["error"], "unsupported_grant_type");

    pp.set_token_lifetime(600);
    let short = answer(
        token(
            pp.client_id(),
            pp.client_secret(),
            "grant_type=client_credentials",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(short.body["expires_in"], json!(600));
    assert_ne!(short.body["access_token"], ok.body["access_token"]);
    assert_eq!(pp.token_requests(), 5);
    assert_eq!(pp.tokens_issued(), 2);
    assert_eq!(pp.token_errors("invalid_client"), 2);

    let entry = &sb.ready_line()["providers"]["paypal"];
    assert_eq!(entry["client_id"], json!(pp.client_id()));
    assert_eq!(entry["api_base"], json!(pp.api_base()));
    assert_ne!(pp.api_base(), sb.stripe_api_base(), "a listener of its own");
    sb.shutdown().await;
}

#[tokio::test]
async fn twilio_account_and_messages_match_the_schemas() {
    let sb = sandbox().await;
    let tw = sb.twilio();
    let http = reqwest::Client::new();
    let sid = tw.account_sid().to_string();
    let get = |user: &str, password: &str, path: String| {
        http.get(format!("{}{path}", tw.api_base()))
            .basic_auth(user, Some(password))
            .send()
    };
    let account_path = format!("/2010-04-01/Accounts/{sid}.json");

    let a = answer(
        get(&sid, tw.auth_token(), account_path.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    check(upstream(), "twilio_account", "Twilio account", &a.body);
    assert_eq!(a.body["sid"], json!(sid));
    assert_eq!(a.body["friendly_name"], json!(tw.friendly_name()));
    assert_eq!(a.body["status"], "active");
    assert!(a.body["date_created"].as_str().unwrap().ends_with(" +0000"));
    assert!(
        a.headers["twilio-request-id"]
            .to_str()
            .unwrap()
            .starts_with("RQ")
    );

    // Wrong token: Twilio's 20003 body, exactly.
    let refused = answer(get(&sid, "0000", account_path.clone()).await.unwrap()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.body,
        json!({"code": 20003, "message": "Authenticate",
               "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
    );

    // A Standard API key may not read the account, but may read messages.
    let key_on_account = answer(
        get(tw.api_key_sid(), tw.api_key_secret(), account_path.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(key_on_account.status, StatusCode::UNAUTHORIZED);
    let messages_path = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    let messages = answer(
        get(
            tw.api_key_sid(),
            tw.api_key_secret(),
            format!("{messages_path}?PageSize=1"),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.body);
    let violations = shared("twilio-messaging.json")
        .validate_response(
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/Messages.json",
            200,
            &messages.body,
        )
        .unwrap();
    assert_no_violations("Twilio Messages list", &violations);
    assert_eq!(messages.body["page_size"], 1);
    tw.set_api_key_main(true);
    let main_key = answer(
        get(tw.api_key_sid(), tw.api_key_secret(), account_path.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(main_key.status, StatusCode::OK);

    // Credentials of this account on another account's path are refused.
    let other = format!("/2010-04-01/Accounts/AC{}.json", "0".repeat(32));
    let cross = answer(get(&sid, tw.auth_token(), other).await.unwrap()).await;
    assert_eq!(cross.status, StatusCode::UNAUTHORIZED);
    assert_eq!(tw.requests("/2010-04-01/Accounts/{Sid}.json"), 5);
    assert_eq!(tw.unauthorized(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn sendgrid_answers_by_scope_with_its_error_bodies() {
    let sb = sandbox().await;
    let sg = sb.sendgrid();
    let http = reqwest::Client::new();
    let get = |key: &str, path: &str| {
        http.get(format!("{}{path}", sg.api_base()))
            .bearer_auth(key)
            .send()
    };
    let key = sg.api_key().to_string();
    assert!(key.starts_with("SG.") && key.len() == 69, "{key}");

    for (path, schema) in [
        ("/v3/user/account", "sendgrid_user_account"),
        ("/v3/user/email", "sendgrid_user_email"),
        ("/v3/user/profile", "sendgrid_user_profile"),
        ("/v3/scopes", "sendgrid_scopes"),
    ] {
        let a = answer(get(&key, path).await.unwrap()).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        check(upstream(), schema, path, &a.body);
    }
    let email = answer(get(&key, "/v3/user/email").await.unwrap()).await;
    assert_eq!(email.body["email"], json!(sg.email()));

    // A mail.send-only key: 403 on the account, its scopes still listed.
    let restricted = sg.restricted_api_key().to_string();
    let forbidden = answer(get(&restricted, "/v3/user/account").await.unwrap()).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden.body,
        json!({"errors": [{"field": null, "message": "access forbidden"}]})
    );
    check(
        shared("sendgrid.json"),
        "ErrorResponse",
        "SendGrid 403",
        &forbidden.body,
    );
    let scopes = answer(get(&restricted, "/v3/scopes").await.unwrap()).await;
    assert_eq!(scopes.body, json!({"scopes": ["mail.send"]}));

    let unauthorized = answer(get("SG.wrong", "/v3/user/account").await.unwrap()).await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthorized.body,
        json!({"errors": [{"field": null, "message": "authorization required"}]})
    );
    check(
        shared("sendgrid.json"),
        "ErrorResponse",
        "SendGrid 401",
        &unauthorized.body,
    );

    let custom = sg.add_key(&["user.account.read"]);
    let account_only = answer(get(&custom, "/v3/user/account").await.unwrap()).await;
    assert_eq!(account_only.status, StatusCode::OK);
    let no_email = answer(get(&custom, "/v3/user/email").await.unwrap()).await;
    assert_eq!(no_email.status, StatusCode::FORBIDDEN);
    sb.shutdown().await;
}

#[tokio::test]
async fn billionmail_checks_the_key_before_the_recipient_and_sends_nothing_for_a_check() {
    let sb = sandbox().await;
    let bm = sb.billionmail();
    let http = reqwest::Client::new();
    let send = |key: &str, body: Value| {
        http.post(format!("{}/api/batch_mail/api/send", bm.api_base()))
            .header("X-API-Key", key)
            .json(&body)
            .send()
    };
    let result = |success: bool, code: i64, msg: &str| json!({"success": success, "code": code, "msg": msg, "data": null});

    let invalid = answer(send("nope", json!({"recipient": ""})).await.unwrap()).await;
    assert_eq!(invalid.status, StatusCode::OK);
    assert_eq!(invalid.body, result(false, 1001, "API key is invalid"));
    let expired = answer(
        send(bm.expired_api_key(), json!({"recipient": "a@b.example"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(expired.body, result(false, 1002, "API key has expired"));
    let check = answer(send(bm.api_key(), json!({"recipient": ""})).await.unwrap()).await;
    assert_eq!(check.body, result(false, 1003, "Invalid recipient"));
    assert!(bm.sent().is_empty(), "a check sends nothing");

    let sent = answer(
        send(bm.api_key(), json!({"recipient": "reader@example.com"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sent.body, result(true, 0, "Email sent successfully"));
    assert_eq!(bm.sent(), ["reader@example.com"]);
    bm.set_template_exists(false);
    let no_template = answer(send(bm.api_key(), json!({"recipient": ""})).await.unwrap()).await;
    assert_eq!(no_template.body["code"], 1004);
    assert_eq!(bm.send_requests(), 5);

    let elsewhere = http
        .get(format!("{}/api/batch_mail/api/list", bm.api_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    sb.shutdown().await;
}

/// One SMTP conversation: send a line (unless empty), read one reply (all its lines).
struct Smtp {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Smtp {
    async fn connect(port: u16) -> (Smtp, String) {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (r, w) = stream.into_split();
        let mut smtp = Smtp {
            reader: BufReader::new(r),
            writer: w,
        };
        let greeting = smtp.reply().await;
        (smtp, greeting)
    }

    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn say(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn smtp_server_authenticates_plain_and_login_and_refuses_bad_passwords() {
    let sb = sandbox().await;
    let smtp = sb.smtp();
    let plain = |user: &str, password: &str| STANDARD.encode(format!("\0{user}\0{password}"));

    let (mut s, greeting) = Smtp::connect(smtp.port()).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(s.say("MAIL FROM:<a@b.example>").await.starts_with("530 "));
    assert!(s.say("AUTH PLAIN").await.starts_with("503 "), "EHLO first");
    let ehlo = s.say("EHLO client.example").await;
    assert!(
        ehlo.contains("250 AUTH PLAIN LOGIN") || ehlo.contains("250-AUTH PLAIN LOGIN"),
        "{ehlo}"
    );
    assert!(s.say("STARTTLS").await.starts_with("454 "));
    let bad = s
        .say(&format!("AUTH PLAIN {}", plain(smtp.user(), "wrong")))
        .await;
    assert_eq!(bad, "535 5.7.8 Authentication credentials invalid\r\n");
    assert!(s.say("AUTH CRAM-MD5").await.starts_with("504 "));
    let good = s
        .say(&format!(
            "AUTH PLAIN {}",
            plain(smtp.user(), smtp.password())
        ))
        .await;
    assert!(good.starts_with("235 "), "{good}");
    assert!(s.say("NOOP").await.starts_with("250 "));
    assert!(s.say("QUIT").await.starts_with("221 "));

    // AUTH LOGIN, step by step.
    let (mut s, _) = Smtp::connect(smtp.port()).await;
    s.say("EHLO client.example").await;
    assert_eq!(s.say("AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        s.say(&STANDARD.encode(smtp.user())).await,
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert!(
        s.say(&STANDARD.encode(smtp.password()))
            .await
            .starts_with("235 ")
    );
    assert!(s.say("QUIT").await.starts_with("221 "));

    let c = smtp.counters();
    assert_eq!(c.connections, 2);
    assert_eq!(c.auth_successes, 2);
    assert_eq!(c.auth_failures, 1);
    assert_eq!(c.quits, 2);
    let entry = &sb.ready_line()["providers"]["smtp"];
    assert_eq!(entry["port"], json!(smtp.port()));
    assert_eq!(entry["user"], json!(smtp.user()));
    sb.shutdown().await;
}
