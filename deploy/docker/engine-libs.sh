#!/usr/bin/env bash
# Extracts one engine's shared library from its pinned PyPI wheel
# (scripts/engine-requirements.txt) into DEST, for the container's optional
# engine layers:
#   engine-libs.sh ort DEST      DEST/libonnxruntime.so      (ORT_DYLIB_PATH)
#   engine-libs.sh tflite DEST   DEST/libtensorflowlite_c.so (TFLITE_DYLIB_PATH)
# Needs python3 with pip; downloads only the wheel, installs nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="${VLAB_ENGINE_REQUIREMENTS:-$here/../../scripts/engine-requirements.txt}"

usage() { echo "usage: engine-libs.sh ort|tflite DEST" >&2; exit 2; }
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

mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$work" "$spec"
wheel=$(ls "$work"/*.whl)
python3 - "$wheel" "$member" "$dest/$name" <<'PY'
import fnmatch, shutil, sys, zipfile
wheel, pattern, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    found = sorted(n for n in z.namelist() if fnmatch.fnmatch(n, pattern))
    if not found:
        sys.exit(f"engine-libs: {wheel} holds no {pattern}")
    with z.open(found[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
echo "engine-libs: $spec -> $dest/$name"
