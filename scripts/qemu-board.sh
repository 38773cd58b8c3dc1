#!/usr/bin/env bash
# Runs a Linux board build of vlab (an unpacked tarball of
# scripts/build-targets.sh) on this x86_64 machine under QEMU's user-mode
# emulator (Debian's qemu-user), as it would run on the board:
#   scripts/qemu-board.sh aarch64|armv7 FOLDER [VLAB ARGS...]
# runs FOLDER/bin/vlab ARGS from the current folder, e.g.
#   scripts/qemu-board.sh aarch64 dist/vlab-0.1.0-aarch64-linux engines
#   scripts/qemu-board.sh aarch64 dist/vlab-0.1.0-aarch64-linux bench \
#       --engine ort --model models/silero_vad.onnx --iterations 3 --out /tmp/x
# Two things differ from a board under plain `qemu-aarch64 -L ...`, and this
# script mends both:
# - QEMU 7.2 shows the guest the host's x86 /proc/cpuinfo, and the cpuinfo
#   library inside ONNX Runtime crashes (SIGSEGV) on it; QEMU opens an
#   absolute path under its -L prefix first, so a prefix with an ARM
#   /proc/cpuinfo (two Cortex-A cores) and the cross C library stands in.
# - `vlab bench` runs ort and tflite in a worker process, vlab itself
#   executed again; the host kernel cannot execute an ARM binary unless
#   binfmt_misc hands it to QEMU. That handler is registered in a user
#   namespace of this command's own (Linux 6.7 or newer), so nothing
#   outside it changes; where that is refused, vlab runs without it
#   (`engines`, `--version` and the tract and micro engines work, a worker
#   cannot start).
set -euo pipefail

usage() { echo "usage: scripts/qemu-board.sh aarch64|armv7 FOLDER [VLAB ARGS...]" >&2; exit 2; }
die() { echo "qemu-board: $*" >&2; exit 1; }

# Inside the namespace: register the handler, then run the command.
if [ "${1:-}" = --in-namespace ]; then
    shift
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    printf '%s' "$VLAB_QEMU_BINFMT_RULE" >/proc/sys/fs/binfmt_misc/register
    exec "$@"
fi

[ "$#" -ge 2 ] || usage
arch=$1 folder=$2
shift 2
case "$arch" in
    aarch64)
        qemu=qemu-aarch64 sysroot=/usr/aarch64-linux-gnu
        magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
        cpu=$'BogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3'
        ;;
    armv7)
        qemu=qemu-arm sysroot=/usr/arm-linux-gnueabihf
        magic='\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00'
        cpu=$'model name\t: ARMv7 Processor rev 4 (v7l)\nBogoMIPS\t: 38.40\nFeatures\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x0\nCPU part\t: 0xd03\nCPU revision\t: 4'
        ;;
    *) usage ;;
esac
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
command -v "$qemu" >/dev/null || die "$qemu not found (Debian: apt-get install qemu-user)"
[ -d "$sysroot/lib" ] || die "$sysroot/lib not found (Debian: the cross C library, see scripts/build-targets.sh)"
vlab=$(cd "$folder" && pwd)/bin/vlab
[ -x "$vlab" ] || die "$folder/bin/vlab is not an executable"

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
ln -s "$sysroot/lib" "$prefix/lib"
mkdir "$prefix/proc"
printf 'processor\t: 0\n%s\n\nprocessor\t: 1\n%s\n\n' "$cpu" "$cpu" >"$prefix/proc/cpuinfo"

export QEMU_LD_PREFIX=$prefix
qemu_path=$(command -v "$qemu")
export VLAB_QEMU_BINFMT_RULE=":vlab-$qemu:M::$magic:$mask:$qemu_path:F"
# `unshare` would run the command even where the namespace works but the
# mount does not, so try the namespace once with a no-op first.
if unshare --user --map-root-user --mount --fork "$0" --in-namespace true 2>/dev/null; then
    status=0
    unshare --user --map-root-user --mount --fork "$0" --in-namespace "$qemu" "$vlab" "$@" || status=$?
    exit "$status"
fi
echo "qemu-board: no binfmt_misc in a user namespace here (Linux 6.7 or newer); vlab's engine worker cannot start" >&2
exec "$qemu" "$vlab" "$@"
