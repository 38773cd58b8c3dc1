//! What a lab host advertises to the cluster, generated from the board
//! definitions: the Nomad client `meta` block that the benchmark job's
//! constraint matches (deploy/nomad/vlab-benchmark.nomad.hcl), and the
//! per-host target configuration JSON of the pipeline contract
//! (`{ <target_type>: [ { target_uid, memory, engines } ] }`).

use std::collections::BTreeMap;

use serde::Serialize;
use vlab_harness::{Error, Result};

use crate::board::BoardDef;
use crate::linux::LinuxBoardDef;

/// The client meta key listing a host's targets, comma-separated; the
/// job's constraint tests it with `set_contains`.
pub const TARGETS_META_KEY: &str = "vlab_targets";

/// The target name of this machine's own CPU (`TARGET=host`).
pub const HOST_TARGET: &str = "host";

/// The benchmark types every target serves (TYPE3, training, is refused).
const SUPPORTED_TYPES: [&str; 2] = ["TYPE1", "TYPE2"];

/// One host's targets, in the contract's shape: target type (board name,
/// or `host`) to the physical targets of that type on the host.
pub type TargetConfig = BTreeMap<String, Vec<Target>>;

/// One physical target on a host.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Unique in the lab: `{host id}-{target type}`.
    pub target_uid: String,
    /// Sizes, bytes; `null` where unknown.
    pub memory: TargetMemory,
    /// Engine name to how the pipeline runs it on this target.
    pub engines: BTreeMap<String, EngineEntry>,
}

/// A target's memory, bytes.
#[derive(Debug, Clone, Serialize)]
pub struct TargetMemory {
    /// Flash of a board; `null` for the host.
    pub storage: Option<u64>,
    /// RAM.
    pub ram: Option<u64>,
}

/// How the pipeline runs one engine on one target.
#[derive(Debug, Clone, Serialize)]
pub struct EngineEntry {
    /// The engine's version, as `vlab engines` reports it.
    pub version: String,
    /// The container image that runs the job.
    pub image: String,
    /// Benchmark types the engine serves here.
    pub supported_types: Vec<String>,
    /// Host devices the container needs.
    pub devices: Vec<String>,
    /// Host folders the container needs.
    pub volumes: Vec<String>,
    /// Environment of the job's container.
    pub env: BTreeMap<String, String>,
    /// Credentials of the image's registry, when it needs them.
    pub auth: Option<RegistryAuth>,
}

/// Credentials of a container registry.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryAuth {
    /// Registry host.
    pub registry: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

/// What goes into one host's configuration.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// The host's id in target uids (usually its hostname).
    pub host_id: String,
    /// The pipeline container image.
    pub image: String,
    /// Registry credentials for the image, if it needs them.
    pub auth: Option<RegistryAuth>,
    /// Whether the host's own CPU is a target, with these engines
    /// (name, version) and this much RAM.
    pub host: Option<HostTarget>,
}

/// The host's own CPU as a target.
#[derive(Debug, Clone)]
pub struct HostTarget {
    /// Engines available here: name and version.
    pub engines: Vec<(String, String)>,
    /// RAM, bytes.
    pub ram: Option<u64>,
}

/// The per-host target configuration for `boards` attached to a host
/// (plus the host itself, if `spec.host` says so). Boards run the micro
/// engine, at `micro_version`, through the bridge.
pub fn target_config(spec: &HostSpec, boards: &[&BoardDef], micro_version: &str) -> TargetConfig {
    let mut config = TargetConfig::new();
    if let Some(host) = &spec.host {
        let engines = host
            .engines
            .iter()
            .map(|(name, version)| (name.clone(), engine_entry(spec, version, Vec::new())))
            .collect();
        config.insert(
            HOST_TARGET.to_owned(),
            vec![Target {
                target_uid: format!("{}-{HOST_TARGET}", spec.host_id),
                memory: TargetMemory {
                    storage: None,
                    ram: host.ram,
                },
                engines,
            }],
        );
    }
    for board in boards {
        let entry = engine_entry(spec, micro_version, board.host_devices());
        config.entry(board.name.clone()).or_default().push(Target {
            target_uid: format!("{}-{}", spec.host_id, board.name),
            memory: TargetMemory {
                storage: Some(board.memory.flash_bytes),
                ram: Some(board.memory.ram_bytes),
            },
            engines: BTreeMap::from([("micro".to_owned(), entry)]),
        });
    }
    config
}

