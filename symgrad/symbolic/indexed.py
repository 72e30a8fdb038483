"""Layers written as indexed sums (convolution, average pooling): every shape shown.

The forward is one indexed formula, y[n,f,i,j] = Σ_{c,p,q} W[f,c,p,q]·x[n,c,i·s+p−pad,
j·s+q−pad] + b[f], with x read as 0 outside its H×W (the zero padding). SymPy
differentiates the pairing L = Σ dy[n,f,i,j]·y[n,f,i,j] with respect to one element of
each array, A[e], and sums the Kronecker deltas that come out of it: what is left is the
backward as an indexed sum (for dx, the transposed convolution). Each delta is summed
only over an index that the differentiated element fixes, and a condition on the element
alone (0 ≤ c < C) holds because e is an element of A; nothing else is simplified by hand.

The same formulas, with the sizes and the stride made numbers, are what the symbolic
column evaluates: each indexed factor gathered on a grid of its indices, in float64 or at
many digits (object arrays of mpmath numbers).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import ChainRule, Derivation, GraphNode, SecondDerivation
from symgrad.symbolic.cache import remember
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)

GRID_ELEMENTS = 2**20  # a gathered grid holds at most about this many elements at once


def integers(names: str) -> tuple[sp.Symbol, ...]:
    """Index or size symbols, integer (sizes positive), as the indexed formulas need."""
    return sp.symbols(names, integer=True, nonnegative=True)


@dataclass(frozen=True)
class Array:
    """One array of an indexed layer: its name, its index symbols and its sizes, in axis
    order (x: n, c, h, w over N, C, H, W)."""

    name: str
    indices: tuple[sp.Symbol, ...]
    sizes: tuple[sp.Expr, ...]

    @property
    def base(self) -> sp.IndexedBase:
        return sp.IndexedBase(self.name)

    def shape_text(self) -> str:
        from symgrad.render.mathtext import pretty

        return "×".join(pretty(s) for s in self.sizes)


@dataclass(frozen=True)
class Indexed:
    """What an indexed layer's ``build(settings)`` returns, with the settings given as
    numbers or left as symbols (s, pad) for the derivation.

    Attributes:
        inputs: the differentiated arrays, in the layer's order (x, W, b).
        output: the output array (y over n, f, i, j with sizes N, F, OH, OW).
        terms: (node name, summand, summation limits) per term of the forward; the
            output is their sum (the convolution's Σ W·x, then b[f]).
        sizes: each output size in the input sizes (OH = ⌊(H + 2·pad − KH)/s⌋ + 1).
        notes: what the formula assumes, in words (x is 0 outside its H×W).
        settings: each setting's symbol by the NumPy class's name for it (stride: s),
            for the settings left symbols.
    """

    inputs: tuple[Array, ...]
    output: Array
    terms: tuple[tuple[str, sp.Expr, tuple[tuple[sp.Symbol, Any, Any], ...]], ...]
    sizes: dict[sp.Symbol, sp.Expr]
    notes: tuple[str, ...] = ()
    settings: dict[str, sp.Symbol] = field(default_factory=dict)

    def forward(self) -> sp.Expr:
        return sp.Add(*(_summed(body, limits) for _, body, limits in self.terms))


def _summed(body: sp.Expr, limits) -> sp.Expr:
    return sp.Sum(body, *limits) if limits else body


def _label(array: Array) -> str:
    """``W[f, c, p, q]``: an array with its indices, as a gradient's formula is written."""
    return f"{array.name}[{', '.join(map(str, array.indices))}]"


def _element(array: Array) -> tuple[sp.Symbol, ...]:
    """Primed indices for the one element differentiated: W[f′, c′, p′, q′]."""
    return tuple(sp.Symbol(f"{index}'", integer=True, nonnegative=True) for index in array.indices)


def _in_range(condition: sp.Basic, factors: Sequence[sp.Basic], sizes: Mapping) -> bool:
    """Whether ``condition`` says no more than that an index of one of the indexed
    ``factors`` lies inside its array (e ≥ 0, or e ≤ size − 1): true wherever that factor
    is not 0, since every array is 0 outside its index ranges."""
    if not isinstance(condition, sp.GreaterThan | sp.LessThan):
        return False
    slack = condition.lhs - condition.rhs
    if isinstance(condition, sp.LessThan):
        slack = -slack
    for factor in factors:
        if not isinstance(factor, sp.Indexed):
            continue
        for index, size in zip(factor.indices, sizes.get(str(factor.base), ()), strict=False):
            if sp.expand(slack - index) == 0 or sp.expand(slack - (size - 1 - index)) == 0:
                return True
    return False


def _size_symbols(sizes: Mapping[str, Sequence[sp.Expr]]) -> set[sp.Symbol]:
    """The symbols the arrays' sizes are written in (N, C, KH, …)."""
    return set().union(*(sp.sympify(n).free_symbols for shape in sizes.values() for n in shape))


def _collapse(expr: sp.Expr, element: set, sizes: Mapping) -> sp.Expr:
    """Sum the Kronecker deltas δ(v, e) over the summation index v they fix, and drop the
    conditions that only say an index lies inside its array: the differentiated
    element's (0 ≤ c′ < C holds for an element), or a factor's (it is 0 outside)."""
    if isinstance(expr, sp.Add):
        return sp.Add(*(_collapse(term, element, sizes) for term in expr.args))
    if isinstance(expr, sp.Piecewise):
        (value, condition), *rest = expr.args
        if not (len(rest) == 1 and rest[0][0] == 0):
            return expr
        value = _collapse(value, element, sizes)
        factors = sp.Mul.make_args(value)
        parts = condition.args if isinstance(condition, sp.And) else (condition,)
        kept = [
            c
            for c in parts
            if not c.free_symbols <= element | _size_symbols(sizes)
            and not _in_range(c, factors, sizes)
        ]
        return sp.Piecewise((value, sp.And(*kept)), (0, True)) if kept else value
    if not isinstance(expr, sp.Sum):
        return expr
    body, limits = _collapse(expr.function, element, sizes), list(expr.limits)
    while True:
        value = body.args[0][0] if isinstance(body, sp.Piecewise) else body
        fixes = [
            (k, fixed, delta)
            for delta in sp.Mul.make_args(value)
            if isinstance(delta, sp.KroneckerDelta)
            for k, (variable, _low, _high) in enumerate(limits)
            for fixed in [dict(zip(delta.args, delta.args[::-1], strict=True)).get(variable)]
            if fixed is not None and fixed.free_symbols <= element
        ]
        if not fixes:
            return _summed(body, limits)
        k, fixed, delta = fixes[0]
        body = _collapse(body.xreplace({delta: 1}).xreplace({limits[k][0]: fixed}), element, sizes)
        del limits[k]


def _renamed(expr: sp.Expr, array: Array, element: tuple[sp.Symbol, ...]) -> sp.Expr:
    """The element's primed indices named as the array's own (W[f′,…] → W[f,…]): a name
    is free once the delta that used it has been summed away."""
    bound = set()
    for s in expr.atoms(sp.Sum):
        bound |= {limit[0] for limit in s.limits}
    clash = bound & set(array.indices)
    if clash:  # keep the primes rather than capture a summation index
        return expr
    return expr.xreplace(dict(zip(element, array.indices, strict=True)))


def backward_sums(
    form: Indexed, upstream: str = "dy", read: Sequence[Array] = ()
) -> dict[str, sp.Expr]:
    """d<name>[its indices] for every input, derived by SymPy from the pairing
    L = Σ_{output indices} dy[…]·y[…]; ``read`` are further arrays the forward reads but
    that are not differentiated (a direction), 0 outside their index ranges as well."""
    out = form.output
    dy = sp.IndexedBase(upstream)[out.indices]
    limits = tuple((i, 0, n - 1) for i, n in zip(out.indices, out.sizes, strict=True))
    pairing = sp.Sum(dy * form.forward(), *limits)
    sizes = {a.name: a.sizes for a in (*form.inputs, *read, out)}
    gradients = {}
    for array in form.inputs:
        element = _element(array)
        derivative = pairing.diff(array.base[element]).doit()
        collapsed = _collapse(derivative, set(element), sizes)
        gradients[array.name] = _renamed(collapsed, array, element)
    return gradients


# ---------------------------------------------------------------- evaluation on arrays


def _gather(array: np.ndarray, indices: Sequence[np.ndarray]) -> np.ndarray:
    """array[indices] on broadcast index grids, 0 where an index falls outside the array
    (the zero padding the formulas assume)."""
    inside = np.ones(np.broadcast_shapes(*(np.shape(i) for i in indices)), dtype=bool)
    clipped = []
    for index, size in zip(indices, array.shape, strict=True):
        inside &= (index >= 0) & (index < size)
        clipped.append(np.clip(index, 0, size - 1))
    values = array[tuple(clipped)]
    zero = np.zeros((), dtype=values.dtype) if values.dtype != object else 0
    return np.where(inside, values, zero)


def _on_grid(expr: sp.Basic, grid: Mapping[sp.Symbol, np.ndarray], arrays) -> Any:
    """The value of a summand on index grids (integers broadcast against each other)."""
    if expr in grid:
        return grid[expr]
    if isinstance(expr, sp.Indexed):
        indices = [np.asarray(_on_grid(i, grid, arrays)) for i in expr.indices]
        return _gather(arrays[str(expr.base)], indices)
    if expr.is_Integer:
        return int(expr)
    if expr.is_Number:
        return arrays["__number__"](expr)
    if expr is sp.true:
        return True
    if isinstance(expr, sp.Piecewise):
        (value, condition), (otherwise, _true) = expr.args
        return np.where(
            _on_grid(condition, grid, arrays),
            _on_grid(value, grid, arrays),
            _on_grid(otherwise, grid, arrays),
        )
    args = [_on_grid(a, grid, arrays) for a in expr.args]
    if isinstance(expr, sp.Add):
        return sum(args[1:], args[0])
    if isinstance(expr, sp.Mul):
        return math.prod(args[1:], start=args[0])
    if isinstance(expr, sp.And):
        return np.logical_and.reduce(np.broadcast_arrays(*args))
    relations = {
        sp.GreaterThan: np.greater_equal,
        sp.StrictGreaterThan: np.greater,
        sp.LessThan: np.less_equal,
        sp.StrictLessThan: np.less,
        sp.Eq: np.equal,
    }
    if type(expr) in relations:
        return relations[type(expr)](*args)
    raise TypeError(f"cannot evaluate {type(expr).__name__} on index grids")


def evaluate_sum(
    expr: sp.Expr,
    free: Sequence[tuple[sp.Symbol, int]],
    arrays: Mapping[str, Any],
    dtype: Any = np.float64,
) -> np.ndarray:
    """An indexed formula's value at every combination of its free indices (sizes given),
    each term's summation indices summed: vectorised over the free indices and the inner
    summation indices, looping over outer ones where the grid would exceed
    :data:`GRID_ELEMENTS`."""
    shape = tuple(size for _, size in free)
    total = np.zeros(shape, dtype=dtype)
    for term in sp.Add.make_args(expr):
        body, limits = (term.function, term.limits) if isinstance(term, sp.Sum) else (term, ())
        ranges = [(v, int(low), int(high) + 1) for v, low, high in limits]
        looped, vectorised, elements = [], [], math.prod(shape)
        for variable, low, high in reversed(ranges):  # the innermost sum first
            if not looped and elements * (high - low) <= GRID_ELEMENTS:
                vectorised.insert(0, (variable, low, high))
                elements *= high - low
            else:
                looped.insert(0, (variable, low, high))
        axes = len(free) + len(vectorised)
        grid = {}
        for k, (symbol, size) in enumerate(free):
            grid[symbol] = np.arange(size).reshape((-1,) + (1,) * (axes - k - 1))
        for k, (variable, low, high) in enumerate(vectorised, start=len(free)):
            grid[variable] = np.arange(low, high).reshape((-1,) + (1,) * (axes - k - 1))
        summed = tuple(range(len(free), axes))
        for values in itertools.product(*(range(low, high) for _, low, high in looped)):
            point = {**grid, **{v: value for (v, _, _), value in zip(looped, values, strict=True)}}
            value = np.asarray(_on_grid(body, point, arrays))
            value = np.broadcast_to(value, np.broadcast_shapes(value.shape, _grid_shape(point)))
            total = total + (value.sum(axis=summed) if summed else value)
    return total


def _number(digits: int | None) -> Callable[[sp.Number], Any]:
    """A SymPy constant as a float, or exactly as an mpmath number (1/9 to every digit)."""
    if digits is None:
        return float
    import mpmath

    return lambda v: mpmath.mpf(int(v.p)) / int(v.q) if v.is_Rational else mpmath.mpf(str(v))


def _grid_shape(grid: Mapping[sp.Symbol, Any]) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(v) for v in grid.values()))


