"""Forward and backward through a target's computational graph, with numbers.

The graph is :func:`~symgrad.symbolic.graph.decompose`'s: one node per primitive operation.
Forward computes every node's value from ``--at``; backward starts from ∂L/∂output (1, or
``--dout``) and, node by node from the right, multiplies the upstream gradient by each
local derivative (derived by SymPy) and sends the product down to that input, summing
where an input feeds several nodes. The result is one :class:`~symgrad.reports.Backprop`
report, which every renderer draws without computing anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import sympy as sp

from symgrad.errors import SymgradError
from symgrad.graph.targets import Target
from symgrad.inputs import Point, parse_point
from symgrad.reports import Backprop, BackpropNode
from symgrad.symbolic.graph import Node, decompose
from symgrad.symbolic.scalar import ScalarForm

# Values are computed with 30 significant digits and rounded to float64 only in the report,
# so the note's 200 × 1.1 comes out 220 (float64 arithmetic gives 220.00000000000003).
PRECISION = 30
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def to_number(value: str | float, what: str) -> sp.Float:
    """A decimal number given by the user, as a 30-digit SymPy Float.

    Raises:
        SymgradError: for text that is not a decimal number, or a number out of float64 range.
    """
    text = repr(value) if isinstance(value, int | float) else str(value).strip()
    if not NUMBER.fullmatch(text):
        raise SymgradError(f"{what}: '{text}' is not a number (write it like 2, -0.5 or 1e-3)")
    number = sp.Float(text, PRECISION)
    if not math.isfinite(float(number)):
        raise SymgradError(f"{what}: {text} is out of range")
    return number


def _evaluate(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Float], what: str) -> sp.Float:
    """``expr`` at ``values``, as a finite real 30-digit number, or a one-line error."""
    value = expr.xreplace(dict(values)).evalf(PRECISION)
    where = ", ".join(
        f"{symbol} = {float(values[symbol]):.6g}"
        for symbol in sorted(expr.free_symbols, key=str)
        if symbol in values
    )
    if value.is_extended_real is not True or value.is_finite is not True:
        raise SymgradError(f"{what} has no finite real value at {where}")
    if not math.isfinite(float(value)):
        raise SymgradError(f"{what} overflows float64 at {where}")
    return value


def _input_values(
    form: ScalarForm, defaults: Mapping[str, str], at: Point
) -> dict[sp.Symbol, sp.Float]:
    """Every input's value: ``at`` first, then the example's numbers; none may be missing."""
    by_name = {str(symbol): symbol for symbol in form.inputs}
    given = {**defaults, **at.for_inputs(list(by_name), every=False)}
    # Values first: in "x=1;y=2" the fault is the value "1;y=2", not a missing y.
    values = {name: to_number(value, f"--at {name}") for name, value in given.items()}
    missing = [name for name in by_name if name not in values]
    if missing:
        example = ",".join(f"{name}=1" for name in by_name)
        raise SymgradError(
            f"no value for {', '.join(repr(n) for n in missing)}: give every input one,"
            f" e.g. --at {example}"
        )
    return {symbol: values[name] for name, symbol in by_name.items()}


def local_form(node: Node, wrt: sp.Symbol) -> sp.Expr:
    """∂output/∂wrt as the note reads it: the node's own output where its expression appears.

    exp gives ∂y/∂x = y and 1/x gives −y², which is why the note's layers keep their output
    for the backward pass. Replacing the expression by the output is an identity, never an
    approximation.
    """
    derivative = node.local_derivative(wrt)
    if node.expression.is_Atom:  # the identity node: nothing to replace
        return derivative
    return derivative.subs(node.expression, node.output)


def backprop(
    target: Target, at: Point | Mapping[str, str | float] | None = None, dout: str | float = 1
) -> Backprop:
    """The forward and backward pass of ``target``'s graph, with every node's values.

    Args:
        target: a resolved example, scalar catalog layer or expression.
        at: ``--at`` as parsed (symgrad.inputs.parse_point), or input name → value; a
            worked example's own numbers fill in the rest.
        dout: ∂L/∂output where the backward pass starts.

    Raises:
        SymgradError: for a matrix or class layer, a missing or unknown input, or a
            node with no finite real value (1/x at 0, log of a negative number).
    """
    form = target.form
    if not isinstance(form, ScalarForm):
        raise SymgradError(
            f"'{target.name}' works on whole matrices; graph draws scalar graphs"
            f" (try `symgrad derive {target.name}`)"
        )
    values = _input_values(form, target.values, at if isinstance(at, Point) else parse_point(at))
    upstream_at_output = to_number(dout, "--dout")
    nodes, _ = decompose(form.forward, form.inputs, form.output)
    for node in nodes:  # forward, left to right
        values[node.output] = _evaluate(
            node.expression, values, f"node {node.output} = {sp.sstr(node.expression)}"
        )
    # Backward, from the output: each node multiplies what arrived by its local derivatives.
    distinct = {node.output: tuple(dict.fromkeys(node.inputs)) for node in nodes}  # x·x: once
    local: dict[tuple[sp.Symbol, sp.Symbol], sp.Float] = {}
    gradient: dict[sp.Symbol, sp.Float] = {nodes[-1].output: upstream_at_output}
    zero = sp.Float(0, PRECISION)
    for node in reversed(nodes):
        gradient.setdefault(node.output, zero)  # a node nothing uses: L does not depend on it
        for wrt in distinct[node.output]:
            local[node.output, wrt] = _evaluate(
                node.local_derivative(wrt), values, f"∂{node.output}/∂{wrt} (node {node.op})"
            )
            sent = gradient[node.output] * local[node.output, wrt]
            gradient[wrt] = gradient.get(wrt, zero) + sent
    report_nodes = tuple(
        BackpropNode(
            op=node.op,
            output=str(node.output),
            inputs={str(w): float(values[w]) for w in distinct[node.output]},
            expression=node.expression,
            forward=float(values[node.output]),
            local_derivatives={str(w): local_form(node, w) for w in distinct[node.output]},
            local_values={str(w): float(local[node.output, w]) for w in distinct[node.output]},
            upstream=float(gradient[node.output]),
            downstream={
                str(w): float(gradient[node.output] * local[node.output, w])
                for w in distinct[node.output]
            },
        )
        for node in nodes
    )
    return Backprop(
        target=target.name,
        kind=target.kind,
        title=target.example.title if target.example else "",
        output=form.output,
        forward=form.forward,
        values={str(symbol): float(values[symbol]) for symbol in form.inputs},
        dout=float(upstream_at_output),
        nodes=report_nodes,
        value=float(values[nodes[-1].output]),
        gradients={str(symbol): float(gradient[symbol]) for symbol in form.inputs},
    )


__all__ = ["PRECISION", "backprop", "local_form", "to_number"]
