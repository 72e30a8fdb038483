"""Rich terminal rendering of derivations and comparisons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from symgrad.i18n import N_, _, listed, ngettext
from symgrad.render import fit
from symgrad.render.console import console
from symgrad.render.numbers import point_text
from symgrad.render.prose import Prose, note
from symgrad.reports import (
    ChainRule,
    Comparison,
    Derivation,
    GradientCheck,
    GraphNode,
    SecondDerivation,
    StepCurve,
    StepSweep,
)

__all__ = ["comparison", "console", "derivation", "second_derivation", "step_sweep"]

ELEMENT_TABLE_LIMIT = 24  # tensors this small get an element-by-element table


def pretty(expr) -> str:
    """:func:`symgrad.render.mathtext.pretty`, imported on first use: a comparison table
    needs no SymPy, and importing it costs half a second."""
    from symgrad.render.mathtext import pretty as unicode_math

    return unicode_math(expr)


def partial(of: str, wrt: str) -> str:
    return f"∂{pretty(of)}/∂{pretty(wrt)}"


def whole_derivative(of: str, wrt: str) -> str:
    """The derivative through every path, where a local partial of the same names is shown
    beside it."""
    return f"d{pretty(of)}/d{pretty(wrt)}"


def derivative_label(node: GraphNode, key: str, matrix: bool) -> str:
    """∂out/∂in for a scalar node, d<in> for a matrix node; class nodes carry their own."""
    if key.startswith("∂"):
        from symgrad.render.mathtext import split_partial

        of, wrt, condition = split_partial(key)
        return partial(of, wrt) + (f" {condition}" if condition else "")
    return f"d{key}" if matrix else partial(node.output, key)


def _node_table(derivation: Derivation) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
        title=_("Computational graph, forward →"),
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column(_("node"), style="bold cyan")
    table.add_column(_("computes"))
    if derivation.matrix:
        table.add_column(_("shapes"), style="dim")
    table.add_column(_("backward rule") if derivation.matrix else _("local derivative"))
    for k, node in enumerate(derivation.nodes, start=1):
        rules = "\n".join(
            _edge_lines(node)
            if node.edges
            else [
                f"{derivative_label(node, key, derivation.matrix)} = {pretty(value)}"
                for key, value in node.local_derivatives.items()
            ]
        )
        row = [str(k), node.op, f"{pretty(node.output)} = {pretty(node.expression)}"]
        if derivation.matrix:
            row.append("\n".join(f"{name}: {shape}" for name, shape in node.shapes.items()))
        table.add_row(*map(Text, [*row, rules]))
    return table


def _edge_lines(node: GraphNode) -> list[str]:
    """A node one of whose inputs fills several positions (x·x): the operation on its
    positions, which input fills each, and each position's local derivative."""
    filled = ", ".join(f"{pretty(edge.stand_in)} = {pretty(edge.input)}" for edge in node.edges)
    lines = [
        _("{operation}, with {filled}:").format(
            operation=f"{pretty(node.output)} = {pretty(node.operation)}", filled=filled
        )
    ]
    for edge in node.edges:
        rule, local = pretty(edge.rule), pretty(edge.local)
        shown = rule if rule == local else f"{rule} = {local}"
        lines.append(f"{partial(node.output, edge.stand_in)} = {shown}")
    return lines


def _walk_lines(report: Derivation) -> list[str]:
    """The backward walk, edge by edge from the output: each node passes what reached it
    times its local derivative down to its input, where the contributions add."""
    of = report.output
    lines, reached = [f"{whole_derivative(of, of)} = 1"], {report.output}
    for step in report.edge_walk:
        sign = "+=" if step.input in reached else "="
        reached.add(step.input)
        lines.append(
            f"{whole_derivative(of, step.input)} {sign} {whole_derivative(of, step.node)} · "
            f"{partial(step.node, step.receiver)} = {whole_derivative(of, step.node)} · "
            f"{_factor(pretty(step.local))}"
        )
    return lines


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
    sums = chain.summed_over or ("",) * len(chain.paths)
    for k, (path, factors, over) in enumerate(zip(chain.paths, chain.factors, sums, strict=True)):
        total = f"Σ_{{{pretty(over).replace(' ', '')}}} " if over else ""
        hops = (partial(node, chain.receiver(k, hop)) for hop, node in enumerate(path))
        labels.append(total + " · ".join(hops))
        values.append(total + " · ".join(_factor(pretty(f)) for f in factors))
    head = (
        f"{whole_derivative(output, chain.wrt) if chain.total else partial(output, chain.wrt)} = "
    )
    pad = " " * len(head)
    if chain.unlisted:  # too many paths to list: their sum, by the backward walk below
        return [
            head
            + _("Σ over {count} paths, by the backward walk below").format(count=chain.path_count),
            pad + "= " + pretty(chain.product),
        ]
    if len(chain.paths) <= 1 and all(len(path) == 1 for path in chain.paths):
        return [head + pretty(chain.product)]  # one edge: nothing to chain
    lines = [head + " + ".join(labels)]
    if values != [pretty(chain.product)]:
        lines.append(pad + "= " + " + ".join(values))
    lines.append(pad + "= " + pretty(chain.product))
    return lines


