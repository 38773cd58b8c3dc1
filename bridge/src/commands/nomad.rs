//! `vlab nomad client-config`: this host's Nomad client meta and target
//! configuration, from the board definitions.

use vlab_bridge::board::{BoardDef, Boards};
use vlab_bridge::linux::{Arch, LinuxBoardDef, bundle, container};
use vlab_bridge::nomad::{self, HostSpec, HostTarget, RegistryAuth};
use vlab_harness::{Error, Result};

use crate::cli::{ClientConfigArgs, ClientConfigPart};
use crate::stdout::{say, say_raw};

/// Prints the client meta block, the target configuration, or both.
pub fn client_config(args: &ClientConfigArgs) -> Result<()> {
    let dir = Boards::default_dir(args.boards_dir.as_deref());
    let boards = Boards::load(&dir)?;
    let attached: Vec<&BoardDef> = if args.boards.is_empty() {
        boards.all().iter().collect()
    } else {
        args.boards
            .iter()
            .filter(|name| boards.linux_board(name).is_none())
            .map(|name| boards.get(name))
            .collect::<Result<_>>()?
    };
    let spec = HostSpec {
        host_id: match &args.host_id {
            Some(id) => id.clone(),
            None => nomad::hostname()?,
        },
        image: args
            .image
            .clone()
            .unwrap_or_else(|| format!("vlab:{}", env!("CARGO_PKG_VERSION"))),
        auth: args.registry.as_deref().map(registry_auth).transpose()?,
        host: (!args.no_host).then(host_target),
    };
    let linux: Vec<&LinuxBoardDef> = if args.boards.is_empty() {
        boards.linux().iter().collect()
    } else {
        args.boards
            .iter()
            .filter_map(|name| boards.linux_board(name))
            .collect()
    };
    let micro = vlab_runtimes::engine("micro")?.version()?;
    let mut config = nomad::target_config(&spec, &attached, &micro);
    nomad::add_linux_boards(
        &mut config,
        &spec,
        &linux,
        &host_target().engines,
        container_volumes,
    );
    let meta = nomad::client_meta(&config, env!("CARGO_PKG_VERSION"));
    let targets = nomad::target_config_json(&config);
    match args.only {
        Some(ClientConfigPart::Meta) => say_raw!("{meta}"),
        Some(ClientConfigPart::Targets) => say!("{targets}"),
        None => {
            say!("# Nomad client configuration: add to this host's agent configuration.");
            say_raw!("{meta}");
            say!();
            say!("# Target configuration (JSON): this host's targets for the lab's API.");
            say!("{targets}");
        }
    }
    Ok(())
}

/// This machine as a target: the engines available here.
fn host_target() -> HostTarget {
    HostTarget {
        engines: vlab_runtimes::ENGINES
            .iter()
            .filter_map(|e| Some((e.name().to_owned(), e.version().ok()?)))
            .collect(),
        ram: vlab_harness::platform::memory::total_ram(),
    }
}

/// The registry's credentials from the environment, so they stay out of
/// shell history and process lists.
fn registry_auth(registry: &str) -> Result<RegistryAuth> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::input(format!(
                    "--registry {registry}: set VLAB_REGISTRY_USERNAME and VLAB_REGISTRY_PASSWORD ({name} is not set)"
                ))
            })
    };
    Ok(RegistryAuth {
        registry: registry.to_owned(),
        username: var("VLAB_REGISTRY_USERNAME")?,
        password: var("VLAB_REGISTRY_PASSWORD")?,
    })
}

/// What the container mounts for `board`'s jobs: with, for a board of
/// another architecture than this host's, the tarball folder the host
/// built for it; a warning says so when there is none yet.
fn container_volumes(board: &LinuxBoardDef) -> Vec<String> {
    let arch = board.launch.arch;
    let dist = if Arch::this_build() == Some(arch) {
        None
    } else {
        match bundle::dist_folder(arch) {
            Ok((folder, _)) => std::path::absolute(folder).ok(),
            Err(e) => {
                eprintln!(
                    "warning: board {}: its jobs need a vlab build for it: {}",
                    board.name,
                    e.message()
                );
                None
            }
        }
    };
    container::volumes(board, dist.as_deref())
}
