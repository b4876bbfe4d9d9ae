//! Restoring on a new machine: the backup travels, the master key travels separately as an
//! exported file sealed with a passphrase, and the new machine's (mock) keyring receives it.
//! Its own binary: it changes the process environment and the keyring store.

mod common;

use switchboard_app::{ErrorCode, KeyFileInput, Workspace};
use switchboard_core::secret::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_and_an_exported_key_restore_on_another_machine() {
    let f = common::fixture(80).await;
    f.sync().await;
    let before = f.all_payments().await;
    let offsite = tempfile::tempdir().unwrap();
    let backup = f
        .workspace
        .create_backup(Some(offsite.path()))
        .await
        .unwrap();
    let err = f
        .workspace
        .export_master_key(&offsite.path().join("key.json"), SecretString::new("short"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let exported = f
        .workspace
        .export_master_key(
            offsite.path(),
            SecretString::new("correct horse battery staple"),
        )
        .await
        .unwrap();
    let key_path = std::path::PathBuf::from(&exported.path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwritten.
    let again = f
        .workspace
        .export_master_key(&key_path, SecretString::new("correct horse battery staple"))
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    // Keep the sandbox: the new machine syncs with the restored (sealed) API key.
    let common::Fixture {
        sandbox: _sandbox,
        workspace,
        dir: _dir,
    } = f;
    drop(workspace);

    // The new machine: no key in the environment, an empty keyring.
    // SAFETY: this binary's only test; nothing else reads the environment meanwhile.
    unsafe { std::env::remove_var("SWITCHBOARD_MASTER_KEY") };
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let machine = tempfile::tempdir().unwrap();

    // Without the key file: refused, nothing placed.
    let err =
        switchboard_app::restore_backup_offline(machine.path(), offsite.path(), &backup.id, None)
            .await
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::SecretStore, "{err:?}");
    assert!(!Workspace::real_exists(machine.path()));

    // A wrong passphrase: refused, nothing placed.
    let err = switchboard_app::restore_backup_offline(
        machine.path(),
        offsite.path(),
        &backup.id,
        Some(KeyFileInput {
            path: key_path.clone(),
            passphrase: SecretString::new("wrong horse battery staple"),
        }),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("passphrase"), "{err:?}");
    assert!(!Workspace::real_exists(machine.path()));

    let restored = switchboard_app::restore_backup_offline(
        machine.path(),
        offsite.path(),
        &backup.id,
        Some(KeyFileInput {
            path: key_path,
            passphrase: SecretString::new("correct horse battery staple"),
        }),
    )
    .await
    .unwrap();
    assert!(restored.safety_backup.is_none());

    // The key is now in this machine's keyring: the workspace opens and its secrets open.
    let workspace = Workspace::open_real(machine.path()).await.unwrap();
    let mut after = Vec::new();
    let mut cursor = None;
    loop {
        let page = workspace
            .list_payments(switchboard_app::PaymentQuery {
                limit: Some(1000),
                after: cursor,
                ..switchboard_app::PaymentQuery::default()
            })
            .await
            .unwrap();
        after.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(after, before);
    // The sealed API key opens with the imported key: a sync authenticates and finds nothing new.
    let runs = workspace
        .sync(Some("Main"), switchboard_app::Trigger::Manual, &|_| {})
        .await
        .unwrap();
    assert!(!runs.is_empty());
    assert!(
        runs.iter()
            .all(|r| r.status == "succeeded" && r.inserted == 0),
        "{runs:?}"
    );
}