def derivation(report: Derivation) -> RenderableType:
    """The note's derivation: forward, nodes with local derivatives, chain rule, result."""
    parts: list[RenderableType] = [
        Prose.assemble(
            (report.layer, "bold"), ": ", f"{pretty(report.output)} = ", pretty(report.forward)
        ),
    ]
    if report.shapes:
        shapes = ", ".join(f"{name} {shape}" for name, shape in report.shapes.items())
        parts.append(Prose(_("shapes: {shapes}").format(shapes=shapes), style="dim"))
    parts += [Prose(), _node_table(report)]
    if report.walk:
        parts += _gradient_walk_lines(report)
    else:
        parts.append(Prose(_("Chain rule, backward ←"), style="italic"))
    for chain in report.chains:
        of = chain.of or report.output
        parts += [Prose("  " + line) for line in _chain_lines(chain, of, report.matrix)]
    if any(chain.unlisted for chain in report.chains):
        parts.append(
            Prose(
                "  "
                + _(
                    "The backward walk, node by node from the output: each node sends what "
                    "reached it times its local derivative to its inputs, where the "
                    "contributions add."
                ),
                style="italic",
            )
        )
        parts += [Prose("    " + line) for line in _walk_lines(report)]
    whole = {chain.wrt for chain in report.chains if chain.total}
    if whole or any(chain.unlisted for chain in report.chains):
        parts.append(
            Prose(
                "  " + _("d: the derivative through every path; ∂: one node's local derivative."),
                style="dim",
            )
        )
    in_output = any(
        report.output in map(str, value.free_symbols) for value in report.derivatives.values()
    )
    if report.matrix or report.walk:
        title = _("Gradients (each has its variable's shape)")
    else:
        title = _("Derivative in terms of the output") if in_output else _("Derivative")
    parts += [Prose(), Prose(title, style="italic")]
    for name, value in report.derivatives.items():
        label = f"d{pretty(name)}" if report.matrix or report.walk else partial(report.output, name)
        if name in whole:
            label = whole_derivative(report.output, name)
        # An indexed layer's gradient is labelled with its element, dW[f, c, p, q].
        shape = f"   ({report.shapes.get(name.partition('[')[0], '')})" if report.matrix else ""
        parts.append(equation(label, pretty(value), shape))
    for extra in report.extra_derivatives:
        parts.append(
            equation(
                partial(report.output, extra.wrt),
                pretty(extra.value),
                # A sentence in parentheses: Chinese wants full-width ones.
                _("   ({condition})").format(condition=extra.condition),
                style="",
            )
        )
    if report.matrix and any("𝟙" in pretty(v) for v in report.derivatives.values()):
        parts.append(
            Prose(
                "  " + _("𝟙 is a column of ones: dYᵀ·𝟙 sums dY over the batch (Σₙ)."), style="dim"
            )
        )
    parts += [note(text, margin="  ") for text in report.notes]
    return Group(*parts)


def _gradient_walk_lines(report: Derivation) -> list[RenderableType]:
    """The backward walk: each gradient as the nodes that read its quantity send it, from
    the upstream gradient of the output."""
    upstream = pretty(f"d{report.output}")
    lines: list[RenderableType] = [
        Prose(
            _("Backward walk ←, from {upstream} = ∂L/∂{output}").format(
                upstream=upstream, output=pretty(report.output)
            ),
            style="italic",
        )
    ]
    lines += [equation(pretty(name), pretty(rule), style="") for name, rule in report.walk]
    return lines


def equation(label: str, value: str, after: str = "", style: str = "bold green") -> Prose:
    """``  label = value``, indented; a value too long for the line wraps under itself, not
    back at the margin."""
    line = Prose.assemble("  ", label, " = ", (value, style), after)
    line.hanging = cell_len(f"  {label} = ")
    return line


def _factor(text: str) -> str:
    """A factor of a product as the chain rule lines write it: a sum or a negative in
    parentheses, (1 − 2y) · y(1 − y), (−2y) · (1 − y²)."""
    bare = text.startswith("−") or (" " in text and not text.endswith(")"))
    return f"({text})" if bare else text


def second_partial(of: str, a: str, b: str) -> str:
    """∂²y/∂x², or ∂²z/∂x∂y for a mixed one."""
    wrt = f"∂{pretty(a)}²" if a == b else f"∂{pretty(a)}∂{pretty(b)}"
    return f"∂²{pretty(of)}/{wrt}"


