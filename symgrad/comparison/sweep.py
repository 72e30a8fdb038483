"""Error versus step: why a numeric derivative is only ever approximate.

At one point, each method's derivative is taken with steps from 1e-1 down to 1e-16
and compared with SymPy's derivative evaluated at 50 digits. Large steps lose to
truncation (the error falls like hᵖ as h shrinks), small ones to rounding (it grows like
ε/h), and the best step sits at the bottom of the V between them; the complex step has
no rounding arm, because it takes no difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from symgrad.comparison.engine import (
    fill,
    seeded_arrays,
    symbolic_gradients,
)
from symgrad.comparison.shapes import array_shapes
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.inputs import parse_dtype
from symgrad.layers import get_layer
from symgrad.layers.spec import Layer
from symgrad.numeric.differences import numerical_gradient, second_difference
from symgrad.numeric.kinks import one_sided
from symgrad.numeric.methods import METHOD_NAMES, get_method
from symgrad.numeric.steps import StepLost, automatic_step
from symgrad.render.numbers import point_text
from symgrad.reports import StepCurve, StepSweep
from symgrad.symbolic.precision import TRUTH_DIGITS

LARGEST, SMALLEST = 1, 16  # steps from 10^-1 down to 10^-16


def sweep_steps(per_decade: int = 1) -> tuple[float, ...]:
    """1e-1, …, 1e-16, with ``per_decade`` steps per factor of ten."""
    count = (SMALLEST - LARGEST) * per_decade
    return tuple(10.0 ** -(LARGEST + k / per_decade) for k in range(count + 1))


def regions(errors: Sequence[float | None]) -> tuple[tuple[str, ...], int]:
    """Label each step by what dominates its error, from where the error is smallest.

    Steps larger than the best one are truncation-dominated (the error falls as h
    shrinks), smaller ones rounding-dominated; a step lost against x (x + h == x) is
    "lost".
    """
    known = [(e, k) for k, e in enumerate(errors) if e is not None]
    if not known:
        return tuple("lost" for _ in errors), 0
    best = min(known)[1]
    labels = tuple(
        "lost" if e is None else "best" if k == best else "truncation" if k < best else "rounding"
        for k, e in enumerate(errors)
    )
    return labels, best


SWEEP_POINT = 0.5  # where steps sweeps when --at does not say: away from every kink


def _point(layer: Layer, at: Mapping[str, float], dtype: str):
    """The arrays at the point, the element differentiated and the quantity (the sum of
    the outputs, or the one output the kind names) as a function of it."""
    shapes = array_shapes(layer, layer.kind.sweep_shape(layer), batch=1)
    drawn = fill(layer, seeded_arrays(layer, shapes, np.random.default_rng(0)), at)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    wrt = layer.inputs[0]
    index = (0,) * arrays[wrt].ndim
    picked = layer.kind.sweep_output(layer)

    def function(value: np.ndarray) -> np.ndarray:
        point = arrays[wrt].astype(np.result_type(arrays[wrt], value))  # complex for complex-step
        point[index] = value[0]
        out = np.asarray(layer.output({**arrays, wrt: point}))
        return np.atleast_1d(np.sum(out) if picked is None else out[picked])

    label = wrt if layer.elementwise else f"{wrt}[{', '.join(map(str, index))}]"
    return arrays, wrt, index, label, function


def step_sweep(
    name: str | Layer,
    at: float | Mapping[str, float] | None = None,
    methods: Sequence[str] | None = None,
    dtype: str = "float64",
    per_decade: int = 1,
) -> StepSweep:
    """Absolute error of each method against the exact derivative, step by step.

    Args:
        name: catalog name or :class:`Layer`.
        at: the point: a value for every differentiated input, or input name → value
            (inputs not named are at :data:`SWEEP_POINT`); the derivative is that of the
            sum of the outputs with respect to the first input's first element.
        methods: method names; by default every method the layer allows (complex-step is
            skipped, with the reason, for a layer that is not complex-safe).
        dtype: the dtype the layer computes in.
        per_decade: steps per factor of ten between 1e-1 and 1e-16.
    """
    import mpmath

    layer = get_layer(name) if isinstance(name, str) else name
    dtype = parse_dtype(dtype).name
    if not isinstance(at, Mapping):
        at = {} if at is None else dict.fromkeys(layer.inputs, at)
    at = {**dict.fromkeys(layer.inputs, SWEEP_POINT), **at}
    chosen = [get_method(m) for m in (methods or METHOD_NAMES)]
    skipped = {}
    if layer.complex_step_refusal and any(m.kind == "complex-step" for m in chosen):
        if methods:  # asked for by name: refuse, as compare does
            raise SymgradError(layer.complex_step_refusal)
        skipped["complex-step"] = layer.complex_step_refusal
        chosen = [m for m in chosen if m.kind != "complex-step"]
    arrays, wrt, index, label, function = _point(layer, at, dtype)
    used = {n: a.astype(np.float64) for n, a in arrays.items()}
    with np.errstate(all="ignore"):  # a pole (1/x at 0) is reported below, in one line
        out = np.asarray(layer.output(arrays))
    if not np.all(np.isfinite(out)):
        raise SymgradError(
            _("{name}'s forward is not finite at {point} in {dtype}").format(
                name=layer.name, point=point_text(at), dtype=dtype
            )
        )
    picked = layer.kind.sweep_output(layer)
    weights = np.ones(out.shape)  # dout: the sum of the outputs, or the one picked
    if picked is not None:
        weights = np.zeros(out.shape)
        weights[picked] = 1.0
    truth = symbolic_gradients(layer, used, weights, TRUTH_DIGITS)[f"d{wrt}"][index]
    if not mpmath.isfinite(truth):
        raise SymgradError(
            _("{name} has no finite derivative at {point}").format(
                name=layer.name, point=point_text(at)
            )
        )
    x = np.array([arrays[wrt][index]])
    steps = sweep_steps(per_decade)

    def error(method, step=None) -> tuple[float | None, float]:
        """|numeric − exact| and the step taken (None, step when x + h == x)."""
        try:
            value = numerical_gradient(function, x, 1.0, method, step, elementwise=True)
        except StepLost:
            return None, step
        with mpmath.workdps(TRUTH_DIGITS):
            return float(abs(mpmath.mpf(float(value.values[0])) - truth)), float(value.step[0])

    # At a kink the error does not depend on h: neither truncation nor rounding explains it.
    sides = one_sided(function, x, 1.0, elementwise=True)
    kink = bool(sides.kink[0])
    curves = []
    for method in chosen:
        errors = tuple(error(method, h)[0] for h in steps)
        automatic_error, automatic = error(method)
        labels, best = regions(errors)
        if kink:
            labels = tuple("lost" if e is None else "kink" for e in errors)
        curves.append(
            StepCurve(
                method=method.name,
                steps=steps,
                errors=errors,
                regions=labels,
                best=best,
                automatic=automatic
                if method.kind != "richardson"
                else automatic_step(method, x)[0],
                automatic_error=automatic_error or 0.0,
            )
        )
    notes = []
    if kink:
        notes.append(
            _(
                "{layer} is not differentiable at {point}: the one-sided derivatives are "
                "{left} (left) and {right} (right); SymPy's {sympy} is one valid subgradient, "
                "so the errors measure the distance to that convention, and no step makes "
                "them small"
            ).format(
                layer=layer.name,
                point=point_text(at),
                left=f"{sides.left[0] + 0.0:.6g}",
                right=f"{sides.right[0] + 0.0:.6g}",
                sympy=f"{float(truth) + 0.0:g}",
            )
        )
    return StepSweep(
        layer=layer.name,
        wrt=label,
        quantity=(
            f"∂{layer.form.output}/∂{label}"
            if layer.elementwise
            else f"∂(Σ{layer.form.output})/∂{label}"
            if picked is None
            else f"∂{layer.form.output}[{', '.join(map(str, picked))}]/∂{label}"
        ),
        at=dict(at),
        dtype=dtype,
        exact=mpmath.nstr(truth, 20, min_fixed=-5, max_fixed=5),
        exact_value=float(truth),
        curves=tuple(curves),
        skipped=skipped,
        notes=tuple(notes),
    )


SECOND_ORDER_CURVES = {
    # name → (what is differenced, step exponent): the forward's second difference
    # (f(x+h) − 2f(x) + f(x−h))/h², whose truncation falls as h² and rounding grows as
    # ε/h², so its V sits at ε^(1/4); and the backward's central difference, at ε^(1/3).
    "forward, second difference": ("forward", 1 / 4),
    "backward, central difference": ("backward", 1 / 3),
}


def second_order_sweep(
    name: str | Layer,
    at: float | Mapping[str, float] | None = None,
    dtype: str = "float64",
    per_decade: int = 1,
) -> StepSweep:
    """``steps --order 2``: the error of two numeric second derivatives against SymPy's
    f″ at 50 digits, step by step, for an elementwise layer of one input.

    Raises:
        SymgradError: for a layer that is not elementwise with one input, or a point where
            f″ is not finite.
    """
    import mpmath
    import sympy as sp

    from symgrad.api import derive

    layer = get_layer(name) if isinstance(name, str) else name
    if not layer.elementwise or len(layer.inputs) != 1 or layer.params:
        raise SymgradError(
            _("--order 2 sweeps elementwise layers of one input; {name} is not one").format(
                name=layer.name
            )
        )
    dtype = parse_dtype(dtype).name
    (wrt,) = layer.inputs
    if not isinstance(at, Mapping):
        at = {} if at is None else {wrt: at}
    at = {wrt: SWEEP_POINT, **at}
    arrays, wrt, index, label, forward = _point(layer, at, dtype)
    value = float(arrays[wrt][index])
    second = derive(layer.name, order=2).in_inputs[wrt, wrt]
    truth = sp.N(second.subs(sp.Symbol(wrt, real=True), sp.Rational(repr(value))), TRUTH_DIGITS)
    if not truth.is_finite or not truth.is_real:
        raise SymgradError(
            _("{name} has no finite second derivative at {point}").format(
                name=layer.name, point=point_text(at)
            )
        )
    truth = mpmath.mpf(str(truth))
    symbol = sp.Symbol(wrt, real=True)
    exact_point = {symbol: sp.Rational(repr(value))}
    on_kink = any(
        (where.lhs - where.rhs).subs(exact_point) == 0
        for where in derive(layer.name, order=2).kinks
    )

    def backward(v: np.ndarray) -> np.ndarray:
        instance = layer.numpy_class()
        point = arrays[wrt].copy()
        point[index] = v[0]
        out = instance.forward(point)
        return np.atleast_1d(np.asarray(instance.backward(np.ones_like(out)))[index])

    x = np.array([arrays[wrt][index]])
    eps = float(np.finfo(x.dtype).eps)
    differenced = {"forward": lambda h: second_difference(forward, x, h), "backward": None}
    differenced["backward"] = lambda h: (
        numerical_gradient(backward, x, 1.0, "central", h, elementwise=True).values
    )

    def error(differences, h: float) -> float | None:
        try:
            estimate = float(differences(h)[0])
        except StepLost:
            return None
        with mpmath.workdps(TRUTH_DIGITS):
            return float(abs(mpmath.mpf(estimate) - truth))

    steps = sweep_steps(per_decade)
    curves = []
    for curve, (source, exponent) in SECOND_ORDER_CURVES.items():
        errors = tuple(error(differenced[source], h) for h in steps)
        automatic = eps**exponent * max(1.0, abs(value))
        labels, best = regions(errors)
        if on_kink:
            labels = tuple("lost" if e is None else "kink" for e in errors)
        curves.append(
            StepCurve(
                method=curve,
                steps=steps,
                errors=errors,
                regions=labels,
                best=best,
                automatic=automatic,
                automatic_error=error(differenced[source], automatic) or 0.0,
            )
        )
    output = layer.form.output
    return StepSweep(
        layer=layer.name,
        wrt=label,
        quantity=f"∂²{output}/∂{label}²",
        at=dict(at),
        dtype=dtype,
        exact=mpmath.nstr(truth, 20, min_fixed=-5, max_fixed=5),
        exact_value=float(truth),
        curves=tuple(curves),
        notes=(
            (
                _(
                    "{layer}'s first derivative jumps at {point}: there is no second "
                    "derivative there, and the differences grow as 1/h (SymPy's {value} is "
                    "the value beside the jump)"
                ).format(layer=layer.name, point=point_text(at), value=f"{float(truth) + 0.0:g}"),
            )
            if on_kink
            else ()
        ),
    )
