"""Show a computation graph: its input, parameter and compute nodes with values and gradients.

``to_text(L)`` lists the nodes in topological order (each after what it is computed from);
``to_dot(L)`` writes Graphviz DOT (render with ``dot -Tsvg graph.dot -o graph.svg``): inputs
are grey boxes, parameters gold boxes, compute nodes ellipses labelled with their operation.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, topological_order

_STYLE = {"input": 'shape=box, style=filled, fillcolor="#e8e8e8"',
          "parameter": 'shape=box, style=filled, fillcolor="#ffd966"',
          "compute": "shape=ellipse"}


def _fmt(a, limit=6) -> str:
    if a is None:
        return "None"
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item():.6g}"
    if a.size <= limit:
        return np.array2string(a.reshape(-1) if a.ndim > 2 else a, precision=4,
                               separator=", ").replace("\n", "")
    return f"<array {a.shape} {a.dtype}>"


def _labels(order) -> dict:
    """Display names: the tensor's name, else the operation and a number (t1, t2, ...)."""
    labels, used, counter = {}, set(), 0
    repeats = {}  # name -> the last k tried, so n nodes sharing a name cost O(n), not O(n^2)
    for node in order:
        if node.name:
            label, k = node.name, repeats.get(node.name, 1)
            if k > 1:
                label = f"{node.name}#{k}"
            while label in used:  # e.g. two constants both named "2": keep nodes apart
                k += 1
                label = f"{node.name}#{k}"
            repeats[node.name] = k
        else:
            counter += 1
            label = f"t{counter}"
            while label in used:
                counter += 1
                label = f"t{counter}"
        labels[id(node)] = label
        used.add(label)
    return labels


def nodes(root: Tensor) -> list[dict]:
    """One dict per node, parents first: name, kind, op, parents (names), shape, value, grad."""
    order = topological_order(root)
    labels = _labels(order)
    return [{"name": labels[id(n)], "kind": n.kind, "op": n.op,
             "parents": [labels[id(p)] for p in n._parents], "shape": n.shape,
             "value": n.data, "grad": n.grad} for n in order]


def to_text(root: Tensor) -> str:
    """A table of the graph, one node per line::

        kind       node   = definition       value     grad
    """
    rows = []
    for n in nodes(root):
        if n["kind"] == "compute":
            definition = _definition(n["op"], n["parents"])
        else:
            definition = ""
        rows.append((n["kind"], n["name"], definition, _fmt(n["value"]), _fmt(n["grad"])))
    widths = [max(len(r[i]) for r in rows + [("kind", "node", "definition", "value", "grad")])
              for i in range(5)]
    header = ("kind", "node", "definition", "value", "grad")
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


_INFIX = {"+", "-", "*", "/", "@"}


def _definition(op, parents):
    if op in _INFIX and len(parents) == 2:
        return f"= {parents[0]} {op} {parents[1]}"
    if op and op.startswith("**") and len(parents) == 1:
        return f"= {parents[0]} ** {op[2:]}"
    if op == "neg":
        return f"= -{parents[0]}"
    return f"= {op}({', '.join(parents)})"


def _quote(text: str) -> str:
    """A DOT double-quoted string's contents: backslashes and quotes escaped."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(root: Tensor, name: str = "G") -> str:
    """The graph in Graphviz DOT; edges run from operands to results (forward direction)."""
    lines = [f"digraph {name} {{", "  rankdir=LR;"]
    table = nodes(root)
    for n in table:
        title = n["name"] if n["kind"] != "compute" else f"{n['name']} = {n['op']}"
        label = (f"{_quote(title)}\\nvalue {_quote(_fmt(n['value']))}"
                 f"\\ngrad {_quote(_fmt(n['grad']))}")
        lines.append(f'  "{_quote(n["name"])}" [label="{label}", {_STYLE[n["kind"]]}];')
    for n in table:
        for p in n["parents"]:
            lines.append(f'  "{_quote(p)}" -> "{_quote(n["name"])}";')
    lines.append("}")
    return "\n".join(lines)
