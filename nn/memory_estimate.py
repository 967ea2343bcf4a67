"""How much memory a training run will need, how much this machine has, and refusing
what cannot fit (with advice on what would).

The estimate is by counting (graph nodes and edges, arrays of examples x layer width)
times bytes measured per thing; what is available is read from /proc/meminfo, the
cgroup's limit (v2 and v1) and the process's rlimits, whichever is smallest.
"""

from __future__ import annotations

from dataclasses import replace

from autograd_core.files import describe_size

from .datasets import DATASETS
from .evaluation import EVALUATION_CHUNK
from .training_config import TooLargeError

__all__ = ["estimate_memory", "available_memory", "check_memory", "ENGINES"]

# Bytes the engine holds per graph node and per edge (a parent reference and its local
# derivative), measured by peak RSS on CPython 3.11: eager graphs (engine_step) ~24 bytes
# an edge and ~200 a node; compile() (straight-line code, the batch compile without
# numpy) ~3,500 bytes an edge for its source text, AST and code object. A margin on
# top: the estimate should refuse what cannot fit, not be exact. A data point is a list
# of floats (~56 + 32 per coordinate).
_BYTES_PER_NODE = 260
_BYTES_PER_EDGE = 32
_BYTES_PER_COMPILED_EDGE = 4000
# The batch compile with numpy holds, per example of a batch, a handful of float64
# arrays per neuron (its net input and activation, their gradients, a temporary) and
# per input (the batch, stacked); cross-entropy adds a few per class. Measured: see
# tests/nn/test_train_batch.py (the estimate covers the peak RSS of large runs).
_ARRAYS_PER_NEURON = 6
_ARRAYS_PER_INPUT = 3
_ARRAYS_PER_CLASS = 8
# ...and, per parameter, the compile's bookkeeping (where each weight sits, which node
# uses it) and the parameters and gradients as arrays and lists: measured ~750 bytes.
_BYTES_PER_COMPILED_PARAMETER = 800
_SAFETY = 0.8                   # use at most this share of what is available
ENGINES = ("batch", "eager")    # the step functions estimate_memory knows (STEPS)


def _sizes(config):
    """The network's layer widths, as the dataset's row and the config say."""
    data = DATASETS[config.dataset]
    return [data.inputs, *config.hidden, data.outputs]


def _graph_size(sizes):
    """(nodes, edges) of one example's forward graph and loss through an MLP of these sizes."""
    nodes = sizes[0]  # the inputs as leaves
    edges = 0
    for nin, nout in zip(sizes, sizes[1:]):
        nodes += 2 * nout          # a wsum node and an activation node per neuron
        edges += nout * (2 * nin + 2)
    nodes += 4 * sizes[-1]  # the loss terms
    edges += 4 * sizes[-1]
    return nodes, edges


def _batch(config):
    return config.samples if config.batch_size is None else min(config.batch_size,
                                                                config.samples)


def _has_numpy():
    import importlib.util
    try:
        return importlib.util.find_spec("numpy") is not None
    except (ImportError, ValueError):
        return False


def estimate_memory(config, engine="batch") -> int:
    """Bytes training with this (resolved) config will need at its peak, roughly.

    engine: "batch" (the default step, batch_step: one sample's graph, and arrays of
    examples x layer width over a batch) or "eager" (engine_step: a graph per example)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    sizes = _sizes(config)
    parameters = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    batch = _batch(config)
    nodes, edges = _graph_size(sizes)
    dataset = config.samples * (120 + 32 * sizes[0])
    if engine == "eager":
        graph = batch * (nodes * _BYTES_PER_NODE + edges * _BYTES_PER_EDGE)
    elif _has_numpy():
        # evaluation runs the compile over up to EVALUATION_CHUNK examples at once
        rows = max(batch, min(config.samples, EVALUATION_CHUNK))
        width = _ARRAYS_PER_INPUT * sizes[0] + _ARRAYS_PER_NEURON * sum(sizes[1:]) + \
            (_ARRAYS_PER_CLASS * sizes[-1] if sizes[-1] > 1 else 0)
        graph = nodes * _BYTES_PER_NODE + edges * _BYTES_PER_EDGE + 8 * rows * width + \
            parameters * _BYTES_PER_COMPILED_PARAMETER
        dataset += 8 * config.samples * (sizes[0] + 1)  # the data again, as arrays
    else:
        # one sample's compiled code, and each example's gradients until they are added
        graph = nodes * _BYTES_PER_NODE + edges * (_BYTES_PER_EDGE + _BYTES_PER_COMPILED_EDGE) \
            + batch * (parameters + sizes[-1]) * 32
    return parameters * _BYTES_PER_NODE + graph + dataset


def available_memory() -> int:
    """Bytes this process can still take: free memory, within any cgroup or rlimit."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                text = f.read().strip()
            if text != "max" and int(text) < 1 << 60:
                with open(usage_file) as f:
                    limits.append(int(text) - int(f.read().strip()))
        except (OSError, ValueError):
            pass
    try:
        import resource
        for which in ("RLIMIT_AS", "RLIMIT_DATA"):
            soft = resource.getrlimit(getattr(resource, which))[0]
            if soft != resource.RLIM_INFINITY:
                limits.append(soft - _address_space_bytes())
    except (ImportError, AttributeError, OSError, ValueError):
        pass
    if not limits:
        return 1 << 62  # nothing to go by: do not refuse
    return max(0, min(limits))


def _address_space_bytes():
    """This process's virtual size: what RLIMIT_AS counts."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


def check_memory(config, available=None, engine="batch"):
    """Raise TooLargeError, saying what would fit, if `config` cannot fit in memory
    (trained with `engine`: see estimate_memory)."""
    available = available_memory() if available is None else available
    budget = int(available * _SAFETY)
    need = estimate_memory(config, engine)
    if need <= budget:
        return
    advice = []
    batch = _batch(config)
    for smaller in (1000, 100, 20, 10, 1):
        if smaller < batch and \
                estimate_memory(replace(config, batch_size=smaller), engine) <= budget:
            advice.append(f"--batch-size {smaller}")
            break
    widest = _largest_fitting(lambda h: replace(config, hidden=(h,) * len(config.hidden)),
                              max(config.hidden), budget, engine)
    if widest:
        advice.append(f"--hidden {','.join([str(widest)] * len(config.hidden))}")
    most = _largest_fitting(lambda n: replace(config, samples=n), config.samples, budget,
                            engine)
    if most:
        advice.append(f"--samples {most}")
    hint = ("; what fits: " + " or ".join(advice)) if advice else \
        "; not even the smallest network fits"
    raise TooLargeError(
        f"this training would need about {describe_size(need)} of memory but "
        f"{describe_size(available)} is available{hint}")


def _largest_fitting(make, upper, budget, engine):
    """The largest n < upper (>= 1) with estimate_memory(make(n)) <= budget, or None."""
    lo, hi = 0, upper
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if estimate_memory(make(mid), engine) <= budget:
            lo = mid
        else:
            hi = mid
    return lo or None
