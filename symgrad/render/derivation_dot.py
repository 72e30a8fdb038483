"""A derivation's graph as Graphviz DOT: for layers that work on whole arrays.

:mod:`symgrad.render.dot` draws a scalar graph with numbers. A matrix layer (affine) or a
class layer (softmax-with-loss) has no single number per edge, so this draws what the
note's figures for them show instead: above each edge the variable and its shape, below
it in red the gradient sent back along it (dX = dY·Wᵀ, ∂L/∂x = y − t). Everything drawn
comes from the :class:`~symgrad.reports.Derivation`; nothing is computed here.
"""

from __future__ import annotations

from html import escape

from symgrad.i18n import _
from symgrad.render.dot import BACKWARD_COLOUR, FONT, FORWARD_COLOUR, node_id, quote
from symgrad.render.mathtext import pretty
from symgrad.render.terminal import derivative_label, partial
from symgrad.reports import Derivation, GraphNode


def _values(above: str, below: str) -> str:
    """The variable over a rule over its gradient, in red (as in ``dot._values``).

    A label (t) gets no gradient; its lower cell still holds a space, because Graphviz
    rejects a rule with no row after it.
    """
    lower = escape(below) if below else "&#160;"
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
        f'<tr><td><font color="{FORWARD_COLOUR}">{escape(above)}</font></td></tr><hr/>'
        f'<tr><td><font color="{BACKWARD_COLOUR}">{lower}</font></td></tr></table>>'
    )


def _gradient_name(report: Derivation, name: str) -> str:
    return f"d{pretty(name)}" if report.matrix or report.walk else partial(report.output, name)


def _backward(report: Derivation, node: GraphNode, name: str) -> str:
    """The gradient sent back to ``name`` from ``node``: the final derivative for an
    input, the node's own rule for an intermediate value; nothing for a label."""
    if name in report.derivatives:
        return f"{_gradient_name(report, name)} = {pretty(report.derivatives[name])}"
    rules = [
        f"{derivative_label(node, key, report.matrix)} = {pretty(value)}"
        for key, value in node.local_derivatives.items()
        if key == name or key.startswith(f"∂{node.output}/∂{name}")
    ]
    return "; ".join(rules)


def _above(report: Derivation, name: str) -> str:
    shape = report.shapes.get(name)
    return f"{pretty(name)}  ({shape})" if shape else pretty(name)


def derivation(report: Derivation) -> str:
    """The DOT source of the layer's graph: shapes above the edges, gradients below."""
    title = f"{report.layer}: {pretty(report.output)} = {pretty(report.forward)}"
    legend = _("above each edge: the value (and its shape); below, in red: the gradient sent back")
    lines = [
        f"digraph {quote(report.layer)} {{",
        "  rankdir=LR;",
        "  nodesep=0.5; ranksep=0.6;",
        f"  label={quote(title + chr(10) + legend)}; labelloc=t; fontname={quote(FONT)};",
        f"  node [fontname={quote(FONT)}];",
        f"  edge [fontname={quote(FONT)}, arrowsize=0.7];",
    ]
    produced = {node.output for node in report.nodes}
    sources = list(report.inputs)
    sources += [
        name
        for node in report.nodes
        for name in node.inputs
        if name not in produced and name not in sources
    ]
    # Graphviz stacks a left-to-right graph's nodes bottom-up: reversed, the first is on top.
    for name in reversed(sources):
        lines.append(f"  {node_id('in', name)} [shape=plaintext, label={quote(pretty(name))}];")
    for node in report.nodes:
        # A word (softmax, cross-entropy) in a circle makes a huge circle: the note boxes it.
        shape = "circle" if len(node.op) <= 3 else "box, style=rounded"
        lines.append(f"  {node_id('op', node.output)} [shape={shape}, label={quote(node.op)}];")
    output = node_id("out", report.output)
    lines.append(f"  {output} [shape=plaintext, label={quote(pretty(report.output))}];")
    edges = [
        (
            node_id("op" if name in produced else "in", name),
            node_id("op", node.output),
            _above(report, name),
            below,
        )
        for node in report.nodes
        for name, below in (
            # x·x: two edges from x, each with its position's local derivative
            [
                (e.input, f"{partial(node.output, e.stand_in)} = {pretty(e.local)}")
                for e in node.edges
            ]
            if node.edges
            else [(name, _backward(report, node, name)) for name in dict.fromkeys(node.inputs)]
        )
    ]
    final = _gradient_name(report, report.output) if report.matrix or report.walk else "1"
    edges.append(
        (node_id("op", report.nodes[-1].output), output, _above(report, report.output), final)
    )
    for index, (source, target, above, below) in enumerate(edges, start=1):
        middle = quote(f"edge:{index}")
        lines += [
            f"  {middle} [shape=plaintext, margin=0, width=0, height=0,"
            f" label={_values(above, below)}];",
            f"  {source} -> {middle}:w [arrowhead=none];",
            f"  {middle}:e -> {target};",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["derivation"]
