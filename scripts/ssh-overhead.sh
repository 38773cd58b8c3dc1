#!/usr/bin/env bash
# What the SSH path adds to a run's wall time (docs/performance.md): this
# machine as an x86_64 Linux board behind a throwaway sshd on loopback,
# as tests/cli/ssh_board.rs sets it up. Prints the wall time of
#   - the run here, without SSH;
#   - the first run on the board, which copies vlab, the engine's library
#     and the model into the board's cache;
#   - the same run again, everything cached (checks, run folder, worker
#     start-up over SSH).
# Usage: scripts/ssh-overhead.sh [VLAB] [ENGINE] [MODEL] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
vlab=${1:-target/release/vlab}
engine=${2:-tflite}
model=${3:-models/keyword_spotting.tflite}
runs=${4:-5}
[ -x "$vlab" ] || { echo "ssh-overhead: no $vlab; build it (cargo build --release -p vlab-bridge)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/sshd.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
for key in host_key user_key; do ssh-keygen -q -t ed25519 -N '' -f "$dir/$key"; done
cp "$dir/user_key.pub" "$dir/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
CONF
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
mkdir -p /run/sshd "$dir/boards/ssh-x86"
/usr/sbin/sshd -f "$dir/sshd_config"
cat > "$dir/boards/ssh-x86/board.toml" <<TOML
name = "ssh-x86"
description = "this machine over SSH"
[launch]
kind = "ssh"
host = "127.0.0.1"
port = $port
user = "$(id -un)"
identity_file = "$dir/user_key"
known_hosts = "$dir/known_hosts"
arch = "x86_64"
engines = ["$engine"]
workdir = "$dir/board"
TOML
sleep 0.5
wall() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
args=(--engine "$engine" --model "$model" --iterations 10 --warmup 1)
echo "vlab $(stat -c %s "$vlab") bytes, engine $engine, model $model, $runs runs each"
printf 'here   (ms):'; for _ in $(seq "$runs"); do printf ' %s' "$(wall "$vlab" bench "${args[@]}" --out "$dir/here")"; done; echo
printf 'first  (ms): %s\n' "$(wall "$vlab" bench --board ssh-x86 --boards-dir "$dir/boards" "${args[@]}" --out "$dir/first")"
grep -h "board ssh-x86:" "$dir/first/user.log" | sed 's/^/  /'
printf 'cached (ms):'; for _ in $(seq "$runs"); do printf ' %s' "$(wall "$vlab" bench --board ssh-x86 --boards-dir "$dir/boards" "${args[@]}" --out "$dir/cached")"; done; echo
grep -h "board ssh-x86:" "$dir/cached/user.log" | sed 's/^/  /'
