//! The shared board build script (boards/build-support).

fn main() {
    vlab_board_build::run(&["src", "../stm32"]);
}