def second_derivation(report: SecondDerivation) -> RenderableType:
    """``derive --order 2``: the first derivatives, then the second, through the output
    where the first is written in it (the chain rule once more), else the Hessian."""
    y = report.output
    parts: list[RenderableType] = [
        Prose.assemble((report.layer, "bold"), ": ", f"{pretty(y)} = ", pretty(report.forward)),
        Prose(),
        Prose(
            _("First derivative") if len(report.inputs) == 1 else _("First derivatives"),
            style="italic",
        ),
    ]
    if report.products:  # a matrix layer: the backward, then H·v, at matrix level
        return Group(*parts, *_matrix_products(report))
    for name, value in report.first.items():
        parts.append(equation(partial(y, name), pretty(value), style=""))
    parts.append(Prose())
    if report.through_output is not None:
        (x,) = report.inputs
        g, slope = report.through_output
        head = f"{second_partial(y, x, x)} = "
        pad = " " * (len(head) - 2) + "= "
        factor, first = (_factor(pretty(value)) for value in (slope, g))
        parts += [
            Prose(
                _("Second derivative: the chain rule once more, through {y}").format(y=pretty(y)),
                style="italic",
            ),
            Prose(f"  {head}d({pretty(g)})/d{pretty(y)} · {partial(y, x)}"),
            Prose(f"  {pad}{factor} · {first}"),
            Prose.assemble("  ", pad, (pretty(report.second[x, x]), "bold green")),
            Prose(
                "  " + _("in {x}, as SymPy derives it (proved equal):").format(x=pretty(x)),
                style="dim",
            ),
            Prose(f"    {pretty(report.in_inputs[x, x])}", style="dim"),
        ]
    else:
        title = (
            _("Second derivative")
            if len(report.second) == 1
            else _("Second derivatives (the Hessian; ∂²/∂a∂b = ∂²/∂b∂a)")
        )
        parts.append(Prose(title, style="italic"))
        for (a, b), value in report.second.items():
            # A row's entries: xᵢ beside any other xₖ of the row.
            other = "   (k ≠ i)" if a != b and report.hvp is not None else ""
            parts.append(equation(second_partial(y, a, b), pretty(value), other))
    if report.hvp is not None:
        parts += [
            Prose(),
            Prose(_("Hessian-vector product, per row"), style="italic"),
            equation("(H·v)ᵢ", pretty(report.hvp)),
        ]
    parts += [note(text, margin="  ") for text in report.notes]
    for where in report.kinks:
        parts.append(
            Prose(
                "  "
                + _("not defined where {where}: the forward's pieces meet there").format(
                    where=f"{pretty(where.lhs)} = {pretty(where.rhs)}"
                ),
                style="dim",
            )
        )
    return Group(*parts)


def _matrix_products(report: SecondDerivation) -> list[RenderableType]:
    """A matrix layer at order 2: each input's gradient (the backward), then each input's
    part of the Hessian-vector product, every matrix with its shape."""
    shapes = report.shapes
    y = report.output
    parts: list[RenderableType] = []
    for name, value in report.first.items():
        parts.append(
            equation(
                f"d{name} = ∂⟨d{y}, {y}⟩/∂{name}", pretty(value), f"   ({shapes[name]})", style=""
            )
        )
    directions = ", ".join(f"v{name} ({shapes[f'v{name}']})" for name in report.inputs)
    parts += [
        Prose(),
        Prose(
            _("Hessian-vector product of ⟨d{y}, {y}⟩ along v = ({directions})").format(
                y=y, directions=directions
            ),
            style="italic",
        ),
    ]
    for name, value in report.products.items():
        parts.append(equation(f"(H·v)_{name}", pretty(value), f"   ({shapes[name]})"))
    parts += [note(text, margin="  ") for text in report.notes]
    return parts


def catalog(rows: list[dict[str, str]]) -> RenderableType:
    """``symgrad list``: the layers in teaching order, in groups that read ``--shape`` the
    same way (the elementwise layers, affine, the row-wise ones …), each group a table of
    name, forward and derivative as wide as the screen, so that the formulas get the width
    and the groups' columns line up under one header."""
    groups: list[tuple[str, list[dict[str, str]]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row["shape"]:
            groups.append((row["shape"], []))
        groups[-1][1].append(row)
    parts: list[RenderableType] = []
    for shape, members in groups:
        table = Table(
            show_header=not parts,  # the columns line up: one header says them all
            title=_("--shape means {shape}").format(shape=shape),
            title_justify="left",
            title_style="italic",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            expand=True,  # every group as wide as the screen: their columns line up
        )
        table.add_column(_("layer"), style="bold cyan", no_wrap=True, min_width=17)
        # A formula may hold a term wider than its column (gelu's at 80 columns): folded
        # onto the next line, never cut short.
        table.add_column(_("forward"), overflow="fold", ratio=1)
        table.add_column(_("derivative"), overflow="fold", ratio=1)
        for row in members:
            # Text, not markup: an indexed formula's x[n, c, h, w] is no style tag.
            table.add_row(*map(Text, (row["layer"], row["forward"], row["derivative"])))
        parts.append(table)
    return Group(*parts)


def shape_text(shape: Iterable[int]) -> str:
    shape = tuple(shape)
    return "×".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]}," if shape else _("scalar")


