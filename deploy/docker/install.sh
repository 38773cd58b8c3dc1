#!/usr/bin/env bash
# Installs vlab and the board definitions with their built firmware into
# PREFIX, the layout of the pipeline container (deploy/docker/Dockerfile):
#   PREFIX/bin/vlab
#   PREFIX/boards/<board>/board.toml, and each board's firmware ELF at the
#   path its board.toml gives, relative to the board's folder.
# usage: install.sh VLAB_BINARY BOARDS_DIR PREFIX
set -euo pipefail
[ "$#" -eq 3 ] || { echo "usage: install.sh VLAB_BINARY BOARDS_DIR PREFIX" >&2; exit 2; }
vlab=$1 boards=$2 prefix=$3

install -D -m 0755 "$vlab" "$prefix/bin/vlab"
for toml in "$boards"/*/board.toml; do
    dir=$(dirname "$toml")
    board=$(basename "$dir")
    elf=$(sed -n 's/^elf = "\(.*\)"$/\1/p' "$toml")
    [ -n "$elf" ] || { echo "install: $toml has no elf = \"...\" line" >&2; exit 2; }
    [ -f "$dir/$elf" ] || {
        echo "install: $board's firmware $dir/$elf is not built (scripts/build-firmware.sh $board)" >&2
        exit 2
    }
    install -D -m 0644 "$toml" "$prefix/boards/$board/board.toml"
    target=$(realpath -m "$prefix/boards/$board/$elf")
    install -D -m 0644 "$dir/$elf" "$target"
    echo "install: $board ($target)"
done
