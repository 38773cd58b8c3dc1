#!/usr/bin/env bash
# Hardware-in-the-loop check of one board (docs/boards.md): benchmarks
# keyword_spotting on $VLAB_HIL_BOARD (TYPE1 with per-layer timing, printed
# in cycles where the board times with the DWT cycle counter, then a
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
# Cycles per inference and per layer where the board times with the DWT
# cycle counter (the real boards): the table docs/performance.md fills in
# instructions on the emulated ones.
python3 - "$work/type1/vlab-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
device = report["device"]
ticks = sorted(device["samples_ticks"])
median = ticks[len(ticks) // 2]
if device["timer"] != "Dwt":
    print(f"hil: timer {device['timer']}: {median} ticks an inference (not cycles; "
          "on the emulated boards scripts/board-instructions.sh gives instructions)")
    sys.exit(0)
hz = device["core_clock_hz"]
print(f"hil: {median:,} cycles an inference (DWT at {hz / 1e6:.0f} MHz)")
for layer in report.get("layers") or []:
    print(f"hil:   {layer['index']:>3} {layer['op']:<24} {layer['median_ns'] * hz / 1e9:>12,.0f} cycles")
PY

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