def short_number(value: float) -> str:
    return f"{value:.1e}"


def short_value(value: float) -> str:
    return f"{value + 0.0:.6g}"  # + 0.0: a sign on zero means nothing to a reader here


def index_text(index: tuple[int, ...]) -> str:
    return str(index) if index else "()"


# Column titles. "bwd", never "b": affine has a bias b, and db sits beside the column.
BWD, NUM, SYM = "bwd", "num", "sym"
BWD_NUM, BWD_SYM = f"|{BWD}−{NUM}|", f"|{BWD}−{SYM}|"
# At order 2 the first column is SymPy's H·v, held to the numeric derivative of the NumPy
# backward and the forward's second differences (symgrad.comparison.second): the columns
# say so.
FWD = "fwd"
SECOND_ORDER_TITLES = {
    BWD: SYM,
    SYM: FWD,
    BWD_NUM: f"|{SYM}−{NUM}|",
    BWD_SYM: f"|{SYM}−{FWD}|",
}


def _title(name: str, order: int) -> str:
    return SECOND_ORDER_TITLES.get(name, name) if order == 2 else name


def _summary_layouts() -> tuple[fit.Layout, ...]:
    return (
        (
            (
                None,
                ("gradient", "shape", "verdict", "worst at", BWD, NUM, BWD_NUM, "bound", BWD_SYM),
            ),
        ),
        (
            (None, ("gradient", "shape", "verdict", "worst at", BWD_NUM, "bound", BWD_SYM)),
            (_("At each worst element:"), ("gradient", "worst at", BWD, NUM)),
        ),
    )


def comparison(report: Comparison, explain: bool = False, elements: bool = False) -> RenderableType:
    """The verdict per gradient at its worst element (the largest difference over its
    own bound) and what its symbols mean; with ``explain``, the error model behind each
    bound; kinks and precision when there are any; element tables for small tensors, or
    for every tensor with ``elements``."""
    arrays = [f"{name} ({shape_text(shape)})" for name, shape in report.shapes.items()]
    where = "" if not report.at else _(", at {point}").format(point=point_text(report.at))
    header = Prose.assemble(
        (report.layer, "bold"),
        f": {', '.join(arrays[:-1])} → {arrays[-1]}   ",
        (
            (
                _("{dtype}, seed {seed}, random dout and direction v")
                if report.order == 2
                else _("{dtype}, seed {seed}, random dout")
            ).format(dtype=report.dtype, seed=report.seed)
            + where,
            "dim",
        ),
    )
    # A user's layer without a SymPy forward (symgrad.checking) has no symbolic column.
    symbolic = all(check.symbolic is not None for check in report.gradients)
    parts: list[RenderableType] = [header, Prose(), _summary(report, symbolic)]
    if report.order == 2:
        legend = _(
            "Order 2: sym = SymPy's Hessian-vector product H·v of ⟨dout, output⟩ (dout·f″(x)·v "
            "for an elementwise f), num = the numeric derivative along x of ⟨v, the NumPy "
            "backward(dout)⟩ ({method} "
            "differences). Every element is held to its own bound on |sym−num|; a row "
            "shows the worst element, the largest |sym−num| / bound"
        ).format(method=report.method)
        if symbolic:
            legend += _(
                "; fwd = the same H·v from second differences of the NumPy forward alone "
                "(step ε^(1/4)·max(1,|x|)), each element within its own bound of sym and num "
                "(2 × its truncation measured at 2h, plus rounding ∝ ε/h²), and |sym−fwd| is "
                "the largest over all elements"
            )
    else:
        legend = _("bwd = the layer's backward (NumPy), ") + (
            _("sym = SymPy's derivative, ") if symbolic else _("no symbolic forward given, ")
        )
        legend += _(
            "num = numeric ({method} differences). Every element is held to its own bound "
            "on |bwd−num|; a row shows its gradient's worst element, the largest |bwd−num| "
            "/ bound"
        ).format(method=report.method)
        if symbolic:
            legend += _(", and |bwd−sym| is the largest over all elements")
    legend += _(". --explain shows how each bound is made.") if not explain else _(".")
    parts += [Prose(), Prose(legend, style="dim")]
    models = [check for check in report.gradients if check.model is not None]
    if explain:
        parts.append(Prose(f"{NUM}: {report.step}", style="dim"))
        if models:
            legend = MODEL_LEGEND.get(models[0].model.method, STENCIL_LEGEND)
            parts.append(Prose(_(legend) + "\n" + _(SYMBOLS_LEGEND), style="dim"))
            parts += [_model_line(check) for check in models]
        if report.order == 2 and symbolic:
            parts += [_forward_line(check) for check in report.gradients]
    for check in report.gradients:
        if check.kinks is not None:
            parts += [Prose(), _kink_lines(check)]
    precise = [check for check in report.gradients if check.precision is not None]
    if precise:
        parts += [Prose(), _precision_lines(precise)]
    if report.notes:
        parts.append(Prose())
    parts += [note(text, style="yellow") for text in report.notes]
    shown = [c for c in report.gradients if 0 < c.backward.size <= ELEMENT_TABLE_LIMIT or elements]
    for check in shown:
        given = report.given if report.order == 1 else {}
        parts += [Prose(), _element_table(check, report.order, given)]
    if any(_marked(check) for check in shown):
        parts.append(
            Prose(
                _(
                    "✗ marks an element outside its bound; ? one whose numeric value is too "
                    "uncertain to judge it."
                ),
                style="dim",
            )
        )
    hidden = [c for c in report.gradients if c not in shown and c.backward.size]
    if hidden:
        sizes = ", ".join(
            _("{name} has {size:,}").format(name=c.name, size=c.backward.size) for c in hidden
        )
        shown_up_to = _(
            "Element tables are shown for gradients of up to {limit} elements ({sizes}); "
            "--elements shows every element."
        )
        parts.append(Prose(shown_up_to.format(limit=ELEMENT_TABLE_LIMIT, sizes=sizes), "dim"))
    parts += [Prose(), _conclusion(report)]
    return Group(*parts)


