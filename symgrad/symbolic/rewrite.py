"""Controlled rewriting: a derivative in the layer's output, in the form the note prints.

A plain ``simplify`` of the sigmoid chain gives 1/(4·cosh²(x/2)): right, but useless for
teaching. Here the derivative is rewritten in the output y by substitution (the forward
itself, then its inverse), and every candidate is *proved* equal before it is used.
"""

from __future__ import annotations

import random

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


def in_terms_of_output(
    derivative: sp.Expr, forward: sp.Expr, x: sp.Symbol, y: sp.Symbol
) -> sp.Expr | None:
    """``derivative`` (a function of x) rewritten as a function of y = forward(x), or None.

    First substitute the forward itself (1 − tanh(x)² → 1 − y²); whatever x remains is
    replaced through the inverse function (e^(−x) = (1 − y)/y for sigmoid). Each candidate
    must satisfy candidate(forward(x)) == derivative(x) identically.
    """
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
