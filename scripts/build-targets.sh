#!/usr/bin/env bash
# Cross-builds the `vlab` command for Linux boards and packs, per
# architecture, a tarball to install on a board by hand (docs/boards.md,
# "vlab for Linux boards"):
#   scripts/build-targets.sh [--worker-only] [aarch64|armv7|all]   (default: all)
# gives dist/vlab-VERSION-ARCH-linux.tar.gz holding
#   vlab-VERSION-ARCH-linux/bin/vlab        release build, stripped
#   vlab-VERSION-ARCH-linux/bin/vlab-worker the engine worker alone, which is
#                                           what `vlab bench --board` runs on
#                                           a Linux board over SSH
#   vlab-VERSION-ARCH-linux/lib/            the engines' libraries, from the
#                                           PyPI wheels the host uses
#                                           (scripts/engine-requirements.txt)
#   vlab-VERSION-ARCH-linux/README.txt, VERSIONS, SHA256SUMS
# vlab finds the libraries in lib/ beside its bin/ folder, so the unpacked
# folder works as it is. Installs what it needs (the Rust target, Debian's
# cross compilers) like scripts/setup.sh. Where QEMU's user-mode emulator
# is installed (qemu-user), the packed folder's `vlab engines` is run under
# it (scripts/qemu-board.sh) before the tarball is written. Safe to re-run: cargo reuses its target
# folder (CARGO_TARGET_DIR, CARGO_BUILD_JOBS are honoured) and wheels kept
# in dist/wheels/ARCH are reused when pip finds their sha256 matches PyPI's.
# VLAB_TARGETS_PROFILE=dev builds with cargo's dev profile instead of
# release: unoptimised, but it shares the host's build scripts and macros
# with the host's debug build and compiles in a fraction of the time, which
# is what the tests want (scripts/test.sh); boards get release builds.
# --worker-only leaves bin/vlab out: enough for SSH boards, and the worker
# alone (harness and engines, no probe, lab server or CLI) cross-builds in a
# fraction of vlab's time. --no-tract leaves the tract engine out, whose
# compile is most of what remains (the dev-profile worker for aarch64:
# about 8 minutes on 2 cores with tract, 2 without).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "build-targets: $*" >&2; }
die() { echo "build-targets: $*" >&2; exit 1; }
usage() { echo "usage: scripts/build-targets.sh [--worker-only] [--no-tract] [aarch64|armv7|all]" >&2; exit 2; }

worker_only= tract=1
while [ "$#" -gt 0 ] && [[ "$1" == --* ]]; do
    case "$1" in
        --worker-only) worker_only=1 ;;
        --no-tract) tract= ;;
        *) usage ;;
    esac
    shift
done
[ -n "$tract" ] || [ -n "$worker_only" ] ||
    die "--no-tract builds the worker alone: give --worker-only too (vlab itself always has tract)"
case "${1:-all}" in
    aarch64 | armv7) arches=("${1}") ;;
    all) arches=(aarch64 armv7) ;;
    -h | --help) usage ;;
    *) usage ;;
esac
[ "$#" -le 1 ] || usage

# What each architecture needs. The linkers and QEMU runners are in
# .cargo/config.toml; the cc crate finds the C cross compiler for the C
# parts of dependencies (ring, SQLite) by the same prefix.
#   triple, cross tool prefix, Debian packages, QEMU user-mode emulator,
#   pip platform tags of its wheels (CPython 3.11),
#   engines PyPI is known to have no wheel of the pinned version for
arch_settings() {
    case "$1" in
        aarch64)
            triple=aarch64-unknown-linux-gnu
            prefix=aarch64-linux-gnu
            packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross)
            qemu='qemu-aarch64'
            platforms=(manylinux2014_aarch64 manylinux_2_28_aarch64 manylinux_2_35_aarch64)
            no_wheel=()
            ;;
        armv7)
            triple=armv7-unknown-linux-gnueabihf
            prefix=arm-linux-gnueabihf
            packages=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross libstdc++6-armhf-cross)
            qemu='qemu-arm'
            platforms=(linux_armv7l manylinux2014_armv7l manylinux_2_31_armv7l manylinux_2_35_armv7l)
            # onnxruntime publishes Linux wheels for x86_64 and aarch64 only.
            no_wheel=(ort)
            ;;
    esac
}

elapsed() {
    local secs=$(($(date +%s) - $1))
    printf '%dm%02ds' $((secs / 60)) $((secs % 60))
}

