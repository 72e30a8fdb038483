"""Numerical gradients ∂⟨dout, f(x)⟩/∂x by any of symgrad's difference methods.

One primitive, :func:`perturbed`, evaluates f with each element of x displaced in turn
(or every element at once for an elementwise f) and contracts what the caller combines
from those outputs with ``dout``. The methods, the kink check and the step sweep are all
built on it, so they share one way of perturbing, evaluating and contracting.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.richardson import ridders
from symgrad.numeric.steps import (
    RICHARDSON_LEVELS,
    RICHARDSON_SHRINK,
    automatic_step,
    representable,
    scale,
)

Function = Callable[[np.ndarray], "np.ndarray | float"]
# From the outputs at each displacement: (combined outputs, their magnitudes) pairs; a
# magnitude nobody needs is None, and so is its contraction (the work is skipped).
Combined = list[tuple[np.ndarray, np.ndarray | None]]
Combine = Callable[[list[np.ndarray]], Combined]

ROUNDING_ULPS = 4  # δ = 4ε: the relative error assumed for one evaluation of f
SHRINK_LIMIT = 1e-3  # an automatic step shrinks at most this much to balance its errors


@dataclass(frozen=True)
class NumericGradient:
    """A numerical gradient with its step and the method's error model, per element.

    Attributes:
        values: ∂⟨dout, f(x)⟩/∂x in float64.
        method: the method used.
        step: the step actually taken per element (for richardson, the smallest step of
            the tableau entry kept; for complex-step, the imaginary step).
        truncation: estimated truncation error per element: from the same method at
            twice the step (D(2h) − D(h) ≈ (2ᵖ − 1)·C·hᵖ·f^(p+1)), or Ridders' estimate.
        rounding: modelled rounding error per element, R·δ·|f|/h with δ = 4ε and |f| the
            dout-weighted magnitude of the outputs the perturbation changed.
        dtype: the dtype f was evaluated in.
        output_scale: that magnitude of f over max(1, |x|): the size a derivative of f has
            on a unit length. A backward written in f's own values (y(1 − y)) rounds on
            this scale, which in a tail can far exceed the derivative itself.
    """

    values: np.ndarray
    method: Method
    step: np.ndarray
    truncation: np.ndarray
    rounding: np.ndarray
    dtype: np.dtype
    output_scale: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """The model's error bound per element: truncation + rounding."""
        return self.truncation + self.rounding


def _widened(value: np.ndarray | float) -> np.ndarray:
    """An output in float64, or complex128 if it is complex (never silently made real)."""
    value = np.asarray(value)
    return value.astype(np.complex128 if np.iscomplexobj(value) else np.float64)


def perturbed(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    displacements: Sequence[np.ndarray | None],
    combine: Combine,
    elementwise: bool = False,
) -> Combined:
    """Per element i of x: Σ dout·c and Σ |dout|·m for each (c, m) that ``combine`` forms
    from the outputs f(x + dₖ[i]·eᵢ), one per displacement dₖ (None: x itself); None in
    place of Σ |dout|·m where m is None.

    f is evaluated in x's dtype (complex when a displacement is complex) and its outputs
    are converted to float64 (complex128) before ``combine`` sees them. When
    ``elementwise`` (output element i depends on input element i only) every element is
    displaced at once: one forward pass per displacement instead of one per element.
    """
    dout = np.asarray(dout, dtype=np.float64)
    base: list[np.ndarray] = []
    # Displacements in x's own precision (complex64 beside float32): a float64 displacement
    # would promote x + d, and a float32 layer would quietly be differentiated in float64.
    displacements = [
        None
        if d is None
        else np.asarray(d).astype(
            np.result_type(x.dtype, np.complex64) if np.iscomplexobj(d) else x.dtype,
            copy=False,  # already in x's precision (the usual case): no copy of each
        )
        for d in displacements
    ]
    if not isinstance(elementwise, bool):  # a Grouping: many elements per forward
        return elementwise.perturbed(f, x, dout, displacements, combine)

    def at(point: np.ndarray | None) -> np.ndarray:
        if point is None:
            if not base:
                base.append(_widened(f(x)))
            return base[0]
        return _widened(f(point))

    if elementwise:
        outputs = [at(None if d is None else x + d) for d in displacements]
        # Output i depends on element i by structure: if it did not move, rounding hid
        # the move, which counts at the output's rounding size (as in Grouping.perturbed).
        size = rounding_scale(at(None))
        return [
            (dout * c, None if m is None else np.abs(dout) * np.maximum(m, size))
            for c, m in combine(outputs)
        ]
    results: Combined | None = None
    floor = None
    for index in np.ndindex(x.shape):
        outputs = []
        for d in displacements:
            if d is None:
                outputs.append(at(None))
                continue
            point = x.astype(d.dtype, copy=True)
            point[index] += d[index]
            outputs.append(at(point))
        combined = combine(outputs)
        if results is None:
            results = [
                (np.empty(x.shape), None if m is None else np.empty(x.shape)) for _, m in combined
            ]
        if floor is None:  # outputs this element moved round on rounding_scale's size
            floor = rounding_scale(at(None))
        for (values, sizes), (c, m) in zip(results, combined, strict=True):
            values[index] = float(np.sum(dout * c))
            if sizes is None:
                continue
            moved = np.where(np.asarray(m) > 0, np.maximum(m, floor), 0.0)
            sizes[index] = float(np.sum(np.abs(dout) * moved))
    return results or []


