//! Putting a run's files on a Linux board: a cache of files named by their
//! sha256 (`<workdir>/blobs/`), so an unchanged vlab, library, model or
//! dataset is sent once, and a folder per run (`<workdir>/runs/<id>/`)
//! that links them under their names. Before anything is looked up here,
//! one command checks the board ([`check`]): its architecture and its free
//! space; then [`stage`] asks what it holds and sends the rest.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vlab_harness::{Error, ErrorKind, Result};

use super::def::LinuxBoardDef;
use super::digests;
use super::ssh::{Ssh, quote};

/// Room kept free on the board beyond the files sent.
const MARGIN: u64 = 1 << 20;

/// Runs older than this are removed when a new one starts (a run whose
/// connection dropped cannot remove its own folder).
const STALE_RUN_MINUTES: u32 = 24 * 60;

/// A file the run needs on the board.
#[derive(Debug, Clone)]
pub struct Item {
    /// The file here.
    pub local: PathBuf,
    /// Its path in the run's folder (`bin/vlab`, `model/kws.tflite`).
    pub name: String,
}

/// A run's folder on the board, and what it took to make it.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The run's folder, absolute.
    pub run_dir: String,
    /// The files sent, by name in the run folder; the others were cached.
    pub sent: Vec<String>,
    /// Bytes sent.
    pub sent_bytes: u64,
    /// Time to check the board, send the files and make the folder.
    pub took: Duration,
}

/// A file's digest and size.
struct Digested {
    item: Item,
    sha256: String,
    bytes: u64,
}

/// Puts `items` into a new run folder on the `checked` board.
pub fn stage(
    ssh: &Ssh,
    board: &LinuxBoardDef,
    checked: &Checked,
    items: &[Item],
) -> Result<Staged> {
    let started = Instant::now();
    let digested: Vec<Digested> = items.iter().map(digest).collect::<Result<_>>()?;
    let held = held(ssh, &checked.workdir, &digested)?;
    let facts = checked;
    let missing: Vec<&Digested> = digested
        .iter()
        .filter(|d| !held.contains(&d.sha256))
        .collect();
    let needed: u64 = missing.iter().map(|d| d.bytes).sum();
    if needed + MARGIN > facts.free_bytes {
        let names: Vec<&str> = missing.iter().map(|d| d.item.name.as_str()).collect();
        return Err(Error::of_kind(
            ErrorKind::NoRoom,
            format!(
                "board {}: {} has {} free; the run needs {} there for {}",
                board.name,
                facts.workdir,
                size(facts.free_bytes),
                size(needed + MARGIN),
                names.join(", ")
            ),
        ));
    }
    for d in &missing {
        send(ssh, board, &facts.workdir, d)?;
    }
    let run_dir = make_run_dir(ssh, &facts.workdir, &digested)?;
    Ok(Staged {
        run_dir,
        sent: missing.iter().map(|d| d.item.name.clone()).collect(),
        sent_bytes: needed,
        took: started.elapsed(),
    })
}

/// Removes the run folder `run_dir`; best effort, as the board may be gone.
pub fn remove_run_dir(ssh: &Ssh, run_dir: &str) {
    let _ = ssh.run(
        "remove the run's folder",
        &format!("rm -rf {}", quote(run_dir)),
    );
}

fn digest(item: &Item) -> Result<Digested> {
    let (sha256, bytes) = digests::digest(&item.local)?;
    Ok(Digested {
        item: item.clone(),
        sha256,
        bytes,
    })
}

/// What the board said before anything was sent.
#[derive(Debug, Clone)]
pub struct Checked {
    /// vlab's folder on the board, absolute.
    pub workdir: String,
    /// Room left in it.
    pub free_bytes: u64,
}

