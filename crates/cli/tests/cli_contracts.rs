//! The command-line contracts of docs/CLI.md that are not about volume: exit statuses, usage
//! errors, `--json` errors, a rejected key storing nothing, and master-key failures.

mod common;

use common::{Cli, MASTER_KEY, Sandbox, WRONG_MASTER_KEY};
use serde_json::Value;
use std::time::Duration;

/// Standard error under `--json` holds exactly one error object `{code, message, retryable}`.
#[track_caller]
fn single_json_error(run: &common::Run) -> Value {
    let stderr = run.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line\n{}", run.describe());
    let err: Value = serde_json::from_str(lines[0])
        .unwrap_or_else(|e| panic!("the error is not JSON ({e})\n{}", run.describe()));
    let keys: Vec<&str> = err
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "exactly code, message, retryable: {err}");
    assert!(err["code"].is_string(), "{err}");
    assert!(
        !err["message"].as_str().expect("message").is_empty(),
        "{err}"
    );
    assert!(err["retryable"].is_boolean(), "{err}");
    err
}

/// Environment of a machine with neither `SWITCHBOARD_MASTER_KEY` nor a reachable keyring.
fn no_master_key(inv: common::Invocation<'_>) -> common::Invocation<'_> {
    inv.env_remove("SWITCHBOARD_MASTER_KEY")
        .env_remove("DISPLAY")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let cli = Cli::new();
    for args in [
        vec!["frobnicate"],
        vec![],
        vec!["connect", "stripe"],
        vec!["connect", "paypal", "--name", "X"],
        vec!["payments", "list", "--limit", "lots"],
        vec!["sync", "run", "--bogus"],
        // The key is never accepted as an argument.
        vec![
            "connect",
            "stripe",
            "--name",
            "X",
            "--api-key",
            "sk_test_1234567890",
        ],
        vec!["sandbox", "serve", "--stripe-charges", "-5"],
    ] {
        let run = cli.cmd(&args).run();
        run.expect_code(2);
        assert_eq!(run.stdout(), "", "usage errors print nothing on stdout");
        assert!(!run.stderr().trim().is_empty(), "{}", run.describe());
    }
    let missing_name = cli.cmd(&["connect", "stripe"]).run();
    assert!(
        missing_name.stderr().contains("--name"),
        "{}",
        missing_name.describe()
    );

    for args in [
        vec!["--help"],
        vec!["connect", "stripe", "--help"],
        vec!["payments", "list", "--help"],
    ] {
        let run = cli.raw(&args).run();
        run.ok();
        assert!(run.stdout().contains("Usage"), "{}", run.describe());
    }
    let help = cli.raw(&["--help"]).run();
    for word in ["sandbox", "connect", "connections", "sync", "payments"] {
        assert!(help.stdout().contains(word), "--help lists `{word}`");
    }
    cli.raw(&["--version"]).run().ok();
    assert!(
        !cli.data_dir.exists(),
        "usage errors and help create no data dir"
    );
}

#[test]
fn nothing_configured_reads_empty_and_creates_nothing() {
    let cli = Cli::new();
    let list = cli.cmd(&["connections", "list"]).run();
    list.ok();
    assert_eq!(list.stdout(), "");
    assert!(
        list.stderr().contains("connect stripe"),
        "a hint on stderr: {}",
        list.describe()
    );
    let list_json = cli.cmd(&["connections", "list", "--json"]).run();
    list_json.ok();
    assert_eq!(list_json.stdout(), "");
    assert_eq!(
        list_json.stderr(),
        "",
        "no human hints under --json\n{}",
        list_json.describe()
    );
    let payments = cli.cmd(&["payments", "list", "--json"]).run();
    payments.ok();
    assert_eq!(payments.stdout(), "");
    let sync = cli.cmd(&["sync", "run", "--json"]).run();
    sync.expect_code(1);
    assert_eq!(single_json_error(&sync)["code"], "not_found");
    assert!(
        !cli.db_path().exists(),
        "reading an unconfigured workspace must not create it"
    );
}

#[test]
fn wrong_key_is_rejected_clearly_and_stores_nothing() {
    let sandbox = Sandbox::start(50, 3);
    let cli = Cli::new();
    let wrong = format!("sk_test_{}", "x".repeat(40));
    assert_ne!(wrong, sandbox.api_key);
    let args = [
        "connect",
        "stripe",
        "--name",
        "Main",
        "--api-base",
        &sandbox.api_base,
    ];

    // Human form.
    let run = cli.cmd(&args).stdin(format!("{wrong}\n")).run();
    run.expect_code(1);
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(
        stderr.starts_with("error: ") && stderr.contains("rejected") && stderr.contains("key"),
        "a clear message that the key was rejected\n{}",
        run.describe()
    );
    assert!(
        !stderr.contains(&wrong),
        "the message does not echo the key back"
    );

    // JSON form, key from the environment this time.
    let run = cli
        .cmd(&[&args[..], &["--json"]].concat())
        .env("STRIPE_API_KEY", &wrong)
        .run();
    run.expect_code(1);
    assert_eq!(run.stdout(), "");
    let err = single_json_error(&run);
    assert_eq!(err["code"], "auth_failed", "{err}");
    assert_eq!(err["retryable"], false, "{err}");
    assert!(!run.stderr().contains(&wrong));

    // Nothing stored: no database, nothing listed.
    assert!(
        !cli.db_path().exists(),
        "a rejected key must not create the workspace; found {:?}",
        common::read_tree(&cli.data_dir)
            .iter()
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>()
    );
    let list = cli.cmd(&["connections", "list"]).run();
    list.ok();
    assert_eq!(list.stdout(), "");
    let list = cli.cmd(&["connections", "list", "--json"]).run();
    list.ok();
    assert_eq!(list.stdout(), "");
    assert!(!cli.db_path().exists());

    // On an existing workspace, a wrong key adds nothing either.
    cli.connect_stripe(&sandbox, "Good").ok();
    let run = cli
        .cmd(&[
            "connect",
            "stripe",
            "--name",
            "Bad",
            "--api-base",
            &sandbox.api_base,
            "--json",
        ])
        .stdin(wrong.clone())
        .run();
    run.expect_code(1);
    assert_eq!(single_json_error(&run)["code"], "auth_failed");
    let cards = cli.cmd(&["connections", "list", "--json"]).run();
    let names: Vec<String> = cards
        .ok()
        .json_lines()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Good"]);
}

#[test]
fn connect_input_errors() {
    let sandbox = Sandbox::start(50, 4);
    let cli = Cli::new();
    let base = sandbox.api_base.clone();
    let connect = |name: &str| {
        cli.cmd(&[
            "connect",
            "stripe",
            "--name",
            name,
            "--api-base",
            &base,
            "--json",
        ])
    };

    // No key at all: says where a key comes from.
    let run = connect("Main").stdin("").run();
    run.expect_code(1);
    let err = single_json_error(&run);
    assert_eq!(err["code"], "invalid_input");
    assert!(
        err["message"].as_str().unwrap().contains("STRIPE_API_KEY"),
        "{err}"
    );

    // A publishable key is refused before any call.
    let run = connect("Main").stdin("pk_test_1234567890abcdef").run();
    run.expect_code(1);
    assert_eq!(single_json_error(&run)["code"], "invalid_input");
    assert!(!run.stderr().contains("pk_test_1234567890abcdef"));

    // The key from STRIPE_API_KEY works, standard input untouched.
    let run = connect("Main")
        .env("STRIPE_API_KEY", &sandbox.api_key)
        .run();
    run.ok();
    let card: Value = serde_json::from_str(run.stdout().trim()).expect("the card as JSON");
    assert_eq!(card["name"], "Main");
    assert_eq!(card["provider"], "stripe");
    assert_eq!(card["api_base"], sandbox.api_base.as_str());

    // The same name again is a conflict.
    let run = connect("Main").stdin(sandbox.api_key.clone()).run();
    run.expect_code(1);
    assert_eq!(single_json_error(&run)["code"], "conflict");

    // A provider that cannot be reached: a failed sync is exit 1 with a JSON error.
    drop(sandbox);
    let run = cli.cmd(&["sync", "run", "--json"]).run();
    run.expect_code(1);
    let stderr = run.stderr();
    let last = stderr.lines().last().expect("an error line");
    let err: Value = serde_json::from_str(last).expect("JSON error");
    assert!(
        err["code"].is_string() && err["retryable"].is_boolean(),
        "{err}"
    );
    for run in run.json_lines() {
        assert_ne!(run["status"], "succeeded", "{run}");
    }
    let cards = cli.cmd(&["connections", "list", "--json"]).run();
    let card = &cards.ok().json_lines()[0];
    assert!(
        card["last_error"].is_string(),
        "the card shows the error: {card}"
    );
}

#[test]
fn missing_master_key_says_how_to_provide_one() {
    let sandbox = Sandbox::start(50, 5);
    let cli = Cli::new();
    let run = no_master_key(cli.cmd(&[
        "connect",
        "stripe",
        "--name",
        "Main",
        "--api-base",
        &sandbox.api_base,
    ]))
    .stdin(sandbox.api_key.clone())
    .run();
    run.expect_code(1);
    assert_eq!(run.stdout(), "");
    assert!(
        run.stderr().contains("SWITCHBOARD_MASTER_KEY"),
        "the message says how to provide a master key\n{}",
        run.describe()
    );
    assert!(!run.stderr().contains(&sandbox.api_key));

    let run = no_master_key(cli.cmd(&[
        "connect",
        "stripe",
        "--name",
        "Main",
        "--api-base",
        &sandbox.api_base,
        "--json",
    ]))
    .stdin(sandbox.api_key.clone())
    .run();
    run.expect_code(1);
    let err = single_json_error(&run);
    assert_eq!(err["code"], "secret_store", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("SWITCHBOARD_MASTER_KEY")
    );

    // A master key that is not base64 of 32 bytes is named as such.
    let run = cli
        .cmd(&[
            "connect",
            "stripe",
            "--name",
            "Main",
            "--api-base",
            &sandbox.api_base,
        ])
        .env("SWITCHBOARD_MASTER_KEY", "not-a-key")
        .stdin(sandbox.api_key.clone())
        .run();
    run.expect_code(1);
    assert!(
        run.stderr().contains("SWITCHBOARD_MASTER_KEY") && run.stderr().contains("32 bytes"),
        "{}",
        run.describe()
    );
}

#[test]
fn missing_master_key_stores_nothing() {
    let sandbox = Sandbox::start(50, 5);
    let cli = Cli::new();
    let run = no_master_key(cli.cmd(&[
        "connect",
        "stripe",
        "--name",
        "Main",
        "--api-base",
        &sandbox.api_base,
    ]))
    .stdin(sandbox.api_key.clone())
    .run();
    run.expect_code(1);
    // Still "nothing configured": listing works without any key and shows nothing.
    let list = no_master_key(cli.cmd(&["connections", "list"])).run();
    list.ok();
    assert_eq!(list.stdout(), "");
    assert!(
        !cli.db_path().exists(),
        "a failed connect must leave nothing configured"
    );
}

#[test]
fn json_listing_with_limit_gives_the_cursor() {
    let sandbox = Sandbox::start(50, 8);
    let cli = Cli::new();
    cli.connect_stripe(&sandbox, "Main").ok();
    cli.cmd(&["sync", "run"]).run().ok();
    let human = cli.cmd(&["payments", "list", "--limit", "5"]).run();
    human.ok();
    let cursor = human
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("More payments follow: --after "))
        .map(|c| c.trim().to_string())
        .expect("the human form prints the cursor");
    let json = cli
        .cmd(&["payments", "list", "--limit", "5", "--json"])
        .run();
    json.ok();
    assert_eq!(json.json_lines().len(), 5);
    let stderr = json.stderr();
    for line in stderr.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("stderr under --json is JSON ({e}): {line}"));
    }
    assert!(
        stderr.contains(&cursor),
        "under --json the cursor to continue is given on stderr\n{}",
        json.describe()
    );
}

