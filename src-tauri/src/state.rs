//! The one piece of app state: the open workspace (demo or real), which is opened in the
//! background after the window shows. Commands wait until it is settled, then get either
//! the workspace or the error that stopped it from opening.
//!
//! Events: `workspace-ready` (payload `WorkspaceInfo`) whenever a workspace becomes current,
//! `workspace-error` (payload `CommandError`) when the start-up open fails.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use switchboard_app::{CommandError, ErrorCode, Workspace};
use switchboard_core::views::{WorkspaceInfo, WorkspaceKind};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{Mutex, watch};

pub const WORKSPACE_READY: &str = "workspace-ready";
pub const WORKSPACE_ERROR: &str = "workspace-error";

#[derive(Clone)]
enum Slot {
    Opening,
    Ready {
        workspace: Arc<Workspace>,
        info: WorkspaceInfo,
    },
    Failed(CommandError),
}

pub struct AppState {
    /// `--data-dir`, if given.
    data_dir_arg: Option<PathBuf>,
    /// Resolved once at start-up.
    data_dir: OnceLock<PathBuf>,
    slot: watch::Sender<Slot>,
    /// Serialises workspace switches (`leave_demo`).
    switching: Mutex<()>,
    /// Wakes the webhook receiver's task (`webhooks.rs`) and holds what it did.
    pub webhook_receiver: crate::webhooks::ReceiverControl,
}

impl AppState {
    pub fn new(data_dir_arg: Option<PathBuf>) -> Self {
        AppState {
            data_dir_arg,
            data_dir: OnceLock::new(),
            slot: watch::Sender::new(Slot::Opening),
            switching: Mutex::new(()),
            webhook_receiver: crate::webhooks::ReceiverControl::default(),
        }
    }

    /// The current workspace, once opened. Holding the `Arc` keeps it alive across a switch.
    pub async fn workspace(&self) -> Result<Arc<Workspace>, CommandError> {
        match self.settled().await {
            Slot::Ready { workspace, .. } => Ok(workspace),
            Slot::Failed(err) => Err(err),
            Slot::Opening => unreachable!("settled() never returns Opening"),
        }
    }

    pub async fn info(&self) -> Result<WorkspaceInfo, CommandError> {
        match self.settled().await {
            Slot::Ready { info, .. } => Ok(info),
            Slot::Failed(err) => Err(err),
            Slot::Opening => unreachable!("settled() never returns Opening"),
        }
    }

    async fn settled(&self) -> Slot {
        let mut rx = self.slot.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let slot = rx
            .wait_for(|slot| !matches!(slot, Slot::Opening))
            .await
            .map(|slot| slot.clone());
        slot.unwrap_or_else(|_| Slot::Failed(internal("the workspace is gone")))
    }

    /// Leaves the demo for the real workspace. On failure the current workspace stays.
    pub async fn leave_demo(&self, app: &AppHandle) -> Result<WorkspaceInfo, CommandError> {
        let _switching = self.switching.lock().await;
        if let Slot::Ready { info, .. } = self.settled().await
            && info.kind == WorkspaceKind::Real
        {
            return Ok(info);
        }
        let dir = self.data_dir.get().cloned().ok_or_else(|| {
            CommandError::new(
                ErrorCode::Internal,
                "The data directory could not be determined (see the log).",
            )
        })?;
        let started = Instant::now();
        let (workspace, info) = open_in_task("open the real workspace", async move {
            open_with_info(Workspace::open_real(&dir).await?)
        })
        .await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "switched to the real workspace"
        );
        // The demo (and its in-process sandbox) is dropped once no command still holds it.
        self.slot.send_replace(Slot::Ready {
            workspace,
            info: info.clone(),
        });
        let _ = app.emit(WORKSPACE_READY, &info);
        Ok(info)
    }
}

