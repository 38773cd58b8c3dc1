//! An emulated aarch64 Linux board: the same real sshd as
//! tests/cli/ssh_board.rs, whose board runs the aarch64 build of vlab from
//! `scripts/build-targets.sh aarch64` and the aarch64 ONNX Runtime and
//! TensorFlow Lite libraries from their PyPI wheels, under Debian's
//! qemu-user (`launch.exec_prefix`). The cross build and the aarch64
//! engine libraries run for real, and their outputs match the x86_64 run's
//! within the engines' tolerance.

use std::path::{Path, PathBuf};

use crate::ssh_board::{SshServer, nothing_left_in};
use crate::support::{bench_on_board as bench, json, model, root};

/// The board's "root filesystem" for qemu-aarch64's `-L`: the cross C
/// library, and an ARM /proc/cpuinfo. QEMU 7.2 shows a guest the host's x86
/// /proc/cpuinfo, on which ONNX Runtime's cpuinfo library crashes; QEMU
/// opens an absolute path under its `-L` prefix first, so this one stands
/// in, as on a real Cortex-A board.
fn emulated_root(dir: &Path) -> PathBuf {
    let prefix = dir.join("aarch64-root");
    std::fs::create_dir_all(prefix.join("proc")).unwrap();
    let lib = Path::new("/usr/aarch64-linux-gnu/lib");
    assert!(
        lib.is_dir(),
        "{} is missing: scripts/build-targets.sh installs the aarch64 cross C library",
        lib.display()
    );
    let _ = std::os::unix::fs::symlink(lib, prefix.join("lib"));
    let core = "BogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n\
                CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\n\
                CPU part\t: 0xd08\nCPU revision\t: 3\n";
    std::fs::write(
        prefix.join("proc/cpuinfo"),
        format!("processor\t: 0\n{core}\nprocessor\t: 1\n{core}\n"),
    )
    .unwrap();
    prefix
}

/// The boards folder of `pi-emulated`, an aarch64 board behind `server`
/// whose programs run under qemu-aarch64, and its workdir.
fn emulated_board(server: &SshServer) -> (PathBuf, PathBuf) {
    let prefix = emulated_root(server.dir.path());
    let workdir = server.dir.path().join("board");
    let extra = format!(
        "exec_prefix = [\"qemu-aarch64\", \"-L\", \"{}\"]",
        prefix.display()
    );
    let boards = server.boards("pi-emulated", "aarch64", &workdir, &extra);
    (boards, workdir)
}

fn floats(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn close(a: &[f32], b: &[f32], relative: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let scale = x.abs().max(y.abs()).max(1e-6);
        assert!(
            (x - y).abs() / scale <= relative || (x - y).abs() <= 1e-6,
            "output {i}: {x} on aarch64, {y} on x86_64"
        );
    }
}

/// The tarball folder of `VLAB_TARGETS_PROFILE=dev scripts/build-targets.sh
/// --worker-only --no-tract aarch64`, which scripts/test.sh runs before the
/// tests.
fn dist() -> PathBuf {
    let dist = root().join(format!(
        "dist/vlab-{}-aarch64-linux",
        env!("CARGO_PKG_VERSION")
    ));
    assert!(
        dist.join("bin/vlab-worker").is_file(),
        "{} is missing: run `VLAB_TARGETS_PROFILE=dev scripts/build-targets.sh --worker-only --no-tract aarch64`",
        dist.display()
    );
    dist
}

#[test]
fn an_emulated_aarch64_board_runs_the_cross_build_and_its_engines() {
    dist();
    let server = SshServer::start();
    let (arm, workdir) = emulated_board(&server);
    let x86 = server.boards("x86-ssh", "x86_64", &server.dir.path().join("x86"), "");
    let dir = tempfile::tempdir().unwrap();

    // ort, TYPE2: the aarch64 library's outputs against x86_64's.
    let onnx = model("light_squeezenet.onnx");
    let samples: Vec<u8> = (0..2 * 3 * 224 * 224)
        .flat_map(|i| ((i % 17) as f32 / 17.0).to_le_bytes())
        .collect();
    let dataset = dir.path().join("images.bin");
    std::fs::write(&dataset, samples).unwrap();
    let args = [
        "--engine",
        "ort",
        "--model",
        onnx.to_str().unwrap(),
        "--dataset",
        dataset.to_str().unwrap(),
        "--warmup",
        "1",
    ];
    let on_arm = dir.path().join("arm-ort");
    let run = bench(&arm, "pi-emulated", &on_arm, &args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let on_x86 = dir.path().join("x86-ort");
    let run = bench(&x86, "x86-ssh", &on_x86, &args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    close(
        &floats(&on_arm.join("raw_output.bin")),
        &floats(&on_x86.join("raw_output.bin")),
        1e-4,
    );
    let full = json(&on_arm.join("vlab-report.json"));
    assert_eq!(full["target"]["name"], "pi-emulated");
    // The worker ran as an aarch64 process, reading the board's cpuinfo.
    assert!(full["target"]["system"]["cores"].as_u64().unwrap() >= 1);
    let log = std::fs::read_to_string(on_arm.join("user.log")).unwrap();
    assert!(
        log.contains("bin/vlab-worker") && log.contains("lib/libonnxruntime.so"),
        "{log}"
    );

    // tflite, TYPE1, per-layer: the aarch64 TensorFlow Lite library.
    let kws = model("keyword_spotting.tflite");
    let out = dir.path().join("arm-tflite");
    let run = bench(
        &arm,
        "pi-emulated",
        &out,
        &[
            "--engine",
            "tflite",
            "--model",
            kws.to_str().unwrap(),
            "--iterations",
            "3",
            "--per-layer",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let full = json(&out.join("vlab-report.json"));
    assert!(!full["layers"].as_array().unwrap().is_empty());
    assert!(
        full["engine"]["version"]
            .as_str()
            .unwrap()
            .starts_with("2."),
        "{}",
        full["engine"]
    );
    nothing_left_in(&workdir);
}

#[test]
fn a_board_build_that_is_not_this_vlabs_worker_is_refused() {
    let dist = dist();
    let server = SshServer::start();
    let (arm, workdir) = emulated_board(&server);
    // A tarball folder whose worker is not an aarch64 vlab worker of this
    // version: a script, as a wrong or half-copied build would be.
    let stale = server.dir.path().join("dist");
    let folder = stale.join(dist.file_name().unwrap());
    std::fs::create_dir_all(folder.join("bin")).unwrap();
    std::os::unix::fs::symlink(dist.join("lib"), folder.join("lib")).unwrap();
    std::fs::write(folder.join("bin/vlab-worker"), "#!/bin/sh\necho 1\n").unwrap();
    let out = server.dir.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--board", "pi-emulated", "--boards-dir"])
        .arg(&arm)
        .arg("--out")
        .arg(&out)
        .args(["--engine", "tflite", "--model"])
        .arg(model("keyword_spotting.tflite"))
        .env("VLAB_DIST_DIR", &stale)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "board pi-emulated: the vlab worker built for it speaks no worker protocol vlab knows"
        ) && stderr.contains("rebuild it with `scripts/build-targets.sh aarch64`"),
        "{stderr}"
    );
    assert!(out.join("error.log").is_file());
    assert!(!out.join("report.json").exists());
    nothing_left_in(&workdir);
}
