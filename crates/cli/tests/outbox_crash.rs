//! Crash test of the outbox: `switchboard payments refund` is killed with SIGKILL at seeded
//! random moments (before the item is written, while it is queued, after `sending` is
//! committed with the refund not yet made or already made at the provider, after success), then
//! the outbox is processed until nothing is left; in the end every refund Switchboard wrote down
//! exists EXACTLY once at the fake provider (a separate process, so kills do not reset it), with
//! its amount, and no other refund was made.
//!
//! CI runs 150 kill points on a clean provider and 75 under injected faults (server errors,
//! dropped connections that happen after the refund was applied, truncated answers). For more:
//! `SWITCHBOARD_OUTBOX_CRASH_POINTS=600 cargo test -p switchboard-cli --test outbox_crash --
//! --nocapture`; replay a failure with `SWITCHBOARD_CRASH_SEED`.

mod common;

use common::{Cli, Rng, Sandbox, base_command};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn points(default: usize) -> usize {
    std::env::var("SWITCHBOARD_OUTBOX_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("SWITCHBOARD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261124)
}

/// Enough attempts that kills and injected faults never make a dead letter.
const ATTEMPTS: (&str, &str) = ("SWITCHBOARD_OUTBOX_MAX_ATTEMPTS", "1000");

#[test]
fn killed_refunds_exist_exactly_once_at_the_provider() {
    let sandbox = Sandbox::start(120, 12);
    crash_suite(&sandbox, points(150), seed(), "clean");
}

#[test]
fn killed_refunds_exist_exactly_once_under_fault_injection() {
    let faults = [
        "--faults",
        "server_error=0.08,reset=0.08,malformed=0.04",
        "--fault-seed",
        "11",
    ];
    let sandbox = Sandbox::start_with(120, 12, &[], &faults);
    crash_suite(&sandbox, points(150) / 2, seed() ^ 0x0FF5, "faults");
}

/// A Stripe GET against the sandbox, retried past injected faults.
fn stripe_get(sandbox: &Sandbox, path_and_query: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..50 {
            let Ok(resp) = client
                .get(format!("{}{path_and_query}", sandbox.api_base))
                .bearer_auth(&sandbox.api_key)
                .send()
                .await
            else {
                continue;
            };
            if !resp.status().is_success() {
                continue;
            }
            if let Ok(v) = resp.json::<Value>().await {
                return v;
            }
        }
        panic!("GET {path_and_query} kept failing");
    })
}

