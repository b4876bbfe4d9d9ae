//! `switchboard connect stripe|paypal|twilio|sendgrid|billionmail|smtp` driven as a person or a
//! script would: secrets from the environment or standard input (never arguments), the
//! connection printed (`--json`: a `ConnectionView`), notes on standard error, and nothing
//! stored (not even the workspace) when the provider refuses the credentials.

mod common;

use common::{Cli, Run};
use serde_json::Value;
use switchboard_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        port: 0,
        seed: 23,
        stripe_charges: 3,
    })
    .await
    .unwrap()
}

/// The one `ConnectionView` a `--json` connect printed.
fn connection(run: &Run) -> Value {
    run.ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.describe());
    lines[0].clone()
}

/// The JSON error on standard error.
fn error(run: &Run) -> Value {
    run.expect_code(1);
    let line = run.stderr();
    let last = line.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not a JSON error ({e}): {line}"))
}

/// Whether `needle` appears in any file of the data folder.
fn in_data_files(cli: &Cli, needle: &str) -> bool {
    let mut found = false;
    if let Ok(entries) = std::fs::read_dir(&cli.data_dir) {
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_from_the_environment_and_nothing_stored_for_a_wrong_secret() {
    let sb = sandbox().await;
    let pp = sb.paypal();
    let cli = Cli::new();
    let args = |json: bool| {
        let mut a = vec![
            "connect",
            "paypal",
            "--name",
            "PayPal shop",
            "--environment",
            "sandbox",
            "--api-base",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        a.push(pp.api_base());
        a.push("--client-id".into());
        a.push(pp.client_id().into());
        if json {
            a.push("--json".into());
        }
        a
    };

    // A wrong secret on a machine with nothing configured: exit 1, auth_failed, and not even
    // the workspace is created.
    let wrong = cli
        .cmd(&args(true))
        .env("PAYPAL_CLIENT_SECRET", "not-the-secret")
        .run();
    let e = error(&wrong);
    assert_eq!(e["code"], "auth_failed", "{}", wrong.describe());
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Client Authentication failed")
    );
    assert!(
        !cli.db_path().exists(),
        "nothing stored: {}",
        wrong.describe()
    );

    let run = cli
        .cmd(&args(true))
        .env("PAYPAL_CLIENT_SECRET", pp.client_secret())
        .run();
    let c = connection(&run);
    assert_eq!(c["provider"], "paypal");
    assert_eq!(c["name"], "PayPal shop");
    assert_eq!(c["account_id"], format!("sandbox:{}", pp.app_id()));
    // PayPal is pulled: it keeps the default schedule.
    assert_eq!(c["sync_interval_minutes"], 60);
    let note: Value = serde_json::from_str(run.stderr().lines().next().unwrap()).unwrap();
    assert_eq!(note["event"], "note", "{}", run.describe());
    assert!(
        !in_data_files(&cli, pp.client_secret()),
        "the secret is sealed"
    );

    // The client id may come from the environment too; a taken name is a conflict.
    let mut again: Vec<String> = args(true);
    let at = again.iter().position(|a| a == "--client-id").unwrap();
    again.drain(at..at + 2);
    let run = cli
        .cmd(&again)
        .env("PAYPAL_CLIENT_ID", pp.client_id())
        .env("PAYPAL_CLIENT_SECRET", pp.client_secret())
        .run();
    assert_eq!(error(&run)["code"], "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_connects_with_its_secret_on_standard_input() {
    let sb = sandbox().await;
    let cli = Cli::new();
    let tw = sb.twilio();
    let sg = sb.sendgrid();
    let bm = sb.billionmail();
    let smtp = sb.smtp();

    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "twilio",
            "--name",
            "SMS",
            "--account-sid",
            tw.account_sid(),
            "--api-base",
            &tw.api_base(),
        ])
        .env_remove("TWILIO_AUTH_TOKEN")
        .stdin(format!("{}\n", tw.auth_token()))
        .run();
    let c = connection(&run);
    assert_eq!(c["account_id"], tw.account_sid());
    assert_eq!(c["account_name"], tw.friendly_name());

    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "twilio",
            "--name",
            "SMS key",
            "--account-sid",
            tw.account_sid(),
            "--api-key-sid",
            tw.api_key_sid(),
            "--api-base",
            &tw.api_base(),
        ])
        .env_remove("TWILIO_API_KEY_SECRET")
        .stdin(tw.api_key_secret())
        .run();
    assert_eq!(connection(&run)["account_id"], tw.account_sid());

    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "sendgrid",
            "--name",
            "Newsletter",
            "--api-base",
            &sg.api_base(),
        ])
        .env_remove("SENDGRID_API_KEY")
        .stdin(sg.api_key())
        .run();
    assert_eq!(connection(&run)["account_id"], sg.email());

    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "billionmail",
            "--name",
            "Campaigns",
            "--api-base",
            &bm.api_base(),
        ])
        .env_remove("BILLIONMAIL_API_KEY")
        .stdin(bm.api_key())
        .run();
    assert_eq!(connection(&run)["provider"], "billionmail");
    assert!(bm.sent().is_empty());

    let port = smtp.port().to_string();
    let run = cli
        .cmd(&[
            "connect",
            "smtp",
            "--name",
            "Office mail",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "none",
            "--user",
            smtp.user(),
        ])
        .env_remove("SMTP_PASSWORD")
        .stdin(format!("{}\n", smtp.password()))
        .run();
    run.ok();
    assert!(
        run.stdout().starts_with("Office mail\tsmtp\t"),
        "{}",
        run.describe()
    );
    assert_eq!(smtp.counters().auth_successes, 1);

    let list = cli.cmd(&["--json", "connections", "list"]).run();
    list.ok();
    let providers: Vec<String> = list
        .json_lines()
        .iter()
        .map(|c| c["provider"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        providers,
        ["twilio", "twilio", "sendgrid", "billionmail", "smtp"],
        "{}",
        list.describe()
    );
    for secret in [
        tw.auth_token(),
        tw.api_key_secret(),
        sg.api_key(),
        bm.api_key(),
        smtp.password(),
    ] {
        assert!(
            !in_data_files(&cli, secret),
            "a secret in clear in the data folder"
        );
    }
    for run in cli.transcript() {
        assert!(
            !run.args.iter().any(|a| a.contains(smtp.password())),
            "secrets never go in arguments"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_exit_1_with_a_code_and_a_message_that_says_what_to_do() {
    let sb = sandbox().await;
    let cli = Cli::new();

    // A SendGrid key without the account scope: the missing scope is named.
    let sg = sb.sendgrid();
    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "sendgrid",
            "--name",
            "Mail only",
            "--api-base",
            &sg.api_base(),
        ])
        .env("SENDGRID_API_KEY", sg.restricted_api_key())
        .run();
    let e = error(&run);
    assert_eq!(e["code"], "auth_failed");
    assert!(
        e["message"].as_str().unwrap().contains("user.account.read"),
        "{e}"
    );

    // A bad SMTP password.
    let smtp = sb.smtp();
    let port = smtp.port().to_string();
    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "smtp",
            "--name",
            "Mail",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "none",
            "--user",
            smtp.user(),
        ])
        .env("SMTP_PASSWORD", "wrong")
        .run();
    let e = error(&run);
    assert_eq!(e["code"], "auth_failed");
    assert!(e["message"].as_str().unwrap().contains("535"), "{e}");

    // No TLS to a remote server is refused before connecting; a password argument is not
    // even accepted (usage error, exit 2).
    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "smtp",
            "--name",
            "Mail",
            "--host",
            "smtp.example.com",
            "--security",
            "none",
            "--user",
            "me",
        ])
        .env("SMTP_PASSWORD", "pw")
        .run();
    assert_eq!(error(&run)["code"], "invalid_input");
    cli.cmd(&[
        "connect",
        "smtp",
        "--name",
        "Mail",
        "--host",
        "127.0.0.1",
        "--user",
        "me",
        "--password",
        "pw",
    ])
    .run()
    .expect_code(2);

    // A Twilio token that does not match.
    let tw = sb.twilio();
    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "twilio",
            "--name",
            "SMS",
            "--account-sid",
            tw.account_sid(),
            "--api-base",
            &tw.api_base(),
        ])
        .env("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef")
        .run();
    assert_eq!(error(&run)["code"], "auth_failed");
    // BillionMail without its URL is a usage error.
    cli.cmd(&["connect", "billionmail", "--name", "X"])
        .env("BILLIONMAIL_API_KEY", "k")
        .run()
        .expect_code(2);
    assert!(!cli.db_path().exists(), "nothing was stored by any refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_stripe_shows_the_account_it_reaches() {
    let sb = sandbox().await;
    let cli = Cli::new();
    let run = cli
        .cmd(&[
            "--json",
            "connect",
            "stripe",
            "--name",
            "Main",
            "--api-base",
            &sb.stripe_api_base(),
        ])
        .env_remove("STRIPE_API_KEY")
        .stdin(sb.stripe_api_key())
        .run();
    let c = connection(&run);
    assert_eq!(c["account_id"], sb.stripe().account_id());
    assert_eq!(c["account_name"], "Switchboard Sandbox Coffee");
    assert_eq!(c["sync_interval_minutes"], 60);

    // A restricted key without access to the account connects, and says so.
    let run = cli
        .cmd(&[
            "connect",
            "stripe",
            "--name",
            "Restricted",
            "--api-base",
            &sb.stripe_api_base(),
        ])
        .env("STRIPE_API_KEY", &sb.stripe().restricted_api_key())
        .run();
    run.ok();
    assert!(
        run.stderr()
            .contains("note: Connected, but this key may not read the Stripe account"),
        "{}",
        run.describe()
    );
}