#[test]
fn wrong_master_key_on_an_existing_workspace_is_a_clear_error() {
    let sandbox = Sandbox::start(50, 6);
    let cli = Cli::new();
    cli.connect_stripe(&sandbox, "Main").ok();

    for args in [
        vec!["connections", "list"],
        vec!["sync", "run"],
        vec!["payments", "list"],
    ] {
        let run = cli
            .cmd(&args)
            .env("SWITCHBOARD_MASTER_KEY", WRONG_MASTER_KEY)
            .run();
        run.expect_code(1);
        assert_eq!(run.stdout(), "");
        assert!(
            run.stderr().contains("does not match"),
            "the message says the key does not match\n{}",
            run.describe()
        );
    }
    let run = cli
        .cmd(&["sync", "run", "--json"])
        .env("SWITCHBOARD_MASTER_KEY", WRONG_MASTER_KEY)
        .run();
    run.expect_code(1);
    assert_eq!(single_json_error(&run)["code"], "secret_store");

    // Without any key on the existing workspace: how to provide one.
    let run = no_master_key(cli.cmd(&["sync", "run"])).run();
    run.expect_code(1);
    assert!(
        run.stderr().contains("SWITCHBOARD_MASTER_KEY"),
        "{}",
        run.describe()
    );

    // Nothing was damaged: the right key still works.
    let run = cli
        .cmd(&["sync", "run", "--json"])
        .env("SWITCHBOARD_MASTER_KEY", MASTER_KEY)
        .run();
    run.ok();
    let cards = cli.cmd(&["connections", "list", "--json"]).run();
    assert_eq!(cards.ok().json_lines()[0]["payment_count"], 50);
}