/// One command: the connection, the architecture, the workdir made and
/// resolved, its free space, stale runs removed.
pub fn check(ssh: &Ssh, board: &LinuxBoardDef) -> Result<Checked> {
    let def = &board.launch;
    let workdir = def
        .workdir
        .clone()
        .unwrap_or_else(|| ".cache/vlab".to_owned());
    let prefix_check = match def.exec_prefix.first() {
        Some(program) => format!(
            "command -v {p} >/dev/null && echo prefix || echo noprefix\n",
            p = quote(program)
        ),
        None => String::new(),
    };
    let script = format!(
        "set -e\n\
         echo arch \"$(uname -m)\"\n\
         mkdir -p {w}/blobs {w}/runs\n\
         cd {w}\n\
         echo workdir \"$(pwd -P)\"\n\
         echo free \"$(df -Pk . | awk 'NR==2 {{print $4}}')\"\n\
         find runs -mindepth 1 -maxdepth 1 -mmin +{STALE_RUN_MINUTES} -exec rm -rf {{}} + 2>/dev/null || true\n\
         {prefix_check}",
        w = quote(&workdir),
    );
    let said = ssh.run("check the board", &script)?;
    let field = |key: &str| {
        said.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .map(str::to_owned)
    };
    let arch = field("arch").unwrap_or_default();
    if def.exec_prefix.is_empty() && !def.arch.uname().contains(&arch.as_str()) {
        return Err(Error::input(format!(
            "board {}: board.toml says launch.arch = \"{}\", but the board's `uname -m` says {arch:?}",
            board.name,
            def.arch.as_str()
        )));
    }
    if said.lines().any(|l| l == "noprefix") {
        return Err(Error::input(format!(
            "board {}: launch.exec_prefix runs {:?}, which the board does not have",
            board.name, def.exec_prefix[0]
        )));
    }
    let free_kib: u64 = field("free")
        .and_then(|f| f.trim().parse().ok())
        .ok_or_else(|| {
            Error::runtime(format!(
                "board {}: `df` did not say how much room {workdir} has",
                board.name
            ))
        })?;
    Ok(Checked {
        workdir: field("workdir").unwrap_or(workdir),
        free_bytes: free_kib * 1024,
    })
}

/// The digests among `digested` the board's cache holds.
fn held(ssh: &Ssh, workdir: &str, digested: &[Digested]) -> Result<Vec<String>> {
    let shas: Vec<&str> = digested.iter().map(|d| d.sha256.as_str()).collect();
    let script = format!(
        "cd {w}/blobs && for f in {shas}; do if [ -f \"$f\" ]; then echo \"$f\"; fi; done",
        w = quote(workdir),
        shas = shas.join(" ")
    );
    let said = ssh.run("look into the board's cache", &script)?;
    Ok(said.lines().map(str::to_owned).collect())
}

/// Sends one file into the cache, checked against its digest on arrival,
/// under a temporary name until it is whole.
fn send(ssh: &Ssh, board: &LinuxBoardDef, workdir: &str, d: &Digested) -> Result<()> {
    let script = format!(
        "set -e\n\
         cd {w}/blobs\n\
         t=.part.$$\n\
         trap 'rm -f \"$t\"' EXIT\n\
         cat > \"$t\"\n\
         echo \"{sha}  $t\" | sha256sum -c --status || {{ echo 'arrived corrupted' >&2; exit 3; }}\n\
         chmod 755 \"$t\"\n\
         mv \"$t\" {sha}\n\
         trap - EXIT",
        w = quote(workdir),
        sha = d.sha256,
    );
    let file = File::open(&d.item.local).map_err(|e| Error::io(&d.item.local, &e))?;
    let what = format!("copy {} ({})", d.item.name, size(d.bytes));
    ssh.run_with_input(&what, &script, file).map_err(|e| {
        if e.message().contains("No space left on device") {
            Error::of_kind(
                ErrorKind::NoRoom,
                format!(
                    "board {}: {workdir} filled up while vlab copied {}",
                    board.name, d.item.name
                ),
            )
        } else {
            e
        }
    })?;
    Ok(())
}

/// A new run folder linking every file from the cache under its name.
fn make_run_dir(ssh: &Ssh, workdir: &str, digested: &[Digested]) -> Result<String> {
    let id = format!(
        "{}-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
        std::process::id()
    );
    let run = format!("{workdir}/runs/{id}");
    let mut script = format!("set -e\nmkdir {r}\ncd {r}\n", r = quote(&run));
    for d in digested {
        let name = Path::new(&d.item.name);
        if let Some(parent) = name.parent().filter(|p| !p.as_os_str().is_empty()) {
            script.push_str(&format!(
                "mkdir -p {}\n",
                quote(&parent.display().to_string())
            ));
        }
        script.push_str(&format!(
            "ln -s {}/blobs/{} {}\n",
            quote(workdir),
            d.sha256,
            quote(&d.item.name)
        ));
    }
    ssh.run("make the run's folder", &script)?;
    Ok(run)
}

/// Bytes for people.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_for_people() {
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(52 << 20), "52.0 MiB");
    }
}
