//! The "Done when" scenario of issue 3 against `switchboard sandbox serve --stripe-charges 20000`,
//! through the real binary: connect, a full sync, an incremental re-sync, the JSON Lines listing,
//! keyset paging on the command line, global flags in either position, and the connection card.

mod common;

use common::{Cli, Sandbox, parse_rfc3339_utc};
use serde_json::Value;
use std::collections::HashSet;
use switchboard_app::sync::LOOKBACK_SECS;

const CHARGES: usize = 20_000;

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// Checks one `payments list --json` line against the contract; returns (external id, created).
fn check_payment(p: &Value) -> (String, i64) {
    assert!(p.is_object(), "{p}");
    assert!(!str_field(p, "id").is_empty(), "{p}");
    assert_eq!(str_field(p, "connection"), "Main", "{p}");
    assert_eq!(str_field(p, "provider"), "stripe", "{p}");
    let external_id = str_field(p, "external_id");
    assert!(external_id.starts_with("ch_"), "{p}");
    assert!(p["amount_minor"].is_i64(), "integer amount_minor: {p}");
    let currency = str_field(p, "currency");
    assert!(
        currency.len() == 3 && currency.bytes().all(|c| c.is_ascii_uppercase()),
        "upper-case ISO currency: {p}"
    );
    let exponent = p["currency_exponent"]
        .as_u64()
        .unwrap_or_else(|| panic!("integer currency_exponent: {p}"));
    assert!(exponent <= 4, "{p}");
    match currency {
        "JPY" | "KRW" => assert_eq!(exponent, 0, "zero-decimal currency: {p}"),
        "KWD" | "BHD" | "JOD" | "OMR" | "TND" => {
            assert_eq!(exponent, 3, "three-decimal currency: {p}")
        }
        "USD" | "EUR" | "GBP" => assert_eq!(exponent, 2, "{p}"),
        _ => {}
    }
    assert!(!str_field(p, "status").is_empty(), "{p}");
    let created_at = str_field(p, "created_at");
    let created = parse_rfc3339_utc(created_at)
        .unwrap_or_else(|| panic!("created_at is not RFC 3339 UTC ending in Z: {p}"));
    (external_id.to_string(), created)
}

/// `payments list` in human form: the external id is the second tab-separated column.
fn human_external_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            l.split('\t')
                .nth(1)
                .unwrap_or_else(|| panic!("not a payment line: {l}"))
                .to_string()
        })
        .collect()
}

/// The `--after` cursor from "More payments follow: --after X" on stderr.
fn cursor_hint(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("More payments follow: --after "))
        .unwrap_or_else(|| panic!("no cursor hint on stderr:\n{stderr}"));
    line.trim_start_matches("More payments follow: --after ")
        .trim()
        .to_string()
}

