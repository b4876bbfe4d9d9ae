//! `switchboard backup …` through the real binary: back up, damage the live database, restore
//! with the data intact and the damaged database kept; then restore on a "new machine" (another
//! data dir, no master key in the environment) with the exported key file and its passphrase.

mod common;

use common::{Cli, MASTER_KEY, Sandbox, WRONG_MASTER_KEY, contains_bytes};
use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery staple";

fn payments(cli: &Cli) -> Vec<Value> {
    cli.cmd(&["payments", "list", "--json"])
        .run()
        .ok()
        .json_lines()
}

fn single(run: &common::Run) -> Value {
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.describe());
    lines.into_iter().next().unwrap()
}

fn error_code(run: &common::Run) -> String {
    let err: Value = serde_json::from_str(run.stderr().trim())
        .unwrap_or_else(|e| panic!("one JSON error expected ({e})\n{}", run.describe()));
    err["code"].as_str().unwrap().to_string()
}

/// Zeroes every page of `tables` (their b-trees, as SQLite's `dbstat` lists them) in a database
/// file no process has open: deterministic damage to the rows that matter (zeroing a stretch of
/// the file could hit only free pages) and to the rows a restore itself reads.
fn wreck_tables(db: &std::path::Path, tables: &[&str]) {
    let (page_size, pages): (i64, Vec<i64>) = {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let page_size = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        let list = tables
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(",");
        let mut stmt = conn
            .prepare(&format!("SELECT pageno FROM dbstat WHERE name IN ({list})"))
            .unwrap();
        let pages = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (page_size, pages)
    };
    assert!(!pages.is_empty(), "no pages for {tables:?}");
    let mut bytes = std::fs::read(db).unwrap();
    let page_size = page_size as usize;
    for page in pages.into_iter().map(|p| p as usize) {
        bytes[(page - 1) * page_size..page * page_size].fill(0);
    }
    std::fs::write(db, &bytes).unwrap();
}

