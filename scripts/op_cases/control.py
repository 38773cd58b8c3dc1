"""Control flow (IF, WHILE, CALL_ONCE), resource variables (VAR_HANDLE,
READ_VARIABLE, ASSIGN_VARIABLE) and a long operator chain: models of
several operators and subgraphs, built with tflite_builder.GraphBuilder.
goldens.py feeds the samples in order to one interpreter, so the stateful
models check that variables carry from one invocation to the next."""
import numpy as np

from tflite_builder import ADD, BOOL, FLOAT32, INT32, INT8, MUL, RESOURCE, GraphBuilder

RESHAPE, IF, WHILE, CALL_ONCE, VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE = 22, 118, 119, 129, 142, 143, 144
OPT = {"add": 11, "reshape": 17, "mul": 21, "if": 92, "while": 93, "call_once": 103,
       "var_handle": 111, "read_variable": 112, "assign_variable": 113}


def empty(b):
    b.StartObject(0)
    return b.EndObject()


def two_ints(a, c):
    def options(b):
        b.StartObject(2)
        b.PrependInt32Slot(0, a, 0)
        b.PrependInt32Slot(1, c, 0)
        return b.EndObject()
    return options


def one_int(a):
    def options(b):
        b.StartObject(1)
        b.PrependInt32Slot(0, a, 0)
        return b.EndObject()
    return options


def var_handle(name):
    def options(b):
        container, shared = b.CreateString(""), b.CreateString(name)
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, container, 0)
        b.PrependUOffsetTRelativeSlot(1, shared, 0)
        return b.EndObject()
    return options


def add(s, a, c, out, activation=0):
    def options(b):
        b.StartObject(1)
        b.PrependInt8Slot(0, activation, 0)
        return b.EndObject()
    s.op(ADD, [a, c], [out], OPT["add"], options)


def mul(s, a, c, out):
    s.op(MUL, [a, c], [out], OPT["mul"], empty)


def const(s, name, shape, dtype, values, quant=None):
    np_type = {FLOAT32: "<f4", INT8: "i1", INT32: "<i4", BOOL: "?"}[dtype]
    return s.tensor(name, shape, dtype, quant, data=np.array(values, dtype=np_type).reshape(shape).tobytes())


def handle(s, name):
    h = s.tensor(f"{name}_handle", [], RESOURCE)
    s.op(VAR_HANDLE, [], [h], OPT["var_handle"], var_handle(name))
    return h


def stream(name, dtype, init_values, q=None):
    """A streaming model: CALL_ONCE runs subgraph 1, which assigns the
    state its initial value; subgraph 0 reads the state, adds the input,
    writes the sum back and outputs it (a running sum over the samples)
    and a second variable holding the previous input."""
    g = GraphBuilder()
    main, init = g.subgraph(), g.subgraph()
    shape = [1, 3, 5]
    x = main.tensor("x", shape, dtype, q)
    main.op(CALL_ONCE, [], [], OPT["call_once"], one_int(1))
    h = handle(main, "sum")
    state = main.tensor("state", shape, dtype, q)
    main.op(READ_VARIABLE, [h], [state], OPT["read_variable"], empty)
    y = main.tensor("y", shape, dtype, q)
    add(main, state, x, y)
    main.op(ASSIGN_VARIABLE, [h, y], [], OPT["assign_variable"], empty)
    h2 = handle(main, "previous")
    previous = main.tensor("previous", shape, dtype, q)
    main.op(READ_VARIABLE, [h2], [previous], OPT["read_variable"], empty)
    main.op(ASSIGN_VARIABLE, [h2, x], [], OPT["assign_variable"], empty)
    main.inputs, main.outputs = [x], [y, previous]
    for var, values in (("sum", init_values), ("previous", [0] * 15)):
        hi = handle(init, var)
        zeros = const(init, f"{var}_init", shape, dtype, values, q)
        init.op(ASSIGN_VARIABLE, [hi, zeros], [], OPT["assign_variable"], empty)
    return name, g.finish()


def if_model(name, dtype, condition, q=None):
    """IF on a constant condition: ADD in the then branch, MUL in the
    else branch, with a broadcast operand."""
    g = GraphBuilder()
    main, then, other = g.subgraph(), g.subgraph(), g.subgraph()
    qa, qb, qo = q if q else (None, None, None)
    a = main.tensor("a", [2, 3, 4], dtype, qa)
    c = main.tensor("b", [1, 3, 1], dtype, qb)
    cond = const(main, "cond", [1], BOOL, [condition])
    y = main.tensor("y", [2, 3, 4], dtype, qo)
    main.op(IF, [cond, a, c], [y], OPT["if"], two_ints(1, 2))
    main.inputs, main.outputs = [a, c], [y]
    for s, op in ((then, add), (other, mul)):
        sa = s.tensor("a", [2, 3, 4], dtype, qa)
        sb = s.tensor("b", [1, 3, 1], dtype, qb)
        sy = s.tensor("y", [2, 3, 4], dtype, qo)
        op(s, sa, sb, sy)
        s.inputs, s.outputs = [sa, sb], [sy]
    return name, g.finish()


