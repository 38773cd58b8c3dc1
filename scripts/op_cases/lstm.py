"""UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and integer (int8 activations
with int32 biases, or int16 with int64 biases; int8 weights, an int16 cell
state): batch-major and time-major, with and without a cell clip (the cell
activation is TANH: the schema's activations have no sigmoid, the one
other cell activation TFLite Micro computes). The hidden and cell states
are variable tensors, so goldens.py feeds the samples as one stream."""
import numpy as np

from tflite_builder import FLOAT32, INT16, INT32, INT8, GraphBuilder

LSTM, LSTM_OPTIONS = 44, 71
TANH = 4
BATCHES, STEPS, INPUTS, STATE = 2, 3, 5, 4


def options(cell_clip, time_major):
    def build(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, TANH, 0)
        b.PrependFloat32Slot(1, cell_clip, 0.0)
        b.PrependBoolSlot(3, time_major, False)
        return b.EndObject()
    return build


def lstm(seed, cell_clip=0.0, time_major=False):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    s = g.subgraph()
    layout = [STEPS, BATCHES] if time_major else [BATCHES, STEPS]
    x = s.tensor("x", layout + [INPUTS], FLOAT32)

    def const(name, shape):
        return s.tensor(name, list(shape), FLOAT32, data=rng.uniform(-1, 1, shape).astype("<f4").tobytes())

    gates = ("input", "forget", "cell", "output")
    w = [const(f"{gate}_w", (STATE, INPUTS)) for gate in gates]
    r = [const(f"{gate}_r", (STATE, STATE)) for gate in gates]
    bias = [const(f"{gate}_b", (STATE,)) for gate in gates]
    hidden = s.tensor("hidden", [BATCHES, STATE], FLOAT32, variable=True)
    cell = s.tensor("cell", [BATCHES, STATE], FLOAT32, variable=True)
    y = s.tensor("y", layout + [STATE], FLOAT32)
    inputs = [x] + w + r + [-1, -1, -1] + bias + [-1, -1] + [hidden, cell] + [-1] * 4
    s.op(LSTM, inputs, [y], LSTM_OPTIONS, options(cell_clip, time_major))
    s.inputs, s.outputs = [x], [y]
    return g.finish()


INT64 = 4


def integer_lstm(seed, dtype, cell_scale, cell_clip=0.0, time_major=False, zero_point=0):
    """An integer LSTM: `dtype` activations (int8 or int16), int8 per-tensor
    weights, an int16 cell state of scale `cell_scale` (a power of two)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    s = g.subgraph()
    layout = [STEPS, BATCHES] if time_major else [BATCHES, STEPS]
    wide = dtype == INT16
    act_q = (1 / 4096, 0) if wide else (0.02, zero_point)
    hidden_q = (1 / 32768, 0) if wide else (1 / 128, zero_point)
    x = s.tensor("x", layout + [INPUTS], dtype, act_q)

    def weights(name, shape, scale):
        data = rng.integers(-127, 128, size=shape).astype(np.int8).tobytes()
        return s.tensor(name, list(shape), INT8, (scale, 0), data=data)

    gates = ("input", "forget", "cell", "output")
    w_scales = rng.uniform(0.004, 0.02, 8)
    w = [weights(f"{gate}_w", (STATE, INPUTS), w_scales[i]) for i, gate in enumerate(gates)]
    r = [weights(f"{gate}_r", (STATE, STATE), w_scales[4 + i]) for i, gate in enumerate(gates)]
    bias_type, bias_np = (INT64, "<i8") if wide else (INT32, "<i4")
    bias = [s.tensor(f"{gate}_b", [STATE], bias_type, (act_q[0] * w_scales[i], 0),
                     data=rng.integers(-20000, 20000, size=STATE).astype(bias_np).tobytes())
            for i, gate in enumerate(gates)]
    hidden = s.tensor("hidden", [BATCHES, STATE], dtype, hidden_q, variable=True)
    cell = s.tensor("cell", [BATCHES, STATE], INT16, (cell_scale, 0), variable=True)
    y = s.tensor("y", layout + [STATE], dtype, hidden_q)
    inputs = [x] + w + r + [-1, -1, -1] + bias + [-1, -1] + [hidden, cell] + [-1] * 4
    s.op(LSTM, inputs, [y], LSTM_OPTIONS, options(cell_clip, time_major))
    s.inputs, s.outputs = [x], [y]
    return g.finish()


def models():
    return [
        ("lstm_batch_major_f32", lstm(1)),
        ("lstm_time_major_f32", lstm(2, time_major=True)),
        ("lstm_cell_clip_f32", lstm(3, cell_clip=0.5)),
        ("lstm_batch_major_int8", integer_lstm(4, INT8, 2 ** -11, zero_point=3)),
        ("lstm_time_major_cell_clip_int8", integer_lstm(5, INT8, 2 ** -15, cell_clip=0.6, time_major=True)),
        ("lstm_batch_major_int16", integer_lstm(6, INT16, 2 ** -12)),
        ("lstm_time_major_cell_clip_int16", integer_lstm(7, INT16, 2 ** -10, cell_clip=3.0, time_major=True)),
    ]
