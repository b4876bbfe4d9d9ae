//! Shared set-up: a sandbox, a real workspace in a temp folder, and a Stripe connection to it.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::time::Duration;
use switchboard_app::sync::RetryPolicy;
use switchboard_app::{PaymentQuery, Trigger, Workspace};
use switchboard_core::views::{NewStripeConnection, PaymentView, SyncRunView};
use switchboard_sandbox::{Sandbox, SandboxConfig};

/// A fixed master key for tests (the keyring path is covered by the end-to-end tests).
pub const TEST_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct Fixture {
    pub sandbox: Sandbox,
    pub workspace: Workspace,
    pub dir: tempfile::TempDir,
}

pub async fn fixture(charges: usize) -> Fixture {
    // SAFETY: every test in this binary sets the same value before any thread reads it.
    unsafe { std::env::set_var("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY) };
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 9,
        stripe_charges: charges,
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut workspace = Workspace::open_real(dir.path()).await.unwrap();
    workspace.set_retry_policy(RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    });
    workspace
        .add_stripe_connection(NewStripeConnection {
            name: "Main".into(),
            api_key: sandbox.stripe_api_key(),
            api_base: Some(sandbox.stripe_api_base()),
        })
        .await
        .unwrap();
    // The sandbox's announced (generous) budget, not Stripe's test-mode 25/s.
    let budget =
        serde_json::from_value(sandbox.ready_line()["providers"]["stripe"]["rate_limits"].clone())
            .unwrap();
    workspace
        .set_rate_limits("Main", Some(budget))
        .await
        .unwrap();
    Fixture {
        sandbox,
        workspace,
        dir,
    }
}

impl Fixture {
    pub async fn sync(&self) -> Vec<SyncRunView> {
        self.workspace
            .sync(Some("Main"), Trigger::Manual, &|_| {})
            .await
            .unwrap()
    }

    pub async fn all_payments(&self) -> Vec<PaymentView> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .workspace
                .list_payments(PaymentQuery {
                    limit: Some(1000),
                    after,
                    ..PaymentQuery::default()
                })
                .await
                .unwrap();
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => after = Some(c),
                None => return out,
            }
        }
    }
}

pub fn run<'a>(runs: &'a [SyncRunView], stream: &str) -> &'a SyncRunView {
    runs.iter().find(|r| r.stream == stream).unwrap()
}

/// "Opens the browser": follows the authorize URL (the fake redirects to the workspace's
/// loopback listener) from a task, as a browser would.
pub fn browser() -> impl Fn(&str) -> Result<(), String> + Send + Sync {
    let http = reqwest::Client::new();
    move |url: &str| {
        let (http, url) = (http.clone(), url.to_string());
        tokio::spawn(async move {
            let _ = http.get(url).send().await;
        });
        Ok(())
    }
}

/// The request that connects the sandbox's Square (its OAuth fake, auto-approved) as `name`,
/// with the catalogue's scopes and the fake's own API base.
pub fn square_request(sandbox: &Sandbox, name: &str) -> switchboard_app::OAuthConnect {
    let fake = sandbox.oauth("square");
    switchboard_app::OAuthConnect {
        provider: "square".into(),
        name: name.into(),
        api_base: Some(fake.api_base()),
        authorize_url: Some(fake.authorize_url()),
        token_url: Some(fake.token_url()),
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
