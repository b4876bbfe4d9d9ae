//! Work that must not run twice at once, across processes (the app and the CLI share a
//! workspace): an exclusive OS file lock per (scope, name) in `<workspace>/locks/`: a sync
//! stream (connection, stream), the outbox sender (`outbox`, `send`), a connection's token
//! refresh (connection, `oauth-refresh`). The OS releases a lock when the holding process exits
//! or dies, so a crash never leaves anything blocked, and whether a `running` run is still alive
//! is answered by whether its lock can be taken. (Like SQLite's WAL, this needs the workspace on
//! a local disk.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while the work runs; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

fn lock_path(folder: &Path, scope: &str, name: &str) -> PathBuf {
    folder.join("locks").join(format!("{scope}.{name}.lock"))
}

fn open(folder: &Path, scope: &str, name: &str) -> std::io::Result<File> {
    let path = lock_path(folder, scope, name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
}

/// Takes the lock, or `None` when another process (or workspace) holds it.
pub(crate) fn try_lock(
    folder: &Path,
    scope: &str,
    name: &str,
) -> std::io::Result<Option<FileLock>> {
    let file = open(folder, scope, name)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = try_lock(dir.path(), "c1", "charges").unwrap().unwrap();
        assert!(try_lock(dir.path(), "c1", "charges").unwrap().is_none());
        assert!(try_lock(dir.path(), "c1", "refunds").unwrap().is_some());
        drop(held);
        assert!(try_lock(dir.path(), "c1", "charges").unwrap().is_some());
    }
}
