#!/usr/bin/env bash
# Cargo runner of the board firmware crates (their .cargo/config.toml):
# `cargo run --release` in boards/<board>/ benchmarks a model on that board
# with the ELF cargo just built. The model is $VLAB_MODEL (default
# models/keyword_spotting.tflite); extra arguments go to `vlab bench`.
#   usage: board-runner.sh BOARD ELF [vlab bench arguments...]
set -euo pipefail
board=$1 elf=$2
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${VLAB_MODEL:-$root/models/keyword_spotting.tflite}"
# From the root, so that the board folder's .cargo/config.toml (a thumb
# target) does not apply to the host build.
cd "$root"
exec cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p vlab-bridge -- \
    bench --board "$board" --boards-dir "$root/boards" --firmware "$elf" --model "$model" "$@"
