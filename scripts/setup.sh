#!/usr/bin/env bash
# Installs what vlab's build, tests and quick start need on a fresh Debian
# machine that has Rust (rustup): the Rust components and thumb targets,
# QEMU for the emulated board, Chromium for the HTML report's tests,
# OpenSSH for the Linux boards' tests,
# Python's pip for models/fetch.sh, the reference models, and every board's
# firmware. Safe to re-run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
command -v sha256sum >/dev/null || need_apt+=(coreutils)
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
python3 -c "import ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# Headless Chromium renders report.html in the tests (tests/cli/report.rs).
command -v chromium >/dev/null || need_apt+=(chromium)
# vlab-micro's Cortex-M4 DSP kernels are tested on ARMv7-A Linux under
# QEMU's user-mode emulator (scripts/test.sh).
command -v arm-linux-gnueabihf-gcc >/dev/null || need_apt+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
command -v qemu-arm >/dev/null || need_apt+=(qemu-user)
# Linux boards over SSH are tested against a real OpenSSH server on
# loopback (tests/cli/ssh_board.rs); vlab reaches boards with ssh.
command -v ssh >/dev/null || need_apt+=(openssh-client)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# Microcontroller targets vlab-micro is built for in the tests.
THUMB_TARGETS=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf)
if command -v rustup >/dev/null; then
    rustup component add clippy rustfmt >/dev/null 2>&1 || true
    rustup target add "${THUMB_TARGETS[@]}" >/dev/null
    rustup target add armv7-unknown-linux-gnueabihf >/dev/null
fi

models/fetch.sh

# The engines users deploy, from their PyPI wheels, into a venv where
# vlab-runtimes finds them (docs/engines.md): ONNX Runtime's library and a
# TensorFlow Lite C library.
venv=.venv/engines
if [ ! -e "$venv/.complete" ]; then
    echo "setup: installing ONNX Runtime and TensorFlow Lite libraries into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r scripts/engine-requirements.txt
    touch "$venv/.complete"
fi

# The public dAIEdge-VLab Python client, which the lab server's tests
# drive it with (docs/lab.md).
venv=.venv/lab-client
if [ ! -e "$venv/.complete" ]; then
    echo "setup: installing the daiedge-vlab client into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check daiedge-vlab==1.2.12
    touch "$venv/.complete"
fi

echo "setup: building every board's firmware"
scripts/build-firmware.sh
