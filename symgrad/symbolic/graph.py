"""Break a scalar SymPy expression into the note's primitive nodes, and walk it backward.

``1/(1 + exp(−x))`` becomes the note's four nodes ×(−1), exp, +1, 1/x; n-ary sums and
products are folded into binary nodes left to right, the way a person draws them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from symgrad.errors import SymgradError
from symgrad.i18n import _


@dataclass(frozen=True)
class Node:
    """``output = expression`` where ``expression`` uses only ``inputs`` (symbols or inputs).

    ``inputs`` has one entry per edge, in the order typed: x·x has (x, x), two edges from x
    whose contributions the backward pass adds. Where an input fills several positions,
    ``operation`` is the operation on ``stand_ins`` (a·b), one stand-in per edge, so that
    each edge has its own local derivative (∂(a·b)/∂a = b, which is x at a = b = x).
    """

    op: str
    output: sp.Symbol
    inputs: tuple[sp.Symbol, ...]
    expression: sp.Expr
    operation: sp.Expr | None = None
    stand_ins: tuple[sp.Symbol, ...] = ()

    def local_derivative(self, wrt: sp.Symbol) -> sp.Expr:
        """∂output/∂wrt, derived by SymPy in node-local symbols (over all of wrt's edges)."""
        return sp.diff(self.expression, wrt)

    @property
    def edges(self) -> range:
        """The positions of the node's edges: every one of ``inputs``, repeats included."""
        return range(len(self.inputs))

    def edge_rule(self, position: int) -> sp.Expr:
        """The edge's local derivative on the stand-ins (b for a of a·b), where ``operation``
        is given; else the input's own local derivative."""
        if self.operation is None:
            return self.local_derivative(self.inputs[position])
        return sp.diff(self.operation, self.stand_ins[position])

    def edge_derivative(self, position: int) -> sp.Expr:
        """The edge's local derivative in the node's inputs (x, for each edge of x·x)."""
        rule = self.edge_rule(position)
        if self.operation is None:
            return rule
        return rule.xreplace(dict(zip(self.stand_ins, self.inputs, strict=True)))


def _number_label(value: sp.Expr) -> str:
    """A constant as typed: 0.5 and 0.044715, never SymPy's 0.500000000000000."""
    text = repr(float(value)) if value.is_Float else sp.sstr(value, full_prec=False)
    text = text.replace("-", "−")
    return f"({text})" if value.is_negative or "/" in text else text


def piecewise_argument(expr: sp.Expr) -> sp.Expr | None:
    """The argument u when ``expr`` is ``Piecewise((f(u), u > 0), (g(u), True))`` with f
    and g functions of u alone (ReLU, leaky ReLU, ELU), else None."""
    if not isinstance(expr, sp.Piecewise) or len(expr.args) != 2:
        return None
    (positive, condition), (other, otherwise) = expr.args
    if otherwise != sp.true or not isinstance(condition, sp.StrictGreaterThan):
        return None
    u, zero = condition.args
    stand_in = sp.Dummy()
    if zero != 0 or any(
        value.subs(u, stand_in).free_symbols - {stand_in} for value in (positive, other)
    ):
        return None
    return u


class _Builder:
    def __init__(self, inputs: tuple[sp.Symbol, ...]) -> None:
        self.inputs = set(inputs)
        self.nodes: list[Node] = []
        self.value_of: dict[sp.Symbol, sp.Expr] = {}  # intermediate symbol -> expression in inputs
        # A repeated sub-expression is one node. Keyed by the operation on its inputs, not by
        # its value: x² + (x − x) equals x² but is a different computation, and a value key
        # would leave the nodes of (x − x) computed but used by nothing.
        self._seen: dict[tuple[str, sp.Expr], sp.Symbol] = {}

    def node(self, op: str, operands: list[sp.Expr], make, value: sp.Expr) -> sp.Symbol:
        """The node ``make(*operands)``; an operand that is a symbol is an edge."""
        used = tuple(s for s in operands if isinstance(s, sp.Symbol))
        operation, stand_ins = None, ()
        if len(set(used)) < len(used):  # x·x: two edges from x, each its own position
            stand_ins = tuple(sp.Dummy(real=True) for _ in used)
            placed = iter(stand_ins)
            operation = make(*(next(placed) if s in used else s for s in operands))
            with sp.evaluate(False):  # shown as typed: x·x, never SymPy's x²
                expression = make(*operands)
        else:
            expression = make(*operands)
        key = (op, expression)
        if key in self._seen:
            return self._seen[key]
        symbol = sp.Dummy(real=True)
        self.nodes.append(Node(op, symbol, used, expression, operation, stand_ins))
        self.value_of[symbol] = value
        self._seen[key] = symbol
        return symbol

    def fold(
        self, op: str, combine, terms: list[sp.Expr], constant: sp.Expr, identity
    ) -> sp.Symbol:
        """Binary nodes over ``terms`` left to right, then one unary node for the constant."""
        symbols = [self.visit(term) for term in terms]
        acc, value = symbols[0], terms[0]
        for symbol, term in zip(symbols[1:], terms[1:], strict=True):
            value = combine(value, term)
            acc = self.node(op, [acc, symbol], combine, value)
        if constant != identity:
            label = f"+{_number_label(constant)}" if op == "+" else f"×{_number_label(constant)}"
            acc = self.node(label, [acc, constant], combine, combine(value, constant))
        return acc

    def visit(self, expr: sp.Expr) -> sp.Expr:
        """Return the symbol (or number, or input) that stands for ``expr``."""
        # A constant such as sqrt(2) or pi is a leaf, like a number: no node computes it.
        if expr.is_number or expr in self.inputs:
            return expr
        if isinstance(expr, sp.Symbol):
            raise SymgradError(_("'{expr}' is not one of the inputs").format(expr=expr))
        if isinstance(expr, sp.Add):
            constant, rest = expr.as_independent(*self.inputs, as_Add=True)
            return self.fold("+", lambda a, b: a + b, list(sp.Add.make_args(rest)), constant, 0)
        if isinstance(expr, sp.Mul):
            constant, rest = expr.as_independent(*self.inputs, as_Add=False)
            return self.fold("×", lambda a, b: a * b, list(sp.Mul.make_args(rest)), constant, 1)
        if isinstance(expr, sp.Pow):
            base, exponent = expr.args
            if exponent.is_Number:
                # The note's "/" node is 1/x; labels name the operation, never an input.
                label = {-1: "/", sp.Rational(1, 2): "√"}.get(exponent)
                u = self.visit(base)
                op = label or f"^{_number_label(exponent)}"
                return self.node(op, [u], lambda u: u**exponent, expr)
            if base.is_Number:
                u = self.visit(exponent)
                return self.node(f"{_number_label(base)}^", [u], lambda u: base**u, expr)
            u, v = self.visit(base), self.visit(exponent)
            return self.node("^", [u, v], lambda u, v: u**v, expr)
        argument = piecewise_argument(expr)
        if argument is not None:  # one node, as the note draws ReLU: relu, or its variants
            u = self.visit(argument)
            op = "relu" if expr.args[1][0] == 0 and expr.args[0][0] == argument else "piecewise"
            return self.node(op, [u], lambda u: expr.subs(argument, u), expr)
        if isinstance(expr, sp.Piecewise):  # where(condition, a, b): one node
            # The values are its edges; the condition only chooses between them and passes
            # no gradient, so what it compares is read, never an edge.
            values = [self.visit(value) for value, _ in expr.args]
            conditions = [self._condition(condition) for _, condition in expr.args]
            return self.node(
                "where",
                values,
                lambda *chosen: sp.Piecewise(*zip(chosen, conditions, strict=True)),
                expr,
            )
        if isinstance(expr, sp.Function) and expr.args:
            symbols = [self.visit(arg) for arg in expr.args]
            op = getattr(expr.func, "word", "") or expr.func.__name__  # max, not Maximum
            return self.node(op, symbols, expr.func, expr)
        raise SymgradError(
            _("cannot draw '{expr}' as a graph of primitive operations").format(expr=expr)
        )

    def _condition(self, condition: sp.Basic) -> sp.Basic:
        """A where's condition over the symbols standing for its two sides."""
        if isinstance(condition, sp.core.relational.Relational):
            return condition.func(self.visit(condition.lhs), self.visit(condition.rhs))
        return condition  # True: the last piece's "otherwise"


def intermediate_names(count: int, taken: set[str]) -> list[str]:
    """t (one intermediate) or t1, t2, … ; u-names (then v, w, …) when those are taken."""
    stem = next(
        (s for s in "tuvwpqrs" if not any(re.fullmatch(rf"{s}\d*", n) for n in taken)), "tmp"
    )
    return [stem] if count == 1 else [f"{stem}{k}" for k in range(1, count + 1)]


STAND_INS = ("abcd", "pqrs", "αβγδ")


def stand_in_names(edges: range, taken: set[str]) -> list[str]:
    """Names for a node's positions, a and b of a·b: the first letters of a set none of
    whose letters is already a name in the graph."""
    for letters in STAND_INS:
        if len(letters) >= len(edges) and not taken & set(letters):
            return list(letters[: len(edges)])
    return [f"arg{k}" for k in range(1, len(edges) + 1)]


def decompose(
    expr: sp.Expr, inputs: tuple[sp.Symbol, ...], output: str
) -> tuple[list[Node], dict[sp.Symbol, sp.Expr]]:
    """The nodes of ``output = expr``, in forward order, with readable symbol names.

    Returns the nodes and a map from every intermediate symbol to its value in the inputs.
    An expression that is just an input, or a constant, gets a single identity node.
    """
    builder = _Builder(inputs)
    result = builder.visit(expr)
    if not builder.nodes or result != builder.nodes[-1].output:
        builder.node("=", [result], lambda r: r, result)
    nodes, value_of = builder.nodes, builder.value_of
    names = intermediate_names(len(nodes) - 1, {str(s) for s in inputs} | {output})
    renames = {
        node.output: sp.Symbol(name, real=True)
        for node, name in zip(nodes[:-1], names, strict=False)
    }
    renames[nodes[-1].output] = sp.Symbol(output, real=True)
    taken = {str(s) for s in (*inputs, *renames.values())}
    renamed = []
    for node in nodes:
        stand_ins = tuple(sp.Symbol(n, real=True) for n in stand_in_names(node.edges, taken))
        within = dict(zip(node.stand_ins, stand_ins, strict=False))
        with sp.evaluate(node.operation is None):  # t·t stays as typed when t is renamed
            expression = node.expression.xreplace(renames)
        renamed.append(
            Node(
                node.op,
                renames[node.output],
                tuple(renames.get(s, s) for s in node.inputs),
                expression,
                None if node.operation is None else node.operation.xreplace(within),
                stand_ins if node.operation is not None else (),
            )
        )
    values = {renames[s]: value.xreplace(renames) for s, value in value_of.items()}
    return renamed, values


PATHS_LISTED = 4  # more paths than this are not listed: the backward walk is shown instead

Edge = tuple[Node, int]  # a node and the position of one of its inputs


def paths_to(
    nodes: list[Node], wrt: sp.Symbol, limit: int = PATHS_LISTED
) -> tuple[list[list[Edge]], int]:
    """The paths from the graph's output down to ``wrt``, as (node, position) edges: the
    first ``limit`` of them, and how many there are in all (the count grows exponentially
    with a graph's depth, so it is counted node by node, never listed). x·x has two paths
    to x, one per edge."""
    producer = {node.output: node for node in nodes}
    found: list[list[Edge]] = []

    def walk(symbol: sp.Symbol, trail: list[Edge]) -> None:
        if len(found) >= limit:
            return
        if symbol == wrt:
            found.append(trail)
            return
        node = producer.get(symbol)
        if node is None:
            return
        for position in node.edges:
            walk(node.inputs[position], [*trail, (node, position)])

    walk(nodes[-1].output, [])
    count = {wrt: 1}
    for node in nodes:  # forward order: every input is counted before it is used
        count[node.output] = sum(count.get(source, 0) for source in node.inputs)
    return found, count.get(nodes[-1].output, 0)


def backward_walk(nodes: list[Node]) -> list[Edge]:
    """The edges in the order backprop takes them: nodes from the output back (reverse
    topological order), each node's edges in its inputs' order."""
    return [(node, position) for node in reversed(nodes) for position in node.edges]


def backward_sum(nodes: list[Node], wrt: sp.Symbol, local: dict) -> sp.Expr:
    """∂output/∂wrt summed over every path by the backward walk: each node passes on what
    reached it times each edge's local derivative (``local[output, position]``)."""
    reached: dict[sp.Symbol, sp.Expr] = {nodes[-1].output: sp.Integer(1)}
    for node, position in backward_walk(nodes):
        if (node.output, position) not in local:  # data (dropout's mask): no gradient
            continue
        source = node.inputs[position]
        upstream = reached.get(node.output, sp.Integer(0))
        reached[source] = (
            reached.get(source, sp.Integer(0)) + upstream * local[node.output, position]
        )
    return reached.get(wrt, sp.Integer(0))