#[test]
fn sandbox_serve_prints_one_line_and_stops_on_sigterm() {
    let mut sandbox = Sandbox::start(20, 9);
    let ready: Value = serde_json::from_str(&sandbox.ready_line).expect("JSON ready line");
    assert_eq!(
        ready.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["providers"]
    );
    // The same seed gives the same key; another seed another.
    let again = Sandbox::start(20, 9);
    assert_eq!(again.api_key, sandbox.api_key);
    let other = Sandbox::start(20, 10);
    assert_ne!(other.api_key, sandbox.api_key);
    let status = sandbox
        .terminate(Duration::from_secs(10))
        .expect("the sandbox stops on SIGTERM");
    assert!(status.success(), "{status:?}");
    let out = sandbox.stop();
    assert!(
        out.stdout_after_ready.is_empty(),
        "exactly one line on stdout, then: {:?}",
        String::from_utf8_lossy(&out.stdout_after_ready)
    );
}

#[test]
fn log_requests_lists_each_exchange_without_secrets() {
    let sandbox = Sandbox::start(150, 11);
    let cli = Cli::new();
    cli.connect_stripe(&sandbox, "Main").ok();
    cli.cmd(&["sync", "run"]).run().ok();
    let log = cli.cmd(&["log", "requests", "--json"]).run();
    log.ok();
    let rows = log.json_lines();
    // Charges: 2 pages; refunds and balance transactions: at least one each.
    assert!(rows.len() >= 4, "{}", log.describe());
    for row in &rows {
        assert_eq!(row["method"], "GET");
        assert_eq!(row["status"], 200);
        assert_eq!(row["attempt"], 1);
        assert!(row["path"].as_str().unwrap().starts_with("/v1/"));
        assert!(!row["path"].as_str().unwrap().contains('?'));
        assert!(row["request_id"].as_str().unwrap().starts_with("req_"));
    }
    assert!(!log.stdout().contains(&sandbox.api_key));
    let limited = cli
        .cmd(&["log", "requests", "--limit", "2", "--connection", "Main"])
        .run();
    limited.ok();
    assert_eq!(limited.stdout().lines().count(), 2);
    assert!(limited.stdout().contains("/v1/"));
}

