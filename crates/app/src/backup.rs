//! Backups of the workspace: create (online snapshot, verified, then the retention rule),
//! list, verify, restore (a safety backup of the current database first), the backup folder
//! setting, and the master key export that lets a backup be restored on another machine.
//! The file-level work lives in `switchboard_store::backup`; this is the policy around it.

use crate::locks::{self, FileLock};
use crate::workspace::Workspace;
use crate::{Result, errors};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{
    BackupSettingsView, BackupVerification, BackupView, KeyExportView, RestoreView, TableCount,
};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_secrets::export::{self as key_export, ImportedKey};
use switchboard_secrets::{MasterKey, Sealed, SecretsError};
use switchboard_store::backup::{self, BackupError, BackupKind, Entry, Manifest, retention};
use switchboard_store::{DB_FILE, Store, settings, sync_leases, sync_runs};

/// The retention rule in words (see `switchboard_store::backup::retention`).
pub const RETENTION: &str = "The newest backup of each of the last 7 days and of each of the last 4 weeks that have one; backups made before a restore are kept until you delete them.";

/// (connection id, stream name).
type Stream = (String, String);

/// An exported master key file and its passphrase (restoring on a new machine).
pub struct KeyFileInput {
    pub path: PathBuf,
    pub passphrase: SecretString,
}

fn backup_error(e: BackupError) -> CommandError {
    match e {
        BackupError::Store(e) => errors::store(e),
        BackupError::NotFound(what) => CommandError::new(
            ErrorCode::NotFound,
            format!("No backup {what}. `switchboard backup list` shows the backups there are."),
        ),
        BackupError::Invalid(msg) => CommandError::new(ErrorCode::InvalidInput, msg),
        e @ BackupError::Io { .. } => CommandError::new(ErrorCode::Storage, format!("{e}.")),
        other => CommandError::new(ErrorCode::Internal, other.to_string()),
    }
}

fn key_error(e: SecretsError) -> CommandError {
    match e {
        SecretsError::WeakPassphrase(_) | SecretsError::BadKeyFile(_) => {
            CommandError::new(ErrorCode::InvalidInput, e.to_string())
        }
        other => errors::secrets(other),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| errors::internal(format!("backup task failed: {e}")))?
}

fn counts_view(counts: &BTreeMap<String, i64>) -> Vec<TableCount> {
    counts
        .iter()
        .map(|(table, rows)| TableCount {
            table: table.clone(),
            rows: *rows,
        })
        .collect()
}

fn view(entry: &Entry, this_uuid: Option<&str>) -> BackupView {
    let m = &entry.manifest;
    BackupView {
        id: m.id.clone(),
        kind: match m.kind {
            BackupKind::Manual => "manual",
            BackupKind::PreRestore => "pre_restore",
        }
        .to_string(),
        created_at: m.created_at.clone(),
        path: entry.db_path.display().to_string(),
        size_bytes: m.size_bytes,
        workspace_uuid: m.workspace_uuid.clone(),
        this_workspace: this_uuid.is_some() && m.workspace_uuid.as_deref() == this_uuid,
        schema_version: m.schema_version,
        counts: counts_view(&m.counts),
        verified_at: m.verified_at.clone(),
        verified_ok: m.verified_at.as_ref().map(|_| m.problem.is_none()),
        problem: m.problem.clone(),
    }
}

/// The backups in `folder`, newest first; `this_uuid` marks those of the open workspace.
pub fn list_backups_in(folder: &Path, this_uuid: Option<&str>) -> Result<Vec<BackupView>> {
    Ok(backup::list(folder)
        .map_err(backup_error)?
        .iter()
        .map(|e| view(e, this_uuid))
        .collect())
}

