"""One gradient against numeric differences: grouped, confirmed, or projected.

:func:`verify` is the full element-wise check, fast because elements with disjoint
footprints are perturbed together (symgrad.numeric.structure). A grouped value rests on
a structure that may have been guessed, so before a disagreement is reported its worst
elements are re-derived the plain way, one element per forward; if those disagree with
the grouped values, the guess was wrong and the whole array is re-derived one element at
a time. A wrong guess can therefore cost time, never a false alarm.

:func:`project` is ``--fast``: random projections, ⟨v, backward(u)⟩ against the
directional derivative d/dt ⟨u, f(x + t·v)⟩ at t = 0, one to four forwards each whatever
the size, with a stated bound on the chance of missing a relative 1e-6 error; a
disagreement is followed by the full check of that array alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symgrad.checking.objects import Subject, catalog_entry
from symgrad.checking.progress import Progress
from symgrad.checking.report import Perturbation, Projection
from symgrad.comparison.tolerance import TRUNCATION_MARGIN, exact_tolerance, numeric_bound
from symgrad.comparison.verdict import check_gradient, ratios
from symgrad.numeric.differences import NumericGradient, numerical_gradient, order_checked
from symgrad.numeric.kinks import OneSided, no_kinks, one_sided
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.steps import automatic_step, representable, scale
from symgrad.numeric.structure import (
    Grouping,
    grouped_gradient,
    probe_couplings,
)
from symgrad.reports import GradientCheck

Function = Callable[[np.ndarray], object]


class Counted:
    """f, counting its calls: the forwards a check spent."""

    def __init__(self, f: Function) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, x: np.ndarray) -> object:
        self.calls += 1
        return self.f(x)


RECHECK = 8  # worst elements re-derived one at a time before a disagreement is reported
OPINION_ROUNDS = 4  # rounds of RECHECK elements a second opinion may take


def plan(
    subject: Subject,
    name: str,
    f: Function,
    x: np.ndarray,
    out_shape: tuple[int, ...],
    rng: np.random.Generator,
    tracker: Progress | None = None,
    weights: dict[str, np.ndarray] | None = None,
) -> tuple[Grouping, str]:
    """How to perturb array ``name`` of a layer: the catalog's couplings where the layer
    runs a catalog forward, else couplings probed from the forward itself; and which."""
    entry = catalog_entry(subject.layer)
    couplings = subject.known_couplings(x.shape, out_shape)
    source = "catalog" if couplings is None else "declared"
    if entry is not None and couplings is None:
        catalog_name = name
        if name not in subject.values:  # an input: the catalog's name at its position
            position = subject.differentiated_names.index(name)
            catalog_name = entry.inputs[position] if position < len(entry.inputs) else name
        couplings = entry.kind.instance_couplings(
            entry, catalog_name, x.shape, out_shape, subject.layer
        )
    rest = None
    if couplings is None:
        source = "probed"
        with np.errstate(all="ignore"):
            rest = np.asarray(f(x))
            couplings = probe_couplings(f, x, rest, rng)
        subject.install()  # a probe of a parameter left it displaced
    grouping = Grouping(x.shape, out_shape, couplings, tracker, dict(weights or {}))
    if rest is not None:
        grouping.rest(x, rest)
    if tracker is not None:
        tracker.expect(grouping.groups)
    return grouping, source


def differences(check: GradientCheck, sides: OneSided) -> np.ndarray:
    """|backward − numeric| per element; at a kink, how far backward lies outside the
    one-sided interval (0 for a valid subgradient)."""
    plain = np.abs(check.backward - check.numeric)
    if not sides.kink.any():
        return plain
    return np.where(sides.kink, sides.outside(check.backward), plain)


def worst_index(check: GradientCheck) -> tuple[int, ...]:
    """The element furthest past (or closest to) its own bound, backward vs numeric."""
    return check.worst["backward_vs_numeric"].index


@dataclass(frozen=True)
class Verified:
    """A gradient's check, the numeric values and one-sided derivatives behind it, and how
    they were obtained."""

    check: GradientCheck
    numeric: NumericGradient
    sides: OneSided
    perturbation: Perturbation
    reach: np.ndarray | None = None  # |J|ᵀ·1 per element, when the grouping weighed "ones"


def reach(
    grouping: Grouping, numeric: NumericGradient, x: np.ndarray, name: str
) -> np.ndarray | None:
    """|J|ᵀ·w per element for the grouping's weights ``name``: the spread of its first
    combined quantity (the difference at the step kept, about h·J) over that step."""
    spread = grouping.spread.get(name)
    if not spread:
        return None
    step = numeric.step
    if numeric.method.kind == "richardson":  # entry 0 is the tableau's first, largest step
        step = representable(x, automatic_step(numeric.method, x))
    return spread[0] / step


def with_terms(numeric: NumericGradient, terms: np.ndarray | None) -> NumericGradient:
    """The backward's own rounding scale raised to the size of the terms it sums.

    A backward computes Σₒ dout[o]·J[o, e]; its rounding is of the order of
    ε·Σₒ |dout[o]|·|J[o, e]|, which under cancellation far exceeds ε·|result| (db summing
    upstream gradients of both signs). The core's exact tolerance, 64ε·max(largest
    |value|, output_scale), then holds the backward to that scale too.
    """
    if terms is None:
        return numeric
    return dataclasses.replace(numeric, output_scale=np.maximum(numeric.output_scale, terms))


def _subset(f: Function, x: np.ndarray, index: tuple[np.ndarray, ...]) -> Function:
    """f as a function of the elements at ``index`` only (the others held at x)."""

    def restricted(values: np.ndarray) -> object:
        point = x.astype(np.result_type(x, values), copy=True)
        point[index] = values
        return f(point)

    return restricted


def verify(
    name: str,
    array: str,
    backward: np.ndarray,
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    grouping: Grouping,
    method: Method,
    step: float | None = None,
    symbolic: np.ndarray | None = None,
    source: str = "catalog",
    truth: np.ndarray | None = None,
) -> Verified:
    """The full element-wise check of ``backward`` against ∂⟨dout, f(x)⟩/∂x.

    1. Numeric values by grouped perturbation, every element against its own bound
       (symgrad.comparison.verdict).
    2. On a disagreement, or where an element's numeric value is too uncertain to judge:
       one-sided differences (grouped), in case it is a kink.
    3. Still a disagreement: the worst :data:`RECHECK` elements are re-derived one
       element per forward. Where those agree with the grouped values the structure is
       confirmed; where not, every element is re-derived that way and the check
       repeated on those values.
    4. Still a disagreement (automatic steps): a second opinion, Richardson's estimate at
       the worst elements (:func:`_second_opinion`), before anything is reported.

    Args:
        name: the gradient's name (``dW``); array: what it is the gradient of (``W``).
        backward: the backward's gradient, x's shape.
        f: the layer's forward as a function of x alone.
        grouping: how to perturb x (its tracker, if any, sees every group).
        symbolic: SymPy's gradient on the same numbers, when known.
        source: where the grouping came from, for the report.
        truth: SymPy's gradient at many digits, to count the backward's ulps.
    """
    fixed = step is not None
    f = Counted(f)
    grouping.weights = {**grouping.weights, "terms": grouping.magnitudes(dout)}
    numeric = grouped_gradient(f, x, dout, method, step, grouping)
    spread = reach(grouping, numeric, x, "ones")
    numeric = with_terms(numeric, reach(grouping, numeric, x, "terms"))
    sides = no_kinks(x)
    check = check_gradient(name, backward, symbolic, numeric, sides, x, fixed, truth)
    rechecked, fallback = 0, False
    finite = np.all(np.isfinite(check.backward)) and np.all(np.isfinite(numeric.values))
    # A disagreement may be a kink; an element too uncertain to judge may sit next to one.
    if (not check.ok or check.unreliable is not None) and finite:
        sides = one_sided(f, x, dout, grouping)
        check = check_gradient(name, backward, symbolic, numeric, sides, x, fixed, truth)
    if not check.ok and finite and grouping.couplings:  # without couplings: already one by one
        gap = ratios(differences(check, sides), check.bound)
        order = np.argsort(-gap, axis=None, kind="stable")[:RECHECK]
        index = np.unravel_index(order, x.shape)
        restricted = _subset(f, x, index)
        # The confirmation takes real differences even after a complex step: a forward
        # that is not analytic would give a wrong complex step twice over.
        confirm = get_method("central") if method.kind == "complex-step" else method
        single = numerical_gradient(restricted, x[index], dout, confirm, step, False)
        single_sides = one_sided(restricted, x[index], dout, False)
        rechecked = len(order)
        grouped = numeric.values[index]
        allowed = 2 * (numeric_bound(single) + numeric_bound(numeric)[index])
        allowed += exact_tolerance(np.float64, float(np.max(np.abs(grouped), initial=0.0)))
        agree = np.all(np.abs(single.values - grouped) <= allowed) and np.array_equal(
            single_sides.kink, sides.kink[index]
        )
        if not agree:
            fallback = True
            plain = Grouping(x.shape, grouping.out_shape, (), grouping.tracker, grouping.weights)
            if grouping.tracker is not None and hasattr(grouping.tracker, "expect"):
                grouping.tracker.expect(2 * x.size)
            numeric = numerical_gradient(f, x, dout, confirm, step, plain)
            spread = reach(plain, numeric, x, "ones")
            numeric = with_terms(numeric, reach(plain, numeric, x, "terms"))
            sides = one_sided(f, x, dout, plain)
            check = check_gradient(name, backward, symbolic, numeric, sides, x, fixed, truth)
    second = 0
    if not check.ok and finite and not fixed:
        numeric, check, second = _second_opinion(
            name, backward, symbolic, f, x, dout, numeric, sides, check, truth
        )
    perturbation = Perturbation(
        name=array,
        structure=grouping.describe(array),
        source=source,
        forwards=f.calls,
        rechecked=rechecked,
        fallback=fallback,
        second_opinion=second,
    )
    return Verified(check, numeric, sides, perturbation, spread)


def _merged(numeric: NumericGradient, index, other: NumericGradient, keep) -> NumericGradient:
    """``numeric`` with the elements at ``index`` where ``keep`` (and their error model)
    from ``other``."""
    index = tuple(axis[keep] for axis in index)
    fields = {}
    for field in ("values", "step", "truncation", "rounding"):
        merged = np.array(getattr(numeric, field), dtype=np.float64, copy=True)
        merged[index] = getattr(other, field)[keep]
        fields[field] = merged
    return dataclasses.replace(numeric, **fields)


def _second_opinion(name, backward, symbolic, f, x, dout, numeric, sides, check, truth):
    """Richardson's estimate, with its own error estimate, at the worst elements.

    A stencil's error model can be too optimistic at an element: its truncation estimate
    D(2h) − D(h) vanishes by accident where a higher derivative of f changes sign, and
    the point x − h is rounded (only x + h is made exact). Before a disagreement is
    reported, its worst elements are re-derived by Richardson extrapolation, whose large
    first step makes both effects negligible. The check is then repeated on those
    values: it passes if the disagreement was the stencil's, and is confirmed if the
    worst element is one Richardson re-derived.

    Richardson's value replaces the stencil's only where its own error bound is below the
    disagreement it is to settle: where its large first step reaches across a kink, its
    estimate is too wide to settle anything, and the stencil's measurement stands. There
    the stencil is re-run at h, 2h and 4h: where a higher derivative of f jumps, its
    order drops and its truncation is re-measured at the order shown
    (:func:`~symgrad.numeric.differences.order_checked`), so that ELU's gradient at
    exactly 0 (f″ jumps) is not a false alarm.
    """
    richardson = get_method("richardson")
    done = np.zeros(np.shape(x), dtype=bool)
    for _ in range(OPINION_ROUNDS):
        gap = ratios(differences(check, sides), check.bound)
        suspects = check.disagreeing & ~done & ~sides.kink
        if not suspects.any():
            break
        flat = np.flatnonzero(suspects)
        order = flat[np.argsort(-gap.ravel()[flat], kind="stable")][:RECHECK]
        index = np.unravel_index(order, np.shape(x))
        opinion = numerical_gradient(_subset(f, x, index), x[index], dout, richardson, None, False)
        settles = numeric_bound(opinion) < differences(check, sides)[index]
        numeric = _merged(numeric, index, opinion, settles)
        if numeric.method.kind == "stencil" and not settles.all():
            # Where Richardson could not settle it, the stencil's order may have dropped.
            doubted = tuple(axis[~settles] for axis in index)
            measured = order_checked(
                _subset(f, x, doubted), x[doubted], dout, numeric.method, numeric.step[doubted]
            )
            widened = measured.truncation > numeric.truncation[doubted]
            numeric = _merged(numeric, doubted, measured, widened)
        done[index] = True
        check = check_gradient(name, backward, symbolic, numeric, sides, x, False, truth)
        if check.ok or done[worst_index(check)]:
            break
    return numeric, check, int(done.sum())


# --fast: what a projection must catch, and how surely (see :func:`project`).
FAST_RELATIVE = 1e-6  # a planted error e with ‖e‖ = 1e-6·‖g‖ (float64)…
FAST_MISS = 1e-3  # …passes with probability at most this
FAST_ROUNDS = 3  # independent directions at most before drilling down instead
ROUNDING_SIGMAS = 4  # the statistical rounding model's allowance, in standard deviations
_DENSITY = 2 * np.sqrt(2 / np.pi)  # P(|N(0, σ²)| ≤ 2τ) ≤ this·τ/σ


@dataclass(frozen=True)
class Projected:
    """A projection's outcome: the record for the report, the bound on the chance that a
    relative :data:`FAST_RELATIVE` error went unseen, and the forwards it took."""

    projection: Projection
    miss: float
    forwards: int
    dtype: np.dtype

    @property
    def settled(self) -> bool:
        """Agrees, and (in float64) surely enough; otherwise the full check decides."""
        sure = self.miss <= FAST_MISS or self.dtype != np.float64
        return self.projection.ok and sure


def _round(
    backward: np.ndarray,
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    complex_step: bool,
    rng: np.random.Generator,
) -> tuple[float, float, float, int]:
    """One direction: (⟨d, backward⟩, the numeric directional derivative, its tolerance,
    forwards). Central differences at t and 2t along d, or one complex step."""
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps)
    u = np.asarray(dout, dtype=np.float64)
    direction = rng.standard_normal(x.shape) * scale(x)
    b = np.asarray(backward, dtype=np.float64)
    if complex_step:
        t = eps  # a power of two: t·d is exact, and t² is far below rounding
        out = np.asarray(f(x + 1j * t * direction.astype(x.dtype)))
        moved = out.imag.astype(np.float64) / t
        numeric = float(np.sum(u * moved))
        sigma = eps * float(np.sqrt(np.sum((u * moved) ** 2)))
        claimed_terms = direction * b
        claimed = float(np.sum(claimed_terms))
        sigma += eps * float(np.sqrt(np.sum(claimed_terms**2)))
        return (
            claimed,
            numeric,
            ROUNDING_SIGMAS * sigma
            + exact_tolerance(x.dtype, float(np.sqrt(np.sum(claimed_terms**2)))),
            1,
        )
    t = float(automatic_step("central", np.zeros(1, dtype=x.dtype))[0])
    gaps, sigma, claimed, numeric = [], 0.0, 0.0, 0.0
    for multiple in (1, 2):
        step = multiple * t
        displaced = direction.astype(x.dtype) * x.dtype.type(step)
        above, below = x + displaced, x - displaced
        # The displacements actually taken (x ± t·d rounded), exact by Sterbenz's lemma:
        # the backward is projected on the direction the differences really measured.
        taken = ((above - x).astype(np.float64) + (x - below)) / (2 * step)
        high, low = np.asarray(f(above)), np.asarray(f(below))
        value = float(np.sum(u * np.subtract(high, low, dtype=np.float64))) / (2 * step)
        terms = taken * b
        projected = float(np.sum(terms))
        if multiple == 1:
            claimed, numeric = projected, value
            # Each output rounded at about ε of its size, independently: the difference's
            # rounding is a sum of n such errors, of standard deviation ε·‖u·f‖/2t.
            spread = np.sqrt(np.sum(u**2 * (high.astype(np.float64) ** 2 + low**2)))
            sigma = eps * float(spread) / (2 * step) + eps * float(np.sqrt(np.sum(terms**2)))
            own = exact_tolerance(x.dtype, float(np.sqrt(np.sum(terms**2))))
        gaps.append(value - projected)
    truncation = abs(gaps[1] - gaps[0]) / 3  # central's error grows like t²: 4× at 2t
    tolerance = ROUNDING_SIGMAS * sigma + TRUNCATION_MARGIN * truncation + own
    return claimed, numeric, tolerance, 4


def project(
    name: str,
    backward: np.ndarray,
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    method: Method,
    rng: np.random.Generator,
) -> Projected:
    """Random projections: ⟨d, backward⟩ against d/dt ⟨dout, f(x + t·d)⟩ at t = 0.

    d is Gaussian in units of max(1, |x|) per element. The directional derivative is the
    complex step where ``method`` is (one forward, exact to rounding), else central
    differences at t and 2t (four forwards; their gap is the truncation estimate). The
    backward is projected on the displacement actually taken (x ± t·d after rounding).

    The tolerance τ is statistical: each output's rounding is an independent error of
    about ε of its size, so the numeric value's rounding has standard deviation
    σ = ε·‖u·f‖/2t, allowed :data:`ROUNDING_SIGMAS` times, plus twice the truncation
    estimate and the backward's own 64ε. A disagreement is never reported from here: it
    only sends the array to the full check, which decides, so a tight τ costs time, never
    a wrong verdict.

    Miss bound. Let the backward be b = g + e with ‖e‖ = r·‖g‖. Then ⟨d, b⟩ − numeric =
    ⟨d, e⟩ − err with |err| ≤ τ under the model, so an error passes only if
    |⟨d, e⟩| ≤ 2τ. ⟨d, e⟩ is normal with standard deviation σₑ = ‖max(1,|x|)·e‖ ≥ ‖e‖
    ≥ r‖b‖/(1 + r), whatever elements e sits on, and a normal density is at most
    1/(σₑ√(2π)), so

        P(miss) ≤ 2·√(2/π)·τ·(1 + r) / (r·‖b‖)

    per direction, and the product over independent directions. Directions are drawn
    until that product is at most :data:`FAST_MISS` for r = :data:`FAST_RELATIVE`, at most
    :data:`FAST_ROUNDS` of them (a direction whose stencil crosses a kink has a large τ,
    so the next one is drawn); a float64 projection that still cannot promise it is
    drilled into. In float32 one direction is taken and its bound only reported.
    """
    x = np.asarray(x)
    complex_step = method.kind == "complex-step"
    norm = float(np.sqrt(np.sum(np.asarray(backward, dtype=np.float64) ** 2)))
    miss, forwards, worst = 1.0, 0, None
    for _ in range(FAST_ROUNDS if x.dtype == np.float64 else 1):
        claimed, numeric, tolerance, spent = _round(backward, f, x, dout, complex_step, rng)
        forwards += spent
        record = Projection(name=name, claimed=claimed, numeric=numeric, tolerance=tolerance)
        if (
            worst is None
            or abs(claimed - numeric) * worst.tolerance
            > abs(worst.claimed - worst.numeric) * tolerance
        ):
            worst = record
        if not record.ok:
            break
        if norm == 0:  # g = 0 forces e = 0: there is nothing to miss
            miss = 0.0
        else:
            bound = _DENSITY * tolerance * (1 + FAST_RELATIVE) / (FAST_RELATIVE * norm)
            miss *= min(1.0, bound)
        if miss <= FAST_MISS:
            break
    return Projected(worst, miss, forwards, x.dtype)
