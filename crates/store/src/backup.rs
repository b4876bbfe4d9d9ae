//! Backups of a workspace database: consistent online snapshots (SQLite's backup API), their
//! verification (`integrity_check`, a row count per table, a checksum of the file) and restore.
//!
//! A backup is two files in the backup folder: `switchboard-<id>.db` (a standalone SQLite file,
//! rollback-journal mode, so nothing else need travel with it) and `switchboard-<id>.json` (its
//! [`Manifest`]). The id is `YYYYMMDDTHHMMSSZ-xxxxxx`: the UTC creation time, then six random hex
//! digits, so ids sort by time (to the second) and two backups in one second do not collide. Files appear
//! whole or not at all: each is written to a `.tmp` name, synced, then renamed.
//!
//! Secrets stay sealed in a backup exactly as in the live database; the master key is not in it.

pub mod retention;

use crate::{StoreError, migrations, workspace};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Version of the manifest format.
pub const MANIFEST_FORMAT: u32 = 1;
const PREFIX: &str = "switchboard-";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("no backup {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError::Store(StoreError::Sqlite(e))
    }
}

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.display().to_string();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

/// Why a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// Asked for (`backup create`, "Back up now"). Subject to the retention rule.
    Manual,
    /// The database as it was just before a restore replaced it. Never deleted automatically.
    PreRestore,
}

/// The JSON file beside each backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    pub kind: BackupKind,
    pub workspace_uuid: Option<String>,
    pub schema_version: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub size_bytes: u64,
    /// BLAKE2b-256 of the `.db` file, hex.
    pub checksum: String,
    /// Rows per table when the backup was made.
    pub counts: BTreeMap<String, i64>,
    /// The last verification: when, and what it found (`None` = no problem).
    pub verified_at: Option<String>,
    pub problem: Option<String>,
}

/// A backup found in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub manifest: Manifest,
    pub db_path: PathBuf,
    pub manifest_path: PathBuf,
}

/// What a check of a database file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `["ok"]` when healthy, else SQLite's first problems (or why the file could not be read).
    pub integrity: Vec<String>,
    pub counts: BTreeMap<String, i64>,
    pub schema_version: i64,
    pub workspace: Option<workspace::WorkspaceRow>,
}

impl Summary {
    pub fn is_ok(&self) -> bool {
        self.integrity.len() == 1 && self.integrity[0] == "ok"
    }

    pub fn workspace_uuid(&self) -> Option<String> {
        self.workspace.as_ref().map(|w| w.uuid.clone())
    }
}

/// A new backup id for `now`.
pub fn new_id(now: chrono::DateTime<chrono::Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &random[..6])
}

/// Whether `id` has the shape of a backup id (so it can never name a path elsewhere).
pub fn is_valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 23
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

pub fn db_path(folder: &Path, id: &str) -> PathBuf {
    folder.join(format!("{PREFIX}{id}.db"))
}

pub fn manifest_path(folder: &Path, id: &str) -> PathBuf {
    folder.join(format!("{PREFIX}{id}.json"))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `dest` atomically: `fill` writes a temporary name beside it, which is synced and
/// renamed over `dest` (then the folder is synced), so `dest` is never half-written; the
/// temporary file is removed if anything fails.
fn write_atomically(dest: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temp_path(dest);
    let _ = std::fs::remove_file(&tmp);
    let result = fill(&tmp).and_then(|()| {
        sync_file(&tmp)?;
        std::fs::rename(&tmp, dest).map_err(io("cannot rename", &tmp))?;
        sync_parent(dest);
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Runs a backup to the end in one step: every page under one read transaction of the source,
/// so the copy is one consistent snapshot even while other connections (the CLI, the app) keep
/// writing in WAL mode. Busy locks wait through the connections' busy timeout.
fn run(backup: &Backup<'_, '_>) -> Result<()> {
    match backup.step(-1)? {
        StepResult::Done => Ok(()),
        _ => Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("the database stayed locked during the backup".into()),
        ))
        .into()),
    }
}

/// Writes a consistent snapshot of `src`'s main database to `dest` (a temporary name first,
/// then an atomic rename, so `dest` is never half-written). The copy is a standalone file in
/// rollback-journal mode.
pub fn snapshot(src: &Connection, dest: &Path) -> Result<()> {
    write_atomically(dest, |tmp| {
        let mut out = Connection::open(tmp)?;
        run(&Backup::new(src, &mut out)?)?;
        out.pragma_update(None, "journal_mode", "DELETE")?;
        out.close().map_err(|(_, e)| e)?;
        Ok(())
    })
}

/// Checks a database file without changing it: `PRAGMA integrity_check`, rows per table, schema
/// version and workspace row. A file SQLite cannot read at all is reported as a problem, not an
/// error.
pub fn inspect(path: &Path) -> Result<Summary> {
    if !path.is_file() {
        return Err(BackupError::NotFound(path.display().to_string()));
    }
    let failed = |e: rusqlite::Error| Summary {
        integrity: vec![format!("unreadable: {e}")],
        counts: BTreeMap::new(),
        schema_version: 0,
        workspace: None,
    };
    let conn = match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(conn) => conn,
        Err(e) => return Ok(failed(e)),
    };
    Ok(summarize(&conn).unwrap_or_else(failed))
}

