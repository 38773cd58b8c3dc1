#!/usr/bin/env bash
# Runs vlab's whole test suite after setting up what is missing: formatting,
# clippy with warnings as errors, then every unit, doc and end-to-end test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
echo "test [${SECONDS}s]: cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --all --manifest-path boards/Cargo.toml -- --check
echo "test [${SECONDS}s]: cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "test [${SECONDS}s]: cargo clippy, board firmware"
for toml in boards/*/board.toml; do
    board=$(basename "$(dirname "$toml")")
    target=$(sed -n 's/^target = "\(.*\)"$/\1/p' "$toml")
    cargo clippy --quiet --release --manifest-path "boards/$board/Cargo.toml" --target "$target" -- -D warnings
done
for target in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf; do
    echo "test [${SECONDS}s]: no_std crates build for $target"
    cargo build --quiet --release -p vlab-micro -p vlab-protocol -p vlab-firmware --target "$target"
done
echo "test [${SECONDS}s]: vlab-micro's Cortex-M kernels (M4/M7 DSP, M3, M0+) on ARMv7-A under qemu-arm"
cargo test --quiet -p vlab-micro --lib --target armv7-unknown-linux-gnueabihf
echo "test [${SECONDS}s]: vlab's engine worker for aarch64 boards, and their engines' libraries (tests/cli/ssh_aarch64.rs)"
VLAB_TARGETS_PROFILE=dev scripts/build-targets.sh --worker-only --no-tract aarch64
echo "test [${SECONDS}s]: cargo test"
cargo test --workspace
