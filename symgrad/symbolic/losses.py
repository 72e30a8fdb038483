"""Losses over rows (softmax-with-loss, sigmoid-with-loss, mse): rows in, a scalar out.

SymPy works on one row of C explicit symbols x₁…x_C, t₁…t_C; the batch loss is the mean
over N rows. Where the loss takes an activation's output (y = softmax(x), sigmoid(x)),
results are rewritten in y₁…y_C through the activation's inverse and, for softmax, with
what the note uses implicitly: the outputs are probabilities (Σ y = 1) and the labels
are too (Σ t = 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import ChainRule, Derivation, GraphNode, Qualified, SecondDerivation
from symgrad.symbolic.cache import remember
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)
from symgrad.symbolic.rewrite import normal_form, proved_equal, tidy

SHOWN_CLASSES = 3  # the note's examples have three classes
ROWS_NOTE = N_("derived with rows of {c} entries")
ROWS_SUMMED_NOTE = N_("derived with rows of {c} entries; the k terms are summed over every k ≠ i")


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
    """Σ over the row, a constant factor or a leading minus pulled out: −Σₖ tₖ log yₖ,
    ½·Σₖ (yₖ − tₖ)²."""
    classes = sp.Symbol("C", integer=True, positive=True)
    coefficient, rest = term.as_coeff_Mul()
    if coefficient == 1 and term.could_extract_minus_sign():
        coefficient, rest = -1, -term
    return coefficient * sp.Sum(rest, (index, 1, classes))


@dataclass(frozen=True)
class RowLossForm:
    """L = loss(activation(x), t) for one row of C entries; the batch loss is the mean
    over N rows.

    Attributes:
        loss: one row's loss from its C activation outputs (or inputs) and C labels.
        loss_name: the loss node's name (``cross-entropy``).
        activation: a row's C outputs from its C inputs, or None when the loss takes the
            input itself (mse).
        activation_name: the activation node's name (``softmax``).
        inverse: xₖ in terms of yₖ, up to what cancels (softmax's shift): how a
            derivative in x is rewritten in y; checked against the activation.
        probabilities: the activation's outputs and the labels each sum to 1 (softmax
            against one-hot labels), which the rewriting may use.
        input: the name of the differentiated input (``x``; mse's is ``y``).
        label: the name of the labels (``t``).
        flat_is_batch: a 1-D input is N samples of one entry each (the sequel book's
            SigmoidWithLoss, one score per sample), not one sample of N entries.
    """

    loss: Callable[[Sequence[sp.Expr], Sequence[sp.Symbol]], sp.Expr]
    loss_name: str
    activation: Callable[[Sequence[sp.Symbol]], list[sp.Expr]] | None = None
    activation_name: str = ""
    inverse: Callable[[sp.Symbol], sp.Expr] | None = None
    probabilities: bool = False
    input: str = "x"
    label: str = "t"
    output: str = "L"
    flat_is_batch: bool = False
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def loss_input(self) -> str:
        """What the loss node reads: the activation's output y, or the input itself."""
        return "y" if self.activation else self.input

    def rows(self, array: np.ndarray) -> np.ndarray:
        """``array`` as a batch of rows, read as the NumPy class reads it."""
        if np.ndim(array) == 1 and self.flat_is_batch:
            return array[:, None]
        return np.atleast_2d(array)

    def row_length(self, shape: tuple[int, ...]) -> int:
        """Entries per row of an input of ``shape``."""
        return 1 if len(shape) == 1 and self.flat_is_batch else shape[-1]

    def outputs(self, xs: Sequence[sp.Symbol]) -> list[sp.Expr]:
        """The row the loss reads: the activation of ``xs``, or ``xs`` themselves."""
        return self.activation(xs) if self.activation else list(xs)

    def sample_loss(self, classes: int) -> tuple[list[sp.Symbol], list[sp.Symbol], sp.Expr]:
        xs, ts = class_symbols(self.input, classes), class_symbols(self.label, classes)
        return xs, ts, self.loss(self.outputs(xs), ts)

    def _in_outputs(self, expr: sp.Expr, xs, ys, ts, keep: set[int]) -> sp.Expr:
        """Rewrite an expression in x as one in y through the inverse (softmax's
        exp(xₖ) ∝ yₖ: the shift cancels); without an activation, x is y already."""
        if self.activation is None:
            return tidy(expr)
        in_y = normal_form(expr.subs({x: self.inverse(y) for x, y in zip(xs, ys, strict=True)}))
        return on_simplex(in_y, ys, ts, keep) if self.probabilities else tidy(in_y)

    def _check_inverse(self, ys, ts) -> None:
        """The activation of the inverse gives y back (on the simplex for softmax), so
        that rewriting in y through the inverse is sound."""
        back = self.activation([self.inverse(y) for y in ys])
        for k, (value, y) in enumerate(zip(back, ys, strict=True)):
            difference = normal_form(value - y)
            if self.probabilities:
                difference = on_simplex(difference, ys, ts, {k})
            if difference != 0:
                raise ArithmeticError(f"the inverse of {self.activation_name} is not one")

    def _activation_node(self, xs, ys, ts, names: dict) -> tuple[GraphNode, sp.Expr, sp.Expr]:
        """y = activation(x) with ∂yᵢ/∂xᵢ and ∂yₖ/∂xᵢ (k ≠ i) in y; and those two."""
        activation = self.activation(xs)
        diagonal = self._in_outputs(sp.diff(activation[0], xs[0]), xs, ys, ts, {0, 1})
        off_diagonal = self._in_outputs(sp.diff(activation[1], xs[0]), xs, ys, ts, {0, 1})
        x_i = f"{self.input}_i"
        node = GraphNode(
            op=self.activation_name,
            output="y",
            inputs=(self.input,),
            expression=sp.Function(self.activation_name)(sp.Symbol(self.input, real=True)),
            local_derivatives={
                f"∂y_i/∂{x_i}": diagonal.xreplace(names),
                f"∂y_k/∂{x_i} (k ≠ i)": off_diagonal.xreplace(names),
            },
        )
        return node, diagonal, off_diagonal

    def derive(self, name: str) -> Derivation:
        """Nodes (activation →) loss, their local derivatives, and ∂L/∂x (y − t for
        softmax and sigmoid with their losses)."""
        c = SHOWN_CLASSES
        xs, ts, sample = self.sample_loss(c)
        read = self.loss_input
        ys = class_symbols(read, c) if self.activation else xs
        # Local derivatives for one index i (= 1) and another k (= 2), renamed.
        names = {
            ys[0]: sp.Symbol(f"{read}_i", real=True),
            ys[1]: sp.Symbol(f"{read}_k", real=True),
            ts[0]: sp.Symbol(f"{self.label}_i", real=True),
            ts[1]: sp.Symbol(f"{self.label}_k", real=True),
        }
        row_loss = summed(self.loss([names[ys[1]]], [names[ts[1]]]), sp.Symbol("k", integer=True))
        loss_local = tidy(sp.diff(self.loss(ys, ts), ys[1]))
        loss_node = GraphNode(
            op=self.loss_name,
            output=self.output,
            inputs=(read, self.label),
            expression=row_loss,
            local_derivatives={f"∂{self.output}/∂{read}_k": loss_local.xreplace(names)},
        )
        loss_diagonal = tidy(sp.diff(self.loss(ys, ts), ys[0])).xreplace(names)
        wrt = f"{self.input}_i"
        if self.activation is None:
            nodes = (loss_node,)
            chain = ChainRule(
                wrt=wrt, paths=((self.output,),), factors=((loss_diagonal,),), product=loss_diagonal
            )
        else:
            self._check_inverse(ys, ts)
            node, diagonal, off_diagonal = self._activation_node(xs, ys, ts, names)
            nodes = (node, loss_node)
            # Chain rule for x_i: Σ_k ∂L/∂y_k · ∂y_k/∂x_i, the k = i term and (where the
            # activation couples the row: softmax) the k ≠ i terms.
            coupled = off_diagonal != 0
            factors = ((loss_diagonal, diagonal.xreplace(names)),)
            factors += ((loss_local.xreplace(names), off_diagonal.xreplace(names)),) * coupled
            activation = self.activation(xs)
            terms = [
                sp.diff(self.loss(ys, ts), ys[k])
                * self._in_outputs(sp.diff(activation[k], xs[0]), xs, ys, ts, {0, k})
                for k in range(c)
            ]
            chained = sp.collect(sp.expand(sp.cancel(sp.Add(*terms))), ys[0])
            if self.probabilities:
                chained = chained.subs(sum(ts), sp.Symbol("Σₖtₖ", real=True))
            chain = ChainRule(
                wrt=wrt,
                paths=((self.output, "y_i"), (self.output, "y_k"))[: len(factors)],
                factors=factors,
                summed_over=("", "k ≠ i")[: len(factors)],
                product=chained.xreplace(names),
            )
        y, t = sp.Symbol(read, real=True), sp.Symbol(self.label, real=True)
        per_class = []
        for i in range(c):
            derivative = self._in_outputs(sp.diff(sample, xs[i]), xs, ys, ts, {i})
            per_class.append(derivative.xreplace({ys[i]: y, ts[i]: t}))
        vector = per_class[0]
        if any(not proved_equal(other, vector) for other in per_class[1:]):
            raise ArithmeticError("the per-class derivatives do not share one vector form")
        n, rest = sp.symbols("N R", positive=True)
        batch = sp.diff((sample + rest) / n, xs[0])  # R: the other rows' losses
        batch_vector = self._in_outputs(batch, xs, ys, ts, {0}).xreplace({ys[0]: y, ts[0]: t})
        notes = [Message(ROWS_SUMMED_NOTE if len(chain.paths) > 1 else ROWS_NOTE, c=c)]
        if self.probabilities:
            notes.append(
                Message(
                    N_(
                        "y = {activation}({x}) and the labels {t} are probability vectors: "
                        "Σ y = Σ t = 1"
                    ),
                    activation=self.activation_name,
                    x=self.input,
                    t=self.label,
                )
            )
        return Derivation(
            layer=name,
            output=self.output,
            forward=row_loss,
            inputs=(self.input,),
            nodes=nodes,
            chains=(chain,),
            derivatives={self.input: vector},
            extra_derivatives=(
                Qualified(self.input, batch_vector, Message(N_("batch mean over N samples"))),
            ),
            notes=tuple(notes),
        )

    def derive_second(self, name: str) -> SecondDerivation:
        """One row's Hessian, ∂²L/∂xᵢ² and ∂²L/∂xᵢ∂xₖ in the outputs, and its product with
        a direction v: for softmax with probability labels (H·v)ᵢ = yᵢ(vᵢ − Σₖyₖvₖ),
        derived on a row of three and proved equal there (the batch mean divides by N)."""
        c = SHOWN_CLASSES
        xs, ts, sample = self.sample_loss(c)
        read = self.loss_input
        ys = class_symbols(read, c) if self.activation else xs
        vs = class_symbols("v", c)
        if self.activation is not None:
            self._check_inverse(ys, ts)
        i, k = sp.Symbol(f"{read}_i", real=True), sp.Symbol(f"{read}_k", real=True)
        names = {
            ys[0]: i,
            ys[1]: k,
            ts[0]: sp.Symbol(f"{self.label}_i", real=True),
            ts[1]: sp.Symbol(f"{self.label}_k", real=True),
            vs[0]: sp.Symbol("v_i", real=True),
        }
        first = self._in_outputs(sp.diff(sample, xs[0]), xs, ys, ts, {0})
        diagonal = self._in_outputs(sp.diff(sample, xs[0], xs[0]), xs, ys, ts, {0})
        off = self._in_outputs(sp.diff(sample, xs[0], xs[1]), xs, ys, ts, {0, 1})
        x_i, x_k = f"{self.input}_i", f"{self.input}_k"
        second = {(x_i, x_i): diagonal.xreplace(names)}
        raw = {(x_i, x_i): sp.diff(sample, xs[0], xs[0])}
        if off != 0:
            second[x_i, x_k] = off.xreplace(names)
            raw[x_i, x_k] = sp.diff(sample, xs[0], xs[1])
        product = sum(sp.diff(sample, xs[0], x) * v for x, v in zip(xs, vs, strict=True))
        hvp = self._row_product(product, xs, ys, ts, vs) if off != 0 else diagonal * vs[0]
        row_loss = summed(self.loss([names[ys[1]]], [names[ts[1]]]), sp.Symbol("k", integer=True))
        return SecondDerivation(
            layer=name,
            output=self.output,
            forward=row_loss,
            inputs=(x_i,),
            first={x_i: first.xreplace(names)},
            through_output=None,
            second=second,
            in_inputs=raw,
            hvp=None if hvp is None else hvp.xreplace(names),
            notes=(
                Message(
                    N_("derived with rows of {c} entries; the batch mean divides each by N"), c=c
                ),
            ),
        )

    def _row_product(self, product, xs, ys, ts, vs) -> sp.Expr | None:
        """(H·v)₁ written with Σₖyₖvₖ, on the simplex (Σy = Σt = 1), proved equal to the
        product; None where no such form is found (a coupled row off the simplex)."""
        if not self.probabilities:
            return None
        in_y = normal_form(product.subs({x: self.inverse(y) for x, y in zip(xs, ys, strict=True)}))
        total = sp.Symbol("Σₖyₖvₖ", real=True)
        # v₂ through Σₖyₖvₖ; what is left of v collects on v₁, whose factor Σy is 1.
        others = sum(y * v for y, v in zip(ys, vs, strict=True) if v is not vs[1])
        through = sp.cancel(in_y.subs(vs[1], (total - others) / ys[1]))
        # Σy = Σt = 1 by eliminating the last entry, as on_simplex does.
        last = {ys[-1]: 1 - sum(ys[:-1]), ts[-1]: 1 - sum(ts[:-1])}
        candidate = sp.factor(sp.expand(sp.cancel(through.subs(last))))
        check = candidate.subs(total, sum(y * v for y, v in zip(ys, vs, strict=True)))
        difference = on_simplex(normal_form(check - in_y), ys, ts, {0, 1})
        return candidate if difference == 0 else None

    def hvp_function(self, shapes: Shapes) -> HessianVectorFunction:
        """SymPy's Hessian-vector product of the batch-mean loss times dout, in float64:
        ``{input: dout·(H·v)/N}``, H each row's C×C Hessian."""
        classes = self.row_length(shapes[self.input])
        key = ("hvp", classes)
        if key not in self._cache:
            xs, ts, sample = self.sample_loss(classes)
            entries = remember(  # row-major: entry (a, b) at a·C + b
                ("row hessian", sp.srepr(sample)),
                lambda: [sp.diff(sample, a, b) for a in xs for b in xs],
            )
            hessian = Arithmetic(None).compile((xs, ts), entries)

            def hvp(arrays, dout, directions):
                x = self.rows(np.asarray(arrays[self.input], dtype=np.float64))
                t = self.rows(np.asarray(arrays[self.label], dtype=np.float64))
                v = self.rows(np.asarray(directions[self.input], dtype=np.float64))
                flat = hessian(list(x.T), list(t.T))
                h = np.stack([np.broadcast_to(e, x.shape[:1]) for e in flat])
                h = h.reshape(classes, classes, x.shape[0])
                product = np.einsum("ijn,nj->ni", h, v) / x.shape[0]
                shaped = (np.asarray(dout) * product).reshape(np.shape(arrays[self.input]))
                return {self.input: shaped}

            self._cache[key] = hvp
        return self._cache[key]

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """Evaluation of SymPy's batch-mean gradient dx = dout · ∂L/∂x, for rows x of
        ``shapes[input]`` (its last axis: a row's entries).

        In float64, or with ``digits`` at that many digits through mpmath, one sample
        (row) at a time since mpmath's functions take scalars.
        """
        classes = self.row_length(shapes[self.input])
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
                    x = self.rows(arithmetic.array(arrays[self.input]))
                    t = self.rows(arithmetic.array(arrays[self.label]))
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
                    return {f"d{self.input}": dx.reshape(np.shape(arrays[self.input]))}

            self._cache[key] = gradients
        return self._cache[key]
