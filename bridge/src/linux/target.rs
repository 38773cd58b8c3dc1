//! A Linux board as a benchmark [`Target`]: the engine runs on the board,
//! in vlab's engine worker started there through `ssh`, and the one
//! measured loop runs in that worker, exactly as in a local worker
//! process. Its events come back over the SSH session, so user.log, the
//! reports and raw_output.bin are written here as for any target, and
//! what the worker measures about its machine (memory, CPU time, the
//! board's facts) is the board's.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use vlab_harness::isolation::{Isolated, Stage, WIRE_VERSION, ended_error};
use vlab_harness::{
    BenchmarkSpec, Error, Measurement, ModelCapacity, ModelFile, Observer, OutputDir, Result,
    Target, Workload,
};

use super::bundle::Bundle;
use super::def::LinuxBoardDef;
use super::ssh::{SSH_FAILED, Ssh, quote};
use super::stage::{Item, check, remove_run_dir, stage};

/// The hidden subcommand of the worker, as the local worker runs it too.
const WORKER: &str = "engine-worker";

/// A Linux board, with the engine chosen for it.
pub struct SshTarget {
    board: LinuxBoardDef,
    engine: &'static dyn vlab_harness::Engine,
    out: OutputDir,
}

impl SshTarget {
    /// `board` running `engine` (the board's first when `None`), saying in
    /// `out`'s user.log what it sent; fails when the board does not offer
    /// the engine.
    pub fn new(board: LinuxBoardDef, engine: Option<&str>, out: &OutputDir) -> Result<Self> {
        let name = board.engine(engine)?.to_owned();
        Ok(Self {
            engine: vlab_runtimes::engine(&name)?,
            board,
            out: out.clone(),
        })
    }
}

impl Target for SshTarget {
    fn engine(&self) -> &str {
        self.engine.name()
    }

    fn describe(&self) -> String {
        format!(
            "with engine {} on Linux board {} over SSH",
            self.engine.name(),
            self.board.name
        )
    }

    fn model_capacity(&self) -> ModelCapacity {
        ModelCapacity::host()
    }

    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        let model = ModelFile::needed(model)?;
        let def = &self.board.launch;
        let ssh = Ssh::new(&self.board)?;
        let checked = check(&ssh, &self.board)?;
        let bundle = Bundle::find(def.arch, self.engine.name())?;
        let worker_name = format!("bin/{}", file_name(&bundle.worker));
        let mut items = vec![Item {
            local: bundle.worker.clone(),
            name: worker_name.clone(),
        }];
        let library = bundle.library.as_ref().map(|(path, env)| {
            let name = format!("lib/{}", file_name(path));
            items.push(Item {
                local: path.clone(),
                name: name.clone(),
            });
            (name, *env)
        });
        let model_name = format!("model/{}", model.file_name());
        items.push(Item {
            local: model.path().to_path_buf(),
            name: model_name.clone(),
        });
        let mut remote_spec = spec.clone();
        if let Workload::Dataset { path } = &spec.workload {
            let name = format!("data/{}", file_name(path));
            items.push(Item {
                local: path.clone(),
                name: name.clone(),
            });
            remote_spec.workload = Workload::Dataset { path: name.into() };
        }
        if let Some(path) = &spec.parameters {
            let name = format!("params/{}", file_name(path));
            items.push(Item {
                local: path.clone(),
                name: name.clone(),
            });
            remote_spec.parameters = Some(name.into());
        }

        let staged = stage(&ssh, &self.board, &checked, &items)?;
        self.out.log(&format!(
            "board {}: {} in {:.1} s",
            self.board.name,
            if staged.sent.is_empty() {
                "every file was in its cache".to_owned()
            } else {
                format!(
                    "sent {} ({} bytes), the rest was in its cache",
                    staged.sent.join(", "),
                    staged.sent_bytes
                )
            },
            staged.took.as_secs_f64()
        ))?;
        let run = &staged.run_dir;
        let env = library
            .map(|(name, var)| format!("{var}={} ", quote(&format!("{run}/{name}"))))
            .unwrap_or_default();
        let prefix: Vec<String> = def.exec_prefix.iter().map(|w| quote(w)).collect();
        let command = format!("{} ./{worker_name} {WORKER}", prefix.join(" "));
        // No exec: sh outlives the worker to report a signal that killed
        // it as 128 + its number, which ssh passes on as its exit status.
        let script = format!("cd {r} && {env}{command}; exit $?", r = quote(run));
        if let Some(rebuild) = &bundle.rebuild {
            check_wire(&ssh, &self.board, run, &command, rebuild)?;
        }
        let (program, args) = ssh.invocation(&script);
        let board = self.board.name.clone();
        let lost = ssh.lost();
        let worker = Isolated::new(self.engine, program, args)
            .model_at(format!("{run}/{model_name}").into())
            .ending(Box::new(move |library, stage, status| {
                remote_end(&board, &lost, library, stage, status)
            }));
        let measured = worker.measure(Some(model), &remote_spec, observer, raw_output);
        remove_run_dir(&ssh, run);
        let mut measurement = measured?;
        measurement.target.name.clone_from(&self.board.name);
        Ok(measurement)
    }
}

/// Checks that the worker staged in `run`, started by `command`, speaks
/// this vlab's worker protocol: it is another build than this vlab,
/// perhaps of another version, and would misread a job.
fn check_wire(
    ssh: &Ssh,
    board: &LinuxBoardDef,
    run: &str,
    command: &str,
    rebuild: &str,
) -> Result<()> {
    let script = format!("cd {} && {command} --wire-version", quote(run));
    let said = ssh
        .run("ask the board's vlab worker for its protocol", &script)
        .ok()
        .and_then(|out| out.trim().parse::<u32>().ok());
    if said == Some(WIRE_VERSION) {
        return Ok(());
    }
    remove_run_dir(ssh, run);
    Err(Error::runtime(format!(
        "board {}: the vlab worker built for it speaks {}, this vlab version {WIRE_VERSION}: rebuild it with {rebuild}",
        board.name,
        said.map_or_else(
            || "no worker protocol vlab knows".to_owned(),
            |v| format!("worker protocol version {v}")
        ),
    )))
}

/// How the remote worker's end without a result reads: ssh's 255 is the
/// connection, 128 + N the signal N that killed vlab on the board.
fn remote_end(board: &str, lost: &Error, library: &str, stage: Stage, status: ExitStatus) -> Error {
    match status.code() {
        Some(SSH_FAILED) => lost.clone(),
        Some(code @ 129..=192) => {
            let signalled = ExitStatus::from_raw(code - 128);
            let e = ended_error(library, stage, signalled);
            Error::runtime(format!("on board {board}: {}", e.message()))
        }
        _ => {
            let e = ended_error(library, stage, status);
            Error::runtime(format!("on board {board}: {}", e.message()))
        }
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vlab_harness::ErrorKind;

    #[test]
    fn a_remote_end_reads_as_a_lost_link_or_a_crash_on_the_board() {
        let lost = Error::of_kind(ErrorKind::Unreachable, "lost");
        let status = |code: i32| ExitStatus::from_raw(code << 8);
        assert_eq!(
            remote_end("rpi5", &lost, "ONNX Runtime", Stage::Inference, status(255)).kind(),
            ErrorKind::Unreachable
        );
        let crash = remote_end("rpi5", &lost, "ONNX Runtime", Stage::Inference, status(139));
        assert_eq!(
            crash.message(),
            "on board rpi5: ONNX Runtime crashed during inference (SIGSEGV)"
        );
        assert_eq!(crash.exit_code(), 1);
    }
}
