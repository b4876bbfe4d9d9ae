//! The CLI contract of `payments refund` and `outbox …` (docs/CLI.md, "Outbox").

mod common;

use common::{Cli, Sandbox};
use serde_json::Value;

fn stderr_error(run: &common::Run) -> Value {
    let line = run.stderr().lines().last().unwrap_or_default().to_string();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {}", run.describe()))
}

#[test]
fn refund_confirms_sends_prints_and_reports_through_exit_codes() {
    let sandbox = Sandbox::start(40, 21);
    let cli = Cli::new();
    cli.connect_stripe(&sandbox, "Main").ok();
    cli.cmd(&["sync", "run"]).run().ok();
    let payments = cli.cmd(&["payments", "list", "--json"]).run().json_lines();
    let p = payments
        .iter()
        .find(|p| {
            p["status"] == "succeeded" && p["refunded_minor"] == 0 && p["currency_exponent"] == 2
        })
        .expect("a refundable payment");
    let ext = p["external_id"].as_str().unwrap();

    // No terminal and no --yes: refused, nothing queued.
    let unconfirmed = cli
        .cmd(&["payments", "refund", ext, "--amount", "100", "--json"])
        .run();
    unconfirmed.expect_code(1);
    assert_eq!(stderr_error(&unconfirmed)["code"], "invalid_input");
    let listed = cli.cmd(&["outbox", "list", "--json"]).run();
    listed.ok();
    assert!(listed.json_lines().is_empty());

    // Too much: refused before anything is written.
    let too_much = (p["amount_minor"].as_i64().unwrap() + 1).to_string();
    let refused = cli
        .cmd(&[
            "payments", "refund", ext, "--amount", &too_much, "--yes", "--json",
        ])
        .run();
    refused.expect_code(1);
    assert_eq!(stderr_error(&refused)["code"], "invalid_input");

    let done = cli
        .cmd(&[
            "payments",
            "refund",
            ext,
            "--amount",
            "100",
            "--reason",
            "duplicate",
            "--yes",
            "--json",
        ])
        .run();
    done.ok();
    let item = &done.json_lines()[0];
    assert_eq!(item["status"], "succeeded");
    assert_eq!(item["amount_minor"], 100);
    assert_eq!(item["reason"], "duplicate");
    assert!(
        item["result_external_id"]
            .as_str()
            .unwrap()
            .starts_with("re_")
    );
    // Stored at once: the payment shows the refund without a sync.
    let after = cli.cmd(&["payments", "list", "--json"]).run().json_lines();
    let again = after.iter().find(|q| q["external_id"] == ext).unwrap();
    assert_eq!(again["refunded_minor"], 100);

    let listed = cli.cmd(&["outbox", "list", "--json"]).run().json_lines();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], item["id"]);
    assert!(
        cli.cmd(&["outbox", "list", "--dead", "--json"])
            .run()
            .json_lines()
            .is_empty()
    );
    let processed = cli.cmd(&["outbox", "process", "--json"]).run();
    processed.ok();
    assert_eq!(processed.json_lines()[0]["processed"], 0);
    // Only dead letters can be retried or discarded.
    let id = item["id"].as_str().unwrap();
    for verb in ["retry", "discard"] {
        let run = cli.cmd(&["outbox", verb, id, "--json"]).run();
        run.expect_code(1);
        assert_eq!(stderr_error(&run)["code"], "invalid_input", "{verb}");
    }
    // A bad reason is a usage error.
    cli.cmd(&["payments", "refund", ext, "--reason", "bored", "--yes"])
        .run()
        .expect_code(2);
}
