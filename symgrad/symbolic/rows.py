"""Row-wise layers (softmax, log-softmax): a row of C entries in, a row of C entries out.

SymPy works on one row of C explicit symbols x₁…x_C. The Jacobian ∂yᵢ/∂xⱼ is rewritten in
the outputs y through the function's inverse and the constraint its outputs satisfy
(Σ y = 1 for softmax); the backward, dx = Jᵀ·dout row by row, is the chain rule through
y with the upstream gradient doutₖ = ∂L/∂yₖ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import ChainRule, Derivation, GraphNode, SecondDerivation
from symgrad.symbolic.cache import remember
from symgrad.symbolic.losses import ROWS_SUMMED_NOTE, SHOWN_CLASSES, class_symbols
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)
from symgrad.symbolic.rewrite import normal_form, proved_equal, tidy

ROW = sp.IndexedBase("x")  # the row a formula is written on: xᵢ, xₖ
INDEX_I, INDEX_J, INDEX_K = sp.symbols("i j k", integer=True)
C = sp.Symbol("C", integer=True, positive=True)  # entries in a row
SECOND_ROW = 4  # entries a row's second derivatives are derived on: i, j, k and one more


@dataclass(frozen=True)
class RowForm:
    """y = function(x) on one row of C entries, the same for every row.

    Attributes:
        function: a row's C outputs from its C inputs.
        formula: yᵢ written on the row :data:`ROW` with index :data:`INDEX_I` and C entries
            (exp(xᵢ)/Σₖ exp(xₖ)), for printing; checked against ``function``.
        name: the node's name (``softmax``).
        inverse: xₖ in terms of yₖ, up to what cancels (softmax's shift); checked.
        constraint: an expression in the outputs that is 0 for every row (Σ y − 1 for
            softmax), or None; the rewriting in y may use it.
    """

    function: Callable[[Sequence[sp.Symbol]], list[sp.Expr]]
    formula: sp.Expr
    name: str
    inverse: Callable[[sp.Symbol], sp.Expr]
    constraint: Callable[[Sequence[sp.Symbol]], sp.Expr] | None = None
    input: str = "x"
    output: str = "y"
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _on_constraint(self, expr: sp.Expr, ys: Sequence[sp.Symbol], keep: set[int]) -> sp.Expr:
        """Eliminate an output not in ``keep`` through the constraint (y₃ = 1 − y₁ − y₂)."""
        if self.constraint is None:
            return tidy(expr)
        j = max(set(range(len(ys))) - keep)
        (solved,) = sp.solve(self.constraint(ys), ys[j])
        return tidy(sp.expand(sp.cancel(expr.subs(ys[j], solved))))

    def _in_outputs(self, expr: sp.Expr, xs, ys, keep: set[int]) -> sp.Expr:
        """An expression in x rewritten in y through the inverse and the constraint."""
        in_y = normal_form(expr.subs({x: self.inverse(y) for x, y in zip(xs, ys, strict=True)}))
        return self._on_constraint(in_y, ys, keep)

    def _check(self, xs, ys) -> None:
        """The formula is the function, and the function of the inverse gives y back, so
        that what is printed and the rewriting in y are sound."""
        c = len(xs)
        shown = self.formula.subs(C, c).doit().subs(INDEX_I, 1)
        shown = shown.xreplace({ROW[k]: xs[k - 1] for k in range(1, c + 1)})
        if not proved_equal(shown, self.function(xs)[0]):
            raise ArithmeticError(f"the formula printed for {self.name} is not its function")
        back = self.function([self.inverse(y) for y in ys])
        for k, (value, y) in enumerate(zip(back, ys, strict=True)):
            if self._on_constraint(normal_form(value - y), ys, {k}) != 0:
                raise ArithmeticError(f"the inverse of {self.name} is not one")

    def derive(self, name: str) -> Derivation:
        """The node with ∂yᵢ/∂xᵢ and ∂yₖ/∂xᵢ in y, the backward as the chain rule
        through y, and the Jacobian ∂yᵢ/∂xⱼ in one formula with Kronecker's δᵢⱼ."""
        c = SHOWN_CLASSES
        xs, ys = class_symbols(self.input, c), class_symbols(self.output, c)
        douts = class_symbols("dout", c)
        self._check(xs, ys)
        f = self.function(xs)
        y_i, y_j, y_k = (sp.Symbol(f"{self.output}_{s}", real=True) for s in "ijk")
        dout_i, dout_k = (sp.Symbol(f"dout_{s}", real=True) for s in "ik")
        # ∂y₁/∂x₁ and ∂y₂/∂x₁, renamed to index i and another index k.
        diagonal = self._in_outputs(sp.diff(f[0], xs[0]), xs, ys, {0, 1})
        off_diagonal = self._in_outputs(sp.diff(f[1], xs[0]), xs, ys, {0, 1})
        names = {ys[0]: y_i, ys[1]: y_k, douts[0]: dout_i, douts[1]: dout_k}
        x_i = f"{self.input}_i"
        node = GraphNode(
            op=self.name,
            output=self.output,
            inputs=(self.input,),
            expression=sp.Function(self.name.replace("-", "_"))(sp.Symbol(self.input, real=True)),
            local_derivatives={
                f"∂{self.output}_i/∂{x_i}": diagonal.xreplace(names),
                f"∂{self.output}_k/∂{x_i} (k ≠ i)": off_diagonal.xreplace(names),
            },
        )
        # The backward for x₁: Σₖ doutₖ·∂yₖ/∂x₁, each Jacobian entry rewritten in y.
        terms = [
            douts[k] * self._in_outputs(sp.diff(f[k], xs[0]), xs, ys, {0, k}) for k in range(c)
        ]
        backward = self._row_sums(sp.Add(*terms), douts, ys).xreplace(names)
        # ∂yᵢ/∂xⱼ: the entry off the diagonal, plus δᵢⱼ times what the diagonal adds.
        off_ij = off_diagonal.xreplace({ys[1]: y_i, ys[0]: y_j})
        added = diagonal.xreplace(names) - off_ij.subs(y_j, y_i)
        jacobian = tidy(sp.factor(off_ij + sp.KroneckerDelta(INDEX_I, INDEX_J) * added))
        on_symbols = {
            ROW[INDEX_I]: sp.Symbol(x_i, real=True),
            ROW[INDEX_K]: sp.Symbol(f"{self.input}_k", real=True),
        }
        return Derivation(
            layer=name,
            output=f"{self.output}_i",
            forward=self.formula.xreplace(on_symbols),
            inputs=(self.input,),
            nodes=(node,),
            chains=(
                ChainRule(
                    wrt=x_i,
                    of="L",
                    paths=(("L", f"{self.output}_i"), ("L", f"{self.output}_k")),
                    factors=(
                        (dout_i, diagonal.xreplace(names)),
                        (dout_k, off_diagonal.xreplace(names)),
                    ),
                    summed_over=("", "k ≠ i"),
                    product=backward,
                ),
            ),
            derivatives={f"{self.input}_j": jacobian},
            notes=(
                Message(ROWS_SUMMED_NOTE, c=c),
                Message(
                    N_(
                        "doutₖ = ∂L/∂yₖ, the upstream gradient: the chain rule above is the "
                        "backward, row by row"
                    )
                ),
            ),
        )

    def _row_sums(self, expr: sp.Expr, douts, ys) -> sp.Expr:
        """The backward of x₁ with the row's sums named (Σₖ doutₖ·yₖ, Σₖ doutₖ), so that it
        reads for any i; proved equal to ``expr``."""
        sums = {
            sum(d * y for d, y in zip(douts, ys, strict=True)): sp.Symbol("Σₖdoutₖ·yₖ"),
            sum(douts): sp.Symbol("Σₖdoutₖ"),
        }
        others = set(douts[1:]) | set(ys[1:])
        expanded = sp.expand(expr)
        candidates = [
            sp.factor(expanded),
            *(sp.collect(expanded, s) for s in (ys[0], sp.exp(ys[0]))),
        ]
        named = []
        for candidate in candidates:
            for total, symbol in sums.items():
                candidate = candidate.subs(total, symbol)
            if not candidate.free_symbols & others:
                named.append(tidy(candidate))
        for candidate in named:
            if proved_equal(candidate.xreplace({s: t for t, s in sums.items()}), expr):
                return candidate
        return tidy(expr)

    def derive_second(self, name: str) -> SecondDerivation:
        """A row's second derivatives of one output yᵢ, in y: ∂²yᵢ/∂xᵢ², ∂²yᵢ/∂xᵢ∂xₖ,
        ∂²yᵢ/∂xₖ² and ∂²yᵢ/∂xⱼ∂xₖ for i, j, k distinct (every kind of entry a row's
        Hessian has), derived on a row of four and each proved equal to SymPy's in x."""
        c = SECOND_ROW
        xs, ys = class_symbols(self.input, c), class_symbols(self.output, c)
        self._check(xs, ys)
        f = self.function(xs)
        x_of = {0: f"{self.input}_i", 1: f"{self.input}_k", 2: f"{self.input}_j"}
        names = {
            ys[0]: sp.Symbol(f"{self.output}_i", real=True),
            ys[1]: sp.Symbol(f"{self.output}_k", real=True),
            ys[2]: sp.Symbol(f"{self.output}_j", real=True),
        }
        first = {
            x_of[a]: tidy(
                sp.factor(self._in_outputs(sp.diff(f[0], xs[a]), xs, ys, {0, a}))
            ).xreplace(names)
            for a in (0, 1)
        }
        second, raw = {}, {}
        for a, b in ((0, 0), (0, 1), (1, 1), (2, 1)):
            in_x = sp.diff(f[0], xs[a], xs[b])
            in_y = self._in_outputs(in_x, xs, ys, {0, a, b})
            back = in_y.subs({y: fy for y, fy in zip(ys, f, strict=True)})
            if not proved_equal(back, in_x):
                raise ArithmeticError(f"{self.name}'s second derivative in y is not SymPy's")
            key = (x_of[a], x_of[b])
            second[key] = sp.factor(in_y).xreplace(names)
            raw[key] = in_x
        product = self._row_product()
        closed_form = ()
        if product is not None:
            closed_form = (
                Message(
                    N_(
                        "(H·v)ᵢ in the row's sums: SymPy solved for the sums' coefficients so "
                        "that it equals H·v identically on a row of {c} entries (where Σ y = 1)"
                    ),
                    c=c,
                ),
            )
        return SecondDerivation(
            layer=name,
            output=f"{self.output}_i",
            forward=self.formula.xreplace(
                {
                    ROW[INDEX_I]: sp.Symbol(x_of[0], real=True),
                    ROW[INDEX_K]: sp.Symbol(x_of[1], real=True),
                }
            ),
            inputs=(x_of[0],),
            first=first,
            through_output=None,
            second=second,
            in_inputs=raw,
            hvp=product,
            notes=(
                *closed_form,
                Message(
                    N_("i, j, k are distinct entries of one row; derived with rows of {c} entries"),
                    c=c,
                ),
                Message(
                    N_(
                        "the Hessian-vector product of ⟨dout, {y}⟩ is, row by row, (H·v)ᵢ = "
                        "Σₖ doutₖ·Σⱼ ∂²{y}ₖ/∂{x}ᵢ∂{x}ⱼ·vⱼ (what compare --order 2 checks)"
                    ),
                    y=self.output,
                    x=self.input,
                ),
            ),
        )

    def _row_product(self) -> sp.Expr | None:
        """(H·v)ᵢ of ⟨dout, y⟩ in closed form, in yᵢ, vᵢ, doutᵢ and the row's sums
        Σₖyₖvₖ, Σₖdoutₖyₖ, Σₖdoutₖyₖvₖ, or None where it is not a polynomial in them (the
        log-softmax's is in exp(y)). Found by SymPy: H·v₁ on a row of four is rewritten in
        y, and the coefficients of every product yᵢᵃ·(a v-term)·(a d-term) are solved for
        so that the two agree identically on the constraint (Σ y = 1): the closed form is
        then proved equal on that row, not typed in."""
        c = SECOND_ROW
        xs, ys = class_symbols(self.input, c), class_symbols(self.output, c)
        douts, vs = class_symbols("dout", c), class_symbols("v", c)
        f = self.function(xs)
        pairing = sum(d * y for d, y in zip(douts, f, strict=True))
        along = sum(v * sp.diff(pairing, x) for v, x in zip(vs, xs, strict=True))
        in_y = self._in_outputs(sp.diff(along, xs[0]), xs, ys, {0})
        names = [sp.Symbol(n, real=True) for n in ("Σₖyₖvₖ", "Σₖdoutₖyₖ", "Σₖdoutₖyₖvₖ")]
        totals = [
            sum(y * v for y, v in zip(ys, vs, strict=True)),
            sum(y * d for y, d in zip(ys, douts, strict=True)),
            sum(y * d * v for y, d, v in zip(ys, douts, vs, strict=True)),
        ]
        along_v, along_d, both = names
        products = [vs[0] * douts[0], vs[0] * along_d, along_v * douts[0], along_v * along_d, both]
        terms = [ys[0] ** a * m for a in range(3) for m in products]
        unknowns = sp.symbols(f"c0:{len(terms)}")
        trial = sum(u * t for u, t in zip(unknowns, terms, strict=True))
        difference = trial.xreplace(dict(zip(names, totals, strict=True))) - in_y
        if self.constraint is not None:  # eliminate the last output through the constraint
            (last,) = sp.solve(self.constraint(ys), ys[-1])
            difference = difference.subs(ys[-1], last)
        try:
            equations = sp.Poly(sp.expand(difference), *ys[:-1], *vs, *douts).coeffs()
        except sp.PolynomialError:
            return None
        solutions = sp.linsolve(equations, unknowns)
        if not solutions:
            return None
        (solution,) = solutions
        if any(value.free_symbols for value in solution):
            return None  # not determined by this row: no one closed form
        closed = trial.xreplace(dict(zip(unknowns, solution, strict=True)))
        shown = {
            ys[0]: sp.Symbol(f"{self.output}_i", real=True),
            vs[0]: sp.Symbol("v_i", real=True),
            douts[0]: sp.Symbol("dout_i", real=True),
        }
        return sp.factor(closed).xreplace(shown)

    def hvp_function(self, shapes: Shapes) -> HessianVectorFunction:
        """SymPy's Hessian-vector product of ⟨dout, y⟩ in float64, row by row:
        ``{input: (H·v)}``, (H·v)ₐ = ∂(Σᵦ vᵦ·∂⟨dout, y⟩/∂xᵦ)/∂xₐ on a row of C entries."""
        entries = shapes[self.input][-1]
        key = ("hvp", entries)
        if key not in self._cache:
            xs = class_symbols(self.input, entries)
            douts, vs = class_symbols("dout", entries), class_symbols("v", entries)
            f = self.function(xs)

            def derived() -> list[sp.Expr]:
                pairing = sum(d * y for d, y in zip(douts, f, strict=True))
                along = sum(v * sp.diff(pairing, x) for v, x in zip(vs, xs, strict=True))
                return [sp.diff(along, x) for x in xs]

            product = Arithmetic(None).compile(
                (xs, douts, vs), remember(("row hvp", sp.srepr(f)), derived)
            )

            def hvp(arrays, dout, directions):
                x = np.atleast_2d(np.asarray(arrays[self.input], dtype=np.float64))
                d = np.atleast_2d(np.asarray(dout, dtype=np.float64)).reshape(x.shape)
                v = np.atleast_2d(np.asarray(directions[self.input], dtype=np.float64))
                columns = product(list(x.T), list(d.T), list(v.reshape(x.shape).T))
                result = np.stack(np.broadcast_arrays(*columns), axis=-1)
                return {self.input: result.reshape(np.shape(arrays[self.input]))}

            self._cache[key] = hvp
        return self._cache[key]

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """Evaluation of SymPy's backward dx = Jᵀ·dout for rows of ``shapes[input]`` (its
        last axis: a row's entries), in float64 or at ``digits`` digits, one row at a time
        with mpmath."""
        entries = shapes[self.input][-1]
        key = (entries, digits)
        if key not in self._cache:
            xs, douts = class_symbols(self.input, entries), class_symbols("dout", entries)
            f = self.function(xs)
            arithmetic = Arithmetic(digits)
            backward = remember(
                ("row backward", sp.srepr(f)),
                lambda: [
                    sum(d * sp.diff(fk, x) for d, fk in zip(douts, f, strict=True)) for x in xs
                ],
            )
            derivative = arithmetic.compile((xs, douts), backward)

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    x = np.atleast_2d(arithmetic.array(arrays[self.input]))
                    d = np.atleast_2d(arithmetic.array(dout)).reshape(x.shape)
                    if digits is None:
                        columns = derivative(list(x.T), list(d.T))
                        dx = np.stack(np.broadcast_arrays(*columns), axis=-1)
                    else:
                        rows = [derivative(list(xr), list(dr)) for xr, dr in zip(x, d, strict=True)]
                        dx = np.array(rows, dtype=object)
                    return {f"d{self.input}": dx.reshape(np.shape(arrays[self.input]))}

            self._cache[key] = gradients
        return self._cache[key]
