#!/usr/bin/env bash
# Builds the firmware of every board in boards/ (or of the boards named as
# arguments) for the Rust target its board.toml names, in release mode.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

boards=("$@")
if [ "${#boards[@]}" -eq 0 ]; then
    for toml in boards/*/board.toml; do boards+=("$(basename "$(dirname "$toml")")"); done
fi
for board in "${boards[@]}"; do
    toml="boards/$board/board.toml"
    [ -f "$toml" ] || { echo "build-firmware: $toml does not exist" >&2; exit 2; }
    target=$(sed -n 's/^target = "\(.*\)"$/\1/p' "$toml")
    [ -n "$target" ] || { echo "build-firmware: $toml has no target = \"...\" line" >&2; exit 2; }
    echo "build-firmware: $board ($target)"
    cargo build --quiet --release --locked --manifest-path "boards/$board/Cargo.toml" --target "$target"
done