# --- what the build needs ----------------------------------------------------
need_apt=()
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
for arch in "${arches[@]}"; do
    arch_settings "$arch"
    if ! command -v "$prefix-gcc" >/dev/null || [ ! -e "/usr/$prefix/include/stdio.h" ]; then
        need_apt+=("${packages[@]}")
    fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            die "needs ${need_apt[*]}: install them as root (apt-get install -y ${need_apt[*]})"
        sudo_cmd=(sudo)
    fi
    command -v apt-get >/dev/null ||
        die "needs ${need_apt[*]} (Debian's names; a cross GCC and C library for each board's architecture) and finds no apt-get to install them"
    say "installing ${need_apt[*]} with apt-get"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
for arch in "${arches[@]}"; do
    arch_settings "$arch"
    if command -v rustup >/dev/null; then
        rustup target add "$triple" >/dev/null 2>&1 || die "rustup target add $triple failed"
    elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$triple" ]; then
        die "the Rust standard library for $triple is not installed and there is no rustup to add it"
    fi
done

metadata=$(cargo metadata --no-deps --format-version 1 --locked)
read -r version target_dir < <(python3 -c '
import json, sys
m = json.load(sys.stdin)
v = next(p["version"] for p in m["packages"] if p["name"] == "vlab-bridge")
print(v, m["target_directory"])' <<<"$metadata")
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)

# --- one architecture --------------------------------------------------------
build_one() {
    local arch=$1 started name stage bin engine
    arch_settings "$arch"
    name=vlab-$version-$arch-linux
    stage=dist/$name
    local profile=${VLAB_TARGETS_PROFILE:-release} profile_dir
    case "$profile" in
        release) profile_dir=release ;;
        dev) profile_dir=debug ;;
        *) die "VLAB_TARGETS_PROFILE=$profile: give release or dev" ;;
    esac
    local bins=(vlab-worker) packages=(-p vlab-worker) what=worker features=()
    if [ -z "$worker_only" ]; then
        bins+=(vlab)
        packages+=(-p vlab-bridge)
        what="vlab and its worker"
    fi
    if [ -z "$tract" ]; then
        features=(--no-default-features)
        what+=" without tract"
    fi

    started=$(date +%s)
    say "$arch: building $what for $triple with the $profile profile (vlab in release from scratch takes about half an hour on 2 cores; the worker alone in dev 8 minutes, without tract 2)"
    cargo build --profile "$profile" --locked "${packages[@]}" "${features[@]}" --bins --target "$triple"
    say "$arch: built in $(elapsed "$started")"

    rm -rf "$stage" "dist/$name.tar.gz"
    mkdir -p "$stage/bin" "$stage/lib" "dist/wheels/$arch"
    # The tarball's copies are stripped; the profile stays the workspace's
    # release profile (line tables, for backtraces when debugging under
    # QEMU), since a profile changed for this build alone would make cargo
    # rebuild every dependency for it.
    for bin in "${bins[@]}"; do
        "$prefix-strip" -o "$stage/bin/$bin" "$target_dir/$triple/$profile_dir/$bin"
    done

    local record shipped=() missing=()
    record=$(mktemp)
    for engine in ort tflite; do
        say "$arch: fetching the $engine library from its PyPI wheel (${platforms[*]})"
        local tags=() rc=0
        for tag in "${platforms[@]}"; do tags+=(--platform "$tag"); done
        deploy/docker/engine-libs.sh "${tags[@]}" --wheels "dist/wheels/$arch" \
            --keep-name --record "$record" "$engine" "$stage/lib" >&2 || rc=$?
        if [ "$rc" -eq 0 ]; then
            shipped+=("$engine")
        elif [ "$rc" -eq 3 ] && [[ " ${no_wheel[*]} " == *" $engine "* ]]; then
            say "$arch: PyPI has no wheel for $arch Linux with the $engine library; the tarball ships without the $engine engine"
            missing+=("$engine")
        else
            rm -f "$record"
            die "$arch: could not take the $engine library from its wheel (see above)"
        fi
    done

    write_versions "$stage" "$record" "${missing[@]}"
    rm -f "$record"
    write_readme "$stage" "$name" "${shipped[@]}"
    (cd "$stage" && find bin lib -type f | sort | xargs sha256sum && sha256sum README.txt VERSIONS) \
        >"$stage/SHA256SUMS.tmp"
    mv "$stage/SHA256SUMS.tmp" "$stage/SHA256SUMS"

    check_under_qemu "$stage" "${shipped[@]}"

    tar -C dist --sort=name --owner=0 --group=0 --numeric-owner -czf "dist/$name.tar.gz" "$name"
    say "$arch: dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1)) in $(elapsed "$started")"
}

