"""Random graphs over every op of the table, for hypothesis: the one generator.

A program is (input values, steps); a step is (op, picks, constant or None): apply op to
the nodes numbered `picks` (inputs first, then each step's result), with the constant
as the last operand when there is one. `programs()` draws them. Two ways to turn steps
into Values:

- `apply` (with `build`) keeps each op in its domain by looking at the numbers: outside
  it, the step is replaced (a graph built on these inputs only, as compile() is
  checked against the eager engine);
- `apply_safe` makes every operand safe by construction (log sees sigmoid(x) + 0.5, exp
  sees tanh(x)), so the same graph is defined for any numbers: a batch's samples.

Pure Python and hypothesis only, so that tests/engine/pure (run under PyPy) can use it:
`from tests.strategies import programs, build`.
"""

from hypothesis import strategies as st

from autograd_core import OPS, Value, maximum, minimum, op_info, value_sum, weighted_sum

POWERS = {"pow2": 2, "pow3": 3, "pow2.5": 2.5, "powhalf": 0.5, "powminus1": -1,
          "powminus2.5": -2.5}
UNARY = ["neg", "exp", "log", "sin", "cos", "sqrt", "abs", "tanh", "sigmoid", "relu",
         "softplus"] + list(POWERS)
BINARY = ["+", "-", "*", "/", "**", "maximum", "minimum"]
NARY = ["weighted_sum", "value_sum"]  # the engine functions that make the n-ary nodes
PROGRAM_OPS = UNARY + BINARY + NARY


def _steps(draw, n_inputs, max_steps):
    steps = []
    for i in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(PROGRAM_OPS))
        pool = n_inputs + i
        arity = 1 if op in UNARY else 2 if op in BINARY else (
            2 * draw(st.integers(1, 3)) + 1 if op == "weighted_sum" else draw(st.integers(1, 4)))
        picks = draw(st.lists(st.integers(0, pool - 1), min_size=arity, max_size=arity))
        const = None
        if op in BINARY + NARY and draw(st.booleans()):
            const = draw(st.floats(-3.0, 3.0, allow_nan=False).filter(lambda c: abs(c) > 0.1))
            if op in BINARY:
                picks = picks[:1]
            elif op == "weighted_sum":
                picks = picks[:-1]
        steps.append((op, picks, const))
    return steps


@st.composite
def programs(draw, inputs=(1, 4), max_steps=14):
    """(input values in [-2, 2], steps): a random program of 1..max_steps steps."""
    n_inputs = draw(st.integers(*inputs))
    values = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=n_inputs,
                           max_size=n_inputs))
    return values, _steps(draw, n_inputs, max_steps)


@st.composite
def batch_programs(draw, max_steps=7):
    """(number of params, number of placeholders, steps) for a graph of one sample."""
    n_params = draw(st.integers(1, 3))
    n_holders = draw(st.integers(1, 2))
    return n_params, n_holders, _steps(draw, n_params + n_holders, max_steps)


def step_on(op, i, j):
    """The step applying `op` to nodes i and j alone (every operand one of the two)."""
    picks = [i] if op in UNARY else [i, j] if op in BINARY else \
        [i, j, j, i, i] if op == "weighted_sum" else [i, j, i]
    return op, picks, None


# --------------------------------------------------------- steps guarded by the numbers

def apply(op, args, const):
    """One step on Values; None when the operands are outside the op's domain."""
    a = args[0]
    x = a.data
    if op in BINARY:
        b = args[1] if const is None else const
        y = b.data if isinstance(b, Value) else b
        if op == "/" and abs(y) < 0.1:
            return None
        if op == "**" and not (0.1 < x < 10 and abs(y) < 3):
            return None
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                "/": lambda: a / b, "**": lambda: a ** b, "maximum": lambda: maximum(a, b),
                "minimum": lambda: minimum(b, a)}[op]()
    if op == "weighted_sum":
        k = len(args) // 2
        return weighted_sum(args[:k], args[k:2 * k], args[-1] if const is None else const)
    if op == "value_sum":
        return value_sum(list(args) + ([const] if const is not None else []))
    if (op == "exp" and abs(x) > 20) or (op in ("log", "sqrt", "powhalf", "pow2.5",
                                                "powminus2.5") and x <= 0.1) \
            or (op == "powminus1" and abs(x) < 0.1):
        return None
    if op in POWERS:
        return a ** POWERS[op]
    if op == "neg":
        return -a
    if op == "abs":
        return abs(a)
    return getattr(a, op)()


def build(values, steps, replace_errors=False):
    """(root, inputs): the program's graph on these input numbers, the sum of every node.
    A step outside its op's domain (or, with replace_errors, one that raises) becomes
    half of its first operand, so the nodes keep their numbers."""
    inputs = [Value(v, label=f"in{i}") for i, v in enumerate(values)]
    pool = list(inputs)
    for op, picks, const in steps:
        try:
            result = apply(op, [pool[i] for i in picks], const)
        except (ValueError, ZeroDivisionError, OverflowError):
            if not replace_errors:
                raise
            result = None
        if result is None or abs(result.data) > 1e6:
            result = pool[picks[0]] * 0.5  # keeps the pool growing, stays in range
        pool.append(result)
    return value_sum(pool), inputs


# ------------------------------------------------------ steps safe for any numbers

def positive(v):
    """A Value in (0.5, 1.5) made from any Value: the domain guard for log, sqrt, /, **."""
    return v.sigmoid() + 0.5


def bounded(v):
    return v.tanh()


def apply_safe(op, args, const):
    """One step on Values, defined whatever numbers they hold. A constant becomes a leaf
    Value that is no parameter (it gets no gradient either way)."""
    a = args[0]
    if op in BINARY:
        b = args[1] if const is None else Value(const)
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: bounded(a) * b,
                "/": lambda: a / positive(b), "**": lambda: positive(a) ** bounded(b),
                "maximum": lambda: maximum(a, b),
                "minimum": lambda: minimum(bounded(a), b)}[op]()
    if op == "weighted_sum":  # plain numbers among the weights and inputs too
        k = len(args) // 2
        bias = args[2 * k] if const is None else const
        return weighted_sum(list(args[:k]) + [0.5],
                            [bounded(x) for x in args[k:2 * k]] + [2.0], bias)
    if op == "value_sum":
        return value_sum(list(args) + [1.5 if const is None else const])
    if op in POWERS:
        n = POWERS[op]
        return bounded(a) ** n if n == int(n) and n > 0 else positive(a) ** n
    if op in ("exp",):
        return bounded(a).exp()
    if op in ("log", "sqrt"):
        return getattr(positive(a), op)()
    if op == "neg":
        return -a
    if op == "abs":
        return abs(a)
    return getattr(a, op)()


def table_ops_made(apply_step) -> set:
    """The op table's names of the nodes `apply_step` makes, one step of each op."""
    made = set()
    for op in PROGRAM_OPS:
        a, b = Value(0.7), Value(1.3)
        node = apply_step(op, [a, b, Value(0.2)], None)
        made.add(op_info(node.op).name)
    return made


def table_ops():
    """The op table's names, without ops that tests declare for themselves."""
    return sorted(name for name, info in OPS.items() if not info.user)
