"""The three-way check: NumPy backward, SymPy's derivative, and numerical differences."""

from __future__ import annotations

import math

import numpy as np

from symgrad.comparison.harness import BookLayer
from symgrad.comparison.shapes import array_shapes
from symgrad.comparison.tolerance import (
    TRUNCATION_MARGIN,
    float64_equivalent,
    looseness,
    pair_tolerances,
)
from symgrad.errors import SymgradError
from symgrad.inputs import parse_shape
from symgrad.layers import get_layer
from symgrad.layers.spec import Layer, random_labels, sample, seeded_rng
from symgrad.numeric.differences import NumericGradient
from symgrad.numeric.kinks import OneSided, no_kinks, one_sided
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.steps import describe_step
from symgrad.numeric.structure import catalog_grouping, grouped_gradient
from symgrad.reports import PAIRS, Comparison, GradientCheck, Kinks, Precision, ToleranceModel


def book_layer(layer: Layer) -> BookLayer:
    return BookLayer(layer.numpy_class, layer.inputs, layer.params, layer.labels)


def seeded_arrays(
    layer: Layer, shapes: dict[str, tuple[int, ...]], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Random inputs and parameters in the layer's domain; one-hot labels."""
    arrays = {}
    for name in (*layer.inputs, *layer.params):
        arrays[name] = sample(layer.domain, shapes[name], rng)
    for name in layer.labels:
        arrays[name] = random_labels(shapes[name], rng)
    return arrays


def symbolic_gradients(
    layer: Layer, arrays: dict[str, np.ndarray], dout: np.ndarray, digits: int | None = None
) -> dict[str, np.ndarray]:
    """SymPy's gradients evaluated on the same numbers: in float64, or at ``digits``
    digits (object arrays of mpmath numbers)."""
    form = layer.form
    if layer.shape_kind == "elementwise":
        function = form.gradient_function(digits=digits)
    elif layer.shape_kind == "affine":
        function = form.gradient_function({n: a.shape for n, a in arrays.items()}, digits=digits)
    else:
        function = form.gradient_function(arrays["x"].shape[-1], digits=digits)
    return function(arrays, dout)


def check_method(layer: Layer, method: str | Method, step: float | None = None) -> Method:
    """The method, if it can differentiate this layer with this step; else one line why."""
    method = get_method(method)
    if method.kind == "complex-step" and layer.complex_step_refusal:
        raise SymgradError(layer.complex_step_refusal)
    return method


def fill(layer: Layer, arrays: dict[str, np.ndarray], at: float | None) -> dict[str, np.ndarray]:
    """The arrays with every differentiated input (not parameter or label) set to ``at``."""
    if at is None:
        return arrays
    if not math.isfinite(at):
        raise SymgradError(f"--at must be a finite number, got {at}")
    return {n: np.full_like(a, at) if n in layer.inputs else a for n, a in arrays.items()}


def _kinks(sides: OneSided, inputs: np.ndarray, backward: np.ndarray, tolerance: float) -> Kinks:
    outside = sides.outside(backward)[sides.kink]
    return Kinks(
        mask=sides.kink,
        left=sides.left,
        right=sides.right,
        inputs=np.asarray(inputs, dtype=np.float64),
        subgradient=bool(np.all(outside <= tolerance)),
        step=float(np.max(sides.step[sides.kink], initial=0.0)),
    )


def _precision(
    backward: np.ndarray, symbolic: np.ndarray, truth: np.ndarray, dtype: str
) -> Precision:
    from symgrad.symbolic.precision import TRUTH_DIGITS, to_float, ulps

    backward_ulps = ulps(backward, truth, dtype)
    exact = to_float(truth)
    largest = float(np.max(np.abs(exact), initial=0.0))
    worst = np.unravel_index(int(np.argmax(backward_ulps)), backward_ulps.shape)
    return Precision(
        digits=TRUTH_DIGITS,
        dtype=dtype,
        backward_ulps=float(np.max(backward_ulps, initial=0.0)),
        worst_index=tuple(int(i) for i in worst),
        symbolic_ulps=float(np.max(ulps(symbolic, truth, np.float64), initial=0.0)),
        relative=float(np.max(np.abs(backward - exact), initial=0.0)) / largest if largest else 0.0,
    )


def check_gradient(
    name: str,
    backward: np.ndarray,
    symbolic: np.ndarray,
    numeric: NumericGradient,
    sides: OneSided,
    inputs: np.ndarray,
    fixed_step: bool = False,
    truth: np.ndarray | None = None,
) -> GradientCheck:
    """Max absolute differences per pair, against tolerances from the method's error model.

    At kinks (sides.kink) the pairs with numeric measure how far backward or symbolic lie
    outside the interval of the one-sided derivatives, instead of their distance from the
    central average, which is no derivative at all.
    """
    values = {
        "backward": np.asarray(backward, dtype=np.float64),
        "symbolic": np.asarray(symbolic, dtype=np.float64),
        "numeric": numeric.values,
    }
    finite = all(np.all(np.isfinite(v)) for v in values.values())
    largest = max(float(np.max(np.abs(v), initial=0.0)) for v in values.values())
    smooth = ~sides.kink
    tolerance = pair_tolerances(numeric, largest, smooth)
    errors = {}
    for pair in PAIRS:
        first, _, second = pair.split("_")
        difference = np.abs(values[first] - values[second])
        if second == "numeric":
            difference = np.where(smooth, difference, sides.outside(values[first]))
        errors[pair] = float(np.max(difference, initial=0.0))
    if not finite:
        errors = {pair: float("inf") for pair in PAIRS}
    model = ToleranceModel(
        method=numeric.method.name,
        step_min=float(np.min(numeric.step, initial=np.inf)),
        step_max=float(np.max(numeric.step, initial=0.0)),
        truncation=float(np.max(numeric.truncation[smooth], initial=0.0)),
        truncation_margin=TRUNCATION_MARGIN,
        rounding=float(np.max(numeric.rounding[smooth], initial=0.0)),
        exact=tolerance["backward_vs_symbolic"],
        float64_tolerance=(
            float64_equivalent(numeric, largest, smooth, fixed_step)
            if numeric.dtype != np.float64
            else None
        ),
    )
    kinks = None
    if sides.kink.any():
        kinks = _kinks(sides, inputs, values["backward"], tolerance["backward_vs_numeric"])
    precision = None
    if truth is not None:
        precision = _precision(values["backward"], values["symbolic"], truth, numeric.dtype.name)
    worst = max(errors.values())
    return GradientCheck(
        name=name,
        shape=values["backward"].shape,
        backward=values["backward"],
        symbolic=values["symbolic"],
        numeric=values["numeric"],
        errors=errors,
        tolerance=tolerance,
        relative_error=worst / largest if largest else 0.0,
        model=model,
        kinks=kinks,
        precision=precision,
    )


def straddling(
    layer: Layer, wrt: str, x: np.ndarray, numeric: NumericGradient, sides: OneSided
) -> list[str]:
    """A note when a stencil reaches across 0, where the layer has a kink or a pole.

    Within about a step of a kink no finite difference can tell the kink from curvature,
    so a disagreement there says more about the step than about the backward.
    """
    reach = np.maximum(numeric.step * max(map(abs, numeric.method.offsets), default=1), sides.step)
    close = np.abs(np.asarray(x, dtype=np.float64)) < reach
    if not close.any():
        return []
    what = "a kink" if not layer.smooth else "a pole"
    return [
        f"d{wrt}: at {int(close.sum())} point(s), e.g. {wrt} = {float(x[close].flat[0]):.3g}, "
        f"the steps (up to {float(reach[close].max()):.2g}) reach across 0, where "
        f"{layer.name} has {what}: the numeric values there are unreliable; pass a smaller "
        "--step or a point farther from 0"
    ]


EXACT_LIMIT = 100_000  # elements evaluated at 50 digits, at tens of microseconds each


def compare(
    name: str | Layer,
    shape: str | tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    batch: int = 2,
    method: str | Method = "central",
    step: float | None = None,
    at: float | None = None,
    exact: bool = False,
) -> Comparison:
    """Check a layer's NumPy backward against SymPy and numerical differences.

    Args:
        name: catalog name (case- and separator-insensitive), or a :class:`Layer`.
        shape: what ``--shape`` means for the layer (``symgrad list`` says); text or ints.
        seed: seeds the inputs and the random upstream gradient ``dout``.
        dtype: ``float64`` or ``float32``: the dtype the NumPy layer computes in.
        batch: rows of X for ``affine``.
        method: the numeric method (``symgrad.numeric.methods.METHOD_NAMES``).
        step: a fixed step h (h₀ for richardson) instead of the automatic one.
        at: fill every differentiated input with this value (``--at 0`` puts ReLU on its
            kink); parameters and labels stay random.
        exact: also evaluate SymPy's gradient at 50 digits and count the backward's ulps.

    Returns:
        A :class:`~symgrad.reports.Comparison`; ``.ok`` is True when all three agree
        (at a kink: when the backward is a valid subgradient).
    """
    layer = get_layer(name) if isinstance(name, str) else name
    method = check_method(layer, method, step)
    dims = parse_shape(shape) if isinstance(shape, str) else shape
    shapes = array_shapes(layer, dims, batch)
    rng = seeded_rng(seed)
    drawn = fill(layer, seeded_arrays(layer, shapes, rng), at)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    runner = book_layer(layer)
    with np.errstate(all="ignore"):  # a pole (1/x at 0) is reported below, in one line
        out = np.asarray(runner.output(arrays))
    if not np.all(np.isfinite(out)):
        where = f" at {at:g}" if at is not None else ""
        raise SymgradError(f"{layer.name}'s forward is not finite{where} in {dtype}")
    # A random dout, not ones: all-ones hides a transposed or swapped gradient.
    dout = rng.standard_normal(out.shape).astype(dtype)
    _, backward = runner.backward(arrays, dout)
    used = {n: a.astype(np.float64) for n, a in arrays.items()}  # the numbers actually used
    symbolic = symbolic_gradients(layer, used, dout.astype(np.float64))
    truth = None
    if exact:
        size = sum(a.size for n, a in arrays.items() if n in runner.differentiable)
        if size > EXACT_LIMIT:
            raise SymgradError(
                f"--exact evaluates every element at 50 digits: at most {EXACT_LIMIT:,} "
                f"elements, these arrays have {size:,}"
            )
        from symgrad.symbolic.precision import TRUTH_DIGITS

        truth = symbolic_gradients(layer, used, dout.astype(np.float64), TRUTH_DIGITS)
    checks, notes = [], []
    for wrt in runner.differentiable:

        def f(value, wrt=wrt):
            return runner.output({**arrays, wrt: value})

        # Elements with disjoint outputs are perturbed together (symgrad.numeric.structure).
        grouping = catalog_grouping(layer.shape_kind, wrt, arrays[wrt].shape, out.shape)
        numeric = grouped_gradient(f, arrays[wrt], dout, method, step, grouping)

        def checked(sides: OneSided, wrt: str = wrt, numeric: NumericGradient = numeric):
            return check_gradient(
                f"d{wrt}",
                backward[f"d{wrt}"],
                symbolic[f"d{wrt}"],
                numeric,
                sides,
                arrays[wrt],
                fixed_step=step is not None,
                truth=None if truth is None else truth[f"d{wrt}"],
            )

        # One-sided differences cost as many forwards again: a smooth layer that agrees
        # without them has no kink for them to find.
        sides = no_kinks(arrays[wrt]) if layer.smooth else one_sided(f, arrays[wrt], dout, grouping)
        check = checked(sides)
        if layer.smooth and not check.ok:
            sides = one_sided(f, arrays[wrt], dout, grouping)
            check = checked(sides)
        checks.append(check)
        if not checks[-1].ok and wrt in layer.inputs and layer.domain == "away_from_zero":
            notes += straddling(layer, wrt, arrays[wrt], numeric, sides)
    if dtype != "float64":
        factors = [
            c.tolerance["backward_vs_numeric"] / c.model.float64_tolerance
            for c in checks
            if c.model and c.model.float64_tolerance
        ]
        if factors:
            notes.append(looseness(dtype, method, min(factors), max(factors)))
    return Comparison(
        layer=layer.name,
        shapes={**shapes, layer.form.output: out.shape},
        dtype=dtype,
        seed=seed,
        step=describe_step(method, dtype, step),
        gradients=tuple(checks),
        method=method.name,
        at=at,
        notes=tuple(notes),
    )