def rounding_scale(base: np.ndarray) -> np.ndarray:
    """The size each output of f(x) rounds on: its own |f|, but never below the outputs'
    root-mean-square size. An output that is small because its terms cancel (a matrix
    product's entry near 0) still rounds on the scale of those terms, which the outputs'
    typical size stands for; an element's bound is never made smaller by that luck."""
    size = np.abs(np.asarray(base))
    if size.size == 0:
        return size
    mean_square = float(np.mean(np.square(size)))
    if not np.isfinite(mean_square):  # an inf or NaN output: the rest's typical size
        finite = size[np.isfinite(size)]
        if finite.size == 0:
            return size
        mean_square = float(np.mean(np.square(finite)))
    root = np.sqrt(mean_square)
    return np.maximum(size, root, out=size) if size.ndim else np.maximum(size, root)


def touched(outputs: list[np.ndarray]) -> np.ndarray | float:
    """|f| where some displacement changed the output, 0 where none did.

    Outputs a perturbation leaves untouched difference to exactly 0 and add no rounding,
    so they must not count in the rounding model either (else a wide layer would look
    noisier than it is). Outputs that are one array (f at rest) touch nothing: 0.
    """
    first = outputs[0]
    if all(o is first for o in outputs):
        return 0.0
    shape = np.broadcast_shapes(*(np.shape(o) for o in outputs))
    largest = np.asarray(np.abs(np.broadcast_to(first, shape)))
    unchanged = None  # where every other output equals the first (NaN never does)
    for other in outputs[1:]:
        np.maximum(largest, np.abs(other), out=largest)
        same = np.equal(other, first)
        unchanged = same if unchanged is None else unchanged & same
    np.copyto(largest, 0.0, where=unchanged)
    return largest


