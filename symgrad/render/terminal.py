"""Rich terminal rendering of derivations and comparisons."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from symgrad.render.console import console
from symgrad.render.mathtext import pretty
from symgrad.reports import PAIRS, ChainRule, Comparison, Derivation, GraphNode

__all__ = ["comparison", "console", "derivation"]

ELEMENT_TABLE_LIMIT = 24  # tensors this small get an element-by-element table


def partial(of: str, wrt: str) -> str:
    return f"∂{pretty(of)}/∂{pretty(wrt)}"


def derivative_label(node: GraphNode, key: str, matrix: bool) -> str:
    """∂out/∂in for a scalar node, d<in> for a matrix node; class nodes carry their own."""
    if key.startswith("∂"):
        return pretty(key)
    return f"d{key}" if matrix else partial(node.output, key)


def _node_table(derivation: Derivation) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
        title="Computational graph, forward →",
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("node", style="bold cyan")
    table.add_column("computes")
    if derivation.matrix:
        table.add_column("shapes", style="dim")
    table.add_column("backward rule" if derivation.matrix else "local derivative")
    for k, node in enumerate(derivation.nodes, start=1):
        rules = "\n".join(
            f"{derivative_label(node, key, derivation.matrix)} = {pretty(value)}"
            for key, value in node.local_derivatives.items()
        )
        row = [str(k), node.op, f"{pretty(node.output)} = {pretty(node.expression)}"]
        if derivation.matrix:
            row.append("\n".join(f"{name}: {shape}" for name, shape in node.shapes.items()))
        table.add_row(*map(Text, [*row, rules]))
    return table


def _chain_lines(chain: ChainRule, output: str, matrix: bool) -> list[str]:
    if matrix:
        steps = [
            f"d{node} ← {pretty(factor)}"
            for node, factor in zip((*chain.paths[0][1:], chain.wrt), chain.factors[0], strict=True)
        ]
        return [
            f"d{chain.wrt}: " + ";  ".join(steps) + f"  ⇒  d{chain.wrt} = {pretty(chain.product)}"
        ]
    labels, values = [], []
    for path, factors in zip(chain.paths, chain.factors, strict=True):
        hops = (*path, chain.wrt)
        labels.append(" · ".join(partial(a, b) for a, b in itertools.pairwise(hops)))
        values.append(
            " · ".join(
                f"({pretty(f)})" if pretty(f).startswith("−") or " " in pretty(f) else pretty(f)
                for f in factors
            )
        )
    head = f"{partial(output, chain.wrt)} = "
    pad = " " * len(head)
    if all(len(path) == 1 for path in chain.paths):  # one edge: nothing to chain
        return [head + pretty(chain.product)]
    lines = [head + " + ".join(labels)]
    if values != [pretty(chain.product)]:
        lines.append(pad + "= " + " + ".join(values))
    lines.append(pad + "= " + pretty(chain.product))
    return lines


def derivation(report: Derivation) -> RenderableType:
    """The note's derivation: forward, nodes with local derivatives, chain rule, result."""
    parts: list[RenderableType] = [
        Text.assemble(
            (report.layer, "bold"), ": ", f"{pretty(report.output)} = ", pretty(report.forward)
        ),
    ]
    if report.shapes:
        shapes = ", ".join(f"{name} {shape}" for name, shape in report.shapes.items())
        parts.append(Text(f"shapes: {shapes}", style="dim"))
    parts += [Text(), _node_table(report), Text("Chain rule, backward ←", style="italic")]
    for chain in report.chains:
        parts += [Text("  " + line) for line in _chain_lines(chain, report.output, report.matrix)]
    in_output = any(
        report.output in map(str, value.free_symbols) for value in report.derivatives.values()
    )
    title = (
        "Gradients (each has its variable's shape)"
        if report.matrix
        else "Derivative" + (" in terms of the output" if in_output else "")
    )
    parts += [Text(), Text(title, style="italic")]
    for name, value in report.derivatives.items():
        label = f"d{name}" if report.matrix else partial(report.output, name)
        shape = f"   ({report.shapes.get(name, '')})" if report.matrix else ""
        parts.append(Text.assemble("  ", label, " = ", (pretty(value), "bold green"), shape))
    for name, value in report.extra_derivatives.items():
        parts.append(
            Text(
                f"  {partial(report.output, name.split(',')[0])} = {pretty(value)}"
                f"   ({name.split(', ', 1)[-1]})"
            )
        )
    if report.matrix and any("𝟙" in pretty(v) for v in report.derivatives.values()):
        parts.append(
            Text("  𝟙 is a column of ones: dYᵀ·𝟙 sums dY over the batch (Σₙ).", style="dim")
        )
    parts += [Text(f"  note: {note}", style="dim") for note in report.notes]
    return Group(*parts)


def _shape(shape: Iterable[int]) -> str:
    shape = tuple(shape)
    return "×".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]}," if shape else "scalar"


def _number(value: float) -> str:
    return f"{value:.1e}"


def comparison(report: Comparison) -> RenderableType:
    """Summary table, one row per gradient, then element tables for small tensors."""
    arrays = [f"{name} ({_shape(shape)})" for name, shape in report.shapes.items()]
    header = Text.assemble(
        (report.layer, "bold"),
        f": {', '.join(arrays[:-1])} → {arrays[-1]}   ",
        (f"{report.dtype}, seed {report.seed}, random dout", "dim"),
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for title in (
        "gradient",
        "shape",
        "max|b−s|",
        "max|b−n|",
        "max|s−n|",
        "rel.err",
        "tol b−s",
        "tol ·−n",
        "verdict",
    ):
        table.add_column(title, justify="left" if title in ("gradient", "verdict") else "right")
    for check in report.gradients:
        verdict = (
            Text("✓ agree", style="green") if check.ok else Text("✗ DISAGREE", style="bold red")
        )
        table.add_row(
            Text(check.name, style="bold"),
            _shape(check.shape),
            *(_number(check.errors[pair]) for pair in PAIRS),
            _number(check.relative_error),
            _number(check.tolerance["backward_vs_symbolic"]),
            _number(check.tolerance["backward_vs_numeric"]),
            verdict,
        )
    legend = (
        "b = backward (NumPy layer), s = symbolic (SymPy), n = numeric "
        f"({report.step})\nrel.err = worst difference / largest |value|; "
        "tol = relative tolerance × largest |value|"
    )
    parts: list[RenderableType] = [header, Text(legend, style="dim"), table]
    for check in report.gradients:
        if 0 < check.backward.size <= ELEMENT_TABLE_LIMIT:
            parts.append(_element_table(check))
    bad = [c.name for c in report.gradients if not c.ok]
    parts.append(
        Text(
            f"{'All' if len(report.gradients) > 1 else 'The'} "
            f"{len(report.gradients)} gradient{'s' if len(report.gradients) > 1 else ''}"
            " agree: backward = symbolic = numeric.",
            style="bold green",
        )
        if not bad
        else Text(f"Disagreement in {', '.join(bad)}: see the rows marked ✗.", style="bold red")
    )
    return Group(*parts)


def _element_table(check) -> Table:
    table = Table(
        title=f"{check.name}, element by element",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for title in ("index", "backward", "symbolic", "numeric", "|back − num|"):
        table.add_column(title, justify="right")
    for index in np.ndindex(check.backward.shape):
        b, s, n = check.backward[index], check.symbolic[index], check.numeric[index]
        table.add_row(
            str(index) if index else "()",
            f"{b: .10f}",
            f"{s: .10f}",
            f"{n: .10f}",
            _number(abs(b - n)),
        )
    return table