fn summarize(conn: &Connection) -> rusqlite::Result<Summary> {
    let integrity = conn
        .prepare("PRAGMA integrity_check(20)")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let counts = table_counts(conn)?;
    let schema_version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let workspace = if counts.contains_key("workspace") {
        workspace::get(conn).map_err(|e| match e {
            StoreError::Sqlite(e) => e,
            other => rusqlite::Error::InvalidParameterName(other.to_string()),
        })?
    } else {
        None
    };
    Ok(Summary {
        integrity,
        counts,
        schema_version,
        workspace,
    })
}

/// Rows in every table of the database (SQLite's own tables excepted).
pub fn table_counts(conn: &Connection) -> rusqlite::Result<BTreeMap<String, i64>> {
    let tables = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut counts = BTreeMap::new();
    for table in tables {
        let quoted = table.replace('"', "\"\"");
        let n = conn.query_row(&format!("SELECT COUNT(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?;
        counts.insert(table, n);
    }
    Ok(counts)
}

/// Copies the verified backup at `src` over the live database behind `live`, through SQLite.
///
/// Why the backup API in reverse on the live connection, not a file copy or a close/reopen:
/// the app and the CLI may both have the workspace open, in WAL mode. Replacing the file under
/// them would leave their connections on the old inode with a WAL that no longer matches it
/// (lost or corrupt data), and even opening and closing the live file with ordinary file calls
/// in this process would drop SQLite's POSIX locks on it. Written through SQLite instead, the
/// restore is one write transaction: it waits for other writers (busy timeout), other
/// connections see the restored content atomically at their next transaction, and pages that
/// were damaged are simply overwritten (only page 1 must still be readable). Afterwards the
/// migrations run (the backup may predate some) and the WAL is checkpointed into the file.
pub fn restore_into(live: &mut Connection, src: &Path) -> Result<()> {
    let source = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let found: i64 = source.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > migrations::LATEST {
        return Err(StoreError::TooNew {
            found,
            supported: migrations::LATEST,
        }
        .into());
    }
    run(&Backup::new(&source, live)?)?;
    drop(source);
    migrations::run(live)?;
    // Best effort: a reader elsewhere may keep part of the WAL alive; it is checkpointed later.
    let _ = live.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    Ok(())
}

/// Places the backup at `src` as the database file `dest` when no connection has it open (a
/// new machine, or a workspace that cannot be opened): a copy to a temporary name, synced, then
/// renamed over `dest`; stale `-wal`/`-shm` files of an old `dest` are removed first, so they
/// can never be replayed onto the restored file.
pub fn place(src: &Path, dest: &Path) -> Result<()> {
    write_atomically(dest, |tmp| {
        std::fs::copy(src, tmp).map_err(io("cannot copy the backup to", tmp))?;
        for suffix in ["-wal", "-shm"] {
            let mut side = dest.as_os_str().to_os_string();
            side.push(suffix);
            match std::fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("cannot remove", Path::new(&side))(e)),
            }
        }
        Ok(())
    })
}

/// BLAKE2b-256 of a file, hex.
pub fn checksum(path: &Path) -> Result<String> {
    use blake2::Digest;
    let mut file = std::fs::File::open(path).map_err(io("cannot read", path))?;
    let mut hasher = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io("cannot read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes `manifest` beside its backup (atomically).
pub fn write_manifest(folder: &Path, manifest: &Manifest) -> Result<PathBuf> {
    let path = manifest_path(folder, &manifest.id);
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| BackupError::Invalid(format!("cannot encode the manifest: {e}")))?;
    write_atomically(&path, |tmp| {
        std::fs::write(tmp, text).map_err(io("cannot write", tmp))
    })?;
    Ok(path)
}

/// Every backup in `folder` (a manifest with its `.db` beside it), newest first. A missing
/// folder has none. Unreadable manifests are skipped (and logged).
pub fn list(folder: &Path) -> Result<Vec<Entry>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("cannot list", folder)(e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix(PREFIX)
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if !is_valid_id(id) {
            continue;
        }
        match read_entry(folder, id) {
            Ok(entry) => out.push(entry),
            Err(e) => tracing::warn!(id, "skipping a backup: {e}"),
        }
    }
    // Newest first: by creation time (to the millisecond; ids only tell the second), then id.
    out.sort_by(|a, b| {
        (&b.manifest.created_at, &b.manifest.id).cmp(&(&a.manifest.created_at, &a.manifest.id))
    });
    Ok(out)
}

