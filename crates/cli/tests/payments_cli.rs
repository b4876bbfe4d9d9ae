//! The money actions of every payment provider from the terminal (docs/CLI.md, "Payouts,
//! subscriptions and payment requests" and "Outbox"): for Stripe, Square and PayPal connected
//! to an in-process sandbox, `payments request` prints a link, `payments refund` settles once
//! at the fake, `subscriptions list` then `subscriptions cancel` ends one subscription once, and
//! `payouts list` / `payouts show` say whether each payout adds up (and by how much it does
//! not, for the payout the sandbox makes unbalanced on purpose). Counts come from the fakes.

mod common;

use common::{Cli, Run};
use serde_json::Value;
use switchboard_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed: 31,
        stripe_charges: 60,
    })
    .await
    .unwrap()
}

/// The one JSON line a `--json` command printed.
fn one(run: &Run) -> Value {
    run.ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.describe());
    lines[0].clone()
}

fn sync(cli: &Cli, connection: &str) {
    cli.cmd(&["sync", "run", "--connection", connection])
        .run()
        .ok();
}

/// `payments request … --json`: the request, made, with its link.
fn request(cli: &Cli, connection: &str, amount: i64, currency: &str) -> Value {
    let r = one(&cli
        .cmd(&[
            "payments",
            "request",
            "--connection",
            connection,
            "--amount",
            &amount.to_string(),
            "--currency",
            currency,
            "--description",
            "Deposit: garden design",
            "--json",
        ])
        .run());
    assert_eq!(r["status"], "created", "{r}");
    assert_eq!(
        (r["amount_minor"].as_i64(), r["currency"].as_str()),
        (Some(amount), Some(currency))
    );
    assert!(r["url"].as_str().unwrap().starts_with("http"), "{r}");
    r
}

/// `payments refund ID --amount … --yes --json`: the outbox item, settled.
fn refund(cli: &Cli, payment: &str, amount: i64) -> Value {
    let item = one(&cli
        .cmd(&[
            "payments",
            "refund",
            payment,
            "--amount",
            &amount.to_string(),
            "--yes",
            "--json",
        ])
        .run());
    assert_eq!(item["status"], "succeeded", "{item}");
    assert_eq!(item["amount_minor"], amount);
    item
}

/// `subscriptions list --json`, then `subscriptions cancel ID --yes --json` of the first
/// active one that does not end yet: (the subscription before, after).
fn cancel_one(cli: &Cli, connection: &str) -> (Value, Value) {
    let listed = cli
        .cmd(&[
            "subscriptions",
            "list",
            "--connection",
            connection,
            "--json",
        ])
        .run()
        .json_lines();
    let running = listed
        .iter()
        .find(|s| s["status"] == "active" && s["cancel_at_period_end"] == false)
        .unwrap_or_else(|| panic!("an active subscription of {connection}: {listed:#?}"))
        .clone();
    let id = running["id"].as_str().unwrap();
    let after = one(&cli
        .cmd(&["subscriptions", "cancel", id, "--yes", "--json"])
        .run());
    assert_eq!(after["id"], running["id"]);
    // Asking again is refused before anything is sent.
    cli.cmd(&["subscriptions", "cancel", id, "--yes", "--json"])
        .run()
        .expect_code(1);
    (running, after)
}

fn payouts(cli: &Cli, connection: &str) -> Vec<Value> {
    let listed = cli
        .cmd(&["payouts", "list", "--connection", connection, "--json"])
        .run()
        .json_lines();
    assert!(!listed.is_empty(), "payouts of {connection}");
    listed
}

