//! `switchboard payments requests` (docs/CLI.md, "Payment requests"): it lists requests with
//! their status, and looks open PayPal ones up first, so a request whose order the customer
//! approved is captured once (counted at the fake) and listed as paid with its payment;
//! `--no-check` lists without asking PayPal. A workspace that does not exist is not created.

mod common;

use common::Cli;
use serde_json::Value;
use switchboard_sandbox::{Sandbox, SandboxConfig};

const SHOW_ORDER: &str = "GET /v2/checkout/orders/{id}";
const CAPTURE: &str = "POST /v2/checkout/orders/{id}/capture";

fn requests(cli: &Cli, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["payments", "requests", "--json"];
    args.extend_from_slice(extra);
    let run = cli.cmd(&args).run();
    run.ok();
    run.json_lines()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_requests_are_checked_first_and_an_approved_one_is_listed_paid() {
    let cli = Cli::new();
    // Nothing configured: an empty list, and no workspace made for it.
    let empty = cli.cmd(&["payments", "requests"]).run();
    empty.ok();
    assert!(empty.stdout().is_empty(), "{}", empty.describe());
    assert!(!cli.db_path().exists());

    let sb = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 41,
        stripe_charges: 0,
    })
    .await
    .unwrap();
    let pp = sb.paypal().clone();
    cli.cmd(&[
        "connect",
        "paypal",
        "--name",
        "PayPal",
        "--environment",
        "sandbox",
        "--api-base",
        &pp.api_base(),
        "--client-id",
        pp.client_id(),
    ])
    .env("PAYPAL_CLIENT_SECRET", pp.client_secret())
    .run()
    .ok();
    let made = cli
        .cmd(&[
            "payments",
            "request",
            "--connection",
            "PayPal",
            "--amount",
            "4250",
            "--currency",
            "EUR",
            "--description",
            "Deposit: garden design",
            "--json",
        ])
        .run();
    made.ok();
    let made = made.json_lines()[0].clone();
    let order = made["external_id"].as_str().unwrap().to_string();

    // Waiting for the customer: looked up, still `created`.
    let listed = requests(&cli, &[]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "created", "{listed:#?}");
    assert_eq!(pp.requests(SHOW_ORDER), 1);

    // The customer approves by opening the link.
    let page = reqwest::get(made["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.status(), 200);

    // `--no-check` asks PayPal nothing.
    let unchecked = requests(&cli, &["--no-check"]);
    assert_eq!(unchecked[0]["status"], "created");
    assert_eq!(pp.requests(SHOW_ORDER), 1);
    assert_eq!(pp.requests(CAPTURE), 0);

    // Checked: captured once, listed as paid with the payment it became.
    let listed = requests(&cli, &[]);
    let captures = pp.captures_of_order(&order);
    assert_eq!(captures.len(), 1);
    assert_eq!(pp.requests(CAPTURE), 1);
    assert_eq!(listed[0]["status"], "paid", "{listed:#?}");
    assert_eq!(listed[0]["payment_external_id"], captures[0].as_str());

    // Human output, and the payment is in the payments list once.
    let human = cli.cmd(&["payments", "requests"]).run();
    human.ok();
    let line = human.stdout();
    assert!(
        line.contains("\tpaid\t42.50 EUR\tPayPal\tDeposit: garden design\t"),
        "{line}"
    );
    assert!(line.contains(&format!("payment {}", captures[0])), "{line}");
    let payments = cli.cmd(&["payments", "list", "--json"]).run();
    payments.ok();
    let found: Vec<Value> = payments
        .json_lines()
        .into_iter()
        .filter(|p| p["external_id"] == captures[0].as_str())
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["amount_minor"], 4_250);
    assert_eq!(
        pp.requests(CAPTURE),
        1,
        "listing again captures nothing more"
    );
    sb.shutdown().await;
}
