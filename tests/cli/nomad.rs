//! deploy/nomad/vlab-benchmark.nomad.hcl parses as HCL, has the stanzas a
//! lab's Nomad needs, and matches what `vlab nomad client-config`
//! advertises (docs/nomad.md).

use std::collections::BTreeSet;

use hcl::{Block, Body};

use crate::support::{root, vlab};

fn blocks<'a>(body: &'a Body, name: &str) -> impl Iterator<Item = &'a Block> {
    let name = name.to_owned();
    body.blocks().filter(move |b| b.identifier() == name)
}

fn one<'a>(body: &'a Body, name: &str) -> &'a Block {
    let found: Vec<&Block> = blocks(body, name).collect();
    assert_eq!(found.len(), 1, "exactly one {name} block");
    found[0]
}

/// The expression of attribute `key`, as HCL text.
fn attr(body: &Body, key: &str) -> String {
    body.attributes()
        .find(|a| a.key() == key)
        .unwrap_or_else(|| panic!("attribute {key}"))
        .expr()
        .to_string()
}

fn keys(body: &Body) -> BTreeSet<String> {
    body.attributes().map(|a| a.key().to_owned()).collect()
}

fn job_file() -> (String, Body) {
    let text =
        std::fs::read_to_string(root().join("deploy/nomad/vlab-benchmark.nomad.hcl")).unwrap();
    let body = hcl::from_str(&text).unwrap();
    (text, body)
}

#[test]
fn the_nomad_job_has_every_required_stanza() {
    let (_, file) = job_file();
    let variables: BTreeSet<&str> = blocks(&file, "variable")
        .map(|b| b.labels()[0].as_str())
        .collect();
    assert!(variables.is_superset(&BTreeSet::from(["target", "image", "devices", "volumes"])));

    let job = one(&file, "job");
    assert_eq!(job.labels()[0].as_str(), "vlab-benchmark");
    let job = job.body();
    assert_eq!(attr(job, "type"), "\"batch\"");
    assert_eq!(attr(job, "id"), "\"vlab-benchmark-${var.target}\"");

    let parameterized = one(job, "parameterized").body();
    let required = attr(parameterized, "meta_required");
    for key in ["model", "files_url", "engine", "benchmark_type", "job_id"] {
        assert!(required.contains(&format!("\"{key}\"")), "{key} required");
    }
    let meta = keys(one(job, "meta").body());
    for key in [
        "model",
        "engine",
        "target",
        "benchmark_type",
        "nb_inference",
    ] {
        assert!(meta.contains(key), "meta {key}");
    }

    let constraint = one(job, "constraint").body();
    assert_eq!(attr(constraint, "attribute"), "\"${meta.vlab_targets}\"");
    assert_eq!(attr(constraint, "operator"), "\"set_contains\"");
    assert_eq!(attr(constraint, "value"), "var.target");

    let group = one(job, "group").body();
    one(group, "restart");
    let reschedule = one(group, "reschedule").body();
    assert!(keys(reschedule).is_superset(&BTreeSet::from([
        "attempts".to_owned(),
        "delay_function".to_owned()
    ])));
    let task = one(group, "task").body();
    assert_eq!(attr(task, "driver"), "\"docker\"");
    let config = one(task, "config").body();
    assert_eq!(attr(config, "image"), "var.image");
    assert_eq!(
        attr(config, "args").split_whitespace().collect::<String>(),
        "[\"job\"]"
    );
    let devices = attr(config, "devices");
    assert!(devices.contains("var.devices") && devices.contains("host_path"));
    assert_eq!(attr(config, "volumes"), "var.volumes");
    let artifact = one(task, "artifact").body();
    assert_eq!(attr(artifact, "source"), "\"${NOMAD_META_files_url}\"");
    let env = keys(one(task, "env").body());
    for key in [
        "TARGET",
        "RUNTIME",
        "BENCHMARK_TYPE",
        "NB_INFERENCE",
        "MODEL_FILENAME",
        "DATASET_FILENAME",
        "PARAMETERS_FILENAME",
        "VLAB_JOB_ID",
        "VLAB_WORKDIR",
    ] {
        assert!(env.contains(key), "env {key}");
    }
    let template = one(task, "template").body();
    assert_eq!(attr(template, "source"), "\"local/job.env\"");
    assert_eq!(attr(template, "env"), "true");
    let resources = keys(one(task, "resources").body());
    assert!(resources.contains("cpu") && resources.contains("memory"));
}

