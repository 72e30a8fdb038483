"""Reports as Markdown with embedded HTML, for the documentation site.

Math is converted to MathML here, at generation time (LaTeX from
:func:`~symgrad.render.mathtext.latex`, converted by ``latex2mathml``), so a page needs no
script and no font from elsewhere to show it: browsers render MathML Core natively.
Tables are HTML rather than Markdown tables because their cells hold MathML, which
Markdown's inline syntax must not touch (a ``*`` or ``_`` in a formula would become
emphasis); Python-Markdown passes a block of raw HTML through untouched.
"""

from __future__ import annotations

from html import escape

import numpy as np

from symgrad.i18n import Message, _, listed
from symgrad.render.latex import derivative_label, gradient, partial, symbol
from symgrad.render.mathtext import latex
from symgrad.render.terminal import shape_text, short_number
from symgrad.reports import PAIRS, ChainRule, Comparison, Derivation, GradientCheck

ELEMENT_TABLE_LIMIT = 12  # gradients this small also get an element-by-element table

# LaTeX that latex2mathml turns into markup Chromium's MathML Core does not style:
# ``mathvariant="double-struck"`` is ignored, so the ones-column is written as its
# Unicode character instead.
_UNSUPPORTED = {r"\mathbb{1}": "𝟙"}


def math(tex: str, display: bool = False) -> str:
    """LaTeX as a MathML ``<math>`` element (``display`` for a centred block formula).

    Raises:
        ImportError: where ``latex2mathml`` (the ``docs`` extra) is not installed.
    """
    from latex2mathml.converter import convert

    for source, replacement in _UNSUPPORTED.items():
        tex = tex.replace(source, replacement)
    return convert(tex, display="block" if display else "inline")


def display(tex: str) -> str:
    """A block formula as a raw-HTML paragraph of its own."""
    return f'<div class="formula">{math(tex, display=True)}</div>'


def _gradient(report: Derivation, name: str) -> str:
    """What the derivative with respect to ``name`` is called: dW, or ∂y/∂x; dz/dx where
    a node's local ∂z/∂x is shown beside it (the output takes x directly and through
    other nodes)."""
    if report.matrix or report.walk:
        return rf"\mathrm{{d}}{symbol(name)}"
    if any(chain.total for chain in report.chains if chain.wrt == name):
        return rf"\frac{{\mathrm{{d}} {symbol(report.output)}}}{{\mathrm{{d}} {symbol(name)}}}"
    return partial(report.output, name)


def table(head: list[str], rows: list[list[str]], css: str) -> str:
    """An HTML table in a ``<div class="css">``; cells are HTML already (text or MathML).

    The class is on a wrapper because themes style only tables without one (Material's
    ``table:not([class])``).
    """
    lines = [f'<div class="{css}">', "<table>", "<thead><tr>"]
    lines += [f"<th>{cell}</th>" for cell in head]
    lines.append("</tr></thead><tbody>")
    for row in rows:
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    lines.append("</tbody></table>")
    lines.append("</div>")
    return "\n".join(lines)


def forward(report: Derivation) -> str:
    """The forward formula as a block, with every array's shape for a matrix layer."""
    parts = [display(f"{symbol(report.output)} = {latex(report.forward)}")]
    if report.shapes:
        shapes = ", ".join(
            f"{math(symbol(name))}: {escape(shape)}" for name, shape in report.shapes.items()
        )
        parts.append(f'<p class="shapes">{_("Shapes: {shapes}.").format(shapes=shapes)}</p>')
    return "\n\n".join(parts)


def nodes(report: Derivation) -> str:
    """One row per node of the graph, in forward order, with its local derivatives."""
    head = ["#", _("node"), _("computes")]
    if report.matrix:
        head.append(_("shapes"))
    head.append(_("backward rule") if report.matrix else _("local derivative"))
    rows = []
    for k, node in enumerate(report.nodes, start=1):
        rules = "<br>".join(
            math(f"{derivative_label(node.output, key, report.matrix)} = {latex(value)}")
            for key, value in node.local_derivatives.items()
        )
        row = [
            str(k),
            f"<code>{escape(node.op)}</code>",
            math(f"{symbol(node.output)} = {latex(node.expression)}"),
        ]
        if report.matrix:
            row.append("<br>".join(f"{escape(n)}: {escape(s)}" for n, s in node.shapes.items()))
        rows.append([*row, rules])
    return table(head, rows, "nodes")


