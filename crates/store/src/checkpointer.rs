//! WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, so every ~1,000 pages a sync page's commit also copied
//! the WAL into the database and fsynced it: a quarter of the import benchmark's time, on the
//! critical path. The store's connection turns automatic checkpoints off; this thread, with its
//! own connection, runs a PASSIVE checkpoint (which never blocks writers or readers) every
//! 200 ms, so the copying overlaps the next page instead of delaying it.
//!
//! Closing does not checkpoint (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE` on both connections) and
//! stopping interrupts a checkpoint in progress: copying the rest of a large WAL and syncing the
//! database at exit was a fifth of `switchboard sync run`'s wall time in the import benchmark,
//! spent after the work was committed. The WAL is the database's own journal: it stays next to
//! the file, every reader sees it, and the next process's thread, whose first checkpoint runs
//! at once, copies it in the background. Commits are as durable as before (WAL mode with
//! `synchronous=NORMAL`); the WAL file is truncated to `journal_size_limit` when it restarts.

use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread checkpoints (a PASSIVE checkpoint with nothing new to copy is a no-op).
const EVERY: Duration = Duration::from_millis(200);

pub(crate) struct Checkpointer {
    interrupt: rusqlite::InterruptHandle,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(1))?;
        skip_checkpoint_on_close(&conn)?;
        let stop = Arc::new(AtomicBool::new(false));
        let interrupt = conn.get_interrupt_handle();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let stop = stop.clone();
                move || run(&conn, &stop)
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer {
            interrupt,
            stop,
            thread: Some(thread),
        })
    }
}

/// Leaves the WAL in place when `conn` closes (see the module's comment).
pub(crate) fn skip_checkpoint_on_close(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    Ok(())
}

fn run(conn: &Connection, stop: &AtomicBool) {
    // First at once: what an earlier process left in the WAL.
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            // Nothing is lost: the WAL simply waits for the next try (or the next process).
            tracing::debug!("background checkpoint: {e}");
        }
        std::thread::park_timeout(EVERY);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A checkpoint cut short copies nothing for good; the next one starts over.
        self.interrupt.interrupt();
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
