//! Benchmark (not a test): time of the first and a deep Payments page through the command
//! layer (`Workspace::list_payments`, what the `list_payments` Tauri command calls) at 100k
//! payments, after a real sync from the sandbox. Run: `cargo bench -p switchboard-app`.
//! `SWITCHBOARD_BENCH_CHARGES` changes the size.

use std::time::{Duration, Instant};
use switchboard_app::{PaymentQuery, Trigger, Workspace};
use switchboard_core::views::NewStripeConnection;
use switchboard_sandbox::{Sandbox, SandboxConfig};

const PAGE: usize = 200;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time_page(ws: &Workspace, after: Option<String>, rounds: usize) -> Duration {
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let page = ws
            .list_payments(PaymentQuery {
                limit: Some(PAGE),
                after: after.clone(),
                ..PaymentQuery::default()
            })
            .await
            .expect("page");
        samples.push(started.elapsed());
        assert_eq!(page.items.len(), PAGE);
    }
    median(samples)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let charges: usize = std::env::var("SWITCHBOARD_BENCH_CHARGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if std::env::var_os("SWITCHBOARD_MASTER_KEY").is_none() {
        // SAFETY: set before any other thread reads the environment.
        unsafe {
            std::env::set_var(
                "SWITCHBOARD_MASTER_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            )
        };
    }
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 1,
        stripe_charges: charges,
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = Workspace::open_real(dir.path()).await.expect("workspace");
    ws.add_stripe_connection(NewStripeConnection {
        name: "Bench".into(),
        api_key: sandbox.stripe_api_key(),
        api_base: Some(sandbox.stripe_api_base()),
    })
    .await
    .expect("connect");
    // The sandbox's announced budget, not Stripe's test-mode 25/s: measure the engine.
    let budget =
        serde_json::from_value(sandbox.ready_line()["providers"]["stripe"]["rate_limits"].clone())
            .expect("the sandbox announces its budget");
    ws.set_rate_limits("Bench", Some(budget))
        .await
        .expect("budget");

    let started = Instant::now();
    let runs = ws.sync(None, Trigger::Manual, &|_| {}).await.expect("sync");
    let sync_time = started.elapsed();
    let objects: i64 = runs.iter().map(|r| r.fetched).sum();
    println!(
        "bench sync_full charges={charges} objects={objects} seconds={:.2} objects_per_s={:.0}",
        sync_time.as_secs_f64(),
        objects as f64 / sync_time.as_secs_f64()
    );

    // Walk to the deepest full page to get its cursor.
    let mut after = None;
    let mut seen = 0usize;
    let deep_cursor = loop {
        if seen + 1000 + PAGE >= charges {
            break after.clone();
        }
        let page = ws
            .list_payments(PaymentQuery {
                limit: Some(1000),
                after: after.clone(),
                ..PaymentQuery::default()
            })
            .await
            .expect("walk");
        seen += page.items.len();
        after = page.next_cursor;
    };
    let first = time_page(&ws, None, 50).await;
    let deep = time_page(&ws, deep_cursor, 50).await;
    println!(
        "bench payments_page rows={charges} page={PAGE} first_ms={:.2} deep_ms={:.2} deep_offset={seen}",
        first.as_secs_f64() * 1000.0,
        deep.as_secs_f64() * 1000.0
    );
}