/// Every refund at the fake carrying an outbox id: outbox id → [(refund id, amount)].
fn refunds_at_provider(sandbox: &Sandbox, since: i64) -> BTreeMap<String, Vec<(String, i64)>> {
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page = stripe_get(
            sandbox,
            &format!("/v1/refunds?limit=100&created[gte]={since}{after}"),
        );
        let data = page["data"].as_array().unwrap();
        for r in data {
            if let Some(id) = r["metadata"]["switchboard_outbox_id"].as_str() {
                out.entry(id.to_string()).or_default().push((
                    r["id"].as_str().unwrap().to_string(),
                    r["amount"].as_i64().unwrap(),
                ));
            }
        }
        if page["has_more"] != true {
            return out;
        }
        after = format!(
            "&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
}

struct Row {
    id: String,
    status: String,
    amount: i64,
}

fn outbox_rows(cli: &Cli) -> Vec<Row> {
    let db = rusqlite::Connection::open(cli.db_path()).unwrap();
    let mut stmt = db
        .prepare("SELECT id, status, payload_json FROM outbox ORDER BY created_at, id")
        .unwrap();
    stmt.query_map([], |r| {
        let payload: String = r.get(2)?;
        let payload: Value = serde_json::from_str(&payload).unwrap();
        Ok(Row {
            id: r.get(0)?,
            status: r.get(1)?,
            amount: payload["amount_minor"].as_i64().unwrap(),
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Payments worth refunding a little at a time: succeeded, two-decimal, mostly unrefunded.
fn refundable_payments(cli: &Cli) -> Vec<String> {
    let listed = cli.cmd(&["payments", "list", "--json"]).run();
    listed.ok();
    let mut ids: Vec<String> = listed
        .json_lines()
        .into_iter()
        .filter(|p| {
            p["status"] == "succeeded"
                && p["currency_exponent"] == 2
                && matches!(p["currency"].as_str(), Some("EUR" | "USD" | "GBP"))
                && p["amount_minor"].as_i64().unwrap() - p["refunded_minor"].as_i64().unwrap()
                    >= 2_000
        })
        .map(|p| p["external_id"].as_str().unwrap().to_string())
        .collect();
    ids.truncate(25);
    assert!(ids.len() >= 10, "only {} refundable payments", ids.len());
    ids
}

enum Kill {
    /// Right after the item is queued (the log says so), plus a few milliseconds: lands in
    /// the send.
    AfterQueued(u64),
    /// At a random moment from the start.
    AfterStart(u64),
}

/// Runs `payments refund … --yes` and kills it as `kill` says; `true` when it was killed
/// (`false`: it ended first).
fn refund_and_kill(cli: &Cli, payment: &str, amount: i64, kill: Kill) -> bool {
    let mut cmd = base_command(cli.root.path());
    cmd.args(["payments", "refund", payment, "--amount"])
        .arg(amount.to_string())
        .args([
            "--reason",
            "requested_by_customer",
            "--yes",
            "--json",
            "--data-dir",
        ])
        .arg(&cli.data_dir)
        .env(ATTEMPTS.0, ATTEMPTS.1)
        .env("SWITCHBOARD_LOG", "warn,switchboard_app::outbox=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match kill {
        Kill::AfterQueued(delay_ms) => {
            let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn refund");
            let stderr = BufReader::new(child.stderr.take().unwrap());
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                if line.contains("refund queued in the outbox") {
                    std::thread::sleep(Duration::from_millis(delay_ms));
                    let ended = child.try_wait().unwrap().is_some();
                    child.kill().expect("SIGKILL");
                    child.wait().unwrap();
                    return !ended;
                }
            }
            child.wait().unwrap();
            false
        }
        Kill::AfterStart(delay_ms) => {
            let mut child = cmd.stderr(Stdio::null()).spawn().expect("spawn refund");
            std::thread::sleep(Duration::from_millis(delay_ms));
            let ended = child.try_wait().unwrap().is_some();
            let _ = child.kill();
            child.wait().unwrap();
            !ended
        }
    }
}

/// Processes the outbox until nothing is left to send ("time passes" between passes: due times
/// are moved to the past, as hours of waiting would).
fn drain(cli: &Cli) {
    for pass in 0.. {
        assert!(pass < 200, "the outbox never emptied");
        let db = rusqlite::Connection::open(cli.db_path()).unwrap();
        let open: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let dead: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE status = 'dead'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if dead > 0 {
            let why: String = db
                .query_row(
                    "SELECT COALESCE(last_error_message, '') || ' [' || COALESCE(last_error_code, '') || ']'
                     FROM outbox WHERE status = 'dead' LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or_default();
            panic!("a dead letter: {why}");
        }
        if open == 0 {
            return;
        }
        db.execute(
            "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE status = 'queued'",
            [],
        )
        .unwrap();
        // Injected faults can open the connection's circuit breaker: let its cool-down pass
        // (the next request is then the breaker's trial) instead of waiting for it.
        db.execute(
            "UPDATE connection_health SET open_until = 0 WHERE circuit = 'open'",
            [],
        )
        .unwrap();
        drop(db);
        cli.cmd(&["outbox", "process"])
            .env(ATTEMPTS.0, ATTEMPTS.1)
            .run();
    }
}

fn crash_suite(sandbox: &Sandbox, target: usize, seed: u64, label: &str) {
    let started = Instant::now();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 60;
    let cli = Cli::new();
    for _ in 0..20 {
        if cli.connect_stripe(sandbox, "Main").code() == Some(0) {
            break;
        }
    }
    while cli.cmd(&["sync", "run"]).run().code() != Some(0) {}
    let payments = refundable_payments(&cli);

    // How long an uninterrupted refund takes, so random kills spread over its whole life.
    let t0 = Instant::now();
    cli.cmd(&["payments", "refund", &payments[0], "--amount", "1", "--yes"])
        .env(ATTEMPTS.0, ATTEMPTS.1)
        .run();
    let span_ms = (t0.elapsed().as_millis() as u64).clamp(20, 2_000);
    drain(&cli);

    let mut rng = Rng(seed);
    let mut landed: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut kills = 0;
    let mut round = 0;
    while kills < target {
        round += 1;
        assert!(round < target * 4, "kills keep missing");
        let payment = &payments[rng.below(payments.len() as u64) as usize];
        let amount = 1 + rng.below(50) as i64;
        let before = outbox_rows(&cli).len();
        let kill = if rng.below(3) < 2 {
            Kill::AfterQueued(rng.below(8))
        } else {
            Kill::AfterStart(rng.below(span_ms + span_ms / 4))
        };
        if !refund_and_kill(&cli, payment, amount, kill) {
            *landed.entry("ended before the kill").or_default() += 1;
            drain(&cli);
            continue;
        }
        kills += 1;
        let rows = outbox_rows(&cli);
        let bucket = match rows.get(before) {
            None => "before the item was written",
            Some(r) if r.status == "queued" => "queued, not sent (or answer lost)",
            Some(r) if r.status == "succeeded" => "after success was stored",
            Some(r) if r.status == "sending" => {
                let at = refunds_at_provider(sandbox, since);
                if at.contains_key(&r.id) {
                    "sending, refund made at the provider"
                } else {
                    "sending, refund not made yet"
                }
            }
            Some(_) => "other",
        };
        *landed.entry(bucket).or_default() += 1;
        drain(&cli);
    }

    // Every item Switchboard wrote down exists exactly once at the provider, with its amount;
    // nothing else was refunded there.
    let rows = outbox_rows(&cli);
    let at = refunds_at_provider(sandbox, since);
    assert!(rows.iter().all(|r| r.status == "succeeded"));
    let mut problems = Vec::new();
    let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    for row in &rows {
        match at.get(&row.id).map(Vec::as_slice) {
            Some([(_, amount)]) if *amount == row.amount => {}
            other => problems.push(format!("item {}: at the provider {other:?}", row.id)),
        }
    }
    for id in at.keys() {
        if !by_id.contains_key(id.as_str()) {
            problems.push(format!("refund for unknown item {id}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{label} (seed {seed}): {}",
        problems.join("; ")
    );
    assert!(
        landed
            .get("sending, refund made at the provider")
            .copied()
            .unwrap_or(0)
            + landed
                .get("sending, refund not made yet")
                .copied()
                .unwrap_or(0)
            > 0,
        "no kill landed mid-send: {landed:?}"
    );
    println!(
        "outbox crash test ({label}): {kills} kills, {} refunds each exactly once at the provider, {:.1}s (seed {seed}); where the kills landed:",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    for (bucket, n) in &landed {
        println!("  {bucket:<42} {n}");
    }
}
