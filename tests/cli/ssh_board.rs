//! Linux boards over SSH, against a real OpenSSH server (Debian's sshd)
//! that each test starts on a loopback port with a throwaway host key and
//! user key: this machine is the x86_64 board. The same server runs the
//! aarch64 build under qemu-user for the emulated aarch64 board
//! (tests/cli/ssh_aarch64.rs).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::lab::{ALICE, LabServer, path};
use crate::support::{bench_on_board as bench, json, model, vlab};

/// An sshd on a loopback port, stopped when dropped.
pub struct SshServer {
    child: Child,
    /// Its folder: keys, config, known_hosts.
    pub dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl SshServer {
    /// Starts sshd with a fresh host key, trusting a fresh user key.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for key in ["host_key", "user_key", "other_key"] {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .status()
                .expect("ssh-keygen (openssh-client; scripts/setup.sh installs it)");
            assert!(status.success());
        }
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nLogLevel ERROR\n",
                d = d.display()
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut fields = host_key.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )
        .unwrap();
        // sshd's privilege separation folder.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .expect("/usr/sbin/sshd (openssh-server; scripts/setup.sh installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, dir, port }
    }

    /// A boards folder with one Linux board, `name`, reached through this
    /// server as board.toml's `launch` lines (`key = value`) say, plus
    /// `extra` lines.
    pub fn boards(&self, name: &str, arch: &str, workdir: &Path, extra: &str) -> PathBuf {
        let boards = self.dir.path().join(format!("boards-{name}"));
        std::fs::create_dir_all(boards.join(name)).unwrap();
        let user = std::env::var("USER").unwrap_or_else(|_| "root".to_owned());
        std::fs::write(
            boards.join(name).join("board.toml"),
            format!(
                "name = \"{name}\"\ndescription = \"this machine over SSH\"\n\n[launch]\n\
                 kind = \"ssh\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\n\
                 identity_file = \"{d}/user_key\"\nknown_hosts = \"{d}/known_hosts\"\n\
                 arch = \"{arch}\"\nengines = [\"ort\", \"tflite\", \"tract\"]\n\
                 workdir = \"{w}\"\n{extra}\n",
                port = self.port,
                d = self.dir.path().display(),
                w = workdir.display()
            ),
        )
        .unwrap();
        boards
    }

    /// The pids of the processes this sshd started for connections.
    pub fn sessions(&self) -> Vec<i32> {
        let parent = self.child.id() as i32;
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if ppid == Some(parent) {
                found.push(pid);
            }
        }
        found
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Processes whose working folder is inside `workdir`: vlab's workers on
/// the board.
pub fn running_in(workdir: &Path) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cwd) = std::fs::read_link(entry.path().join("cwd"))
            && cwd.starts_with(workdir)
        {
            found.push(pid);
        }
    }
    found
}

/// vlab's engine workers running in `workdir` (not the sh that started them).
fn workers_in(workdir: &Path) -> Vec<i32> {
    running_in(workdir)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"./bin/vlab") && c.ends_with(b"\0engine-worker\0"))
        })
        .collect()
}

