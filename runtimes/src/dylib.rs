//! Finding an engine's shared library at run time: an environment variable
//! names it, else vlab looks in `lib/` beside the folder of its own
//! executable (the layout of the board tarballs `scripts/build-targets.sh`
//! packs: `bin/vlab`, `lib/libonnxruntime.so.*`), else where
//! `scripts/setup.sh` installs it (a Python venv with the engine's PyPI
//! wheel), else the system's library path.

use std::path::{Path, PathBuf};

/// Where one engine's library may be.
pub struct LibrarySearch {
    /// Environment variable naming the library file.
    pub env: &'static str,
    /// File name stems, tried in order, inside the venv's `site-packages`
    /// (`onnxruntime/capi/libonnxruntime.so`); a file whose name starts with
    /// the stem's file name matches, so versioned names are found.
    pub venv_files: &'static [&'static str],
    /// The library's file name in `lib/` beside the executable's folder
    /// (versioned names match there too) and in the system's library
    /// folders.
    pub system_name: &'static str,
}

impl LibrarySearch {
    /// The library to load, or a message listing every place looked at.
    pub fn find(&self) -> std::result::Result<PathBuf, String> {
        let exe = std::env::current_exe().ok();
        self.find_from(exe.as_deref())
    }

    /// [`find`](Self::find) for the executable at `exe`.
    fn find_from(&self, exe: Option<&Path>) -> std::result::Result<PathBuf, String> {
        if let Some(path) = std::env::var_os(self.env).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(format!("{}={} does not exist", self.env, path.display()))
            };
        }
        let mut looked = vec![format!("${} (unset)", self.env)];
        if let Some(lib) = exe.and_then(bundled_lib_dir) {
            let path = lib.join(self.system_name);
            if let Some(found) = versioned(&path) {
                return Ok(found);
            }
            looked.push(path.display().to_string());
        }
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
        for dir in ["/usr/lib", "/usr/local/lib", MULTIARCH_LIB_DIR] {
            let path = Path::new(dir).join(self.system_name);
            if path.is_file() {
                return Ok(path);
            }
            looked.push(path.display().to_string());
        }
        Err(format!("not found; looked at {}", looked.join(", ")))
    }
}

/// Debian's multiarch library folder for the architecture vlab is built for.
const MULTIARCH_LIB_DIR: &str = if cfg!(target_arch = "aarch64") {
    "/usr/lib/aarch64-linux-gnu"
} else if cfg!(target_arch = "arm") {
    "/usr/lib/arm-linux-gnueabihf"
} else {
    "/usr/lib/x86_64-linux-gnu"
};

/// `lib/` beside the folder holding the executable: `PREFIX/lib` for
/// `PREFIX/bin/vlab`. `current_exe` has resolved symbolic links, so a link
/// to the executable (`/usr/local/bin/vlab`) still finds its own `lib/`.
fn bundled_lib_dir(exe: &Path) -> Option<PathBuf> {
    Some(exe.parent()?.parent()?.join("lib"))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty folder under the system's temporary folder.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vlab-dylib-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    }

    const SEARCH: LibrarySearch = LibrarySearch {
        env: "VLAB_DYLIB_TEST_NEVER_SET",
        venv_files: &["vlab_dylib_test/libvlabtest.so"],
        system_name: "libvlabtest.so",
    };

    #[test]
    fn finds_a_versioned_library_in_lib_beside_the_executables_folder() {
        let prefix = scratch("bundled");
        std::fs::create_dir_all(prefix.join("bin")).expect("bin");
        std::fs::create_dir_all(prefix.join("lib")).expect("lib");
        let exe = prefix.join("bin/vlab");
        std::fs::write(&exe, b"").expect("exe");
        let lib = prefix.join("lib/libvlabtest.so.1.31.1");
        std::fs::write(&lib, b"").expect("lib");
        assert_eq!(SEARCH.find_from(Some(&exe)), Ok(lib));
        std::fs::remove_dir_all(prefix).expect("clean up");
    }

    #[test]
    fn names_the_bundled_folder_when_the_library_is_nowhere() {
        let prefix = scratch("missing");
        let exe = prefix.join("bin/vlab");
        let why = SEARCH.find_from(Some(&exe)).expect_err("nothing to find");
        let expected = prefix.join("lib/libvlabtest.so");
        assert!(
            why.contains(&expected.display().to_string()),
            "{why} does not name {}",
            expected.display()
        );
        std::fs::remove_dir_all(prefix).expect("clean up");
    }
}