#[test]
fn every_meta_the_job_reads_is_declared_and_dispatchable() {
    let (text, file) = job_file();
    let job = one(&file, "job").body();
    let declared = keys(one(job, "meta").body());
    let parameterized = one(job, "parameterized").body();
    let dispatchable = format!(
        "{} {}",
        attr(parameterized, "meta_required"),
        attr(parameterized, "meta_optional")
    );
    for reference in text.split("NOMAD_META_").skip(1) {
        let name: String = reference
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            declared.contains(&name),
            "meta {name} is read but not declared"
        );
        assert!(
            name == "target" || dispatchable.contains(&format!("\"{name}\"")),
            "meta {name} cannot be given at dispatch"
        );
    }
}

#[test]
fn client_config_advertises_what_the_job_constraint_matches() {
    let out = vlab(&[
        "nomad",
        "client-config",
        "--only",
        "meta",
        "--host-id",
        "lab-07",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client: Body = hcl::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let meta = one(one(&client, "client").body(), "meta").body();
    let targets = attr(meta, "vlab_targets");
    assert!(targets.contains("qemu-mps2-an385") && targets.contains("host"));

    let (_, file) = job_file();
    let constraint = one(one(&file, "job").body(), "constraint").body();
    assert_eq!(attr(constraint, "attribute"), "\"${meta.vlab_targets}\"");

    let out = vlab(&[
        "nomad",
        "client-config",
        "--only",
        "targets",
        "--host-id",
        "lab-07",
        "--board",
        "qemu-mps2-an385",
        "--no-host",
    ]);
    assert!(out.status.success());
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let targets = config.as_object().unwrap();
    assert_eq!(targets.keys().collect::<Vec<_>>(), ["qemu-mps2-an385"]);
    let board = &config["qemu-mps2-an385"][0];
    assert_eq!(board["target_uid"], "lab-07-qemu-mps2-an385");
    assert_eq!(
        board["engines"]["micro"]["image"],
        format!("vlab:{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn client_config_names_an_unknown_board_and_missing_registry_credentials() {
    let out = vlab(&["nomad", "client-config", "--board", "nucleo-x"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown board \"nucleo-x\""), "{stderr}");

    let out = vlab(&["nomad", "client-config", "--registry", "registry.lab"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("VLAB_REGISTRY_USERNAME"), "{stderr}");
}

#[test]
fn client_config_mounts_what_a_linux_boards_jobs_need() {
    let dir = tempfile::tempdir().unwrap();
    let board = dir.path().join("boards/rpi5");
    std::fs::create_dir_all(&board).unwrap();
    std::fs::write(
        board.join("board.toml"),
        "name = \"rpi5\"\ndescription = \"Raspberry Pi 5\"\n[launch]\nkind = \"ssh\"\n\
         host = \"rpi5.lab\"\narch = \"aarch64\"\nengines = [\"tflite\"]\n\
         identity_file = \"id_ed25519\"\nknown_hosts = \"/etc/lab/known_hosts\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args([
            "nomad",
            "client-config",
            "--boards",
            dir.path().join("boards").to_str().unwrap(),
            "--board",
            "rpi5",
            "--no-host",
            "--only",
            "targets",
        ])
        .env("VLAB_DIST_DIR", dir.path().join("dist"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("board rpi5: its jobs need a vlab build for it")
            && stderr.contains("scripts/build-targets.sh aarch64"),
        "{stderr}"
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        config["rpi5"][0]["engines"]["tflite"]["volumes"],
        serde_json::json!([
            format!("{}:/opt/vlab/boards/rpi5:ro", board.display()),
            "/etc/lab/known_hosts:/etc/lab/known_hosts:ro"
        ])
    );
}