def _summary(report: Comparison, symbolic: bool) -> fit.FirstFit:
    """One row per gradient; the widest layout that fits, else one sentence each."""
    columns = {
        "gradient": fit.Column(_("gradient"), justify="left"),
        "shape": fit.Column(_("shape")),
        "verdict": fit.Column(_("verdict"), justify="left", wrap=True),
        "worst at": fit.Column(_("worst at")),
        BWD: fit.Column(_title(BWD, report.order)),
        NUM: fit.Column(NUM),
        BWD_NUM: fit.Column(_title(BWD_NUM, report.order)),
        "bound": fit.Column(_("bound")),
        BWD_SYM: fit.Column(_title(BWD_SYM, report.order)),
    }
    sentences = []
    for check in report.gradients:
        worst = check.worst["backward_vs_numeric"]
        beside = check.max_difference.get("backward_vs_symbolic")
        cells = {
            "gradient": Prose(check.name, style="bold"),
            "shape": shape_text(check.shape),
            "verdict": _verdict(check, report.waived.get(check.name)),
            "worst at": index_text(worst.index),
            BWD: short_value(worst.first),
            NUM: short_value(worst.second),
            BWD_NUM: short_number(worst.difference),
            "bound": short_number(worst.bound),
            BWD_SYM: "" if beside is None else short_number(beside),
        }
        for name, cell in cells.items():
            columns[name].cells.append(cell)
        sentences.append(
            Prose.assemble(
                (check.name, "bold"),
                f" ({cells['shape']})  ",
                cells["verdict"],
                _("; worst at {index}: {bwd} {b}, {num} {n}, {diff} {d}, bound {bound}").format(
                    index=cells["worst at"],
                    bwd=_title(BWD, report.order),
                    b=cells[BWD],
                    num=NUM,
                    n=cells[NUM],
                    diff=_title(BWD_NUM, report.order),
                    d=cells[BWD_NUM],
                    bound=cells["bound"],
                )
                + (
                    _("; largest {diff} {d}").format(
                        diff=_title(BWD_SYM, report.order), d=cells[BWD_SYM]
                    )
                    if symbolic
                    else ""
                ),
            )
        )
    if not symbolic:
        del columns[BWD_SYM]
    return fit.fitted(columns, _summary_layouts(), last=Group(*sentences))


def _verdict(check: GradientCheck, waived: str | None = None) -> Text:
    if not check.ok and waived:
        return Prose(_("⚠ = formula"), style="yellow")
    if not check.ok:
        wrong = _("✗ {wrong} of {size} wrong").format(wrong=check.wrong, size=check.backward.size)
        return Prose(wrong, style="bold red")
    if check.unreliable_count:
        return Prose(_("✓ agree, {count} unsure").format(count=check.unreliable_count), "yellow")
    if check.kinks is not None:
        kinks = ngettext("✓ agree, {count} kink", "✓ agree, {count} kinks", check.kinks.count)
        return Prose(kinks.format(count=check.kinks.count), "green")
    return Prose(_("✓ agree"), style="green")


MODEL_LEGEND = {
    "complex-step": N_(
        "bound = rounding 4ε·(|n| + |f|/max(1,|x|)), nothing cancels (the h² truncation is ~ε² "
        "and not modelled) + the backward's own 64ε·scale, at the worst element:"
    ),
    "richardson": N_(
        "bound = 2 × Richardson's error estimate + rounding 4ε·|f|/h at the step kept + the "
        "backward's own 64ε·scale, at the worst element:"
    ),
}
STENCIL_LEGEND = N_(
    "bound = 2 × truncation (from the same method at 2h) + rounding R·4ε·|f|/h + the "
    "backward's own 64ε·scale, at the worst element:"
)
SYMBOLS_LEGEND = N_(
    "ε = the dtype's rounding unit (float64 2.2e-16, float32 1.2e-7), h = the step, "
    "R = Σ|weights| of the difference stencil, |f| = the size of the dout-weighted outputs "
    "the step changes, scale = the larger of the element's largest |value| and what it is "
    "computed from."
)