def stencil(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    method: Method,
    steps: Sequence[np.ndarray],
    elementwise: bool = False,
    sized: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """The method's stencil at each of ``steps`` (representable, per element), sharing the
    evaluations the steps have in common: (derivative, magnitude of f) per step; the
    magnitude only for the first ``sized`` steps (all by default), None for the rest."""
    sized = len(steps) if sized is None else sized
    points: dict[tuple[int, float], int] = {}
    displacements: list[np.ndarray | None] = []
    for k, h in enumerate(steps):
        for offset in method.offsets:
            key = (k, offset) if offset else (0, 0.0)
            if key not in points:
                points[key] = len(displacements)
                # ±h itself for the offsets ±1 (the same numbers, without a copy each).
                shifted = h if offset == 1 else np.negative(h) if offset == -1 else offset * h
                displacements.append(None if offset == 0 else shifted)

    def combine(outputs: list[np.ndarray]) -> Combined:
        if all(o is outputs[0] for o in outputs):  # f at rest: no difference, nothing touched
            return [(0.0, 0.0 if k < sized else None) for k in range(len(steps))]
        combined = []
        for k in range(len(steps)):
            at = [outputs[points[(k, o) if o else (0, 0.0)]] for o in method.offsets]
            value = {o: out for o, out in zip(method.offsets, at, strict=True)}
            total = sum(w * (value[a] - value[b]) for w, a, b in method.terms)
            combined.append((total, touched(at) if k < sized else None))
        return combined

    results = perturbed(f, x, dout, displacements, combine, elementwise)
    return [(value / h, size) for (value, size), h in zip(results, steps, strict=True)]


def complex_step(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    h: np.ndarray,
    elementwise: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Im⟨dout, f(x + ih·eᵢ)⟩/h per element, and the magnitude of f there.

    Raises:
        SymgradError: when f drops the imaginary part (a cast to float, a comparison),
            which would otherwise come out as a derivative of exactly 0.
    """
    x = np.asarray(x)
    dtype = np.result_type(x, np.complex64)

    def combine(outputs: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        (out,) = outputs
        if not np.iscomplexobj(out):
            raise SymgradError(
                _("complex-step needs a complex-safe forward, but this one returned real values")
            )
        return [(out.imag, np.abs(out.real))]

    shift = (1j * h).astype(dtype)
    with warnings.catch_warnings():
        # A forward that casts complex to real loses the derivative silently; make it loud.
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            ((value, size),) = perturbed(f, x, dout, [shift], combine, elementwise)
        except (np.exceptions.ComplexWarning, TypeError) as error:
            raise SymgradError(
                _("complex-step failed: the forward is not complex-safe ({error})").format(
                    error=error
                )
            ) from error
    return value / h, size


def numerical_gradient(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    method: Method | str = "central",
    step: float | None = None,
    elementwise: bool = False,
) -> NumericGradient:
    """The gradient of ⟨dout, f(x)⟩ with respect to x, with its error model.

    Args:
        f: evaluated in x's dtype (complex for complex-step).
        x: the point; float32 or float64.
        dout: the upstream gradient ⟨dout, ·⟩ contracts the outputs with.
        method: a name from :data:`symgrad.numeric.methods.METHOD_NAMES` or a Method.
        step: a fixed step (h₀ for richardson) instead of the automatic one per element.
        elementwise: output element i depends on input element i only.
    """
    method = get_method(method)
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps)
    nominal = automatic_step(method, x) if step is None else np.full(x.shape, float(step))
    if method.kind == "complex-step":
        h = np.asarray(nominal, dtype=np.float64)
        if np.any(h <= 0) or not np.all(np.isfinite(h)):
            raise SymgradError(
                _("the step must be positive and finite, got {step}").format(step=step)
            )
        values, size = complex_step(f, x, dout, h, elementwise)
        # Nothing cancels, so the error is rounding on the derivative's own scale; the h²
        # truncation term is ~ε² of it at the automatic step and is not modelled.
        rounding = ROUNDING_ULPS * eps * (np.abs(values) + size / scale(x))
        truncation = np.zeros_like(values)
        return NumericGradient(values, method, h, truncation, rounding, x.dtype, size / scale(x))
    if method.kind == "richardson":
        steps = [
            representable(x, nominal / RICHARDSON_SHRINK**level)
            for level in range(RICHARDSON_LEVELS)
        ]
        central = get_method("central")
        results = stencil(f, x, dout, central, steps, elementwise)
        result = ridders(lambda k: (results[k][0], steps[k]), RICHARDSON_LEVELS, RICHARDSON_SHRINK)
        size = np.max([s for _, s in results], axis=0)
        rounding = (
            result.amplification * central.rounding * ROUNDING_ULPS * eps * size / result.step
        )
        return NumericGradient(
            result.value, method, result.step, result.error, rounding, x.dtype, size / scale(x)
        )
    h = representable(x, nominal)
    del nominal  # x's size each: what is no longer needed is let go before the re-run
    value, truncation, rounding, size = _stencil_estimate(f, x, dout, method, h, elementwise)
    if step is None:
        shrink = balance(method, truncation, rounding)
        if np.any(shrink < 1):
            del value, truncation, rounding, size
            h = representable(x, np.multiply(h, shrink, out=shrink))  # shrink is 1 elsewhere
            estimate = _stencil_estimate(f, x, dout, method, h, elementwise)
            value, truncation, rounding, size = estimate
    return NumericGradient(value, method, h, truncation, rounding, x.dtype, size / scale(x))


def _stencil_estimate(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    method: Method,
    h: np.ndarray,
    elementwise: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The stencil at h and its error model: (value, truncation, rounding, |f|)."""
    eps = float(np.finfo(x.dtype).eps)
    (value, size), (doubled, _doubled_size) = stencil(
        f, x, dout, method, [h, 2 * h], elementwise, 1
    )
    # D(2h) − D(h) ≈ (2ᵖ − 1)·C·hᵖ·f^(p+1): the leading truncation term, measured.
    gap = np.asarray(doubled - value)  # an array even for a scalar x, to be reused
    truncation = np.abs(gap, out=gap) / (2**method.order - 1)
    rounding = method.rounding * ROUNDING_ULPS * eps * size / h
    return value, truncation, rounding, size


def second_difference(f: Function, x: np.ndarray, h: float) -> np.ndarray:
    """(f(x + h) − 2f(x) + f(x − h))/h² for an elementwise f, at a representable step
    (so that x + h is exact): the second derivative with truncation ∝ h² and rounding
    ∝ ε/h²."""
    step = representable(x, h)
    ahead = np.asarray(f(x + step.astype(x.dtype)), dtype=np.float64)
    behind = np.asarray(f(x - step.astype(x.dtype)), dtype=np.float64)
    here = np.asarray(f(x), dtype=np.float64)
    return ((ahead - here) - (here - behind)) / step**2


@dataclass(frozen=True)
class ForwardHessianProduct:
    """H·v of ⟨dout, f(x)⟩ from f alone, by second differences, with its error model.

    Attributes:
        values: (H·v)ᵢ = Σⱼ Dᵢⱼ·vⱼ per element, Dᵢⱼ the second difference of ⟨dout, f⟩
            in elements i and j at the step kept.
        truncation: Σⱼ |vⱼ|·|Dᵢⱼ(2h) − Dᵢⱼ(h)|/3: the leading O(h²) term, measured.
        rounding: Σⱼ |vⱼ|·w·δ·|f|: each Dᵢⱼ adds up four roundings of f with weights
            whose absolute values sum to w ≈ 4/h² on the diagonal, 1/h² off it.
        step: the step per element, ε^(1/4)·max(1, |x|) before it is made representable.
    """

    values: np.ndarray
    truncation: np.ndarray
    rounding: np.ndarray
    step: np.ndarray


def forward_hessian_product(
    f: Function, x: np.ndarray, dout: np.ndarray | float, v: np.ndarray
) -> ForwardHessianProduct:
    """The Hessian-vector product of ⟨dout, f(x)⟩ along v from forwards only, for a small
    flat x (every pair of elements costs eight forwards).

    Each Hessian entry is a second difference whose points displace at most two elements,
    each by a representable step on either side (a ≈ b ≈ h), so every point is exact:

        Dᵢᵢ = 2/(a + b)·[(f(x + a·eᵢ) − f(x))/a − (f(x) − f(x − b·eᵢ))/b]
        Dᵢⱼ = [f(+aᵢ, +aⱼ) − f(+aᵢ, −bⱼ) − f(−bᵢ, +aⱼ) + f(−bᵢ, −bⱼ)]/((aᵢ + bᵢ)(aⱼ + bⱼ))

    contracted with dout after differencing (an output neither element moves differences
    to exactly 0). Truncation falls as h² and rounding grows as ε/h², so the step is
    ε^(1/4)·max(1, |x|), where they balance for an f whose derivatives are of its size.
    """
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps)
    dout = np.asarray(dout, dtype=np.float64)
    nominal = eps**0.25 * scale(x)
    base = _widened(f(x))
    floor = rounding_scale(base)

    def contract(weighted: list[tuple[float, np.ndarray]]) -> tuple[float, float]:
        """Σ dout·Σ wₖ·fₖ and its rounding, δ·Σ |dout|·Σ |wₖ|·|fₖ| where f moved."""
        moved = touched([out for _, out in weighted])
        moved = np.where(np.asarray(moved) > 0, np.maximum(moved, floor), 0.0)
        value = float(np.sum(dout * sum(w * out for w, out in weighted)))
        spread = sum(abs(w) for w, _ in weighted)
        return value, ROUNDING_ULPS * eps * spread * float(np.sum(np.abs(dout) * moved))

    def entries(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ahead, behind = representable(x, h), -representable(x, -h)
        n = x.size
        values, rounding = np.zeros((n, n)), np.zeros((n, n))

        def at(moves: dict[int, float]) -> np.ndarray:
            point = x.copy()
            for k, d in moves.items():
                point[k] += d
            return _widened(f(point))

        for i in range(n):
            a, b = ahead[i], behind[i]
            up, down = at({i: a}), at({i: -b})
            weights = (2 / (a * (a + b)), -2 / (a * b), 2 / (b * (a + b)))
            values[i, i], rounding[i, i] = contract(
                list(zip(weights, (up, base, down), strict=True))
            )
            for j in range(i + 1, n):
                c, d = ahead[j], behind[j]
                w = 1 / ((a + b) * (c + d))
                corners = [
                    at({i: a, j: c}),
                    at({i: a, j: -d}),
                    at({i: -b, j: c}),
                    at({i: -b, j: -d}),
                ]
                values[i, j], rounding[i, j] = contract(
                    list(zip((w, -w, -w, w), corners, strict=True))
                )
                values[j, i], rounding[j, i] = values[i, j], rounding[i, j]
        return values, rounding

    flat = np.asarray(v, dtype=np.float64).ravel()
    kept, rounding = entries(nominal.ravel())
    doubled, _ = entries(2 * nominal.ravel())
    truncation = np.abs(doubled - kept) / 3  # D(2h) − D(h) ≈ 3·C·h²
    shape = x.shape
    return ForwardHessianProduct(
        values=(kept @ flat).reshape(shape),
        truncation=(truncation @ np.abs(flat)).reshape(shape),
        rounding=(rounding @ np.abs(flat)).reshape(shape),
        step=nominal,
    )


ORDER_EVIDENCE = 8  # a gap trusted to show the order only this far above rounding


def order_checked(
    f: Function, x: np.ndarray, dout: np.ndarray | float, method: Method, h: np.ndarray
) -> NumericGradient:
    """The stencil at h, its truncation measured at the order the differences show.

    The error model takes D(h) − f′ ∝ hᵖ at the method's order p, so that the error is
    (D(2h) − D(h))/(2ᵖ − 1). Where a higher derivative of f jumps (ELU's f″ at 0), the
    stencil loses orders and that understates the error (3× for central differences at
    an O(h) error). From D(h), D(2h) and D(4h) the order shows:
    |D(4h) − D(2h)| / |D(2h) − D(h)| ≈ 2^q. The truncation is then taken at q, never
    above p and never below 1; a gap within :data:`ORDER_EVIDENCE` roundings shows no
    order, and keeps p. One element per forward: for the few elements a check doubts.
    """
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps)
    (value, size), (doubled, _), (quadrupled, _) = stencil(
        f, x, dout, method, [h, 2 * h, 4 * h], False, 1
    )
    rounding = method.rounding * ROUNDING_ULPS * eps * size / h
    gap = np.abs(doubled - value)
    wider = np.abs(quadrupled - doubled)
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = np.log2(wider / gap)
    evident = (gap > ORDER_EVIDENCE * rounding) & np.isfinite(shown)
    order = np.where(evident, np.clip(shown, 1, method.order), method.order)
    truncation = gap / (2**order - 1)
    return NumericGradient(value, method, h, truncation, rounding, x.dtype, size / scale(x))


def balance(method: Method, truncation: np.ndarray, rounding: np.ndarray) -> np.ndarray:
    """Per element, the factor (≤ 1) that shrinks h to where truncation and rounding balance.

    ε^(1/(p+1))·max(1, |x|) is optimal when f's higher derivatives are of the size of f
    on a unit length; near a pole (1/x at x = 0.25) they are far larger, the measured
    truncation then outweighs rounding, and the total p·T + R is least where
    p·T(h') = R(h'), with T ∝ hᵖ and R ∝ 1/h. The balance uses the rounding expected
    (δ = ε), not its bound (4ε). Steps only shrink: a larger one could reach a pole or a
    kink the first stencil did not see.
    """
    p = method.order
    expected = np.asarray(rounding / ROUNDING_ULPS)  # an array, written into below
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.divide(expected, p * truncation, out=expected)
    # The root only where it shrinks: 1 where the ratio is ≥ 1, ∞ or NaN.
    factor = np.ones_like(ratio)
    np.power(ratio, 1 / (p + 1), out=factor, where=ratio < 1)
    return np.maximum(factor, SHRINK_LIMIT, out=factor)
