//! Keeps the local webhook receiver (`switchboard_app::webhooks`) in step with the current
//! workspace: it runs only for the real workspace (never the demo), only while its settings
//! say enabled, and is restarted when the port or the workspace changes. A command that
//! changes the settings, and a workspace switch (`workspace-ready`), wake the task at once; it
//! also looks every `RECHECK` (which retries a port that was in use).
//!
//! An accepted event queues a targeted sync of its connection (`Trigger::Webhook`; events
//! arriving meanwhile for the same connection make one sync), and the runs are announced with
//! the scheduler's `scheduled-sync` event so the UI refreshes. A port that cannot be bound is
//! logged and shown in the status the settings screen reads; nothing else stops.

use crate::AppState;
use crate::scheduler::SCHEDULED_SYNC;
use crate::state::WORKSPACE_READY;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use switchboard_app::webhooks::{self, SyncQueue, WebhookReceiver};
use switchboard_app::{ErrorCode, Trigger, Workspace};
use switchboard_core::views::WorkspaceKind;
use tauri::{AppHandle, Emitter, Listener, Manager};
use tokio::sync::{Notify, watch};

/// How often the task looks again without being woken.
const RECHECK: Duration = Duration::from_secs(15);
/// How long a command waits for its change to be applied before answering with the status
/// as it is (stopping waits for requests in progress, at most the receiver's 10 s timeout).
const APPLY_TIMEOUT: Duration = Duration::from_secs(12);

/// What the receiver is doing, for the settings screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverStatus {
    /// Where it listens; `None` when it does not run.
    pub listening_on: Option<SocketAddr>,
    /// Why it does not run although enabled.
    pub error: Option<String>,
}

/// The task's side of `AppState`: how commands wake it and read what it did.
pub struct ReceiverControl {
    wake: Notify,
    /// Bumped by each change a command asks to be applied.
    requested: AtomicU64,
    /// The last `requested` value a pass started after, with the status it left.
    applied: watch::Sender<(u64, ReceiverStatus)>,
}

impl Default for ReceiverControl {
    fn default() -> Self {
        ReceiverControl {
            wake: Notify::new(),
            requested: AtomicU64::new(0),
            applied: watch::Sender::new((0, ReceiverStatus::default())),
        }
    }
}

impl ReceiverControl {
    pub fn status(&self) -> ReceiverStatus {
        self.applied.borrow().1.clone()
    }

    /// Wakes the task (a permit is kept if it is busy, so the next pass follows).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs one pass of the task (`work` decides and does what the settings ask) and
    /// publishes its status. The request counter is read before `work` starts, so a pass
    /// answers only the requests made before it read the settings.
    async fn pass(&self, work: impl Future<Output = ReceiverStatus>) {
        let requested = self.requested.load(Ordering::SeqCst);
        let status = work.await;
        self.applied.send_replace((requested, status));
    }

    /// Waits until woken, or `RECHECK`.
    async fn idle(&self) {
        tokio::select! {
            () = self.wake.notified() => {}
            () = tokio::time::sleep(RECHECK) => {}
        }
    }

    /// Call after the settings changed: wakes the task and waits until a pass that read the
    /// new settings is done, then returns its status.
    pub async fn apply(&self) -> ReceiverStatus {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake();
        let mut rx = self.applied.subscribe();
        let done = tokio::time::timeout(APPLY_TIMEOUT, rx.wait_for(|(seen, _)| *seen >= ticket));
        match done.await {
            Ok(Ok(applied)) => applied.1.clone(),
            _ => self.status(),
        }
    }
}

/// The receiver running for one workspace.
struct Running {
    workspace: Weak<Workspace>,
    port: u16,
    receiver: WebhookReceiver,
}

/// What the current workspace asks for.
enum Wanted {
    Off,
    On {
        workspace: Arc<Workspace>,
        port: u16,
    },
    /// The settings could not be read: leave things as they are until the next pass.
    Unknown,
}

pub async fn run(app: AppHandle) {
    {
        let app_for_event = app.clone();
        app.listen_any(WORKSPACE_READY, move |_| {
            app_for_event.state::<AppState>().webhook_receiver.wake();
        });
    }
    let mut running: Option<Running> = None;
    let mut last_error: Option<String> = None;
    let start_worker = |workspace: Weak<Workspace>, queue: SyncQueue| {
        tauri::async_runtime::spawn(sync_on_events(app.clone(), workspace, queue));
    };
    loop {
        let state = app.state::<AppState>();
        let control = &state.webhook_receiver;
        control
            .pass(async {
                // A workspace that failed to open has nothing to receive for.
                let wanted = wanted(state.workspace().await.ok()).await;
                step(&mut running, wanted, &mut last_error, &start_worker).await
            })
            .await;
        control.idle().await;
    }
}