/// Adds the Linux boards this host reaches over SSH to `config`: each
/// offers the engines its board.toml lists, at the versions of `engines`
/// (name, version): the boards' libraries come from the same pinned wheels
/// as this host's (scripts/engine-requirements.txt). `volumes` says what
/// the container must mount to reach a board (linux::container).
pub fn add_linux_boards(
    config: &mut TargetConfig,
    spec: &HostSpec,
    boards: &[&LinuxBoardDef],
    engines: &[(String, String)],
    volumes: impl Fn(&LinuxBoardDef) -> Vec<String>,
) {
    for board in boards {
        let mounts = volumes(board);
        let offered = board
            .launch
            .engines
            .iter()
            .filter_map(|name| {
                let (_, version) = engines.iter().find(|(n, _)| n == name)?;
                let mut entry = engine_entry(spec, version, Vec::new());
                entry.volumes.clone_from(&mounts);
                Some((name.clone(), entry))
            })
            .collect();
        config.entry(board.name.clone()).or_default().push(Target {
            target_uid: format!("{}-{}", spec.host_id, board.name),
            memory: TargetMemory {
                storage: board.memory.as_ref().map(|m| m.storage_bytes),
                ram: board.memory.as_ref().map(|m| m.ram_bytes),
            },
            engines: offered,
        });
    }
}

fn engine_entry(spec: &HostSpec, version: &str, devices: Vec<String>) -> EngineEntry {
    EngineEntry {
        version: version.to_owned(),
        image: spec.image.clone(),
        supported_types: SUPPORTED_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        devices,
        volumes: Vec::new(),
        env: BTreeMap::new(),
        auth: spec.auth.clone(),
    }
}

/// The Nomad client agent's configuration that advertises `config`'s
/// targets: `client { meta { vlab_targets = "a,b" vlab_version = "…" } }`.
pub fn client_meta(config: &TargetConfig, vlab_version: &str) -> String {
    let targets: Vec<&str> = config.keys().map(String::as_str).collect();
    let meta = hcl::Block::builder("meta")
        .add_attribute((TARGETS_META_KEY, targets.join(",")))
        .add_attribute(("vlab_version", vlab_version))
        .build();
    let body = hcl::Body::builder()
        .add_block(hcl::Block::builder("client").add_block(meta).build())
        .build();
    hcl::to_string(&body).expect("a body of string attributes always formats")
}

/// The JSON text of `config`.
pub fn target_config_json(config: &TargetConfig) -> String {
    serde_json::to_string_pretty(config).expect("the target configuration always serialises")
}

