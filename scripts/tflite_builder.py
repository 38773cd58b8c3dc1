#!/usr/bin/env python3
"""A minimal TFLite flatbuffer writer for single-operator test models, built
with the flatbuffers builder straight from the TFLite schema's field
numbers, so no TensorFlow is needed. Used by scripts/op_models.py and the
operator case files in scripts/op_cases/.
"""
import flatbuffers

FLOAT32, INT32, INT8 = 0, 2, 9
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, MUL = 0, 1, 2, 3, 9, 14, 17, 18
RELU, RELU6, TANH, PAD, MEAN = 19, 21, 28, 34, 40
GELU = 150
OPTIONS = {"conv": 1, "pool": 5, "fc": 8, "concat": 10, "add": 11, "mul": 21, "pad": 22, "reducer": 27}


class ModelBuilder:
    """One subgraph, one operator."""

    def __init__(self):
        self.b = flatbuffers.Builder(1024)
        self.tensors, self.buffers = [], [b""]

    def vector(self, values, kind):
        size, prepend = {"i32": (4, "PrependInt32"), "f32": (4, "PrependFloat32"), "i64": (8, "PrependInt64"),
                         "u8": (1, "PrependUint8"), "off": (4, "PrependUOffsetTRelative")}[kind]
        self.b.StartVector(size, len(values), size)
        for v in reversed(values):
            getattr(self.b, prepend)(v)
        return self.b.EndVector()

    def tensor(self, name, shape, dtype, quant=None, data=None, signature=None):
        """Adds a tensor; `data` (bytes) makes it a constant."""
        buffer = 0
        if data is not None:
            self.buffers.append(data)
            buffer = len(self.buffers) - 1
        self.tensors.append((name, shape, dtype, quant, buffer, signature))
        return len(self.tensors) - 1

    def finish(self, opcode, inputs, outputs, options_type=0, options=None):
        b = self.b
        buffers = []
        for data in self.buffers:
            vec = self.vector(list(data), "u8") if data else None
            b.StartObject(3)
            if vec is not None:
                b.PrependUOffsetTRelativeSlot(0, vec, 0)
            buffers.append(b.EndObject())
        tensors = []
        for name, shape, dtype, quant, buffer, signature in self.tensors:
            name_off = b.CreateString(name)
            shape_off = self.vector(shape, "i32")
            # shape_signature, -1 for a dynamic dimension
            signature_off = self.vector(signature, "i32") if signature is not None else None
            q_off = None
            if quant is not None:
                # (scale, zero_point), or per channel ([scales], [zero_points], axis).
                per_channel = isinstance(quant[0], (list, tuple))
                scale = self.vector(list(quant[0]) if per_channel else [quant[0]], "f32")
                zp = self.vector(list(quant[1]) if per_channel else [quant[1]], "i64")
                b.StartObject(7)
                b.PrependUOffsetTRelativeSlot(2, scale, 0)
                b.PrependUOffsetTRelativeSlot(3, zp, 0)
                if per_channel:
                    b.PrependInt32Slot(6, quant[2], 0)
                q_off = b.EndObject()
            b.StartObject(8)
            b.PrependUOffsetTRelativeSlot(0, shape_off, 0)
            b.PrependInt8Slot(1, dtype, -1)
            b.PrependUint32Slot(2, buffer, 0xFFFFFFFF)
            b.PrependUOffsetTRelativeSlot(3, name_off, 0)
            if q_off is not None:
                b.PrependUOffsetTRelativeSlot(4, q_off, 0)
            if signature is not None:
                b.PrependUOffsetTRelativeSlot(7, signature_off, 0)
            tensors.append(b.EndObject())
        opts = options(b) if options else None
        op_in, op_out = self.vector(inputs, "i32"), self.vector(outputs, "i32")
        b.StartObject(5)
        b.PrependUint32Slot(0, 0, 1)
        b.PrependUOffsetTRelativeSlot(1, op_in, 0)
        b.PrependUOffsetTRelativeSlot(2, op_out, 0)
        if opts is not None:
            b.PrependUint8Slot(3, options_type, 0)
            b.PrependUOffsetTRelativeSlot(4, opts, 0)
        operator = b.EndObject()
        graph_inputs = [i for i in inputs if self.tensors[i][4] == 0]
        sg_tensors, sg_in = self.vector(tensors, "off"), self.vector(graph_inputs, "i32")
        sg_out, sg_ops = self.vector(outputs, "i32"), self.vector([operator], "off")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, sg_tensors, 0)
        b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
        b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
        b.PrependUOffsetTRelativeSlot(3, sg_ops, 0)
        subgraph = b.EndObject()
        b.StartObject(4)
        b.PrependInt8Slot(0, min(opcode, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, opcode, 0)
        code = b.EndObject()
        codes, subgraphs, bufs = self.vector([code], "off"), self.vector([subgraph], "off"), self.vector(buffers, "off")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, codes, 0)
        b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
        b.PrependUOffsetTRelativeSlot(4, bufs, 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())



BOOL, INT16, RESOURCE = 6, 7, 13
CUSTOM = 32