/// `id`, or the newest backup when `None`.
fn find(folder: &Path, id: Option<&str>) -> Result<Entry> {
    match id {
        Some(id) => backup::find(folder, id).map_err(|e| match e {
            BackupError::NotFound(_) => CommandError::new(
                ErrorCode::NotFound,
                format!(
                    "No backup {id} in {}. `switchboard backup list` shows the backups there are.",
                    folder.display()
                ),
            ),
            other => backup_error(other),
        }),
        None => backup::list(folder)
            .map_err(backup_error)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                CommandError::new(
                    ErrorCode::NotFound,
                    format!(
                        "There are no backups in {} yet. Make one with `switchboard backup create`.",
                        folder.display()
                    ),
                )
            }),
    }
}

/// Checks a backup against itself (integrity) and against its manifest (checksum, counts), and
/// records the outcome in the manifest (best effort: the folder may be read-only).
fn verify_entry(
    folder: &Path,
    entry: &Entry,
    this_uuid: Option<&str>,
) -> Result<(BackupVerification, backup::Summary)> {
    let summary = backup::inspect(&entry.db_path).map_err(backup_error)?;
    let checksum = backup::checksum(&entry.db_path).map_err(backup_error)?;
    let m = &entry.manifest;
    let mut problems = Vec::new();
    if !summary.is_ok() {
        problems.push(format!(
            "SQLite's integrity check failed: {}",
            summary.integrity.join("; ")
        ));
    }
    let checksum_ok = checksum == m.checksum;
    if !checksum_ok {
        problems.push("The file changed since the backup was made (checksum differs).".into());
    }
    if summary.is_ok() {
        for (table, rows) in &m.counts {
            match summary.counts.get(table) {
                Some(now) if now == rows => {}
                Some(now) => problems.push(format!("{table}: {now} rows, {rows} when made")),
                None => problems.push(format!("{table}: missing, {rows} rows when made")),
            }
        }
        if summary.workspace_uuid() != m.workspace_uuid {
            problems.push("The workspace inside is not the one its manifest names.".into());
        }
    }
    let problem = (!problems.is_empty()).then(|| problems.join(" "));
    let mut updated = entry.clone();
    updated.manifest.verified_at = Some(switchboard_core::now_rfc3339());
    updated.manifest.problem = problem;
    if let Err(e) = backup::write_manifest(folder, &updated.manifest) {
        tracing::warn!(id = %m.id, "could not record the verification: {e}");
    }
    let verification = BackupVerification {
        backup: view(&updated, this_uuid),
        ok: problems.is_empty(),
        integrity: summary.integrity.join("; "),
        checksum_ok,
        counts: counts_view(&summary.counts),
        problems,
    };
    Ok((verification, summary))
}

/// Snapshots `store` into `folder` as a new backup of `kind`, verifies it, and writes its
/// manifest. A manual backup that fails verification is deleted and reported; a pre-restore
/// backup is kept whatever it holds (it is the only copy of the database being replaced).
fn create_in(store: &Store, folder: &Path, kind: BackupKind) -> Result<Entry> {
    std::fs::create_dir_all(folder).map_err(|e| {
        CommandError::new(
            ErrorCode::Storage,
            format!("Cannot create the backup folder {}: {e}", folder.display()),
        )
    })?;
    let now = chrono::Utc::now();
    let id = backup::new_id(now);
    let db_path = backup::db_path(folder, &id);
    backup::snapshot(&store.conn(), &db_path).map_err(backup_error)?;
    let summary = backup::inspect(&db_path).map_err(backup_error)?;
    let manifest = Manifest {
        format: backup::MANIFEST_FORMAT,
        id: id.clone(),
        kind,
        workspace_uuid: summary.workspace_uuid(),
        schema_version: summary.schema_version,
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        size_bytes: std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0),
        checksum: backup::checksum(&db_path).map_err(backup_error)?,
        counts: summary.counts.clone(),
        verified_at: Some(switchboard_core::now_rfc3339()),
        problem: (!summary.is_ok()).then(|| summary.integrity.join("; ")),
    };
    if kind == BackupKind::Manual && !summary.is_ok() {
        let _ = std::fs::remove_file(&db_path);
        return Err(CommandError::new(
            ErrorCode::Storage,
            format!(
                "The backup failed its integrity check, so it was not kept: {}. The live database may be damaged: restore a backup.",
                summary.integrity.join("; ")
            ),
        )
        .retryable(false));
    }
    let manifest_path = backup::write_manifest(folder, &manifest).map_err(backup_error)?;
    Ok(Entry {
        manifest,
        db_path,
        manifest_path,
    })
}

