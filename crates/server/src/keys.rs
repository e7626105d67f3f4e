//! The server's master key and what is derived from it.
//!
//! The master key never enters the database: it comes from configuration or from the
//! `master.key` file created (mode 0600) in the data directory on first start. Derived keys:
//! the pepper of the client-secret hash and the key that encrypts token-signing keys.

use crate::config::Config;
use anyhow::{bail, Context};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::Write;
use tollgate_domain::SecretPepper;

/// The 32-byte master key.
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Reads the key from configuration or the key file, creating the file if neither exists.
    pub fn load_or_create(config: &Config) -> anyhow::Result<MasterKey> {
        if let Some(hex_key) = &config.master_key {
            return MasterKey::from_hex(hex_key.trim()).context("master_key");
        }
        let path = config.data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return MasterKey::from_hex(text.trim())
                .with_context(|| format!("{} holds no valid key", path.display()));
        }
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.sync_all()?;
        Ok(MasterKey(key))
    }

    fn from_hex(text: &str) -> anyhow::Result<MasterKey> {
        let bytes = hex::decode(text).context("the master key must be 64 hex characters")?;
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("the master key must be 64 hex characters (32 bytes)");
        };
        Ok(MasterKey(key))
    }

    /// A key for one purpose, so no two uses share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"tollgate key derivation v1\0");
        h.update(purpose.as_bytes());
        h.update([0]);
        h.update(self.0);
        h.finalize().into()
    }

    /// The key-encryption key of the token-signing keys.
    pub fn signing_kek(&self) -> crate::oauth::keys::Kek {
        crate::oauth::keys::Kek::new(self.derive("signing-key-encryption"))
    }

    /// The pepper of the client-secret hash.
    pub fn secret_pepper(&self) -> SecretPepper {
        SecretPepper::new(self.derive("client-secret-pepper"))
    }
}