async fn wanted(workspace: Option<Arc<Workspace>>) -> Wanted {
    let Some(workspace) = workspace else {
        return Wanted::Off;
    };
    if workspace.info().kind == WorkspaceKind::Demo {
        return Wanted::Off;
    }
    match workspace.webhook_receiver_settings().await {
        Ok(settings) if settings.enabled => Wanted::On {
            workspace,
            port: settings.port,
        },
        Ok(_) => Wanted::Off,
        Err(err) => {
            tracing::warn!(
                code = err.code.as_str(),
                "webhook receiver settings unreadable: {err}"
            );
            Wanted::Unknown
        }
    }
}

/// One pass: stops, (re)starts or keeps the receiver; returns its status.
/// `start_worker` runs the syncs of a new receiver's queue.
async fn step(
    running: &mut Option<Running>,
    wanted: Wanted,
    last_error: &mut Option<String>,
    start_worker: &(dyn Fn(Weak<Workspace>, SyncQueue) + Sync),
) -> ReceiverStatus {
    let keep = match (&wanted, running.as_ref()) {
        (Wanted::Unknown, _) => true,
        (Wanted::On { workspace, port }, Some(r)) => {
            r.port == *port && Weak::ptr_eq(&r.workspace, &Arc::downgrade(workspace))
        }
        _ => false,
    };
    if keep {
        return match running {
            Some(r) => ReceiverStatus {
                listening_on: Some(r.receiver.local_addr()),
                error: None,
            },
            None => ReceiverStatus {
                listening_on: None,
                error: last_error.clone(),
            },
        };
    }
    if let Some(old) = running.take() {
        tracing::info!(addr = %old.receiver.local_addr(), "stopping the webhook receiver");
        old.receiver.stop().await;
    }
    let Wanted::On { workspace, port } = wanted else {
        *last_error = None;
        return ReceiverStatus::default();
    };
    let (request, queue) = webhooks::sync_queue();
    match workspace.start_webhook_receiver(Some(port), request).await {
        Ok(receiver) => {
            *last_error = None;
            let addr = receiver.local_addr();
            start_worker(Arc::downgrade(&workspace), queue);
            *running = Some(Running {
                workspace: Arc::downgrade(&workspace),
                port,
                receiver,
            });
            ReceiverStatus {
                listening_on: Some(addr),
                error: None,
            }
        }
        Err(err) => {
            // Logged once per distinct error: the periodic pass retries a busy port quietly.
            if last_error.as_deref() != Some(err.message.as_str()) {
                tracing::warn!(
                    code = err.code.as_str(),
                    port,
                    "webhook receiver not started: {err}"
                );
            }
            *last_error = Some(err.message.clone());
            ReceiverStatus {
                listening_on: None,
                error: Some(err.message),
            }
        }
    }
}