/// Deletes the manual backups of `uuid` in `folder` that the retention rule does not keep.
fn apply_retention(folder: &Path, uuid: Option<&str>) -> Result<usize> {
    let entries: Vec<Entry> = backup::list(folder)
        .map_err(backup_error)?
        .into_iter()
        .filter(|e| {
            e.manifest.kind == BackupKind::Manual && e.manifest.workspace_uuid.as_deref() == uuid
        })
        .collect();
    let times: Vec<(String, chrono::DateTime<chrono::Utc>)> = entries
        .iter()
        .filter_map(|e| {
            chrono::DateTime::parse_from_rfc3339(&e.manifest.created_at)
                .ok()
                .map(|t| (e.manifest.id.clone(), t.to_utc()))
        })
        .collect();
    let doomed: HashSet<String> = retention::to_delete(&times, retention::DEFAULT)
        .into_iter()
        .collect();
    let mut deleted = 0;
    for entry in entries.iter().filter(|e| doomed.contains(&e.manifest.id)) {
        match backup::delete(entry) {
            Ok(()) => deleted += 1,
            Err(e) => {
                tracing::warn!(id = %entry.manifest.id, "retention could not delete a backup: {e}")
            }
        }
    }
    Ok(deleted)
}

/// The master key that opens `backup`'s secrets, made available for later runs: the key file
/// (saved to the OS keyring unless `SWITCHBOARD_MASTER_KEY` already holds it), else the open
/// workspace's key, else what the environment or keyring hold for its workspace. Nothing is
/// changed when the key is missing or wrong.
fn key_for_backup(
    summary: &backup::Summary,
    current: Option<(&str, &MasterKey)>,
    key_file: Option<&KeyFileInput>,
) -> Result<()> {
    let row = summary.workspace.as_ref().ok_or_else(|| {
        errors::invalid(
            "That file is not a backup of a Switchboard workspace (it has no workspace record).",
        )
    })?;
    let check = Sealed {
        nonce: row.key_check_nonce.clone(),
        ciphertext: row.key_check.clone(),
    };
    let Some(input) = key_file else {
        if let Some((uuid, key)) = current
            && uuid == row.uuid
        {
            return key.verify(&check).map_err(errors::secrets);
        }
        let key = MasterKey::load(&row.uuid, false).map_err(|_| {
            CommandError::new(
                ErrorCode::SecretStore,
                "This backup's secrets are sealed with its workspace's master key, which this computer does not have. Give the exported master key file and its passphrase (`--key-file FILE`), or set SWITCHBOARD_MASTER_KEY.",
            )
        })?;
        return key.verify(&check).map_err(errors::secrets);
    };
    let text = std::fs::read_to_string(&input.path).map_err(|e| {
        errors::invalid(format!(
            "Cannot read the key file {}: {e}",
            input.path.display()
        ))
    })?;
    let ImportedKey {
        workspace_uuid,
        key,
    } = key_export::import(&text, &input.passphrase).map_err(key_error)?;
    if workspace_uuid != row.uuid {
        return Err(CommandError::new(
            ErrorCode::SecretStore,
            "That master key file belongs to another workspace than this backup.",
        ));
    }
    key.verify(&check).map_err(errors::secrets)?;
    if let Some(env) = MasterKey::from_env().map_err(errors::secrets)? {
        return if env.same_key(&key) {
            Ok(())
        } else {
            Err(CommandError::new(
                ErrorCode::SecretStore,
                "SWITCHBOARD_MASTER_KEY is set to another key than the key file's; unset it (or set it to the right key) and try again.",
            ))
        };
    }
    match MasterKey::load(&row.uuid, false) {
        Ok(existing) if existing.same_key(&key) => Ok(()),
        _ => key.save_to_keyring(&row.uuid).map_err(|e| {
            CommandError::new(
                ErrorCode::SecretStore,
                format!("{e}. The master key could not be saved, so nothing was restored. Unlock the OS keyring, or set SWITCHBOARD_MASTER_KEY (for servers)."),
            )
        }),
    }
}

