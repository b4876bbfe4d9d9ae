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
    let counters = xero.counters();
    assert_eq!(counters.token_requests("authorization_code"), 2);

    // The connection's sign-in is healthy and kept alive by the app.
    let health = f.workspace.connection_health("Books").await.unwrap();
    assert_eq!(health.token, TokenState::Valid);
}
