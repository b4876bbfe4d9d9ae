//! Connecting Xero through the real browser-and-loopback flow against the sandbox's fake
//! authorization server (auto-approve stands in for the person clicking "Allow").

mod common;

use std::sync::Arc;
use switchboard_app::{ErrorCode, OAuthConnect};
use switchboard_core::views::{ConnectionStatus, TokenState};

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
