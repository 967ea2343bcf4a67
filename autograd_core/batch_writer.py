"""The batch compile's code writer: one sample's graph as numpy code for N samples.

Each node becomes one numpy operation over all N samples at once: its value for sample
n is row n of an array, and its formulas are the op table's (ops.expand), translated by
array_formulas.py. Where the graph has a layer's shape (several nodes of the row
declared batch_layout="layer", the weighted sum fsum(w_i * x_i) + b, over the same
inputs, with parameters as weights and biases) their weighted sums become one matrix
product, and the backward pass through that layer becomes the two Jacobian products of
the textbook mini-batch derivation:
    d inputs = d net @ W        (d net / d x = W, one row per sample)
    d W      = d net.T @ X      (d net / d W = x, summed over the samples)
A unary operation applied to every column of such a matrix (the layer's activation), or
an operation applied to every parameter (an L2 penalty's p * p), also becomes one array
operation. Everything else is one operation on a column. It is one module of about
570 lines because finding the layers and writing their forward and backward lines share
one set of bookkeeping (which node is in which group, which gradients are live).
"""

from __future__ import annotations

import ast

from .array_formulas import array_source as _array_source
from .array_formulas import is_atomic as _is_atomic
from .array_formulas import names_in
from .array_formulas import parsed as _parsed
from .compiler import Names as _Names
from .compiler import literal as _literal
from .ops import OPS, expand, op_info
from .vocabulary import backend

__all__ = ["NumpyWriter", "HEADER"]

HEADER = """\
# A mini-batch as array operations, written by autograd_core.compile(..., batch=...).
# The graph of ONE sample, run for all N samples at once: every value below is an
# array with one row per sample (a column per neuron for a layer); P holds the
# parameters and dP their gradients. The formulas are the op table's.
# Forward, for a layer: net = X @ W.T + b  (row n: sample n's w . x + b per neuron).
# Backward: d_v is d loss / d v, one row per sample; through a layer it is the product
# of Jacobians, d X = d net @ W, and the parameters' share is summed over the samples,
# d W = d net.T @ X, d b = the column sums of d net. That is all a mini-batch adds.
# (netK_W_at, netK_b_at: where layer K's weights and biases sit in P.)
"""

def _row_laid_out_as(layout):
    """The name of the table's row declaring this batch_layout ("layer": its nodes over
    the same inputs become one matrix product; "total": a sum of a whole group's columns
    becomes one array sum), or None."""
    for info in OPS.values():
        if info.batch_layout == layout:
            return info.name
    return None


def _stem(op_name):
    return op_info(op_name).stem


# Helpers the generated code calls besides the vocabulary.
def _code_helpers(np):
    def total(*terms):
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out
    return {"stack": np.stack, "zeros": np.zeros, "zeros_like": np.zeros_like,
            "full": np.full, "add_at": np.add.at, "total": total}


def _count(k, one, many=None):
    return f"{k} {one if k == 1 else many or one + 's'}"


class _Group:
    """Nodes computed together as one array, one column per member (a layer's neurons,
    an activation applied to each of them, or one operation applied to every parameter)."""

    def __init__(self, name, members, kind, how):
        self.name, self.members, self.kind, self.how = name, members, kind, how
        self.slots = None   # map: per operand, "G" (the source group's column) or a literal
        self.source = None  # map: the group it maps over
        self.x = None       # layer: ("group", G, indices) or ("stack", [nodes])
        self.w_at = self.b_at = None  # layer: positions of W and b in the parameter list

    def column(self, j):
        return f"{self.name}[:, {j}]" if self.kind == "batch" else f"{self.name}[{j}]"


