//! Connecting the credential providers against the sandbox's fakes: each verifies with the
//! provider's real API shape, stores the account it reaches and its secrets sealed (the
//! plaintext never in the database files), and stores nothing when the provider refuses.

mod common;

use switchboard_app::{
    BillionMailConnect, CredentialConnect, ErrorCode, PayPalConnect, PayPalEnvironment,
    SendGridConnect, SmtpConnect, SmtpSecurity, StripeConnect, Trigger, TwilioConnect,
    secret_purpose, verify_credentials,
};
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionView;

/// Every byte SQLite keeps for the workspace (database, WAL, shared memory).
fn database_bytes(f: &common::Fixture) -> Vec<u8> {
    let folder = switchboard_app::real_folder(f.dir.path());
    let mut bytes = Vec::new();
    for name in ["switchboard.db", "switchboard.db-wal", "switchboard.db-shm"] {
        if let Ok(b) = std::fs::read(folder.join(name)) {
            bytes.extend(b);
        }
    }
    assert!(!bytes.is_empty(), "the database files exist");
    bytes
}

/// The secret is stored (sealed, under `purpose`) and its plaintext appears in no file.
#[track_caller]
fn assert_sealed(f: &common::Fixture, c: &ConnectionView, purpose: &str, plaintext: &str) {
    let bytes = database_bytes(f);
    // The scan sees the data (the connection's own name is there in clear)…
    assert!(
        bytes.windows(c.name.len()).any(|w| w == c.name.as_bytes()),
        "the scan does not see the connection row"
    );
    // …but not the secret.
    assert!(
        !bytes
            .windows(plaintext.len())
            .any(|w| w == plaintext.as_bytes()),
        "the plaintext {purpose} is in the database files"
    );
    let store =
        switchboard_store::Store::open_folder(&switchboard_app::real_folder(f.dir.path())).unwrap();
    let row = switchboard_store::secrets::get(&store.conn(), &c.id, purpose)
        .unwrap()
        .unwrap_or_else(|| panic!("no {purpose} secret for {}", c.name));
    assert!(row.ciphertext.len() >= plaintext.len());
}

