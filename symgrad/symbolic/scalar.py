"""Elementwise layers: a scalar SymPy forward, its node graph, and its derivatives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import BackwardStep, ChainRule, Derivation, Edge, GraphNode, SecondDerivation
from symgrad.symbolic.graph import Node, backward_sum, backward_walk, decompose, paths_to
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)
from symgrad.symbolic.rewrite import as_one_of, in_terms_of_output, proved_equal, tidy


@dataclass(frozen=True)
class ScalarForm:
    """``output = forward(inputs)`` applied element by element.

    ``express_in="output"`` asks for the final derivative in the output symbol, the way the
    note writes y(1 − y) for sigmoid and −y² for the reciprocal node.
    """

    forward: sp.Expr
    inputs: tuple[sp.Symbol, ...]
    output: str
    express_in: Literal["input", "output"] = "input"
    # Data the forward reads element by element but nobody differentiates (dropout's
    # mask: an input of the layer's labels), and constants of the forward with the value
    # they are evaluated at (its drop ratio p), printed as symbols in the derivation.
    constants: tuple[sp.Symbol, ...] = ()
    settings: Mapping[sp.Symbol, float] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def output_symbol(self) -> sp.Symbol:
        return sp.Symbol(self.output, real=True)

    def raw_derivative(self, wrt: sp.Symbol) -> sp.Expr:
        """∂output/∂wrt in the inputs, straight from SymPy."""
        return sp.diff(self.forward, wrt)

    def final_derivative(self, wrt: sp.Symbol) -> sp.Expr:
        """The derivative in the form the note teaches: in the output where asked, or as
        a catalog activation when it is one (softplus's is the sigmoid)."""
        raw = self.raw_derivative(wrt)
        if self.express_in == "output" and len(self.inputs) == 1:
            rewritten = in_terms_of_output(raw, self.forward, wrt, self.output_symbol)
            if rewritten is not None:
                return rewritten
        tidied = tidy(raw)
        if len(self.inputs) == 1 and not tidied.has(sp.Piecewise):
            return as_one_of(tidied, _activations(wrt)) or tidied
        return tidied

    def local_derivative(
        self, node: Node, wrt: sp.Symbol, local: sp.Expr, values: dict, final: bool
    ) -> sp.Expr:
        """A node's local derivative ``local`` with respect to its input ``wrt`` (over all
        of wrt's edges, or along one) as the note shows it.

        The last node's is in node-local symbols (2t for z = t²), or in the output when
        asked and simpler (−y² for 1/x); an inner node's is in the layer's inputs (exp(−x)).
        """
        if not final:
            return local.xreplace(values) if local.free_symbols - set(self.inputs) else local
        if self.express_in == "output":
            rewritten = in_terms_of_output(local, node.expression, wrt, node.output)
            if rewritten is not None:
                return rewritten
        return local

    def derive(self, name: str) -> Derivation:
        """The note's derivation: nodes, local derivatives, chain rule, final derivative."""
        nodes, values = decompose(self.forward, (*self.inputs, *self.constants), self.output)
        local = {
            (node.output, position): self.local_derivative(
                node,
                node.inputs[position],
                node.edge_derivative(position),
                values,
                node is nodes[-1],
            )
            for node in nodes
            for position in node.edges
            if node.inputs[position] not in self.constants  # data: no gradient is sent to it
        }
        graph = tuple(
            GraphNode(
                op=node.op,
                output=str(node.output),
                inputs=tuple(map(str, node.inputs)),
                expression=node.expression,
                local_derivatives={
                    # An input with one edge has that edge's derivative, already made.
                    str(w): local[node.output, node.inputs.index(w)]
                    if node.operation is None
                    else self.local_derivative(
                        node, w, node.local_derivative(w), values, node is nodes[-1]
                    )
                    for w in dict.fromkeys(node.inputs)
                    if w not in self.constants
                },
                edges=tuple(
                    Edge(
                        stand_in=str(node.stand_ins[position]),
                        input=str(node.inputs[position]),
                        rule=node.edge_rule(position),
                        local=local[node.output, position],
                    )
                    for position in node.edges
                    if node.inputs[position] not in self.constants
                )
                if node.operation is not None
                else (),
                operation=node.operation,
            )
            for node in nodes
        )
        chains = []
        for x in self.inputs:
            paths, count = paths_to(nodes, x)
            factors = tuple(
                tuple(local[node.output, position] for node, position in path) for path in paths
            )
            listed = sp.Add(*(sp.Mul(*f) for f in factors))
            chains.append(
                ChainRule(
                    wrt=str(x),
                    paths=tuple(tuple(str(node.output) for node, _ in path) for path in paths),
                    factors=factors,
                    # Every path summed: the listed ones multiplied out as the note writes
                    # them, or, past the listing, the backward walk over all of them.
                    product=listed if count == len(paths) else backward_sum(nodes, x, local),
                    path_count=count,
                    receivers=tuple(
                        tuple(_receiver(node, position) for node, position in path)
                        for path in paths
                    ),
                )
            )
        walk = tuple(
            BackwardStep(
                node=str(node.output),
                input=str(node.inputs[position]),
                receiver=_receiver(node, position),
                local=local[node.output, position],
            )
            for node, position in backward_walk(nodes)
            if node.inputs[position] not in self.constants
        )
        return Derivation(
            layer=name,
            output=self.output,
            forward=self.forward,
            inputs=tuple(map(str, self.inputs)),
            nodes=graph,
            chains=tuple(chains),
            derivatives={str(x): self.final_derivative(x) for x in self.inputs},
            notes=self._notes(),
            edge_walk=walk,
        )

    def _notes(self) -> tuple[Message, ...]:
        """What the constants are: data no gradient is taken of, and the values checked."""
        notes = [
            Message(
                N_("{c} is data given to forward (a constant input): no gradient is taken of it"),
                c=str(c),
            )
            for c in self.constants
        ]
        if self.settings:
            values = ", ".join(f"{s} = {v:g}" for s, v in self.settings.items())
            notes.append(Message(N_("compare evaluates the derivative at {values}"), values=values))
        return tuple(notes)

    def derive_second(self, name: str) -> SecondDerivation:
        """The second derivatives: the Hessian's entries, and for one input written in the
        output, the chain rule through y once more (d/dx g(y) = g′(y)·∂y/∂x), proved equal
        to SymPy's second derivative in the inputs."""
        first = {x: self.final_derivative(x) for x in self.inputs}
        y = self.output_symbol
        in_inputs, second = {}, {}
        for i, a in enumerate(self.inputs):
            for b in self.inputs[i:]:
                raw = sp.diff(self.forward, a, b)
                in_inputs[str(a), str(b)] = tidy(raw)
                second[str(a), str(b)] = tidy(raw)
        through_output, notes = None, []
        if len(self.inputs) == 1:
            (x,) = self.inputs
            g = first[x]
            if y in g.free_symbols and x not in g.free_symbols:
                slope = sp.diff(g, y)
                product = sp.Mul(slope, g)  # as the chain rule writes it: −2y·(1 − y²)
                raw = in_inputs[str(x), str(x)]
                # The output form is used only once it is proved to be SymPy's own.
                if proved_equal(product.subs(y, self.forward), raw):
                    through_output = (g, slope)
                    second[str(x), str(x)] = product
            else:
                named = _as_activation_derivative(g, x)
                if named is not None and proved_equal(named[2], in_inputs[str(x), str(x)]):
                    second[str(x), str(x)] = named[1]
                    notes.append(
                        Message(
                            N_(
                                "∂{y}/∂{x} is {f}({x}), so ∂²{y}/∂{x}² is {f}'s own derivative "
                                "at {f}({x}) (proved equal to SymPy's)"
                            ),
                            y=str(y),
                            x=str(x),
                            f=named[0],
                        )
                    )
        return SecondDerivation(
            layer=name,
            output=self.output,
            forward=self.forward,
            inputs=tuple(map(str, self.inputs)),
            first={str(x): value for x, value in first.items()},
            through_output=through_output,
            second=second,
            in_inputs=in_inputs,
            kinks=_boundaries(self.forward),
            notes=tuple(notes),
        )

    def hvp_function(self, shapes: Shapes) -> HessianVectorFunction:
        """SymPy's Hessian-vector product of ⟨dout, output⟩ in float64, element by element:
        ``{"x": dout·Σ_b ∂²f/∂x∂b·v_b, …}`` for directions v by input name."""
        key = ("hvp",)
        if key not in self._cache:
            arithmetic = Arithmetic(None)
            entries = {
                (str(a), str(b)): arithmetic.compile(self.inputs, sp.diff(self.forward, a, b))
                for a in self.inputs
                for b in self.inputs
            }

            def hvp(arrays, dout, directions):
                args = [np.asarray(arrays[str(x)], dtype=np.float64) for x in self.inputs]
                shape = np.shape(dout)
                return {
                    str(a): dout
                    * sum(
                        np.broadcast_to(entries[str(a), str(b)](*args), shape) * directions[str(b)]
                        for b in self.inputs
                    )
                    for a in self.inputs
                }

            self._cache[key] = hvp
        return self._cache[key]

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """Evaluation of SymPy's gradient: ``{"dx": dout · ∂y/∂x, …}``.

        In float64 through NumPy, or with ``digits`` at that many digits through mpmath
        (object arrays of ``mpf``; see :mod:`symgrad.symbolic.precision`). Element by
        element, so one function serves every ``shapes``.
        """
        key = ("gradients", digits)
        if key not in self._cache:
            arithmetic = Arithmetic(digits)
            arguments = (*self.inputs, *self.constants)
            functions = {
                str(x): arithmetic.elementwise(
                    arithmetic.compile(arguments, self.raw_derivative(x).subs(self.settings)),
                    len(arguments),
                )
                for x in self.inputs
            }

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    args = [arithmetic.array(arrays[str(x)]) for x in arguments]
                    dout = arithmetic.array(dout)
                    return {
                        f"d{name}": dout * np.broadcast_to(f(*args), dout.shape)
                        for name, f in functions.items()
                    }

            self._cache[key] = gradients
        return self._cache[key]


def _receiver(node: Node, position: int) -> str:
    """What an edge's local derivative is taken with respect to: the input itself, or its
    stand-in (a of a·b) where the input fills several positions."""
    return str(node.stand_ins[position] if node.operation is not None else node.inputs[position])


def _boundaries(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """Where the pieces of a piecewise expression meet (x = 0 for ReLU): there no second
    derivative exists, whatever the formula for either side says."""
    found = []
    for piecewise in expr.atoms(sp.Piecewise):
        for _, condition in piecewise.args:
            if isinstance(condition, sp.core.relational.Relational):
                found.append(sp.Eq(condition.lhs, condition.rhs))
    return tuple(dict.fromkeys(found))


def _as_activation_derivative(g: sp.Expr, x: sp.Symbol) -> tuple[str, sp.Expr, sp.Expr] | None:
    """When the first derivative g is a catalog activation's forward (softplus's is the
    sigmoid), the second is that activation's own derivative in its output: the
    activation's name, that derivative written with it, sigmoid(x)·(1 − sigmoid(x)), and
    the same in x, for the proof. None otherwise."""
    from symgrad.layers import CATALOG

    for layer in CATALOG:
        form = layer.form
        if not (layer.elementwise and layer.smooth and isinstance(form, ScalarForm)):
            continue
        if len(form.inputs) != 1 or form.express_in != "output":
            continue
        forward = form.forward.xreplace({form.inputs[0]: x})
        if forward != g:
            continue
        slope = form.final_derivative(form.inputs[0]).xreplace({form.inputs[0]: x})
        named = slope.xreplace({form.output_symbol: sp.Function(layer.name)(x)})
        return layer.name, named, slope.xreplace({form.output_symbol: forward})
    return None


def _activations(x: sp.Symbol) -> list[sp.Expr]:
    """The forwards of the catalog's smooth one-input elementwise layers, in ``x``."""
    from symgrad.layers import CATALOG

    forms = (layer.form for layer in CATALOG if layer.elementwise and layer.smooth)
    return [
        form.forward.xreplace({form.inputs[0]: x})
        for form in forms
        if isinstance(form, ScalarForm) and len(form.inputs) == 1
    ]
