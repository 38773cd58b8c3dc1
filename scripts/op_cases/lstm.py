"""UNIDIRECTIONAL_SEQUENCE_LSTM, float32: batch-major and time-major, with
and without a cell clip (the cell activation is TANH: the schema's
activations have no sigmoid, the one other cell activation TFLite Micro
computes). The hidden
and cell states are variable tensors, so goldens.py feeds the samples as
one stream."""
import numpy as np

from tflite_builder import FLOAT32, GraphBuilder

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


def models():
    return [
        ("lstm_batch_major_f32", lstm(1)),
        ("lstm_time_major_f32", lstm(2, time_major=True)),
        ("lstm_cell_clip_f32", lstm(3, cell_clip=0.5)),
    ]