#[test]
fn the_sandbox_announces_every_credential_fake() {
    let sandbox = common::Sandbox::start(2, 4);
    let ready: Value = serde_json::from_str(&sandbox.ready_line).unwrap();
    let providers = &ready["providers"];
    for (key, fields) in [
        ("paypal", &["api_base", "client_id", "client_secret"][..]),
        (
            "twilio",
            &["api_base", "account_sid", "auth_token", "api_key_sid"][..],
        ),
        (
            "sendgrid",
            &["api_base", "api_key", "restricted_api_key"][..],
        ),
        ("billionmail", &["api_base", "api_key"][..]),
        ("smtp", &["host", "port", "user", "password"][..]),
    ] {
        for field in fields {
            assert!(
                !providers[key][field].is_null(),
                "providers.{key}.{field} in {ready}"
            );
        }
    }
    let cli = Cli::new();
    let paypal = &providers["paypal"];
    let run = cli
        .cmd(&[
            "connect",
            "paypal",
            "--name",
            "PayPal",
            "--environment",
            "sandbox",
            "--api-base",
            paypal["api_base"].as_str().unwrap(),
            "--client-id",
            paypal["client_id"].as_str().unwrap(),
        ])
        .stdin(paypal["client_secret"].as_str().unwrap())
        .env_remove("PAYPAL_CLIENT_SECRET")
        .run();
    run.ok();
}