@dataclass(frozen=True)
class IndexedForm:
    """A layer whose forward is an indexed sum, built for its settings.

    Attributes:
        build: the layer's settings by keyword (numbers, or None for each one left a
            symbol) → :class:`Indexed`.
        defaults: the settings the NumPy class defaults to (``stride=1, pad=0``): what a
            gradient is evaluated with unless told; a derivation leaves them symbols.
    """

    build: Callable[..., Indexed]
    defaults: dict[str, int]
    output: str = "y"
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def derive(self, name: str) -> Derivation:
        """The forward as an indexed sum and each gradient as SymPy derives it. One node
        per term, each adding its term to the one below (z = Σ W·x, then y = z + b[f]),
        with its backward rule in the upstream gradient of its own output; the chain
        rule walks them down; every array's shape is shown."""
        form = self.build(**dict.fromkeys(self.defaults))
        out = form.output
        names = [f"z{k}" if k else "z" for k in range(len(form.terms) - 1)] + [out.name]
        nodes, rules = [], []
        for k, (op, body, limits) in enumerate(form.terms):
            inputs = [a for a in form.inputs if body.has(a.base)]
            terms = [(op, body, limits)]
            if k:  # the partial sum below comes in as an array of the output's shape
                below = Array(names[k - 1], out.indices, out.sizes)
                inputs.insert(0, below)
                terms.insert(0, ("", below.base[below.indices], ()))
            node = Indexed(
                inputs=tuple(inputs),
                output=Array(names[k], out.indices, out.sizes),
                terms=tuple(terms),
                sizes=form.sizes,
            )
            rules.append(backward_sums(node, f"d{names[k]}"))
            nodes.append(
                GraphNode(
                    op=op,
                    output=_label(node.output),
                    inputs=tuple(a.name for a in inputs),
                    expression=node.forward(),
                    local_derivatives={_label(a): rules[k][a.name] for a in inputs},
                    shapes={a.name: a.shape_text() for a in (node.output, *inputs)},
                )
            )
        gradients = backward_sums(form)
        chains = []
        for array in form.inputs:
            k = next(k for k, (_op, body, _limits) in enumerate(form.terms) if body.has(array.base))
            path = tuple(reversed(names[k:]))  # from y down to the node that takes the array
            factors = tuple(rules[j][names[j - 1]] for j in range(len(names) - 1, k, -1))
            chains.append(
                ChainRule(
                    wrt=_label(array),
                    paths=(path,),
                    factors=((*factors, rules[k][array.name]),),
                    product=gradients[array.name],
                )
            )
        from symgrad.render.mathtext import pretty

        shapes = {a.name: a.shape_text() for a in (*form.inputs, out)}
        shapes[f"d{out.name}"] = out.shape_text()
        return Derivation(
            layer=name,
            output=_label(out),
            forward=form.forward(),
            inputs=tuple(a.name for a in form.inputs),
            nodes=tuple(nodes),
            chains=tuple(chains),
            derivatives={_label(a): gradients[a.name] for a in form.inputs},
            matrix=True,
            shapes=shapes,
            notes=(
                *(f"{pretty(s)} = {pretty(v)}" for s, v in form.sizes.items()),
                *map(Message, form.notes),
            ),
        )

    def _concrete(
        self, shapes: Shapes, settings: Mapping[str, int] | None
    ) -> tuple[Indexed, dict[sp.Symbol, int], list[int]]:
        """The form with its settings as symbols, the numbers every size and setting takes
        for arrays of ``shapes`` with ``settings`` (the defaults unless given), and the
        output's sizes. Rules are derived on the symbolic form, then made numbers: with a
        number for the stride SymPy would sum δ(h, 2·i) over i as if i = h/2 always
        existed (it does only for an even h)."""
        given = {**self.defaults, **(settings or {})}
        form = self.build(**dict.fromkeys(self.defaults))
        values: dict[sp.Symbol, int] = {form.settings[k]: v for k, v in given.items()}
        for array in form.inputs:
            for size, actual in zip(array.sizes, shapes[array.name], strict=True):
                if isinstance(size, sp.Symbol):
                    values[size] = actual
        values |= {s: int(value.subs(values)) for s, value in form.sizes.items()}
        out_sizes = [int(sp.sympify(s).subs(values)) for s in form.output.sizes]
        return form, values, out_sizes

    def _evaluator(
        self,
        rules: Mapping[str, sp.Expr],
        form: Indexed,
        shapes: Shapes,
        out_sizes: list[int],
        digits: int | None,
    ) -> Callable[[dict[str, Any]], dict[str, np.ndarray]]:
        """Indexed rules, one per input (made numbers), evaluated on named arrays (the
        inputs, ``dy`` and any other array the rules read, such as a direction)."""
        arithmetic = Arithmetic(digits)

        def evaluate(arrays: dict[str, Any]) -> dict[str, np.ndarray]:
            # In float64 the sums run in extended precision: a gradient summing many
            # products that cancel (dW at a small entry) was 174 ulps from the truth
            # in plain float64, where the NumPy backward's BLAS dot was 15.
            kind = np.longdouble if digits is None else object
            with arithmetic.context():
                values: dict[str, Any] = {
                    name: arithmetic.array(a).astype(kind) for name, a in arrays.items()
                }
                values["dy"] = values["dy"].reshape(out_sizes)
                values["__number__"] = _number(digits)
                results = {
                    a.name: evaluate_sum(
                        rules[a.name],
                        tuple(zip(a.indices, shapes[a.name], strict=True)),
                        values,
                        kind,
                    )
                    for a in form.inputs
                }
                if digits is None:
                    return {name: r.astype(np.float64) for name, r in results.items()}
                return results

        return evaluate

    def gradient_function(
        self, shapes: Shapes, digits: int | None = None, settings: Mapping[str, int] | None = None
    ) -> GradientFunction:
        """SymPy's indexed gradients for arrays of ``shapes`` with the layer's
        ``settings`` (its defaults unless given), in float64 or at ``digits`` digits."""
        given = {**self.defaults, **(settings or {})}
        key = (tuple(sorted(shapes.items())), digits, tuple(sorted(given.items())))
        if key not in self._cache:
            form, values, out_sizes = self._concrete(shapes, given)
            rules = remember(
                ("indexed gradients", sp.srepr(form.forward())), lambda: backward_sums(form)
            )
            rules = {name: rule.subs(values) for name, rule in rules.items()}
            evaluate = self._evaluator(rules, form, shapes, out_sizes, digits)

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                given = {a.name: arrays[a.name] for a in form.inputs}
                return {f"d{n}": g for n, g in evaluate({**given, "dy": dout}).items()}

            self._cache[key] = gradients
        return self._cache[key]

    def derive_second(self, name: str) -> SecondDerivation:
        """The second-order term as a Hessian-vector product, each input's part an
        indexed sum derived by SymPy (:func:`hessian_products`): for a convolution, which
        is bilinear in x and W, only the mixed terms are left ((H·v)_x is dx with W read
        as v_W, (H·v)_W is dW with x read as v_x, (H·v)_b = 0); for a linear layer (average
        pooling) every part is 0."""
        form = self.build(**dict.fromkeys(self.defaults))
        out = form.output
        products = hessian_products(form)
        directions = [direction(a) for a in form.inputs]
        shapes = {a.name: a.shape_text() for a in (*form.inputs, *directions, out)}
        shapes[f"d{out.name}"] = out.shape_text()
        pairing = f"⟨d{out.name}, {out.name}⟩"
        return SecondDerivation.of_products(
            layer=name,
            output=out.name,
            forward=form.forward(),
            first=backward_sums(form),
            products=products,
            shapes=shapes,
            notes=(
                Message(
                    N_(
                        "H is the Hessian of {pairing} in every input, v = ({directions}) a "
                        "direction of the same shapes; (H·v)_a is derived as the gradient in a "
                        "of {pairing}'s derivative along v, by the same summing of Kronecker "
                        "deltas as the first derivatives"
                    ),
                    pairing=pairing,
                    directions=", ".join(a.name for a in directions),
                ),
                *map(Message, form.notes),
            ),
        )

    def hvp_function(
        self, shapes: Shapes, settings: Mapping[str, int] | None = None
    ) -> HessianVectorFunction:
        """SymPy's H·v of ⟨dy, y⟩ (:func:`hessian_products`) in float64 for arrays of
        ``shapes`` with ``settings``: ``{name: (H·v)_name}`` for directions by input name."""
        given = {**self.defaults, **(settings or {})}
        key = ("hvp", tuple(sorted(shapes.items())), tuple(sorted(given.items())))
        if key not in self._cache:
            form, values, out_sizes = self._concrete(shapes, given)
            rules = remember(
                ("indexed hvp", sp.srepr(form.forward())), lambda: hessian_products(form)
            )
            rules = {name: sp.sympify(rule).subs(values) for name, rule in rules.items()}
            evaluate = self._evaluator(rules, form, shapes, out_sizes, None)

            def hvp(arrays, dout, given):
                named = {a.name: arrays[a.name] for a in form.inputs}
                named |= {direction(a).name: given[a.name] for a in form.inputs}
                return evaluate({**named, "dy": dout})

            self._cache[key] = hvp
        return self._cache[key]


def direction(array: Array) -> Array:
    """The direction an array is moved along at order 2 (v_x for x), of its indices."""
    return Array(f"v{array.name}", array.indices, array.sizes)


def hessian_products(form: Indexed) -> dict[str, sp.Expr]:
    """(H·v)_a for every input a: the gradient in a of the pairing's derivative along v,
    d/dt ⟨dy, y(a + t·v_a, …)⟩ at t = 0. That derivative is again an indexed layer (each
    summand's product rule, every input's factor replaced by its direction's in turn), so
    its gradient is :func:`backward_sums` of it: SymPy differentiates twice, nothing is
    typed in."""
    t = sp.Dummy("t")
    names = {a.name: direction(a).base for a in form.inputs}

    def moved(body: sp.Expr) -> sp.Expr:
        shifted = body.replace(
            lambda e: isinstance(e, sp.Indexed) and str(e.base) in names,
            lambda e: e + t * names[str(e.base)][e.indices],
        )
        return sp.expand(sp.diff(shifted, t).subs(t, 0))

    along = replace(form, terms=tuple((op, moved(body), lim) for op, body, lim in form.terms))
    return backward_sums(along, read=[direction(a) for a in form.inputs])
