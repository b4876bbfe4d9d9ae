//! One run per stream at a time, across processes: a stream whose OS lock another process (here,
//! another workspace on the same folder) holds is refused with a clear error; a process that
//! died holds nothing, so its runs become `interrupted` at the next open and the next sync
//! resumes them at once.

mod common;

use common::{fixture, run};
use std::collections::HashSet;
use std::fs::OpenOptions;
use switchboard_app::{ErrorCode, Trigger, Workspace};
use switchboard_store::{Store, sync_leases, sync_runs};

fn other_process(f: &common::Fixture) -> Store {
    Store::open_folder(f.dir.path()).unwrap()
}

async fn connection_id(f: &common::Fixture) -> String {
    f.workspace.find_connection("Main").await.unwrap().id
}

/// Holds a stream's lock as another process would.
fn hold_lock(f: &common::Fixture, connection_id: &str, stream: &str) -> std::fs::File {
    let dir = f.dir.path().join("locks");
    std::fs::create_dir_all(&dir).unwrap();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{connection_id}.{stream}.lock")))
        .unwrap();
    file.try_lock().unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_held_by_a_live_process_is_refused_with_a_clear_error() {
    let f = fixture(30).await;
    let id = connection_id(&f).await;
    let other = other_process(&f);
    sync_leases::record(&other.conn(), &id, "charges", "someone-else").unwrap();
    let held = hold_lock(&f, &id, "charges");
    let err = f
        .workspace
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.retryable);
    assert!(err.message.contains("already syncing"), "{}", err.message);
    assert!(
        err.message
            .contains(&format!("process {}", std::process::id()))
    );
    assert!(f.all_payments().await.is_empty());

    // Once that process is gone (the OS released its lock), the stream runs at once.
    drop(held);
    let runs = f.sync().await;
    assert_eq!(run(&runs, "charges").inserted, 30);
    // Finished runs clear their lease records.
    let leases: i64 = other
        .conn()
        .query_row("SELECT COUNT(*) FROM sync_leases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leases, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_left_running_by_a_dead_process_are_interrupted_at_open_and_resume() {
    let f = fixture(40).await;
    let id = connection_id(&f).await;
    let other = other_process(&f);
    let orphan = sync_runs::start(&other.conn(), &id, "charges", "manual").unwrap();
    let alive = sync_runs::start(&other.conn(), &id, "refunds", "manual").unwrap();
    let _refunds_held = hold_lock(&f, &id, "refunds");

    let reopened = Workspace::open_real(f.dir.path()).await.unwrap();
    assert_eq!(
        sync_runs::get(&other.conn(), &orphan).unwrap().status,
        "interrupted"
    );
    assert_eq!(
        sync_runs::get(&other.conn(), &alive).unwrap().status,
        "running"
    );
    // Charges run at once; refunds are still held by the live process.
    let err = reopened
        .sync(Some("Main"), Trigger::Manual, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(f.all_payments().await.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_syncing_at_once_never_duplicate() {
    let f = fixture(1500).await;
    let second = Workspace::open_real(f.dir.path()).await.unwrap();
    let (a, b) = tokio::join!(
        f.workspace.sync(Some("Main"), Trigger::Manual, &|_| {}),
        second.sync(Some("Main"), Trigger::Manual, &|_| {}),
    );
    for result in [&a, &b] {
        if let Err(e) = result {
            assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
        }
    }
    assert!(a.is_ok() || b.is_ok());
    // Whatever interleaving happened, finishing the sync gives every payment exactly once.
    f.sync().await;
    let payments = f.all_payments().await;
    let unique: HashSet<_> = payments.iter().map(|p| &p.external_id).collect();
    assert_eq!((payments.len(), unique.len()), (1500, 1500));
}
