use crate::{SecretString, SecretsError, keyring};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

/// Environment variable that supplies the master key (base64 of 32 bytes); wins over the keyring.
pub const MASTER_KEY_ENV: &str = "SWITCHBOARD_MASTER_KEY";

const KEY_CHECK_PLAINTEXT: &[u8] = b"switchboard key check v1";
const KEY_CHECK_AAD: &[u8] = b"key-check";

/// Where the master key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Env,
    Keyring,
    /// Generated now and saved to the keyring.
    Created,
    /// Read from an exported key file (see `export`).
    File,
}

/// The workspace's 256-bit master key. Zeroed on drop; never printed.
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    source: KeySource,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey([redacted], {:?})", self.source)
    }
}

/// An encrypted secret as stored: a fresh 24-byte nonce and the ciphertext with its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32], source: KeySource) -> Self {
        MasterKey {
            key: Zeroizing::new(bytes),
            source,
        }
    }

    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        MasterKey {
            key: bytes,
            source: KeySource::Created,
        }
    }

    pub fn source(&self) -> KeySource {
        self.source
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// Whether two keys are the same key (compared without an early exit).
    pub fn same_key(&self, other: &MasterKey) -> bool {
        self.key
            .iter()
            .zip(other.key.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Saves this key in the OS keyring as the master key of `workspace_uuid` (restoring a
    /// backup on a new machine), replacing any entry there.
    pub fn save_to_keyring(&self, workspace_uuid: &str) -> Result<(), SecretsError> {
        let encoded = SecretString::new(B64.encode(self.key.as_ref()));
        keyring::set(workspace_uuid, &encoded).map_err(SecretsError::Keyring)
    }

    /// The key from `SWITCHBOARD_MASTER_KEY`, if set.
    pub fn from_env() -> Result<Option<Self>, SecretsError> {
        let Ok(value) = std::env::var(MASTER_KEY_ENV) else {
            return Ok(None);
        };
        let decoded = Zeroizing::new(
            B64.decode(value.trim())
                .map_err(|_| SecretsError::BadMasterKeyEnv)?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| SecretsError::BadMasterKeyEnv)?;
        Ok(Some(MasterKey::from_bytes(bytes, KeySource::Env)))
    }

    /// The workspace's key: the environment variable, else the keyring entry for
    /// `workspace_uuid`; when neither exists and `create` is set, a new key saved to the keyring.
    pub fn load(workspace_uuid: &str, create: bool) -> Result<Self, SecretsError> {
        if let Some(key) = Self::from_env()? {
            return Ok(key);
        }
        match keyring::get(workspace_uuid) {
            Ok(Some(encoded)) => {
                let decoded = Zeroizing::new(B64.decode(encoded.expose()).map_err(|_| {
                    SecretsError::Keyring(keyring::KeyringError::new(
                        "the keyring entry is not a valid master key",
                    ))
                })?);
                let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
                    SecretsError::Keyring(keyring::KeyringError::new(
                        "the keyring entry has the wrong length",
                    ))
                })?;
                Ok(MasterKey::from_bytes(bytes, KeySource::Keyring))
            }
            Ok(None) if create => {
                let key = MasterKey::generate();
                let encoded = SecretString::new(B64.encode(key.key.as_ref()));
                keyring::set(workspace_uuid, &encoded).map_err(SecretsError::NoMasterKey)?;
                Ok(key)
            }
            Ok(None) => Err(SecretsError::NoMasterKey(keyring::KeyringError::new(
                "no keyring entry for this workspace",
            ))),
            Err(e) => Err(SecretsError::NoMasterKey(e)),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }

    /// Encrypts `plaintext`, binding it to `aad` (the owning row's id).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Sealed {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    fn open_bytes(&self, sealed: &Sealed, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        if sealed.nonce.len() != 24 {
            return Err(SecretsError::Corrupt);
        }
        self.cipher()
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretsError::Corrupt)
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<SecretString, SecretsError> {
        let bytes = self.open_bytes(sealed, aad)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretsError::Corrupt)?;
        Ok(SecretString::new(text))
    }

    /// A value to store with the workspace so a wrong key is detected (see [`Self::verify`]).
    pub fn key_check(&self) -> Sealed {
        self.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)
    }

    pub fn verify(&self, key_check: &Sealed) -> Result<(), SecretsError> {
        match self.open_bytes(key_check, KEY_CHECK_AAD) {
            Ok(bytes) if bytes.as_slice() == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(SecretsError::WrongMasterKey),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"sk_test_abc", b"row-1");
        assert_ne!(sealed.ciphertext, b"sk_test_abc");
        assert_eq!(key.open(&sealed, b"row-1").unwrap().expose(), "sk_test_abc");
        assert!(matches!(
            key.open(&sealed, b"row-2"),
            Err(SecretsError::Corrupt)
        ));
        // Fresh nonce every time.
        assert_ne!(key.seal(b"x", b"a").nonce, key.seal(b"x", b"a").nonce);
    }

    #[test]
    fn key_check_detects_a_wrong_key() {
        let key = MasterKey::generate();
        let check = key.key_check();
        key.verify(&check).unwrap();
        let other = MasterKey::generate();
        assert!(matches!(
            other.verify(&check),
            Err(SecretsError::WrongMasterKey)
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let key = MasterKey::from_bytes([7u8; 32], KeySource::Env);
        let printed = format!("{key:?}");
        assert!(!printed.contains('7'), "{printed}");
    }
}
