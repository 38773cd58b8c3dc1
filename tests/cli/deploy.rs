//! The pipeline container's install steps (deploy/docker/Dockerfile), run
//! here for real: no Docker engine runs on these machines, so the image
//! itself is not built, but every step it takes is a script tested here.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{json, model, qemu_firmware, root};

fn script(name: &str, args: &[&Path]) -> Output {
    Command::new("bash")
        .arg(root().join("deploy/docker").join(name))
        .args(args)
        .output()
        .expect("bash runs")
}

#[test]
fn the_installed_tree_runs_a_job_on_the_emulated_board() {
    qemu_firmware();
    let prefix = tempfile::tempdir().unwrap();
    let installed = script(
        "install.sh",
        &[
            Path::new(env!("CARGO_BIN_EXE_vlab")),
            &root().join("boards"),
            prefix.path(),
        ],
    );
    assert!(installed.status.success(), "{installed:?}");
    let vlab = prefix.path().join("bin/vlab");
    let boards = prefix.path().join("boards");
    for board in ["qemu-mps2-an385", "qemu-mps2-an386"] {
        assert!(boards.join(board).join("board.toml").is_file());
    }

    // As the container runs it: vlab from PATH-independent prefix, the
    // boards from VLAB_BOARDS_DIR, nothing from the source tree's folder.
    let job = tempfile::tempdir().unwrap();
    std::fs::copy(
        model("keyword_spotting.tflite"),
        job.path().join("kws.tflite"),
    )
    .unwrap();
    let output = Command::new(&vlab)
        .arg("job")
        .current_dir(job.path())
        .env("VLAB_BOARDS_DIR", &boards)
        .env("VLAB_WORKDIR", job.path())
        .env("TARGET", "qemu-mps2-an385")
        .env("RUNTIME", "micro")
        .env("BENCHMARK_TYPE", "TYPE1")
        .env("NB_INFERENCE", "2")
        .env("MODEL_FILENAME", "kws.tflite")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = json(&job.path().join("output/report.json"));
    assert_eq!(report["target"], "qemu-mps2-an385");
    assert_eq!(report["nb_infernece"], 2);
}

#[test]
fn install_names_a_board_whose_firmware_is_not_built() {
    let boards = tempfile::tempdir().unwrap();
    let board = boards.path().join("nucleo-test");
    std::fs::create_dir(&board).unwrap();
    std::fs::write(
        board.join("board.toml"),
        "name = \"nucleo-test\"\n[firmware]\nelf = \"../target/none/vlab-board-nucleo-test\"\n",
    )
    .unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let output = script(
        "install.sh",
        &[
            Path::new(env!("CARGO_BIN_EXE_vlab")),
            boards.path(),
            prefix.path(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nucleo-test's firmware") && stderr.contains("not built"),
        "{stderr}"
    );
}

#[test]
fn the_optional_engine_layers_hold_working_libraries() {
    let libs = tempfile::tempdir().unwrap();
    for engine in ["ort", "tflite"] {
        let output = script("engine-libs.sh", &[Path::new(engine), libs.path()]);
        assert!(output.status.success(), "{engine}: {output:?}");
    }
    // The image's environment: the libraries named by the variables, run
    // from a folder with no venv.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .arg("engines")
        .current_dir(elsewhere.path())
        .env("ORT_DYLIB_PATH", libs.path().join("libonnxruntime.so"))
        .env(
            "TFLITE_DYLIB_PATH",
            libs.path().join("libtensorflowlite_c.so"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ort    ONNX         available, version 1.31.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tflite TFLite       available, version 2.17.1"),
        "{stdout}"
    );
}
