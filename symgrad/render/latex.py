"""Derivations as LaTeX (an ``align*`` block a teacher can paste into notes)."""

from __future__ import annotations

import re

from symgrad.render.mathtext import ACCENTS, latex, split_partial
from symgrad.reports import Derivation, SecondDerivation

# A letter named with its accent, as SymPy's printers read it: xhat is x̂, dxbar is dx̄.
ACCENTED = re.compile(rf"(?<![A-Za-z])(d?)([A-Za-z])({'|'.join(ACCENTS)})(?![a-z])")


def symbol(name: str) -> str:
    base, _, sub = name.partition("_")
    accented = ACCENTED.fullmatch(base)
    if accented:  # xhat → \hat{x}, dxbar → d\bar{x}, as SymPy's LaTeX printer writes them
        base = rf"{accented[1]}\{accented[3]}{{{accented[2]}}}"
    digits = base[len(base.rstrip("0123456789")) :]  # t1 → t_{1}; γ stays γ
    if digits and digits != base and not sub:
        base, sub = base[: -len(digits)], digits
    return f"{base}_{{{sub}}}" if sub else base


def gradient(name: str) -> str:
    """A walk's gradient by name: dx̂_n as d x̂ₙ with an upright d."""
    return rf"\mathrm{{d}}{symbol(name[1:])}"


def _op(label: str) -> str:
    """A node label inside \\text{}: × and − as math, so pdflatex accepts them."""
    return label.replace("×", r"$\times$").replace("−", "-")


def partial(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {symbol(of)}}}{{\partial {symbol(wrt)}}}"


def derivative_label(output: str, key: str, matrix: bool) -> str:
    if key.startswith("∂"):
        of, wrt, condition = split_partial(key)
        return partial(of, wrt) + (rf"\ \text{{{condition}}}" if condition else "")
    return rf"\mathrm{{d}}{symbol(key)}" if matrix else partial(output, key)


def derivation(report: Derivation) -> str:
    """Forward, one line per node with its local derivatives, then the final derivatives."""
    lines = [
        f"% symgrad derive {report.layer}",
        r"\begin{align*}",
        rf"{symbol(report.output)} &= {latex(report.forward)} \\",
    ]
    for node in report.nodes:
        rules = r",\quad ".join(
            f"{derivative_label(node.output, k, report.matrix)} = {latex(v)}"
            for k, v in node.local_derivatives.items()
        )
        lines.append(
            rf"{symbol(node.output)} &= {latex(node.expression)}"
            rf" && \text{{({_op(node.op)})}}\quad {rules} \\"
        )
    lines += [rf"{gradient(name)} &= {latex(rule)} \\" for name, rule in report.walk]
    finals = [
        (
            rf"\mathrm{{d}}{symbol(name)}"
            if report.matrix or report.walk
            else partial(report.output, name)
        )
        + f" &= {latex(value)}"
        for name, value in report.derivatives.items()
    ]
    lines.append(r" \\ ".join(finals))
    lines.append(r"\end{align*}")
    return "\n".join(lines)


def second_partial(of: str, a: str, b: str) -> str:
    wrt = (
        rf"\partial {symbol(a)}^{{2}}" if a == b else rf"\partial {symbol(a)}\,\partial {symbol(b)}"
    )
    return rf"\frac{{\partial^{{2}} {symbol(of)}}}{{{wrt}}}"


def matrix_rows(report: SecondDerivation) -> list[str]:
    """A matrix layer at order 2 in LaTeX: each input's gradient (the backward), then its
    part of the Hessian-vector product, one ``lhs = rhs`` each."""
    rows = [rf"\mathrm{{d}}{symbol(name)} = {latex(value)}" for name, value in report.first.items()]
    rows += [
        rf"(H v)_{{{symbol(name)}}} = {latex(value)}" for name, value in report.products.items()
    ]
    return rows


def second_derivation(report: SecondDerivation) -> str:
    """The forward, each first derivative, then each second derivative (in the output where
    it is written so, = its form in the inputs)."""
    lines = [
        f"% symgrad derive {report.layer} --order 2",
        r"\begin{align*}",
        rf"{symbol(report.output)} &= {latex(report.forward)} \\",
    ]
    if report.products:  # a matrix layer: the backward and H·v at matrix level
        lines.append(r" \\ ".join(row.replace(" = ", " &= ", 1) for row in matrix_rows(report)))
        lines.append(r"\end{align*}")
        return "\n".join(lines)
    lines += [
        rf"{partial(report.output, name)} &= {latex(value)} \\"
        for name, value in report.first.items()
    ]
    seconds = []
    for (a, b), value in report.second.items():
        line = rf"{second_partial(report.output, a, b)} &= {latex(value)}"
        if value != report.in_inputs[a, b]:
            line += f" = {latex(report.in_inputs[a, b])}"
        seconds.append(line)
    lines.append(r" \\ ".join(seconds))
    lines.append(r"\end{align*}")
    return "\n".join(lines)
