"""A computational graph with numbers, in the terminal: readable without the picture.

Two tables, one row per node. Forward, left to right: what each node computes, from which
values. Backward, from the output back: the gradient arriving from the right, the local
derivatives, and what each input receives (their product). Only the report's
numbers are shown (formatted); nothing is computed here.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from symgrad.i18n import N_, _
from symgrad.render import fit
from symgrad.render.mathtext import pretty
from symgrad.render.numbers import number
from symgrad.render.prose import note
from symgrad.reports import Backprop, BackpropNode

FORWARD_STYLE = "bold"
BACKWARD_STYLE = "red"


def _partial(of: str, wrt: str) -> str:
    return f"∂{pretty(of)}/∂{pretty(wrt)}"


def _local(node: BackpropNode, name: str) -> str:
    """∂out/∂in = its expression = its value (the value once, when it is a plain number)."""
    expression = node.local_derivatives[name]
    shown = pretty(expression)
    if " where " in shown:  # a piecewise derivative (relu): one unit before "= value"
        shown = f"({shown})"
    value = number(node.local_values[name])
    text = f"{_partial(node.output, name)} = {shown}"
    return text if shown == value else f"{text} = {value}"


def _edge_header(node: BackpropNode) -> str:
    """The operation an input fills several positions of, and which input fills each."""
    filled = ", ".join(f"{pretty(edge.stand_in)} = {pretty(edge.input)}" for edge in node.edges)
    return _("{operation}, with {filled}:").format(
        operation=f"{pretty(node.output)} = {pretty(node.operation)}", filled=filled
    )


def _edge_local(node: BackpropNode, edge) -> str:
    """One position's local derivative: ∂z/∂a = b = 3."""
    rule, value = pretty(edge.rule), number(edge.local)
    text = f"{_partial(node.output, edge.stand_in)} = {rule}"
    return text if rule == value else f"{text} = {value}"


def _kink_notes(report: Backprop) -> list[str]:
    """A line for each node that sits where its pieces meet at this forward pass."""
    return [
        _(
            "node {k}, {node}, is at a kink: at {where} its pieces meet and it has no "
            "derivative; the local derivative shown is the one its pieces take there"
        ).format(
            k=k,
            node=f"{pretty(node.output)} = {pretty(node.expression)}",
            where=" and ".join(f"{pretty(eq.lhs)} = {pretty(eq.rhs)}" for eq in node.kinks),
        )
        for k, node in enumerate(report.nodes, start=1)
        if node.kinks
    ]


def _factor(value: float) -> str:
    """A number inside a product: negative ones in parentheses, −0.25 · (−1)."""
    text = number(value)
    return f"({text})" if text.startswith("−") else text


def _columns(titles: tuple[str, ...]) -> dict[str, fit.Column]:
    """Text columns that wrap at spaces, titled in the reader's language; the node's number
    on the right."""
    return {
        title: fit.Column(_(title), justify="right" if title == "#" else "left", wrap=title != "#")
        for title in titles
    }


FORWARD_COLUMNS = ("#", N_("node"), N_("computes"), N_("from"), N_("forward value"))
BACKWARD_COLUMNS = (
    "#",
    N_("node"),
    N_("upstream"),
    N_("local derivative"),
    N_("sends down: upstream · local"),
)


def _forward_layouts() -> tuple[fit.Layout, ...]:
    title = _("Forward →")
    number_, node, computes, source, value = FORWARD_COLUMNS
    return (
        ((title, FORWARD_COLUMNS),),
        ((title, (number_, node, computes, value)), (None, (number_, node, source))),
    )


def _forward_table(report: Backprop) -> fit.FirstFit:
    columns = _columns(FORWARD_COLUMNS)
    for k, node in enumerate(report.nodes, start=1):
        cells = (
            Text(str(k), style="dim"),
            Text(node.op, style="bold cyan"),
            f"{pretty(node.output)} = {pretty(node.expression)}",
            ", ".join(f"{pretty(name)} = {number(value)}" for name, value in node.inputs.items()),
            Text(f"{pretty(node.output)} = {number(node.forward)}", style=FORWARD_STYLE),
        )
        for column, cell in zip(columns.values(), cells, strict=True):
            column.cells.append(cell)
    return fit.fitted(columns, _forward_layouts())