class Subgraph:
    """One subgraph of a GraphBuilder model: tensors, operators, inputs and
    outputs (set `inputs` / `outputs` to lists of tensor indices)."""

    def __init__(self, model):
        self.model = model
        self.tensors, self.ops = [], []
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, dtype, quant=None, data=None, variable=False, sparsity=None):
        """Adds a tensor; `data` (bytes) makes it a constant, `variable` a
        variable tensor (SVDF/LSTM state); `sparsity(b)` builds a
        SparsityParameters table."""
        buffer = self.model.buffer(data) if data is not None else 0
        self.tensors.append((name, shape, dtype, quant, buffer, variable, sparsity))
        return len(self.tensors) - 1

    def op(self, opcode, inputs, outputs, options_type=0, options=None, custom=None, custom_options=None):
        """Adds an operator (custom when `custom` names its code); -1 in
        `inputs` is an omitted optional input."""
        code = self.model.opcode(opcode if custom is None else CUSTOM, custom)
        self.ops.append((code, list(inputs), list(outputs), options_type, options, custom_options))


class GraphBuilder:
    """Models of several operators and subgraphs (control flow, resource
    variables, long chains): `s = GraphBuilder().subgraph()` gives subgraph
    0, each call another; `finish()` writes the model."""

    def __init__(self):
        self.b = flatbuffers.Builder(4096)
        self.buffers, self.codes, self.subgraphs = [b""], [], []

    vector = ModelBuilder.vector

    def subgraph(self):
        self.subgraphs.append(Subgraph(self))
        return self.subgraphs[-1]

    def buffer(self, data):
        self.buffers.append(bytes(data))
        return len(self.buffers) - 1

    def opcode(self, builtin, custom):
        key = (builtin, custom)
        if key not in self.codes:
            self.codes.append(key)
        return self.codes.index(key)

    def _tensor(self, name, shape, dtype, quant, buffer, variable, sparsity):
        b = self.b
        name_off = b.CreateString(name)
        shape_off = self.vector(list(shape), "i32")
        q_off = None
        if quant is not None:
            per_channel = isinstance(quant[0], (list, tuple))
            scale = self.vector(list(quant[0]) if per_channel else [quant[0]], "f32")
            zp = self.vector(list(quant[1]) if per_channel else [quant[1]], "i64")
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(2, scale, 0)
            b.PrependUOffsetTRelativeSlot(3, zp, 0)
            if per_channel:
                b.PrependInt32Slot(6, quant[2], 0)
            q_off = b.EndObject()
        sp_off = sparsity(b) if sparsity else None
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape_off, 0)
        b.PrependInt8Slot(1, dtype, -1)
        b.PrependUint32Slot(2, buffer, 0xFFFFFFFF)
        b.PrependUOffsetTRelativeSlot(3, name_off, 0)
        if q_off is not None:
            b.PrependUOffsetTRelativeSlot(4, q_off, 0)
        if variable:
            b.PrependBoolSlot(5, True, False)
        if sp_off is not None:
            b.PrependUOffsetTRelativeSlot(6, sp_off, 0)
        return b.EndObject()

    def _operator(self, code, inputs, outputs, options_type, options, custom_options):
        b = self.b
        opts = options(b) if options else None
        custom_off = self.vector(list(custom_options), "u8") if custom_options is not None else None
        op_in, op_out = self.vector(inputs, "i32"), self.vector(outputs, "i32")
        b.StartObject(7)
        b.PrependUint32Slot(0, code, 0)
        b.PrependUOffsetTRelativeSlot(1, op_in, 0)
        b.PrependUOffsetTRelativeSlot(2, op_out, 0)
        if opts is not None:
            b.PrependUint8Slot(3, options_type, 0)
            b.PrependUOffsetTRelativeSlot(4, opts, 0)
        if custom_off is not None:
            b.PrependUOffsetTRelativeSlot(5, custom_off, 0)
        return b.EndObject()

    def finish(self):
        b = self.b
        buffers = []
        for data in self.buffers:
            vec = self.vector(list(data), "u8") if data else None
            b.StartObject(3)
            if vec is not None:
                b.PrependUOffsetTRelativeSlot(0, vec, 0)
            buffers.append(b.EndObject())
        subgraphs = []
        for s in self.subgraphs:
            tensors = [self._tensor(*t) for t in s.tensors]
            ops = [self._operator(*o) for o in s.ops]
            sg_tensors, sg_in = self.vector(tensors, "off"), self.vector(s.inputs, "i32")
            sg_out, sg_ops = self.vector(s.outputs, "i32"), self.vector(ops, "off")
            b.StartObject(5)
            b.PrependUOffsetTRelativeSlot(0, sg_tensors, 0)
            b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
            b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
            b.PrependUOffsetTRelativeSlot(3, sg_ops, 0)
            subgraphs.append(b.EndObject())
        codes = []
        for builtin, custom in self.codes:
            custom_off = b.CreateString(custom) if custom is not None else None
            b.StartObject(4)
            b.PrependInt8Slot(0, min(builtin, 127), 0)
            if custom_off is not None:
                b.PrependUOffsetTRelativeSlot(1, custom_off, 0)
            b.PrependInt32Slot(2, 1, 1)
            b.PrependInt32Slot(3, builtin, 0)
            codes.append(b.EndObject())
        codes, subgraphs, bufs = self.vector(codes, "off"), self.vector(subgraphs, "off"), self.vector(buffers, "off")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, codes, 0)
        b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
        b.PrependUOffsetTRelativeSlot(4, bufs, 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())
