#!/usr/bin/env bash
# Fuzzes vlab-protocol's frame decoder with cargo-fuzz (libFuzzer).
# Usage: scripts/fuzz-protocol.sh [SECONDS]   (default 300)
# cargo-fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1
# lets rustc accept them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../protocol/fuzz"
seconds="${1:-300}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/decode_frames
RUSTC_BOOTSTRAP=1 cargo fuzz run decode_frames --fuzz-dir . "${PWD}/corpus/decode_frames" -- \
    -max_total_time="$seconds" -timeout=10