def _chain(chain: ChainRule, report: Derivation) -> str:
    """One input's chain rule: the partials along each path, their values, the product."""
    head = partial(chain.of, chain.wrt) if chain.of else _gradient(report, chain.wrt)
    if chain.unlisted:  # too many paths to list: their sum, by the backward walk
        summed = _(
            "{derivative} sums the products of local derivatives along {count} paths; by"
            " the backward walk:"
        ).format(derivative=math(head), count=chain.path_count)
        return f"<p>{summed}</p>\n" + display(f"{head} = {latex(chain.product)}")
    if len(chain.paths) <= 1 and all(len(path) == 1 for path in chain.paths):  # one edge
        return display(f"{head} = {latex(chain.product)}")
    if report.matrix:  # each node's backward rule in turn, then the result
        receivers = (*chain.paths[0][1:], chain.wrt)
        steps = [
            rf"\mathrm{{d}}{symbol(name)} = {latex(rule)}"
            for name, rule in zip(receivers, chain.factors[0], strict=True)
        ]
        return display(
            r",\quad ".join(steps) + rf"\quad\Rightarrow\quad {head} = {latex(chain.product)}"
        )
    labels, values = [], []
    sums = chain.summed_over or ("",) * len(chain.paths)
    for k, (path, factors, over) in enumerate(zip(chain.paths, chain.factors, sums, strict=True)):
        index_range = over.replace("≠", r" \neq ")
        total = rf"\sum_{{{index_range}}} " if over else ""
        hops = (partial(node, chain.receiver(k, hop)) for hop, node in enumerate(path))
        labels.append(total + r" \cdot ".join(hops))
        values.append(total + r" \cdot ".join(rf"\left({latex(f)}\right)" for f in factors))
    steps = [" + ".join(labels), " + ".join(values), latex(chain.product)]
    return display(f"{head} = " + " = ".join(steps))


def chain_rule(report: Derivation) -> str:
    """The chain rule for every input, walking the graph backward from the output."""
    if report.walk:  # the backward walk: each gradient as its quantity's readers send it
        upstream = rf"\mathrm{{d}}{symbol(report.output)}"
        start = _("From {upstream} = {derivative}, node by node:").format(
            upstream=math(upstream), derivative=math(partial("L", report.output))
        )
        head = f"<p>{start}</p>"
        steps = [display(f"{gradient(name)} = {latex(rule)}") for name, rule in report.walk]
        return "\n\n".join([head, *steps])
    return "\n\n".join(_chain(chain, report) for chain in report.chains)


def derivatives(report: Derivation) -> str:
    """The final derivatives, in the layer's output where the note writes them so."""
    in_output = any(
        report.output in map(str, value.free_symbols) for value in report.derivatives.values()
    )
    parts = []
    if in_output and not report.matrix:
        kept = _(
            "In terms of the output {output}, which is why the layer keeps its output for"
            " the backward pass:"
        ).format(output=math(symbol(report.output)))
        parts.append(f"<p>{kept}</p>")
    parts += [
        display(f"{_gradient(report, name)} = {latex(value)}")
        for name, value in report.derivatives.items()
    ]
    for extra in report.extra_derivatives:
        parts.append(
            f"<p>{math(f'{partial(report.output, extra.wrt)} = {latex(extra.value)}')}"
            f" ({escape(str(extra.condition))})</p>"
        )
    ones = r"\mathbb{1}"
    if any(ones in latex(value) for value in report.derivatives.values()):
        upstream = rf"\mathrm{{d}}{symbol(report.output)}"
        summed = math(rf"{upstream}^{{T}} {ones}")
        sums = _(
            "{ones} is a column of ones: {summed} sums {upstream} over the batch (the bias"
            " was added to every row)."
        ).format(ones=math(ones), summed=summed, upstream=math(upstream))
        parts.append(f"<p>{sums}</p>")
    parts += [_notes(report.notes)]
    return "\n\n".join(parts)