/// Waits until nothing runs in `workdir`, for at most 30 s: a worker
/// whose connection dropped stops within 15 s of its last heartbeat.
pub fn nothing_left_in(workdir: &Path) {
    let started = Instant::now();
    while !running_in(workdir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running on the board: {:?}\n{}",
            running_in(workdir),
            String::from_utf8_lossy(
                &Command::new("ps")
                    .args(["-eo", "pid,ppid,stat,etime,args", "--forest"])
                    .output()
                    .unwrap()
                    .stdout
            )
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn succeeded(run: &Output) {
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A failed run: exit `code`, error.log saying `says`, no report.
fn failed(run: &Output, out: &Path, code: i32, says: &str) {
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(code), "{stderr}");
    let log = std::fs::read_to_string(out.join("error.log")).unwrap();
    assert!(log.contains(says), "error.log: {log}");
    assert!(!out.join("report.json").exists());
    assert!(!out.join("vlab-report.json").exists());
}

#[test]
fn a_board_over_ssh_runs_ort_and_tflite_as_this_machine_does() {
    let server = SshServer::start();
    let workdir = server.dir.path().join("board");
    let boards = server.boards("x86-ssh", "x86_64", &workdir, "");
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let samples: Vec<u8> = (0..3 * 500)
        .flat_map(|i| ((i % 13) as f32 / 13.0 - 0.5).to_le_bytes())
        .collect();
    let dataset = dir.path().join("kws.bin");
    std::fs::write(&dataset, samples).unwrap();

    // TYPE2 with tflite: raw output equal to the same engine here.
    let remote = dir.path().join("remote");
    let args = [
        "--engine",
        "tflite",
        "--model",
        kws.to_str().unwrap(),
        "--dataset",
    ];
    let mut with_dataset = args.to_vec();
    with_dataset.push(dataset.to_str().unwrap());
    succeeded(&bench(&boards, "x86-ssh", &remote, &with_dataset));
    let local = dir.path().join("local");
    let mut here = vec!["bench", "--out", local.to_str().unwrap()];
    here.extend_from_slice(&with_dataset);
    succeeded(&vlab(&here));
    assert_eq!(
        std::fs::read(remote.join("raw_output.bin")).unwrap(),
        std::fs::read(local.join("raw_output.bin")).unwrap()
    );
    let contract = json(&remote.join("report.json"));
    assert_eq!(contract["target"], "x86-ssh");
    assert_eq!(contract["nb_infernece"], 3);
    let log = std::fs::read_to_string(remote.join("user.log")).unwrap();
    assert!(
        log.contains("board x86-ssh: sent bin/vlab, lib/libtensorflowlite_c.so, model/keyword_spotting.tflite, data/kws.bin"),
        "{log}"
    );

    // TYPE1 with ort: vlab is in the cache now, the library and model are new.
    let onnx = model("light_squeezenet.onnx");
    let out = dir.path().join("ort");
    let args = [
        "--engine",
        "ort",
        "--model",
        onnx.to_str().unwrap(),
        "--iterations",
        "3",
    ];
    succeeded(&bench(&boards, "x86-ssh", &out, &args));
    let log = std::fs::read_to_string(out.join("user.log")).unwrap();
    assert!(log.contains("sent lib/libonnxruntime.so"), "{log}");
    assert!(!log.contains("bin/vlab"), "{log}");
    let report = json(&out.join("vlab-report.json"));
    assert_eq!(report["engine"]["name"], "ort");
    assert_eq!(report["timing"]["samples_ns"].as_array().unwrap().len(), 3);

    // The same run again: everything cached.
    succeeded(&bench(&boards, "x86-ssh", &out, &args));
    let log = std::fs::read_to_string(out.join("user.log")).unwrap();
    assert!(
        log.contains("board x86-ssh: every file was in its cache"),
        "{log}"
    );

    // Nothing left running, no run folder left behind.
    nothing_left_in(&workdir);
    assert_eq!(std::fs::read_dir(workdir.join("runs")).unwrap().count(), 0);
}

#[test]
fn a_job_for_an_ssh_board_runs_there() {
    let server = SshServer::start();
    let workdir = server.dir.path().join("board");
    let boards = server.boards("x86-ssh", "x86_64", &workdir, "");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        model("keyword_spotting.tflite"),
        dir.path().join("kws.tflite"),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_vlab"));
    command
        .arg("job")
        .env_clear()
        .env("VLAB_WORKDIR", dir.path());
    for name in ["PATH", "HOME", "USER"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let output = command
        .envs([
            ("TARGET", "x86-ssh"),
            ("RUNTIME", "tflite"),
            ("BENCHMARK_TYPE", "TYPE1"),
            ("NB_INFERENCE", "4"),
            ("MODEL_FILENAME", "kws.tflite"),
            ("VLAB_BOARDS_DIR", boards.to_str().unwrap()),
        ])
        .output()
        .unwrap();
    succeeded(&output);
    let report = json(&dir.path().join("output/report.json"));
    assert_eq!(report["target"], "x86-ssh");
    assert_eq!(report["nb_infernece"], 4);
    assert!(
        report["inference_engine"]
            .as_str()
            .unwrap()
            .starts_with("tflite ")
    );
}

#[test]
fn the_lab_places_a_benchmark_on_an_ssh_board() {
    let server = SshServer::start();
    let workdir = server.dir.path().join("board");
    let boards = server.boards("x86-ssh", "x86_64", &workdir, "");
    let dir = tempfile::tempdir().unwrap();
    LabServer::configure_with_boards(
        dir.path(),
        &boards,
        "[[targets]]\nname = \"x86-ssh\"\nengines = [\"tflite\", \"ort\"]\n",
    );
    let lab = LabServer::start(dir.path());
    let kws = model("keyword_spotting.tflite");
    let run = lab.client(ALICE, "run", &["x86-ssh", "tflite", path(&kws), "5"]);
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["report"]["target"], "x86-ssh");
    assert_eq!(run["report"]["nb_infernece"], 5);
    assert_eq!(run["info"]["target_uid"], "x86-ssh-0");
    assert!(
        run["user_log"]
            .as_str()
            .unwrap()
            .contains("board x86-ssh: sent"),
        "{run:#}"
    );
    lab.stop();
    nothing_left_in(&workdir);
}

#[test]
fn unreachable_refusing_and_full_boards_are_errors_of_their_own() {
    let server = SshServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kws = model("keyword_spotting.tflite");
    let args = [
        "--engine",
        "tract",
        "--model",
        kws.to_str().unwrap(),
        "--iterations",
        "2",
    ];

    // A refused connection: nothing listens on the port.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let workdir = dir.path().join("board");
    let boards = server.boards("gone", "x86_64", &workdir, "");
    let toml = boards.join("gone/board.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace(
            &format!("port = {}", server.port),
            &format!("port = {closed}"),
        ),
    )
    .unwrap();
    let out = dir.path().join("refused");
    failed(
        &bench(&boards, "gone", &out, &args),
        &out,
        5,
        "refused the connection",
    );

    // A key the board does not trust.
    let boards = server.boards("wrong-key", "x86_64", &workdir, "");
    let toml = boards.join("wrong-key/board.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("user_key", "other_key")).unwrap();
    let out = dir.path().join("denied");
    failed(
        &bench(&boards, "wrong-key", &out, &args),
        &out,
        6,
        "refused vlab's key",
    );

    // The wrong architecture in board.toml.
    let boards = server.boards("not-arm", "aarch64", &workdir, "");
    let out = dir.path().join("arch");
    failed(
        &bench(&boards, "not-arm", &out, &args),
        &out,
        2,
        "launch.arch = \"aarch64\", but the board's `uname -m` says \"x86_64\"",
    );

    // A board whose workdir has 1 MiB free: a real tmpfs that small.
    let small = dir.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&small)
        .status()
        .unwrap();
    assert!(mounted.success(), "mounting a 1 MiB tmpfs needs root");
    let boards = server.boards("full", "x86_64", &small, "");
    let out = dir.path().join("full");
    let run = bench(&boards, "full", &out, &args);
    let _ = Command::new("umount").arg(&small).status();
    failed(&run, &out, 7, "the run needs");
}

/// Starts a long ort run on `board` and waits until its worker runs on
/// the board and has loaded the model.
fn long_run(boards: &Path, board: &str, out: &Path, workdir: &Path) -> Child {
    let onnx = model("light_squeezenet.onnx");
    let child = Command::new(env!("CARGO_BIN_EXE_vlab"))
        .args(["bench", "--board", board, "--boards-dir"])
        .arg(boards)
        .args(["--engine", "ort", "--iterations", "20000", "--out"])
        .arg(out)
        .arg("--model")
        .arg(&onnx)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while workers_in(workdir).is_empty() || !measuring(out) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// Whether the run's user.log says the timed inferences started.
fn measuring(out: &Path) -> bool {
    std::fs::read_to_string(out.join("user.log")).is_ok_and(|log| log.contains("in its cache"))
}

#[test]
fn a_dropped_connection_and_a_crash_on_the_board_stop_cleanly() {
    let server = SshServer::start();
    let workdir = server.dir.path().join("board");
    let boards = server.boards("x86-ssh", "x86_64", &workdir, "");
    let dir = tempfile::tempdir().unwrap();

    // The connection drops: the board's sshd processes for it are killed.
    let out = dir.path().join("dropped");
    let child = long_run(&boards, "x86-ssh", &out, &workdir);
    std::thread::sleep(Duration::from_millis(1500));
    for pid in server.sessions() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let run = child.wait_with_output().unwrap();
    failed(
        &run,
        &out,
        5,
        "the SSH connection to 127.0.0.1 was lost mid-run",
    );
    nothing_left_in(&workdir);

    // vlab crashes on the board.
    let out = dir.path().join("crashed");
    let child = long_run(&boards, "x86-ssh", &out, &workdir);
    std::thread::sleep(Duration::from_millis(1500));
    // Rust's runtime takes the first SIGSEGV for its stack guard and
    // resumes; a SIGSEGV from kill has no fault to strike again, so it is
    // sent until the worker is gone (tests/cli/isolation.rs).
    let started = Instant::now();
    while !workers_in(&workdir).is_empty() {
        for pid in workers_in(&workdir) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGSEGV,
            );
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = child.wait_with_output().unwrap();
    failed(
        &run,
        &out,
        1,
        "on board x86-ssh: ONNX Runtime crashed during inference (SIGSEGV)",
    );
    // What was measured before the crash is kept, marked partial.
    assert!(out.join("vlab-report.json.partial").is_file());
    nothing_left_in(&workdir);
}
