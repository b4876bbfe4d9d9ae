//! `switchboard backup …`: create, list, verify and restore backups, choose the backup folder,
//! and export the master key (see docs/CLI.md, "Backups").

use crate::output::Output;
use crate::{Global, open};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use switchboard_app::{CommandError, ErrorCode, KeyFileInput, Workspace};
use switchboard_core::secret::SecretString;
use switchboard_core::views::{BackupSettingsView, BackupVerification, BackupView, RestoreView};

/// Environment variable holding the passphrase of a master key file (else it is asked for on a
/// terminal, or read as the first line of standard input). Never an argument.
pub const PASSPHRASE_ENV: &str = "SWITCHBOARD_KEY_PASSPHRASE";

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Back up the workspace now (verified; then older backups are thinned out)
    Create {
        /// Write to this folder instead of the backup folder (this once)
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
    /// List backups, newest first
    List {
        /// Look in this folder instead of the backup folder
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Check a backup (the newest when no ID): integrity, checksum, row counts
    Verify {
        /// Backup id (as listed)
        id: Option<String>,
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Replace the workspace's data with a backup (the current database is backed up first)
    Restore {
        /// Backup id (as listed)
        id: String,
        /// Look in this folder instead of the backup folder
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// An exported master key file (restoring on another computer); its passphrase comes
        /// from $SWITCHBOARD_KEY_PASSPHRASE or standard input
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Do not ask for confirmation (required when standard input is not a terminal)
        #[arg(long)]
        yes: bool,
    },
    /// Show the backup folder, or set it (a synced folder gives an off-site copy)
    Folder {
        /// The new folder (a full path)
        dir: Option<PathBuf>,
        /// Go back to the default, <workspace folder>/backups
        #[arg(long, conflicts_with = "dir")]
        default: bool,
    },
    /// Write the master key, sealed with a passphrase, to a file (keep it apart from backups)
    ExportKey {
        /// The file to create (or a folder to put it in)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

fn print<T: serde::Serialize>(out: &Output, json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string(value) {
            Ok(s) => out.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
    } else {
        out.line(&human());
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 10 * 1024 * 1024 => format!("{} MB", b / (1024 * 1024)),
        b if b >= 10 * 1024 => format!("{} kB", b / 1024),
        b => format!("{b} B"),
    }
}

fn rows(b: &BackupView) -> String {
    let payments = b
        .counts
        .iter()
        .find(|c| c.table == "payments")
        .map_or(0, |c| c.rows);
    let total: i64 = b.counts.iter().map(|c| c.rows).sum();
    format!("{payments} payments, {total} rows")
}

fn backup_line(b: &BackupView) -> String {
    let verified = match b.verified_ok {
        Some(true) => "verified",
        Some(false) => "FAILED verification",
        None => "not verified",
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}{}",
        b.id,
        b.created_at,
        b.kind,
        size(b.size_bytes),
        rows(b),
        verified,
        if b.this_workspace {
            ""
        } else {
            "\tother workspace"
        }
    )
}

fn settings_line(s: &BackupSettingsView) -> String {
    format!(
        "{}{}",
        s.folder,
        if s.is_default { "\t(default)" } else { "" }
    )
}

fn real_folder(global: &Global) -> PathBuf {
    switchboard_app::real_folder(&switchboard_app::resolve_data_dir(
        global.data_dir.as_deref(),
    ))
}

/// Whether only backup files can be looked at: no real workspace exists (a new machine).
fn no_workspace(global: &Global) -> bool {
    crate::nothing_configured(global)
}

/// Where to look when there is no workspace to ask: `--from`, else `<data dir>/backups`.
fn folder_without_workspace(global: &Global, from: Option<PathBuf>) -> PathBuf {
    from.unwrap_or_else(|| real_folder(global).join("backups"))
}

pub async fn run(
    command: BackupCommand,
    global: &Global,
    out: &Output,
) -> Result<(), CommandError> {
    let json = global.json;
    match command {
        BackupCommand::Create { to } => {
            if no_workspace(global) {
                return Err(CommandError::new(
                    ErrorCode::NotFound,
                    "Nothing to back up: there is no workspace yet.",
                ));
            }
            let workspace = open(global).await?;
            out.hint("Backing up…");
            let b = workspace.create_backup(to.as_deref()).await?;
            print(out, json, &b, || backup_line(&b));
            Ok(())
        }
        BackupCommand::List { from } => {
            let backups = if no_workspace(global) {
                switchboard_app::list_backups_in(&folder_without_workspace(global, from), None)?
            } else {
                open(global).await?.list_backups(from.as_deref()).await?
            };
            if backups.is_empty() {
                out.hint("No backups yet. Make one with `switchboard backup create`.");
            }
            for b in &backups {
                print(out, json, b, || backup_line(b));
            }
            Ok(())
        }
        BackupCommand::Verify { id, from } => {
            let v = if no_workspace(global) {
                switchboard_app::verify_backup_in(
                    &folder_without_workspace(global, from),
                    id.as_deref(),
                )
                .await?
            } else {
                open(global)
                    .await?
                    .verify_backup(id.as_deref(), from.as_deref())
                    .await?
            };
            print(out, json, &v, || verification_text(&v));
            if v.ok {
                Ok(())
            } else {
                Err(CommandError::new(
                    ErrorCode::Storage,
                    format!(
                        "Backup {} failed verification: {}",
                        v.backup.id,
                        v.problems.join(" ")
                    ),
                )
                .retryable(false))
            }
        }
        BackupCommand::Restore {
            id,
            from,
            key_file,
            yes,
        } => {
            let key_file = match key_file {
                Some(path) => Some(KeyFileInput {
                    passphrase: read_passphrase(false)?,
                    path,
                }),
                None => None,
            };
            confirm_restore(&id, yes)?;
            let restored = restore(global, out, &id, from, key_file).await?;
            print(out, json, &restored, || restore_text(&restored));
            Ok(())
        }
        BackupCommand::Folder { dir, default } => {
            if no_workspace(global) {
                return Err(CommandError::new(
                    ErrorCode::NotFound,
                    "There is no workspace yet; without one, backups are looked for in <data dir>/backups (or give --from DIR).",
                ));
            }
            let workspace = open(global).await?;
            let settings = match (dir, default) {
                (Some(dir), _) => {
                    let dir = absolute(&dir)?;
                    workspace
                        .set_backup_folder(Some(&dir.display().to_string()))
                        .await?
                }
                (None, true) => workspace.set_backup_folder(None).await?,
                (None, false) => workspace.backup_settings().await?,
            };
            print(out, json, &settings, || settings_line(&settings));
            Ok(())
        }
        BackupCommand::ExportKey { to } => {
            if no_workspace(global) {
                return Err(CommandError::new(
                    ErrorCode::NotFound,
                    "There is no workspace yet, so there is no master key to export.",
                ));
            }
            let workspace = open(global).await?;
            let passphrase = read_passphrase(true)?;
            let to = absolute(&to)?;
            let exported = workspace.export_master_key(&to, passphrase).await?;
            print(out, json, &exported, || exported.path.clone());
            out.hint(
                "Keep this file and its passphrase apart from your backups (e.g. in a password manager). Anyone who has both can read the API keys in every backup; without them, a backup cannot be restored on another computer.",
            );
            Ok(())
        }
    }
}

async fn restore(
    global: &Global,
    out: &Output,
    id: &str,
    from: Option<PathBuf>,
    key_file: Option<KeyFileInput>,
) -> Result<RestoreView, CommandError> {
    let folder = real_folder(global);
    if !global.demo {
        if no_workspace(global) {
            let from = folder_without_workspace(global, from);
            return switchboard_app::restore_backup_offline(&folder, &from, id, key_file).await;
        }
        match Workspace::open_real(&switchboard_app::resolve_data_dir(
            global.data_dir.as_deref(),
        ))
        .await
        {
            Ok(workspace) => {
                return workspace
                    .restore_backup(id, from.as_deref(), key_file)
                    .await;
            }
            // A database too damaged to open is moved aside and replaced.
            Err(e) if e.code == ErrorCode::Storage => {
                out.hint(&format!(
                    "The workspace does not open ({e}); restoring without it."
                ));
                let from = folder_without_workspace(global, from);
                return switchboard_app::restore_backup_offline(&folder, &from, id, key_file).await;
            }
            Err(e) => return Err(e),
        }
    }
    open(global)
        .await?
        .restore_backup(id, from.as_deref(), key_file)
        .await
}

fn absolute(path: &Path) -> Result<PathBuf, CommandError> {
    std::path::absolute(path).map_err(|e| {
        CommandError::new(
            ErrorCode::InvalidInput,
            format!("Cannot use the path {}: {e}", path.display()),
        )
    })
}

fn verification_text(v: &BackupVerification) -> String {
    let mut text = format!(
        "{}\t{}\tintegrity {}\tchecksum {}",
        v.backup.id,
        if v.ok { "ok" } else { "FAILED" },
        v.integrity,
        if v.checksum_ok { "ok" } else { "differs" }
    );
    for c in &v.counts {
        text.push_str(&format!("\n  {}\t{}", c.table, c.rows));
    }
    text
}

fn restore_text(r: &RestoreView) -> String {
    let mut text = format!("Restored {} ({}).", r.restored.id, rows(&r.restored));
    if let Some(safety) = &r.safety_backup {
        text.push_str(&format!(
            "\nThe database as it was before is kept as backup {}.",
            safety.id
        ));
    }
    if let Some(moved) = &r.moved_aside {
        text.push_str(&format!("\nThe damaged database was moved to {moved}."));
    }
    text
}

/// Restoring replaces data: ask on a terminal, else insist on `--yes`.
fn confirm_restore(id: &str, yes: bool) -> Result<(), CommandError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            "Restoring replaces the workspace's data: confirm with --yes (standard input is not a terminal to ask on).",
        ));
    }
    eprint!(
        "Restore backup {id}? It replaces the workspace's data; the current database is kept as a backup first. Type yes to continue: "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CommandError::new(ErrorCode::InvalidInput, format!("cannot read: {e}")))?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(CommandError::new(
            ErrorCode::Cancelled,
            "Not restored: the answer was not “yes”.",
        ))
    }
}

/// The passphrase of a key file: `$SWITCHBOARD_KEY_PASSPHRASE`, else asked on the terminal
/// without echo (twice for a new file), else the first line of standard input.
fn read_passphrase(new: bool) -> Result<SecretString, CommandError> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV)
        && !p.is_empty()
    {
        return Ok(SecretString::new(p));
    }
    let failed = |e: std::io::Error| {
        CommandError::new(
            ErrorCode::InvalidInput,
            format!("cannot read the passphrase: {e}"),
        )
    };
    if std::io::stdin().is_terminal() {
        let first = SecretString::new(rpassword::prompt_password("Passphrase: ").map_err(failed)?);
        if new {
            let again = SecretString::new(
                rpassword::prompt_password("Passphrase again: ").map_err(failed)?,
            );
            if again.expose() != first.expose() {
                return Err(CommandError::new(
                    ErrorCode::InvalidInput,
                    "The two passphrases differ; nothing was written.",
                ));
            }
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(failed)?;
    let line = SecretString::new(line.trim_end_matches(['\r', '\n']));
    if line.expose().is_empty() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("No passphrase given: set {PASSPHRASE_ENV} or pipe it on standard input."),
        ));
    }
    Ok(line)
}
