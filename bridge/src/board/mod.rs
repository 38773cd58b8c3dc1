//! Boards: their definitions (`board.toml`, [`def`]), the route vlab takes
//! to one ([`route`]), its firmware ([`firmware`], [`defmt`]), how vlab
//! starts it ([`launch`]) and reaches it, and the [`BoardTarget`] whose
//! runner the harness's one measured loop drives.

pub mod def;
pub mod defmt;
pub mod dut;
pub mod firmware;
pub mod launch;
mod logs;
mod reach;
pub mod route;
mod runner;
pub mod slot;
mod target;

pub use def::{
    BoardDef, Boards, FirmwareDef, FlashSlotDef, LaunchDef, MemoryDef, TransportDef, board_engine,
};
pub use runner::BoardRunner;
pub use target::{BoardOptions, BoardTarget};