/// The backup `id` in `folder`.
pub fn find(folder: &Path, id: &str) -> Result<Entry> {
    if !is_valid_id(id) || !manifest_path(folder, id).is_file() {
        return Err(BackupError::NotFound(id.to_string()));
    }
    read_entry(folder, id)
}

fn read_entry(folder: &Path, id: &str) -> Result<Entry> {
    let manifest_path = manifest_path(folder, id);
    let text =
        std::fs::read_to_string(&manifest_path).map_err(io("cannot read", &manifest_path))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        BackupError::Invalid(format!(
            "{} is not a backup manifest: {e}",
            manifest_path.display()
        ))
    })?;
    if manifest.id != id {
        return Err(BackupError::Invalid(format!(
            "{} names another backup ({})",
            manifest_path.display(),
            manifest.id
        )));
    }
    let db_path = db_path(folder, id);
    if !db_path.is_file() {
        return Err(BackupError::NotFound(format!(
            "{id} (its .db file is missing)"
        )));
    }
    Ok(Entry {
        manifest,
        db_path,
        manifest_path,
    })
}

/// Deletes a backup: the database first, so a half-deleted backup is never listed.
pub fn delete(entry: &Entry) -> Result<()> {
    std::fs::remove_file(&entry.db_path).map_err(io("cannot delete", &entry.db_path))?;
    std::fs::remove_file(&entry.manifest_path).map_err(io("cannot delete", &entry.manifest_path))
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot flush", path))
}