def _backward_table(report: Backprop) -> fit.FirstFit:
    title = _("Backward ←, from ∂L/∂{output} = {dout}").format(
        output=pretty(report.output), dout=number(report.dout)
    )
    columns = _columns(BACKWARD_COLUMNS)
    reached = {report.output}
    for k, node in reversed(list(enumerate(report.nodes, start=1))):
        if node.edges:  # x·x: one line per position, under the operation they fill
            locals_ = _edge_header(node), *(_edge_local(node, edge) for edge in node.edges)
            sends = [("", 0.0, 0.0)] + [(edge.input, edge.local, edge.sent) for edge in node.edges]
        else:
            names = list(node.local_derivatives)  # not a constant input: nothing is sent to it
            locals_ = tuple(_local(node, name) for name in names)
            sends = [(name, node.local_values[name], node.downstream[name]) for name in names]
        lines = []
        for name, local, sent in sends:
            if not name:
                lines.append("")
                continue
            # A gradient that already received something adds to it, as backprop does.
            sign = "+=" if name in reached else "="
            reached.add(name)
            lines.append(
                f"∂L/∂{pretty(name)} {sign} {_factor(node.upstream)} · {_factor(local)} = "
                f"{number(sent)}"
            )
        cells = (
            Text(str(k), style="dim"),
            Text(node.op, style="bold cyan"),
            Text(f"∂L/∂{pretty(node.output)} = {number(node.upstream)}", style=BACKWARD_STYLE),
            "\n".join(locals_),
            Text("\n".join(lines), style=BACKWARD_STYLE),
        )
        for column, cell in zip(columns.values(), cells, strict=True):
            column.cells.append(cell)
    layouts = (
        ((title, BACKWARD_COLUMNS),),
        ((title, BACKWARD_COLUMNS[:4]), (None, (*BACKWARD_COLUMNS[:2], BACKWARD_COLUMNS[4]))),
    )
    return fit.fitted(columns, layouts)


def backprop(report: Backprop) -> RenderableType:
    """The header, the node table, the output's value and every input's gradient."""
    formula = f"{pretty(report.output)} = {pretty(report.forward)}"
    header = (
        Text.assemble((report.target, "bold"), ": ", formula)
        if report.kind != "expression"
        else Text(formula, style="bold")
    )
    at = ", ".join(f"{pretty(name)} = {number(value)}" for name, value in report.values.items())
    parts: list[RenderableType] = [header]
    if report.title:
        parts.append(Text(report.title, style="italic"))
    parts += [
        Text(_("at {values}").format(values=at), style="dim"),
        Text(),
        _forward_table(report),
        Text(),
        _backward_table(report),
        Text(),
    ]
    parts.append(
        Text.assemble(
            _("Output: "), (f"{pretty(report.output)} = {number(report.value)}", FORWARD_STYLE)
        )
    )
    plain_gradient = report.dout == 1  # ∂L/∂in is then ∂out/∂in itself
    parts.append(
        Text(
            _("Gradients, ∂{output}/∂input:").format(output=pretty(report.output))
            if plain_gradient
            else _("Gradients, ∂L/∂input = {dout} · ∂{output}/∂input:").format(
                dout=number(report.dout), output=pretty(report.output)
            )
        )
    )
    for name, value in report.gradients.items():
        label = _partial(report.output, name) if plain_gradient else f"∂L/∂{pretty(name)}"
        # An input that feeds several edges: its gradient is what they sent back, summed.
        summed = " + ".join(_factor(sent) for sent in report.contributions.get(name, ()))
        label = f"{label} = {summed}" if summed else label
        parts.append(Text.assemble("  ", label, " = ", (number(value), "bold " + BACKWARD_STYLE)))
    notes = [*_kink_notes(report), *report.notes]
    # Prose: a Chinese note wraps between characters, not only at its few spaces.
    parts += [note(text, style="yellow") for text in notes]
    return Group(*parts)
