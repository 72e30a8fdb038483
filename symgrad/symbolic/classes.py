"""Class-score layers with a loss (softmax-with-loss): vector in, scalar loss out.

SymPy works on C explicit class symbols x₁…x_C, t₁…t_C. Results are rewritten in the
activation's outputs y₁…y_C using what the note uses implicitly: the outputs are
probabilities (Σ y = 1) and the labels are too (Σ t = 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.reports import ChainRule, Derivation, GraphNode
from symgrad.symbolic.cache import remember
from symgrad.symbolic.precision import Arithmetic, GradientFunction, Shapes
from symgrad.symbolic.rewrite import normal_form, proved_equal, tidy

SHOWN_CLASSES = 3  # the note's examples have three classes


def class_symbols(stem: str, classes: int) -> list[sp.Symbol]:
    return list(sp.symbols(f"{stem}1:{classes + 1}", real=True))


def on_simplex(
    expr: sp.Expr, ys: Sequence[sp.Symbol], ts: Sequence[sp.Symbol], keep: set[int]
) -> sp.Expr:
    """Use Σ y = 1 and Σ t = 1 by eliminating a class index not in ``keep``."""
    j = max(set(range(len(ys))) - keep)
    others_y = sum(ys[k] for k in range(len(ys)) if k != j)
    others_t = sum(ts[k] for k in range(len(ts)) if k != j)
    return tidy(sp.expand(sp.cancel(expr.subs({ys[j]: 1 - others_y, ts[j]: 1 - others_t}))))


def summed(term: sp.Expr, index: sp.Symbol) -> sp.Expr:
    """Σ over the classes, with a leading minus pulled out: −Σₖ tₖ log yₖ."""
    classes = sp.Symbol("C", integer=True, positive=True)
    if term.could_extract_minus_sign():
        return -sp.Sum(-term, (index, 1, classes))
    return sp.Sum(term, (index, 1, classes))


@dataclass(frozen=True)
class ClassLossForm:
    """L = loss(activation(x), t) for one sample; the batch loss is the mean over N."""

    activation: Callable[[Sequence[sp.Symbol]], list[sp.Expr]]
    activation_name: str
    loss: Callable[[Sequence[sp.Expr], Sequence[sp.Symbol]], sp.Expr]
    loss_name: str
    output: str = "L"
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def sample_loss(self, classes: int) -> tuple[list[sp.Symbol], list[sp.Symbol], sp.Expr]:
        xs, ts = class_symbols("x", classes), class_symbols("t", classes)
        return xs, ts, self.loss(self.activation(xs), ts)

    def _in_outputs(self, expr: sp.Expr, xs, ys, ts, keep: set[int]) -> sp.Expr:
        """Rewrite an expression in x as one in y: exp(x_k) ∝ y_k (the shift cancels)."""
        in_y = normal_form(expr.subs({x: sp.log(y) for x, y in zip(xs, ys, strict=True)}))
        return on_simplex(in_y, ys, ts, keep)

    def derive(self, name: str) -> Derivation:
        """Nodes activation → loss, their local derivatives, and ∂L/∂x = y − t."""
        c = SHOWN_CLASSES
        xs, ts, sample = self.sample_loss(c)
        ys = class_symbols("y", c)
        activation = self.activation(xs)
        # Local derivatives for one class index i (= 1) and another k (= 2), renamed.
        names = {
            ys[0]: sp.Symbol("y_i", real=True),
            ys[1]: sp.Symbol("y_k", real=True),
            ts[0]: sp.Symbol("t_i", real=True),
            ts[1]: sp.Symbol("t_k", real=True),
        }
        diagonal = self._in_outputs(sp.diff(activation[0], xs[0]), xs, ys, ts, {0, 1})
        off_diagonal = self._in_outputs(sp.diff(activation[1], xs[0]), xs, ys, ts, {0, 1})
        loss_local = sp.diff(self.loss(ys, ts), ys[1])
        y, t, x = (sp.Symbol(s, real=True) for s in "ytx")
        k = sp.Symbol("k", integer=True)
        per_class_loss = self.loss([sp.Symbol("y_k", real=True)], [sp.Symbol("t_k", real=True)])
        nodes = (
            GraphNode(
                op=self.activation_name,
                output="y",
                inputs=("x",),
                expression=sp.Function(self.activation_name)(x),
                local_derivatives={
                    "∂y_i/∂x_i": diagonal.xreplace(names),
                    "∂y_k/∂x_i (k ≠ i)": off_diagonal.xreplace(names),
                },
            ),
            GraphNode(
                op=self.loss_name,
                output="L",
                inputs=("y", "t"),
                expression=summed(per_class_loss, k),
                local_derivatives={"∂L/∂y_k": loss_local.xreplace(names)},
            ),
        )
        # Chain rule for x_i: Σ_k ∂L/∂y_k · ∂y_k/∂x_i, the k = i term and the k ≠ i terms.
        loss_diagonal = sp.diff(self.loss(ys, ts), ys[0]).xreplace(names)
        factors = (
            (loss_diagonal, diagonal.xreplace(names)),
            (loss_local.xreplace(names), off_diagonal.xreplace(names)),
        )
        terms = [
            sp.diff(self.loss(ys, ts), ys[k])
            * self._in_outputs(sp.diff(activation[k], xs[0]), xs, ys, ts, {0, k})
            for k in range(c)
        ]
        label_sum = sp.Symbol("Σₖtₖ", real=True)
        chained = sp.collect(sp.expand(sp.Add(*terms)), ys[0]).subs(sum(ts), label_sum)
        per_class = []
        for i in range(c):
            derivative = self._in_outputs(sp.diff(sample, xs[i]), xs, ys, ts, {i})
            per_class.append(derivative.xreplace({ys[i]: y, ts[i]: t}))
        vector = per_class[0]
        if any(not proved_equal(other, vector) for other in per_class[1:]):
            raise ArithmeticError("the per-class derivatives do not share one vector form")
        n, rest = sp.symbols("N R", positive=True)
        batch = sp.diff((sample + rest) / n, xs[0])  # R: the other samples' losses
        batch_vector = self._in_outputs(batch, xs, ys, ts, {0}).xreplace({ys[0]: y, ts[0]: t})
        return Derivation(
            layer=name,
            output=self.output,
            forward=summed(per_class_loss, k),
            inputs=("x",),
            nodes=nodes,
            chains=(
                ChainRule(
                    wrt="x_i",
                    paths=(("L", "y_i"), ("L", "y_k")),
                    factors=factors,
                    summed_over=("", "k ≠ i"),
                    product=chained.xreplace(names),
                ),
            ),
            derivatives={"x": vector},
            extra_derivatives={"x, batch mean over N samples": batch_vector},
            notes=(
                f"derived with {c} classes; the k terms are summed over every k ≠ i",
                f"y = {self.activation_name}(x) and the labels t are probability vectors: "
                "Σ y = Σ t = 1",
            ),
        )

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """Evaluation of SymPy's batch-mean gradient dx = dout · ∂L/∂x, for scores x of
        ``shapes["x"]`` (its last axis: the classes).

        In float64, or with ``digits`` at that many digits through mpmath, one sample
        (row) at a time since mpmath's functions take scalars.
        """
        classes = shapes["x"][-1]
        key = (classes, digits)
        if key not in self._cache:
            xs, ts, sample = self.sample_loss(classes)
            n, rest = sp.symbols("N R", positive=True)
            batch = (sample + rest) / n
            arithmetic = Arithmetic(digits)
            derivatives = remember(
                ("class gradients", sp.srepr(batch)), lambda: [sp.diff(batch, x) for x in xs]
            )
            derivative = arithmetic.compile((xs, ts, n), derivatives)

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    x = np.atleast_2d(arithmetic.array(arrays["x"]))
                    t = np.atleast_2d(arithmetic.array(arrays["t"]))
                    if digits is None:
                        columns = derivative(list(x.T), list(t.T), x.shape[0])
                        dx = np.stack(np.broadcast_arrays(*columns), axis=-1)
                    else:
                        rows = [
                            derivative(list(xr), list(tr), x.shape[0])
                            for xr, tr in zip(x, t, strict=True)
                        ]
                        dx = np.array(rows, dtype=object)
                    dx = dx * arithmetic.array(dout)[()]
                    return {"dx": dx.reshape(np.shape(arrays["x"]))}

            self._cache[key] = gradients
        return self._cache[key]
