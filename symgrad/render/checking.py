"""Drawing the checks of a user's layers and networks (symgrad check, symgrad net).

A layer's numbers are the core's comparison table (symgrad.render.terminal); around it
go how each array was perturbed, fast mode's projections, and the findings in words.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from symgrad.checking.report import LayerCheck, NetworkCheck, Projection
from symgrad.render import fit, terminal
from symgrad.render.terminal import shape_text, short_number


def _agreement(parameters: int, layers: int) -> str:
    """ "All 4 parameters agree end to end, and all 4 layers locally", counted in words."""
    if parameters == 0:
        end_to_end = "No parameters to check end to end"
    elif parameters == 1:
        end_to_end = "The parameter agrees end to end"
    else:
        end_to_end = f"All {parameters} parameters agree end to end"
    local = "the layer" if layers == 1 else f"all {layers} layers"
    return f"{end_to_end}; {local} agree{'s' if layers == 1 else ''} locally"


def render(
    report: LayerCheck | NetworkCheck, explain: bool = False, elements: bool = False
) -> RenderableType:
    """The rich renderable for either kind of report; ``explain`` adds how each bound is
    made, ``elements`` every gradient's element table (see :func:`terminal.comparison`)."""
    if isinstance(report, NetworkCheck):
        return network(report, explain=explain)
    return layer(report, explain=explain, elements=elements)


def _findings(report: Any) -> list[RenderableType]:
    """The problems and warnings in words: one renderable, or none when there are none."""
    parts: list[RenderableType] = []
    errors = [f for f in report.findings if f.severity == "error"]
    warnings = [f for f in report.findings if f.severity == "warning"]
    if errors:
        parts.append(Text(f"Problem{'s' * (len(errors) > 1)}:", style="bold red"))
    if errors or warnings:
        # A grid, so that a wrapped message hangs under its own first word.
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for f in errors:
            grid.add_row(Text("  ✗", style="bold red"), f.message)
        for f in warnings:
            grid.add_row(Text("  ⚠", style="yellow"), f.message)
        parts.append(grid)
    return [Group(*parts)] if parts else []


PROJECTION_TITLE = (
    "Fast mode, one random projection per gradient: ⟨v, bwd⟩ = ⟨v, backward(u)⟩ against "
    "num = d/dt ⟨u, f(x + t·v)⟩ at t = 0, for a random upstream gradient u and direction v:"
)
PROJECTION_LAYOUTS: tuple[fit.Layout, ...] = (
    (
        (
            PROJECTION_TITLE,
            ("gradient", "⟨v, bwd⟩", "num", "|difference|", "tolerance", "verdict"),
        ),
    ),
    (
        (PROJECTION_TITLE, ("gradient", "verdict")),
        (None, ("gradient", "⟨v, bwd⟩", "num", "|difference|", "tolerance")),
    ),
    (
        (PROJECTION_TITLE, ("gradient", "verdict")),
        (None, ("gradient", "⟨v, bwd⟩", "num")),
        (None, ("gradient", "|difference|", "tolerance")),
    ),
)


def _projections(projections: tuple[Projection, ...]) -> fit.FirstFit:
    columns = {
        title: fit.Column(title, justify="left" if title in ("gradient", "verdict") else "right")
        for title in ("gradient", "⟨v, bwd⟩", "num", "|difference|", "tolerance", "verdict")
    }
    columns["verdict"].wrap = True
    for p in projections:
        verdict = (
            Text("✓ agree", style="green")
            if p.ok
            else Text("✗ disagree → checked element by element", style="bold red")
        )
        cells = (
            Text(p.name, style="bold"),
            f"{p.claimed:.10g}",
            f"{p.numeric:.10g}",
            short_number(abs(p.claimed - p.numeric)),
            short_number(p.tolerance),
            verdict,
        )
        for column, cell in zip(columns.values(), cells, strict=True):
            column.cells.append(cell)
    return fit.fitted(columns, PROJECTION_LAYOUTS)