/// `payouts show ID --json`, checked against itself: the entries' net is what the payout
/// says it is, and the difference is the amount less that.
fn show_payout(cli: &Cli, id: &str) -> Value {
    let detail = one(&cli.cmd(&["payouts", "show", id, "--json"]).run());
    let payout = &detail["payout"];
    let entries = detail["entries"].as_array().unwrap();
    let net: i64 = entries
        .iter()
        .map(|e| e["net_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(
        payout["entries"].as_i64(),
        Some(entries.len() as i64),
        "{detail}"
    );
    assert_eq!(payout["entries_net_minor"].as_i64(), Some(net), "{detail}");
    if !entries.is_empty() {
        assert_eq!(
            payout["difference_minor"].as_i64(),
            Some(payout["amount_minor"].as_i64().unwrap() - net),
            "{detail}"
        );
    }
    detail
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_requests_refunds_cancels_and_reconciles_payouts() {
    let sb = sandbox().await;
    let stripe = sb.stripe().clone();
    let unbalanced = stripe.add_unbalanced_payout();
    let cli = Cli::new();
    cli.cmd(&[
        "connect",
        "stripe",
        "--name",
        "Main",
        "--api-base",
        &sb.stripe_api_base(),
    ])
    .stdin(format!("{}\n", sb.stripe_api_key()))
    .run()
    .ok();
    let limits = &sb.ready_line()["providers"]["stripe"]["rate_limits"];
    let per_second = limits["per_second"].as_u64().unwrap().to_string();
    cli.cmd(&[
        "connections",
        "set-budget",
        "Main",
        "--per-second",
        &per_second,
    ])
    .run()
    .ok();
    sync(&cli, "Main");

    let link = request(&cli, "Main", 12_500, "EUR");
    assert_eq!(link["provider"], "stripe");
    assert_eq!(stripe.checkout_sessions_created(), 1);

    let payments = cli.cmd(&["payments", "list", "--json"]).run().json_lines();
    let p = payments
        .iter()
        .find(|p| {
            p["status"] == "succeeded" && p["refunded_minor"] == 0 && p["currency_exponent"] == 2
        })
        .expect("a refundable payment");
    let item = refund(&cli, p["external_id"].as_str().unwrap(), 150);
    assert!(
        item["result_external_id"]
            .as_str()
            .unwrap()
            .starts_with("re_")
    );
    assert_eq!(stripe.refunds_created(), 1);

    let (running, after) = cancel_one(&cli, "Main");
    assert_eq!(after["cancel_at_period_end"], true, "{after}");
    assert_eq!(stripe.subscription_updates(), 1);
    let at_stripe = stripe
        .subscription(running["external_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(at_stripe["cancel_at_period_end"], true);

    // Every payout adds up but the one the sandbox made unbalanced, which shows by how much.
    let listed = payouts(&cli, "Main");
    for p in &listed {
        let show = show_payout(&cli, p["external_id"].as_str().unwrap());
        assert_eq!(show["payout"], *p);
        let difference = p["difference_minor"].as_i64();
        if p["external_id"] == unbalanced.as_str() {
            assert!(difference.is_some_and(|d| d != 0), "{p}");
        } else {
            assert_eq!(difference, Some(0), "{p}");
        }
    }
    assert!(
        listed
            .iter()
            .any(|p| p["external_id"] == unbalanced.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_requests_refunds_cancels_and_reconciles_payouts() {
    let sb = sandbox().await;
    let square = sb.square().clone();
    let fake = sb.oauth("square");
    let cli = Cli::new();
    let mut connect: Vec<String> = [
        "connect",
        "square",
        "--name",
        "Square",
        "--api-base",
        &fake.api_base(),
        "--auth-url",
        &fake.authorize_url(),
        "--token-url",
        &fake.token_url(),
        "--client-id",
        fake.client_id(),
        "--redirect-port",
        "0",
        "--no-browser",
    ]
    .map(str::to_string)
    .to_vec();
    if let Some(revoke) = fake.revoke_url() {
        connect.extend(["--revoke-url".to_string(), revoke]);
    }
    assert!(
        common::complete_sign_in(&cli, &connect, &fake.authorize_url())
            .await
            .success()
    );
    // Square's own scope checks are on: payment links and cancels need their grants.
    for feature in ["payment_links", "cancel_subscriptions"] {
        let reconnect = [
            "connections",
            "reconnect",
            "Square",
            "--for",
            feature,
            "--redirect-port",
            "0",
            "--no-browser",
        ]
        .map(str::to_string);
        let status = common::complete_sign_in(&cli, &reconnect, &fake.authorize_url()).await;
        assert!(status.success(), "reconnect --for {feature}");
    }
    let payment = square.add_payment_now(5_000, "USD");
    sync(&cli, "Square");
    square.reset_counters();

    let link = request(&cli, "Square", 5_000, "USD");
    assert_eq!(link["provider"], "square");
    let links = square.snapshot().payment_links;
    assert_eq!(links.len(), 1);
    assert_eq!(link["external_id"], links[0]["id"]);
    assert_eq!(link["url"], links[0]["url"]);
    assert_eq!(
        square
            .counters()
            .route("POST /v2/online-checkout/payment-links"),
        1
    );

    let item = refund(&cli, &payment, 1_200);
    let at_square = square.refunds_of(&payment);
    assert_eq!(at_square.len(), 1);
    assert_eq!(at_square[0]["amount_money"]["amount"], 1_200);
    assert_eq!(item["result_external_id"], at_square[0]["id"]);
    assert_eq!(square.counters().route("POST /v2/refunds"), 1);

    let (running, after) = cancel_one(&cli, "Square");
    assert_eq!(after["cancel_at_period_end"], true, "{after}");
    assert_eq!(
        square
            .counters()
            .route("POST /v2/subscriptions/{subscription_id}/cancel"),
        1
    );
    let ended = square
        .snapshot()
        .subscriptions
        .into_iter()
        .find(|s| s["id"] == running["external_id"])
        .unwrap();
    assert!(ended.get("canceled_date").is_some(), "{ended}");

    // Square's payouts add up to their entries; one that does not shows the difference.
    for p in payouts(&cli, "Square") {
        assert_eq!(p["difference_minor"], 0, "{p}");
    }
    let odd = square.add_mismatched_payout();
    sync(&cli, "Square");
    let listed = payouts(&cli, "Square");
    let p = listed
        .iter()
        .find(|p| p["external_id"] == odd.as_str())
        .unwrap();
    assert_eq!(p["difference_minor"], 100, "{p}");
    let show = show_payout(&cli, &odd);
    assert_eq!(show["payout"]["difference_minor"], 100);
    assert_eq!(show["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_requests_refunds_cancels_and_lists_withdrawals() {
    let sb = sandbox().await;
    let pp = sb.paypal().clone();
    let cli = Cli::new();
    let api_base = pp.api_base();
    cli.cmd(&[
        "connect",
        "paypal",
        "--name",
        "PayPal",
        "--environment",
        "sandbox",
        "--api-base",
        &api_base,
        "--client-id",
        pp.client_id(),
    ])
    .env("PAYPAL_CLIENT_SECRET", pp.client_secret())
    .run()
    .ok();
    let capture = pp.add_capture_now(8_000, "USD");
    sync(&cli, "PayPal");

    let link = request(&cli, "PayPal", 4_250, "EUR");
    assert_eq!(link["provider"], "paypal");
    assert_eq!(pp.order_ids(), [link["external_id"].as_str().unwrap()]);
    assert_eq!(pp.requests("POST /v2/checkout/orders"), 1);

    let item = refund(&cli, &capture, 2_500);
    let at_paypal = pp.refunds_of(&capture);
    assert_eq!(at_paypal.len(), 1);
    assert_eq!(at_paypal[0].1, 2_500);
    assert_eq!(
        item["result_external_id"].as_str(),
        Some(at_paypal[0].0.as_str())
    );
    assert_eq!(
        pp.requests("POST /v2/payments/captures/{capture_id}/refund"),
        1
    );

    // PayPal ends a subscription at once: it shows as ended, not "at period end".
    let (_, after) = cancel_one(&cli, "PayPal");
    assert_eq!(after["status"], "canceled", "{after}");
    assert_eq!(pp.requests("POST /v1/billing/subscriptions/{id}/cancel"), 1);

    // A PayPal withdrawal has no breakdown to add up: none is claimed.
    let listed = payouts(&cli, "PayPal");
    for p in &listed {
        assert_eq!(
            (p["entries"].as_i64(), &p["difference_minor"]),
            (Some(0), &Value::Null),
            "{p}"
        );
    }
    let show = show_payout(&cli, listed[0]["external_id"].as_str().unwrap());
    assert_eq!(show["payout"], listed[0]);
    assert!(show["entries"].as_array().unwrap().is_empty());
}
