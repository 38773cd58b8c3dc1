//! Files named by their sha256: models, datasets and artifacts. A name a
//! user chose never becomes a path; a blob is written to a temporary file
//! first and renamed into place, so a blob that exists is complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The blob folder.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
    tmp: PathBuf,
}

/// A blob being written: bytes go to a temporary file and into the hash.
pub struct BlobWriter {
    file: Option<std::fs::File>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

/// A complete blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
    /// Length in bytes.
    pub size: u64,
}

/// Why a blob could not be written.
#[derive(Debug)]
pub enum BlobError {
    /// More bytes than the limit.
    TooLarge,
    /// The disk failed or is full.
    Io(std::io::Error),
}

impl From<std::io::Error> for BlobError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl Blobs {
    /// The blobs under `data_dir`, creating the folders.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        std::fs::create_dir_all(&root)?;
        std::fs::create_dir_all(&tmp)?;
        // Leftovers of uploads cut short by a crash.
        for entry in std::fs::read_dir(&tmp)? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(Self { root, tmp })
    }

    /// Where the blob with this hash lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Starts a blob of at most `limit` bytes.
    pub fn writer(&self, limit: u64) -> std::io::Result<BlobWriter> {
        let name = format!("upload-{}", hex::encode(rand::random::<[u8; 12]>()));
        let path = self.tmp.join(name);
        let file = std::fs::File::create_new(&path)?;
        Ok(BlobWriter {
            file: Some(file),
            path,
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }

    /// Stores `bytes` at once.
    pub fn put(&self, bytes: &[u8]) -> Result<Blob, BlobError> {
        let mut writer = self.writer(u64::MAX)?;
        writer.write(bytes)?;
        self.commit(writer)
    }

    /// Moves a finished writer's file into place under its hash.
    pub fn commit(&self, mut writer: BlobWriter) -> Result<Blob, BlobError> {
        if let Some(file) = writer.file.take() {
            file.sync_all()?;
        }
        let sha256 = hex::encode(std::mem::take(&mut writer.hasher).finalize());
        let target = self.path(&sha256);
        std::fs::create_dir_all(target.parent().unwrap_or(&self.root))?;
        std::fs::rename(&writer.path, &target)?;
        Ok(Blob {
            sha256,
            size: writer.size,
        })
    }

    /// Removes the blob `sha256`; a missing one is not an error.
    pub fn remove(&self, sha256: &str) {
        let _ = std::fs::remove_file(self.path(sha256));
    }
}

impl BlobWriter {
    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge);
        }
        self.hasher.update(bytes);
        if let Some(file) = &mut self.file {
            file.write_all(bytes)?;
        }
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Gone already after a commit; an abandoned upload leaves nothing.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_their_hash_and_limits_hold() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path()).unwrap();
        let blob = blobs.put(b"abc").unwrap();
        assert_eq!(
            blob.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(std::fs::read(blobs.path(&blob.sha256)).unwrap(), b"abc");
        let mut writer = blobs.writer(2).unwrap();
        assert!(matches!(writer.write(b"abc"), Err(BlobError::TooLarge)));
        drop(writer);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