/// Runs left `running` in a just-restored database belonged to no live process (every stream
/// lock is held by the restore, or free): mark them interrupted.
fn interrupt_restored_runs(
    store: &Store,
    workspace_folder: &Path,
    held: &HashSet<Stream>,
) -> Result<()> {
    let running = sync_leases::running_streams(&store.conn()).map_err(errors::store)?;
    for (connection_id, stream) in running {
        let ours = held.contains(&(connection_id.clone(), stream.clone()));
        let free = ours
            || locks::try_lock(workspace_folder, &connection_id, &stream)
                .ok()
                .flatten()
                .is_some();
        if free {
            sync_runs::mark_interrupted(&store.conn(), &connection_id, &stream)
                .map_err(errors::store)?;
        }
    }
    Ok(())
}

/// Takes the lock of every stream the workspace has synced, so no sync (here or in another
/// process) writes while the database is replaced; a sync running now is a `conflict`. The
/// streams come from the lock folder (every stream that ever synced here has its lock file),
/// not from the database: a restore must work when the database is damaged.
fn lock_all_streams(workspace_folder: &Path) -> Result<(Vec<FileLock>, HashSet<Stream>)> {
    let mut locks = Vec::new();
    let mut held = HashSet::new();
    for (connection_id, stream) in locks::stream_locks(workspace_folder)
        .map_err(|e| errors::internal(format!("cannot list the sync locks: {e}")))?
    {
        match locks::try_lock(workspace_folder, &connection_id, &stream) {
            Ok(Some(lock)) => {
                locks.push(lock);
                held.insert((connection_id, stream));
            }
            Ok(None) => {
                return Err(CommandError::new(
                    ErrorCode::Conflict,
                    "A sync is running. Wait for it to finish (or cancel it), then restore.",
                ));
            }
            Err(e) => {
                return Err(errors::internal(format!(
                    "cannot check the sync locks: {e}"
                )));
            }
        }
    }
    Ok((locks, held))
}

/// Restores a backup where no workspace can be opened: on a new machine (no database yet), or
/// over a database so damaged that it does not open (it is moved aside, renamed
/// `switchboard.db.before-restore-<time>`, with its `-wal`/`-shm`). A database that opens must
/// be restored through [`Workspace::restore_backup`] instead, which backs it up first.
pub async fn restore_backup_offline(
    workspace_folder: &Path,
    from: &Path,
    id: &str,
    key_file: Option<KeyFileInput>,
) -> Result<RestoreView> {
    let (workspace_folder, from, id) = (
        workspace_folder.to_path_buf(),
        from.to_path_buf(),
        id.to_string(),
    );
    blocking(move || {
        let entry = find(&from, Some(&id))?;
        let (verification, summary) = verify_entry(&from, &entry, None)?;
        if !verification.ok {
            return Err(failed_verification(&verification));
        }
        let live = workspace_folder.join(DB_FILE);
        if live.exists() && Store::open(&live).is_ok() {
            return Err(CommandError::new(
                ErrorCode::Conflict,
                "The workspace database opens: restore through it (it is backed up first).",
            ));
        }
        key_for_backup(&summary, None, key_file.as_ref())?;
        let mut moved_aside = None;
        if live.exists() {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            for suffix in ["", "-wal", "-shm"] {
                let from_path = workspace_folder.join(format!("{DB_FILE}{suffix}"));
                let to_path =
                    workspace_folder.join(format!("{DB_FILE}.before-restore-{stamp}{suffix}"));
                match std::fs::rename(&from_path, &to_path) {
                    Ok(()) if suffix.is_empty() => {
                        moved_aside = Some(to_path.display().to_string())
                    }
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(CommandError::new(
                            ErrorCode::Storage,
                            format!("Cannot move the damaged database aside: {e}"),
                        ));
                    }
                }
            }
        }
        std::fs::create_dir_all(&workspace_folder).map_err(|e| {
            CommandError::new(
                ErrorCode::Storage,
                format!("Cannot create {}: {e}", workspace_folder.display()),
            )
        })?;
        backup::place(&entry.db_path, &live).map_err(backup_error)?;
        let store = Store::open(&live).map_err(errors::store)?;
        interrupt_restored_runs(&store, &workspace_folder, &HashSet::new())?;
        let counts = backup::table_counts(&store.conn()).map_err(|e| errors::store(e.into()))?;
        Ok(RestoreView {
            restored: verification.backup,
            safety_backup: None,
            moved_aside,
            counts: counts_view(&counts),
        })
    })
    .await
}

