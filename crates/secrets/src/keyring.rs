//! The OS keyring, through keyring-core with the platform store chosen explicitly:
//! Secret Service (GNOME Keyring, KWallet) on Linux, Keychain on macOS, Credential Manager on
//! Windows. The kernel keyutils store is not used: it does not survive a reboot, so it could
//! never be the only copy of a master key.
//!
//! Calls run on a short-lived thread of their own: the Secret Service client blocks on D-Bus
//! and must not run on (or nest inside) an async runtime's worker.

use crate::SecretString;
use std::fmt;
use std::sync::Arc;

const SERVICE: &str = "app.switchboard.desktop";

/// A keyring failure, described without any secret material.
#[derive(Debug, Clone)]
pub struct KeyringError(String);

impl KeyringError {
    pub fn new(message: impl Into<String>) -> Self {
        KeyringError(message.into())
    }
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyringError {}

fn user(workspace_uuid: &str) -> String {
    format!("master-key:{workspace_uuid}")
}

fn platform_store() -> Result<Arc<keyring_core::CredentialStore>, KeyringError> {
    #[cfg(target_os = "linux")]
    {
        zbus_secret_service_keyring_store::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>)
            .map_err(|e| KeyringError::new(format!("Secret Service unavailable: {e}")))
    }
    #[cfg(target_os = "macos")]
    {
        apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>)
            .map_err(|e| KeyringError::new(format!("Keychain unavailable: {e}")))
    }
    #[cfg(target_os = "windows")]
    {
        windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>)
            .map_err(|e| KeyringError::new(format!("Credential Manager unavailable: {e}")))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        Err(KeyringError::new("no OS keyring on this platform"))
    }
}

fn entry(workspace_uuid: &str) -> Result<keyring_core::Entry, KeyringError> {
    if keyring_core::get_default_store().is_none() {
        keyring_core::set_default_store(platform_store()?);
    }
    keyring_core::Entry::new(SERVICE, &user(workspace_uuid))
        .map_err(|e| KeyringError::new(e.to_string()))
}

fn on_own_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|_| Err(KeyringError::new("the keyring client panicked")))
}

/// The stored master key (base64), or `None` when there is no entry.
pub(crate) fn get(workspace_uuid: &str) -> Result<Option<SecretString>, KeyringError> {
    let uuid = workspace_uuid.to_string();
    on_own_thread(move || match entry(&uuid)?.get_password() {
        Ok(p) => Ok(Some(SecretString::new(p))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(KeyringError::new(e.to_string())),
    })
}

pub(crate) fn set(workspace_uuid: &str, value: &SecretString) -> Result<(), KeyringError> {
    let uuid = workspace_uuid.to_string();
    let value = value.clone();
    on_own_thread(move || {
        entry(&uuid)?
            .set_password(value.expose())
            .map_err(|e| KeyringError::new(e.to_string()))
    })
}