def layer(report: LayerCheck, explain: bool = False, elements: bool = False) -> RenderableType:
    """The core's comparison table, how each array was perturbed, and the findings."""
    parts: list[RenderableType] = []
    if report.comparison is not None:
        parts += [terminal.comparison(report.comparison, explain=explain, elements=elements)]
    elif not report.projections:
        parts.append(Text.assemble((report.layer, "bold"), ": no numeric comparison was possible"))
    if report.perturbations:
        lines = []
        for p in report.perturbations:
            line = f"{p.structure}{' (probed)' if p.source == 'probed' else ''}, {p.forwards:,} "
            line += "forwards"
            if p.fallback:
                line += "; the grouped values were contradicted, so every element was re-derived"
            elif p.rechecked:
                line += f"; worst {p.rechecked} re-derived one at a time and confirmed"
            if p.second_opinion:
                line += (
                    f"; {p.second_opinion} re-derived by Richardson extrapolation and at"
                    " 4h (the stencil's observed order)"
                )
            lines.append(line)
        parts.append(
            Text(
                "perturbed (elements with disjoint outputs share a forward):\n  "
                + "\n  ".join(lines)
                + f"\nin {report.seconds:.2f} s",
                style="dim",
            )
        )
    if report.projections:
        parts.append(_projections(report.projections))
    parts += _findings(report)
    if report.ok:
        parts.append(
            Text(
                f"✓ {report.layer}: no problems found; checked against the numeric derivative: "
                + ", ".join(report.checked)
                + ".",
                style="bold green",
            )
        )
    else:
        count = max(len(report.problems), 1)
        parts.append(
            Text(f"✗ {report.layer}: {count} problem{'s' * (count > 1)}.", style="bold red")
        )
    return fit.spaced(parts)


BP_NUM, BP_WORST = "max|bp−num|", "worst |bp−num|"
PARAMETER_LAYOUTS: tuple[fit.Layout, ...] = (
    (
        (
            PARAMETER_TITLE := "End to end, per parameter:",
            (
                "parameter",
                "layer",
                "shape",
                "verdict",
                BP_WORST,
                "its bound",
                BP_NUM,
                "mean|bp−num|",
            ),
        ),
    ),
    (
        (PARAMETER_TITLE, ("parameter", "layer", "shape", "verdict", BP_WORST, "its bound")),
        (BOOK_TITLE := "The book's gradient_check numbers:", ("parameter", BP_NUM, "mean|bp−num|")),
    ),
    (
        (PARAMETER_TITLE, ("parameter", "layer", "shape", "verdict")),
        (None, ("parameter", BP_WORST, "its bound")),
        (BOOK_TITLE, ("parameter", BP_NUM, "mean|bp−num|")),
    ),
)
LOCAL_TITLE = "Layer by layer: each backward against its own forward, same upstream gradient:"
LOCAL_LAYOUTS: tuple[fit.Layout, ...] = (
    ((LOCAL_TITLE, ("#", "layer", "verdict", "gradients", "worst |bwd−num|", "its bound")),),
    (
        (LOCAL_TITLE, ("#", "layer", "verdict", "gradients")),
        (None, ("#", "layer", "worst |bwd−num|", "its bound")),
    ),
)
TEXT_COLUMNS = ("parameter", "layer", "verdict", "gradients")


def _columns(titles: tuple[str, ...]) -> dict[str, fit.Column]:
    """Named columns, words on the left (verdicts and lists wrap), numbers on the right."""
    return {
        title: fit.Column(
            title,
            justify="left" if title in TEXT_COLUMNS else "right",
            wrap=title in ("verdict", "gradients"),
        )
        for title in titles
    }


def _add(columns: dict[str, fit.Column], cells: dict[str, RenderableType]) -> None:
    for title, cell in cells.items():
        columns[title].cells.append(cell)


