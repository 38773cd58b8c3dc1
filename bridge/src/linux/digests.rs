//! sha256 digests of the files vlab sends to boards, remembered by path,
//! size and modification time in `~/.cache/vlab/digests.tsv`: hashing a
//! 600 MB debug build of vlab costs most of a second, on every run, for a
//! file that rarely changes. A stale line cannot match, as a changed file
//! has another size or time; a lost or corrupt cache only costs a hash.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};
use vlab_harness::{Error, Result};

/// Most files remembered.
const KEEP: usize = 256;

/// The sha256 (lowercase hex) and size of the file at `path`.
pub fn digest(path: &Path) -> Result<(String, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e))?;
    let key = key(path, &meta);
    let cache = cache_file();
    let lines = cache
        .as_deref()
        .and_then(|c| std::fs::read_to_string(c).ok())
        .unwrap_or_default();
    if let Some(key) = &key
        && let Some(sha) = lines
            .lines()
            .find_map(|l| l.strip_suffix(key.as_str())?.strip_suffix('\t'))
            .filter(|sha| sha.len() == 64)
    {
        return Ok((sha.to_owned(), meta.len()));
    }
    let sha = hash(path)?;
    if let (Some(cache), Some(key)) = (cache, key) {
        let mut kept: Vec<&str> = lines.lines().filter(|l| !l.ends_with(&key)).collect();
        let line = format!("{sha}\t{key}");
        kept.push(&line);
        let start = kept.len().saturating_sub(KEEP);
        // Best effort: the digest is right either way.
        let _ = cache
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| std::fs::write(&cache, kept[start..].join("\n") + "\n"));
    }
    Ok((sha, meta.len()))
}

/// `size\tmtime_ns\tcanonical path`, or `None` when the file has no time.
fn key(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    let canonical = std::fs::canonicalize(path).ok()?;
    Some(format!(
        "{}\t{}\t{}",
        meta.len(),
        mtime.as_nanos(),
        canonical.display()
    ))
}

fn cache_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vlab/digests.tsv"))
}

fn hash(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, &e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, &e))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_to_its_sha256_and_a_change_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest(&file).unwrap(), (abc.to_owned(), 3));
        assert_eq!(digest(&file).unwrap().0, abc, "from the cache");
        std::fs::write(&file, b"abcd").unwrap();
        assert_ne!(digest(&file).unwrap().0, abc, "a changed size misses");
    }
}