/// Syncs each connection an accepted event asked for, one at a time. Ends when its receiver
/// stops (the queue's sender goes with it) or the workspace is gone. Holds the workspace only
/// while a sync runs, so a switched-away workspace is not kept alive.
async fn sync_on_events(app: AppHandle, workspace: Weak<Workspace>, mut queue: SyncQueue) {
    while let Some(batch) = queue.next().await {
        let Some(workspace) = workspace.upgrade() else {
            break;
        };
        for connection_id in batch {
            match workspace
                .sync(Some(&connection_id), Trigger::Webhook, &|_| {})
                .await
            {
                Ok(runs) => {
                    if !runs.is_empty() {
                        let _ = app.emit(SCHEDULED_SYNC, &runs);
                    }
                }
                // A sync already running (the scheduler, the user, the CLI) stores the change
                // or the next scheduled one does: polling stays the safety net.
                Err(err) if err.code == ErrorCode::Conflict => {
                    tracing::info!(
                        connection = %connection_id,
                        "webhook sync skipped, a sync is already running: {err}"
                    );
                }
                Err(err) => tracing::warn!(
                    connection = %connection_id,
                    code = err.code.as_str(),
                    "webhook sync failed: {err}"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::AtomicUsize;
    use tauri::async_runtime::block_on;

    /// A fixed master key (the keyring is not what these tests are about).
    const TEST_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "switchboard-desktop-{tag}-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn is_free(port: u16) -> bool {
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
    }

    fn on(port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[test]
    fn apply_answers_with_a_pass_that_read_the_new_settings() {
        let control = Arc::new(ReceiverControl::default());
        let setting = Arc::new(AtomicU64::new(0));
        let (task_control, task_setting) = (control.clone(), setting.clone());
        block_on(async move {
            tauri::async_runtime::spawn(async move {
                loop {
                    task_control
                        .pass(async {
                            // Read, then take a while: a change made meanwhile is not this
                            // pass's to report.
                            let seen = task_setting.load(Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            ReceiverStatus {
                                listening_on: None,
                                error: Some(seen.to_string()),
                            }
                        })
                        .await;
                    task_control.idle().await;
                }
            });
            for value in 1..=5u64 {
                // Land the changes at different points of a pass.
                tokio::time::sleep(Duration::from_millis(value * 7)).await;
                setting.store(value, Ordering::SeqCst);
                let status = control.apply().await;
                assert_eq!(status.error, Some(value.to_string()));
                assert_eq!(control.status(), status);
            }
        });
    }

    #[test]
    fn the_receiver_follows_the_settings_the_port_and_the_workspace() {
        // SAFETY: the only test in this binary that reads the variable; set before use.
        unsafe { std::env::set_var("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY) };
        let (dir, other_dir) = (TempDir::new("webhooks"), TempDir::new("webhooks-other"));
        block_on(async move {
            let workspace = Arc::new(Workspace::open_real(&dir.0).await.unwrap());
            let starts = AtomicUsize::new(0);
            let start = |_: Weak<Workspace>, _: SyncQueue| {
                starts.fetch_add(1, Ordering::SeqCst);
            };
            let mut running = None;
            let mut last_error = None;
            macro_rules! pass {
                ($workspace:expr) => {
                    step(
                        &mut running,
                        wanted($workspace).await,
                        &mut last_error,
                        &start,
                    )
                    .await
                };
            }

            // Off by default; a workspace that failed to open runs nothing either.
            assert_eq!(pass!(Some(workspace.clone())), ReceiverStatus::default());
            assert_eq!(pass!(None), ReceiverStatus::default());

            // Enabled: listening on the port, and a pass with nothing new keeps it.
            let port = free_port();
            workspace
                .set_webhook_receiver_settings(Some(true), Some(port))
                .await
                .unwrap();
            assert_eq!(pass!(Some(workspace.clone())).listening_on, on(port));
            assert!(!is_free(port));
            assert_eq!(pass!(Some(workspace.clone())).listening_on, on(port));
            assert_eq!(starts.load(Ordering::SeqCst), 1);

            // A new port: restarted there, the old one released.
            let second = free_port();
            workspace
                .set_webhook_receiver_settings(None, Some(second))
                .await
                .unwrap();
            assert_eq!(pass!(Some(workspace.clone())).listening_on, on(second));
            assert!(is_free(port));
            assert_eq!(starts.load(Ordering::SeqCst), 2);

            // Another workspace with the same settings (a restore): restarted for it.
            let other = Arc::new(Workspace::open_real(&other_dir.0).await.unwrap());
            other
                .set_webhook_receiver_settings(Some(true), Some(second))
                .await
                .unwrap();
            assert_eq!(pass!(Some(other.clone())).listening_on, on(second));
            assert_eq!(starts.load(Ordering::SeqCst), 3);

            // A port in use: no receiver, the error in the status, retried by a later pass.
            let blocker = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let busy = blocker.local_addr().unwrap().port();
            other
                .set_webhook_receiver_settings(None, Some(busy))
                .await
                .unwrap();
            let status = pass!(Some(other.clone()));
            assert_eq!(status.listening_on, None);
            let error = status.error.unwrap();
            assert!(error.contains(&format!("127.0.0.1:{busy}")), "{error}");
            assert!(is_free(second), "the previous port is released");
            assert_eq!(pass!(Some(other.clone())).error, Some(error));
            drop(blocker);
            assert_eq!(
                pass!(Some(other.clone())),
                ReceiverStatus {
                    listening_on: on(busy),
                    error: None
                }
            );

            // Disabled: stopped.
            other
                .set_webhook_receiver_settings(Some(false), None)
                .await
                .unwrap();
            assert_eq!(pass!(Some(other.clone())), ReceiverStatus::default());
            assert!(is_free(busy));
            assert!(running.is_none());
            drop((dir, other_dir));
        });
    }
}