def _notes(notes: tuple[str | Message, ...]) -> str:
    """A report's notes, one paragraph each."""
    return "\n\n".join(
        f'<p class="note">{escape(_("Note: {note}").format(note=note))}</p>' for note in notes
    )


def _within(check: GradientCheck, pair: str) -> str:
    """The pair's worst element: ``difference ≤ bound`` (``>`` and marked when not)."""
    worst = check.worst[pair]
    at = escape(str(worst.index) if worst.index else "()")
    relation = "≤" if worst.ok else "&gt;"
    within = _("{difference} {relation} {bound} at {index}").format(
        difference=short_number(worst.difference),
        relation=relation,
        bound=short_number(worst.bound),
        index=at,
    )
    return within if worst.ok else f'<span class="disagree">{within}</span>'


def _check_row(check: GradientCheck) -> list[str]:
    verdict = (
        _("✓ agree")
        if check.ok
        else _("✗ {wrong} of {size} wrong").format(wrong=check.wrong, size=check.backward.size)
    )
    return [
        f"<code>{escape(check.name)}</code>",
        *(_within(check, pair) for pair in PAIRS),
        short_number(check.relative_error),
        f'<span class="{"agree" if check.ok else "disagree"}">{verdict}</span>',
    ]


def _elements(check: GradientCheck) -> str:
    rows = [
        [
            escape(str(index) if index else "()"),
            f"{check.backward[index]:.10f}",
            f"{check.symbolic[index]:.10f}",
            f"{check.numeric[index]:.10f}",
            short_number(abs(check.backward[index] - check.numeric[index])),
        ]
        for index in np.ndindex(check.backward.shape)
    ]
    head = [_("index"), _("backward"), _("symbolic"), _("numeric"), "|back − num|"]
    title = _("{name}, element by element").format(name=f"<strong>{escape(check.name)}</strong>")
    return f"<p>{title}</p>\n" + table(head, rows, "elements")


def comparison(report: Comparison) -> str:
    """The three-way check: a summary row per gradient, element tables for small ones."""
    arrays = listed(f"{name} ({shape_text(shape)})" for name, shape in report.shapes.items())
    head = [_("gradient"), "|b − s|", "|b − n|", "|s − n|", _("rel. err."), _("verdict")]
    drawn = _("Arrays: {arrays}; {dtype}, seed {seed}, random upstream gradient dout.").format(
        arrays=escape(arrays), dtype=escape(report.dtype), seed=report.seed
    )
    legend = _(
        "b = backward (the NumPy layer), s = symbolic (SymPy), n = numeric ({step}). Every"
        " element is held to its own bound; each pair shows its worst element (the largest"
        " difference over its bound) and that bound; rel. err. = largest difference /"
        " largest |value|."
    ).format(step=escape(report.step))
    parts = [
        f"<p>{drawn}</p>",
        table(head, [_check_row(check) for check in report.gradients], "comparison"),
        f"<p>{legend}</p>",
    ]
    parts += [
        _elements(check)
        for check in report.gradients
        if 0 < check.backward.size <= ELEMENT_TABLE_LIMIT
    ]
    parts.append(_notes(report.notes))
    bad = [check.name for check in report.gradients if not check.ok]
    agree = _("Backward = symbolic = numeric, for every gradient.")
    disagree = _("Disagreement in {names}.").format(names=escape(listed(bad)))
    parts.append(
        f'<p class="verdict agree">{agree}</p>'
        if not bad
        else f'<p class="verdict disagree">{disagree}</p>'
    )
    return "\n\n".join(parts)


__all__ = ["chain_rule", "comparison", "derivatives", "display", "forward", "math", "nodes"]
