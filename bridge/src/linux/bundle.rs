//! What a Linux board needs from this machine to run an engine: vlab's
//! engine worker built for its architecture, and the engine's shared
//! library for it. For this machine's architecture they are this very vlab
//! (which serves the worker too, and cannot be a stale build) and the
//! library it loads itself; for another they come from the tarball folders
//! `scripts/build-targets.sh` writes under `dist/`, whose `vlab-worker` is
//! the worker alone (worker/ in the workspace).

use std::path::{Path, PathBuf};

use vlab_harness::{Error, Result};

use super::def::Arch;

/// A worker build and an engine library for one architecture.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The executable serving `engine-worker`: `vlab-worker`, or `vlab`.
    pub worker: PathBuf,
    /// The engine's library and the variable that points vlab at it
    /// (`ORT_DYLIB_PATH`); `None` for an engine built into vlab.
    pub library: Option<(PathBuf, &'static str)>,
    /// How to rebuild `worker` when it is another build than this vlab,
    /// which may speak another worker protocol; `None`: this very vlab.
    pub rebuild: Option<String>,
}

impl Bundle {
    /// The files `engine` needs on a board of `arch`.
    pub fn find(arch: Arch, engine: &str) -> Result<Self> {
        let search = vlab_runtimes::library(engine);
        if Arch::this_build() == Some(arch) {
            let vlab = std::env::current_exe()
                .map_err(|e| Error::runtime(format!("cannot find this vlab's executable: {e}")))?;
            let library = match search {
                Some(search) => Some((
                    search.find().map_err(|why| {
                        Error::runtime(format!(
                            "engine {engine}'s library for the board ({}): {why}",
                            arch.as_str()
                        ))
                    })?,
                    search.env,
                )),
                None => None,
            };
            return Ok(Self {
                worker: vlab,
                library,
                rebuild: None,
            });
        }
        let (folder, worker) = dist_folder(arch)?;
        let library = match search {
            Some(search) => Some((library_in(&folder, search.system_name, engine)?, search.env)),
            None => None,
        };
        Ok(Self {
            worker,
            library,
            rebuild: Some(format!(
                "`scripts/build-targets.sh {}` (it wrote {})",
                arch.as_str(),
                folder.display()
            )),
        })
    }
}

/// The worker-only build's executable (worker/ in the workspace).
const WORKER: &str = "vlab-worker";

/// Where `scripts/build-targets.sh` puts its tarballs' folders:
/// `$VLAB_DIST_DIR`, else `dist/` here, else `dist/` beside an installed
/// vlab's `bin/` folder (`/opt/vlab/dist` in the container), else the
/// source tree's.
fn dist_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("VLAB_DIST_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = vec![PathBuf::from("dist")];
    if let Some(installed) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("dist")))
    {
        dirs.push(installed);
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    dirs
}

/// The worker in a tarball folder: `bin/vlab-worker`, which every tarball
/// has, else the full `bin/vlab`, which serves the worker too.
fn worker_in(folder: &Path) -> Option<PathBuf> {
    [WORKER, "vlab"]
        .iter()
        .map(|name| folder.join("bin").join(name))
        .find(|path| path.is_file())
}

/// The unpacked tarball folder for `arch` of this vlab's version, and the
/// worker in it.
pub fn dist_folder(arch: Arch) -> Result<(PathBuf, PathBuf)> {
    let name = format!("vlab-{}-{}-linux", env!("CARGO_PKG_VERSION"), arch.as_str());
    let dirs = dist_dirs();
    dirs.iter()
        .map(|dir| dir.join(&name))
        .find_map(|folder| worker_in(&folder).map(|worker| (folder, worker)))
        .ok_or_else(|| {
            let looked: Vec<String> = dirs
                .iter()
                .map(|d| d.join(&name).display().to_string())
                .collect();
            Error::runtime(format!(
                "no vlab build for {arch}: run `scripts/build-targets.sh {arch}` (looked in {})",
                looked.join(", "),
                arch = arch.as_str()
            ))
        })
}

/// The library called `name` (or a versioned `name.*`) in `folder/lib`.
fn library_in(folder: &Path, name: &str, engine: &str) -> Result<PathBuf> {
    let lib = folder.join("lib");
    let exact = lib.join(name);
    if exact.is_file() {
        return Ok(exact);
    }
    let prefix = format!("{name}.");
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    versioned.sort();
    versioned.pop().ok_or_else(|| {
        Error::runtime(format!(
            "{} has no {name} for engine {engine}: its wheel may not exist for this architecture (docs/boards.md)",
            lib.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_library_is_found_in_a_tarball_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/libonnxruntime.so.1.31.1"), b"elf").unwrap();
        assert_eq!(
            library_in(dir.path(), "libonnxruntime.so", "ort").unwrap(),
            dir.path().join("lib/libonnxruntime.so.1.31.1")
        );
        let missing = library_in(dir.path(), "libtensorflowlite_c.so", "tflite").unwrap_err();
        assert!(missing.message().contains("has no libtensorflowlite_c.so"));
    }
}
