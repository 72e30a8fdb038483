"""Matrix layers (affine): derivatives at matrix level, every shape shown.

SymPy differentiates a matrix layer through a scalar: pair the output Y with its upstream
gradient dY as ⟨dY, Y⟩ = trace(dYᵀ·Y); then ∂⟨dY, Y⟩/∂W is exactly what backward must
return for W. This gives Xᵀ·dY, dY·Wᵀ and dYᵀ·1 (the column sums) for symbolic shapes, in
milliseconds, where differentiating Y element by element would take seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import ChainRule, Derivation, GraphNode, SecondDerivation
from symgrad.symbolic.cache import remember
from symgrad.symbolic.evaluate import numpy_function
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)

DIMENSIONS = ("N", "IN", "OUT")
PROOF_SIZES = (2, 2, 3)  # N, IN, OUT at which the matrix-level H·v is proved entry by entry


def upstream(output: sp.MatrixExpr, name: str) -> sp.MatrixSymbol:
    """The symbol for ∂L/∂output, shaped like output."""
    return sp.MatrixSymbol(f"d{name}", *output.shape)


def backward_rule(
    expression: sp.MatrixExpr, gradient: sp.MatrixSymbol, wrt: sp.MatrixSymbol
) -> sp.MatrixExpr:
    """∂⟨gradient, expression⟩/∂wrt: the gradient sent to ``wrt``, derived by SymPy."""
    return sp.Trace(gradient.T * expression).diff(wrt)


def _broadcast_row(term: sp.MatrixExpr) -> sp.MatrixSymbol | None:
    """``v`` when ``term`` is 1·vᵀ (a column added to every row), else None."""
    if isinstance(term, sp.MatMul) and len(term.args) == 2:
        ones, transposed = term.args
        if isinstance(ones, sp.OneMatrix) and isinstance(transposed, sp.Transpose):
            return transposed.arg
    return None


def shape_text(matrix: sp.MatrixExpr) -> str:
    return "×".join(str(d) for d in matrix.shape)


@dataclass(frozen=True)
class MatrixForm:
    """``output = build(N, IN, OUT)``: inputs are MatrixSymbols; vectors are columns."""

    build: Callable[..., tuple[tuple[sp.MatrixSymbol, ...], sp.MatrixExpr]]
    output: str = "Y"
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _nodes(
        self, expr: sp.MatrixExpr
    ) -> list[tuple[str, sp.MatrixSymbol, tuple, sp.MatrixExpr]]:
        """(op, output, inputs, expression) for the products, then the bias addition."""
        nodes = []
        if not isinstance(expr, sp.MatAdd):
            raise TypeError(f"expected a sum of products, got {expr}")
        terms, bias = [], []
        for k, term in enumerate(expr.args):
            row = _broadcast_row(term)
            if row is not None:
                bias.append(row)
                terms.append(term)
            elif isinstance(term, sp.MatMul):
                product = sp.MatrixSymbol("Z" if k == 0 else f"Z{k}", *term.shape)
                nodes.append(("dot", product, term.args, term))
                terms.append(product)
        total = sp.MatAdd(*terms)
        inputs = tuple(t for t in terms if not isinstance(t, sp.MatMul)) + tuple(bias)
        nodes.append(("+", sp.MatrixSymbol(self.output, *expr.shape), inputs, total))
        return nodes

    def derive(self, name: str, dims: Sequence[int] | None = None) -> Derivation:
        """Matrix-level derivation; ``dims`` (N, IN, OUT) makes the shapes concrete."""
        sizes = dims or sp.symbols(" ".join(DIMENSIONS), integer=True, positive=True)
        inputs, forward = self.build(*sizes)
        nodes = self._nodes(forward)
        graph, vjp = [], {}
        for op, output, node_inputs, expression in nodes:
            gradient = upstream(output, str(output))
            rules = {str(s): backward_rule(expression, gradient, s) for s in node_inputs}
            vjp[str(output)] = (gradient, rules)
            graph.append(
                GraphNode(
                    op=op,
                    output=str(output),
                    inputs=tuple(map(str, node_inputs)),
                    expression=expression,
                    local_derivatives=rules,
                    shapes={str(m): shape_text(m) for m in (output, *node_inputs)},
                )
            )
        y = sp.MatrixSymbol(self.output, *forward.shape)
        dy = upstream(y, self.output)

        def route(symbol: str, target: str) -> list[tuple[str, str]] | None:
            """The edges (node output, input taken) from ``symbol`` down to ``target``."""
            if symbol == target:
                return []
            for source in vjp.get(symbol, (None, {}))[1]:
                rest = route(source, target)
                if rest is not None:
                    return [(symbol, source), *rest]
            return None

        chains, derivatives = [], {}
        for x in inputs:
            edges = route(self.output, str(x))
            gradient = dy
            for symbol, source in edges:
                node_gradient, rules = vjp[symbol]
                gradient = rules[source].subs(node_gradient, gradient)
            chains.append(
                ChainRule(
                    wrt=str(x),
                    paths=(tuple(symbol for symbol, _ in edges),),
                    factors=(tuple(vjp[symbol][1][source] for symbol, source in edges),),
                    product=gradient.doit(),
                )
            )
            derivatives[str(x)] = backward_rule(forward, dy, x)
        shapes = {str(m): shape_text(m) for m in (*inputs, y, dy)}
        return Derivation(
            layer=name,
            output=self.output,
            forward=forward,
            inputs=tuple(map(str, inputs)),
            nodes=tuple(graph),
            chains=tuple(chains),
            derivatives=derivatives,
            matrix=True,
            shapes=shapes,
        )

    def _concrete(self, shapes: Shapes) -> tuple[tuple[sp.MatrixSymbol, ...], sp.MatrixExpr]:
        """The inputs and forward built at the sizes these array shapes give N, IN, OUT."""
        symbolic_inputs, _ = self.build(*sp.symbols(" ".join(DIMENSIONS)))
        sizes = {}
        for matrix in symbolic_inputs:
            rows, cols = matrix.shape
            actual = shapes[str(matrix)]
            sizes[rows] = actual[0]
            if len(actual) == 2:
                sizes[cols] = actual[1]
        return self.build(*(sizes[sp.Symbol(d)] for d in DIMENSIONS))

    def _products(
        self, inputs: Sequence[sp.MatrixSymbol], forward: sp.MatrixExpr
    ) -> tuple[sp.MatrixSymbol, dict[str, sp.MatrixSymbol], dict[str, sp.MatrixExpr]]:
        """The Hessian-vector product of ⟨dY, Y⟩ at matrix level, derived by SymPy: with
        each input's gradient gᵦ = ∂⟨dY, Y⟩/∂β, (H·v)_α = ∂(Σᵦ ⟨vᵦ, gᵦ⟩)/∂α for
        directions vᵦ shaped like the inputs. Returns dY, the directions and the products."""
        dy = upstream(forward, self.output)
        directions = {str(x): sp.MatrixSymbol(f"v{x}", *x.shape) for x in inputs}
        gradients = {str(x): backward_rule(forward, dy, x) for x in inputs}
        products = {
            str(a): sp.MatAdd(
                *(backward_rule(gradients[str(b)], directions[str(b)], a) for b in inputs)
            ).doit()
            for a in inputs
        }
        return dy, directions, products

    def derive_second(self, name: str) -> SecondDerivation:
        """The second-order term as a Hessian-vector product at matrix level, every shape
        shown (affine: Y is bilinear in X and W and linear in b, so (H·v)_X = dY·v_Wᵀ,
        (H·v)_W = v_Xᵀ·dY, (H·v)_b = 0), proved equal entry by entry to the product of the
        Hessian SymPy derives for small concrete sizes."""
        sizes = sp.symbols(" ".join(DIMENSIONS), integer=True, positive=True)
        inputs, forward = self.build(*sizes)
        dy, directions, products = self._products(inputs, forward)
        self._prove_products(PROOF_SIZES)
        shapes = {str(m): shape_text(m) for m in (*inputs, dy, *directions.values())}
        return SecondDerivation.of_products(
            layer=name,
            output=self.output,
            forward=forward,
            first={str(x): backward_rule(forward, dy, x) for x in inputs},
            products=products,
            shapes=shapes,
            notes=(
                Message(
                    N_(
                        "H is the Hessian of ⟨{dy}, {y}⟩ in every input; v = ({directions}) a "
                        "direction of the same shapes"
                    ),
                    dy=str(dy),
                    y=self.output,
                    directions=", ".join(map(str, directions.values())),
                ),
                Message(
                    N_(
                        "proved equal, entry by entry, to H·v from SymPy's Hessian of every "
                        "entry at {sizes} (N×IN×OUT)"
                    ),
                    sizes="×".join(map(str, PROOF_SIZES)),
                ),
            ),
        )

    def _prove_products(self, dims: Sequence[int]) -> None:
        """The matrix-level products equal Σⱼ ∂²⟨dY, Y⟩/∂aᵢ∂bⱼ·vⱼ, every entry's Hessian
        differentiated by SymPy, at concrete sizes."""
        inputs, forward = self.build(*dims)
        dy, directions, products = self._products(inputs, forward)
        pairing = sum(a * b for a, b in zip(dy.as_explicit(), forward.as_explicit(), strict=True))
        entries = [e for x in inputs for e in x.as_explicit()]
        along = [e for x in inputs for e in directions[str(x)].as_explicit()]
        for x in inputs:
            shown = sp.Matrix(products[str(x)].as_explicit())
            for entry, value in zip(x.as_explicit(), shown, strict=True):
                truth = sum(
                    sp.diff(pairing, entry, e) * v for e, v in zip(entries, along, strict=True)
                )
                if sp.expand(value - truth) != 0:
                    raise ArithmeticError(f"the Hessian-vector product of {x} is not SymPy's")

    def hvp_function(self, shapes: Shapes) -> HessianVectorFunction:
        """SymPy's matrix-level H·v of ⟨dout, Y⟩ in float64 for these array shapes:
        ``{name: (H·v)_name}`` for directions by input name."""
        key = ("hvp", tuple(sorted(shapes.items())))
        if key not in self._cache:
            inputs, forward = self._concrete(shapes)
            dy, directions, products = self._products(inputs, forward)
            names = [str(x) for x in inputs]
            functions = {
                n: numpy_function((*inputs, dy, *directions.values()), products[n]) for n in names
            }

            def hvp(arrays, dout, given):
                args = [
                    np.asarray(arrays[n], dtype=np.float64).reshape(m.shape)
                    for n, m in zip(names, inputs, strict=True)
                ]
                args += [np.asarray(dout, dtype=np.float64)]
                args += [
                    np.asarray(given[n], dtype=np.float64).reshape(m.shape)
                    for n, m in zip(names, inputs, strict=True)
                ]
                return {
                    n: np.broadcast_to(np.asarray(f(*args), dtype=np.float64), (m.shape)).reshape(
                        shapes[n]
                    )
                    for (n, f), m in zip(functions.items(), inputs, strict=True)
                }

            self._cache[key] = hvp
        return self._cache[key]

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """Evaluation of SymPy's matrix gradients for these array shapes.

        In float64, or with ``digits`` at that many digits: the same NumPy evaluation
        (products, transposes, sums) then runs on object arrays of mpmath ``mpf``.
        """
        key = (tuple(sorted(shapes.items())), digits)
        if key not in self._cache:
            inputs, forward = self._concrete(shapes)
            dy = upstream(forward, self.output)
            rules = remember(
                ("matrix gradients", sp.srepr(forward)),
                lambda: {str(x): backward_rule(forward, dy, x) for x in inputs},
            )
            functions = {name: numpy_function((*inputs, dy), rule) for name, rule in rules.items()}
            names = [str(x) for x in inputs]
            arithmetic = Arithmetic(digits)

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    args = [
                        arithmetic.array(arrays[n]).reshape(m.shape)
                        for n, m in zip(names, inputs, strict=True)
                    ]
                    dout = arithmetic.array(dout)
                    return {
                        f"d{n}": np.asarray(f(*args, dout)).reshape(shapes[n])
                        for n, f in functions.items()
                    }

            self._cache[key] = gradients
        return self._cache[key]