impl AppState {
    /// Restores a backup, then opens the restored workspace and makes it current (a backup of
    /// another workspace brings that workspace's key, so the old instance cannot stay). In the
    /// demo, the backup becomes the real workspace (restoring on a new computer) and the demo
    /// is left. Commands that still hold the old workspace finish on it.
    pub async fn restore_backup(
        &self,
        app: &AppHandle,
        id: String,
        key_file: Option<switchboard_app::KeyFileInput>,
    ) -> Result<switchboard_core::views::RestoreView, CommandError> {
        let _switching = self.switching.lock().await;
        let dir =
            self.data_dir.get().cloned().ok_or_else(|| {
                internal("The data directory could not be determined (see the log).")
            })?;
        let current = self.workspace().await?;
        let restored = if current.info().kind == WorkspaceKind::Demo {
            if Workspace::real_exists(&dir) {
                return Err(CommandError::new(
                    ErrorCode::Conflict,
                    "A workspace of your own already exists: leave the demo first, then restore there.",
                ));
            }
            let from = current.backup_folder().await?;
            switchboard_app::restore_backup_offline(
                &switchboard_app::real_folder(&dir),
                &from,
                &id,
                key_file,
            )
            .await?
        } else {
            current.restore_backup(&id, None, key_file).await?
        };
        drop(current);
        let (workspace, info) = open_in_task("open the restored workspace", async move {
            open_with_info(Workspace::open_real(&dir).await?)
        })
        .await?;
        self.slot.send_replace(Slot::Ready {
            workspace,
            info: info.clone(),
        });
        let _ = app.emit(WORKSPACE_READY, &info);
        Ok(restored)
    }
}

/// Start-up: resolve the data dir, then open the real workspace if one exists, else the demo.
pub async fn open_initial(app: AppHandle) {
    let state = app.state::<AppState>();
    let started = Instant::now();
    let arg = state.data_dir_arg.clone();
    let dir = open_in_task("resolve the data directory", async move {
        Ok(switchboard_app::resolve_data_dir(arg.as_deref()))
    })
    .await;
    let opened = match dir {
        Ok(dir) => {
            let _ = state.data_dir.set(dir.clone());
            open_in_task("open the workspace", open_workspace(dir)).await
        }
        Err(err) => Err(err),
    };
    let slot = match opened {
        Ok((workspace, info)) => {
            tracing::info!(
                kind = ?info.kind,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "workspace open"
            );
            let _ = app.emit(WORKSPACE_READY, &info);
            Slot::Ready { workspace, info }
        }
        Err(err) => {
            tracing::error!(
                code = err.code.as_str(),
                "could not open the workspace: {err}"
            );
            let _ = app.emit(WORKSPACE_ERROR, &err);
            Slot::Failed(err)
        }
    };
    state.slot.send_replace(slot);
}

async fn open_workspace(dir: PathBuf) -> Result<(Arc<Workspace>, WorkspaceInfo), CommandError> {
    let workspace = if Workspace::real_exists(Path::new(&dir)) {
        Workspace::open_real(&dir).await?
    } else {
        Workspace::open_demo(&dir).await?
    };
    open_with_info(workspace)
}

fn open_with_info(workspace: Workspace) -> Result<(Arc<Workspace>, WorkspaceInfo), CommandError> {
    let info = workspace.info();
    Ok((Arc::new(workspace), info))
}

/// Runs `work` as its own task so a panic in it (logged by the panic hook) becomes an
/// `internal` error the UI can show instead of a command that never answers.
async fn open_in_task<T, F>(what: &'static str, work: F) -> Result<T, CommandError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CommandError>> + Send + 'static,
{
    match tauri::async_runtime::spawn(work).await {
        Ok(result) => result,
        Err(err) => {
            tracing::error!("task to {what} failed: {err}");
            Err(internal(&format!(
                "Switchboard could not {what} because of an internal error (see the log)."
            )))
        }
    }
}

fn internal(message: &str) -> CommandError {
    CommandError::new(ErrorCode::Internal, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tauri::async_runtime::block_on;

    #[test]
    fn a_panic_while_opening_becomes_an_internal_error() {
        let result: Result<(), CommandError> =
            block_on(open_in_task("open the workspace", async {
                panic!("simulated failure while opening")
            }));
        let err = result.unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(
            err.message.contains("open the workspace"),
            "{}",
            err.message
        );
        assert!(
            !err.message.contains("simulated"),
            "the panic text reached the UI"
        );
    }

    #[test]
    fn commands_wait_for_the_open_and_then_get_its_error() {
        let state = Arc::new(AppState::new(None));
        let opener = state.clone();
        let err = block_on(async move {
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                opener.slot.send_replace(Slot::Failed(CommandError::new(
                    ErrorCode::SecretStore,
                    "No master key is available",
                )));
            });
            // Called before the open settles: waits instead of failing early.
            state.info().await.unwrap_err()
        });
        assert_eq!(err.code, ErrorCode::SecretStore);
    }
}
