//! `switchboard sync schedule` and `switchboard sync watch` (docs/CLI.md).

mod common;

use common::{Cli, Sandbox};
use std::time::{Duration, Instant};

fn finished_runs(cli: &Cli) -> i64 {
    let db = rusqlite::Connection::open(cli.db_path()).unwrap();
    db.query_row(
        "SELECT COUNT(*) FROM sync_runs WHERE finished_at IS NOT NULL AND trigger = 'schedule'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn schedule_sets_the_interval_and_watch_runs_what_is_due_until_interrupted() {
    let sandbox = Sandbox::start(120, 5);
    let cli = Cli::new();
    cli.connect_stripe(&sandbox, "Shop").ok();

    let listed = cli.cmd(&["connections", "list"]).run();
    assert!(
        listed.ok().stdout().contains("syncs every 60 min"),
        "{}",
        listed.describe()
    );

    let set = cli
        .cmd(&["--json", "sync", "schedule", "Shop", "--every", "15"])
        .run();
    let view = &set.ok().json_lines()[0];
    assert_eq!(view["sync_interval_minutes"], 15);
    assert!(view["next_sync_at"].is_string(), "never synced: due now");

    // Out of range and contradictory flags are refused.
    cli.cmd(&["sync", "schedule", "Shop", "--every", "0"])
        .run()
        .expect_code(1);
    cli.cmd(&["sync", "schedule", "Shop", "--every", "5", "--off"])
        .run()
        .expect_code(2);

    // `watch` runs the due connection at once, then waits for the next tick.
    let watch = cli.cmd(&["--json", "sync", "watch"]).spawn();
    let started = Instant::now();
    // One run per stream of the Stripe adapter.
    let streams = switchboard_providers::stripe::STREAMS.len();
    while finished_runs(&cli) < streams as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the scheduled runs did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let run = watch.wait();
    let runs = run.expect_code(0).json_lines();
    assert_eq!(runs.len(), streams, "{}", run.describe());
    assert!(
        runs.iter()
            .all(|r| r["trigger"] == "schedule" && r["status"] == "succeeded")
    );

    // Off: the connection syncs only when asked.
    let off = cli
        .cmd(&["--json", "sync", "schedule", "Shop", "--off"])
        .run();
    let view = &off.ok().json_lines()[0];
    assert!(view["sync_interval_minutes"].is_null() && view["next_sync_at"].is_null());
}
