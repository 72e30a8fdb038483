"""A computational graph as Graphviz DOT source, drawn the way the note draws it.

Each operation is a circle; the inputs stand on the left as plain names and the output on
the right (``rankdir=LR``). Every edge carries two numbers: the forward value above it, in
black, and the backward value ∂L/∂(that value) below it, in red, as in the note's figures.
The numbers are the report's, only formatted.
"""

from __future__ import annotations

from html import escape

from symgrad.i18n import _
from symgrad.render.mathtext import pretty
from symgrad.render.numbers import number
from symgrad.reports import Backprop

FORWARD_COLOUR = "#222222"
BACKWARD_COLOUR = "#c0392b"
FONT = "Helvetica"


def quote(text: str) -> str:
    """A DOT double-quoted string (names and labels may hold any character)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _values(forward: float, backward: float | None) -> str:
    """Forward over a rule over backward, in red: the edge runs into the rule and out of it
    (no backward value on the edge of a constant input, to which nothing is sent)."""
    below = " " if backward is None else number(backward)  # Graphviz refuses an empty font
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
        f'<tr><td><font color="{FORWARD_COLOUR}">{escape(number(forward))}</font></td></tr>'
        "<hr/>"
        f'<tr><td><font color="{BACKWARD_COLOUR}">{escape(below)}</font></td></tr>'
        "</table>>"
    )


def _edge(
    index: int, source: str, target: str, forward: float, backward: float | None
) -> list[str]:
    """An edge drawn through a label node, so its numbers sit above and below the line.

    Graphviz puts an edge's own label beside the line, never astride it; a small node
    holding the two numbers, entered on its left and left on its right, does put the
    forward value above the line and the backward value below, as the note draws them.
    """
    middle = quote(f"edge:{index}")
    return [
        f"  {middle} [shape=plaintext, margin=0, width=0, height=0,"
        f" label={_values(forward, backward)}];",
        f"  {source} -> {middle}:w [arrowhead=none];",
        f"  {middle}:e -> {target};",
    ]


def node_id(kind: str, name: str) -> str:
    return quote(f"{kind}:{name}")


def backprop(report: Backprop) -> str:
    """The DOT source of ``report``'s graph; the numbers are the report's, formatted."""
    formula = f"{pretty(report.output)} = {pretty(report.forward)}"
    title = formula if report.kind == "expression" else f"{report.target}: {formula}"
    legend = _(
        "above each edge: the forward value; below, in red: ∂L/∂(that value), from "
        "∂L/∂{output} = {dout}"
    ).format(output=pretty(report.output), dout=number(report.dout))
    lines = [
        f"digraph {quote(report.target)} {{",
        "  rankdir=LR;",
        "  nodesep=0.5; ranksep=0.9;",
        f"  label={quote(title + chr(10) + legend)}; labelloc=t; fontname={quote(FONT)};",
        f"  node [fontname={quote(FONT)}];",
        f"  edge [fontname={quote(FONT)}, arrowsize=0.7];",
    ]
    produced = {node.output for node in report.nodes}
    inputs = [node_id("in", name) for name in report.values]
    # Graphviz stacks a left-to-right graph's nodes bottom-up: declaring the inputs in
    # reverse puts the first one on top, where the note draws it.
    for name in reversed(report.values):
        lines.append(f"  {node_id('in', name)} [shape=plaintext, label={quote(pretty(name))}];")
    lines.append(f"  {{ rank=source; {' '.join(inputs)} }}")
    for node in report.nodes:
        lines.append(
            f"  {node_id('op', node.output)} [shape=circle, label={quote(node.op)},"
            f" tooltip={quote(f'{pretty(node.output)} = {pretty(node.expression)}')}];"
        )
    output = node_id("out", report.output)
    lines.append(f"  {output} [shape=plaintext, label={quote(pretty(report.output))}];")
    lines.append(f"  {{ rank=sink; {output} }}")
    # x·x is two edges from x, each carrying what its position sends back.
    edges = [
        (node_id("op" if name in produced else "in", name), node, node.inputs[name], sent)
        for node in report.nodes
        for name, sent in (
            [(edge.input, edge.sent) for edge in node.edges]
            if node.edges
            else [(name, node.downstream.get(name)) for name in node.inputs]  # a mask: None
        )
    ]
    for index, (source, node, forward, backward) in enumerate(edges, start=1):
        lines += _edge(index, source, node_id("op", node.output), forward, backward)
    lines += _edge(
        len(edges) + 1, node_id("op", report.nodes[-1].output), output, report.value, report.dout
    )
    lines.append("}")
    return "\n".join(lines) + "\n"
