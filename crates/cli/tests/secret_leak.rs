//! The Secrets contract of issue 3: after connect, sync and listing with debug logging on, the
//! Stripe API key's bytes appear nowhere: not in the database, its WAL or SHM files, any output
//! or log of any command (the sandbox's included, except its ready line, which announces the
//! key by design), nor the command line of any process while the commands run.
//!
//! Each scan has a sanity check that the same search does find something it should, so the test
//! fails if the search itself is broken.

mod common;

use common::{
    Cli, Sandbox, all_cmdlines, base64, contains_bytes, read_tree_from_child, strip_ansi,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const NAME: &str = "Leakcheck Main 7f3a";
const SECOND: &str = "Leakcheck Second 9b1e";
const CHARGES: usize = 2000;

/// The forms of the key worth looking for. Both halves of the part after `sk_test_` cover the
/// whole key, the key without its prefix, and a truncated or split copy; then the key in base64
/// (as in a Basic auth header, with or without the `:`: the encoding of its whole 3-byte groups
/// is common to both) and in hex.
fn needles(key: &str) -> Vec<(String, Vec<u8>)> {
    let body = key.strip_prefix("sk_test_").expect("sk_test_ key");
    assert!(body.len() >= 32, "a key long enough to search for: {key}");
    let half = body.len() / 2;
    let b64 = base64(key.as_bytes());
    let b64_groups = b64[..4 * (key.len() / 3)].to_string();
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    [
        ("first half of the key", body[..half].to_string()),
        ("second half of the key", body[half..].to_string()),
        ("base64 of the key", b64_groups),
        ("hex of the key", hex),
    ]
    .into_iter()
    .map(|(what, s)| (what.to_string(), s.into_bytes()))
    .collect()
}

/// The first form of the key found in `data`.
fn leak_in(data: &[u8], needles: &[(String, Vec<u8>)]) -> Option<String> {
    needles
        .iter()
        .find(|(_, n)| contains_bytes(data, n))
        .map(|(what, _)| what.clone())
}

/// The same for text that may be coloured: also searched with ANSI escapes removed.
fn leak_in_text(text: &[u8], needles: &[(String, Vec<u8>)]) -> Option<String> {
    leak_in(text, needles).or_else(|| leak_in(&strip_ansi(text), needles))
}

/// Fails if any process's command line holds the key; returns whether `pid` was seen with a
/// command line containing `marker`.
#[track_caller]
fn scan_cmdlines(needles: &[(String, Vec<u8>)], pid: u32, marker: &[u8]) -> bool {
    let mut seen = false;
    for (p, cmdline) in all_cmdlines() {
        if let Some(what) = leak_in(&cmdline, needles) {
            panic!(
                "the {what} is in the command line of process {p}: {:?}",
                String::from_utf8_lossy(&cmdline)
            );
        }
        if p == pid && contains_bytes(&cmdline, marker) {
            seen = true;
        }
    }
    seen
}

/// Fails if any file under the data dir holds the key; returns the files read (by a child
/// process, so this process's SQLite locks survive the reads).
#[track_caller]
fn scan_files(dir: &std::path::Path, needles: &[(String, Vec<u8>)]) -> Vec<(PathBuf, Vec<u8>)> {
    let files = read_tree_from_child(dir);
    for (path, bytes) in &files {
        if let Some(what) = leak_in(bytes, needles) {
            panic!("the {what} is stored in plain text in {}", path.display());
        }
    }
    files
}

fn file<'a>(files: &'a [(PathBuf, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(p, _)| p.file_name().is_some_and(|n| n == name))
        .map(|(_, b)| b.as_slice())
}

#[test]
fn api_key_appears_in_no_file_output_log_or_command_line() {
    let sandbox = Sandbox::start_with_env(CHARGES, 7341, &[("SWITCHBOARD_LOG", "debug")]);
    let key = sandbox.api_key.clone();
    let needles = needles(&key);
    // Sanity: the search finds the key where it legitimately is, and in every form it looks for.
    assert!(
        leak_in(sandbox.ready_line.as_bytes(), &needles).is_some(),
        "the sandbox ready line announces the key"
    );
    let body = &key["sk_test_".len()..];
    for form in [
        key.clone(),
        body[..body.len() - 10].to_string(),
        body[10..].to_string(),
        format!("\x1b[2m{}\x1b[0m{}", &key[..40], &key[40..]),
        format!(
            "Authorization: Basic {}",
            base64(format!("{key}:").as_bytes())
        ),
        format!("Basic {}", base64(key.as_bytes())),
        key.bytes()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
            .to_lowercase(),
    ] {
        assert!(
            leak_in_text(format!("log: {form} end").as_bytes(), &needles).is_some(),
            "sanity: the search finds {form}"
        );
    }

    let cli = Cli::new().with_env("SWITCHBOARD_LOG", "debug");
    let base = sandbox.api_base.clone();

    // 1. Connect with the key on standard input. While the process waits for its input, every
    //    command line on the machine is scanned, its own included.
    let mut connect = cli
        .cmd(&["connect", "stripe", "--name", NAME, "--api-base", &base])
        .spawn();
    let pid = connect.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !scan_cmdlines(&needles, pid, b"connect\0stripe") {
        assert!(
            Instant::now() < deadline && connect.is_running(),
            "the connect process never showed up in /proc"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    connect.write_stdin(format!("{key}\n").as_bytes());
    connect.wait().ok();
    let files = scan_files(&cli.data_dir, &needles);
    let db = file(&files, "switchboard.db").expect("the database exists");
    // A closing process leaves its commits in the WAL (the next one checkpoints them).
    let wal = file(&files, "switchboard.db-wal").unwrap_or_default();
    assert!(
        contains_bytes(db, NAME.as_bytes()) || contains_bytes(wal, NAME.as_bytes()),
        "sanity: the connection name is found in switchboard.db or its WAL"
    );

    // 2. Hold the database open from here so closing commands cannot checkpoint and delete the
    //    WAL: what the next commands write stays there to be scanned.
    let holder = rusqlite::Connection::open(cli.db_path()).expect("open the database");
    let _: i64 = holder
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .expect("read the database");

    // A second connection, key from STRIPE_API_KEY this time.
    cli.cmd(&["connect", "stripe", "--name", SECOND, "--api-base", &base])
        .env("STRIPE_API_KEY", &key)
        .run()
        .ok();
    let files = scan_files(&cli.data_dir, &needles);
    let wal = file(&files, "switchboard.db-wal").expect("the WAL is kept while the db is open");
    assert!(
        contains_bytes(wal, SECOND.as_bytes()),
        "sanity: the new connection's row is in the WAL ({} bytes)",
        wal.len()
    );
    assert!(file(&files, "switchboard.db-shm").is_some());

    // 3. Sync, scanning command lines and the data dir until it exits.
    let mut sync = cli.cmd(&["sync", "run"]).spawn();
    let pid = sync.id();
    let (mut scans, mut file_scans, mut seen) = (0, 0, false);
    let mut last_file_scan = Instant::now();
    while sync.is_running() {
        seen |= scan_cmdlines(&needles, pid, b"sync\0run");
        // The files are larger: four times a second is enough to catch the WAL mid-sync.
        if last_file_scan.elapsed() > Duration::from_millis(250) {
            scan_files(&cli.data_dir, &needles);
            file_scans += 1;
            last_file_scan = Instant::now();
        }
        scans += 1;
    }
    let synced = sync.wait();
    synced.ok();
    assert!(
        seen,
        "the sync process was seen in /proc during {scans} scans"
    );
    eprintln!("{scans} scans of /proc and {file_scans} of the data dir during the sync");
    let files = scan_files(&cli.data_dir, &needles);
    let wal = file(&files, "switchboard.db-wal").expect("the WAL is still there");
    assert!(!wal.is_empty());

    // 4. More commands whose output is scanned below.
    let listed = cli.cmd(&["payments", "list", "--json"]).run();
    listed.ok();
    assert_eq!(listed.stdout_lines().len(), 2 * CHARGES, "both connections");
    cli.cmd(&["payments", "list", "--limit", "10"]).run().ok();
    cli.cmd(&["connections", "list", "--json"]).run().ok();
    cli.cmd(&["connections", "list"]).run().ok();
    cli.cmd(&["sync", "run", "--json", "--connection", NAME])
        .run()
        .ok();
    let files = scan_files(&cli.data_dir, &needles);
    assert!(file(&files, "switchboard.db-wal").is_some());

    // 5. Close the last connection (checkpoint) and scan the final files.
    drop(holder);
    let files = scan_files(&cli.data_dir, &needles);
    let db = file(&files, "switchboard.db").expect("the database");
    assert!(contains_bytes(db, NAME.as_bytes()) && contains_bytes(db, SECOND.as_bytes()));

    // 6. Every output of every command: results, progress, errors and debug logs.
    let transcript = cli.transcript();
    assert!(transcript.len() >= 8, "{} commands", transcript.len());
    for run in &transcript {
        for (stream, bytes) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if let Some(what) = leak_in_text(bytes, &needles) {
                panic!("the {what} is in the {stream} of\n{}", run.describe());
            }
        }
    }
    let sync_log = strip_ansi(&synced.stderr);
    assert!(
        contains_bytes(&sync_log, b"DEBUG"),
        "sanity: SWITCHBOARD_LOG=debug produced debug logs\n{}",
        synced.describe()
    );

    // 7. The sandbox's own output, apart from the ready line.
    let out = sandbox.stop();
    assert!(
        out.stdout_after_ready.is_empty(),
        "the sandbox prints exactly one line on stdout"
    );
    if let Some(what) = leak_in_text(&out.stdout_after_ready, &needles) {
        panic!("the {what} is in the sandbox's stdout after its ready line");
    }
    if let Some(what) = leak_in_text(&out.stderr, &needles) {
        panic!(
            "the {what} is in the sandbox's log:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        contains_bytes(&strip_ansi(&out.stderr), b"DEBUG"),
        "sanity: the sandbox logged at debug level"
    );
}