/// Verifies backup `id` (the newest when `None`) in `folder` without a workspace (a new
/// machine, before restoring).
pub async fn verify_backup_in(folder: &Path, id: Option<&str>) -> Result<BackupVerification> {
    let (folder, id) = (folder.to_path_buf(), id.map(str::to_string));
    blocking(move || {
        let entry = find(&folder, id.as_deref())?;
        Ok(verify_entry(&folder, &entry, None)?.0)
    })
    .await
}

fn failed_verification(v: &BackupVerification) -> CommandError {
    CommandError::new(
        ErrorCode::InvalidInput,
        format!(
            "Backup {} failed verification, so nothing was restored: {}",
            v.backup.id,
            v.problems.join(" ")
        ),
    )
}

impl Workspace {
    fn uuid_blocking(store: &Store) -> Result<Option<String>> {
        Ok(switchboard_store::workspace::get(&store.conn())
            .map_err(errors::store)?
            .map(|w| w.uuid))
    }

    fn default_backup_folder(&self) -> PathBuf {
        self.folder.join("backups")
    }

    fn settings_view(&self, stored: Option<String>) -> BackupSettingsView {
        let default_folder = self.default_backup_folder().display().to_string();
        BackupSettingsView {
            is_default: stored.is_none(),
            folder: stored.unwrap_or_else(|| default_folder.clone()),
            default_folder,
            retention: RETENTION.to_string(),
        }
    }

    /// Where backups go: the folder chosen by the user, else `<workspace folder>/backups`.
    pub async fn backup_settings(&self) -> Result<BackupSettingsView> {
        let store = self.store.clone();
        let stored = blocking(move || {
            settings::get(&store.conn(), settings::BACKUP_FOLDER).map_err(errors::store)
        })
        .await?;
        Ok(self.settings_view(stored))
    }

    /// The backup folder now in force.
    pub async fn backup_folder(&self) -> Result<PathBuf> {
        Ok(PathBuf::from(self.backup_settings().await?.folder))
    }

