//! The shared board build script (boards/build-support). The MPS2 boards
//! (AN385, AN386) share this script and `src/`; each has its own
//! board.toml and memory.x.

fn main() {
    vlab_board_build::run(&["../qemu-mps2-an385/src"]);
}
