//! `vlab lab serve` and `vlab lab add-user`: the glue between the lab
//! server (vlab-lab) and what only the `vlab` binary knows, the board
//! definitions and the engines.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use vlab_bridge::board::Boards;
use vlab_bridge::linux::LinuxBoardDef;
use vlab_harness::seam::model::ModelFormat;
use vlab_harness::seam::options::{OptionDecl, OptionKind};
use vlab_harness::{Error, Result};
use vlab_lab::catalog::{Catalog, EngineInfo, ParameterInfo, TargetOffer};
use vlab_lab::config::{LabConfig, TargetEntry, UserEntry};
use vlab_lab::error::LabError;
use vlab_lab::{JobProgram, auth};

use crate::cli::{LabAddUserArgs, LabServeArgs};
use crate::stdout::say;

/// The target name of this machine.
const HOST: &str = "host";

/// The board a config without targets offers: the emulated Cortex-M3.
const DEFAULT_BOARD: &str = "qemu-mps2-an385";

/// The user a config without users gets.
const DEFAULT_USER: &str = "lab@localhost";

/// Serves the lab until SIGINT or SIGTERM.
pub fn serve(args: &LabServeArgs) -> Result<()> {
    let mut config = match &args.config {
        Some(path) => LabConfig::load(path).map_err(lab_error)?,
        None => LabConfig::default(),
    };
    if config.users.is_empty() {
        let password = hex_password();
        let password_hash = auth::hash_password(&password).map_err(Error::runtime)?;
        say!("vlab lab: no users configured; log in as {DEFAULT_USER} with password {password}");
        config.users.push(UserEntry {
            email: DEFAULT_USER.to_owned(),
            password_hash,
        });
    }
    config.data_dir =
        std::path::absolute(&config.data_dir).map_err(|e| Error::io(&config.data_dir, &e))?;
    let boards_dir = std::path::absolute(Boards::default_dir(config.boards_dir.as_deref()))
        .map_err(|e| Error::runtime(format!("cannot resolve the boards folder: {e}")))?;
    let boards = Boards::load(&boards_dir)?;
    let catalog = catalog(&config, &boards).map_err(|m| match &args.config {
        Some(path) => Error::input(format!("{}: {m}", path.display())),
        None => Error::input(m),
    })?;
    let program = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("cannot find the vlab executable: {e}")))?;
    let job = JobProgram {
        program,
        env: vec![(
            "VLAB_BOARDS_DIR".to_owned(),
            boards_dir.display().to_string(),
        )],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the server's runtime: {e}")))?;
    runtime
        .block_on(vlab_lab::serve(config, catalog, job, stopped()))
        .map_err(lab_error)
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Appends a user to the config file, with the password from stdin.
pub fn add_user(args: &LabAddUserArgs) -> Result<()> {
    let email = args.email.trim();
    if email.is_empty() || email.contains(['"', '\\', '\n']) {
        return Err(Error::input(format!(
            "--email {:?} is not a usable login",
            args.email
        )));
    }
    if args.config.exists() {
        let config = LabConfig::load(&args.config).map_err(lab_error)?;
        if config.users.iter().any(|u| u.email == email) {
            return Err(Error::input(format!(
                "{}: user {email} exists already",
                args.config.display()
            )));
        }
    }
    let password = read_password(email)?;
    let hash = auth::hash_password(&password).map_err(Error::runtime)?;
    append(
        &args.config,
        &format!("\n[[users]]\nemail = \"{email}\"\npassword_hash = \"{hash}\"\n"),
    )?;
    // Check that the file still reads.
    LabConfig::load(&args.config).map_err(lab_error)?;
    say!("vlab lab: added {email} to {}", args.config.display());
    Ok(())
}

fn read_password(email: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for {email}: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::input(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.len() < 8 {
        return Err(Error::input("the password must have at least 8 characters"));
    }
    Ok(password)
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(path, &e))
}

/// A random password for the default user: 128 bits, hex.
fn hex_password() -> String {
    rand::random::<[u8; 16]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn lab_error(e: LabError) -> Error {
    if e.exit_code == 2 {
        Error::input(e.message)
    } else {
        Error::runtime(e.message)
    }
}

/// What the config's targets offer, checked against the boards folder and
/// the engines available here.
fn catalog(config: &LabConfig, boards: &Boards) -> std::result::Result<Catalog, String> {
    let defaults = [
        TargetEntry {
            name: DEFAULT_BOARD.to_owned(),
            uid: None,
            slots: None,
            engines: None,
        },
        TargetEntry {
            name: HOST.to_owned(),
            uid: None,
            slots: None,
            engines: None,
        },
    ];
    let entries: &[TargetEntry] = if config.targets.is_empty() {
        &defaults
    } else {
        &config.targets
    };
    let available: Vec<&'static dyn vlab_harness::seam::engine::Engine> = vlab_runtimes::ENGINES
        .iter()
        .copied()
        .filter(|e| e.version().is_ok())
        .collect();
    let mut targets: Vec<TargetOffer> = Vec::new();
    for entry in entries {
        let n = targets.iter().filter(|t| t.kind == entry.name).count();
        let uid = entry
            .uid
            .clone()
            .unwrap_or_else(|| format!("{}-{n}", entry.name));
        if targets.iter().any(|t| t.uid == uid) {
            return Err(format!("target uid {uid} is used twice"));
        }
        let offer = if entry.name == HOST {
            let here: Vec<String> = available.iter().map(|e| e.name().to_owned()).collect();
            TargetOffer {
                kind: HOST.to_owned(),
                display_name: "this machine's CPU".to_owned(),
                uid,
                engines: chosen_engines(entry, &here)?,
                benchmark_types: vec!["TYPE1".into(), "TYPE2".into()],
                storage: None,
                ram: vlab_harness::platform::memory::total_ram(),
                slots: entry.slots.unwrap_or(1),
            }
        } else if let Some(board) = boards.linux_board(&entry.name) {
            linux_offer(entry, board, uid, &available)?
        } else {
            let board = boards
                .get(&entry.name)
                .map_err(|e| format!("target {}: {}", entry.name, e.message()))?;
            one_slot(entry)?;
            TargetOffer {
                kind: board.name.clone(),
                display_name: board.description.clone(),
                uid,
                engines: chosen_engines(entry, &["micro".to_owned()])?,
                benchmark_types: vec!["TYPE1".into(), "TYPE2".into()],
                storage: Some(board.memory.flash_bytes),
                ram: Some(board.memory.ram_bytes),
                slots: 1,
            }
        };
        targets.push(offer);
    }
    let engines = available
        .iter()
        .filter(|e| {
            targets
                .iter()
                .any(|t| t.engines.iter().any(|n| n == e.name()))
        })
        .map(|e| EngineInfo {
            name: e.name().to_owned(),
            display_name: e.name().to_owned(),
            file_extensions: e
                .formats()
                .iter()
                .map(|f| extension(*f).to_owned())
                .collect(),
            parameters: e.options().iter().map(parameter).collect(),
        })
        .collect();
    Ok(Catalog { engines, targets })
}

/// What a Linux board reached over SSH offers: the engines its board.toml
/// lists that vlab has here (their libraries come from the same pinned
/// wheels as this host's), or the config's subset of them; one benchmark
/// at a time, as on any board.
fn linux_offer(
    entry: &TargetEntry,
    board: &LinuxBoardDef,
    uid: String,
    available: &[&'static dyn vlab_harness::seam::engine::Engine],
) -> std::result::Result<TargetOffer, String> {
    one_slot(entry)?;
    let here: Vec<String> = board
        .launch
        .engines
        .iter()
        .filter(|name| available.iter().any(|e| e.name() == name.as_str()))
        .cloned()
        .collect();
    Ok(TargetOffer {
        kind: board.name.clone(),
        display_name: board.description.clone(),
        uid,
        engines: chosen_engines(entry, &here)?,
        benchmark_types: vec!["TYPE1".into(), "TYPE2".into()],
        storage: board.memory.as_ref().map(|m| m.storage_bytes),
        ram: board.memory.as_ref().map(|m| m.ram_bytes),
        slots: 1,
    })
}

/// Refuses more than one slot for a board.
fn one_slot(entry: &TargetEntry) -> std::result::Result<(), String> {
    if entry.slots.is_some_and(|s| s > 1) {
        return Err(format!(
            "target {}: a board runs one benchmark at a time (slots = 1)",
            entry.name
        ));
    }
    Ok(())
}

/// The engines an entry offers: all of `here`, or the config's subset.
fn chosen_engines(
    entry: &TargetEntry,
    here: &[String],
) -> std::result::Result<Vec<String>, String> {
    match &entry.engines {
        None => Ok(here.to_vec()),
        Some(wanted) => {
            for engine in wanted {
                if !here.contains(engine) {
                    return Err(format!(
                        "target {}: engine {engine} is not available for it here (available: {})",
                        entry.name,
                        here.join(", ")
                    ));
                }
            }
            Ok(wanted.clone())
        }
    }
}

fn extension(format: ModelFormat) -> &'static str {
    match format {
        ModelFormat::Onnx => ".onnx",
        ModelFormat::Tflite => ".tflite",
    }
}

/// An engine option as the API lists a parameter.
fn parameter(option: &OptionDecl) -> ParameterInfo {
    let (kind, default_values) = match option.kind {
        OptionKind::Count { default } => ("integer", serde_json::json!(default)),
        OptionKind::Switch { default } => ("boolean", serde_json::json!(default)),
        OptionKind::Choice { names, .. } => ("enum", serde_json::json!(names)),
    };
    ParameterInfo {
        key: option.name.to_owned(),
        display_name: option.name.replace('_', " "),
        description: option.help.to_owned(),
        kind: kind.to_owned(),
        default_values,
    }
}