def _forward_line(check: GradientCheck) -> Text:
    """At order 2: the forward's second differences at their worst element against sym,
    and the bound that element had (its own error plus sym's allowance)."""
    worst = check.worst["backward_vs_symbolic"]
    return Prose(
        _(
            "  {name}{index}: |sym−fwd| = {difference}, bound {bound} (fwd's 2 × truncation "
            "+ rounding, + sym's 64ε·scale)"
        ).format(
            name=check.name,
            index=index_text(worst.index),
            difference=short_number(worst.difference),
            bound=short_number(worst.bound),
        ),
        style="dim",
    )


def _model_line(check: GradientCheck) -> Text:
    """The worst element's bound, term by term: truncation, rounding, the backward's own."""
    model = check.model
    steps = (
        f"h = {model.step_min:.2g}"
        if model.step_max <= 1.01 * model.step_min
        else _("h from {low} to {high}").format(
            low=f"{model.step_min:.2g}", high=f"{model.step_max:.2g}"
        )
    )
    truncation = "" if model.method == "complex-step" else f"2×{short_number(model.truncation)} + "
    line = (
        f"  {check.name}{index_text(model.index)}: {truncation}{short_number(model.rounding)} + "
        f"{short_number(model.exact)} = {short_number(check.tolerance['backward_vs_numeric'])}"
    )
    if model.float64_tolerance:
        steps = _("{steps}; the same check in float64: {bound}").format(
            steps=steps, bound=short_number(model.float64_tolerance)
        )
    return Prose(line + _("   ({steps})").format(steps=steps), style="dim")


def _kink_lines(check: GradientCheck) -> Text:
    kinks = check.kinks
    points = np.unique(kinks.inputs[kinks.mask])
    at = ", ".join(f"{v:g}" for v in points[:4]) + (", …" if len(points) > 4 else "")
    first = tuple(int(i) for i in np.argwhere(kinks.mask)[0])
    text = Prose.assemble(
        (_("Kinks: "), "bold"),
        _(
            "{name} is not differentiable at (or within h = {step} of) {count} of {size} "
            "point(s) (input = {at}): the left and right one-sided derivatives of ⟨dout, "
            "output⟩ differ, e.g. {left} and {right} at {index}, so the central difference "
            "(their average) is no derivative there. "
        ).format(
            name=check.name,
            step=f"{kinks.step:.1g}",
            count=kinks.count,
            size=check.backward.size,
            at=at,
            left=f"{kinks.left[first] + 0.0:.6g}",
            right=f"{kinks.right[first] + 0.0:.6g}",
            index=first or "()",
        ),
    )
    if kinks.subgradient:
        text.append(
            _("The backward lies between them at every kink: a valid subgradient."),
            style="green",
        )
    else:
        text.append(_("The backward lies outside them: not a subgradient."), style="bold red")
    return text


def _precision_lines(checks: list[GradientCheck]) -> Group:
    lines = [
        Prose(
            _("Against SymPy at {digits} digits (the true value):").format(
                digits=checks[0].precision.digits
            )
        )
    ]
    for check in checks:
        p = check.precision
        verdict = ""
        if check.ok and p.backward_ulps > 16:
            verdict = _("  (the formula is right; it loses precision in a cancellation)")
        line = _(
            "  {name}: backward within {ulps} ulp ({dtype}), worst at {index}; SymPy's float64 "
            "column within {symbolic} ulp; largest relative error {relative}{verdict}"
        ).format(
            name=check.name,
            ulps=f"{p.backward_ulps:.3g}",
            dtype=p.dtype,
            index=p.worst_index or "()",
            symbolic=f"{p.symbolic_ulps:.3g}",
            relative=f"{p.relative:.1e}",
            verdict=verdict,
        )
        lines.append(Prose(line))
    return Group(*lines)