#[test]
fn the_payment_return_url_is_checked_set_shown_and_cleared() {
    let cli = Cli::new();
    let unset = cli.cmd(&["payments", "return-url", "--json"]).run();
    unset.ok();
    assert_eq!(
        unset.json_lines(),
        [serde_json::json!({ "return_url": null })]
    );
    assert!(
        !cli.db_path().exists(),
        "reading the setting created the workspace"
    );
    let refused = cli
        .cmd(&[
            "payments",
            "return-url",
            "http://shop.example.com/thanks",
            "--json",
        ])
        .run();
    refused.expect_code(1);
    assert_eq!(single_json_error(&refused)["code"], "invalid_input");
    let set = cli
        .cmd(&["payments", "return-url", "https://shop.example.com/thanks"])
        .run();
    set.ok();
    assert!(
        set.stdout().contains("https://shop.example.com/thanks"),
        "{}",
        set.describe()
    );
    let shown = cli.cmd(&["payments", "return-url", "--json"]).run();
    assert_eq!(
        shown.json_lines()[0]["return_url"],
        "https://shop.example.com/thanks"
    );
    cli.cmd(&["payments", "return-url", "--clear"]).run().ok();
    let cleared = cli.cmd(&["payments", "return-url", "--json"]).run();
    assert_eq!(cleared.json_lines()[0]["return_url"], Value::Null);
    let both = cli
        .cmd(&["payments", "return-url", "https://a.example", "--clear"])
        .run();
    both.expect_code(2);
}
