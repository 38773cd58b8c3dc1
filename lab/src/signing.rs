//! Expiring signed URLs for a job's input files: HMAC-SHA256 over the path
//! and the expiry, with a key kept in the data folder. A Nomad job fetches
//! its files with such a URL, so no token sits in the job's meta.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signing key.
pub struct Signer {
    key: [u8; 32],
}

impl Signer {
    /// The key in `data_dir/signing.key`, created (mode 0600) on first use.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join("signing.key");
        let key = match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            _ => {
                let fresh: [u8; 32] = rand::random();
                write_private(&path, &fresh)?;
                fresh.to_vec()
            }
        };
        let mut array = [0; 32];
        array.copy_from_slice(&key);
        Ok(Self { key: array })
    }

    fn mac(&self, path: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The query string that makes `path` valid until `expires` (seconds
    /// since the epoch).
    pub fn query(&self, path: &str, expires: i64) -> String {
        format!("expires={expires}&sig={}", self.mac(path, expires))
    }

    /// Whether `sig` signs `path` until `expires`, and `expires` is after `now`.
    pub fn verify(&self, path: &str, expires: i64, sig: &str, now: i64) -> bool {
        let Ok(given) = hex::decode(sig) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        now < expires && mac.verify_slice(&given).is_ok()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_path_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::open(dir.path()).unwrap();
        let query = signer.query("/files/j1/job.tar.gz", 100);
        let sig = query.split("sig=").nth(1).unwrap();
        assert!(signer.verify("/files/j1/job.tar.gz", 100, sig, 99));
        assert!(!signer.verify("/files/j1/job.tar.gz", 100, sig, 100));
        assert!(!signer.verify("/files/j2/job.tar.gz", 100, sig, 99));
        assert!(!signer.verify("/files/j1/job.tar.gz", 101, sig, 99));
        let again = Signer::open(dir.path()).unwrap();
        assert!(again.verify("/files/j1/job.tar.gz", 100, sig, 99));
    }
}