    /// Chooses the backup folder (an absolute path; created if missing, and checked writable),
    /// or goes back to the default with `None` or an empty string. A synced folder (Dropbox,
    /// iCloud Drive, OneDrive…) gives an off-site copy.
    pub async fn set_backup_folder(&self, folder: Option<&str>) -> Result<BackupSettingsView> {
        let folder = folder
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        if let Some(f) = &folder {
            if !f.is_absolute() {
                return Err(errors::invalid(format!(
                    "Give the backup folder as a full path (e.g. /home/you/Dropbox/Switchboard), not “{}”.",
                    f.display()
                )));
            }
            let probe_dir = f.clone();
            blocking(move || {
                std::fs::create_dir_all(&probe_dir)
                    .and_then(|()| {
                        let probe = probe_dir.join(".switchboard-write-test");
                        std::fs::write(&probe, b"")?;
                        std::fs::remove_file(&probe)
                    })
                    .map_err(|e| {
                        errors::invalid(format!(
                            "Switchboard cannot write to {}: {e}",
                            probe_dir.display()
                        ))
                    })
            })
            .await?;
        }
        let store = self.store.clone();
        let value = folder.as_ref().map(|f| f.display().to_string());
        let stored = value.clone();
        blocking(move || {
            let conn = store.conn();
            match &value {
                Some(v) => settings::set(&conn, settings::BACKUP_FOLDER, v),
                None => settings::remove(&conn, settings::BACKUP_FOLDER),
            }
            .map_err(errors::store)
        })
        .await?;
        Ok(self.settings_view(stored))
    }

    /// Backs the workspace up now: a consistent snapshot of the live database (the app or a
    /// sync may keep writing meanwhile), verified, into `to` or the backup folder; then the
    /// retention rule deletes older manual backups of this workspace there.
    pub async fn create_backup(&self, to: Option<&Path>) -> Result<BackupView> {
        let folder = match to {
            Some(dir) => dir.to_path_buf(),
            None => self.backup_folder().await?,
        };
        let store = self.store.clone();
        blocking(move || {
            let uuid = Self::uuid_blocking(&store)?;
            let entry = create_in(&store, &folder, BackupKind::Manual)?;
            let deleted = apply_retention(&folder, uuid.as_deref())?;
            tracing::info!(id = %entry.manifest.id, deleted, "backup created");
            Ok(view(&entry, uuid.as_deref()))
        })
        .await
    }

    /// The backups in `from` or the backup folder, newest first (other workspaces' too, marked).
    pub async fn list_backups(&self, from: Option<&Path>) -> Result<Vec<BackupView>> {
        let folder = match from {
            Some(dir) => dir.to_path_buf(),
            None => self.backup_folder().await?,
        };
        let store = self.store.clone();
        blocking(move || {
            let uuid = Self::uuid_blocking(&store)?;
            list_backups_in(&folder, uuid.as_deref())
        })
        .await
    }

    /// Verifies backup `id` (the newest when `None`): SQLite's integrity check, the checksum
    /// and the row counts recorded when it was made.
    pub async fn verify_backup(
        &self,
        id: Option<&str>,
        from: Option<&Path>,
    ) -> Result<BackupVerification> {
        let folder = match from {
            Some(dir) => dir.to_path_buf(),
            None => self.backup_folder().await?,
        };
        let (store, id) = (self.store.clone(), id.map(str::to_string));
        blocking(move || {
            let uuid = Self::uuid_blocking(&store)?;
            let entry = find(&folder, id.as_deref())?;
            Ok(verify_entry(&folder, &entry, uuid.as_deref())?.0)
        })
        .await
    }

