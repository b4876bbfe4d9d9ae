//! Connecting Xero through the real browser-and-loopback flow against the sandbox's fake
//! authorization server (auto-approve stands in for the person clicking "Allow").

mod common;

use std::sync::Arc;
use switchboard_app::{ErrorCode, OAuthConnect, OAuthReconnect};
use switchboard_core::views::{ConnectionStatus, RevocationOutcome, TokenState};

/// "Opens the browser": follows the authorize URL (the fake redirects to our loopback
/// listener) from a task, as a browser would, without blocking the flow.
fn browser() -> impl Fn(&str) -> Result<(), String> + Send + Sync {
    let http = reqwest::Client::new();
    move |url: &str| {
        let (http, url) = (http.clone(), url.to_string());
        tokio::spawn(async move {
            let _ = http.get(url).send().await;
        });
        Ok(())
    }
}

fn request(f: &common::Fixture, tenant: Option<&str>) -> OAuthConnect {
    let xero = f.sandbox.oauth("xero");
    OAuthConnect {
        provider: "xero".into(),
        name: "Books".into(),
        api_base: Some(xero.api_base()),
        authorize_url: Some(xero.authorize_url()),
        token_url: Some(xero.token_url()),
        revoke_url: xero.revoke_url(),
        client_id: xero.client_id().to_string(),
        client_secret: None,
        // Any free port: tests run in parallel (a real Xero app registers one port).
        redirect_port: Some(0),
        tenant: tenant.map(str::to_string),
        relay: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_xero_stores_the_organisation_and_its_tokens() {
    let f = common::fixture(10).await;
    let xero = f.sandbox.oauth("xero");
    let tenants = xero.account().tenants.clone();
    assert!(tenants.len() >= 2, "the fake offers several organisations");

    // Several organisations and none chosen: the user is asked to pick one, nothing is stored.
    let open = Arc::new(browser());
    let err = f
        .workspace
        .connect_oauth(request(&f, None), open.as_ref())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains(&tenants[1].name), "{}", err.message);
    assert!(
        f.workspace
            .list_connections()
            .await
            .unwrap()
            .iter()
            .all(|c| c.name != "Books")
    );

    let chosen = &tenants[1];
    let view = f
        .workspace
        .connect_oauth(request(&f, Some(&chosen.name)), open.as_ref())
        .await
        .unwrap();
    assert_eq!(view.provider, "xero");
    assert_eq!(view.status, ConnectionStatus::Connected);
    assert_eq!(view.account_id.as_deref(), Some(chosen.tenant_id.as_str()));
    // Nothing to pull from Xero yet: not scheduled, and "sync all" leaves it out.
    assert_eq!(view.sync_interval_minutes, None);
    let runs = f
        .workspace
        .sync(None, switchboard_app::Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(!runs.is_empty());
    assert!(runs.iter().all(|r| r.connection == "Main"), "{runs:#?}");
    let counters = xero.counters();
    assert_eq!(counters.token_requests("authorization_code"), 2);

    // The connection's sign-in is healthy and kept alive by the app.
    let health = f.workspace.connection_health("Books").await.unwrap();
    assert_eq!(health.token, TokenState::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refreshed_ahead_of_expiry_and_a_revoked_grant_asks_for_a_reconnect() {
    let f = common::fixture(10).await;
    let xero = f.sandbox.oauth("xero");
    xero.set_tenant_count(1);
    // No grace for the previous refresh token: only the stored, rotated one works.
    xero.set_refresh_grace(std::time::Duration::ZERO);
    let open = browser();
    f.workspace
        .connect_oauth(request(&f, None), &open)
        .await
        .unwrap();

    // A fresh token is used as it is.
    let health = f.workspace.refresh_sign_in("Books", false).await.unwrap();
    assert_eq!(health.token, TokenState::Valid);
    assert_eq!(xero.counters().refresh_requests(), 0);
    // From now on tokens expire as they are issued: a forced refresh, then one because the
    // token has expired. Xero rotates the refresh token each time, and without grace the
    // second refresh only works if the first one's new refresh token was stored.
    xero.set_access_token_lifetime(std::time::Duration::ZERO);
    f.workspace.refresh_sign_in("Books", true).await.unwrap();
    f.workspace.refresh_sign_in("Books", false).await.unwrap();
    assert_eq!(xero.counters().refresh_requests(), 2);
    assert_eq!(xero.counters().token_errors("invalid_grant"), 0);

    // The user revokes access at Xero: the next refresh is refused and the connection asks
    // for a reconnect; its data stays.
    xero.revoke_all_grants();
    let err = f
        .workspace
        .refresh_sign_in("Books", true)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    assert!(err.message.contains("Reconnect"), "{}", err.message);
    let health = f.workspace.connection_health("Books").await.unwrap();
    assert_eq!(health.status, ConnectionStatus::NeedsReconnect);
    assert_eq!(health.token, TokenState::Revoked);
    assert!(health.needs_attention);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_refresh_token_is_kept_alive_before_it_lapses() {
    let f = common::fixture(10).await;
    let xero = f.sandbox.oauth("xero");
    xero.set_tenant_count(1);
    let open = browser();
    f.workspace
        .connect_oauth(request(&f, None), &open)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    // Xero's refresh tokens lapse after 60 days unused: nothing to do after 30 days...
    assert!(
        f.workspace
            .keep_sign_ins_alive(now + chrono::Duration::days(30))
            .await
            .is_empty()
    );
    assert_eq!(xero.counters().refresh_requests(), 0);
    // ... a refresh after 41 (two thirds of 60), once.
    let later = now + chrono::Duration::days(41);
    assert_eq!(
        f.workspace.keep_sign_ins_alive(later).await,
        vec!["Books".to_string()]
    );
    assert_eq!(xero.counters().refresh_requests(), 1);
    assert!(f.workspace.keep_sign_ins_alive(later).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_quickbooks_keeps_the_company_from_the_redirect() {
    let f = common::fixture(10).await;
    let qbo = f.sandbox.oauth("quickbooks");
    let account = qbo.account();
    let open = browser();
    let view = f
        .workspace
        .connect_oauth(
            OAuthConnect {
                provider: "quickbooks".into(),
                name: "Ledger".into(),
                api_base: Some(qbo.api_base()),
                authorize_url: Some(qbo.authorize_url()),
                token_url: Some(qbo.token_url()),
                revoke_url: qbo.revoke_url(),
                client_id: qbo.client_id().to_string(),
                // QuickBooks needs the app's secret (HTTP Basic at the token endpoint).
                client_secret: qbo
                    .client_secret()
                    .map(switchboard_core::secret::SecretString::new),
                redirect_port: Some(0),
                tenant: None,
                relay: None,
            },
            &open,
        )
        .await
        .unwrap();
    assert_eq!(view.provider, "quickbooks");
    assert_eq!(view.account_id.as_deref(), Some(account.realm_id.as_str()));
    // The stored client secret is used again for the refresh (Basic auth).
    let health = f.workspace.refresh_sign_in("Ledger", true).await.unwrap();
    assert_eq!(health.token, TokenState::Valid);
    assert_eq!(qbo.counters().refresh_requests(), 1);
    assert_eq!(qbo.counters().token_errors("invalid_client"), 0);
}

/// A connect request for the fake of catalogue provider `provider` (the sandbox names Google's
/// fake `google`), with its secret where it has one.
fn request_for(f: &common::Fixture, provider: &str, name: &str) -> OAuthConnect {
    let fake = f.sandbox.oauth(sandbox_key(provider));
    OAuthConnect {
        provider: provider.into(),
        name: name.into(),
        api_base: Some(fake.api_base()),
        // Mautic's endpoints are paths on the customer's own URL: left to the catalogue.
        authorize_url: (provider != "mautic").then(|| fake.authorize_url()),
        token_url: (provider != "mautic").then(|| fake.token_url()),
        revoke_url: fake.revoke_url(),
        client_id: fake.client_id().to_string(),
        client_secret: fake
            .client_secret()
            .map(switchboard_core::secret::SecretString::new),
        redirect_port: Some(0),
        tenant: None,
        relay: None,
    }
}

fn sandbox_key(provider: &str) -> &str {
    match provider {
        "google_calendar" => "google",
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_oauth_provider_connects_and_names_its_account() {
    let f = common::fixture(10).await;
    f.sandbox.oauth("xero").set_tenant_count(1);
    let open = browser();
    for provider in [
        "xero",
        "quickbooks",
        "google_calendar",
        "square",
        "myob",
        "mautic",
    ] {
        let fake = f.sandbox.oauth(sandbox_key(provider));
        let account = fake.account();
        let view = f
            .workspace
            .connect_oauth(request_for(&f, provider, provider), &open)
            .await
            .unwrap_or_else(|e| panic!("{provider}: {e:?}"));
        let (id, name) = match provider {
            "xero" => (
                account.tenants[0].tenant_id.clone(),
                account.tenants[0].name.clone(),
            ),
            "quickbooks" => (account.realm_id.clone(), account.company.clone()),
            "google_calendar" | "mautic" => (account.subject.clone(), account.email.clone()),
            "square" => (account.merchant_id.clone(), account.company.clone()),
            _ => (account.business_id.clone(), account.company.clone()),
        };
        assert_eq!(view.account_id.as_deref(), Some(id.as_str()), "{provider}");
        assert_eq!(
            view.account_name.as_deref(),
            Some(name.as_str()),
            "{provider}"
        );
        assert_eq!(view.status, ConnectionStatus::Connected, "{provider}");
        assert!(
            !view.scopes.is_empty() || provider == "mautic",
            "{provider}"
        );
        // The stored sign-in refreshes with the stored client (and secret where needed).
        let health = f.workspace.refresh_sign_in(provider, true).await.unwrap();
        assert_eq!(health.token, TokenState::Valid, "{provider}");
        assert_eq!(fake.counters().refresh_requests(), 1, "{provider}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mautic_needs_the_address_of_the_customers_own_server() {
    let f = common::fixture(10).await;
    let mut request = request_for(&f, "mautic", "Marketing");
    request.api_base = None;
    let err = f
        .workspace
        .connect_oauth(request, &browser())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("own server"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_keeps_the_row_and_refuses_a_different_organisation_unless_asked() {
    let f = common::fixture(10).await;
    let xero = f.sandbox.oauth("xero");
    let tenants = xero.account().tenants.clone();
    let open = browser();
    // Connected to the second organisation.
    let before = f
        .workspace
        .connect_oauth(request(&f, Some(&tenants[1].name)), &open)
        .await
        .unwrap();

    // The user revokes access; the next refresh asks for a reconnect and keeps the row.
    xero.revoke_all_grants();
    f.workspace
        .refresh_sign_in("Books", true)
        .await
        .unwrap_err();
    let health = f.workspace.connection_health("Books").await.unwrap();
    assert_eq!(health.status, ConnectionStatus::NeedsReconnect);

    // Reconnect: the sign-in reaches both organisations; the connection's own is kept.
    let reconnect = OAuthReconnect {
        connection: "Books".into(),
        redirect_port: Some(0),
        ..OAuthReconnect::default()
    };
    let after = f
        .workspace
        .reconnect_oauth(reconnect.clone(), &open)
        .await
        .unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.account_id, before.account_id);
    assert_eq!(after.status, ConnectionStatus::Connected);
    assert_eq!(after.last_error, None);
    f.workspace.refresh_sign_in("Books", true).await.unwrap();

    // The user removes the app at Xero again, and this time allows only the first
    // organisation: nothing changes, and the error names both.
    xero.revoke_all_grants();
    xero.set_tenant_count(1);
    let err = f
        .workspace
        .reconnect_oauth(reconnect.clone(), &open)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.contains(&tenants[0].name), "{}", err.message);
    assert!(err.message.contains(&tenants[1].name), "{}", err.message);
    let unchanged = f.workspace.find_connection("Books").await.unwrap();
    assert_eq!(unchanged.account_id, before.account_id);

    // Asked to switch, the same row follows the new organisation.
    let switched = f
        .workspace
        .reconnect_oauth(
            OAuthReconnect {
                switch_account: true,
                ..reconnect
            },
            &open,
        )
        .await
        .unwrap();
    assert_eq!(switched.id, before.id);
    assert_eq!(
        switched.account_id.as_deref(),
        Some(tenants[0].tenant_id.as_str())
    );
    assert_eq!(
        switched.account_name.as_deref(),
        Some(tenants[0].name.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_revokes_forgets_the_sign_in_keeps_data_and_reconnect_brings_it_back() {
    let f = common::fixture(10).await;
    let qbo = f.sandbox.oauth("quickbooks");
    let open = browser();
    let before = f
        .workspace
        .connect_oauth(request_for(&f, "quickbooks", "Ledger"), &open)
        .await
        .unwrap();
    assert_eq!(qbo.active_grants(), 1);

    let done = f.workspace.disconnect("Ledger").await.unwrap();
    assert_eq!(done.revoked, RevocationOutcome::Revoked, "{}", done.message);
    assert_eq!(done.connection.status, ConnectionStatus::Disconnected);
    assert_eq!(qbo.active_grants(), 0, "Intuit was told to end the grant");
    // The sign-in is gone: nothing to refresh with.
    let err = f
        .workspace
        .refresh_sign_in("Ledger", true)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed);
    // Reconnecting needs the app's secret again (it was forgotten with the tokens); the
    // client id, which is not secret, was kept.
    let reconnect = OAuthReconnect {
        connection: "Ledger".into(),
        redirect_port: Some(0),
        ..OAuthReconnect::default()
    };
    let err = f
        .workspace
        .reconnect_oauth(reconnect.clone(), &open)
        .await
        .unwrap_err();
    assert!(err.message.contains("client secret"), "{}", err.message);
    let back = f
        .workspace
        .reconnect_oauth(
            OAuthReconnect {
                client_secret: qbo
                    .client_secret()
                    .map(switchboard_core::secret::SecretString::new),
                ..reconnect
            },
            &open,
        )
        .await
        .unwrap();
    assert_eq!(back.id, before.id);
    assert_eq!(back.status, ConnectionStatus::Connected);
    f.workspace.refresh_sign_in("Ledger", true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnecting_a_key_connection_keeps_its_payments_and_deleting_needs_a_disconnect() {
    let f = common::fixture(10).await;
    f.workspace
        .sync(Some("Main"), switchboard_app::Trigger::Manual, &|_| {})
        .await
        .unwrap();
    let payments = f
        .workspace
        .find_connection("Main")
        .await
        .unwrap()
        .payment_count;
    assert!(payments > 0);

    let err = f.workspace.delete_connection("Main").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);

    let done = f.workspace.disconnect("Main").await.unwrap();
    assert_eq!(done.revoked, RevocationOutcome::NotOffered);
    assert!(done.message.contains("Stripe"), "{}", done.message);
    assert_eq!(done.connection.payment_count, payments, "the data stays");
    // Without its key the connection cannot sync, and says how to fix it.
    let err = f
        .workspace
        .sync(Some("Main"), switchboard_app::Trigger::Manual, &|_| {})
        .await;
    let failed = match err {
        Err(e) => e.message,
        Ok(runs) => runs[0].error_message.clone().unwrap_or_default(),
    };
    assert!(failed.contains("key"), "{failed}");

    assert_eq!(f.workspace.delete_connection("Main").await.unwrap(), "Main");
    assert!(f.workspace.list_connections().await.unwrap().is_empty());
    let page = f
        .workspace
        .list_payments(switchboard_app::PaymentQuery::default())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "the data went with it");
}

/// The auth relay (crates/relay), served in process on loopback for the fake `provider`.
async fn relay_for(f: &common::Fixture, provider: &str) -> String {
    let fake = f.sandbox.oauth(sandbox_key(provider));
    let up = provider.to_ascii_uppercase();
    let mut env = vec![
        (
            format!("RELAY_{up}_CLIENT_ID"),
            fake.client_id().to_string(),
        ),
        (
            format!("RELAY_{up}_CLIENT_SECRET"),
            fake.client_secret().unwrap().to_string(),
        ),
        (format!("RELAY_{up}_TOKEN_URL"), fake.token_url()),
    ];
    if let Some(revoke) = fake.revoke_url() {
        env.push((format!("RELAY_{up}_REVOKE_URL"), revoke));
    }
    let config = switchboard_relay::RelayConfig::from_env_map(env).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = switchboard_relay::router(config, switchboard_relay::http_client());
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickbooks_connects_refreshes_and_disconnects_through_the_auth_relay() {
    let f = common::fixture(10).await;
    let qbo = f.sandbox.oauth("quickbooks");
    let relay = relay_for(&f, "quickbooks").await;
    // The app holds no secret: the relay adds it (Intuit refuses a code exchange without).
    let request = OAuthConnect {
        token_url: None,
        revoke_url: None,
        client_secret: None,
        relay: Some(relay.clone()),
        ..request_for(&f, "quickbooks", "Ledger")
    };
    let view = f
        .workspace
        .connect_oauth(request, &browser())
        .await
        .unwrap();
    assert_eq!(
        view.account_id.as_deref(),
        Some(qbo.account().realm_id.as_str())
    );
    assert_eq!(qbo.counters().token_errors("invalid_client"), 0);

    // Refreshes go through the relay too (the connection remembers it).
    f.workspace.refresh_sign_in("Ledger", true).await.unwrap();
    assert_eq!(qbo.counters().refresh_requests(), 1);
    assert_eq!(qbo.counters().token_errors("invalid_client"), 0);

    // And the revocation, which Intuit only takes with the secret.
    let done = f.workspace.disconnect("Ledger").await.unwrap();
    assert_eq!(done.revoked, RevocationOutcome::Revoked, "{}", done.message);
    assert_eq!(qbo.active_grants(), 0);

    // Reconnect follows the same path, on the same row.
    let back = f
        .workspace
        .reconnect_oauth(
            OAuthReconnect {
                connection: "Ledger".into(),
                redirect_port: Some(0),
                ..OAuthReconnect::default()
            },
            &browser(),
        )
        .await
        .unwrap();
    assert_eq!(back.id, view.id);
    assert_eq!(qbo.active_grants(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_that_needs_more_asks_for_an_incremental_grant() {
    let f = common::fixture(10).await;
    f.sandbox.oauth("xero").set_tenant_count(1);
    let open = browser();
    f.workspace
        .connect_oauth(request(&f, None), &open)
        .await
        .unwrap();
    // Connected with the least scopes: posting to the ledger is not granted yet.
    let needed = f
        .workspace
        .missing_scopes("Books", "post_to_ledger")
        .await
        .unwrap()
        .expect("posting needs more scopes");
    assert!(needed.scopes.contains(&"accounting.invoices"));
    assert!(needed.why.contains("invoices"));
    let err = f
        .workspace
        .missing_scopes("Books", "teleport")
        .await
        .unwrap_err();
    assert!(err.message.contains("post_to_ledger"), "{}", err.message);

    let view = f
        .workspace
        .reconnect_oauth(
            OAuthReconnect {
                connection: "Books".into(),
                redirect_port: Some(0),
                feature: Some("post_to_ledger".into()),
                ..OAuthReconnect::default()
            },
            &open,
        )
        .await
        .unwrap();
    assert!(
        view.scopes.iter().any(|s| s == "accounting.invoices"),
        "{:?}",
        view.scopes
    );
    assert!(
        view.scopes.iter().any(|s| s == "offline_access"),
        "the least scopes stay"
    );
    assert!(
        f.workspace
            .missing_scopes("Books", "post_to_ledger")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_notices_come_once_for_a_lapse_ahead_and_for_a_needed_reconnect() {
    let f = common::fixture(10).await;
    let qbo = f.sandbox.oauth("quickbooks");
    // Refresh tokens that end in ten days: inside the two-week warning.
    qbo.set_refresh_token_lifetime(Some(std::time::Duration::from_secs(10 * 86_400)));
    let open = browser();
    f.workspace
        .connect_oauth(request_for(&f, "quickbooks", "Ledger"), &open)
        .await
        .unwrap();
    let notices = f.workspace.sign_in_notices().await.unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].title.contains("Ledger"), "{notices:?}");
    assert!(notices[0].title.contains("ends on"), "{notices:?}");
    assert!(
        f.workspace.sign_in_notices().await.unwrap().is_empty(),
        "once only"
    );

    // The grant is revoked: a new notice, also once.
    qbo.revoke_all_grants();
    f.workspace
        .refresh_sign_in("Ledger", true)
        .await
        .unwrap_err();
    let notices = f.workspace.sign_in_notices().await.unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].body.contains("Reconnect"), "{notices:?}");
    assert!(f.workspace.sign_in_notices().await.unwrap().is_empty());
}