#[test]
fn backup_corrupt_restore_and_restore_on_a_new_machine() {
    let sandbox = Sandbox::start(300, 7);
    let cli = Cli::new();
    // Nothing to back up before there is a workspace; listing is empty and creates nothing.
    cli.cmd(&["backup", "create"]).run().expect_code(1);
    cli.cmd(&["backup", "list"]).run().ok();
    assert!(!cli.db_path().exists());

    cli.connect_stripe(&sandbox, "Main").ok();
    cli.cmd(&["sync", "run"]).run().ok();
    let before = payments(&cli);
    assert_eq!(before.len(), 300);

    let created = single(cli.cmd(&["backup", "create", "--json"]).run().ok());
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["verified_ok"], true);
    assert_eq!(created["kind"], "manual");
    let backups_dir = cli.data_dir.join("backups");
    assert!(
        created["path"]
            .as_str()
            .unwrap()
            .starts_with(backups_dir.to_str().unwrap()),
        "{created}"
    );
    let listed = cli
        .cmd(&["backup", "list", "--json"])
        .run()
        .ok()
        .json_lines();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    let verified = single(cli.cmd(&["backup", "verify", "--json"]).run().ok());
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["integrity"], "ok");
    assert_eq!(verified["backup"]["id"], id.as_str());
    let human = cli.cmd(&["backup", "list"]).run().ok().stdout();
    assert!(
        human.contains(&id) && human.contains("300 payments"),
        "{human}"
    );

    // The master key, sealed with a passphrase given in the environment.
    let key_file = cli.root.path().join("master-key.json");
    let exported = cli
        .cmd(&[
            "backup",
            "export-key",
            "--to",
            key_file.to_str().unwrap(),
            "--json",
        ])
        .env("SWITCHBOARD_KEY_PASSPHRASE", PASSPHRASE)
        .run();
    assert_eq!(single(exported.ok())["path"], key_file.to_str().unwrap());
    let key_text = std::fs::read(&key_file).unwrap();
    assert!(!contains_bytes(&key_text, MASTER_KEY.as_bytes()));
    assert!(!contains_bytes(&key_text, PASSPHRASE.as_bytes()));

    // Damage the live database (no process has it open now).
    wreck_tables(&cli.db_path(), &["payments", "settings"]);
    let damaged = cli.cmd(&["backup", "create", "--json"]).run();
    damaged.expect_code(1);
    assert!(
        damaged.stderr().contains("integrity"),
        "{}",
        damaged.describe()
    );

    // Restoring needs a confirmation; without a terminal, --yes.
    let unconfirmed = cli.cmd(&["backup", "restore", &id]).run();
    unconfirmed.expect_code(1);
    assert!(
        unconfirmed.stderr().contains("--yes"),
        "{}",
        unconfirmed.describe()
    );

    let restored = single(
        cli.cmd(&["backup", "restore", &id, "--yes", "--json"])
            .run()
            .ok(),
    );
    assert_eq!(restored["restored"]["id"], id.as_str());
    let safety = &restored["safety_backup"];
    assert_eq!(safety["kind"], "pre_restore");
    assert!(std::path::Path::new(safety["path"].as_str().unwrap()).is_file());
    assert_eq!(payments(&cli), before);
    let listed = cli
        .cmd(&["backup", "list", "--json"])
        .run()
        .ok()
        .json_lines();
    assert_eq!(listed.len(), 2, "the backup and the safety backup");
    cli.cmd(&["sync", "run"]).run().ok();
    assert_eq!(payments(&cli).len(), 300);

    // A new machine: another data dir, no master key in the environment, no keyring.
    let machine = Cli::new();
    let from = backups_dir.to_str().unwrap();
    let there = machine
        .cmd(&["backup", "list", "--from", from, "--json"])
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .run()
        .ok()
        .json_lines();
    assert_eq!(there.len(), 2);
    assert!(there.iter().all(|b| b["this_workspace"] == false));
    let restore = |extra: &[&str]| {
        let mut args = vec!["backup", "restore", &id, "--from", from, "--yes", "--json"];
        args.extend_from_slice(extra);
        machine.cmd(&args).env_remove("SWITCHBOARD_MASTER_KEY")
    };
    let key = key_file.to_str().unwrap();

    let no_key = restore(&[]).run();
    no_key.expect_code(1);
    assert_eq!(error_code(&no_key), "secret_store");
    assert!(
        no_key.stderr().contains("--key-file"),
        "{}",
        no_key.describe()
    );

    let wrong_passphrase = restore(&["--key-file", key])
        .stdin("not the passphrase at all\n")
        .run();
    wrong_passphrase.expect_code(1);
    assert!(
        wrong_passphrase.stderr().contains("passphrase"),
        "{}",
        wrong_passphrase.describe()
    );

    // The right passphrase (on standard input), but this machine has nowhere to keep the key.
    let no_keyring = restore(&["--key-file", key])
        .stdin(format!("{PASSPHRASE}\n"))
        .run();
    no_keyring.expect_code(1);
    assert_eq!(error_code(&no_keyring), "secret_store");
    assert!(
        no_keyring.stderr().contains("keyring"),
        "{}",
        no_keyring.describe()
    );

    // An environment key that is not the key file's is refused.
    let conflicting = restore(&["--key-file", key])
        .env("SWITCHBOARD_MASTER_KEY", WRONG_MASTER_KEY)
        .env("SWITCHBOARD_KEY_PASSPHRASE", PASSPHRASE)
        .run();
    conflicting.expect_code(1);
    assert_eq!(error_code(&conflicting), "secret_store");
    assert!(
        !machine.db_path().exists(),
        "a refused restore places nothing"
    );

    // With the key where this machine keeps it (here the environment), the key file matches
    // and the backup is restored.
    let done = restore(&["--key-file", key])
        .env("SWITCHBOARD_MASTER_KEY", MASTER_KEY)
        .env("SWITCHBOARD_KEY_PASSPHRASE", PASSPHRASE)
        .run();
    let done = single(done.ok());
    assert!(done["safety_backup"].is_null());
    assert_eq!(payments(&machine), before);

    for run in cli.transcript().iter().chain(machine.transcript().iter()) {
        for stream in [&run.stdout, &run.stderr] {
            assert!(
                !contains_bytes(stream, PASSPHRASE.as_bytes()),
                "{}",
                run.describe()
            );
            assert!(
                !contains_bytes(stream, MASTER_KEY.as_bytes()),
                "{}",
                run.describe()
            );
        }
    }
}
