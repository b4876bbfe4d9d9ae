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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_sign_in_is_reconnected_then_disconnected_and_deleted_from_the_cli() {
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 6,
        stripe_charges: 5,
    })
    .await
    .unwrap();
    let xero = sandbox.oauth("xero");
    xero.set_tenant_count(1);
    let cli = Cli::new();
    common::connect_xero(&cli, xero, "Books").await;
    let show = |cli: &Cli| {
        let run = cli.cmd(&["--json", "connections", "show", "Books"]).run();
        run.ok();
        run.json_lines()[0].clone()
    };
    let before = show(&cli);
    assert_eq!(before["connection"]["status"], "connected");
    assert_eq!(
        before["connection"]["account_name"],
        xero.account().tenants[0].name.as_str()
    );

    // The user removes the app at Xero: the refresh fails and says to reconnect.
    xero.revoke_all_grants();
    let run = cli.cmd(&["auth", "refresh", "Books"]).run();
    run.expect_code(1);
    assert!(run.stderr().contains("Reconnect"), "{}", run.describe());
    assert_eq!(show(&cli)["connection"]["status"], "needs_reconnect");

    // Reconnect by script: the same connection, signed in again.
    let args: Vec<String> = [
        "connections",
        "reconnect",
        "Books",
        "--redirect-port",
        "0",
        "--no-browser",
    ]
    .map(str::to_string)
    .to_vec();
    let status = common::complete_sign_in(&cli, &args, &xero.authorize_url()).await;
    assert!(status.success(), "reconnect exited with {status}");
    let after = show(&cli);
    assert_eq!(after["connection"]["id"], before["connection"]["id"]);
    assert_eq!(after["connection"]["status"], "connected");
    assert_eq!(after["health"]["token"], "valid");
    cli.cmd(&["auth", "refresh", "Books"]).run().ok();

    // Disconnect: Xero is told, the secrets go, the row stays.
    let run = cli
        .cmd(&["--json", "connections", "disconnect", "Books"])
        .run();
    run.ok();
    let done = &run.json_lines()[0];
    assert_eq!(done["revoked"], "revoked", "{}", run.describe());
    assert_eq!(done["connection"]["status"], "disconnected");
    assert_eq!(xero.active_grants(), 0);
    let db = rusqlite::Connection::open(cli.db_path()).unwrap();
    let secrets: i64 = db
        .query_row("SELECT COUNT(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(secrets, 0, "no token or secret is kept");
    drop(db);

    // Deleting the data asks first; without a terminal it needs --yes.
    let run = cli.cmd(&["connections", "delete", "Books"]).run();
    run.expect_code(1);
    assert!(run.stderr().contains("--yes"), "{}", run.describe());
    cli.cmd(&["connections", "delete", "Books", "--yes"])
        .run()
        .ok();
    let run = cli.cmd(&["--json", "connections", "list"]).run();
    run.ok();
    assert!(!run.stdout().contains("Books"), "{}", run.describe());
}
