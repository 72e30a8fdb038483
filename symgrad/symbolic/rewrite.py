"""Controlled rewriting: a derivative in the layer's output, in the form the note prints.

A plain ``simplify`` of the sigmoid chain gives 1/(4·cosh²(x/2)): right, but useless for
teaching. Here the derivative is rewritten in the output y by substitution (the forward
itself, then its inverse), and every candidate is *proved* equal before it is used.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import sympy as sp

PRECISION = 50  # digits for the numeric half of a proof


def _ops(expr: sp.Expr) -> tuple[int, int, bool, bool, int]:
    """Smaller is nicer: fewer operations, fewer minus signs, factored (the expression and
    its denominator: y(1 − y), not y² − y), shorter text."""
    text = sp.sstr(expr)
    factored = isinstance(sp.denom(expr), sp.Add)
    return sp.count_ops(expr), text.count("-"), isinstance(expr, sp.Add), factored, len(text)


def _negated(factor: sp.Expr) -> sp.Expr | None:
    """−factor for a sum or a sum to an odd power (1/(y − 1) → 1/(1 − y)), else None."""
    if isinstance(factor, sp.Add):
        return -factor
    base, exponent = factor.as_base_exp()
    if isinstance(base, sp.Add) and exponent.is_integer and exponent.is_odd:
        return (-base) ** exponent
    return None


def tidy(expr: sp.Expr) -> sp.Expr:
    """The nicest of a few equivalent forms: y*(1 - y) rather than -y*(y - 1)."""
    candidates = [expr]
    for transform in (sp.factor, sp.cancel, sp.expand):
        try:
            candidates.append(transform(expr))
        except Exception:  # a simplifier that raises just offers no candidate
            continue
    flipped = []
    for candidate in candidates:  # a leading minus taken into one sum: −(y − 1) → 1 − y
        coefficient, factors = candidate.as_coeff_mul()
        if not coefficient.is_negative:
            continue
        for k, factor in enumerate(factors):
            negated = _negated(factor)
            if negated is not None:
                others = factors[:k] + factors[k + 1 :]
                flipped.append(sp.Mul(-coefficient, *others, negated))
    return min(candidates + flipped, key=_ops)


def normal_form(expr: sp.Expr) -> sp.Expr:
    """A cheap canonical form: exponentials merged, fractions cancelled.

    Full ``simplify`` is avoided on purpose: it can raise or be slow, and its first call
    imports ``sympy.physics`` (a quarter of a second the user would wait for).
    """
    return sp.cancel(sp.powsimp(sp.expand(expr)))


def proved_equal(a: sp.Expr, b: sp.Expr, points: int = 6, seed: int = 0) -> bool:
    """True when ``a == b`` identically: by normal form, else at random points to 50 digits.

    Agreement at several random points at high precision is the proof of last resort (two
    different rational-exponential expressions agreeing to 40 digits at six random points
    is not a coincidence we need to fear).
    """
    try:
        if normal_form(a - b) == 0:
            return True
    except Exception:  # fall through to the numeric proof
        pass
    symbols = sorted((a - b).free_symbols, key=str)
    rng = random.Random(seed)
    for _ in range(points):
        at = {s: sp.Float(rng.uniform(0.1, 0.9), PRECISION) for s in symbols}
        difference = (a - b).evalf(PRECISION, subs=at)
        scale = max(abs(a.evalf(PRECISION, subs=at)), 1)
        if not difference.is_number or abs(difference) > scale * sp.Float(10) ** (10 - PRECISION):
            return False
    return True


def as_one_of(expr: sp.Expr, forms: Iterable[sp.Expr]) -> sp.Expr | None:
    """The first of ``forms`` that ``expr`` is identically equal to, or None.

    How softplus's derivative eˣ/(1 + eˣ) is shown as the sigmoid 1/(1 + e⁻ˣ): ``forms``
    are the forwards of named functions. A comparison at one point to 15 digits rules most
    out before the proof is attempted.
    """
    at = {s: sp.Float("0.37") for s in expr.free_symbols}
    scale = abs(expr.evalf(15, subs=at))
    if scale.is_finite is not True:  # not a number there (a pole, a nan): nothing to match
        return None
    bound = 1e-12 * max(scale, 1)
    for form in forms:
        if form == expr or form.free_symbols != expr.free_symbols:
            continue
        gap = abs((form - expr).evalf(15, subs=at))
        if gap.is_finite is True and gap <= bound and proved_equal(form, expr):
            return form
    return None


def in_terms_of_output(
    derivative: sp.Expr, forward: sp.Expr, x: sp.Symbol, y: sp.Symbol
) -> sp.Expr | None:
    """``derivative`` (a function of x) rewritten as a function of y = forward(x), or None.

    First substitute the forward itself (1 − tanh(x)² → 1 − y²); whatever x remains is
    replaced through the inverse function (e^(−x) = (1 − y)/y for sigmoid). Each candidate
    must satisfy candidate(forward(x)) == derivative(x) identically.
    """
    if isinstance(derivative, sp.Piecewise) and isinstance(forward, sp.Piecewise):
        return _piecewise_in_terms_of_output(derivative, forward, x, y)
    candidates = []
    substituted = derivative.subs(forward, y)
    if x not in substituted.free_symbols:
        candidates.append(substituted)
    else:
        try:
            inverses = sp.solve(sp.Eq(y, forward), x, check=False, simplify=False)
        except Exception:  # no closed-form inverse: no output form
            inverses = []
        for inverse in inverses:
            try:
                candidates.append(normal_form(substituted.subs(x, inverse)))
            except Exception:
                continue
    proved = [
        tidy(c)
        for c in candidates
        if x not in c.free_symbols and proved_equal(c.subs(y, forward), derivative)
    ]
    return min(proved, key=_ops) if proved else None


def _piecewise_in_terms_of_output(
    derivative: sp.Piecewise, forward: sp.Piecewise, x: sp.Symbol, y: sp.Symbol
) -> sp.Piecewise | None:
    """Branch by branch, where the derivative and the forward branch on the same conditions:
    each branch's derivative in y through that branch's forward (eˣ = y + 1 for ELU's
    x ≤ 0), a branch with no x left as it is. The conditions stay in x: they say which
    branch's y it is. None when no branch could be rewritten.
    """
    conditions = [condition for _, condition in derivative.args]
    if conditions != [condition for _, condition in forward.args]:
        return None
    pieces = []
    for (value, condition), (branch, _) in zip(derivative.args, forward.args, strict=True):
        rewritten = in_terms_of_output(value, branch, x, y) if value.has(x) else None
        pieces.append((value if rewritten is None else rewritten, condition))
    if all(value == piece for (value, _), (piece, _) in zip(derivative.args, pieces, strict=True)):
        return None
    return sp.Piecewise(*pieces)