/// Makes a rename durable (best effort: not every platform can open a folder).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store_with_rows(dir: &Path) -> Store {
        let store = Store::open_folder(dir).unwrap();
        {
            let conn = store.conn();
            crate::workspace::insert(
                &conn,
                &crate::workspace::WorkspaceRow {
                    uuid: "ws-1".into(),
                    kind: "real".into(),
                    key_check_nonce: vec![1; 24],
                    key_check: vec![2; 40],
                },
            )
            .unwrap();
            crate::settings::set(&conn, "a", "1").unwrap();
            crate::settings::set(&conn, "b", "2").unwrap();
        }
        store
    }

    #[test]
    fn ids_sort_by_time_and_reject_paths() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let id = new_id(t);
        assert!(id.starts_with("20250301T120000Z-"), "{id}");
        assert!(is_valid_id(&id));
        assert_ne!(new_id(t), id);
        for bad in [
            "",
            "../x",
            "20250301T120000Z-ABCDEF",
            "20250301T120000Z-abcde/",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn snapshot_is_a_standalone_healthy_copy() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let dest = dir.path().join("copy.db");
        snapshot(&store.conn(), &dest).unwrap();
        assert!(!temp_path(&dest).exists());
        let summary = inspect(&dest).unwrap();
        assert!(summary.is_ok(), "{:?}", summary.integrity);
        assert_eq!(summary.counts["settings"], 2);
        assert_eq!(summary.counts["workspace"], 1);
        assert_eq!(summary.schema_version, migrations::LATEST);
        assert_eq!(summary.workspace_uuid().as_deref(), Some("ws-1"));
        let mode: String = Connection::open(&dest)
            .unwrap()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }

    #[test]
    fn inspect_reports_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let dest = dir.path().join("copy.db");
        snapshot(&store.conn(), &dest).unwrap();
        let mut bytes = std::fs::read(&dest).unwrap();
        // Wreck every page but the first (the header and schema page).
        for b in &mut bytes[4096..] {
            *b = 0xEE;
        }
        std::fs::write(&dest, &bytes).unwrap();
        let summary = inspect(&dest).unwrap();
        assert!(!summary.is_ok(), "{summary:?}");
        std::fs::write(&dest, b"not a database at all, just text").unwrap();
        assert!(!inspect(&dest).unwrap().is_ok());
        assert!(matches!(
            inspect(&dir.path().join("missing.db")),
            Err(BackupError::NotFound(_))
        ));
    }

    #[test]
    fn restore_into_replaces_the_live_content_and_keeps_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let dest = dir.path().join("copy.db");
        snapshot(&store.conn(), &dest).unwrap();
        {
            let conn = store.conn();
            crate::settings::set(&conn, "a", "changed").unwrap();
            crate::settings::set(&conn, "c", "3").unwrap();
        }
        restore_into(&mut store.conn(), &dest).unwrap();
        let conn = store.conn();
        assert_eq!(
            crate::settings::get(&conn, "a").unwrap().as_deref(),
            Some("1")
        );
        assert_eq!(crate::settings::get(&conn, "c").unwrap(), None);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // A second connection (another process, in real life) sees the restored content.
        let other = Store::open_folder(&dir.path().join("ws")).unwrap();
        assert_eq!(
            crate::settings::get(&other.conn(), "a").unwrap().as_deref(),
            Some("1")
        );
    }

    #[test]
    fn restore_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let dest = dir.path().join("copy.db");
        snapshot(&store.conn(), &dest).unwrap();
        Connection::open(&dest)
            .unwrap()
            .pragma_update(None, "user_version", migrations::LATEST + 1)
            .unwrap();
        let err = restore_into(&mut store.conn(), &dest).unwrap_err();
        assert!(
            matches!(err, BackupError::Store(StoreError::TooNew { .. })),
            "{err}"
        );
        assert_eq!(
            crate::settings::get(&store.conn(), "a").unwrap().as_deref(),
            Some("1")
        );
    }

    #[test]
    fn manifests_list_newest_first_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let folder = dir.path().join("backups");
        std::fs::create_dir_all(&folder).unwrap();
        let mut ids = Vec::new();
        for (i, time) in ["2025-03-01T12:00:00Z", "2025-03-02T12:00:00Z"]
            .iter()
            .enumerate()
        {
            let id = new_id(chrono::DateTime::parse_from_rfc3339(time).unwrap().to_utc());
            let db = db_path(&folder, &id);
            snapshot(&store.conn(), &db).unwrap();
            write_manifest(
                &folder,
                &Manifest {
                    format: MANIFEST_FORMAT,
                    id: id.clone(),
                    kind: if i == 0 {
                        BackupKind::PreRestore
                    } else {
                        BackupKind::Manual
                    },
                    workspace_uuid: Some("ws-1".into()),
                    schema_version: migrations::LATEST,
                    created_at: time.to_string(),
                    size_bytes: std::fs::metadata(&db).unwrap().len(),
                    checksum: checksum(&db).unwrap(),
                    counts: BTreeMap::new(),
                    verified_at: None,
                    problem: None,
                },
            )
            .unwrap();
            ids.push(id);
        }
        // Noise that is not a backup.
        std::fs::write(folder.join("notes.json"), "{}").unwrap();
        std::fs::write(folder.join("switchboard-zzz.json"), "{}").unwrap();
        let listed = list(&folder).unwrap();
        let listed_ids: Vec<_> = listed.iter().map(|e| e.manifest.id.clone()).collect();
        assert_eq!(listed_ids, vec![ids[1].clone(), ids[0].clone()]);
        assert_eq!(listed[1].manifest.kind, BackupKind::PreRestore);
        assert_eq!(find(&folder, &ids[0]).unwrap().manifest.id, ids[0]);
        assert!(matches!(
            find(&folder, "../../etc"),
            Err(BackupError::NotFound(_))
        ));
        delete(&listed[0]).unwrap();
        assert_eq!(list(&folder).unwrap().len(), 1);
        assert!(list(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn checksum_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"hello").unwrap();
        let first = checksum(&a).unwrap();
        assert_eq!(first.len(), 64);
        std::fs::write(&a, b"hellp").unwrap();
        assert_ne!(checksum(&a).unwrap(), first);
    }

    #[test]
    fn place_copies_over_and_drops_stale_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_rows(&dir.path().join("ws"));
        let backup = dir.path().join("copy.db");
        snapshot(&store.conn(), &backup).unwrap();
        drop(store);
        let target = dir.path().join("new").join("switchboard.db");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, b"junk").unwrap();
        let wal = target.with_file_name("switchboard.db-wal");
        std::fs::write(&wal, b"stale wal").unwrap();
        place(&backup, &target).unwrap();
        assert!(!wal.exists());
        let reopened = Store::open(&target).unwrap();
        assert_eq!(
            crate::settings::get(&reopened.conn(), "b")
                .unwrap()
                .as_deref(),
            Some("2")
        );
    }
}