#[test]
fn done_when_20000_charges_connect_sync_resync_and_list() {
    let sandbox = Sandbox::start(CHARGES, 42);
    let cli = Cli::new();
    let data = cli.data_dir.to_str().unwrap().to_string();

    // Connect, key on standard input.
    let connected = cli.connect_stripe(&sandbox, "Main");
    connected.ok();
    assert!(
        connected.stdout().contains("Main"),
        "{}",
        connected.describe()
    );
    assert!(cli.db_path().exists());

    // Before any sync: the card exists and has never synced.
    let cards = cli.cmd(&["connections", "list", "--json"]).run();
    let cards = cards.ok().json_lines();
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["payment_count"], 0);
    assert!(cards[0]["last_sync_at"].is_null(), "{}", cards[0]);

    // First sync: everything.
    let first = cli.cmd(&["sync", "run"]).run();
    first.ok();
    let charges_line = first
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains("\tcharges\t"))
        .unwrap_or_else(|| panic!("no charges summary\n{}", first.describe()));
    assert!(
        charges_line.contains(&format!("fetched {CHARGES}"))
            && charges_line.contains(&format!("inserted {CHARGES}")),
        "{charges_line}"
    );

    // Global flags after the command: all 20,000 payments as JSON Lines.
    let listed = cli
        .raw(&["payments", "list", "--json", "--data-dir", &data])
        .run();
    listed.ok();
    let payments = listed.json_lines();
    assert_eq!(payments.len(), CHARGES);
    let mut external_ids = HashSet::new();
    let mut newest = i64::MIN;
    let mut created = Vec::with_capacity(CHARGES);
    for p in &payments {
        let (external_id, at) = check_payment(p);
        assert!(
            external_ids.insert(external_id.clone()),
            "duplicate {external_id}"
        );
        newest = newest.max(at);
        created.push(at);
    }
    assert_eq!(external_ids.len(), CHARGES);
    let ids: HashSet<&str> = payments.iter().map(|p| str_field(p, "id")).collect();
    assert_eq!(ids.len(), CHARGES, "our ids are unique too");
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "payments are listed newest first"
    );
    // The re-sync starts LOOKBACK_SECS before the newest charge seen.
    let in_window = created
        .iter()
        .filter(|&&c| c >= newest - LOOKBACK_SECS)
        .count() as i64;
    assert!(in_window > 0);

    // Second sync: nothing new, nothing changed, only the lookback window fetched.
    let second = cli.cmd(&["sync", "run", "--json"]).run();
    second.ok();
    for line in second.stderr().lines() {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stderr under --json is JSON Lines ({e}): {line}"));
        assert!(event.is_object(), "{line}");
    }
    let runs = second.json_lines();
    let streams: Vec<&str> = runs.iter().map(|r| str_field(r, "stream")).collect();
    assert!(streams.contains(&"charges"), "{streams:?}");
    for run in &runs {
        assert_eq!(str_field(run, "connection"), "Main", "{run}");
        assert_eq!(str_field(run, "status"), "succeeded", "{run}");
        assert_eq!(run["inserted"], 0, "second sync inserts nothing: {run}");
        assert_eq!(run["updated"], 0, "second sync updates nothing: {run}");
        assert!(run["duration_ms"].is_i64(), "{run}");
    }
    let charges = runs
        .iter()
        .find(|r| r["stream"] == "charges")
        .expect("charges run");
    let fetched = charges["fetched"].as_i64().expect("integer fetched");
    assert!(
        fetched > 0 && fetched <= in_window && fetched < 100,
        "the re-sync fetched {fetched} charges; the lookback window holds {in_window}"
    );

    // The card: all payments, a last sync time.
    let cards = cli.cmd(&["connections", "list", "--json"]).run();
    let cards = cards.ok().json_lines();
    assert_eq!(cards.len(), 1, "{cards:?}");
    let card = &cards[0];
    assert_eq!(str_field(card, "name"), "Main");
    assert_eq!(str_field(card, "provider"), "stripe");
    assert_eq!(str_field(card, "api_base"), sandbox.api_base);
    assert_eq!(card["payment_count"], CHARGES as i64, "{card}");
    assert!(card["last_error"].is_null(), "{card}");
    let last_sync = str_field(card, "last_sync_at");
    assert!(parse_rfc3339_utc(last_sync).is_some(), "{card}");

    // Global flags before the command.
    let before = cli
        .raw(&[
            "--json",
            "--data-dir",
            &data,
            "payments",
            "list",
            "--limit",
            "3",
        ])
        .run();
    let before = before.ok().json_lines();
    assert_eq!(before.len(), 3);
    assert_eq!(before[..], payments[..3]);
    // …and between the subcommands.
    let between = cli
        .raw(&[
            "payments",
            "--data-dir",
            &data,
            "list",
            "--limit",
            "2",
            "--json",
        ])
        .run();
    assert_eq!(between.ok().json_lines()[..], payments[..2]);

    // Paging: --limit N prints N lines and a cursor; --after continues with no overlap.
    let all_ids: Vec<String> = payments
        .iter()
        .map(|p| str_field(p, "external_id").to_string())
        .collect();
    let page1 = cli.cmd(&["payments", "list", "--limit", "5"]).run();
    page1.ok();
    let ids1 = human_external_ids(&page1.stdout());
    assert_eq!(ids1, all_ids[..5]);
    let cursor = cursor_hint(&page1.stderr());
    let page2 = cli
        .cmd(&["payments", "list", "--limit", "5", "--after", &cursor])
        .run();
    page2.ok();
    let ids2 = human_external_ids(&page2.stdout());
    assert_eq!(ids2, all_ids[5..10], "continues right after page 1");

    // Across the CLI's internal 1,000-row pages, and to the end without a limit.
    let big = cli.cmd(&["payments", "list", "--limit", "1500"]).run();
    big.ok();
    let big_ids = human_external_ids(&big.stdout());
    assert_eq!(big_ids.len(), 1500);
    let rest = cli
        .cmd(&["payments", "list", "--after", &cursor_hint(&big.stderr())])
        .run();
    rest.ok();
    assert!(
        !rest.stderr().contains("More payments follow"),
        "no cursor after the last page"
    );
    let rest_ids = human_external_ids(&rest.stdout());
    assert_eq!(rest_ids.len(), CHARGES - 1500);
    let joined: Vec<String> = big_ids.into_iter().chain(rest_ids).collect();
    assert_eq!(joined, all_ids, "pages cover everything once, in order");

    // Filters and edges.
    let by_name = cli
        .cmd(&["payments", "list", "--connection", "Main", "--limit", "4"])
        .run();
    assert_eq!(by_name.ok().stdout_lines().len(), 4);
    let none = cli.cmd(&["payments", "list", "--limit", "0"]).run();
    assert_eq!(none.ok().stdout(), "");
    let unknown = cli
        .cmd(&["payments", "list", "--connection", "Nope", "--json"])
        .run();
    unknown.expect_code(1);
    assert_eq!(unknown.stdout(), "");
    let err: Value = serde_json::from_str(unknown.stderr().trim()).expect("one JSON error");
    assert_eq!(err["code"], "not_found", "{err}");
    let sync_unknown = cli.cmd(&["sync", "run", "--connection", "Nope"]).run();
    sync_unknown.expect_code(1);
    assert!(
        sync_unknown.stderr().starts_with("error: "),
        "{}",
        sync_unknown.describe()
    );

    // A bad cursor is a clear failure, not a silent empty list.
    let bad_cursor = cli
        .cmd(&["payments", "list", "--after", "garbage", "--json"])
        .run();
    bad_cursor.expect_code(1);
    let err: Value = serde_json::from_str(bad_cursor.stderr().trim()).expect("one JSON error");
    assert_eq!(err["code"], "invalid_input", "{err}");
}
