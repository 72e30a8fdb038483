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
from symgrad.expressions.functions import branch_points
from symgrad.graph.targets import Target
from symgrad.i18n import _
from symgrad.inputs import Point, parse_point
from symgrad.reports import Backprop, BackpropEdge, BackpropNode
from symgrad.symbolic.graph import Node, backward_walk, decompose
from symgrad.symbolic.scalar import ScalarForm

# Values are computed from the exact decimal inputs with 30 significant digits, then with
# twice as many, and so on until two passes agree to float64's precision: only then are
# they rounded to float64 for the report. So the note's 200 × 1.1 comes out 220 (float64
# arithmetic gives 220.00000000000003), a node that cancels (1 − y at y ≈ 1) keeps its
# digits, and an argument whose rounding a later node amplifies (sin of a huge number)
# is computed with as many digits as it needs.
PRECISION = 30
MAX_PRECISION = 960  # five doublings; a graph that needs more says how many digits hold
AGREE = 4 * 2.0**-53  # relative: two passes within a few float64 roundings agree
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def to_number(value: str | float, what: str) -> sp.Rational:
    """A decimal number given by the user, exactly (``0.1`` is 1/10, not float64's).

    Raises:
        SymgradError: for text that is not a decimal number, or a number out of float64 range.
    """
    text = repr(value) if isinstance(value, int | float) else str(value).strip()
    if not NUMBER.fullmatch(text):
        raise SymgradError(
            _("{what}: '{text}' is not a number (write it like 2, -0.5 or 1e-3)").format(
                what=what, text=text
            )
        )
    number = sp.Rational(text)
    if not math.isfinite(float(number)):
        raise SymgradError(_("{what}: {text} is out of range").format(what=what, text=text))
    return number


def _evaluate(
    expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], what: str, digits: int
) -> sp.Float:
    """``expr`` at ``values``, as a finite real number of ``digits`` digits, or a one-line
    error."""
    value = expr.xreplace(dict(values)).evalf(digits)
    where = ", ".join(
        f"{symbol} = {float(values[symbol]):.6g}"
        for symbol in sorted(expr.free_symbols, key=str)
        if symbol in values
    )
    if value.is_extended_real is not True or value.is_finite is not True:
        raise SymgradError(
            _("{what} has no finite real value at {where}").format(what=what, where=where)
        )
    if not math.isfinite(float(value)):
        raise SymgradError(_("{what} overflows float64 at {where}").format(what=what, where=where))
    return value


