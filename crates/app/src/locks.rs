//! Work that must not run twice at once, across processes (the app and the CLI share a
//! workspace): an exclusive OS file lock per (scope, name) in `<workspace>/locks/`: a sync
//! stream (connection, stream), the outbox sender (`outbox`, `send`), a connection's token
//! refresh (connection, `oauth-refresh`). The OS releases a lock when the holding process exits
//! or dies, so a crash never leaves anything blocked, and whether a `running` run is still alive
//! is answered by whether its lock can be taken. (Like SQLite's WAL, this needs the workspace on
//! a local disk.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The outbox sender's lock scope (its name is `send`).
pub(crate) const OUTBOX_SCOPE: &str = "outbox";
/// A connection's token refresh lock name (its scope is the connection id).
pub(crate) const OAUTH_REFRESH: &str = "oauth-refresh";

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

/// The (connection id, stream) of every sync stream lock file in `folder`'s lock folder (the
/// outbox's and token refreshes' locks are not streams).
pub(crate) fn stream_locks(folder: &Path) -> std::io::Result<Vec<(String, String)>> {
    let dir = folder.join("locks");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut streams = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        let Some((scope, name)) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".lock"))
            .and_then(|n| n.split_once('.'))
        else {
            continue;
        };
        if scope != OUTBOX_SCOPE && name != OAUTH_REFRESH {
            streams.push((scope.to_string(), name.to_string()));
        }
    }
    streams.sort();
    Ok(streams)
}

/// Waits for the lock (blocking the thread: call it from the blocking pool).
pub(crate) fn lock(folder: &Path, scope: &str, name: &str) -> std::io::Result<FileLock> {
    let file = open(folder, scope, name)?;
    file.lock()?;
    Ok(FileLock { _file: file })
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

    #[test]
    fn a_waiting_lock_is_granted_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path(), "c1", "oauth-refresh").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let folder = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let got = lock(&folder, "c1", "oauth-refresh").unwrap();
            tx.send(()).unwrap();
            drop(got);
        });
        // Still held: the waiter cannot have it.
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(100))
                .is_err()
        );
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("granted after release");
        waiter.join().unwrap();
    }
}
