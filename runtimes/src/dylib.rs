//! Finding an engine's shared library at run time: an environment variable
//! names it, else vlab looks where `scripts/setup.sh` installs it (a Python
//! venv with the engine's PyPI wheel), else the system's library path.

use std::path::{Path, PathBuf};

/// Where one engine's library may be.
pub struct LibrarySearch {
    /// Environment variable naming the library file.
    pub env: &'static str,
    /// File name stems, tried in order, inside the venv's `site-packages`
    /// (`onnxruntime/capi/libonnxruntime.so`); a file whose name starts with
    /// the stem's file name matches, so versioned names are found.
    pub venv_files: &'static [&'static str],
    /// The name the dynamic loader finds on the system's library path.
    pub system_name: &'static str,
}

impl LibrarySearch {
    /// The library to load, or a message listing every place looked at.
    pub fn find(&self) -> std::result::Result<PathBuf, String> {
        if let Some(path) = std::env::var_os(self.env).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(format!("{}={} does not exist", self.env, path.display()))
            };
        }
        let mut looked = vec![format!("${} (unset)", self.env)];
        for venv in venvs() {
            for site in site_packages(&venv) {
                for stem in self.venv_files {
                    if let Some(found) = versioned(&site.join(stem)) {
                        return Ok(found);
                    }
                    looked.push(site.join(stem).display().to_string());
                }
            }
        }
        for dir in ["/usr/lib", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu"] {
            let path = Path::new(dir).join(self.system_name);
            if path.is_file() {
                return Ok(path);
            }
            looked.push(path.display().to_string());
        }
        Err(format!("not found; looked at {}", looked.join(", ")))
    }
}

/// The venvs `scripts/setup.sh` makes: `.venv/engines` in the current
/// folder and in vlab's source tree.
fn venvs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".venv/engines")];
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/engines");
    if !dirs.contains(&source) {
        dirs.push(source);
    }
    dirs
}

/// `lib/python3.*/site-packages` folders of a venv.
fn site_packages(venv: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found
}

/// `path` itself, or a file beside it whose name starts with its name
/// (`libonnxruntime.so.1.31.1` for `libonnxruntime.so`).
fn versioned(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let (dir, name) = (path.parent()?, path.file_name()?.to_str()?);
    let mut matches: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name))
        })
        .collect();
    matches.sort();
    matches.pop()
}
