//! An exported master key: the workspace's key sealed with a passphrase, in a small JSON file the
//! user keeps apart from the backups. With it (and the passphrase) a backup can be restored on
//! another machine, where the OS keyring has no key for that workspace.
//!
//! The passphrase is stretched with Argon2id (64 MiB, 3 passes, 1 lane; the parameters are
//! recorded in the file so they can grow) into a key that seals the master key with
//! XChaCha20-Poly1305; the workspace UUID is the associated data, so the file cannot be
//! relabelled for another workspace. Anyone with the file and the passphrase can read every
//! secret of every backup of the workspace: the file is as sensitive as the passphrase is weak.

use crate::{KeySource, MasterKey, SecretString, SecretsError};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Shortest passphrase accepted for an export, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

const FORMAT: &str = "switchboard-master-key";
const VERSION: u32 = 1;
const AAD_PREFIX: &[u8] = b"switchboard-master-key v1:";

/// Argon2id cost of new exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

pub const DEFAULT_COST: KdfCost = KdfCost {
    memory_kib: 64 * 1024,
    passes: 3,
    lanes: 1,
};

/// Refused when importing, so a crafted file cannot make us allocate or spin without end.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    format: String,
    version: u32,
    workspace_uuid: String,
    kdf: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// A master key read back from an exported file.
#[derive(Debug)]
pub struct ImportedKey {
    pub workspace_uuid: String,
    pub key: MasterKey,
}

/// Checks a passphrase for an export (an import takes whatever was chosen then).
pub fn check_passphrase(passphrase: &SecretString) -> Result<(), SecretsError> {
    if passphrase.expose().trim().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(SecretsError::WeakPassphrase(MIN_PASSPHRASE_CHARS));
    }
    Ok(())
}

fn derive(
    passphrase: &SecretString,
    salt: &[u8],
    cost: KdfCost,
) -> Result<Zeroizing<[u8; 32]>, SecretsError> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(32))
        .map_err(|e| SecretsError::BadKeyFile(format!("unusable key derivation settings: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose().as_bytes(), salt, out.as_mut())
        .map_err(|e| SecretsError::BadKeyFile(format!("key derivation failed: {e}")))?;
    Ok(out)
}

fn aad(workspace_uuid: &str) -> Vec<u8> {
    [AAD_PREFIX, workspace_uuid.as_bytes()].concat()
}

/// The key file's text for `key`, the master key of `workspace_uuid`.
pub fn export(
    key: &MasterKey,
    workspace_uuid: &str,
    passphrase: &SecretString,
) -> Result<String, SecretsError> {
    export_with(key, workspace_uuid, passphrase, DEFAULT_COST)
}

pub fn export_with(
    key: &MasterKey,
    workspace_uuid: &str,
    passphrase: &SecretString,
    cost: KdfCost,
) -> Result<String, SecretsError> {
    check_passphrase(passphrase)?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let wrapping = derive(passphrase, &salt, cost)?;
    let ciphertext = XChaCha20Poly1305::new(wrapping.as_ref().into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.bytes(),
                aad: &aad(workspace_uuid),
            },
        )
        .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
    let file = KeyFile {
        format: FORMAT.into(),
        version: VERSION,
        workspace_uuid: workspace_uuid.into(),
        kdf: "argon2id".into(),
        memory_kib: cost.memory_kib,
        passes: cost.passes,
        lanes: cost.lanes,
        salt: B64.encode(salt),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ciphertext),
    };
    Ok(serde_json::to_string_pretty(&file).expect("a key file always serialises") + "\n")
}

