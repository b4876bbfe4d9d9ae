//! Crash test: `switchboard sync run` is killed with SIGKILL at seeded random moments that land
//! mid-run (after at least one page is committed, before the summary), then resumed, over and
//! over; the stored rows (payments, refunds, balance transactions, disputes, payouts and their
//! entries, customers, subscriptions) must then equal an uninterrupted sync's exactly: no
//! duplicate, no gap.
//!
//! CI runs at least 200 kill points on ~2,000 objects: each "world" (a fresh data dir) is
//! killed again and again until a sync finishes, then checked; worlds follow until the kill
//! points are reached. For a long run:
//! `SWITCHBOARD_CRASH_POINTS=2000 cargo test -p switchboard-cli --test crash -- --nocapture`.
//! Replay a failure with `SWITCHBOARD_CRASH_SEED`.

mod common;

use common::{Cli, Rng, Sandbox, base_command};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

const CHARGES: usize = 900;

enum Outcome {
    /// Killed after this many committed pages of the run, in this stream.
    Killed { stream: String, pages: i64 },
    /// The run ended before the chosen kill point: `true` when it succeeded (under fault
    /// injection a run may end `partial` and exit 1; the next one resumes it).
    Ended(bool),
}

/// Starts `sync run --json`, its progress events readable on its standard error.
fn spawn_sync_json(cli: &Cli) -> std::process::Child {
    base_command(cli.root.path())
        .args(["sync", "run", "--json", "--data-dir"])
        .arg(&cli.data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sync")
}

/// Runs `sync run --json` and kills it right after its `events`-th progress event (each is
/// sent after a page commits), plus `delay_ms`, so the kill lands inside the next page's work.
fn sync_and_kill(cli: &Cli, events: usize, delay_ms: u64) -> Outcome {
    let mut child = spawn_sync_json(cli);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    for line in stderr.lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["event"] != "progress" {
            continue;
        }
        seen += 1;
        let progress = &event["progress"];
        // The last page of a stream is followed by the next stream's start: kill at the first
        // chosen-or-later event that is not a stream's end, so kills land inside runs.
        if seen >= events && progress["done"] == false {
            std::thread::sleep(Duration::from_millis(delay_ms));
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
            return Outcome::Killed {
                stream: progress["stream"].as_str().unwrap().to_string(),
                pages: progress["pages"].as_i64().unwrap(),
            };
        }
    }
    Outcome::Ended(child.wait().unwrap().success())
}

/// Every stored object as (table, external id) → raw JSON, plus counts of runs by status.
fn snapshot(cli: &Cli) -> (BTreeMap<(String, String), String>, BTreeMap<String, i64>) {
    let db = rusqlite::Connection::open(cli.db_path()).unwrap();
    switchboard_store::raw::register(&db).unwrap();
    let mut rows = BTreeMap::new();
    for table in [
        "payments",
        "refunds",
        "balance_transactions",
        "disputes",
        "payouts",
        "payout_entries",
        "customers",
        "subscriptions",
    ] {
        let mut stmt = db
            .prepare(&format!(
                "SELECT external_id, raw_json_text(raw_json) FROM {table}"
            ))
            .unwrap();
        let all = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        for row in all {
            let (id, raw) = row.unwrap();
            assert!(
                rows.insert((table.to_string(), id.clone()), raw).is_none(),
                "duplicate {table} {id}"
            );
        }
    }
    let mut runs = BTreeMap::new();
    let mut stmt = db
        .prepare("SELECT status, COUNT(*) FROM sync_runs GROUP BY status")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (status, n) = row.unwrap();
        runs.insert(status, n);
    }
    (rows, runs)
}

fn points(default: usize) -> usize {
    std::env::var("SWITCHBOARD_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("SWITCHBOARD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261123)
}

#[test]
fn killed_syncs_resume_to_exactly_the_providers_data() {
    crash_suite(&Sandbox::start(CHARGES, 5), points(200), seed(), "clean");
}

#[test]
fn killed_syncs_resume_exactly_under_fault_injection() {
    // Server errors, dropped connections and truncated pages (no rate limits: their
    // one-second Retry-After would only slow the test down).
    let faults = [
        "--faults",
        "server_error=0.04,reset=0.03,malformed=0.03",
        "--fault-seed",
        "7",
    ];
    let sandbox = Sandbox::start_with(CHARGES, 5, &[], &faults);
    crash_suite(&sandbox, points(200) / 2, seed() ^ 0xFA17, "faults");
}

