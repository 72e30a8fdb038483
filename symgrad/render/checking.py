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

from symgrad.checking.report import LayerCheck, NetworkCheck, Perturbation, Projection
from symgrad.i18n import N_, _, listed, ngettext
from symgrad.render import fit, terminal
from symgrad.render.prose import Prose, note
from symgrad.render.terminal import shape_text, short_number


def _agreement(parameters: int, layers: int) -> str:
    """ "All 4 parameters agree end to end, and all 4 layers locally", counted in words."""
    if parameters == 0:
        end_to_end = _("No parameters to check end to end")
    elif parameters == 1:
        end_to_end = _("The parameter agrees end to end")
    else:
        end_to_end = _("All {count} parameters agree end to end").format(count=parameters)
    if layers == 1:
        local = _("the layer agrees locally")
    else:
        local = _("all {count} layers agree locally").format(count=layers)
    return _("{end_to_end}; {local}").format(end_to_end=end_to_end, local=local)


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
        parts.append(Prose(ngettext("Problem:", "Problems:", len(errors)), style="bold red"))
    if errors or warnings:
        # A grid, so that a wrapped message hangs under its own first word.
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for f in errors:
            grid.add_row(Prose("  ✗", style="bold red"), Prose(f.message))
        for f in warnings:
            grid.add_row(Prose("  ⚠", style="yellow"), Prose(f.message))
        parts.append(grid)
    return [Group(*parts)] if parts else []


# Column titles, kept in English as the columns' keys and translated where they are drawn.
PROJECTION_COLUMNS = (
    N_("gradient"),
    "⟨v, bwd⟩",
    "num",
    N_("|difference|"),
    N_("tolerance"),
    N_("verdict"),
)


def _projection_layouts() -> tuple[fit.Layout, ...]:
    title = _(
        "Fast mode, one random projection per gradient: ⟨v, bwd⟩ = ⟨v, backward(u)⟩ against "
        "num = d/dt ⟨u, f(x + t·v)⟩ at t = 0, for a random upstream gradient u and direction v:"
    )
    return (
        ((title, PROJECTION_COLUMNS),),
        (
            (title, ("gradient", "verdict")),
            (None, ("gradient", "⟨v, bwd⟩", "num", "|difference|", "tolerance")),
        ),
        (
            (title, ("gradient", "verdict")),
            (None, ("gradient", "⟨v, bwd⟩", "num")),
            (None, ("gradient", "|difference|", "tolerance")),
        ),
    )


def _projections(projections: tuple[Projection, ...]) -> fit.FirstFit:
    columns = {
        title: fit.Column(_(title), justify="left" if title in ("gradient", "verdict") else "right")
        for title in PROJECTION_COLUMNS
    }
    columns["verdict"].wrap = True
    for p in projections:
        verdict = (
            Prose(_("✓ agree"), style="green")
            if p.ok
            else Prose(_("✗ disagree → checked element by element"), style="bold red")
        )
        cells = (
            Prose(p.name, style="bold"),
            f"{p.claimed:.10g}",
            f"{p.numeric:.10g}",
            short_number(abs(p.claimed - p.numeric)),
            short_number(p.tolerance),
            verdict,
        )
        for column, cell in zip(columns.values(), cells, strict=True):
            column.cells.append(cell)
    return fit.fitted(columns, _projection_layouts())


def _perturbed(p: Perturbation) -> str:
    """How one array was perturbed, in one line."""
    if p.source == "probed":
        line = _("{structure} (probed), {forwards} forwards")
    else:
        line = _("{structure}, {forwards} forwards")
    line = line.format(structure=p.structure, forwards=f"{p.forwards:,}")
    if p.fallback:
        line += _("; the grouped values were contradicted, so every element was re-derived")
    elif p.rechecked:
        line += _("; worst {count} re-derived one at a time and confirmed").format(
            count=p.rechecked
        )
    if p.second_opinion:
        line += _(
            "; {count} re-derived by Richardson extrapolation and at 4h (the stencil's observed "
            "order)"
        ).format(count=p.second_opinion)
    return line