/// Reads a key file written by [`export`]. A wrong passphrase (or an altered file) is
/// [`SecretsError::WrongPassphrase`].
pub fn import(text: &str, passphrase: &SecretString) -> Result<ImportedKey, SecretsError> {
    let bad = |what: &str| SecretsError::BadKeyFile(what.to_string());
    let file: KeyFile =
        serde_json::from_str(text).map_err(|_| bad("it is not a Switchboard master key file"))?;
    if file.format != FORMAT || file.kdf != "argon2id" {
        return Err(bad("it is not a Switchboard master key file"));
    }
    if file.version != VERSION {
        return Err(bad(
            "it was written by a newer version of Switchboard; update the app",
        ));
    }
    if file.memory_kib > MAX_MEMORY_KIB || file.passes > MAX_PASSES || file.lanes > MAX_LANES {
        return Err(bad("its key derivation settings are out of range"));
    }
    let decode = |field: &str| B64.decode(field).map_err(|_| bad("it is damaged"));
    let (salt, nonce, ciphertext) = (
        decode(&file.salt)?,
        decode(&file.nonce)?,
        decode(&file.ciphertext)?,
    );
    if nonce.len() != 24 || salt.len() < 8 {
        return Err(bad("it is damaged"));
    }
    let cost = KdfCost {
        memory_kib: file.memory_kib,
        passes: file.passes,
        lanes: file.lanes,
    };
    let wrapping = derive(passphrase, &salt, cost)?;
    let plain = Zeroizing::new(
        XChaCha20Poly1305::new(wrapping.as_ref().into())
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(&file.workspace_uuid),
                },
            )
            .map_err(|_| SecretsError::WrongPassphrase)?,
    );
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| bad("it is damaged"))?;
    Ok(ImportedKey {
        workspace_uuid: file.workspace_uuid,
        key: MasterKey::from_bytes(bytes, KeySource::File),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap settings: these tests are about the format, not the cost.
    const CHEAP: KdfCost = KdfCost {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    fn pass(s: &str) -> SecretString {
        SecretString::new(s)
    }

    #[test]
    fn round_trip_keeps_the_key_and_the_workspace() {
        let key = MasterKey::generate();
        let text = export_with(&key, "ws-1", &pass("correct horse battery"), CHEAP).unwrap();
        let imported = import(&text, &pass("correct horse battery")).unwrap();
        assert_eq!(imported.workspace_uuid, "ws-1");
        assert!(imported.key.same_key(&key));
        assert_eq!(imported.key.source(), KeySource::File);
        // The key check sealed by the original opens with the imported key.
        imported.key.verify(&key.key_check()).unwrap();
    }

    #[test]
    fn the_file_holds_no_plain_key() {
        let key = MasterKey::from_bytes([7u8; 32], KeySource::Env);
        let text = export_with(&key, "ws-1", &pass("correct horse battery"), CHEAP).unwrap();
        assert!(!text.contains(&B64.encode([7u8; 32])), "{text}");
        assert!(!text.contains("correct horse"), "{text}");
    }

    #[test]
    fn a_wrong_passphrase_or_a_relabelled_file_is_refused() {
        let key = MasterKey::generate();
        let text = export_with(&key, "ws-1", &pass("correct horse battery"), CHEAP).unwrap();
        assert!(matches!(
            import(&text, &pass("correct horse battery!")),
            Err(SecretsError::WrongPassphrase)
        ));
        let relabelled = text.replace("\"ws-1\"", "\"ws-2\"");
        assert!(matches!(
            import(&relabelled, &pass("correct horse battery")),
            Err(SecretsError::WrongPassphrase)
        ));
    }

    #[test]
    fn weak_passphrases_and_junk_files_are_refused() {
        let key = MasterKey::generate();
        assert!(matches!(
            export_with(&key, "ws-1", &pass("   short   "), CHEAP),
            Err(SecretsError::WeakPassphrase(_))
        ));
        for junk in ["", "{}", "not json", r#"{"format":"other"}"#] {
            assert!(matches!(
                import(junk, &pass("correct horse battery")),
                Err(SecretsError::BadKeyFile(_))
            ));
        }
        let text = export_with(&key, "ws-1", &pass("correct horse battery"), CHEAP).unwrap();
        let greedy = text.replace("\"memory_kib\": 64", "\"memory_kib\": 4000000");
        assert!(matches!(
            import(&greedy, &pass("correct horse battery")),
            Err(SecretsError::BadKeyFile(_))
        ));
    }
}
