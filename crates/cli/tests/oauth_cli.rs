//! `switchboard connect xero --no-browser` completed by a script (the printed sign-in address
//! followed as a browser would), then `auth status` and `auth refresh`, against the sandbox's
//! fake Xero.

mod common;

use common::Cli;
use switchboard_sandbox::{Sandbox, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_connects_xero_and_refreshes_its_sign_in() {
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 5,
        stripe_charges: 5,
    })
    .await
    .unwrap();
    let xero = sandbox.oauth("xero");
    xero.set_tenant_count(1);
    let organisation = xero.account().tenants[0].clone();
    let cli = Cli::new();
    common::connect_xero(&cli, xero, "Books").await;

    let run = cli.cmd(&["--json", "auth", "status"]).run();
    run.ok();
    let status = &run.json_lines()[0];
    assert_eq!(status["connection"], "Books");
    assert_eq!(status["token"], "valid");
    let run = cli.cmd(&["connections", "list", "--json"]).run();
    run.ok();
    assert!(
        run.stdout().contains(&organisation.tenant_id),
        "{}",
        run.describe()
    );

    cli.cmd(&["auth", "refresh", "Books"]).run().ok();
    assert_eq!(xero.counters().refresh_requests(), 1);

    // Two processes find the access token expired at the same moment: exactly one refresh
    // reaches Xero; the other waits for the refresh lock, then sees the new grant (or, if it
    // started later, finds the new token fresh) and uses it.
    let db = rusqlite::Connection::open(cli.db_path()).unwrap();
    db.execute(
        "UPDATE oauth_grants SET access_expires_at = '2000-01-01T00:00:00Z'",
        [],
    )
    .unwrap();
    drop(db);
    let before = xero.counters().refresh_requests();
    let racers: Vec<_> = (0..2)
        .map(|_| {
            cli.cmd(&["auth", "refresh", "Books", "--if-expiring"])
                .spawn()
        })
        .collect();
    for racer in racers {
        racer.wait().ok();
    }
    assert_eq!(xero.counters().refresh_requests() - before, 1);
    assert_eq!(xero.counters().token_errors("invalid_grant"), 0);
}