def _input_values(
    form: ScalarForm, defaults: Mapping[str, str], at: Point
) -> dict[sp.Symbol, sp.Rational]:
    """Every input's value: ``at`` first, then the example's numbers; none may be missing."""
    by_name = {str(symbol): symbol for symbol in (*form.inputs, *form.constants)}
    given = {**defaults, **at.for_inputs(list(by_name), every=False)}
    # Values first: in "x=1;y=2" the fault is the value "1;y=2", not a missing y.
    values = {name: to_number(value, f"--at {name}") for name, value in given.items()}
    missing = [name for name in by_name if name not in values]
    if missing:
        example = ",".join(f"{name}=1" for name in by_name)
        raise SymgradError(
            _("no value for {names}: give every input one, e.g. --at {example}").format(
                names=", ".join(repr(n) for n in missing), example=example
            )
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
            _(
                "'{name}' works on whole matrices; graph draws scalar graphs (try `symgrad derive"
                " {name}`)"
            ).format(name=target.name)
        )
    inputs = _input_values(form, target.values, at if isinstance(at, Point) else parse_point(at))
    upstream_at_output = to_number(dout, "--dout")
    # A constant input (dropout's mask) is a leaf with a value that no gradient is sent
    # to; a setting (its ratio p) is the number compare evaluates at.
    constants = set(form.constants)
    forward = form.forward.subs({s: sp.Rational(repr(v)) for s, v in form.settings.items()})
    nodes, _edges = decompose(forward, (*form.inputs, *form.constants), form.output)
    digits, passed = PRECISION, _Pass(nodes, inputs, upstream_at_output, PRECISION)
    while True:  # doubling the digits until two passes agree in float64
        finer = _Pass(nodes, inputs, upstream_at_output, 2 * digits)
        disagreement = passed.disagreement(finer)
        digits, passed = 2 * digits, finer
        if disagreement <= AGREE or digits >= MAX_PRECISION:
            break
    notes = ()
    if disagreement > AGREE:
        reliable = max(0, int(-math.log10(disagreement)))
        notes = (
            _(
                "even at {low} and {high} digits the values differ by a relative "
                "{gap}: only about {reliable} significant digits are reliable"
            ).format(low=digits // 2, high=digits, gap=f"{disagreement:.1g}", reliable=reliable),
        )
    values, local, gradient = passed.values, passed.local, passed.gradient
    distinct = {node.output: tuple(dict.fromkeys(node.inputs)) for node in nodes}
    report_nodes = tuple(
        BackpropNode(
            op=node.op,
            output=str(node.output),
            inputs={str(w): float(values[w]) for w in distinct[node.output]},
            expression=node.expression,
            forward=float(values[node.output]),
            local_derivatives={
                str(w): local_form(node, w) for w in distinct[node.output] if w not in constants
            },
            local_values={
                str(w): float(passed.local_of(node, w))
                for w in distinct[node.output]
                if w not in constants
            },
            upstream=float(gradient[node.output]),
            downstream={
                str(w): float(gradient[node.output] * passed.local_of(node, w))
                for w in distinct[node.output]
                if w not in constants
            },
            operation=node.operation,
            edges=tuple(
                BackpropEdge(
                    stand_in=str(node.stand_ins[position]),
                    input=str(node.inputs[position]),
                    rule=node.edge_rule(position),
                    local=float(local[node.output, position]),
                    sent=float(gradient[node.output] * local[node.output, position]),
                )
                for position in node.edges
            )
            if node.operation is not None
            else (),
            kinks=_kinks_met(node, values),
        )
        for node in nodes
    )
    sent_to: dict[str, list[float]] = {}
    for node, position in backward_walk(nodes):
        sent = gradient[node.output] * local[node.output, position]
        sent_to.setdefault(str(node.inputs[position]), []).append(float(sent))
    return Backprop(
        target=target.name,
        kind=target.kind,
        title=_(target.example.title) if target.example else "",
        output=form.output,
        forward=forward,
        values={str(symbol): float(values[symbol]) for symbol in (*form.inputs, *form.constants)},
        dout=float(upstream_at_output),
        nodes=report_nodes,
        value=float(values[nodes[-1].output]),
        # An input the expression cancelled (0*x) reaches no node: its gradient is 0.
        gradients={str(symbol): float(gradient.get(symbol, 0)) for symbol in form.inputs},
        notes=notes,
        contributions={
            str(symbol): tuple(sent_to[str(symbol)])
            for symbol in form.inputs
            if len(sent_to.get(str(symbol), ())) > 1
        },
    )


def _kinks_met(node: Node, values: Mapping[sp.Symbol, sp.Expr]) -> tuple[sp.Expr, ...]:
    """The equations among ``node``'s branch points that hold at this forward pass (to
    float64's precision): x = 0 for relu(x) at x = 0."""
    met = []
    for where in branch_points(node.expression):
        lhs, rhs = (float(side.xreplace(dict(values)).evalf(30)) for side in where.args)
        if abs(lhs - rhs) <= AGREE * max(abs(lhs), abs(rhs)):
            met.append(where)
    return tuple(met)


class _Pass:
    """One forward and backward pass through the graph's nodes at ``digits`` digits."""

    def __init__(self, nodes: list[Node], inputs, dout: sp.Rational, digits: int) -> None:
        self.values: dict[sp.Symbol, sp.Expr] = dict(inputs)
        for node in nodes:  # forward, left to right
            self.values[node.output] = _evaluate(
                node.expression,
                self.values,
                _("node {name} = {expression}").format(
                    name=node.output, expression=sp.sstr(node.expression)
                ),
                digits,
            )
        # Backward, from the output: each node multiplies what arrived by the local
        # derivative of each of its edges (x·x has two from x) and sends it down.
        self.local: dict[tuple[sp.Symbol, int], sp.Float] = {}
        self.gradient: dict[sp.Symbol, sp.Expr] = {nodes[-1].output: dout}
        zero = sp.Float(0, digits)
        for node, position in backward_walk(nodes):
            self.gradient.setdefault(node.output, zero)  # a node nothing uses
            wrt = node.inputs[position]
            self.local[node.output, position] = _evaluate(
                node.edge_derivative(position),
                self.values,
                _("∂{output}/∂{input} (node {op})").format(
                    output=node.output, input=wrt, op=node.op
                ),
                digits,
            )
            sent = self.gradient[node.output] * self.local[node.output, position]
            self.gradient[wrt] = self.gradient.get(wrt, zero) + sent
        for node in nodes:
            self.gradient.setdefault(node.output, zero)  # a node with no edges (where(x > 0, 1, 2))
        for wrt, value in self.gradient.items():
            if not math.isfinite(float(value)):
                raise SymgradError(
                    _(
                        "∂L/∂{wrt} = {value} overflows float64: the graph's backward pass cannot "
                        "be shown in float64 numbers"
                    ).format(wrt=wrt, value=sp.Float(value, 3))
                )

    def local_of(self, node: Node, wrt: sp.Symbol) -> sp.Expr:
        """∂output/∂wrt over all of wrt's edges into ``node``: their local values summed."""
        return sum(
            (self.local[node.output, p] for p in node.edges if node.inputs[p] == wrt),
            sp.Integer(0),
        )

    def numbers(self) -> list[sp.Expr]:
        return [*self.values.values(), *self.local.values(), *self.gradient.values()]

    def disagreement(self, finer: _Pass) -> float:
        """The largest relative difference between this pass's numbers and ``finer``'s."""
        worst = 0.0
        for coarse, fine in zip(self.numbers(), finer.numbers(), strict=True):
            scale = abs(float(fine))
            gap = abs(float((coarse - fine).evalf(30)))
            if gap:
                worst = max(worst, gap / scale if scale else math.inf)
        return worst


__all__ = ["PRECISION", "backprop", "local_form", "to_number"]
