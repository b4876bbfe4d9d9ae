//! `switchboard subscriptions list` shows what each subscription is for, what it charges and
//! how often (`Monthly subscription · 15.00 USD every month`), from a real sync of the
//! sandbox's Stripe fake; `--json` carries the same fields.

mod common;

use common::{Cli, Sandbox};
use switchboard_core::money::decimal_string;

#[test]
fn the_list_shows_plan_price_and_interval() {
    let sb = Sandbox::start(20, 31);
    let cli = Cli::new();
    cli.connect_stripe(&sb, "Main").ok();
    cli.cmd(&["sync", "run", "--connection", "Main"]).run().ok();

    let listed = cli
        .cmd(&["subscriptions", "list", "--connection", "Main", "--json"])
        .run()
        .json_lines();
    assert!(listed.len() >= 3);
    let text = cli
        .cmd(&["subscriptions", "list", "--connection", "Main"])
        .run();
    text.ok();
    let lines = text.stdout_lines();
    assert_eq!(lines.len(), listed.len(), "{}", text.describe());
    for s in &listed {
        let line = lines
            .iter()
            .find(|l| l.starts_with(s["external_id"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("{s} in {lines:#?}"));
        let count = s["interval_count"].as_i64().unwrap();
        let unit = s["interval"].as_str().unwrap();
        let every = if count > 1 {
            format!("every {count} {unit}s")
        } else {
            format!("every {unit}")
        };
        let want = format!(
            "{} · {} {} {every}",
            s["description"].as_str().unwrap(),
            decimal_string(
                s["amount_minor"].as_i64().unwrap(),
                s["currency_exponent"].as_u64().unwrap() as u8
            ),
            s["currency"].as_str().unwrap(),
        );
        assert!(line.contains(&want), "{line:?} lacks {want:?}");
    }
}