# VERSIONS: what was built, from what, and the oldest glibc each file needs.
write_versions() {
    local stage=$1 record=$2 f
    shift 2
    {
        echo "vlab $version (git $commit)"
        echo "target $triple"
        echo "rustc $(rustc --version | cut -d' ' -f2-)"
        echo "linker $("$prefix-gcc" --version | head -1)"
        echo
        echo "engine libraries, from these PyPI wheels (sha256 checked by pip against PyPI's):"
        cat "$record"
        for engine in "$@"; do
            echo "not shipped: $engine (PyPI has no wheel of scripts/engine-requirements.txt's version for $triple)"
        done
        echo
        echo "oldest glibc each file needs:"
        for f in "$stage"/bin/* "$stage"/lib/*; do
            [ -f "$f" ] || continue
            echo "${f#"$stage"/} glibc $("$prefix-objdump" -T "$f" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
        done
    } >"$stage/VERSIONS"
}

write_readme() {
    local stage=$1 name=$2
    shift 2
    local engines="micro" engine
    [ -z "$tract" ] || engines="tract, micro"
    for engine in "$@"; do engines+=", $engine"; done
    if [ -n "$worker_only" ]; then
        cat >"$stage/README.txt" <<EOF
vlab $version's engine worker for $arch Linux ($triple)

This build holds bin/vlab-worker alone: what \`vlab bench --board B\` runs on
a Linux board reached over SSH (the host copies it there itself). To run
vlab on the board by hand, build the full tarball:
scripts/build-targets.sh $arch.

Engines in this build: $engines.
EOF
        return
    fi
    cat >"$stage/README.txt" <<EOF
vlab $version for $arch Linux ($triple)

vlab is a benchmark harness for edge AI: \`vlab bench\` measures how fast a
.tflite or .onnx model runs on this machine, how much memory it takes and
what it answers.

Install by hand (any folder works; /opt is an example):

    tar -xzf $name.tar.gz -C /opt
    ln -s /opt/$name/bin/vlab /usr/local/bin/vlab   # optional
    vlab engines

Check the files first with: cd /opt/$name && sha256sum -c SHA256SUMS

Engines in this build: $engines.
vlab finds the engines' libraries in lib/ beside its bin/ folder (also
through a symbolic link to bin/vlab); ORT_DYLIB_PATH and TFLITE_DYLIB_PATH
name other copies. VERSIONS lists the wheels they come from and the oldest
glibc each file needs; the libraries also need libstdc++ (GCC 12 or newer).

A benchmark:

    vlab bench --engine tflite --model model.tflite --iterations 100 --out vlab-out

bin/vlab-worker is vlab's engine worker alone, which a host's
\`vlab bench --board B\` copies to a board it reaches over SSH.
EOF
}

# The packed folder's own `vlab engines`, under QEMU's user-mode emulator
# (scripts/qemu-board.sh), run from the folder itself as on a board: no
# venv or source tree around. The worker is asked for its wire version.
check_under_qemu() {
    local stage=$1 out engine
    shift
    if ! command -v "$qemu" >/dev/null; then
        say "$arch: $qemu not found (Debian: apt-get install qemu-user); skipped running the build"
        return
    fi
    say "$arch: checking bin/vlab-worker under $qemu"
    out=$("$qemu" -L "/usr/$prefix" "$stage/bin/vlab-worker" engine-worker --wire-version) ||
        die "$arch: $stage/bin/vlab-worker failed under $qemu"
    say "$arch: bin/vlab-worker speaks worker protocol $out"
    [ -z "$worker_only" ] || return 0
    say "$arch: checking bin/vlab engines under $qemu"
    out=$(cd "$stage" && "$OLDPWD/scripts/qemu-board.sh" "$arch" . engines) ||
        die "$arch: $stage/bin/vlab engines failed under $qemu"
    for engine in ${tract:+tract} "$@"; do
        grep -Eq "^$engine +.* available, version" <<<"$out" ||
            die "$arch: under $qemu, $stage/bin/vlab engines does not list $engine as available:"$'\n'"$out"
    done
}

for arch in "${arches[@]}"; do
    build_one "$arch"
done
