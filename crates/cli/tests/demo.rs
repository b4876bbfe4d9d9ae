//! `--demo`: the demo workspace starts its own in-process sandbox, connects "Demo Stripe",
//! syncs it once, and lists the two known demo payments; the real workspace stays untouched.

mod common;

use common::{Cli, parse_rfc3339_utc};
use serde_json::Value;

#[test]
fn demo_workspace_has_a_synced_stripe_connection_and_the_known_payments() {
    let cli = Cli::new();
    let data = cli.data_dir.to_str().unwrap().to_string();

    let cards = cli
        .raw(&[
            "--demo",
            "connections",
            "list",
            "--json",
            "--data-dir",
            &data,
        ])
        .run();
    let cards = cards.ok().json_lines();
    let demo = cards
        .iter()
        .find(|c| c["name"] == "Demo Stripe")
        .unwrap_or_else(|| panic!("no Demo Stripe connection in {cards:?}"));
    assert_eq!(demo["provider"], "stripe");
    assert_eq!(demo["status"], "connected", "{demo}");
    let count = demo["payment_count"].as_i64().expect("payment_count");
    assert!(
        (1000..=10_000).contains(&count),
        "a few thousand demo payments, got {count}"
    );
    assert!(
        parse_rfc3339_utc(demo["last_sync_at"].as_str().expect("synced")).is_some(),
        "{demo}"
    );

    // A second command reuses the demo database (the sandbox moves to a new port each time).
    let listed = cli
        .raw(&[
            "--demo",
            "payments",
            "list",
            "--json",
            "--limit",
            "2",
            "--data-dir",
            &data,
        ])
        .run();
    let payments = listed.ok().json_lines();
    assert_eq!(payments.len(), 2, "{}", listed.describe());
    let find = |description: &str| -> &Value {
        payments
            .iter()
            .find(|p| p["description"] == description)
            .unwrap_or_else(|| panic!("no “{description}” among {payments:?}"))
    };
    let tokyo = find("Demo: Tokyo workshop deposit");
    assert_eq!(tokyo["amount_minor"], 1234);
    assert_eq!(tokyo["currency"], "JPY");
    assert_eq!(tokyo["currency_exponent"], 0);
    let berlin = find("Demo: Berlin coffee beans");
    assert_eq!(berlin["amount_minor"], 1234);
    assert_eq!(berlin["currency"], "EUR");
    assert_eq!(berlin["currency_exponent"], 2);
    for p in &payments {
        assert_eq!(p["connection"], "Demo Stripe", "{p}");
        assert_eq!(p["status"], "succeeded", "{p}");
    }

    // Human form shows the amounts with the currency's own decimals.
    let human = cli
        .cmd(&["payments", "list", "--limit", "2", "--demo"])
        .run();
    let text = human.ok().stdout();
    assert!(text.contains("1234 JPY"), "{text}");
    assert!(text.contains("12.34 EUR"), "{text}");

    // The demo lives in <data dir>/demo/ and never creates the real workspace.
    assert!(cli.data_dir.join("demo").join("switchboard.db").exists());
    assert!(
        !cli.db_path().exists(),
        "the demo must not create the real workspace"
    );
    let real = cli.cmd(&["connections", "list", "--json"]).run();
    assert_eq!(real.ok().stdout(), "", "the real workspace is still empty");
}