class NumpyWriter:
    def __init__(self, root, params, batch, reduce, order, np, watch=(), forward_only=False):
        self.root, self.params, self.batch, self.reduce = root, params, batch, reduce
        self.order, self.np = order, np
        self.watch, self.forward_only = watch, forward_only
        self.names = _Names()
        namespace = dict(backend("numpy"), **_code_helpers(np))
        self.layer_op, self.total_op = _row_laid_out_as("layer"), _row_laid_out_as("total")
        self.names.taken.update(set(namespace) | {"P", "dP", "N", "forward_backward",
                                                          "watched"})
        # No builtins for the generated code, except the import numpy itself may do lazily
        # from inside a call (its matmul does on first use).
        self.namespace = dict(namespace, __builtins__={"__import__": __import__})
        self.param_at = {id(p): i for i, p in enumerate(params)}
        self.kind, self.wants = {}, {}
        batch_ids = {id(v) for v in batch}
        for node in order:
            key = id(node)
            if not node.parents:
                self.kind[key] = ("param" if key in self.param_at else
                                  "batch" if key in batch_ids else "const")
                self.wants[key] = key in self.param_at
            else:
                kinds = {self.kind[id(p)] for p in node.parents}
                self.kind[key] = ("batch" if "batch" in kinds else
                                  "param" if "param" in kinds else "const")
                self.wants[key] = any(self.wants[id(p)] for p in node.parents)
        self.consumers = {}
        for node in order:
            for parent in node.parents:
                users = self.consumers.setdefault(id(parent), [])
                if not users or users[-1] is not node:
                    users.append(node)
        self.group_of = {}    # id(node) -> (group, column)
        self.groups = []
        self.expression = {}  # id(node) -> source of its value

    # ----------------------------------------------------------------- grouping
    def _add_group(self, group):
        self.groups.append(group)
        for j, node in enumerate(group.members):
            self.group_of[id(node)] = (group, j)

    def _find_groups(self):
        params_group = _Group("P", list(self.params), "param", "params")
        self._add_group(params_group)
        if self.layer_op is not None:
            layers = {}
            for node in self.order:
                if node.op != self.layer_op or self.kind[id(node)] != "batch":
                    continue
                k = (len(node.parents) - 1) // 2
                ws, xs, b = node.parents[:k], node.parents[k:2 * k], node.parents[-1]
                if all(id(w) in self.param_at for w in ws) and id(b) in self.param_at and \
                        all(self.kind[id(x)] == "batch" for x in xs):
                    layers.setdefault(tuple(map(id, xs)), []).append(node)
            for number, members in enumerate(layers.values(), 1):
                # neuron order (their biases' order among the parameters) is the order
                # in which the next layer lists them as inputs
                members.sort(key=lambda node: self.param_at[id(node.parents[-1])])
                group = _Group(self.names.new(f"net{number}", "net"), members, "batch", "layer")
                k = (len(members[0].parents) - 1) // 2
                group.w_at = [[self.param_at[id(w)] for w in m.parents[:k]] for m in members]
                group.b_at = [self.param_at[id(m.parents[-1])] for m in members]
                group.number = number
                self._add_group(group)
        pending = list(self.groups)
        while pending:
            source = pending.pop(0)
            for group in self._maps_over(source):
                self._add_group(group)
                pending.append(group)

    def _maps_over(self, source):
        """Groups of nodes that apply one operation to each column of `source`."""
        candidates = {}
        for j, member in enumerate(source.members):
            for user in self.consumers.get(id(member), ()):
                if id(user) in self.group_of or op_info(user.op).nary:
                    continue
                slots = []
                for parent in user.parents:
                    if parent is member:
                        slots.append("G")
                    elif self.kind[id(parent)] == "const":
                        slots.append(_literal(parent.data))
                    else:
                        break
                else:
                    candidates.setdefault((user.op, tuple(slots)), {}).setdefault(j, []).append(user)
        groups = []
        taken = set()
        for (op_name, slots), by_column in candidates.items():
            if len(by_column) != len(source.members) or \
                    any(len(users) != 1 for users in by_column.values()):
                continue
            members = [by_column[j][0] for j in range(len(source.members))]
            if any(id(m) in taken for m in members):
                continue
            taken.update(map(id, members))
            stem = _stem(op_name)
            number = getattr(source, "number", None)
            group = _Group(self.names.new(f"{stem}{number}" if number else "", stem), members,
                           source.kind, "map")
            group.slots, group.source, group.number = slots, source, number
            groups.append(group)
        return groups

    # -------------------------------------------------------------- expressions
    def _value(self, node):
        key = id(node)
        if key in self.expression:
            return self.expression[key]
        if key in self.group_of:
            group, j = self.group_of[key]
            return group.column(j)
        return _literal(node.data)  # a constant

    def write(self):
        np = self.np
        self._find_groups()
        for group in self.groups:  # unlabelled single nodes are numbered after the groups
            stem = _stem(group.members[0].op) if group.how == "map" else None
            if stem and getattr(group, "number", None):
                self.names.counts[stem] = max(self.names.counts.get(stem, 0), group.number)
        for value in self.batch:
            self.expression[id(value)] = self.names.new(value.label, "x")
        forward = []
        blocks = []  # in forward order: a node or a group
        for node in self.order:
            key = id(node)
            kind = self.kind[key]
            if not node.parents or kind == "const" or (self.forward_only and node is self.root):
                continue
            if key in self.group_of:
                group, _ = self.group_of[key]
                if group.how == "params" or group in blocks:
                    continue
                blocks.append(group)
                forward += self._group_forward(group)
                continue
            name = self.names.new(node.label, _stem(node.op))
            forward.append(f"{name} = {self._node_forward(node)}")
            self.expression[key] = name
            blocks.append(node)
        lines = [HEADER]
        for group in self.groups:
            if group.how == "layer":
                self.namespace[f"{group.name}_W_at"] = np.array(group.w_at, dtype=np.intp)
                self.namespace[f"{group.name}_b_at"] = np.array(group.b_at, dtype=np.intp)
        placeholders = ", ".join(self.expression[id(v)] for v in self.batch)
        lines.append(f"def forward_backward(P, {placeholders}):")
        body = [f"N = {self.expression[id(self.batch[0])]}.shape[0]  # samples",
                "# forward"] + forward
        if self.watch:
            body += self._watched()
        if self.forward_only:
            body.append("return watched")
        else:
            body += self._backward(blocks)
            if self.watch:
                body[-1] += ", watched"
        lines += ["    " + line if line else "" for line in body]
        return "\n".join(lines) + "\n", self.namespace

    def _watched(self):
        """watched = the watched nodes' values, N x k: a group's own array when they are
        that group's columns in order, else the columns stacked."""
        first = self.group_of.get(id(self.watch[0]))
        if first is not None and first[0].kind == "batch" and \
                [id(m) for m in first[0].members] == [id(w) for w in self.watch]:
            return [f"watched = {first[0].name}  # N x {len(self.watch)}: what watch= asked for"]
        columns = []
        for node in self.watch:
            value = self._value(node)
            columns.append(value if self.kind[id(node)] == "batch" else f"full(N, {value})")
        listed = ", ".join(columns) + ("," if len(columns) == 1 else "")
        return [f"watched = stack(({listed}), axis=1)  # N x {len(columns)}: what watch= "
                "asked for"]

    def _group_forward(self, group):
        if group.how == "layer":
            m, k = len(group.members), len(group.w_at[0])
            x_name, lines = self._layer_input(group)
            w, b = self._weights(group)
            lines += [f"# layer {group.number}: {_count(m, 'neuron')} over {_count(k, 'input')}, "
                      "each w . x + b, for all N samples at once",
                      f"{w}, {b} = P[{group.name}_W_at], P[{group.name}_b_at]"
                      f"  # {m} x {k} weights, {_count(m, 'bias', 'biases')}",
                      f"{group.name} = {x_name} @ {w}.T  # N x {m}: sample n's w . x in row n",
                      f"{group.name} += {b}"]
            return lines
        operands = [group.source.name if s == "G" else s for s in group.slots]
        return [f"{group.name} = "
                f"{self._formula_forward(group.members[0], operands, {'out': group.name})}"]

    def _weights(self, group):
        return f"W{group.number}", f"b{group.number}"

    def _layer_input(self, group):
        """The layer's inputs as an N x k matrix: columns of one group, or stacked."""
        k = len(group.w_at[0])
        xs = group.members[0].parents[k:2 * k]
        owners = {self.group_of.get(id(x), (None, None))[0] for x in xs}
        if len(owners) == 1 and None not in owners:
            source = owners.pop()
            if source.kind == "batch":
                columns = [self.group_of[id(x)][1] for x in xs]
                group.x = ("group", source, columns)
                if columns == list(range(len(source.members))):
                    return source.name, []
                at = f"{group.name}_x_at"
                self.namespace[at] = self.np.array(columns, dtype=self.np.intp)
                name = f"X{group.number}"
                self.names.taken.update((name, "d_" + name))
                return name, [f"{name} = {source.name}[:, {at}]"]
        group.x = ("stack", list(xs))
        name = f"X{group.number}"
        self.names.taken.update((name, "d_" + name))
        columns = ", ".join(self._value(x) for x in xs) + ("," if len(xs) == 1 else "")
        return name, [f"{name} = stack(({columns}), axis=1)  # N x {k}"]

    def _node_forward(self, node):
        if node.op == self.total_op:
            owner = self._whole_group(node)
            if owner is not None:
                return f"{owner.name}.sum(axis=-1)"
        return self._formula_forward(node, [self._value(p) for p in node.parents])

    def _formula_forward(self, node, operands, names=None):
        """The node's forward formula over arrays: `operands` the source of each
        parent's value, `names` any more (out)."""
        expansion = expand(node.op, len(node.parents))
        return _array_source(expansion.forward, self._names(expansion, operands, names))

    @staticmethod
    def _names(expansion, operands, names=None):
        """{operand name: source} for a node of `expansion`, its parameter filled in."""
        names = dict(names or {})
        names.update(zip(expansion.operands, operands))
        for parameter, value in expansion.bindings.items():
            names[parameter] = _literal(value)
        return names

    def _whole_group(self, node):
        """The group whose members are exactly this sum node's terms, if there is one."""
        first = self.group_of.get(id(node.parents[0]))
        if first is None:
            return None
        group = first[0]
        if len(node.parents) == len(group.members) and \
                {id(p) for p in node.parents} == {id(m) for m in group.members}:
            return group
        return None

    # ----------------------------------------------------------------- backward
    def _backward(self, blocks):
        self.records = []
        self.live = set()      # the d_ of these nodes/groups received something
        self.contributions = {}  # id(group) -> its "matrix" and "column" records
        self.allocated = {}    # id(group) -> d_group starts as zeros (else: assigned once)
        self.full = {}         # id(group) -> d_group has the group's full shape
        root = self.root
        rkind = self.kind[id(root)]
        value = self._value(root)
        scale = "1 / N" if self.reduce == "mean" else "1.0"
        if rkind == "batch":
            loss = f"{value}.sum() / N" if self.reduce == "mean" else f"{value}.sum()"
            self._contribute(root, f"full(N, {scale})", full=True)
        elif rkind == "param":
            loss = value if self.reduce == "mean" else f"N * {value}"
            self._contribute(root, "1.0" if self.reduce == "mean" else "N", full=True)
        else:
            loss = value if self.reduce == "mean" else f"N * {value}"
        for block in reversed(blocks):
            if isinstance(block, _Group):
                self._group_backward(block)
            else:
                self._node_backward(block)
        return self._render(loss)

    def _d(self, thing):
        if isinstance(thing, _Group):
            return "dP" if thing.how == "params" else "d_" + thing.name
        return "d_" + self.expression[id(thing)]

    def _contribute(self, node, term, full, reduce_from=None):
        """Record d_node += term (a column of a group for a group member)."""
        key = id(node)
        if not self.wants.get(key) or self.kind[key] == "const":
            return
        if key in self.group_of:
            group, j = self.group_of[key]
            if reduce_from is not None:
                term = reduce_from
            self._record(group, ("column", group, j, term))
        else:
            if reduce_from is not None:
                term = reduce_from
            self.records.append(("node", node, term))
            self.live.add(key)

    def _contribute_group(self, group, term, full, columns=None, split=None):
        """d_group += term; split=(upstream, local) when term is upstream * local and
        local makes a new full-size array, which can then be scaled in place."""
        self._record(group, ("matrix", group, term, full, columns, split))

    def _record(self, group, record):
        self.records.append(record)
        self.contributions.setdefault(id(group), []).append(record)
        self.live.add(id(group))

    def _decide(self, group):
        """Whether d_group starts as zeros: unless it gets exactly one whole-array term
        (which for a layer must have the full N x m shape, for its matrix products)."""
        if id(group) in self.allocated:
            return
        got = self.contributions.get(id(group), [])
        single = len(got) == 1 and got[0][0] == "matrix" and got[0][4] is None
        if group.how == "params":
            self.allocated[id(group)], self.full[id(group)] = False, True
        elif group.how == "layer":
            self.allocated[id(group)] = not (single and got[0][3])
        else:
            self.allocated[id(group)] = not single
        self.full[id(group)] = self.allocated[id(group)] or bool(got and got[0][3])

    def _local(self, node, index, names, batch_names=()):
        """d node / d parents[index] as array source, from the table's formula, and
        whether it differs from sample to sample (mentions an operand in batch_names).
        `names`: the node's operands as _names gives them."""
        formula = expand(node.op, len(node.parents)).derivatives[index]
        return _array_source(formula, names), bool(names_in(formula) & set(batch_names))

    def _times(self, upstream, local):
        if local in ("1", "1.0"):
            return upstream
        if local in ("-1", "-1.0"):
            return "-" + upstream
        if not _is_atomic(local):
            local = f"({local})"
        return f"{upstream} * {local}"

    def _node_backward(self, node):
        if id(node) not in self.live:
            return
        upstream = self._d(node)
        expansion = expand(node.op, len(node.parents))
        parents = node.parents
        owner = self._whole_group(node) if node.op == self.total_op else None
        if owner is not None:
            term = f"{upstream}[:, None]" if owner.kind == "batch" else upstream
            if self.wants_group(owner):
                self._contribute_group(owner, term, full=False)
            return
        names = self._names(expansion, [self._value(p) for p in parents],
                            {"out": self.expression[id(node)]})
        batch_names = [o for o, p in zip(expansion.operands, parents)
                       if self.kind[id(p)] == "batch"]
        if self.kind[id(node)] == "batch":
            batch_names.append("out")
        batch_node = self.kind[id(node)] == "batch"
        for index, parent in enumerate(parents):
            if not self.wants.get(id(parent)):
                continue
            local, varies = self._local(node, index, names, batch_names)
            term = self._times(upstream, local)
            reduced = None
            if batch_node and self.kind[id(parent)] != "batch":
                # a parameter's share of a per-sample value: summed over the samples
                if varies:
                    reduced = f"{upstream} @ {local if _is_atomic(local) else '(' + local + ')'}"
                else:
                    reduced = self._times(f"{upstream}.sum()", local)
            self._contribute(parent, term, full=True, reduce_from=reduced)

    def wants_group(self, group):
        return any(self.wants[id(m)] for m in group.members)

    def _group_backward(self, group):
        if id(group) not in self.live or not self.wants_group(group):
            return
        self._decide(group)
        upstream = self._d(group)
        if group.how == "layer":
            w, b = self._weights(group)
            x_name = (group.x[1].name if group.x[0] == "group" and
                      group.x[2] == list(range(len(group.x[1].members))) else f"X{group.number}")
            self.records.append(("line", f"# back through layer {group.number}: products of "
                                         f"Jacobians, for all N samples at once"))
            kind, source, columns = group.x if group.x[0] == "group" else ("stack", None, None)
            if group.x[0] == "group":
                if self.wants_group(source):
                    whole = columns == list(range(len(source.members)))
                    self._contribute_group(source, self._through(group, upstream, w), full=True,
                                           columns=None if whole else f"{group.name}_x_at")
            else:
                xs = group.x[1]
                if any(self.wants[id(x)] for x in xs):
                    d_x = f"d_X{group.number}"
                    self.records.append(("line", f"{d_x} = {self._through(group, upstream, w)}"
                                                 "  # d net / d x = W"))
                    for i, x in enumerate(xs):
                        self._contribute(x, f"{d_x}[:, {i}]", full=True)
            at = [i for row in group.w_at for i in row] + list(group.b_at)
            if len(set(at)) == len(at):
                self.records.append(("line", f"dP[{group.name}_W_at] += {upstream}.T @ {x_name}"
                                             "  # d net / d W = x, summed over the samples"))
                self.records.append(("line", f"dP[{group.name}_b_at] += {upstream}.sum(axis=0)"
                                             "  # d net / d b = 1"))
            else:  # a parameter used twice in one layer: add.at adds every share
                self.records.append(("line", f"add_at(dP, {group.name}_W_at, "
                                             f"{upstream}.T @ {x_name})"))
                self.records.append(("line", f"add_at(dP, {group.name}_b_at, "
                                             f"{upstream}.sum(axis=0))"))
            return
        source = group.source
        if not self.wants_group(source):
            return
        member = group.members[0]
        names = self._names(expand(member.op, len(member.parents)),
                            [source.name if s == "G" else s for s in group.slots],
                            {"out": group.name})
        for index, slot in enumerate(group.slots):
            if slot != "G":
                continue
            local, varies = self._local(member, index, names, ("a", "b", "out"))
            fresh = varies and isinstance(_parsed(local), (ast.BinOp, ast.Call, ast.UnaryOp))
            self._contribute_group(source, self._times(upstream, local),
                                   full=self.full[id(group)] or varies,
                                   split=(upstream, local) if fresh else None)

    @staticmethod
    def _through(group, upstream, w):
        """d inputs = d net @ W; for one neuron (N x 1 @ 1 x k) the same numbers come
        faster as a broadcast product."""
        return f"{upstream} * {w}" if len(group.members) == 1 else f"{upstream} @ {w}"

    def _render(self, loss):
        allocate = []
        for group in self.groups:
            if id(group) in self.contributions:
                self._decide(group)
                if self.allocated[id(group)]:
                    allocate.append(group)
        lines = ["# backward: d_v = d loss / d v, one row per sample",
                 "dP = zeros_like(P)"]
        lines += [f"{self._d(g)} = zeros_like({g.name})" for g in allocate]
        assigned = set()
        for record in self.records:
            if record[0] == "line":
                lines.append(record[1])
            elif record[0] == "node":
                _, node, term = record
                target = self._d(node)
                # Not +=: the first term may be another d_ array itself (d_a = d_b),
                # and adding in place would change d_b too.
                lines.append(f"{target} = {target} + {term}" if target in assigned
                             else f"{target} = {term}")
                assigned.add(target)
            elif record[0] == "column":
                _, group, j, term = record
                target = self._d(group)
                column = f"[:, {j}]" if group.kind == "batch" else f"[{j}]"
                lines.append(f"{target}{column} += {term}")
            else:
                _, group, term, full, columns, split = record
                target = self._d(group)
                if columns is not None:
                    lines.append(f"{target}[:, {columns}] += {term}")
                elif group.how == "params" or group in allocate:
                    lines.append(f"{target} += {term}")
                elif split is not None:  # local derivative, then the chain rule in place
                    lines.append(f"{target} = {split[1]}")
                    lines.append(f"{target} *= {split[0]}")
                else:
                    lines.append(f"{target} = {term}")
        lines.append(f"return {loss}, dP")
        return lines
