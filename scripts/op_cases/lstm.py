"""UNIDIRECTIONAL_SEQUENCE_LSTM: float32, int8 and int16 activations (int8
weights, int32 / int64 biases, an int16 cell state), batch-major and
time-major, with and without a cell clip. The cell activation is TANH: the
schema's activations have no sigmoid, the one other cell activation TFLite
Micro computes. The hidden and cell states are variable tensors, so
goldens.py feeds the samples as one stream."""
import numpy as np

from tflite_builder import FLOAT32, INT32, INT8, GraphBuilder

INT16, INT64 = 7, 4
LSTM, LSTM_OPTIONS = 44, 71
TANH = 4
BATCHES, STEPS, INPUTS, STATE = 2, 3, 5, 4
# Quantisation of the activations (input, hidden state and output) and of
# the cell state, a power of two as TFLite Micro requires.
ACT_Q = {INT8: (0.02, 3), INT16: (1.0 / 4096, 0)}
CELL_SCALE = 2.0 ** -11


def options(cell_clip, time_major):
    def build(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, TANH, 0)
        b.PrependFloat32Slot(1, cell_clip, 0.0)
        b.PrependBoolSlot(3, time_major, False)
        return b.EndObject()
    return build


def lstm(seed, dtype=FLOAT32, cell_clip=0.0, time_major=False):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    s = g.subgraph()
    layout = [STEPS, BATCHES] if time_major else [BATCHES, STEPS]
    act_q = ACT_Q.get(dtype)
    x = s.tensor("x", layout + [INPUTS], dtype, act_q)

    def weights(name, shape):
        w = rng.uniform(-1, 1, shape)
        if dtype == FLOAT32:
            return s.tensor(name, list(shape), FLOAT32, data=w.astype("<f4").tobytes())
        scale = 1.0 / 127
        q = np.clip(np.round(w / scale), -127, 127).astype("i1")
        return s.tensor(name, list(shape), INT8, (scale, 0), data=q.tobytes())

    def bias(name):
        b = rng.uniform(-1, 1, STATE)
        if dtype == FLOAT32:
            return s.tensor(name, [STATE], FLOAT32, data=b.astype("<f4").tobytes())
        scale = act_q[0] / 127
        kind, enc = (INT64, "<i8") if dtype == INT16 else (INT32, "<i4")
        return s.tensor(name, [STATE], kind, (scale, 0), data=np.round(b / scale).astype(enc).tobytes())

    gates = ("input", "forget", "cell", "output")
    w = [weights(f"{gate}_w", (STATE, INPUTS)) for gate in gates]
    r = [weights(f"{gate}_r", (STATE, STATE)) for gate in gates]
    b = [bias(f"{gate}_b") for gate in gates]
    cell_type, cell_q = (FLOAT32, None) if dtype == FLOAT32 else (INT16, (CELL_SCALE, 0))
    hidden = s.tensor("hidden", [BATCHES, STATE], dtype, act_q, variable=True)
    cell = s.tensor("cell", [BATCHES, STATE], cell_type, cell_q, variable=True)
    y = s.tensor("y", layout + [STATE], dtype, act_q)
    inputs = [x] + w + r + [-1, -1, -1] + b + [-1, -1] + [hidden, cell] + [-1] * 4
    s.op(LSTM, inputs, [y], LSTM_OPTIONS, options(cell_clip, time_major))
    s.inputs, s.outputs = [x], [y]
    return g.finish()


def models():
    return [
        ("lstm_batch_major_f32", lstm(1)),
        ("lstm_time_major_f32", lstm(2, time_major=True)),
        ("lstm_cell_clip_f32", lstm(3, cell_clip=0.5)),
        ("lstm_batch_major_int8", lstm(4, INT8)),
        ("lstm_time_major_cell_clip_int8", lstm(5, INT8, cell_clip=0.75, time_major=True)),
        ("lstm_batch_major_int16", lstm(6, INT16)),
    ]
