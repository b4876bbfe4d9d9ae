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
//! spent after the work was committed. An interrupt cannot cut short the `fsync` that ends a
//! checkpoint (up to ~100 ms after a large import, caught at about half of the benchmark's
//! exits), so stopping waits [`GRACE`] for the thread and otherwise leaves it to finish that
//! sync on its own: it writes nothing after it, and a process that exits meanwhile ends it the
//! way a kill would, which SQLite is built to survive (the copy only counts once synced).
//!
//! The WAL is the database's own journal: it stays next to the file, every reader sees it, and
//! the next process's thread, whose first checkpoint runs at once, copies it in the background.
//! Commits are as durable as before (WAL mode with `synchronous=NORMAL`); the WAL file is
//! truncated to `journal_size_limit` when it restarts.

use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread checkpoints (a PASSIVE checkpoint with nothing new to copy is a no-op).
const EVERY: Duration = Duration::from_millis(200);

/// How long stopping waits for the thread before leaving it to end on its own (see the
/// module's comment): ample for a parked thread or an interrupted copy, short next to a sync.
const GRACE: Duration = Duration::from_millis(10);

pub(crate) struct Checkpointer {
    interrupt: rusqlite::InterruptHandle,
    stop: Arc<AtomicBool>,
    /// Disconnects when the thread ends (its sender is dropped with the thread's closure). In
    /// a mutex only so that the store stays `Sync`; nothing else locks it.
    ended: Mutex<Receiver<()>>,
    /// How long stopping waits for the thread ([`GRACE`]).
    grace: Duration,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(1))?;
        skip_checkpoint_on_close(&conn)?;
        Self::spawn(conn, GRACE, |conn| {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                // Nothing is lost: the WAL simply waits for the next try (or the next process).
                tracing::debug!("background checkpoint: {e}");
            }
        })
    }

    /// Runs `checkpoint` on `conn` at once and then every [`EVERY`] until stopped; stopping
    /// waits `grace` for the thread to end.
    fn spawn(
        conn: Connection,
        grace: Duration,
        checkpoint: impl Fn(&Connection) + Send + 'static,
    ) -> rusqlite::Result<Checkpointer> {
        let stop = Arc::new(AtomicBool::new(false));
        let interrupt = conn.get_interrupt_handle();
        let (ending, ended) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    let _ending = ending;
                    // First at once: what an earlier process left in the WAL.
                    while !stop.load(Ordering::Relaxed) {
                        checkpoint(&conn);
                        std::thread::park_timeout(EVERY);
                    }
                }
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer {
            interrupt,
            stop,
            ended: Mutex::new(ended),
            grace,
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

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A checkpoint cut short copies nothing for good; the next one starts over.
        self.interrupt.interrupt();
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // Disconnected: the thread has ended. Still busy after the grace: it is syncing the
            // file, and finishes (or dies with the process) on its own.
            let ended = self.ended.get_mut().unwrap_or_else(|e| e.into_inner());
            if let Err(RecvTimeoutError::Disconnected) = ended.recv_timeout(self.grace) {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_joins_an_idle_thread_and_leaves_one_stuck_in_a_checkpoint() {
        // Ending within the grace (a parked thread does; the grace is generous here so that a
        // loaded machine cannot make the test flaky): stopping joins it, so its closure is gone.
        let alive = Arc::new(());
        let long = Duration::from_secs(30);
        let idle = Checkpointer::spawn(Connection::open_in_memory().unwrap(), long, {
            let alive = alive.clone();
            move |_| {
                let _ = &alive;
            }
        })
        .unwrap();
        drop(idle);
        assert_eq!(Arc::strong_count(&alive), 1, "the idle thread was joined");

        // In a checkpoint that outlasts the grace (as an fsync may): stopping returns anyway.
        let (entered, in_checkpoint) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = std::sync::Mutex::new(released);
        let stuck = Checkpointer::spawn(Connection::open_in_memory().unwrap(), GRACE, move |_| {
            let _ = entered.send(());
            let _ = released.lock().unwrap().recv();
        })
        .unwrap();
        in_checkpoint.recv().unwrap();
        let (dropped, stopped) = mpsc::channel();
        std::thread::spawn(move || {
            drop(stuck);
            let _ = dropped.send(());
        });
        // Generous: this fails (rather than hangs) if stopping waited for the checkpoint.
        assert!(
            stopped.recv_timeout(Duration::from_secs(30)).is_ok(),
            "stopping waited for a checkpoint in progress"
        );
        drop(release);
    }
}
