"""SVDF: float32 (rank 1 and 2, a fused RELU) and int8 with int16 or int8
time weights and state. The activation state is a variable tensor, so
goldens.py feeds the samples as one stream. Every case has a bias: TFLite
Micro crashes on an SVDF without one (its svdf_common.cc reads the bias's
scale unconditionally)."""
import numpy as np

from tflite_builder import FLOAT32, INT8, INT32, GraphBuilder

INT16, SVDF, SVDF_OPTIONS = 7, 27, 6
BATCHES, INPUTS, MEMORY = 2, 6, 5


def options(rank, activation):
    def build(b):
        b.StartObject(3)
        b.PrependInt32Slot(0, rank, 0)
        b.PrependInt8Slot(1, activation, 0)
        return b.EndObject()
    return build


def svdf(rank, filters, dtype, state_dtype=None, activation=0):
    """x [BATCHES, INPUTS] -> SVDF(filters, rank) -> [BATCHES, filters / rank]."""
    rng = np.random.default_rng(1000 + 10 * rank + filters)
    units = filters // rank
    g = GraphBuilder()
    s = g.subgraph()
    feature = rng.uniform(-1, 1, (filters, INPUTS))
    time = rng.uniform(-1, 1, (filters, MEMORY))
    if dtype == FLOAT32:
        q = {name: None for name in ("x", "feature", "time", "bias", "state", "y")}
        enc = {"x": "<f4", "feature": "<f4", "time": "<f4", "bias": "<f4", "state": "<f4"}
        values = {"feature": feature, "time": time, "bias": rng.uniform(-1, 1, units)}
        types = {"feature": FLOAT32, "time": FLOAT32, "bias": FLOAT32, "state": FLOAT32}
    else:
        wide = state_dtype == INT16
        time_scale = 1.0 / (32767 if wide else 127)
        state_scale = 0.004 if wide else 0.05
        q = {"x": (0.02, -3), "feature": (1 / 127, 0), "time": (time_scale, 0),
             "bias": (state_scale * time_scale, 0), "state": (state_scale, 0 if wide else 4), "y": (0.03, 2)}
        enc = {"feature": "i1", "time": "<i2" if wide else "i1", "bias": "<i4"}
        values = {
            "feature": np.round(feature * 127),
            "time": np.round(time / time_scale),
            "bias": np.round(rng.uniform(-1, 1, units) / (state_scale * time_scale)),
        }
        types = {"feature": INT8, "time": state_dtype, "bias": INT32, "state": state_dtype}
    x = s.tensor("x", [BATCHES, INPUTS], dtype, q["x"])
    consts = {
        name: s.tensor(name, list(v.shape), types[name], q[name], data=v.astype(enc[name]).tobytes())
        for name, v in values.items()
    }
    state = s.tensor("state", [BATCHES, MEMORY * filters], types["state"], q["state"], variable=True)
    y = s.tensor("y", [BATCHES, units], dtype, q["y"])
    s.op(SVDF, [x, consts["feature"], consts["time"], consts["bias"], state], [y], SVDF_OPTIONS, options(rank, activation))
    s.inputs, s.outputs = [x], [y]
    return g.finish()


def models():
    return [
        ("svdf_rank1_relu_f32", svdf(1, 4, FLOAT32, activation=1)),
        ("svdf_rank2_f32", svdf(2, 6, FLOAT32)),
        ("svdf_rank1_int16_state_int8", svdf(1, 4, INT8, INT16)),
        ("svdf_rank2_int8_state_int8", svdf(2, 6, INT8, INT8)),
    ]
