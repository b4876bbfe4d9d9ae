//! `switchboard webhook verify` over the vectors made by Stripe's and Square's own libraries
//! (`crates/providers/tests/fixtures/webhooks/`, `scripts/webhook-vectors.py`): the real binary,
//! the body on standard input, the secrets in environment variables. Exit 0 valid, 1 invalid
//! with the reason on standard error, 2 usage.

mod common;

use common::Cli;
use serde_json::Value;

fn vectors(provider: &str) -> Vec<Value> {
    let path = format!(
        "{}/../providers/tests/fixtures/webhooks/{provider}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn vector<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_string()
}

/// `webhook verify stripe` for a vector: its secrets in WH_SECRET_0, WH_SECRET_1, …, its clock
/// and tolerance (unless `extra` overrides them).
fn verify_stripe(cli: &Cli, v: &Value, extra: &[&str]) -> common::Run {
    let mut args = vec!["webhook".to_string(), "verify".into(), "stripe".into()];
    let secrets = v["secrets"].as_array().unwrap();
    for i in 0..secrets.len() {
        args.extend(["--secret-env".into(), format!("WH_SECRET_{i}")]);
    }
    args.extend(["--header".into(), text(v, "header")]);
    if !extra.contains(&"--now") {
        args.extend(["--now".into(), v["now"].to_string()]);
    }
    if !extra.contains(&"--tolerance") {
        args.extend(["--tolerance".into(), v["tolerance"].to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut inv = cli.raw(&args).stdin(text(v, "body"));
    for (i, s) in secrets.iter().enumerate() {
        inv = inv.env(&format!("WH_SECRET_{i}"), s.as_str().unwrap());
    }
    inv.run()
}

fn verify_square(cli: &Cli, v: &Value) -> common::Run {
    let mut args = vec!["webhook".to_string(), "verify".into(), "square".into()];
    let secrets = v["secrets"].as_array().unwrap();
    for i in 0..secrets.len() {
        args.extend(["--secret-env".into(), format!("WH_KEY_{i}")]);
    }
    args.extend([
        "--header".into(),
        text(v, "header"),
        "--url".into(),
        text(v, "notification_url"),
    ]);
    let mut inv = cli.raw(&args).stdin(text(v, "body"));
    for (i, s) in secrets.iter().enumerate() {
        inv = inv.env(&format!("WH_KEY_{i}"), s.as_str().unwrap());
    }
    inv.run()
}

#[test]
fn stripe_vectors_through_the_binary() {
    let cli = Cli::new();
    let all = vectors("stripe");
    // Every vector: the exit status follows the expected verdict; an invalid one says why.
    for v in &all {
        let run = verify_stripe(&cli, v, &[]);
        if v["expected_valid"] == true {
            run.expect_code(0);
            assert!(
                run.stdout()
                    .starts_with("valid: verified with the secret in WH_SECRET_"),
                "{}",
                run.describe()
            );
            let index = v["library_secret_index"].as_u64().unwrap();
            assert!(
                run.stdout().contains(&format!("WH_SECRET_{index}")),
                "{}",
                run.describe()
            );
        } else {
            run.expect_code(1);
            let kind = v["expected_error"].as_str().unwrap();
            assert!(
                run.stderr().starts_with(&format!("invalid ({kind}): ")),
                "{}: {}",
                v["name"],
                run.describe()
            );
            assert!(run.stdout().is_empty());
        }
    }

    let good = vector(&all, "known_good");
    let run = verify_stripe(&cli, good, &[]);
    assert!(
        run.stdout().contains("signed at 2025-10-09T08:53:15Z"),
        "{}",
        run.describe()
    );

    let tampered = vector(&all, "tampered_body");
    let run = verify_stripe(&cli, tampered, &[]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("no v1 signature matches the body"),
        "{}",
        run.describe()
    );

    // Rotation: signed with the previous secret, both given: valid, naming the second.
    let rotated = vector(&all, "rotated_previous_secret");
    let run = verify_stripe(&cli, rotated, &[]);
    run.expect_code(0);
    assert!(run.stdout().contains("WH_SECRET_1"), "{}", run.describe());

    // --now is honoured: the known-good vector an hour later is expired…
    let later = (good["now"].as_i64().unwrap() + 3600).to_string();
    let run = verify_stripe(&cli, good, &["--now", &later]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("invalid (timestamp_too_old)"),
        "{}",
        run.describe()
    );
    // …and --tolerance widens the window, or (0) turns the check off.
    verify_stripe(&cli, good, &["--now", &later, "--tolerance", "7200"]).ok();
    verify_stripe(&cli, good, &["--now", &later, "--tolerance", "0"]).ok();
    let expired = vector(&all, "expired_timestamp");
    verify_stripe(&cli, expired, &[]).expect_code(1);
    verify_stripe(&cli, expired, &["--tolerance", "301"]).ok();

    // --json: a result line, or one error object with the reason.
    let run = verify_stripe(&cli, good, &["--json"]);
    run.ok();
    let line = &run.json_lines()[0];
    assert_eq!(line["valid"], true);
    assert_eq!(line["secret_env"], "WH_SECRET_0");
    let run = verify_stripe(&cli, tampered, &["--json"]);
    run.expect_code(1);
    let error: Value = serde_json::from_str(run.stderr().trim()).unwrap();
    assert_eq!(error["code"], "invalid_input");
    assert_eq!(error["reason"], "signature_mismatch");

    // The secrets never appear in any output.
    for run in cli.transcript() {
        for s in good["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rotated["secrets"].as_array().unwrap())
        {
            let s = s.as_str().unwrap();
            assert!(
                !run.stdout().contains(s) && !run.stderr().contains(s),
                "{}",
                run.describe()
            );
        }
    }
}

#[test]
fn square_vectors_through_the_binary() {
    let cli = Cli::new();
    for v in &vectors("square") {
        let run = verify_square(&cli, v);
        if v["expected_valid"] == true {
            run.expect_code(0);
            let index = v["library_secret_index"].as_u64().unwrap();
            assert!(
                run.stdout().contains(&format!("WH_KEY_{index}")),
                "{}",
                run.describe()
            );
        } else {
            run.expect_code(1);
            let kind = v["expected_error"].as_str().unwrap();
            assert!(
                run.stderr().starts_with(&format!("invalid ({kind}): ")),
                "{}: {}",
                v["name"],
                run.describe()
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    let all = vectors("stripe");
    let good = vector(&all, "known_good");
    let header = text(good, "header");
    // A secret variable that is not set.
    let run = cli
        .raw(&[
            "webhook",
            "verify",
            "stripe",
            "--secret-env",
            "WH_NOT_SET",
            "--header",
            &header,
        ])
        .env_remove("WH_NOT_SET")
        .stdin(text(good, "body"))
        .run();
    run.expect_code(2);
    assert!(
        run.stderr().contains("WH_NOT_SET is not set"),
        "{}",
        run.describe()
    );
    // An empty one.
    let run = cli
        .raw(&[
            "webhook",
            "verify",
            "stripe",
            "--secret-env",
            "WH_EMPTY",
            "--header",
            &header,
        ])
        .env("WH_EMPTY", "  ")
        .stdin(text(good, "body"))
        .run();
    run.expect_code(2);
    // No --secret-env at all, or no --header (clap).
    cli.raw(&["webhook", "verify", "stripe", "--header", &header])
        .stdin("{}")
        .run()
        .expect_code(2);
    cli.raw(&["webhook", "verify", "stripe", "--secret-env", "X"])
        .stdin("{}")
        .run()
        .expect_code(2);
    // Square needs the notification URL and takes no clock.
    let run = cli
        .raw(&[
            "webhook",
            "verify",
            "square",
            "--secret-env",
            "K",
            "--header",
            "abc=",
        ])
        .env("K", "key")
        .stdin("{}")
        .run();
    run.expect_code(2);
    assert!(run.stderr().contains("--url"), "{}", run.describe());
    cli.raw(&[
        "webhook",
        "verify",
        "square",
        "--secret-env",
        "K",
        "--header",
        "abc=",
        "--url",
        "https://x.example/h",
        "--now",
        "5",
    ])
    .env("K", "key")
    .stdin("{}")
    .run()
    .expect_code(2);
    // Stripe signs no URL.
    cli.raw(&[
        "webhook",
        "verify",
        "stripe",
        "--secret-env",
        "K",
        "--header",
        &header,
        "--url",
        "https://x.example/h",
    ])
    .env("K", "key")
    .stdin("{}")
    .run()
    .expect_code(2);
}

#[test]
fn secret_set_events_and_receiver_settings() {
    let cli = Cli::new();
    // Before anything is connected: the defaults, without creating the workspace.
    let run = cli.cmd(&["webhook", "receiver"]).run();
    run.ok();
    assert_eq!(run.stdout().trim(), "receiver off\tport 8723");
    cli.cmd(&["webhook", "events"]).run().ok();
    assert!(
        !cli.db_path().exists(),
        "a read-only command created the workspace"
    );
    cli.cmd(&["webhook", "receiver", "--enable"])
        .run()
        .expect_code(1);
    let sandbox = common::Sandbox::start(3, 1);
    cli.connect_stripe(&sandbox, "Main").ok();
    // The secret comes from the environment only.
    let run = cli
        .cmd(&[
            "webhook",
            "secret",
            "set",
            "Main",
            "--secret-env",
            "WH_MISSING",
        ])
        .env_remove("WH_MISSING")
        .run();
    run.expect_code(2);
    let run = cli
        .cmd(&[
            "webhook",
            "secret",
            "set",
            "Main",
            "--secret-env",
            "WH_SECRET",
        ])
        .env("WH_SECRET", "whsec_test-cli-first-1a2b")
        .run();
    run.ok();
    assert!(
        run.stdout()
            .contains("Webhook secret set for Main (stripe)."),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout()
            .contains("POST http://127.0.0.1:8723/webhooks/"),
        "{}",
        run.describe()
    );
    let run = cli
        .cmd(&[
            "webhook",
            "secret",
            "set",
            "Main",
            "--secret-env",
            "WH_SECRET",
            "--json",
        ])
        .env("WH_SECRET", "whsec_test-cli-second-3c4d")
        .run();
    run.ok();
    assert_eq!(run.json_lines()[0]["previous_kept"], true);
    for r in cli.transcript() {
        assert!(!r.stdout().contains("whsec_test-cli") && !r.stderr().contains("whsec_test-cli"));
    }
    // A webhook ID is PayPal's: refused for Stripe, and never with a secret.
    let run = cli
        .cmd(&[
            "webhook",
            "secret",
            "set",
            "Main",
            "--webhook-id",
            "3X188233PA171014C",
        ])
        .run();
    run.expect_code(1);
    assert!(
        run.stderr().contains("not a PayPal connection"),
        "{}",
        run.describe()
    );
    cli.cmd(&[
        "webhook",
        "secret",
        "set",
        "Main",
        "--secret-env",
        "WH_SECRET",
        "--webhook-id",
        "3X188233PA171014C",
    ])
    .env("WH_SECRET", "whsec_test-cli-third-5e6f")
    .run()
    .expect_code(2);
    cli.cmd(&["webhook", "secret", "set", "Main"])
        .run()
        .expect_code(2);

    // No events yet; settings default to off on 8723 and are kept.
    let run = cli.cmd(&["webhook", "events", "--json"]).run();
    run.ok();
    assert!(run.stdout().is_empty(), "{}", run.describe());
    let run = cli.cmd(&["webhook", "receiver"]).run();
    run.ok();
    assert_eq!(run.stdout().trim(), "receiver off\tport 8723");
    cli.cmd(&["webhook", "receiver", "--enable", "--port", "9555"])
        .run()
        .ok();
    let run = cli.cmd(&["webhook", "receiver", "--json"]).run();
    assert_eq!(
        run.json_lines()[0],
        serde_json::json!({"enabled": true, "port": 9555})
    );
    cli.cmd(&["webhook", "receiver", "--port", "0"])
        .run()
        .expect_code(2);
}

/// One HTTP/1.1 POST over a plain socket; the status code, or `None` while nothing listens.
fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn serve_syncs_the_connection_of_a_valid_event_and_stops_on_ctrl_c() {
    use std::io::BufRead;
    let cli = Cli::new();
    let sandbox = common::Sandbox::start(3, 2);
    cli.connect_stripe(&sandbox, "Main").ok();
    let id = cli
        .cmd(&["connections", "list", "--json"])
        .run()
        .json_lines()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = "whsec_test-cli-serve-5e6f";
    cli.cmd(&[
        "webhook",
        "secret",
        "set",
        "Main",
        "--secret-env",
        "WH_SECRET",
    ])
    .env("WH_SECRET", secret)
    .run()
    .ok();
    // A free port (the receiver's port is a setting, not announced by the provider).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = common::base_command(cli.root.path())
        .args(["webhook", "serve", "--port", &port.to_string(), "--json"])
        .arg("--data-dir")
        .arg(&cli.data_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());

    let body = serde_json::json!({
        "id": "evt_cli_serve_1", "object": "event", "type": "charge.succeeded",
        "created": chrono_now(), "livemode": false, "pending_webhooks": 1,
        "data": {"object": {"id": "ch_1", "object": "charge"}},
    })
    .to_string();
    let header = switchboard_providers::webhooks::stripe::signature_header(
        &switchboard_core::secret::SecretString::new(secret),
        chrono_now(),
        body.as_bytes(),
    );
    let path = format!("/webhooks/{id}");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = post(port, &path, &[("Stripe-Signature", &header)], &body) {
            break status;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the receiver never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(status, 200);
    // A tampered one is refused and syncs nothing.
    let tampered = body.replace("ch_1", "ch_2");
    assert_eq!(
        post(port, &path, &[("Stripe-Signature", &header)], &tampered),
        Some(400)
    );

    // The valid event's sync: its runs, trigger `webhook`, on standard output.
    let mut runs = Vec::new();
    for line in stdout.lines() {
        let run: Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert_eq!(run["trigger"], "webhook");
        assert_eq!(run["connection_id"], id.as_str());
        assert_eq!(run["status"], "succeeded", "{run}");
        runs.push(run);
        if runs.len() == 1 {
            // Ctrl-C once the sync has reported (the other streams' lines are already out
            // or follow before the exit).
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        }
    }
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(status.success(), "{status:?}\n{stderr}");
    assert!(!runs.is_empty());
    let listening: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(listening["event"], "listening");
    assert_eq!(listening["address"], format!("127.0.0.1:{port}"));
    assert!(!stderr.contains(secret));

    let events = cli.cmd(&["webhook", "events", "--json"]).run().json_lines();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["outcome"], "rejected");
    assert_eq!(events[1]["outcome"], "accepted");
    assert_eq!(events[1]["event_id"], "evt_cli_serve_1");
    let human = cli.cmd(&["webhook", "events"]).run();
    assert!(
        human
            .stdout()
            .contains("\tMain\tstripe\taccepted\tcharge.succeeded\tevt_cli_serve_1\t"),
        "{}",
        human.describe()
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