def _conclusion(report: Comparison) -> Text:
    bad = [c.name for c in report.gradients if not c.ok and c.name not in report.waived]
    if report.waived and not bad and not report.problems:
        accepted = _("; ").join(
            _("{name} is {why}").format(name=name, why=why) for name, why in report.waived.items()
        )
        return Prose(
            _(
                "⚠ {accepted}, and differs from the numeric derivative of this forward only "
                "because the forward differs slightly from the formula (see the warning)."
            ).format(accepted=accepted),
            style="yellow",
        )
    if bad or report.problems:
        lines = [f"✗ {problem}" for problem in report.problems]
        if bad:
            lines.append(
                _("Disagreement in {names}: see the rows marked ✗ above.").format(
                    names=", ".join(bad)
                )
            )
        return Prose("\n".join(lines), style="bold red")
    count = len(report.gradients)
    kinks = sum(c.kinks.count for c in report.gradients if c.kinks is not None)
    three = all(c.symbolic is not None for c in report.gradients)
    if report.order == 2:
        text = (
            _(
                "The second derivative agrees three ways: SymPy's H·v = the NumPy backward's, "
                "numerically = the NumPy forward's second differences"
            )
            if three
            else _("The second derivative agrees: SymPy's H·v = the NumPy backward's, numerically")
        )
    elif count > 1:
        text = (
            _("All {count} gradients agree: backward = symbolic = numeric")
            if three
            else _("All {count} gradients agree: backward = numeric")
        ).format(count=count)
    else:
        text = (
            _("The gradient agrees: backward = symbolic = numeric")
            if three
            else _("The gradient agrees: backward = numeric")
        )
    if kinks:
        text += _(" where differentiable, and a valid subgradient at the {kinks} kink(s)").format(
            kinks=kinks
        )
    checked = listed(
        _("{name} ({count})").format(name=c.name, count=c.backward.size) for c in report.gradients
    )
    text += _(". Checked every element of {checked}.").format(checked=checked)
    unsure = sum(c.unreliable_count for c in report.gradients)
    if unsure:
        return Prose.assemble(
            (text, "bold green"),
            (
                "\n"
                + _(
                    "{count} element(s) could not be judged: their numeric value's error bound "
                    "exceeds 5% of their size (a stencil reaching across a kink or a pole); "
                    "marked ? in the element tables. Pass a smaller --step to judge them."
                ).format(count=unsure),
                "yellow",
            ),
        )
    return Prose(text, style="bold green")


def _marked(check: GradientCheck) -> bool:
    return bool(
        (check.disagreeing is not None and check.disagreeing.any())
        or (check.unreliable is not None and check.unreliable.any())
    )


GIVEN = ("given 1", "given 2", "given 3")  # the arrays each element is computed from


def _element_layouts() -> tuple[fit.Layout, ...]:
    kinks = _("One-sided derivatives at the kinks (the backward must lie between):")
    return (
        ((None, ("index", *GIVEN, BWD, SYM, NUM, BWD_NUM, "bound", "mark", "left", "right")),),
        (
            (None, ("index", *GIVEN, BWD, SYM, NUM, BWD_NUM, "bound", "mark")),
            (kinks, ("index", "left", "right")),
        ),
        (
            (None, ("index", *GIVEN, BWD, "mark")),
            (None, ("index", SYM, NUM, BWD_NUM, "bound")),
            (kinks, ("index", "left", "right")),
        ),
        ((None, ("index", BWD, SYM, NUM, BWD_NUM, "bound", "mark", "left", "right")),),
        (
            (None, ("index", BWD, SYM, NUM, BWD_NUM, "bound", "mark")),
            (kinks, ("index", "left", "right")),
        ),
        (
            (None, ("index", BWD, NUM, BWD_NUM, "bound", "mark")),
            (None, ("index", SYM)),
            (kinks, ("index", "left", "right")),
        ),
        (
            (None, ("index", BWD, NUM, "mark")),
            (None, ("index", BWD_NUM, "bound")),
            (None, ("index", SYM)),
            (kinks, ("index", "left", "right")),
        ),
    )


def _element_table(
    check: GradientCheck, order: int = 1, given: dict[str, np.ndarray] | None = None
) -> RenderableType:
    """Every element: what it is computed from (``given``: the inputs and dout where they
    have the gradient's shape, when the width allows), backward, symbolic, numeric, their
    difference and its bound, and the one-sided derivatives where there are kinks."""
    kinks = check.kinks
    shown_given = {
        key: (name, values)
        for key, (name, values) in zip(
            GIVEN,
            [(n, v) for n, v in (given or {}).items() if v.shape == check.backward.shape],
            strict=False,
        )
    }
    names = ["index", BWD, SYM, NUM, BWD_NUM, "bound", "mark", "left", "right"]
    if check.symbolic is None:
        names.remove(SYM)
    if kinks is None:
        names = names[:-2]
    if not _marked(check):
        names.remove("mark")
    titles = {"index": _("index"), "bound": _("bound"), "left": _("left"), "right": _("right")}
    columns = {
        name: fit.Column("" if name == "mark" else titles.get(name, _title(name, order)))
        for name in names
    }
    for key, (name, values) in shown_given.items():
        columns[key] = fit.Column(
            name, [short_value(float(values[i])) for i in np.ndindex(values.shape)]
        )
    for index in np.ndindex(check.backward.shape):
        b, n = check.backward[index], check.numeric[index]
        # + 0.0 turns −0.0 into 0.0: a sign on zero means nothing to a reader here.
        row: dict[str, RenderableType] = {"index": index_text(index), BWD: f"{b + 0.0: .10f}"}
        if check.symbolic is not None:
            row[SYM] = f"{check.symbolic[index] + 0.0: .10f}"
        row["bound"] = short_number(float(check.bound[index])) if check.bound is not None else ""
        row["mark"] = Prose("")
        if check.disagreeing is not None and check.disagreeing[index]:
            row["mark"] = Prose("✗", style="bold red")
        elif check.unreliable is not None and check.unreliable[index]:
            row["mark"] = Prose("?", style="yellow")
        if kinks is not None and kinks.mask[index]:
            row[NUM] = Prose(f"{n + 0.0: .10f}", style="dim")
            row[BWD_NUM] = Prose(_("kink"), style="yellow")
            row["left"] = f"{kinks.left[index] + 0.0: .10f}"
            row["right"] = f"{kinks.right[index] + 0.0: .10f}"
        else:
            row[NUM] = f"{n + 0.0: .10f}"
            row[BWD_NUM] = short_number(abs(b - n))
            row["left"] = row["right"] = ""
        for name in names:
            columns[name].cells.append(row[name])
    return Group(
        Prose(_("{name}, element by element").format(name=check.name), style="italic"),
        fit.fitted(columns, _element_layouts()),
    )


