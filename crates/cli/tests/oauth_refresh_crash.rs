//! Refresh crash test: `switchboard auth refresh` is killed with SIGKILL at seeded moments after
//! the fake Xero has received its refresh request (so Xero has already rotated the refresh
//! token) and before the command ended; each time the next refresh must succeed, which needs a
//! usable refresh token stored: the new one if it was committed, or the previous one, which
//! Xero accepts for 30 minutes after a rotation. Access tokens expire as they are issued, so
//! every command refreshes.
//!
//! CI needs at least 100 kills inside that window. Long run:
//! `SWITCHBOARD_CRASH_POINTS=1000 cargo test -p switchboard-cli --test oauth_refresh_crash -- --nocapture`;
//! replay with `SWITCHBOARD_CRASH_SEED`.

mod common;

use common::{Cli, Rng, base_command};
use std::process::Stdio;
use std::time::{Duration, Instant};
use switchboard_sandbox::{OAuthControl, Sandbox, SandboxConfig};

/// Xero accepts the previous refresh token for 30 minutes after a rotation.
const XERO_GRACE: Duration = Duration::from_secs(30 * 60);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spawn_refresh(cli: &Cli) -> std::process::Child {
    base_command(cli.root.path())
        .args(["auth", "refresh", "Books", "--data-dir"])
        .arg(&cli.data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn auth refresh")
}

/// One uninterrupted refresh: when (after spawning) Xero saw the request, and when it ended.
fn time_one(cli: &Cli, xero: &OAuthControl) -> (Duration, Duration) {
    let before = xero.counters().refresh_requests();
    let started = Instant::now();
    let mut child = spawn_refresh(cli);
    let mut requested = None;
    loop {
        if requested.is_none() && xero.counters().refresh_requests() > before {
            requested = Some(started.elapsed());
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "a refresh failed: {status}");
            break;
        }
        std::thread::yield_now();
    }
    let ended = started.elapsed();
    (requested.unwrap_or(ended), ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_killed_after_the_provider_rotated_never_loses_the_refresh_token() {
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        seed: 7,
        stripe_charges: 5,
    })
    .await
    .unwrap();
    let xero = sandbox.oauth("xero").clone();
    xero.set_tenant_count(1);
    let cli = Cli::new();
    common::connect_xero(&cli, &xero, "Books").await;
    xero.set_access_token_lifetime(Duration::ZERO);

    let wanted = env_or("SWITCHBOARD_CRASH_POINTS", 100) as usize;
    let mut rng = Rng(env_or("SWITCHBOARD_CRASH_SEED", 20261123));
    let tally = tokio::task::spawn_blocking(move || {
        // Calibrate: kills are drawn between the earliest request and the median end seen. The
        // window from request to exit is a millisecond or two, so one slow calibration run
        // (the latest end) would send most kills after the command had already ended.
        let timings: Vec<_> = (0..9).map(|_| time_one(&cli, &xero)).collect();
        let from = timings.iter().map(|t| t.0).min().unwrap();
        let mut ends: Vec<_> = timings.iter().map(|t| t.1).collect();
        ends.sort();
        let to = ends[ends.len() / 2];
        let span = (to - from).as_micros().max(1) as u64;
        let (mut in_window, mut before_request, mut ended) = (0, 0, 0);
        let mut attempts = 0;
        while in_window < wanted {
            attempts += 1;
            assert!(attempts <= wanted * 20, "kills rarely land in the window");
            let delay = from + Duration::from_micros(rng.below(span));
            let before = xero.counters().refresh_requests();
            let mut child = spawn_refresh(&cli);
            std::thread::sleep(delay);
            let _ = child.kill();
            let status = child.wait().unwrap();
            let requested = xero.counters().refresh_requests() > before;
            match (status.success(), requested) {
                (true, _) => ended += 1,
                (false, true) => in_window += 1,
                (false, false) => before_request += 1,
            }
            // Whatever the kill left behind, the next refresh works (with the previous refresh
            // token within Xero's grace if the kill came before the commit)...
            let next = cli.cmd(&["auth", "refresh", "Books"]).run();
            assert_eq!(
                next.code(),
                Some(0),
                "refresh after kill #{attempts} ({delay:?} after start) failed: {}",
                next.describe()
            );
            // ... and an uninterrupted refresh stores the token Xero rotated to: without any
            // grace, only the newest refresh token works.
            xero.set_refresh_grace(Duration::ZERO);
            let strict = cli.cmd(&["auth", "refresh", "Books"]).run();
            xero.set_refresh_grace(XERO_GRACE);
            assert_eq!(strict.code(), Some(0), "{}", strict.describe());
        }
        assert_eq!(xero.counters().token_errors("invalid_grant"), 0);
        (in_window, before_request, ended, from, to)
    })
    .await
    .unwrap();
    let (in_window, before_request, ended, from, to) = tally;
    println!(
        "refresh kills: {in_window} after the request reached Xero, {before_request} before it, \
         {ended} after the command had ended (kill delays {from:?}..{to:?})"
    );
}
