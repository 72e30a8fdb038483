"""Column-wise layers over a batch (batch normalisation): each column's N outputs depend
on the whole column of N inputs, through sums over the batch.

The layer is written node by node on one column, for a symbolic batch size N: a node's
output is per element (x̄ₙ = xₙ − μ, an :class:`~sympy.IndexedBase` read at the index n)
or per column (μ = Σₙ xₙ/N, a plain symbol). SymPy takes every node's local derivative;
the backward walk then runs the nodes in reverse, each passing its upstream gradient
times its local derivative to its inputs: summed over n where a per-column value was
broadcast to every element (dγ = Σₙ dzₙ·x̂ₙ), spread over the elements where a sum took
them in (dxₙ = dμ/N). Sums are kept as SymPy ``Sum`` objects over n = 1, …, N and are used only
through linearity, so every step holds for any N.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from symgrad.errors import SymgradError
from symgrad.i18n import N_, Message, _
from symgrad.reports import Derivation, GraphNode, SecondDerivation
from symgrad.symbolic.cache import remember
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)

INDEX = sp.Symbol("n", integer=True, positive=True)  # a row of the batch
N = sp.Symbol("N", integer=True, positive=True)  # the batch size

Quantity = sp.Symbol | sp.IndexedBase
# The most rows a batch's Hessian-vector product is written out for: SymPy takes about a
# second at 4 rows and nine at 8, the expressions growing tenfold.
HVP_ROWS = 6


def over_batch(summand: sp.Expr) -> sp.Sum:
    """Σₙ summand, n = 1, …, N."""
    return sp.Sum(summand, (INDEX, 1, N))


def _per_element(expr: sp.Expr) -> bool:
    return INDEX in expr.free_symbols


def column_sum(expr: sp.Expr) -> sp.Expr:
    """Σₙ expr by linearity alone: each term's factors free of n come out of the sum, a
    term free of n is N times itself (Σₙ (γ·dzₙ·x̂ₙ + dβ) = γ·Σₙ dzₙ·x̂ₙ + N·dβ)."""
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        constant, varying = term.as_independent(INDEX, as_Add=False)
        total += constant * (over_batch(varying) if varying != 1 else N)
    return total


def substitute(expr: sp.Expr, mapping: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    """``expr`` with ``mapping`` applied everywhere, inside the sums too (a quantity read
    at n inside Σₙ is the same quantity), each sum then tidied by linearity."""
    replaced = expr.xreplace(dict(mapping))
    return replaced.replace(lambda e: isinstance(e, sp.Sum), lambda e: column_sum(e.function))


def _summands(expr: sp.Expr) -> sp.Expr:
    """A reduction node's expression with each Σₙ replaced by its summand: its derivative
    with respect to one element aₙ is the node's local derivative ∂out/∂aₙ."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.function)


def _at(quantity: Quantity) -> sp.Expr:
    """How a quantity is read inside an expression: xₙ for a per-element one, μ itself."""
    return quantity[INDEX] if isinstance(quantity, sp.IndexedBase) else quantity


def gradient_of(quantity: Quantity) -> Quantity:
    """The symbol for the upstream gradient ∂L/∂quantity: dx̄ (per element) or dμ."""
    name = f"d{quantity}"
    if isinstance(quantity, sp.IndexedBase):
        return sp.IndexedBase(name, real=True)
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class ColumnNode:
    """``output = expression`` on one column: ``output`` per element (an IndexedBase) or
    per column (a Symbol); ``expression`` reads earlier outputs and the inputs."""

    op: str
    output: Quantity
    expression: sp.Expr


