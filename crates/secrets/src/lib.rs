//! Secrets at rest. Design (see docs/ARCHITECTURE.md, "Secrets"):
//! - one random 256-bit master key per workspace, held in the OS keyring under an entry named by
//!   the workspace UUID (not a path), or given as `SWITCHBOARD_MASTER_KEY` (base64 of 32 bytes)
//!   for servers and CI, which takes precedence;
//! - each secret is sealed with XChaCha20-Poly1305 under that key, with the owning row's id as
//!   associated data, so a ciphertext moved to another row does not open;
//! - a key-check value sealed at workspace creation turns a wrong master key into a clear error.
//!
//! Secret values live in [`SecretString`], which redacts itself in `Debug` and `Display`.

pub mod export;
mod keyring;
mod master_key;

pub use keyring::KeyringError;
pub use master_key::{KeySource, MASTER_KEY_ENV, MasterKey, Sealed};
pub use switchboard_core::secret::SecretString;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    #[error(
        "No master key is available to unlock this workspace's secrets. Unlock or install an OS \
         keyring (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager), or set \
         {MASTER_KEY_ENV} to the base64 of 32 random bytes (for servers and CI)."
    )]
    NoMasterKey(#[source] KeyringError),
    #[error("{MASTER_KEY_ENV} must be the base64 encoding of exactly 32 bytes")]
    BadMasterKeyEnv,
    #[error(
        "The master key does not match this workspace: its secrets cannot be decrypted. Use the \
         key this workspace was created with (check {MASTER_KEY_ENV} or the OS keyring entry)."
    )]
    WrongMasterKey,
    #[error("A stored secret could not be decrypted (it is corrupt or belongs to another row)")]
    Corrupt,
    #[error("The OS keyring failed: {0}")]
    Keyring(#[source] KeyringError),
    #[error("Choose a passphrase of at least {0} characters.")]
    WeakPassphrase(usize),
    #[error("The passphrase does not open this master key file.")]
    WrongPassphrase,
    #[error("That file cannot be used as a master key file: {0}.")]
    BadKeyFile(String),
}
