#!/usr/bin/env bash
# Hardware-in-the-loop check of one board (docs/boards.md): benchmarks
# keyword_spotting on $VLAB_HIL_BOARD (TYPE1 with per-layer timing, then a
# TYPE2 dataset of 4 random samples) and checks that the board's outputs
# equal the host's micro engine, byte for byte. A board behind a probe is
# flashed first when it does not run this build. Works for the emulated
# boards too: VLAB_HIL_BOARD=qemu-mps2-an385 scripts/hil.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
board="${VLAB_HIL_BOARD:?set VLAB_HIL_BOARD to the board under test (see vlab boards)}"
model=models/keyword_spotting.tflite
[ -f "$model" ] || models/fetch.sh
scripts/build-firmware.sh "$board"
cargo build --quiet --release -p vlab-bridge
vlab=target/release/vlab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "hil: $board, TYPE1 with per-layer timing"
"$vlab" bench --board "$board" --model "$model" --iterations 20 --per-layer --out "$work/type1"

echo "hil: $board, TYPE2 against the host's micro engine"
head -c $((4 * 2000)) /dev/urandom > "$work/dataset.bin"
"$vlab" bench --board "$board" --model "$model" --dataset "$work/dataset.bin" --out "$work/board"
"$vlab" bench --engine micro --model "$model" --dataset "$work/dataset.bin" --out "$work/host" >/dev/null
if cmp -s "$work/board/raw_output.bin" "$work/host/raw_output.bin"; then
    echo "hil: $board: outputs equal the host's micro engine ($(stat -c %s "$work/board/raw_output.bin") bytes)"
else
    echo "hil: $board: outputs differ from the host's micro engine" >&2
    exit 1
fi
