//! Backups end to end through `Workspace`: back up, damage the live database, restore, and
//! find every payment as it was, with the damaged database kept as a safety backup.

mod common;

use std::path::Path;
use std::process::Command;
use switchboard_app::Workspace;
use switchboard_store::rusqlite::Connection;

/// `PRAGMA integrity_check` of the file, through a connection of its own. (Opening the file
/// through SQLite is safe while the workspace has it open; plain file calls in this process
/// would drop SQLite's locks.)
fn integrity(db: &Path) -> String {
    let conn = Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .unwrap_or_else(|e| format!("unreadable: {e}"))
}

fn checkpoint(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

/// Zeroes every page of `tables` (their b-trees, as SQLite's `dbstat` lists them), from
/// another process: deterministic damage to the rows that matter (zeroing a stretch of the file
/// could hit only free pages) and to the rows a restore itself reads (workspace, settings).
fn wreck_tables(db: &Path, tables: &[&str]) {
    let (page_size, pages): (i64, Vec<i64>) = {
        let conn = Connection::open(db).unwrap();
        let page_size = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        let list = tables
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(",");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT pageno FROM dbstat WHERE name IN ({list}) ORDER BY pageno"
            ))
            .unwrap();
        let pages = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (page_size, pages)
    };
    assert!(!pages.is_empty(), "no pages for {tables:?}");
    for page in pages {
        let status = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", db.display()))
            .arg(format!("bs={page_size}"))
            .args(["count=1", "conv=notrunc", "status=none"])
            .arg(format!("seek={}", page - 1))
            .status()
            .expect("run dd");
        assert!(status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_corrupt_then_restore_keeps_every_payment() {
    let f = common::fixture(400).await;
    f.sync().await;
    let before = f.all_payments().await;
    assert_eq!(before.len(), 400);
    let db = f.dir.path().join("switchboard.db");

    let backup = f.workspace.create_backup(None).await.unwrap();
    assert_eq!(backup.kind, "manual");
    assert_eq!(backup.verified_ok, Some(true));
    assert!(backup.this_workspace);
    let payments = backup
        .counts
        .iter()
        .find(|c| c.table == "payments")
        .unwrap();
    assert_eq!(payments.rows, 400);
    assert!(
        Path::new(&backup.path).starts_with(f.dir.path().join("backups")),
        "{}",
        backup.path
    );
    let verification = f.workspace.verify_backup(None, None).await.unwrap();
    assert!(verification.ok, "{:?}", verification.problems);
    assert_eq!(verification.backup.id, backup.id);

    // Damage the live database while the workspace has it open.
    checkpoint(&db);
    wreck_tables(&db, &["payments", "workspace", "settings", "sync_runs"]);
    assert_ne!(
        integrity(&db),
        "ok",
        "the live database should now be damaged"
    );

    let restored = f
        .workspace
        .restore_backup(&backup.id, None, None)
        .await
        .unwrap();
    assert_eq!(restored.restored.id, backup.id);
    assert_eq!(integrity(&db), "ok");
    assert_eq!(f.all_payments().await, before);
    let count = restored
        .counts
        .iter()
        .find(|c| c.table == "payments")
        .unwrap();
    assert_eq!(count.rows, 400);

    // The damaged database was kept, as a pre-restore backup that says it is damaged.
    let safety = restored.safety_backup.expect("a safety backup");
    assert_eq!(safety.kind, "pre_restore");
    assert!(Path::new(&safety.path).is_file());
    let listed = f.workspace.list_backups(None).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, vec![safety.id.as_str(), backup.id.as_str()]);

    // A new sync after the restore finds nothing new and stores no duplicates.
    let runs = f.sync().await;
    assert!(runs.iter().all(|r| r.inserted == 0), "{runs:?}");
    assert_eq!(f.all_payments().await.len(), 400);

    // A fresh open of the restored workspace works and agrees.
    let reopened = Workspace::open_real(f.dir.path()).await.unwrap();
    assert_eq!(reopened.list_connections().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_no_longer_opens_is_moved_aside_and_replaced() {
    let common::Fixture {
        sandbox,
        workspace,
        dir,
    } = common::fixture(120).await;
    workspace
        .sync(Some("Main"), switchboard_app::Trigger::Manual, &|_| {})
        .await
        .unwrap();
    let backup = workspace.create_backup(None).await.unwrap();
    let before = workspace.list_connections().await.unwrap();
    drop(workspace);
    drop(sandbox);

    // Wreck the header: SQLite no longer recognises the file. (The workspace leaves its WAL
    // behind on close; copied into the file first, so no newer page 1 masks the damage.)
    let db = dir.path().join("switchboard.db");
    checkpoint(&db);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..100].fill(0x5A);
    std::fs::write(&db, &bytes).unwrap();
    let err = Workspace::open_real(dir.path()).await.err().unwrap();
    assert_eq!(err.code, switchboard_app::ErrorCode::Storage, "{err:?}");

    let restored = switchboard_app::restore_backup_offline(
        dir.path(),
        &dir.path().join("backups"),
        &backup.id,
        None,
    )
    .await
    .unwrap();
    let moved = restored.moved_aside.expect("the damaged file is kept");
    assert_eq!(std::fs::read(&moved).unwrap(), bytes);
    let reopened = Workspace::open_real(dir.path()).await.unwrap();
    let after = reopened.list_connections().await.unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after[0].payment_count, 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_changed_is_refused_and_nothing_is_touched() {
    let f = common::fixture(50).await;
    f.sync().await;
    let backup = f.workspace.create_backup(None).await.unwrap();
    // Flip one byte deep in the file (it still passes SQLite's structure checks or not; the
    // checksum catches it either way).
    let mut bytes = std::fs::read(&backup.path).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    std::fs::write(&backup.path, &bytes).unwrap();
    let v = f
        .workspace
        .verify_backup(Some(&backup.id), None)
        .await
        .unwrap();
    assert!(!v.ok);
    assert!(!v.checksum_ok);
    let listed = f.workspace.list_backups(None).await.unwrap();
    assert_eq!(listed[0].verified_ok, Some(false));
    let err = f
        .workspace
        .restore_backup(&backup.id, None, None)
        .await
        .unwrap_err();
    assert!(err.message.contains("failed verification"), "{err:?}");
    // No safety backup was made: nothing happened.
    assert_eq!(f.workspace.list_backups(None).await.unwrap().len(), 1);
    assert_eq!(f.all_payments().await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_folder_setting_is_kept_and_survives_a_restore() {
    let f = common::fixture(10).await;
    let settings = f.workspace.backup_settings().await.unwrap();
    assert!(settings.is_default);
    assert_eq!(
        Path::new(&settings.folder),
        f.dir.path().join("backups").as_path()
    );
    let old = f.workspace.create_backup(None).await.unwrap();
    let chosen = f.dir.path().join("synced").join("Switchboard");
    let err = f
        .workspace
        .set_backup_folder(Some("relative/path"))
        .await
        .unwrap_err();
    assert_eq!(err.code, switchboard_app::ErrorCode::InvalidInput);
    let settings = f
        .workspace
        .set_backup_folder(Some(chosen.to_str().unwrap()))
        .await
        .unwrap();
    assert!(!settings.is_default);
    let made = f.workspace.create_backup(None).await.unwrap();
    assert!(Path::new(&made.path).starts_with(&chosen));
    // Restoring the old backup (made before the folder was chosen) keeps the chosen folder.
    f.workspace
        .restore_backup(&old.id, Some(&f.dir.path().join("backups")), None)
        .await
        .unwrap();
    let settings = f.workspace.backup_settings().await.unwrap();
    assert_eq!(Path::new(&settings.folder), chosen.as_path());
    let back = f.workspace.set_backup_folder(None).await.unwrap();
    assert!(back.is_default);
}
