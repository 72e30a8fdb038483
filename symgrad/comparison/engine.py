"""The three-way check of a catalog layer: NumPy backward, SymPy's derivative, and
numerical differences.

A catalog layer is checked by the same procedure as a user's own layer
(:func:`symgrad.checking.layer.run_check`), with its SymPy forward as the third column;
what is particular to the catalog is only how its inputs are drawn (seeded, in the
layer's domain, ``--at``) and the notes it can add about its own kinks and poles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard
from symgrad.checking.layer import run_check
from symgrad.checking.objects import Subject
from symgrad.comparison.shapes import array_shapes
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers import get_layer
from symgrad.layers.spec import Layer, sample, seeded_rng
from symgrad.numeric.methods import Method, get_method
from symgrad.render.numbers import point_text
from symgrad.reports import Comparison, GradientCheck


def seeded_arrays(
    layer: Layer, shapes: dict[str, tuple[int, ...]], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Random inputs and parameters in the layer's domain; labels as the layer says
    (one-hot rows, 0/1 per element, real targets)."""
    arrays = {}
    for name in (*layer.inputs, *layer.params):
        arrays[name] = sample(layer.domain, shapes[name], rng)
    for name in layer.labels:
        arrays[name] = layer.label_values.draw(shapes[name], rng)
    return arrays


def symbolic_gradients(
    layer: Layer, arrays: dict[str, np.ndarray], dout: np.ndarray, digits: int | None = None
) -> dict[str, np.ndarray]:
    """SymPy's gradients evaluated on the same numbers: in float64, or at ``digits``
    digits (object arrays of mpmath numbers)."""
    shapes = {name: array.shape for name, array in arrays.items()}
    return layer.form.gradient_function(shapes, digits)(arrays, dout)


def check_method(layer: Layer, method: str | Method) -> Method:
    """The method, if it can differentiate this layer; else one line why."""
    method = get_method(method)
    if method.kind == "complex-step" and layer.complex_step_refusal:
        raise SymgradError(layer.complex_step_refusal)
    return method


def fill(
    layer: Layer, arrays: dict[str, np.ndarray], at: Mapping[str, float] | None
) -> dict[str, np.ndarray]:
    """The arrays with each input ``at`` names (differentiated inputs only, never a
    parameter or label) filled with its value."""
    if not at:  # values come checked finite from symgrad.inputs.parse_at
        return arrays
    return {n: np.full_like(a, at[n]) if n in at else a for n, a in arrays.items()}


def straddling(layer: Layer, wrt: str, x: np.ndarray, check: GradientCheck) -> list[str]:
    """A note when a stencil reaches across 0, where the layer has a kink or a pole.

    Within about a step of a kink no finite difference can tell the kink from curvature,
    so a disagreement there says more about the step than about the backward.
    """
    offsets = get_method(check.model.method).offsets
    reach = check.model.step_max * max(map(abs, offsets), default=1)
    close = np.abs(np.asarray(x, dtype=np.float64)) < reach
    if not close.any():
        return []
    what = _("a kink") if not layer.smooth else _("a pole")
    return [
        _(
            "d{wrt}: at {count} point(s), e.g. {wrt} = {value}, the steps (up to {reach}) "
            "reach across 0, where {layer} has {what}: the numeric values there are "
            "unreliable; pass a smaller --step or a point farther from 0"
        ).format(
            wrt=wrt,
            count=int(close.sum()),
            value=f"{float(x[close].flat[0]):.3g}",
            reach=f"{reach:.2g}",
            layer=layer.name,
            what=what,
        )
    ]


EXACT_LIMIT = 100_000  # elements evaluated at 50 digits, at tens of microseconds each


def compare(
    name: str | Layer,
    shape: tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    batch: int = 2,
    method: str | Method = "central",
    step: float | None = None,
    at: Mapping[str, float] | None = None,
    exact: bool = False,
) -> Comparison:
    """Check a layer's NumPy backward against SymPy and numerical differences.

    Args:
        name: catalog name (case- and separator-insensitive), or a :class:`Layer`.
        shape: what ``--shape`` means for the layer (``symgrad list`` says).
        seed: seeds the inputs and the random upstream gradient ``dout``.
        dtype: ``float64`` or ``float32``: the dtype the NumPy layer computes in.
        batch: rows of X for ``affine``.
        method: the numeric method (``symgrad.numeric.methods.METHOD_NAMES``).
        step: a fixed step h (h₀ for richardson) instead of the automatic one.
        at: input name → the value that input is filled with (``{"x": 0}`` puts ReLU on
            its kink); other inputs, parameters and labels stay random.
        exact: also evaluate SymPy's gradient at 50 digits and count the backward's ulps.

    Returns:
        A :class:`~symgrad.reports.Comparison`; ``.ok`` is True when all three agree
        (at a kink: when the backward is a valid subgradient).
    """
    layer = get_layer(name) if isinstance(name, str) else name
    method = check_method(layer, method)
    shapes = array_shapes(layer, shape, batch)
    rng = seeded_rng(seed)
    drawn = fill(layer, seeded_arrays(layer, shapes, rng), at)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    if exact:
        size = sum(arrays[n].size for n in (*layer.inputs, *layer.params))
        if size > EXACT_LIMIT:
            raise SymgradError(
                _(
                    "--exact evaluates every element at 50 digits: at most {limit:,} "
                    "elements, these arrays have {size:,}"
                ).format(limit=EXACT_LIMIT, size=size)
            )
    instance = layer.numpy_class(*(arrays[p] for p in layer.params))
    with np.errstate(all="ignore"):  # a pole (1/x at 0) is reported below, in one line
        out = np.asarray(instance.forward(*(arrays[n] for n in (*layer.inputs, *layer.labels))))
    if not np.all(np.isfinite(out)):
        where = _(" at {point}").format(point=point_text(at)) if at else ""
        raise SymgradError(
            _("{name}'s forward is not finite{where} in {dtype}").format(
                name=layer.name, where=where, dtype=dtype
            )
        )
    # The catalog layer is checked like any user's layer, by the one procedure, with its
    # SymPy forward as the third column.
    names = (*layer.inputs, *layer.labels)
    subject = Subject(
        instance,
        [arrays[n] for n in names],
        constants=range(len(layer.inputs), len(names)),
        dtype=np.dtype(dtype),
        params=layer.params,
        names=names,
        guard=Guard(DEFAULT_TIMEOUT),
    )
    report = run_check(subject, method, seed, step, layer, exact=exact)
    comparison = report.comparison
    if comparison is None:  # no gradient could be compared: a catalog layer never does this
        raise SymgradError(
            _("{name} could not be checked: {problems}").format(
                name=layer.name, problems="; ".join(report.problems)
            )
        )
    notes = list(comparison.notes)
    for check in comparison.gradients:
        wrt = check.name[1:]
        if not check.ok and wrt in layer.inputs and layer.domain == "away_from_zero":
            notes += straddling(layer, wrt, arrays[wrt], check)
    return replace(
        comparison,
        layer=layer.name,
        shapes={**shapes, layer.form.output: out.shape},
        at=at,
        notes=tuple(notes),
        problems=report.problems,
    )
