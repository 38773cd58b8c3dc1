//! Linux boards reached over SSH: a Raspberry-Pi-class board beside the
//! lab host runs the engines users deploy, and vlab runs the benchmark
//! there ([`def`] their board.toml). vlab checks the connection and the
//! board's architecture, copies a vlab build and the engine's library for
//! it (cached by sha256, [`stage`]), and runs vlab's engine worker on the
//! board through `ssh` ([`ssh`]), so the one measured loop runs there and
//! the artifacts are written here ([`target`]). The files for an
//! architecture come from this build or from `scripts/build-targets.sh`'s
//! tarballs ([`bundle`]).

pub mod bundle;
pub mod container;
pub mod def;
pub mod digests;
pub mod ssh;
pub mod stage;
pub mod target;

pub use def::{Arch, LinuxBoardDef};
pub use target::SshTarget;