def layer(report: LayerCheck, explain: bool = False, elements: bool = False) -> RenderableType:
    """The core's comparison table, how each array was perturbed, and the findings."""
    parts: list[RenderableType] = []
    if report.comparison is not None:
        parts += [terminal.comparison(report.comparison, explain=explain, elements=elements)]
    elif not report.projections:
        parts.append(
            Prose.assemble((report.layer, "bold"), _(": no numeric comparison was possible"))
        )
    if report.perturbations:
        lines = "\n  ".join(_perturbed(p) for p in report.perturbations)
        parts.append(
            Prose(
                _("perturbed (elements with disjoint outputs share a forward):")
                + f"\n  {lines}\n"
                + _("in {seconds} s").format(seconds=f"{report.seconds:.2f}"),
                style="dim",
            )
        )
    if report.projections:
        parts.append(_projections(report.projections))
    parts += _findings(report)
    if report.ok:
        parts.append(
            Prose(
                _(
                    "✓ {layer}: no problems found; checked against the numeric derivative: "
                    "{checked}."
                ).format(layer=report.layer, checked=listed(report.checked)),
                style="bold green",
            )
        )
    else:
        count = max(len(report.problems), 1)
        parts.append(
            Prose(
                ngettext(
                    "✗ {layer}: {count} problem.", "✗ {layer}: {count} problems.", count
                ).format(layer=report.layer, count=count),
                style="bold red",
            )
        )
    return fit.spaced(parts)


BP_NUM, BP_WORST, BP_MEAN = "max|bp−num|", N_("worst |bp−num|"), "mean|bp−num|"
BWD_WORST = N_("worst |bwd−num|")
PARAMETER_COLUMNS = (
    N_("parameter"),
    N_("layer"),
    N_("shape"),
    N_("verdict"),
    BP_WORST,
    N_("its bound"),
    BP_NUM,
    BP_MEAN,
)
LOCAL_COLUMNS = ("#", N_("layer"), N_("verdict"), N_("gradients"), BWD_WORST, N_("its bound"))


def _parameter_layouts() -> tuple[fit.Layout, ...]:
    parameters = _("End to end, per parameter:")
    book = _("The book's gradient_check numbers:")
    return (
        ((parameters, PARAMETER_COLUMNS),),
        (
            (parameters, ("parameter", "layer", "shape", "verdict", BP_WORST, "its bound")),
            (book, ("parameter", BP_NUM, BP_MEAN)),
        ),
        (
            (parameters, ("parameter", "layer", "shape", "verdict")),
            (None, ("parameter", BP_WORST, "its bound")),
            (book, ("parameter", BP_NUM, BP_MEAN)),
        ),
    )


def _local_layouts() -> tuple[fit.Layout, ...]:
    title = _("Layer by layer: each backward against its own forward, same upstream gradient:")
    return (
        ((title, LOCAL_COLUMNS),),
        (
            (title, ("#", "layer", "verdict", "gradients")),
            (None, ("#", "layer", BWD_WORST, "its bound")),
        ),
    )


TEXT_COLUMNS = ("parameter", "layer", "verdict", "gradients")