@dataclass(frozen=True)
class ColumnForm:
    """A column-wise layer as its nodes, in forward order, on one column of the batch.

    Attributes:
        nodes: the computational graph; the last node's output is the layer's output.
        input: the per-element input (x), read as xₙ.
        params: per-column parameters (γ, β) by the name of their NumPy array.
        settings: constants of the forward and their values (ε).
        rewrite: how intermediates are written in the quantities the final forms use:
            substitutions applied to the walk's results (r → 1/σ, x̄ₙ → σ·x̂ₙ), each
            checked to follow from the nodes.
        vanishing: per-element quantities whose sum over the batch is 0 (Σₙ x̂ₙ = 0),
            each proved from the nodes.
    """

    nodes: tuple[ColumnNode, ...]
    input: sp.IndexedBase
    params: Mapping[str, sp.Symbol]
    settings: Mapping[sp.Symbol, float]
    rewrite: Mapping[sp.Expr, sp.Expr]
    vanishing: tuple[sp.IndexedBase, ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def output(self) -> str:
        return str(self.nodes[-1].output)

    def _node_inputs(self, node: ColumnNode) -> list[Quantity]:
        """The quantities ``node`` reads (earlier outputs, the input, the parameters)."""
        known = [self.input, *self.params.values(), *(n.output for n in self.nodes)]
        found = []
        for quantity in known:
            if quantity is node.output:
                continue
            atom = _at(quantity)
            if any(a == atom for a in node.expression.atoms(sp.Indexed, sp.Symbol)):
                found.append(quantity)
        return found

    def local_derivative(self, node: ColumnNode, source: Quantity) -> sp.Expr:
        """∂out/∂source for one element of each: a sum over the batch differentiated with
        respect to one element it takes in (∂μ/∂xₙ = 1/N).

        Raises:
            ArithmeticError: for a node that is not a multiple of one sum where it sums
                (√(Σₙ qₙ) would need the chain rule through the sum's value).
        """
        sums = node.expression.atoms(sp.Sum)
        if sums:
            value = sp.Dummy()
            linear = sp.diff(node.expression.xreplace({next(iter(sums)): value}), value, 2) == 0
            if len(sums) > 1 or not linear:
                raise ArithmeticError(f"{node.op}: a node that sums must be c·Σₙ(…) + d")
        return sp.diff(_summands(node.expression), _at(source))

    def _walk(self) -> tuple[list[tuple[Quantity, sp.Expr]], dict[Quantity, sp.Expr]]:
        """The backward walk: per quantity, in the order it is reached, its gradient in
        the upstream gradients of the nodes that read it; and each gradient's value in
        dy and the forward's quantities."""
        readers: dict[Quantity, int] = {}
        for node in self.nodes:
            for source in self._node_inputs(node):
                readers[source] = readers.get(source, 0) + 1
        rules: dict[Quantity, sp.Expr] = {}
        order: list[Quantity] = []  # a gradient is complete once every reader has sent
        for node in reversed(self.nodes):
            upstream = _at(gradient_of(node.output))
            for source in self._node_inputs(node):
                local = self.local_derivative(node, source)
                if isinstance(source, sp.IndexedBase) or not _per_element(node.expression):
                    sent = upstream * local  # elementwise, or a sum spread over its elements
                else:
                    sent = column_sum(upstream * local)  # broadcast: summed over the batch
                rules[source] = rules.get(source, sp.Integer(0)) + sent
                readers[source] -= 1
                if readers[source] == 0:
                    order.append(source)
        values: dict[Quantity, sp.Expr] = {}
        output = self.nodes[-1].output
        for quantity in order:
            reached = {_at(gradient_of(q)): v for q, v in values.items() if q is not quantity}
            reached[_at(gradient_of(output))] = _at(gradient_of(output))
            values[quantity] = substitute(rules[quantity], reached)
        return [(q, rules[q]) for q in order], values

    def _final(self, value: sp.Expr) -> sp.Expr:
        """A gradient in the quantities the closed form uses: the rewrite applied (inside
        the sums too), the vanishing sums dropped, then factored."""
        rewritten = self._rewritten(value)
        atoms = {s: sp.Dummy() for s in rewritten.atoms(sp.Sum)}
        factored = sp.factor(sp.together(rewritten.xreplace(atoms)))
        return factored.xreplace({d: s for s, d in atoms.items()})

    def _rewritten(self, value: sp.Expr) -> sp.Expr:
        value = substitute(value, self.rewrite)
        zero = {over_batch(_at(q)): 0 for q in self.vanishing}
        return sp.expand(value.xreplace(zero))

    def _check_facts(self) -> None:
        """The rewrite follows from the nodes and each vanishing sum is 0, for any N:
        proved by substituting the nodes' own expressions, sums kept by linearity."""
        definitions = self._definitions()
        for old, new in self.rewrite.items():
            if sp.simplify(self._expand(old - new, definitions)) != 0:
                raise ArithmeticError(f"{old} = {new} does not follow from the nodes")
        for quantity in self.vanishing:
            total = self._expand(column_sum(_at(quantity)), definitions)
            if sp.simplify(total) != 0:
                raise ArithmeticError(f"Σₙ {quantity}ₙ is not 0")

    def _definitions(self) -> dict[sp.Expr, sp.Expr]:
        return {_at(node.output): node.expression for node in self.nodes}

    def _expand(self, expr: sp.Expr, definitions: dict) -> sp.Expr:
        """``expr`` in the input and parameters alone, the nodes substituted in turn
        (inside sums too), sums kept by linearity; a per-column value read inside a sum
        is constant there, so it comes out of it."""
        for _node in self.nodes:
            expr = substitute(expr, definitions)
        return expr

    def proved_equal(self, a: sp.Expr, b: sp.Expr) -> bool:
        """a = b for every N, in the quantities both use: each rewritten the same way,
        with the sums over the batch as atoms that only linearity touches."""
        difference = self._rewritten(a) - self._rewritten(b)
        atoms = {s: sp.Dummy() for s in difference.atoms(sp.Sum)}
        return sp.simplify(sp.together(difference.xreplace(atoms))) == 0

    def derive(self, name: str) -> Derivation:
        """The nodes with their local derivatives, the backward walk node by node, and
        each gradient in closed form, proved equal to the walk's product for any N."""
        from symgrad.render.mathtext import pretty  # the notes are text

        self._check_facts()
        nodes = []
        for node in self.nodes:
            local = {}
            for source in self._node_inputs(node):
                key = f"∂{_named(_at(node.output))}/∂{_named(_at(source))}"
                local[key] = self.local_derivative(node, source)
            nodes.append(
                GraphNode(
                    op=node.op,
                    output=_named(_at(node.output)),
                    inputs=tuple(_named(_at(s)) for s in self._node_inputs(node)),
                    expression=node.expression,
                    local_derivatives=local,
                )
            )
        rules, values = self._walk()
        walk = tuple((_named(_at(gradient_of(q))), rule) for q, rule in rules)
        wanted = [self.input, *self.params.values()]
        derivatives = {}
        for quantity in wanted:
            closed = self._final(values[quantity])
            if not self.proved_equal(closed, values[quantity]):
                raise ArithmeticError(f"the closed form of d{quantity} is not the walk's")
            derivatives[_named(_at(quantity))] = closed
        y = _at(self.nodes[-1].output)
        # The forward of one element, the column's sums left as the nodes name them (μ, var).
        per_element = {
            _at(node.output): node.expression
            for node in self.nodes
            if not node.expression.has(sp.Sum)
        }
        forward = y
        for _node in self.nodes:
            forward = forward.xreplace(per_element)
        return Derivation(
            layer=name,
            output=_named(y),
            forward=forward,
            inputs=tuple(_named(_at(q)) for q in wanted),
            nodes=tuple(nodes),
            chains=(),
            derivatives=derivatives,
            walk=walk,
            notes=(
                Message(
                    N_(
                        "derived for a symbolic batch size N: Σ sums over the batch, n = 1, …, "
                        "N, and is used only through linearity; the closed forms are proved "
                        "equal to the walk's products for every N"
                    )
                ),
                Message(
                    N_("the closed forms use {facts} and {sums}, each proved from the nodes"),
                    facts=", ".join(f"{pretty(a)} = {pretty(b)}" for a, b in self.rewrite.items()),
                    sums=", ".join(f"{pretty(over_batch(_at(q)))} = 0" for q in self.vanishing),
                ),
                Message(
                    N_(
                        "dyₙ = ∂L/∂yₙ, the upstream gradient; each column of the batch is "
                        "normalised on its own"
                    )
                ),
            ),
        )

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """SymPy's closed-form gradients evaluated on arrays: the input N×D, the
        parameters D; each column's sums taken over its N rows."""
        key = ("gradients", digits)
        if key not in self._cache:
            derivatives = remember(
                ("column gradients", sp.srepr([(n.op, n.expression) for n in self.nodes])),
                lambda: self.derive("").derivatives,
            )
            arithmetic = Arithmetic(digits)
            targets = {str(self.input): self.input, **self.params}  # array name → quantity
            forms = {
                name: self._lower(derivatives[_named(_at(q))], arithmetic)
                for name, q in targets.items()
            }
            forward = [
                (node.output, self._lower(node.expression, arithmetic)) for node in self.nodes
            ]

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    x = arithmetic.array(arrays[str(self.input)])
                    env = {self.input: x, N: x.shape[0]}
                    env.update({s: arithmetic.array(v) for s, v in self.settings.items()})
                    env.update({s: arithmetic.array(arrays[n]) for n, s in self.params.items()})
                    for quantity, value in forward:
                        env[quantity] = value(env)
                    env[gradient_of(self.nodes[-1].output)] = arithmetic.array(dout)
                    return {
                        f"d{name}": np.broadcast_to(forms[name](env), np.shape(arrays[name]))
                        for name in forms
                    }

            self._cache[key] = gradients
        return self._cache[key]

    def _along(self) -> tuple[ColumnForm, dict[sp.Expr, sp.Expr]]:
        """The layer with its forward-mode pass appended: for every node a tangent node
        ṫ = d/dt of its expression along the direction v (vxₙ, vγ, vβ), derived by SymPy
        and kept linear in its sums, then D = Σₙ dyₙ·ẏₙ, the pairing's derivative along
        v. Its gradient in x, γ and β is H·v. Returns the extended form (D its output)
        and each tangent's expression by the tangent as read."""
        last = self.nodes[-1]
        dout = gradient_of(last.output)  # dy, the same upstream gradient as at order 1
        tangent: dict[Quantity, Quantity] = {self.input: sp.IndexedBase("vx", real=True)}
        tangent |= {p: sp.Symbol(f"v{p}", real=True) for p in self.params.values()}
        step = sp.Dummy("t")
        nodes = list(self.nodes)
        for node in self.nodes:
            moved = node.expression.xreplace(
                {_at(q): _at(q) + step * _at(tangent[q]) for q in self._node_inputs(node)}
            )
            along = substitute(sp.diff(moved, step).subs(step, 0), {})
            name = f"{node.output}_dot"
            is_element = isinstance(node.output, sp.IndexedBase)
            tangent[node.output] = (
                sp.IndexedBase(name, real=True) if is_element else sp.Symbol(name, real=True)
            )
            nodes.append(ColumnNode(f"d/dt {node.op}", tangent[node.output], along))
        pairing = sp.Symbol("D", real=True)
        along_output = _at(tangent[last.output])
        nodes.append(ColumnNode("⟨dy, ẏ⟩", pairing, over_batch(dout[INDEX] * along_output)))
        # The layer's own output is read by no node here: renamed, so that the gradient
        # the walk gives it (0) is not mistaken for dy.
        unread = sp.IndexedBase(f"{last.output}_unread", real=True)
        nodes[len(self.nodes) - 1] = ColumnNode(last.op, unread, last.expression)
        extended = ColumnForm(
            nodes=tuple(nodes),
            input=self.input,
            params=self.params,
            settings=self.settings,
            rewrite=self.rewrite,
            vanishing=self.vanishing,
        )
        tangents = {_at(n.output): n.expression for n in nodes[len(self.nodes) : -1]}
        return extended, tangents

    def hessian_products(self) -> dict[str, sp.Expr]:
        """(H·v) of ⟨dy, y⟩ for the input and each parameter, for a symbolic batch size
        N: the backward walk of :meth:`_along`'s D (dD = 1; the layer's own output, read
        by no node there, sends nothing), every tangent written out in v and the forward's
        quantities, each closed form proved equal to the walk's for every N."""
        extended, tangents = self._along()
        _rules, values = extended._walk()
        quiet = {
            _at(gradient_of(extended.nodes[-1].output)): 1,
            _at(gradient_of(extended.nodes[len(self.nodes) - 1].output)): 0,
        }
        products = {}
        for quantity in (self.input, *self.params.values()):
            walked = substitute(values[quantity], quiet)
            for _node in tangents:  # each pass writes out one more level of tangents
                walked = substitute(walked, tangents)
            closed = self._final(walked)
            if not self.proved_equal(closed, walked):
                raise ArithmeticError(f"the closed form of (H·v) for {quantity} is not the walk's")
            products[_named(_at(quantity))] = closed
        return products

    def derive_second(self, name: str) -> SecondDerivation:
        """The second-order term as a Hessian-vector product for a symbolic batch size N
        (:meth:`hessian_products`), beside the first derivatives ``derive`` shows."""
        first = self.derive(name)
        products = self.hessian_products()
        rows = f"N×{'D'}"
        shapes = {key: rows if key == _named(_at(self.input)) else "D" for key in products}
        shapes |= {f"v{key}": shape for key, shape in shapes.items()}
        return SecondDerivation.of_products(
            layer=name,
            output=first.output,
            forward=first.forward,
            first=first.derivatives,
            products=products,
            shapes=shapes,
            notes=(
                Message(
                    N_(
                        "derived for a symbolic batch size N: the forward pass along v (each "
                        "node's derivative along the direction, by SymPy) adds the nodes of D = "
                        "Σₙ dyₙ·ẏₙ, and H·v is D's backward walk, proved equal to its closed "
                        "form for every N"
                    )
                ),
                Message(
                    N_(
                        "compare --order 2 evaluates H·v on the batch's N rows written out "
                        "(x₁ … x_N), an independent derivation"
                    )
                ),
            ),
        )

    def written_out(self, rows: int) -> tuple[list[sp.Symbol], list[sp.Expr]]:
        """One column of ``rows`` explicit inputs x₁ … x_N and its outputs in them (and in
        the parameters and settings' symbols): every node's sum written out as N terms."""
        xs = [sp.Symbol(f"{self.input}{k}", real=True) for k in range(1, rows + 1)]
        values: dict[Quantity, Any] = {self.input: xs}

        def at_row(expr: sp.Expr, row: int | None) -> sp.Expr:
            written = expr.replace(
                lambda e: isinstance(e, sp.Sum),
                lambda e: sp.Add(*(e.function.subs(INDEX, m) for m in range(1, rows + 1))),
            )
            if row is not None:
                written = written.subs(INDEX, row)
            written = written.replace(
                lambda e: isinstance(e, sp.Indexed),
                lambda e: values[e.base][int(e.indices[0]) - 1],
            )
            scalars = {q: v for q, v in values.items() if isinstance(q, sp.Symbol)}
            return written.xreplace(scalars).subs(N, rows)

        for node in self.nodes:
            if isinstance(node.output, sp.IndexedBase):
                values[node.output] = [at_row(node.expression, k) for k in range(1, rows + 1)]
            else:
                values[node.output] = at_row(node.expression, None)
        return xs, values[self.nodes[-1].output]

    def hvp_function(self, shapes: Shapes) -> HessianVectorFunction:
        """SymPy's Hessian-vector product of ⟨dy, y⟩ in float64, column by column: on
        the batch's N rows written out (:meth:`written_out`), (H·v)_a = ∂(Σ_b v_b·∂⟨dy,
        y⟩/∂b)/∂a for a, b among x₁ … x_N and the parameters, derived by SymPy for this N
        (the expressions grow with N: :data:`HVP_ROWS` rows at most).

        Raises:
            SymgradError: for a batch of more than :data:`HVP_ROWS` rows.
        """
        rows = shapes[str(self.input)][0]
        if rows > HVP_ROWS:
            raise SymgradError(
                _(
                    "--order 2: a layer over the batch has its Hessian-vector product derived "
                    "on the batch's N rows written out, N up to {limit}; --shape has N = {rows}"
                ).format(limit=HVP_ROWS, rows=rows)
            )
        key = ("hvp", rows)
        if key not in self._cache:
            xs, ys = self.written_out(rows)
            params = list(self.params.values())
            douts = [sp.Symbol(f"dy{k}", real=True) for k in range(1, rows + 1)]
            along = [sp.Symbol(f"v{t}", real=True) for t in (*xs, *params)]

            def derived() -> list[sp.Expr]:
                pairing = sum(d * y for d, y in zip(douts, ys, strict=True))
                thetas = (*xs, *params)
                directional = sum(
                    v * sp.diff(pairing, t) for v, t in zip(along, thetas, strict=True)
                )
                return [sp.diff(directional, t).subs(self.settings) for t in thetas]

            products = remember(("column hvp", sp.srepr(ys)), derived)
            compiled = Arithmetic(None).compile((xs, params, douts, along), products)
            names = [str(self.input), *self.params]

            def hvp(arrays, dout, directions):
                x = np.asarray(arrays[names[0]], dtype=np.float64)
                given = [np.asarray(arrays[n], dtype=np.float64) for n in names[1:]]
                d = np.asarray(dout, dtype=np.float64).reshape(x.shape)
                v = [np.asarray(directions[n], dtype=np.float64) for n in names]
                values = compiled(list(x), given, list(d), [*v[0], *v[1:]])
                parts = [np.broadcast_to(p, x.shape[1:]) for p in values]
                return {
                    names[0]: np.stack(parts[:rows]),
                    **dict(zip(names[1:], parts[rows:], strict=True)),
                }

            self._cache[key] = hvp
        return self._cache[key]

    def _lower(self, expr: sp.Expr, arithmetic: Arithmetic):
        """``expr`` as a function of the arrays by quantity: a per-element quantity is an
        N×D array (its rows the batch), a per-column one a D-vector; each Σₙ is a sum
        over the rows, evaluated first."""
        sums = _outer_sums(expr)
        inner = [(s, self._lower(s.function, arithmetic)) for s in sums]
        stand_ins = {s: sp.Dummy() for s in sums}
        body = expr.xreplace(stand_ins)
        indexed = sorted(body.atoms(sp.Indexed), key=str)
        reads = {a: sp.Dummy() for a in indexed}
        body = body.xreplace(reads)
        scalars = sorted(body.free_symbols - set(reads.values()) - set(stand_ins.values()), key=str)
        args = [*reads.values(), *stand_ins.values(), *scalars]
        compiled = arithmetic.compile(args, body)
        if arithmetic.digits is not None:
            compiled = arithmetic.elementwise(compiled, len(args))

        def value(env: dict) -> np.ndarray:
            summed = [function(env).sum(axis=0) for _, function in inner]
            given = [env[a.base] for a in indexed] + summed + [env[s] for s in scalars]
            return compiled(*given)

        return value


def _named(quantity: sp.Expr) -> str:
    """A quantity's name as the renderers print it: ``x_n`` (xₙ) for an element, ``μ``."""
    if isinstance(quantity, sp.Indexed):
        return f"{quantity.base}_{'_'.join(map(str, quantity.indices))}"
    return str(quantity)


def _outer_sums(expr: sp.Expr) -> list[sp.Sum]:
    """The sums in ``expr`` not inside another sum."""
    if isinstance(expr, sp.Sum):
        return [expr]
    return list(dict.fromkeys(s for arg in expr.args for s in _outer_sums(arg)))


__all__ = ["INDEX", "ColumnForm", "ColumnNode", "N", "column_sum", "over_batch"]