def while_model(name, dtype, iterations, q=None):
    """WHILE over (x, acc, flags...): the condition is the first flag, the
    body adds x into acc, doubles x and shifts the flags, so the loop runs
    `iterations` times."""
    g = GraphBuilder()
    main, cond, body = g.subgraph(), g.subgraph(), g.subgraph()
    shape = [1, 7]
    flags = [True] * iterations + [False]
    x = main.tensor("x", shape, dtype, q)
    acc0 = const(main, "acc0", shape, dtype, [0] * 7 if q is None else [q[1]] * 7, q)
    fl = [const(main, f"flag{i}", [1], BOOL, [f]) for i, f in enumerate(flags)]
    outs = [main.tensor("x_out", shape, dtype, q), main.tensor("acc_out", shape, dtype, q)]
    outs += [main.tensor(f"flag{i}_out", [1], BOOL) for i in range(len(flags))]
    main.op(WHILE, [x, acc0] + fl, outs, OPT["while"], two_ints(1, 2))
    main.inputs, main.outputs = [x], outs[:2]

    def loop_inputs(s):
        return [s.tensor("x", shape, dtype, q), s.tensor("acc", shape, dtype, q)] + [
            s.tensor(f"flag{i}", [1], BOOL) for i in range(len(flags))]

    ci = loop_inputs(cond)
    one = const(cond, "shape", [1], INT32, [1])
    go = cond.tensor("go", [1], BOOL)
    cond.op(RESHAPE, [ci[2], one], [go], OPT["reshape"], empty)
    cond.inputs, cond.outputs = ci, [go]

    bi = loop_inputs(body)
    one = const(body, "shape", [1], INT32, [1])
    acc = body.tensor("acc_next", shape, dtype, q)
    add(body, bi[1], bi[0], acc)
    doubled = body.tensor("x_next", shape, dtype, q)
    add(body, bi[0], bi[0], doubled)
    shifted = []
    for i in range(len(flags)):
        f = body.tensor(f"flag{i}_next", [1], BOOL)
        body.op(RESHAPE, [bi[2 + min(i + 1, len(flags) - 1)], one], [f], OPT["reshape"], empty)
        shifted.append(f)
    body.inputs, body.outputs = bi, [doubled, acc] + shifted
    return name, g.finish()


def chain(name, dtype, length, q=None):
    """`length` ADDs in a row, each into a new tensor: more than 256
    tensors and 300 operators."""
    g = GraphBuilder()
    s = g.subgraph()
    shape = [1, 2, 5]
    x = s.tensor("x", shape, dtype, q)
    if q is None:
        k = const(s, "k", [1, 1, 5], FLOAT32, [0.01, -0.02, 0.003, 0.0, 0.05])
    else:
        k = const(s, "k", [1, 1, 5], INT8, [3, -7, 1, 0, 12], (0.013, -2))
    t = x
    for i in range(length):
        y = s.tensor(f"t{i}", shape, dtype, q)
        add(s, t, k, y)
        t = y
    s.inputs, s.outputs = [x], [t]
    return name, g.finish()


def models():
    q8 = (0.05, -3)
    return [
        stream("call_once_var_stream_f32", FLOAT32, [0.0] * 15),
        stream("call_once_var_stream_nonzero_init_f32", FLOAT32, [0.25 * i - 1.5 for i in range(15)]),
        stream("call_once_var_stream_int8", INT8, [-3] * 15, q8),
        stream("call_once_var_stream_nonzero_init_int8", INT8, [9 * i - 60 for i in range(15)], q8),
        if_model("if_then_f32", FLOAT32, True),
        if_model("if_else_f32", FLOAT32, False),
        if_model("if_then_int8", INT8, True, ((0.05, 1), (0.03, -4), (0.06, 7))),
        if_model("if_else_int8", INT8, False, ((0.05, 1), (0.03, -4), (0.02, 7))),
        while_model("while_3_iterations_f32", FLOAT32, 3),
        while_model("while_0_iterations_f32", FLOAT32, 0),
        while_model("while_2_iterations_int8", INT8, 2, (0.04, 5)),
        chain("add_chain_300_f32", FLOAT32, 300),
        chain("add_chain_310_int8", INT8, 310, (0.05, -3)),
    ]