def _columns(titles: tuple[str, ...]) -> dict[str, fit.Column]:
    """Named columns, words on the left (verdicts and lists wrap), numbers on the right;
    each keyed by its English title and headed by it in the reader's language."""
    return {
        title: fit.Column(
            _(title),
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
    arrays = listed(f"{name} ({shape_text(shape)})" for name, shape in report.shapes.items())
    header = Prose.assemble(
        (_("network "), "bold"),
        (report.spec, "bold cyan"),
        _(": {arrays} → loss {loss}   ").format(arrays=arrays, loss=f"{report.loss:.6g}"),
        (_("{dtype}, seed {seed}").format(dtype=report.dtype, seed=report.seed), "dim"),
    )
    legend = Prose(
        _(
            "bp = backprop (every layer's backward, dout = 1 at the loss); num = numeric: the "
            "chain of each layer's numeric derivative, no backward used{step}; bwd = one "
            "layer's backward. worst: the element with the largest difference over its own "
            "bound. The book's gradient_check prints the mean."
        ).format(step=_(" ({step})").format(step=report.step) if explain else ""),
        style="dim",
    )
    parameters = _columns(PARAMETER_COLUMNS)
    for p in report.parameters:
        projected = p.projection is not None and not p.projection.drilled
        if projected:
            numbers = ["—", "—", "—", short_number(p.projection.tolerance)]
            verdict = _("✓ agree (projection)") if p.ok else _("✗ DISAGREE")
        else:
            numbers = [
                short_number(p.difference),
                short_number(p.tolerance),
                short_number(p.max_abs),
                short_number(p.mean_abs),
            ]
            verdict = _("✓ agree") if p.ok else _("✗ {wrong} wrong").format(wrong=p.wrong)
        _add(
            parameters,
            {
                "parameter": Prose(p.name, style="bold"),
                "layer": p.layer,
                "shape": shape_text(p.shape),
                "verdict": Prose(verdict, style="green" if p.ok else "bold red"),
                BP_WORST: numbers[0],
                "its bound": numbers[1],
                BP_NUM: numbers[2],
                BP_MEAN: numbers[3],
            },
        )
    local = _columns(LOCAL_COLUMNS)
    for c in report.local:
        names = [g.name for g in c.gradients] + [p.name for p in c.projections if not p.drilled]
        decisive = max(
            c.gradients, key=lambda g: g.worst["backward_vs_numeric"].ratio, default=None
        )
        worst = 0.0 if decisive is None else decisive.errors["backward_vs_numeric"]
        tolerance = 0.0 if decisive is None else decisive.tolerance["backward_vs_numeric"]
        kinks = sum(g.kinks.count for g in c.gradients if g.kinks is not None)
        verdict = _("✓ agree") if c.ok else _("✗ BROKEN")
        if c.ok and kinks:
            verdict = ngettext(
                "{verdict}, {count} kink (subgradient)",
                "{verdict}, {count} kinks (subgradient)",
                kinks,
            ).format(verdict=verdict, count=kinks)
        gradients = listed(names)
        if c.skipped:
            skipped = ", ".join(c.skipped)
            gradients = (
                _("{gradients}, ({skipped} not needed)").format(
                    gradients=gradients, skipped=skipped
                )
                if names
                else _("({skipped} not needed)").format(skipped=skipped)
            )
        _add(
            local,
            {
                "#": str(c.position),
                "layer": Prose(c.layer, style="bold"),
                "verdict": Prose(verdict, style="green" if c.ok else "bold red"),
                "gradients": gradients,
                BWD_WORST: short_number(worst) if c.gradients else "—",
                "its bound": short_number(tolerance) if c.gradients else "—",
            },
        )
    table = fit.fitted(parameters, _parameter_layouts())
    local_table = fit.fitted(local, _local_layouts())
    parts: list[RenderableType] = [header, table, local_table, legend]
    parts += [note(text, style="yellow") for text in report.notes]
    parts += _findings(report)
    count = len(report.parameters)
    elements = sum(math.prod(p.shape) for p in report.parameters)
    speed = _("{elements} parameters; {forwards} layer forwards in {seconds} s").format(
        elements=f"{elements:,}", forwards=f"{report.forwards:,}", seconds=f"{report.seconds:.2f}"
    )
    if report.ok:
        none = _("none")
        parts.append(
            Prose(
                _(
                    "✓ {agreement} ({speed}). Checked parameters: {parameters}; layers: {layers}."
                ).format(
                    agreement=_agreement(count, len(report.local)),
                    speed=speed,
                    parameters=listed(p.name for p in report.parameters) or none,
                    layers=listed(c.layer for c in report.local) or none,
                ),
                style="bold green",
            )
        )
    else:
        broken = listed(report.broken) or _("none locally")
        parts.append(
            Prose(
                _("✗ Broken: {layers} ({speed}).").format(layers=broken, speed=speed),
                style="bold red",
            )
        )
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