/// Connects, trying again while injected faults hit the key check (a person would too: the
/// error says the provider had a problem and is retryable).
fn connect(cli: &Cli, sandbox: &Sandbox) {
    for _ in 0..20 {
        if cli.connect_stripe(sandbox, "Main").code() == Some(0) {
            return;
        }
    }
    panic!("connect kept failing");
}

/// Kills syncs of `sandbox`'s data until `target` kills landed mid-run, world after world,
/// checking each world against an uninterrupted sync of the same data.
fn crash_suite(sandbox: &Sandbox, target: usize, seed: u64, label: &str) {
    // The reference: the same data synced without interruption (retrying past any faults).
    let reference = Cli::new();
    connect(&reference, sandbox);
    while reference.cmd(&["sync", "run"]).run().code() != Some(0) {}
    let (expected, _) = snapshot(&reference);
    assert!(expected.len() > 1_000, "{} objects", expected.len());
    for table in [
        "disputes",
        "payouts",
        "payout_entries",
        "customers",
        "subscriptions",
    ] {
        assert!(
            expected.keys().any(|(t, _)| t == table),
            "the reference sync stored no {table}"
        );
    }

    let mut rng = Rng(seed);
    let mut landed: BTreeMap<String, usize> = BTreeMap::new();
    let mut kills = 0;
    let mut world = 0;
    while kills < target {
        world += 1;
        let cli = Cli::new();
        connect(&cli, sandbox);
        let mut world_kills = 0;
        for attempt in 0.. {
            assert!(attempt < 1_000, "world {world}: the sync never finished");
            let events = 1 + rng.below(2) as usize;
            // A page takes a few milliseconds (the next one is fetched while this one commits), so
            // a short delay keeps the kill inside the run rather than after its end.
            let delay = rng.below(8);
            match sync_and_kill(&cli, events, delay) {
                Outcome::Killed { stream, pages } => {
                    world_kills += 1;
                    let bucket = format!("{stream}, page {} of the run", pages + 1);
                    *landed.entry(bucket).or_default() += 1;
                }
                Outcome::Ended(true) => break,
                Outcome::Ended(false) => {}
            }
        }
        kills += world_kills;
        let (stored, runs) = snapshot(&cli);
        assert_eq!(
            stored.len(),
            expected.len(),
            "{label} world {world} (seed {seed}): stored {} objects, expected {}",
            stored.len(),
            expected.len()
        );
        assert!(
            stored == expected,
            "{label} world {world} (seed {seed}): stored objects differ from an uninterrupted sync"
        );
        assert_eq!(
            runs.get("running"),
            None,
            "world {world}: runs left running: {runs:?}"
        );
        // A kill between one stream's end and the next one's start leaves no run behind;
        // every other kill leaves exactly one, marked interrupted.
        let interrupted = runs.get("interrupted").copied().unwrap_or(0);
        assert!(
            interrupted <= world_kills as i64 && interrupted * 10 >= world_kills as i64 * 7,
            "world {world}: {world_kills} kills, runs {runs:?}"
        );
    }
    println!(
        "crash test ({label}): {kills} kill points over {world} worlds (seed {seed}); where they landed:"
    );
    for (bucket, n) in &landed {
        println!("  {bucket:<45} {n}");
    }
}

#[test]
fn ctrl_c_stops_after_the_page_in_hand_and_the_next_sync_continues() {
    let sandbox = Sandbox::start(3000, 6);
    let cli = Cli::new();
    connect(&cli, &sandbox);
    let mut child = spawn_sync_json(&cli);
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in stderr.by_ref() {
        if line.unwrap().contains("\"progress\"") {
            let interrupted = std::process::Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(interrupted.success());
            break;
        }
    }
    let rest: Vec<String> = stderr.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    let error: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(error["code"], "cancelled", "{rest:?}");

    let (stored, runs) = snapshot(&cli);
    assert!(
        !stored.is_empty() && stored.len() < 3000,
        "{} stored",
        stored.len()
    );
    assert_eq!(runs.get("cancelled"), Some(&1), "{runs:?}");
    cli.cmd(&["sync", "run"]).run().ok();
    let payments = cli.cmd(&["payments", "list", "--json"]).run();
    assert_eq!(payments.json_lines().len(), 3000);
}