async fn names(f: &common::Fixture) -> Vec<String> {
    f.workspace
        .list_connections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_connect_stores_the_account_and_still_syncs() {
    let f = common::fixture(10).await;
    let key = f.sandbox.stripe_api_key();
    let connected = f
        .workspace
        .connect_with_credentials(CredentialConnect::Stripe(StripeConnect {
            name: "Shop".into(),
            api_key: SecretString::new(key.clone()),
            api_base: Some(f.sandbox.stripe_api_base()),
        }))
        .await
        .unwrap();
    let c = &connected.connection;
    assert_eq!(c.provider, "stripe");
    assert_eq!(
        c.account_id.as_deref(),
        Some(f.sandbox.stripe().account_id().as_str())
    );
    assert_eq!(
        c.account_name.as_deref(),
        Some("Switchboard Sandbox Coffee")
    );
    assert_eq!(
        c.sync_interval_minutes,
        Some(60),
        "Stripe is pulled: scheduled"
    );
    assert!(connected.notes.is_empty(), "{:?}", connected.notes);
    // One look-up for this connection (the fixture's own "Main" made the first).
    assert_eq!(f.sandbox.stripe().counters().path("/v1/account"), 2);
    assert_sealed(&f, c, secret_purpose::API_KEY, &key);

    // The key is stored where syncing reads it.
    let runs = f
        .workspace
        .sync(Some("Shop"), Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_stripe_key_connects_with_the_account_unknown_and_says_so() {
    let f = common::fixture(5).await;
    let connected = f
        .workspace
        .connect_with_credentials(CredentialConnect::Stripe(StripeConnect {
            name: "Restricted".into(),
            api_key: SecretString::new(f.sandbox.stripe().restricted_api_key()),
            api_base: Some(f.sandbox.stripe_api_base()),
        }))
        .await
        .unwrap();
    assert_eq!(connected.connection.account_id, None);
    assert_eq!(connected.connection.account_name, None);
    assert_eq!(connected.notes.len(), 1);
    assert!(
        connected.notes[0].contains("account id is unknown"),
        "{}",
        connected.notes[0]
    );
    assert!(
        connected.notes[0].contains("does not have the required permissions"),
        "Stripe's own words are quoted: {}",
        connected.notes[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_stripe_key_is_auth_failed_and_stores_nothing() {
    let f = common::fixture(5).await;
    let before = names(&f).await;
    let err = f
        .workspace
        .connect_with_credentials(CredentialConnect::Stripe(StripeConnect {
            name: "Wrong".into(),
            api_key: SecretString::new("sk_test_51notthekey000000"),
            api_base: Some(f.sandbox.stripe_api_base()),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(err.message.contains("Check the key"), "{}", err.message);
    assert_eq!(names(&f).await, before);
    // Only the fixture's own connection looked its account up.
    assert_eq!(f.sandbox.stripe().counters().path("/v1/account"), 1);
}

fn paypal(f: &common::Fixture, name: &str, secret: &str) -> CredentialConnect {
    let pp = f.sandbox.paypal();
    CredentialConnect::PayPal(PayPalConnect {
        name: name.into(),
        environment: PayPalEnvironment::Sandbox,
        api_base: Some(pp.api_base()),
        client_id: pp.client_id().to_string(),
        client_secret: SecretString::new(secret),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_connects_with_client_credentials_and_the_app_as_its_account() {
    let f = common::fixture(2).await;
    let pp = f.sandbox.paypal();
    let secret = pp.client_secret().to_string();
    let connected = f
        .workspace
        .connect_with_credentials(paypal(&f, "PayPal", &secret))
        .await
        .unwrap();
    let c = &connected.connection;
    assert_eq!(c.provider, "paypal");
    let expected = format!("sandbox:{}", pp.app_id());
    assert_eq!(c.account_id.as_deref(), Some(expected.as_str()));
    assert_eq!(c.api_base, pp.api_base());
    assert_eq!(
        c.sync_interval_minutes,
        Some(60),
        "PayPal is pulled, so it keeps the default schedule"
    );
    assert_eq!(pp.tokens_issued(), 1, "one token request verified it");
    assert!(connected.notes.iter().any(|n| n.contains("app")));
    assert_sealed(&f, c, secret_purpose::CLIENT_SECRET, &secret);
    assert_sealed(&f, c, secret_purpose::CLIENT_ID, pp.client_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_paypal_secret_is_auth_failed_and_stores_nothing() {
    let f = common::fixture(2).await;
    let before = names(&f).await;
    let err = f
        .workspace
        .connect_with_credentials(paypal(&f, "PayPal", "wrong-secret"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(
        err.message.contains("Client Authentication failed"),
        "{}",
        err.message
    );
    assert!(err.message.contains("sandbox"), "{}", err.message);
    assert_eq!(names(&f).await, before);
    assert_eq!(f.sandbox.paypal().token_errors("invalid_client"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_connects_with_the_auth_token_or_a_standard_api_key() {
    let f = common::fixture(2).await;
    let tw = f.sandbox.twilio();
    let with_token = f
        .workspace
        .connect_with_credentials(CredentialConnect::Twilio(TwilioConnect {
            name: "SMS".into(),
            account_sid: tw.account_sid().into(),
            api_key_sid: None,
            secret: SecretString::new(tw.auth_token()),
            api_base: Some(tw.api_base()),
        }))
        .await
        .unwrap();
    let c = &with_token.connection;
    assert_eq!(c.account_id.as_deref(), Some(tw.account_sid()));
    assert_eq!(c.account_name.as_deref(), Some(tw.friendly_name()));
    assert_eq!(c.sync_interval_minutes, None);
    assert!(with_token.notes.is_empty(), "{:?}", with_token.notes);
    assert_sealed(&f, c, secret_purpose::AUTH_TOKEN, tw.auth_token());

    // A Standard key may not read the account: verified through the messages instead.
    let with_key = f
        .workspace
        .connect_with_credentials(CredentialConnect::Twilio(TwilioConnect {
            name: "SMS key".into(),
            account_sid: tw.account_sid().into(),
            api_key_sid: Some(tw.api_key_sid().into()),
            secret: SecretString::new(tw.api_key_secret()),
            api_base: Some(tw.api_base()),
        }))
        .await
        .unwrap();
    let c = &with_key.connection;
    assert_eq!(c.account_id.as_deref(), Some(tw.account_sid()));
    assert_eq!(c.account_name, None);
    assert!(
        with_key
            .notes
            .iter()
            .any(|n| n.contains("Standard API key")),
        "{:?}",
        with_key.notes
    );
    assert_eq!(
        tw.requests("/2010-04-01/Accounts/{AccountSid}/Messages.json"),
        1
    );
    assert_sealed(&f, c, secret_purpose::API_SECRET, tw.api_key_secret());
    assert_sealed(&f, c, secret_purpose::API_KEY_SID, tw.api_key_sid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_twilio_credentials_are_auth_failed_and_store_nothing() {
    let f = common::fixture(2).await;
    let tw = f.sandbox.twilio();
    let before = names(&f).await;
    for (key, secret) in [
        (None, "0123456789abcdef0123456789abcdef"),
        (Some(tw.api_key_sid().to_string()), "not-the-secret"),
    ] {
        let err = f
            .workspace
            .connect_with_credentials(CredentialConnect::Twilio(TwilioConnect {
                name: "SMS".into(),
                account_sid: tw.account_sid().into(),
                api_key_sid: key,
                secret: SecretString::new(secret),
                api_base: Some(tw.api_base()),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthFailed);
        assert!(err.message.contains("20003"), "{}", err.message);
        assert!(err.message.contains("Check"), "{}", err.message);
    }
    assert_eq!(names(&f).await, before);
    let bad_sid = f
        .workspace
        .connect_with_credentials(CredentialConnect::Twilio(TwilioConnect {
            name: "SMS".into(),
            account_sid: "AC123".into(),
            api_key_sid: None,
            secret: SecretString::new("x"),
            api_base: Some(tw.api_base()),
        }))
        .await
        .unwrap_err();
    assert_eq!(bad_sid.code, ErrorCode::InvalidInput);
}

fn sendgrid(f: &common::Fixture, name: &str, key: &str) -> CredentialConnect {
    CredentialConnect::SendGrid(SendGridConnect {
        name: name.into(),
        api_key: SecretString::new(key),
        api_base: Some(f.sandbox.sendgrid().api_base()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendgrid_connects_and_names_the_scope_a_key_lacks() {
    let f = common::fixture(2).await;
    let sg = f.sandbox.sendgrid();
    let key = sg.api_key().to_string();
    let connected = f
        .workspace
        .connect_with_credentials(sendgrid(&f, "Newsletter", &key))
        .await
        .unwrap();
    let c = &connected.connection;
    assert_eq!(c.account_id.as_deref(), Some(sg.email()));
    assert_eq!(c.account_name.as_deref(), Some(sg.company()));
    assert!(connected.notes.iter().any(|n| n.contains("paid plan")));
    assert_sealed(&f, c, secret_purpose::API_KEY, &key);

    // A mail.send-only key: SendGrid refuses the account; the message names the missing scope
    // and what the key has (from GET /v3/scopes).
    let before = names(&f).await;
    let err = f
        .workspace
        .connect_with_credentials(sendgrid(&f, "Mail only", sg.restricted_api_key()))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(
        err.message.contains("lacks the scope user.account.read"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("the key has: mail.send"),
        "{}",
        err.message
    );
    assert_eq!(sg.requests("/v3/scopes"), 1);
    assert_eq!(names(&f).await, before);

    // A key without the email and profile scopes connects without a name.
    let account_only = sg.add_key(&["user.account.read"]);
    let plain = f
        .workspace
        .connect_with_credentials(sendgrid(&f, "Plain", &account_only))
        .await
        .unwrap();
    assert_eq!(plain.connection.account_id, None);
    assert_eq!(plain.connection.account_name, None);

    let wrong = f
        .workspace
        .connect_with_credentials(sendgrid(&f, "Wrong", "SG.wrong.key"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::AuthFailed);
    assert!(
        wrong.message.contains("authorization required"),
        "{}",
        wrong.message
    );
    assert!(wrong.message.contains("Check the key"), "{}", wrong.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billionmail_connects_without_sending_anything() {
    let f = common::fixture(2).await;
    let bm = f.sandbox.billionmail();
    let connect = |name: &str, key: &str| {
        CredentialConnect::BillionMail(BillionMailConnect {
            name: name.into(),
            api_base: format!("{}/", bm.api_base()),
            api_key: SecretString::new(key),
        })
    };
    let connected = f
        .workspace
        .connect_with_credentials(connect("Campaigns", bm.api_key()))
        .await
        .unwrap();
    let c = &connected.connection;
    let host = bm.api_base().trim_start_matches("http://").to_string();
    assert_eq!(c.account_id.as_deref(), Some(host.as_str()));
    assert_eq!(
        c.api_base,
        bm.api_base(),
        "stored without the trailing slash"
    );
    assert!(bm.sent().is_empty(), "verifying sent no mail");
    assert_eq!(bm.send_requests(), 1);
    assert_sealed(&f, c, secret_purpose::API_KEY, bm.api_key());

    let before = names(&f).await;
    for key in ["0000", bm.expired_api_key()] {
        let err = f
            .workspace
            .connect_with_credentials(connect("Other", key))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthFailed, "{}", err.message);
    }
    assert_eq!(names(&f).await, before);
    let missing_url = f
        .workspace
        .connect_with_credentials(CredentialConnect::BillionMail(BillionMailConnect {
            name: "Other".into(),
            api_base: " ".into(),
            api_key: SecretString::new(bm.api_key()),
        }))
        .await
        .unwrap_err();
    assert_eq!(missing_url.code, ErrorCode::InvalidInput);
}

fn smtp(f: &common::Fixture, name: &str, password: &str) -> CredentialConnect {
    let s = f.sandbox.smtp();
    CredentialConnect::Smtp(SmtpConnect {
        name: name.into(),
        host: s.host(),
        port: Some(s.port()),
        security: SmtpSecurity::None,
        user: s.user().into(),
        password: SecretString::new(password),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_connects_with_a_login_and_refuses_a_bad_password() {
    let f = common::fixture(2).await;
    let s = f.sandbox.smtp();
    let password = s.password().to_string();
    let connected = f
        .workspace
        .connect_with_credentials(smtp(&f, "Office mail", &password))
        .await
        .unwrap();
    let c = &connected.connection;
    let expected = format!("{}@127.0.0.1", s.user());
    assert_eq!(c.account_id.as_deref(), Some(expected.as_str()));
    assert_eq!(
        c.api_base,
        format!(
            "smtp://mailer%40sandbox-coffee.example@127.0.0.1:{}",
            s.port()
        )
    );
    assert_eq!(c.sync_interval_minutes, None);
    let counters = s.counters();
    assert_eq!(counters.auth_successes, 1);
    assert_eq!(counters.quits, 1, "the check ends with QUIT");
    assert_eq!(counters.messages, 0);
    assert_sealed(&f, c, secret_purpose::SMTP_PASSWORD, &password);

    let before = names(&f).await;
    let err = f
        .workspace
        .connect_with_credentials(smtp(&f, "Bad", "not-the-password"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(err.message.contains("535"), "{}", err.message);
    assert!(err.message.contains("password"), "{}", err.message);
    assert_eq!(s.counters().auth_failures, 1);
    assert_eq!(names(&f).await, before);

    // No TLS to another machine is refused before anything is sent.
    let connections = s.counters().connections;
    let err = f
        .workspace
        .connect_with_credentials(CredentialConnect::Smtp(SmtpConnect {
            name: "Remote".into(),
            host: "smtp.example.com".into(),
            port: None,
            security: SmtpSecurity::None,
            user: "me".into(),
            password: SecretString::new("pw"),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("starttls"), "{}", err.message);
    assert_eq!(s.counters().connections, connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_must_be_free_and_verification_can_precede_the_workspace() {
    let f = common::fixture(2).await;
    let s = f.sandbox.smtp();
    let err = f
        .workspace
        .connect_with_credentials(smtp(&f, "Main", s.password()))
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Conflict,
        "the fixture's Stripe is named Main"
    );
    assert_eq!(
        s.counters().connections,
        0,
        "checked before contacting the server"
    );

    // verify (no workspace involved), then store: what the CLI does for a first connection.
    let verified = verify_credentials(smtp(&f, "Verified first", s.password()))
        .await
        .unwrap();
    assert_eq!(verified.provider(), "smtp");
    let connected = f.workspace.store_verified(verified).await.unwrap();
    assert_eq!(connected.connection.name, "Verified first");
    let refused = verify_credentials(smtp(&f, "Never", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::AuthFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mautic_connects_with_basic_auth_where_the_instance_enables_it() {
    let f = common::fixture(5).await;
    let mautic = f.sandbox.oauth("mautic");
    let (user, password) = mautic.basic_auth();
    let request = |password: &str| {
        switchboard_app::CredentialConnect::from_form(
            "mautic",
            "Marketing",
            None,
            &[
                ("address", mautic.api_base()),
                ("user", user.clone()),
                ("password", password.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        )
        .unwrap()
    };

    let err = f
        .workspace
        .connect_with_credentials(request("not-the-password"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(
        err.message.contains("Enable HTTP basic auth"),
        "{}",
        err.message
    );

    let connected = f
        .workspace
        .connect_with_credentials(request(&password))
        .await
        .unwrap();
    let c = &connected.connection;
    assert_eq!(c.provider, "mautic");
    assert_eq!(
        c.account_id.as_deref(),
        Some(mautic.account().subject.as_str())
    );
    assert_eq!(
        c.account_name.as_deref(),
        Some(mautic.account().email.as_str())
    );
    assert_eq!(c.sync_interval_minutes, None);
    assert_sealed(&f, c, secret_purpose::BASIC_PASSWORD, &password);

    // An instance with basic auth off refuses even the right password.
    mautic.set_basic_auth(false);
    let mut again = request(&password);
    if let switchboard_app::CredentialConnect::MauticBasic(r) = &mut again {
        r.name = "Marketing 2".into();
    }
    let err = f
        .workspace
        .connect_with_credentials(again)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_connection_takes_new_credentials_on_the_same_row() {
    let f = common::fixture(2).await;
    let tw = f.sandbox.twilio();
    let before = f
        .workspace
        .connect_with_credentials(CredentialConnect::Twilio(TwilioConnect {
            name: "SMS".into(),
            account_sid: tw.account_sid().into(),
            api_key_sid: None,
            secret: SecretString::new(tw.auth_token()),
            api_base: Some(tw.api_base()),
        }))
        .await
        .unwrap()
        .connection;
    // The form the dialog sends, on the connection's own host.
    let form = |token: &str| {
        CredentialConnect::from_form(
            "twilio",
            "SMS",
            Some(before.api_base.clone()),
            &[
                ("account_sid", tw.account_sid().to_string()),
                ("secret", token.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        )
        .unwrap()
    };
    let err = f
        .workspace
        .reconnect_with_credentials(&before.id, form("not-the-token"), false)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    let after = f
        .workspace
        .reconnect_with_credentials(&before.id, form(tw.auth_token()), false)
        .await
        .unwrap()
        .connection;
    assert_eq!(after.id, before.id);
    assert_eq!(after.account_id, before.account_id);
    assert_sealed(&f, &after, secret_purpose::AUTH_TOKEN, tw.auth_token());
}
