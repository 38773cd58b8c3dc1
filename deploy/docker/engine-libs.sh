#!/usr/bin/env bash
# Extracts one engine's shared library from its pinned PyPI wheel
# (scripts/engine-requirements.txt) into DEST, for the container's optional
# engine layers and the Linux board tarballs (scripts/build-targets.sh):
#   engine-libs.sh ort DEST      DEST/libonnxruntime.so      (ORT_DYLIB_PATH)
#   engine-libs.sh tflite DEST   DEST/libtensorflowlite_c.so (TFLITE_DYLIB_PATH)
# Options, before the engine:
#   --platform TAG   the wheel for another machine (pip's platform tag, such
#                    as manylinux_2_28_aarch64; repeat for several), for
#                    CPython 3.11; without it, the wheel for this machine
#   --wheels DIR     keep the wheel in DIR, one folder per platform: a wheel
#                    already there is reused when pip finds its sha256
#                    matches PyPI's, else fetched again (default: a
#                    temporary folder)
#   --keep-name      keep the library's versioned file name from the wheel
#                    (libonnxruntime.so.1.31.1)
#   --record FILE    append "PACKAGE==VERSION WHEEL sha256:HEX" to FILE
# Exits 3 when PyPI has no wheel of the pinned version for the platforms
# (or cannot be reached: pip cannot tell the two apart), 2 on a usage error.
# Needs python3 with pip; downloads only the wheel, installs nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="${VLAB_ENGINE_REQUIREMENTS:-$here/../../scripts/engine-requirements.txt}"

usage() {
    echo "usage: engine-libs.sh [--platform TAG]... [--wheels DIR] [--keep-name] [--record FILE] ort|tflite DEST" >&2
    exit 2
}
platforms=() wheels='' keep_name='' record=''
while [ "$#" -gt 0 ]; do
    case "$1" in
        --platform) [ "$#" -ge 2 ] || usage; platforms+=("$2"); shift 2 ;;
        --wheels) [ "$#" -ge 2 ] || usage; wheels=$2; shift 2 ;;
        --keep-name) keep_name=1; shift ;;
        --record) [ "$#" -ge 2 ] || usage; record=$2; shift 2 ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ "$#" -eq 2 ] || usage
engine=$1 dest=$2
case "$engine" in
    ort) package=onnxruntime member='onnxruntime/capi/libonnxruntime.so*' name=libonnxruntime.so ;;
    tflite) package=pymicro-wakeword member='pymicro_wakeword/lib/libtensorflowlite_c.so*' name=libtensorflowlite_c.so ;;
    *) usage ;;
esac
spec=$(grep -E "^${package}==" "$requirements") || {
    echo "engine-libs: $requirements pins no version of $package" >&2
    exit 2
}
version=${spec#*==}

mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "$wheels" ] || wheels=$work/wheels
mkdir -p "$wheels"

pip_args=(--disable-pip-version-check --no-deps --only-binary=:all: --dest "$wheels")
if [ "${#platforms[@]}" -gt 0 ]; then
    for tag in "${platforms[@]}"; do pip_args+=(--platform "$tag"); done
    # Another machine's wheel: pip matches the tags of this interpreter
    # version and ABI, so name the one the other wheels' tags are read for.
    pip_args+=(--python-version 3.11 --implementation cp)
fi
if ! python3 -m pip download --quiet "${pip_args[@]}" "$spec" 2>"$work/pip.err"; then
    cat "$work/pip.err" >&2
    if grep -q "No matching distribution found" "$work/pip.err"; then
        echo "engine-libs: no $spec wheel on PyPI for ${platforms[*]:-this machine}" >&2
        exit 3
    fi
    echo "engine-libs: pip download $spec failed" >&2
    exit 1
fi
# pip's warnings, such as a kept wheel with a bad hash being fetched again.
cat "$work/pip.err" >&2

# The wheel of the pinned version pip chose: the only one in the folder, as
# a --wheels folder serves one platform (one folder per architecture).
python3 - "$wheels" "${package//-/_}" "$version" "$member" "$dest" "$name" \
    "$keep_name" "$record" <<'PY'
import fnmatch, hashlib, os, shutil, sys, zipfile
from pathlib import Path

wheels, dist, version, pattern, dest, name, keep_name, record = sys.argv[1:]
candidates = sorted(Path(wheels).glob(f"{dist}-{version}-*.whl"))
if len(candidates) != 1:
    sys.exit(f"engine-libs: expected one {dist} {version} wheel in {wheels}, "
             f"found {[c.name for c in candidates] or 'none'}")
wheel = candidates[0]
with zipfile.ZipFile(wheel) as z:
    found = sorted(n for n in z.namelist() if fnmatch.fnmatch(n, pattern))
    if not found:
        sys.exit(f"engine-libs: {wheel} holds no {pattern}")
    out = Path(dest) / (os.path.basename(found[0]) if keep_name else name)
    with z.open(found[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
if record:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with open(record, "a") as f:
        f.write(f"{dist.replace('_', '-')}=={version} {wheel.name} sha256:{digest}\n")
print(f"engine-libs: {dist.replace('_', '-')}=={version} ({wheel.name}) -> {out}")
PY
