//! `switchboard health`, `connections test` and `connections set-budget`: exit codes (0 all
//! well, 1 attention needed, 3 could not check) and the `--json` shape.

mod common;

use common::{Cli, Sandbox, WRONG_MASTER_KEY};
use serde_json::Value;

fn error_of(run: &common::Run) -> Value {
    let stderr = run.stderr();
    let last = stderr.lines().last().unwrap_or_default().to_string();
    serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()))
}

#[test]
fn health_is_quiet_and_well_with_nothing_configured() {
    let cli = Cli::new();
    let run = cli.cmd(&["health", "--json"]).run();
    run.expect_code(0);
    assert!(run.stdout().is_empty(), "{}", run.describe());
    assert!(
        !cli.db_path().exists(),
        "a read-only command created the workspace"
    );
}

#[test]
fn health_reports_budget_breaker_and_attention_with_exit_codes() {
    let cli = Cli::new();
    let mut sandbox = Sandbox::start(20, 4);
    cli.connect_stripe(&sandbox, "Main").ok();
    cli.cmd(&["sync", "run"]).run().ok();

    let run = cli.cmd(&["health", "--json"]).run();
    run.expect_code(0);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.describe());
    let h = &lines[0];
    assert_eq!(h["connection"], "Main");
    assert_eq!(h["provider"], "stripe");
    assert_eq!(h["status"], "connected");
    assert_eq!(h["circuit"], "closed");
    assert_eq!(h["consecutive_failures"], 0);
    assert_eq!(h["token"], "not_applicable");
    assert_eq!(h["needs_attention"], false);
    assert_eq!(h["reasons"], serde_json::json!([]));
    assert!(h["last_success_at"].as_str().unwrap().ends_with('Z'));
    // The harness applied the budget the sandbox announces.
    assert_eq!(h["budget"]["overridden"], true);
    assert_eq!(
        h["budget"]["limits"]["per_second"],
        switchboard_sandbox::RATE_LIMITS_PER_SECOND
    );
    assert_eq!(h["budget"]["daily_left"], Value::Null);
    let human = cli.cmd(&["health"]).run();
    human.expect_code(0);
    assert!(
        human.stdout().contains("Main\tstripe\tok\tcircuit closed"),
        "{}",
        human.describe()
    );

    // A test goes through the budget: with 2 a day, the third fails fast and says when.
    cli.cmd(&["connections", "set-budget", "Main", "--per-day", "2"])
        .run()
        .ok();
    for _ in 0..2 {
        let t = cli.cmd(&["connections", "test", "Main", "--json"]).run();
        assert_eq!(t.ok().json_lines()[0]["ok"], true);
    }
    let before = sandbox_requests(&cli);
    let t = cli.cmd(&["connections", "test", "Main", "--json"]).run();
    t.expect_code(1);
    let err = error_of(&t);
    assert_eq!(err["code"], "rate_limited");
    assert_eq!(err["retryable"], true);
    assert!(err["message"].as_str().unwrap().contains("UTC"), "{err}");
    assert_eq!(t.json_lines()[0]["ok"], false);
    assert_eq!(sandbox_requests(&cli), before, "nothing was sent");

    let run = cli.cmd(&["health", "--json"]).run();
    run.expect_code(1);
    let h = &run.json_lines()[0];
    assert_eq!(h["needs_attention"], true);
    assert_eq!(h["budget"]["daily_left"], 0);
    assert_eq!(h["budget"]["daily_used"], 2);
    assert!(!h["reasons"].as_array().unwrap().is_empty());

    // Back to the catalogue: Stripe's test-mode limits, and all is well again.
    cli.cmd(&["connections", "set-budget", "Main", "--catalogue"])
        .run()
        .ok();
    let run = cli.cmd(&["health", "--json"]).run();
    let h = &run.json_lines()[0];
    assert_eq!(h["budget"]["overridden"], false);
    assert_eq!(h["budget"]["limits"]["per_second"], 25);

    // A dead provider: five failed tests open the circuit (kept in the database, so each
    // command sees the last one's), the sixth is refused without a request.
    sandbox.terminate(std::time::Duration::from_secs(10));
    for _ in 0..5 {
        let t = cli.cmd(&["connections", "test", "Main", "--json"]).run();
        t.expect_code(1);
        assert_eq!(error_of(&t)["code"], "network");
    }
    let t = cli.cmd(&["connections", "test", "Main", "--json"]).run();
    t.expect_code(1);
    let err = error_of(&t);
    assert_eq!(err["code"], "circuit_open", "{err}");
    assert_eq!(err["retryable"], true);
    let run = cli.cmd(&["health", "--json"]).run();
    run.expect_code(1);
    let h = &run.json_lines()[0];
    assert_eq!(h["circuit"], "open");
    assert_eq!(h["consecutive_failures"], 5);
    assert!(h["circuit_retry_at"].as_str().unwrap().ends_with('Z'));
    let human = cli.cmd(&["health"]).run();
    human.expect_code(1);
    assert!(
        human.stdout().contains("circuit OPEN until"),
        "{}",
        human.describe()
    );
    assert!(
        human.stdout().contains("  - Paused:"),
        "{}",
        human.describe()
    );
}

/// Requests the request log holds for all connections (the sandbox may be gone).
fn sandbox_requests(cli: &Cli) -> usize {
    cli.cmd(&["log", "requests", "--json"])
        .run()
        .ok()
        .json_lines()
        .len()
}

#[test]
fn health_exits_3_when_it_cannot_check_and_set_budget_checks_its_input() {
    let cli = Cli::new();
    let sandbox = Sandbox::start(5, 4);
    cli.connect_stripe(&sandbox, "Main").ok();

    let run = cli
        .cmd(&["health", "--json"])
        .env("SWITCHBOARD_MASTER_KEY", WRONG_MASTER_KEY)
        .run();
    run.expect_code(3);
    assert_eq!(error_of(&run)["code"], "secret_store");
    assert!(run.stdout().is_empty());

    let run = cli.cmd(&["health", "--connection", "Nope", "--json"]).run();
    run.expect_code(3);
    assert_eq!(error_of(&run)["code"], "not_found");

    let run = cli
        .cmd(&["connections", "set-budget", "Main", "--json"])
        .run();
    run.expect_code(1);
    assert_eq!(error_of(&run)["code"], "invalid_input");
    cli.cmd(&["connections", "set-budget", "Main", "--per-second", "0"])
        .run()
        .expect_code(2);
    cli.cmd(&[
        "connections",
        "set-budget",
        "Main",
        "--per-second",
        "5",
        "--catalogue",
    ])
    .run()
    .expect_code(2);
}
