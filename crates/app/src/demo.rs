//! The demo workspace: the same adapters, store and commands as real use, talking to the
//! sandbox started in this process. Only where the data comes from differs.

use crate::workspace::{Trigger, Workspace};
use crate::{Result, data_dir, errors};
use std::path::Path;
use switchboard_core::secret::SecretString;
use switchboard_core::views::WorkspaceKind;
use switchboard_sandbox::{Sandbox, SandboxConfig};

pub const DEMO_CONNECTION: &str = "Demo Stripe";
pub const DEMO_SEED: u64 = 42;
pub const DEMO_CHARGES: usize = 3000;

pub(crate) async fn open(data_dir: &Path) -> Result<Workspace> {
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: DEMO_SEED,
        stripe_charges: DEMO_CHARGES,
    })
    .await
    .map_err(|e| errors::internal(format!("The demo could not start its sandbox: {e}")))?;
    let mut workspace =
        Workspace::open_folder(data_dir::demo_folder(data_dir), WorkspaceKind::Demo).await?;
    let key = SecretString::new(sandbox.stripe_api_key());
    let base = sandbox.stripe_api_base();
    let existing = workspace
        .list_connections()
        .await?
        .into_iter()
        .find(|c| c.name == DEMO_CONNECTION);
    let needs_first_sync = match existing {
        Some(c) => {
            // The sandbox listens on a new port each launch.
            workspace.set_connection_api_base(&c.id, &base).await?;
            workspace.replace_api_key(&c.id, &key).await?;
            c.last_sync_at.is_none()
        }
        None => {
            workspace
                .insert_connection("stripe", DEMO_CONNECTION, &base, &key)
                .await?;
            true
        }
    };
    // The sandbox's own (generous) budget, as its ready line announces it, instead of Stripe's
    // test-mode 25 requests a second: the demo shows the engine, not the limiter.
    let budget =
        serde_json::from_value(sandbox.ready_line()["providers"]["stripe"]["rate_limits"].clone())
            .map_err(|e| {
                errors::internal(format!("The sandbox announced no usable budget: {e}"))
            })?;
    workspace
        .set_rate_limits(DEMO_CONNECTION, Some(budget))
        .await?;
    workspace.sandbox = Some(sandbox);
    if needs_first_sync {
        workspace
            .sync(Some(DEMO_CONNECTION), Trigger::Demo, &|_| {})
            .await?;
    }
    Ok(workspace)
}