def network(report: NetworkCheck, explain: bool = False) -> RenderableType:
    """End to end per parameter (the book's gradient_check numbers), then layer by layer;
    ``explain`` adds the numeric method and its step."""
    arrays = ", ".join(f"{name} ({shape_text(shape)})" for name, shape in report.shapes.items())
    header = Text.assemble(
        ("network ", "bold"),
        (report.spec, "bold cyan"),
        f": {arrays} → loss {report.loss:.6g}   ",
        (f"{report.dtype}, seed {report.seed}", "dim"),
    )
    legend = Text(
        "bp = backprop (every layer's backward, dout = 1 at the loss); num = numeric: the "
        "chain of each layer's numeric derivative, no backward used"
        + (f" ({report.step})" if explain else "")
        + "; bwd = one layer's backward. worst: the element with the largest difference "
        "over its own bound. The book's gradient_check prints the mean.",
        style="dim",
    )
    parameters = _columns(
        ("parameter", "layer", "shape", "verdict", BP_WORST, "its bound", BP_NUM, "mean|bp−num|")
    )
    for p in report.parameters:
        projected = p.projection is not None and not p.projection.drilled
        if projected:
            numbers = ["—", "—", "—", short_number(p.projection.tolerance)]
            verdict = "✓ agree (projection)" if p.ok else "✗ DISAGREE"
        else:
            numbers = [
                short_number(p.difference),
                short_number(p.tolerance),
                short_number(p.max_abs),
                short_number(p.mean_abs),
            ]
            verdict = "✓ agree" if p.ok else f"✗ {p.wrong} wrong"
        _add(
            parameters,
            {
                "parameter": Text(p.name, style="bold"),
                "layer": p.layer,
                "shape": shape_text(p.shape),
                "verdict": Text(verdict, style="green" if p.ok else "bold red"),
                BP_WORST: numbers[0],
                "its bound": numbers[1],
                BP_NUM: numbers[2],
                "mean|bp−num|": numbers[3],
            },
        )
    local = _columns(("#", "layer", "verdict", "gradients", "worst |bwd−num|", "its bound"))
    for c in report.local:
        names = [g.name for g in c.gradients] + [p.name for p in c.projections if not p.drilled]
        decisive = max(
            c.gradients, key=lambda g: g.worst["backward_vs_numeric"].ratio, default=None
        )
        worst = 0.0 if decisive is None else decisive.errors["backward_vs_numeric"]
        tolerance = 0.0 if decisive is None else decisive.tolerance["backward_vs_numeric"]
        kinks = sum(g.kinks.count for g in c.gradients if g.kinks is not None)
        verdict = "✓ agree" if c.ok else "✗ BROKEN"
        if c.ok and kinks:
            verdict += f", {kinks} kink{'s' * (kinks > 1)} (subgradient)"
        if c.skipped:
            names.append(f"({', '.join(c.skipped)} not needed)")
        _add(
            local,
            {
                "#": str(c.position),
                "layer": Text(c.layer, style="bold"),
                "verdict": Text(verdict, style="green" if c.ok else "bold red"),
                "gradients": ", ".join(names),
                "worst |bwd−num|": short_number(worst) if c.gradients else "—",
                "its bound": short_number(tolerance) if c.gradients else "—",
            },
        )
    table = fit.fitted(parameters, PARAMETER_LAYOUTS)
    local_table = fit.fitted(local, LOCAL_LAYOUTS)
    parts: list[RenderableType] = [header, table, local_table, legend]
    parts += [Text(f"note: {note}", style="yellow") for note in report.notes]
    parts += _findings(report)
    count = len(report.parameters)
    elements = sum(math.prod(p.shape) for p in report.parameters)
    speed = f"{elements:,} parameters; {report.forwards:,} layer forwards in {report.seconds:.2f} s"
    if report.ok:
        names = ", ".join(p.name for p in report.parameters) or "none"
        layers = ", ".join(c.layer for c in report.local) or "none"
        parts.append(
            Text(
                f"✓ {_agreement(count, len(report.local))} ({speed}). Checked parameters: "
                f"{names}; layers: {layers}.",
                style="bold green",
            )
        )
    else:
        broken = ", ".join(report.broken) or "none locally"
        parts.append(Text(f"✗ Broken: {broken} ({speed}).", style="bold red"))
    return fit.spaced(parts)


def layer_json(report: LayerCheck) -> dict[str, Any]:
    """``check --json``: ok, problems, findings, the core's comparison, how each array was
    perturbed, and fast mode's projections."""
    from symgrad.render import jsonout

    return {
        "layer": report.layer,
        "ok": report.ok,
        "problems": list(report.problems),
        "warnings": list(report.warnings),
        "checked": list(report.checked),
        "findings": [dataclasses.asdict(f) for f in report.findings],
        "wrong": [dataclasses.asdict(w) for w in report.wrong],
        "comparison": None if report.comparison is None else jsonout.comparison(report.comparison),
        "perturbations": [dataclasses.asdict(p) for p in report.perturbations],
        "projections": [{**dataclasses.asdict(p), "ok": p.ok} for p in report.projections],
        "seconds": report.seconds,
    }


def network_json(report: NetworkCheck) -> dict[str, Any]:
    """``net --json``: per parameter the book's numbers and a verdict, per layer its local
    gradients, and the findings."""
    from symgrad.render import jsonout

    return {
        "spec": report.spec,
        "ok": report.ok,
        "loss": report.loss,
        "dtype": report.dtype,
        "seed": report.seed,
        "step": report.step,
        "broken": list(report.broken),
        "problems": list(report.problems),
        "parameters": [
            {
                "name": p.name,
                "layer": p.layer,
                "shape": list(p.shape),
                "ok": p.ok,
                "max_abs": p.max_abs,
                "mean_abs": p.mean_abs,
                "relative": p.relative,
                "worst": {
                    "index": list(p.index),
                    "difference": p.difference,
                    "bound": p.tolerance,
                    "ratio": p.ratio,
                },
                "wrong": p.wrong,
                "tolerance": p.tolerance,
            }
            for p in report.parameters
        ],
        "layers": [
            {
                "layer": c.layer,
                "position": c.position,
                "ok": c.ok,
                "gradients": [jsonout.gradient(g) for g in c.gradients],
                "projections": [{**dataclasses.asdict(p), "ok": p.ok} for p in c.projections],
            }
            for c in report.local
        ],
        "findings": [dataclasses.asdict(f) for f in report.findings],
        "forwards": report.forwards,
        "seconds": report.seconds,
    }