BAR_FLOOR = -17  # log10 of the smallest error a bar shows; 1 (10⁰) fills it
BAR_STYLE = {
    "truncation": ("█", "yellow"),
    "rounding": ("▒", "magenta"),
    "best": ("█", "green"),
    "kink": ("░", "dim"),
}


def _bar(error: float | None, region: str, width: int) -> Text:
    if error is None:
        return Prose("x + h = x".ljust(width + 9), style="dim")
    size = 0 if error <= 0 else np.log10(error) - BAR_FLOOR
    cells = round(min(max(size, 0), -BAR_FLOOR) / -BAR_FLOOR * width)
    char, style = BAR_STYLE[region]
    text = Prose(f"{error:.1e} " if error > 0 else "0       ")
    text.append(char * cells, style=style)
    text.append(" " * (width - cells))
    text.append(" ◀" if region == "best" else "  ", style="bold green")
    return text


def _sweep_table(report: StepSweep, curves: Sequence[StepCurve], width: int) -> Table:
    """|error| per step for ``curves``, each cell a log-scale bar ``width`` cells long."""
    table = fit.table()
    table.add_column("h", justify="right", no_wrap=True)
    for curve in curves:
        table.add_column(curve.method, no_wrap=True)
    steps = report.curves[0].steps if report.curves else ()
    for k, h in enumerate(steps):
        table.add_row(f"{h:.0e}", *(_bar(c.errors[k], c.regions[k], width) for c in curves))
    return table


def _sweep(report: StepSweep) -> fit.FirstFit:
    """The sweep's table as wide as fits: long bars, shorter bars, then the methods over
    two tables."""
    curves = report.curves
    half = (len(curves) + 1) // 2
    groups = [[curves]] + ([[curves[:half], curves[half:]]] if len(curves) > 1 else [])
    widths = (max(8, 40 // max(1, len(curves))), 6, 4)
    layouts = [
        fit.spaced([_sweep_table(report, group, width) for group in tables])
        for tables in groups
        for width in widths
    ]
    title = Prose(_("|error| against the exact value, by step h (bars on a log scale):"))
    return fit.FirstFit(*(Group(title, layout) for layout in layouts))


def step_sweep(report: StepSweep) -> RenderableType:
    """Error versus step, one column per method, with a log-scale bar in each cell."""
    methods = [curve.method for curve in report.curves]
    dtype = report.dtype
    if "richardson" in methods:
        dtype = _("{dtype}; richardson's h is its starting step h₀").format(dtype=dtype)
    header = Prose.assemble(
        (report.layer, "bold"),
        _(": {quantity} at {point}   ").format(
            quantity=report.quantity, point=point_text(report.at)
        ),
        (dtype, "dim"),
    )
    exact = Prose(_("exact (SymPy, 50 digits): {value}").format(value=report.exact), style="dim")
    parts: list[RenderableType] = [header, exact, _sweep(report)]
    legend = Prose.assemble(
        ("█", "yellow"),
        " " + _("truncation-dominated (falls as h shrinks)") + "\n",
        ("▒", "magenta"),
        " " + _("rounding-dominated (grows, or stays flat, as h shrinks)") + "\n",
        ("◀", "bold green"),
        " " + _("best step"),
    )
    if report.notes and any("kink" in c.regions for c in report.curves):
        legend.append("\n░ " + _("no derivative here: no step helps"), style="dim")
    parts.append(legend)
    for curve in report.curves:
        if "kink" in curve.regions:
            continue  # no step is best where there is no derivative; the note says why
        parts.append(
            Prose(
                _(
                    "  {method}: best h = {best} (error {error}); symgrad's automatic h = "
                    "{automatic} gives {automatic_error}"
                ).format(
                    method=curve.method,
                    best=f"{curve.best_step:.0e}",
                    error=f"{curve.best_error:.1e}",
                    automatic=f"{curve.automatic:.2g}",
                    automatic_error=f"{curve.automatic_error:.1e}",
                )
            )
        )
    parts += [note(why, style="yellow") for why in report.skipped.values()]
    parts += [note(text, style="yellow") for text in report.notes]
    return Group(*parts)