/// This machine's hostname, for target uids.
pub fn hostname() -> Result<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if name.is_empty() {
        return Err(Error::input(
            "cannot read this machine's hostname: give the host's id with --host-id",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Boards;

    fn spec(host: bool) -> HostSpec {
        HostSpec {
            host_id: "lab-07".to_owned(),
            image: "registry.lab/vlab:0.1.0".to_owned(),
            auth: None,
            host: host.then(|| HostTarget {
                engines: vec![("tract".to_owned(), "tract 0.21".to_owned())],
                ram: Some(1 << 30),
            }),
        }
    }

    fn boards() -> Boards {
        Boards::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards")).unwrap()
    }

    #[test]
    fn boards_become_micro_targets_with_their_memory() {
        let boards = boards();
        let an385 = boards.get("qemu-mps2-an385").unwrap();
        let config = target_config(&spec(false), &[an385], "vlab-micro 0.1.0");
        let json: serde_json::Value = serde_json::from_str(&target_config_json(&config)).unwrap();
        let target = &json["qemu-mps2-an385"][0];
        assert_eq!(target["target_uid"], "lab-07-qemu-mps2-an385");
        assert_eq!(target["memory"]["storage"], 4_194_304);
        assert_eq!(target["memory"]["ram"], 4_194_304);
        let micro = &target["engines"]["micro"];
        assert_eq!(micro["version"], "vlab-micro 0.1.0");
        assert_eq!(micro["image"], "registry.lab/vlab:0.1.0");
        assert_eq!(
            micro["supported_types"],
            serde_json::json!(["TYPE1", "TYPE2"])
        );
        assert_eq!(micro["devices"], serde_json::json!([]));
        assert!(micro["auth"].is_null());
        assert!(json.get(HOST_TARGET).is_none());
    }

    #[test]
    fn a_linux_board_offers_its_engines_at_the_hosts_versions() {
        let rpi5 = LinuxBoardDef::load(
            std::path::Path::new("/boards/rpi5"),
            "name = \"rpi5\"\ndescription = \"Raspberry Pi 5\"\n[memory]\nram_bytes = 8\nstorage_bytes = 64\n\
             [launch]\nkind = \"ssh\"\nhost = \"rpi5.lab\"\narch = \"aarch64\"\nengines = [\"ort\", \"tract\"]\n",
        )
        .unwrap();
        let mut config = target_config(&spec(false), &[], "vlab-micro 0.1.0");
        let engines = [
            ("tract".to_owned(), "tract 0.21".to_owned()),
            ("ort".to_owned(), "1.31.1".to_owned()),
        ];
        add_linux_boards(&mut config, &spec(false), &[&rpi5], &engines, |b| {
            vec![format!("{}:/opt/vlab/boards/rpi5:ro", b.dir.display())]
        });
        let target = &config["rpi5"][0];
        assert_eq!(target.target_uid, "lab-07-rpi5");
        assert_eq!(
            (target.memory.ram, target.memory.storage),
            (Some(8), Some(64))
        );
        let offered: Vec<&str> = target.engines.keys().map(String::as_str).collect();
        assert_eq!(offered, ["ort", "tract"]);
        assert_eq!(target.engines["ort"].version, "1.31.1");
        assert_eq!(
            target.engines["tract"].volumes,
            ["/boards/rpi5:/opt/vlab/boards/rpi5:ro"]
        );
    }

    #[test]
    fn the_host_target_lists_its_engines() {
        let config = target_config(&spec(true), &[], "vlab-micro 0.1.0");
        let host = &config[HOST_TARGET][0];
        assert_eq!(host.target_uid, "lab-07-host");
        assert_eq!(host.memory.ram, Some(1 << 30));
        assert_eq!(host.memory.storage, None);
        assert_eq!(host.engines["tract"].version, "tract 0.21");
    }

    #[test]
    fn client_meta_lists_the_targets_for_set_contains() {
        let boards = boards();
        let all: Vec<&BoardDef> = boards.all().iter().collect();
        let config = target_config(&spec(true), &all, "vlab-micro 0.1.0");
        let text = client_meta(&config, "0.1.0");
        let body: hcl::Body = hcl::from_str(&text).unwrap();
        let client = body.blocks().next().unwrap();
        assert_eq!(client.identifier(), "client");
        let meta = client.body().blocks().next().unwrap();
        let targets = meta
            .body()
            .attributes()
            .find(|a| a.key() == TARGETS_META_KEY)
            .unwrap();
        assert_eq!(
            targets.expr().to_string(),
            "\"host,nrf52840-dk,nucleo-l4r5zi,qemu-mps2-an385,qemu-mps2-an386,rpi-pico,stm32f746g-disco\""
        );
    }
}
