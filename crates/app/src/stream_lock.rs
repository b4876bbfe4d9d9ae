//! One run per stream at a time, across processes: an exclusive OS file lock per
//! (connection, stream) in `<workspace>/locks/`. The OS releases it when the holding process
//! exits or dies, so a crash never leaves a stream blocked, and whether a `running` run is
//! still alive is answered by whether its lock can be taken. (Like SQLite's WAL, this needs the
//! workspace on a local disk.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while a stream runs; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct StreamLock {
    _file: File,
}

fn lock_path(folder: &Path, connection_id: &str, stream: &str) -> PathBuf {
    folder
        .join("locks")
        .join(format!("{connection_id}.{stream}.lock"))
}

/// Takes the stream's lock, or `None` when another process (or workspace) holds it.
pub(crate) fn try_lock(
    folder: &Path,
    connection_id: &str,
    stream: &str,
) -> std::io::Result<Option<StreamLock>> {
    let path = lock_path(folder, connection_id, stream);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(StreamLock { _file: file })),
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