    /// Replaces the workspace's data with backup `id`, after verifying it, checking its master
    /// key, and backing the current database up (kind `pre_restore`, into the backup folder).
    /// Refused while a sync runs. The backup folder setting is kept as it is now.
    ///
    /// Afterwards open the workspace again (the desktop shell does): when the backup is of
    /// another workspace, this instance still holds the old workspace's key.
    pub async fn restore_backup(
        &self,
        id: &str,
        from: Option<&Path>,
        key_file: Option<KeyFileInput>,
    ) -> Result<RestoreView> {
        // What the damaged database still tells is used when it can be read, and a sensible
        // default when it cannot: the restore is what repairs it.
        let settings_folder = match self.backup_folder().await {
            Ok(folder) => folder,
            Err(e) => {
                tracing::warn!(
                    "cannot read the backup folder setting, using the default: {}",
                    e.message
                );
                self.default_backup_folder()
            }
        };
        let from = from
            .map(Path::to_path_buf)
            .unwrap_or_else(|| settings_folder.clone());
        let (store, key, workspace_folder, id) = (
            self.store.clone(),
            self.key.clone(),
            self.folder.clone(),
            id.to_string(),
        );
        blocking(move || {
            // Unreadable (damaged) workspace row: the backup's key is then looked up by the
            // backup's own workspace id, as on a new machine.
            let uuid = Self::uuid_blocking(&store).unwrap_or_else(|e| {
                tracing::warn!("cannot read the workspace record: {}", e.message);
                None
            });
            let entry = find(&from, Some(&id))?;
            let (verification, summary) = verify_entry(&from, &entry, uuid.as_deref())?;
            if !verification.ok {
                return Err(failed_verification(&verification));
            }
            let current = uuid.as_deref().map(|u| (u, key.as_ref()));
            key_for_backup(&summary, current, key_file.as_ref())?;
            let (_locks, held) = lock_all_streams(&workspace_folder)?;
            // `None` when unreadable: the restored database then keeps its own setting.
            let chosen_folder = settings::get(&store.conn(), settings::BACKUP_FOLDER).ok();
            let safety = create_in(&store, &settings_folder, BackupKind::PreRestore)?;
            tracing::info!(id = %safety.manifest.id, "kept the current database as a backup before restoring");
            backup::restore_into(&mut store.conn(), &entry.db_path).map_err(backup_error)?;
            if let Some(chosen) = &chosen_folder {
                let conn = store.conn();
                match chosen {
                    Some(f) => settings::set(&conn, settings::BACKUP_FOLDER, f),
                    None => settings::remove(&conn, settings::BACKUP_FOLDER),
                }
                .map_err(errors::store)?;
            }
            interrupt_restored_runs(&store, &workspace_folder, &held)?;
            let counts = backup::table_counts(&store.conn()).map_err(|e| errors::store(e.into()))?;
            let new_uuid = Self::uuid_blocking(&store)?;
            tracing::info!(id = %entry.manifest.id, "backup restored");
            Ok(RestoreView {
                restored: verification.backup,
                safety_backup: Some(view(&safety, new_uuid.as_deref())),
                moved_aside: None,
                counts: counts_view(&counts),
            })
        })
        .await
    }

    /// Writes the workspace's master key, sealed with `passphrase`, to `to` (a file that must
    /// not exist yet, or a folder to put `switchboard-master-key-<workspace>.json` in). With it,
    /// a backup can be restored on another computer. Owner-only permissions on Unix.
    pub async fn export_master_key(
        &self,
        to: &Path,
        passphrase: SecretString,
    ) -> Result<KeyExportView> {
        key_export::check_passphrase(&passphrase).map_err(key_error)?;
        let (store, key, to) = (self.store.clone(), self.key.clone(), to.to_path_buf());
        blocking(move || {
            let uuid = Self::uuid_blocking(&store)?
                .ok_or_else(|| errors::internal("the workspace has no workspace record"))?;
            let path = if to.is_dir() {
                to.join(format!(
                    "switchboard-master-key-{}.json",
                    &uuid[..uuid.len().min(8)]
                ))
            } else {
                to
            };
            let text = key_export::export(&key, &uuid, &passphrase).map_err(key_error)?;
            write_new_private(&path, text.as_bytes())?;
            Ok(KeyExportView {
                path: path.display().to_string(),
                workspace_uuid: uuid,
            })
        })
        .await
    }
}

/// Creates `path` (never overwriting) readable by its owner only, with `bytes`.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CommandError::new(
                ErrorCode::Conflict,
                format!(
                    "{} already exists; choose another name (an older key file is not replaced).",
                    path.display()
                ),
            )
        } else {
            errors::invalid(format!("Cannot write {}: {e}", path.display()))
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            CommandError::new(
                ErrorCode::Storage,
                format!("Cannot write {}: {e}", path.display()),
            )
        })
}
