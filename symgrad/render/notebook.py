"""Reports in a Jupyter notebook: HTML tables, formulas as MathML, graphs as inline SVG.

A report's ``_repr_html_`` comes here. Derivations and comparisons are the site's own HTML
(symgrad.render.markdown: MathML that the browser draws, no script); a graph with numbers
gets Graphviz's drawing when ``dot`` is installed, and its node tables either way; checks
get their verdict, their findings in words and their tables. Nothing here computes.
"""

from __future__ import annotations

from html import escape
from typing import Any

from symgrad.render import markdown
from symgrad.render.latex import partial, second_partial, symbol
from symgrad.render.markdown import display, math
from symgrad.render.mathtext import latex
from symgrad.render.numbers import number, point_text
from symgrad.render.terminal import shape_text, short_number
from symgrad.reports import Backprop, Comparison, Derivation, SecondDerivation, StepSweep


def html(report: Any) -> str:
    """``report`` as one HTML fragment, for ``_repr_html_``."""
    from symgrad.checking.report import LayerCheck, NetworkCheck

    draw = {
        Derivation: derivation,
        SecondDerivation: second_derivation,
        Comparison: markdown.comparison,
        Backprop: backprop,
        StepSweep: step_sweep,
        LayerCheck: layer_check,
        NetworkCheck: network_check,
    }
    return f'<div class="symgrad">\n{draw[type(report)](report)}\n</div>'


def _svg(source: str) -> str:
    """Graphviz's drawing of DOT ``source``, or nothing where ``dot`` is not installed."""
    from symgrad.render import svg

    if svg.dot_program() is None:
        return "<p><em>(Install Graphviz to see the graph drawn.)</em></p>"
    drawn = svg.render(source)
    # Inline (no XML declaration inside HTML), and shrunk to the output's width when wider.
    tag = drawn.index("<svg")
    return '<svg style="max-width: 100%; height: auto"' + drawn[tag + len("<svg") :]


def derivation(report: Derivation) -> str:
    """The forward formula, the graph drawn, its nodes, the chain rule, the derivatives."""
    from symgrad.render.derivation_dot import derivation as dot_source

    return "\n".join(
        [
            f"<h3>{escape(report.layer)}</h3>",
            markdown.forward(report),
            _svg(dot_source(report)),
            markdown.nodes(report),
            "<p><strong>Chain rule</strong>, backward</p>",
            markdown.chain_rule(report),
            "<p><strong>Derivative</strong></p>",
            markdown.derivatives(report),
        ]
    )


def second_derivation(report: SecondDerivation) -> str:
    """The forward, the first derivatives, then the second ones, as block formulas."""
    y = report.output
    rows = [f"{symbol(y)} = {latex(report.forward)}"]
    rows += [f"{partial(y, name)} = {latex(value)}" for name, value in report.first.items()]
    rows += [
        f"{second_partial(y, a, b)} = {latex(value)}" for (a, b), value in report.second.items()
    ]
    return "\n".join([f"<h3>{escape(report.layer)}</h3>", *map(display, rows)])


def backprop(report: Backprop) -> str:
    """The graph with every node's forward and backward value, drawn and as a table."""
    from symgrad.render import dot

    head = ["#", "node", "computes", "forward", "∂L/∂output", "local", "sends back"]
    rows = []
    for k, node in enumerate(report.nodes, start=1):
        rows.append(
            [
                str(k),
                f"<code>{escape(node.op)}</code>",
                math(f"{symbol(node.output)} = {latex(node.expression)}"),
                number(node.forward),
                number(node.upstream),
                "<br>".join(
                    math(f"{partial(node.output, name)} = {latex(value)}")
                    for name, value in node.local_derivatives.items()
                ),
                "<br>".join(
                    f"{math(symbol(name))}: {number(value)}"
                    for name, value in node.downstream.items()
                ),
            ]
        )
    gradients = ", ".join(
        f"{math(partial(report.output, name))} = {number(value)}"
        for name, value in report.gradients.items()
    )
    return "\n".join(
        [
            f"<h3>{escape(report.target)}</h3>",
            markdown.display(f"{symbol(report.output)} = {latex(report.forward)}"),
            f"<p>{escape(report.title)}</p>" if report.title else "",
            f"<p>at {escape(point_text(report.values))}, ∂L/∂{escape(report.output)} = "
            f"{number(report.dout)}</p>",
            _svg(dot.backprop(report)),
            markdown.table(head, rows, "nodes"),
            f"<p>Output {math(symbol(report.output))} = {number(report.value)}; "
            f"gradients: {gradients}.</p>",
        ]
    )


def step_sweep(report: StepSweep) -> str:
    """|numeric − exact| for every step and method: the V of truncation against rounding."""
    head = ["h", *(escape(curve.method) for curve in report.curves)]
    rows = []
    for k, h in enumerate(report.curves[0].steps):
        cells = [f"{h:.0e}"]
        for curve in report.curves:
            error = curve.errors[k]
            text = "h lost (x + h = x)" if error is None else short_number(error)
            cells.append(f"<strong>{text}</strong>" if k == curve.best else text)
        rows.append(cells)
    notes = [f'<p class="note">{escape(str(note))}</p>' for note in report.notes]
    return "\n".join(
        [
            f"<h3>{escape(report.layer)}: {escape(report.quantity)} at "
            f"{escape(point_text(report.at))} ({escape(report.dtype)})</h3>",
            f"<p>exact (SymPy): {escape(report.exact)}; each method's best step in bold.</p>",
            markdown.table(head, rows, "steps"),
            *notes,
        ]
    )


def _verdict(ok: bool, text: str) -> str:
    return f'<p class="verdict {"agree" if ok else "disagree"}">{escape(text)}</p>'


def _findings(report: Any) -> str:
    items = [
        f"<li><strong>{escape(f.severity)}</strong>: {escape(f.message)}</li>"
        for f in report.findings
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def layer_check(report: Any) -> str:
    """A user's layer: the verdict, what is wrong in words, and the three-way table."""
    verdict = "✓ no problems found" if report.ok else "✗ problems found"
    parts = [f"<h3>{escape(report.layer)}</h3>", _verdict(report.ok, verdict), _findings(report)]
    if report.comparison is not None:
        parts.append(markdown.comparison(report.comparison))
    return "\n".join(parts)


def network_check(report: Any) -> str:
    """A network: every parameter end to end, then every layer on its own."""
    parameters = [
        [
            f"<code>{escape(p.name)}</code>",
            escape(p.layer),
            escape(shape_text(p.shape)),
            short_number(p.max_abs),
            short_number(p.mean_abs),
            "✓ agree" if p.ok else f"✗ {p.wrong} wrong",
        ]
        for p in report.parameters
    ]
    local = [
        [
            escape(c.layer),
            ", ".join(escape(g.name) for g in c.gradients),
            "✓ agree" if c.ok else "✗ backward is wrong",
        ]
        for c in report.local
    ]
    verdict = "✓ backprop agrees with the numeric gradient" if report.ok else "✗ problems found"
    return "\n".join(
        [
            f"<h3>{escape(report.spec)}</h3>",
            _verdict(report.ok, verdict),
            _findings(report),
            markdown.table(
                ["parameter", "layer", "shape", "max |bp − num|", "mean", "verdict"],
                parameters,
                "parameters",
            ),
            markdown.table(["layer", "gradients", "on its own"], local, "layers"),
        ]
    )


__all__ = ["html"]
