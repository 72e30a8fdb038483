"""Safe expression parsing: what it accepts, what it builds, and everything it refuses."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from symgrad.errors import SymgradError
from symgrad.expressions.functions import relu, sigmoid
from symgrad.expressions.parse import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, parse_expression
from symgrad.layers import get_layer
from symgrad.symbolic.graph import decompose

x, y, w = sp.symbols("x y w", real=True)


def ops(text: str) -> list[str]:
    """The graph's node labels for ``text``, in forward order."""
    expr = parse_expression(text)
    nodes, _ = decompose(expr, tuple(sorted(expr.free_symbols, key=str)), "z")
    return [node.op for node in nodes]


# --- what the parser accepts and builds -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(x+y)**2", (x + y) ** 2),
        ("1/(1+exp(-x))", 1 / (1 + sp.exp(-x))),
        ("x - y", x - y),
        ("-x", -x),
        ("+x", x),
        ("x/y", x / y),
        ("2/x", 2 / x),
        ("x/4", x / 4),
        ("x**-2", x**-2),
        ("2**x", 2**x),
        ("x**y", x**y),
        ("sqrt(x)", sp.sqrt(x)),
        ("log(x) + sin(y)*cos(w)", sp.log(x) + sp.sin(y) * sp.cos(w)),
        ("tan(x) + sinh(y) + cosh(w) + tanh(x)", sp.tan(x) + sp.sinh(y) + sp.cosh(w) + sp.tanh(x)),
        ("3*(2*x)", 6 * x),
        ("x + 1 + 2", x + 3),
        ("1.5*x", sp.Float(1.5) * x),
        ("2**3*x", 8 * x),
        ("exp(log(x))", x),
        ("-x**2", -(x**2)),  # Python's precedence: the power binds tighter than the minus
        ("-(1)**2 + x", x - 1),
        ("2**3**2*x", 512 * x),  # and ** groups to the right
    ],
)
def test_parses_to_the_expression_the_text_means(text, expected):
    assert sp.simplify(parse_expression(text) - expected) == 0


def test_redundant_parentheses_are_harmless():
    assert parse_expression("(" * 50 + "x" + ")" * 50) == x


def test_names_become_real_symbols():
    expr = parse_expression("apple*apple_num*tax")
    assert {str(s) for s in expr.free_symbols} == {"apple", "apple_num", "tax"}
    assert all(s.is_real for s in expr.free_symbols)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/(1+exp(-x))", ["×(−1)", "exp", "+1", "/"]),  # the note's sigmoid graph
        ("(x+y)**2", ["+", "^2"]),
        ("(apple*apple_num + orange*orange_num)*tax", ["×", "×", "+", "×"]),
        ("x*x", ["×"]),  # kept as typed, not SymPy's x²
        ("exp(log(x))", ["log", "exp"]),  # not simplified to x
        ("2*(x+y)", ["+", "×2"]),  # not distributed into 2x + 2y
        ("sigmoid(x)", ["sigmoid"]),  # one node, not four
        ("relu(x)", ["relu"]),
        ("x/2", ["×(1/2)"]),
    ],
)
def test_the_tree_is_kept_as_written(text, expected):
    assert ops(text) == expected


def test_apple_nodes_come_in_the_figures_order():
    expr = parse_expression("(apple*apple_num)*tax")
    nodes, _ = decompose(expr, tuple(sorted(expr.free_symbols, key=str)), "price")
    assert [tuple(map(str, node.inputs)) for node in nodes] == [
        ("apple", "apple_num"),
        ("t", "tax"),
    ]


# --- sigmoid and relu: one node each, everything from the catalog -----------------------


def test_sigmoid_derivative_is_the_catalogs():
    form = get_layer("sigmoid").form
    (u,) = form.inputs
    catalog = sp.diff(form.forward, u).subs(u, 2 * x)
    derived = sp.diff(sigmoid(2 * x), x)
    assert sigmoid in {type(f) for f in derived.atoms(sp.Function)}  # in its own terms
    expanded = derived.replace(sigmoid, lambda a: form.forward.subs(u, a))
    assert sp.simplify(expanded - 2 * catalog) == 0


def test_relu_derivative_is_the_catalogs():
    form = get_layer("relu").form
    (u,) = form.inputs
    derivative = sp.diff(relu(x), x)
    for value in (-2, -0.5, 0, 0.5, 3):
        expected = sp.diff(form.forward, u).subs(u, value)
        assert derivative.subs(x, value) == expected


def test_catalog_functions_evaluate_exactly_and_numerically():
    assert sigmoid(0) == sp.Rational(1, 2)
    assert relu(-3) == 0 and relu(sp.Float(2.5)) == 2.5
    assert abs(sigmoid(1).evalf(30) - 1 / (1 + sp.exp(-1)).evalf(30)) < 1e-28


def test_catalog_functions_lambdify_to_the_numpy_layers():
    values = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    f = sp.lambdify(x, sigmoid(x), "numpy")
    g = sp.lambdify(x, relu(x), "numpy")
    np.testing.assert_allclose(f(values), get_layer("sigmoid").numpy_class().forward(values))
    np.testing.assert_array_equal(g(values), get_layer("relu").numpy_class().forward(values))
    dsig = sp.lambdify(x, sp.diff(sigmoid(x), x), "numpy")
    s = 1 / (1 + np.exp(-values))
    np.testing.assert_allclose(dsig(values), s * (1 - s))


# --- refused -------------------------------------------------------------------------------

REFUSED = {
    "__import__('os').system('echo hi')": "attribute access",
    "__import__('os')": "calling '__import__'",
    "x.real": "attribute access",
    "x[0]": "subscripts",
    "lambda: 1": "lambda",
    "[t for t in x]": "comprehensions",
    "{t for t in x}": "comprehensions",
    "(t for t in x)": "comprehensions",
    "{'a': 1}": "dicts",
    "[x, y]": "lists",
    "x, y": "tuples",
    "'text'": "strings",
    "f'{x}'": "strings",
    "x if y else w": "'if ... else'",
    "x < y": "a comparison outside where(condition, a, b)",
    "x and y": "'and'/'or'",
    "not x": "'not'",
    "~x": "'~'",
    "(a := 1)": "assignment",
    "exp(x=1)": "keyword arguments",
    "exp(*x)": "'*' unpacking",
    "f(x)": "calling 'f'",
    "eval('1')": "calling 'eval'",
    "x.__class__": "attribute access",
    "__class__": "name '__class__' not allowed",
    "_x": "name '_x' not allowed",
    "exp": "'exp' is a function",
    "exp(x, 2)": "takes exactly 1 argument (2 given)",
    "x // 2": "'//'",
    "x % 2": "'%'",
    "x @ y": "'@'",
    "x ^ 2": "'^' (for a power write x**2)",
    "x | y": "'|'",
    "True": "True",
    "None": "None",
    "1j": "complex numbers",
    "9**9**9": "exponent 387420489 too large",
    f"x**{MAX_EXPONENT + 1}": "too large",
    "(10**100)**100": "too large",
    "1e999": "out of range",
    "1/0": "division by zero",
    "log(0)": "no finite value",
    "log(-1)": "not a real number",
    "sqrt(-4)": "not a real number",
    "x; y": "cannot parse",
    "x = 1": "cannot parse",
    "import os": "cannot parse",
    "": "empty expression",
    "   ": "empty expression",
    "x\0": "cannot parse",
    "x" * (MAX_LENGTH + 1): "too long",
    "(" * 240 + "x" + ")" * 240: "too many nested parentheses",  # Python's parser says
    "-" * (MAX_DEPTH + 5) + "x": "too deeply nested",
    "exp(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5): "too deeply nested",
}


@pytest.mark.parametrize("text", list(REFUSED), ids=[repr(t)[:40] for t in REFUSED])
def test_refused_with_one_line(text):
    with pytest.raises(SymgradError) as refused:
        parse_expression(text)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400
    assert REFUSED[text] in message


def test_refusal_names_what_is_allowed():
    with pytest.raises(SymgradError, match=r"use only numbers, names, \+ - \* / \*\*, exp"):
        parse_expression("x.y")


def test_the_parser_never_calls_eval_or_sympify(monkeypatch):
    """Even a payload that parses is built by hand: eval and sympify are never reached."""

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/sympify reached")

    import symgrad.expressions.parse as parse_module

    monkeypatch.setattr(sp, "sympify", forbidden)
    monkeypatch.setattr(sp, "parse_expr", forbidden)
    monkeypatch.setattr("builtins.eval", forbidden)
    monkeypatch.setattr("builtins.exec", forbidden)
    assert parse_module.parse_expression("sigmoid(x) * (y + 1)**2 / exp(w)") is not None
    with pytest.raises(SymgradError):
        parse_module.parse_expression("__import__('os').system('true')")


def test_a_huge_power_is_refused_quickly():
    """9**9**9 is never computed: refusing it takes far less than computing it would."""
    code = (
        "import time; from symgrad.expressions.parse import parse_expression as p\n"
        "from symgrad.errors import SymgradError\n"
        "start = time.perf_counter()\n"
        "for text in ('9**9**9', '(9**99)**99', '10**10**10*x'):\n"
        "    try:\n        p(text)\n    except SymgradError:\n        pass\n"
        "print(time.perf_counter() - start)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert float(done.stdout) < 5


# --- property: the parser builds what the text means -------------------------------------

LEAVES = st.one_of(
    st.sampled_from([("x", x), ("y", y), ("w", w)]),
    st.integers(1, 9).map(lambda k: (str(k), sp.Integer(k))),
    st.sampled_from([("0.5", sp.Float(0.5)), ("2.25", sp.Float(2.25))]),
)


def _combine(children):
    pair = st.tuples(children, children)
    unary = {
        "sin": sp.sin,
        "cos": sp.cos,
        "tanh": sp.tanh,
        "exp": sp.exp,
        # sigmoid's reference is the catalog's SymPy forward, written out independently
        "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
    }
    return st.one_of(
        pair.map(lambda p: (f"({p[0][0]} + {p[1][0]})", p[0][1] + p[1][1])),
        pair.map(lambda p: (f"({p[0][0]} - {p[1][0]})", p[0][1] - p[1][1])),
        pair.map(lambda p: (f"({p[0][0]} * {p[1][0]})", p[0][1] * p[1][1])),
        pair.map(lambda p: (f"({p[0][0]} / (1 + ({p[1][0]})**2))", p[0][1] / (1 + p[1][1] ** 2))),
        children.map(lambda c: (f"({c[0]})**2", c[1] ** 2)),
        children.map(lambda c: (f"-({c[0]})", -c[1])),
        st.tuples(st.sampled_from(sorted(unary)), children).map(
            lambda fc: (f"{fc[0]}({fc[1][0]})", unary[fc[0]](fc[1][1]))
        ),
    )


EXPRESSIONS = st.recursive(LEAVES, _combine, max_leaves=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    EXPRESSIONS,
    st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=3, max_size=3),
)
def test_parsed_expression_equals_its_reference(pair, point):
    text, reference = pair
    try:
        parsed = parse_expression(text)
    except SymgradError as error:  # numbers alone beyond float64, exp(6**4): refused
        assert "too large" in str(error)
        reject()
    at = dict(zip((x, y, w), point, strict=True))
    got = complex(parsed.evalf(30, subs=at))
    expected = complex(sp.sympify(reference).evalf(30, subs=at))
    assert math.isclose(got.real, expected.real, rel_tol=1e-12, abs_tol=1e-12)
    assert got.imag == expected.imag == 0


# --- injection: through the installed command, nothing is executed -------------------------

PAYLOADS = (
    "__import__('os').system('touch {path}')",
    "__import__('subprocess').call(['touch', '{path}'])",
    "open('{path}', 'w')",
    "exec(\"open('{path}', 'w')\")",
    "eval(\"open('{path}', 'w')\")",
    "getattr(__import__('os'), 'system')('touch {path}')",
    "(lambda: __import__('os').system('touch {path}'))()",
    "x + __import__('os').system('touch {path}')",
    "exp(__import__('os').system('touch {path}'))",
    "[__import__('os').system('touch {path}') for _ in 'a']",
    "x.__class__.__base__.__subclasses__()",
    "Symbol('x').__class__",
)


def test_the_payloads_are_live(tmp_path):
    """The payloads do create the file when Python evaluates them, so the test below means
    something: it is the parser, not a dud payload, that keeps the file from existing."""
    target = tmp_path / "evaluated"
    code = f"eval({PAYLOADS[0].format(path=target)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
    assert target.exists()


@pytest.mark.parametrize("command", ["graph", "derive"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_executes_nothing(symgrad, tmp_path, command, payload):
    target = tmp_path / "pwned"
    extra = ["--at", "x=1"] if command == "graph" else []
    run = symgrad(command, payload.format(path=target), *extra)
    assert run.code == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: error: "), run.stderr
    assert "Traceback" not in run.stderr
    assert not target.exists()


def test_time_limit_cannot_be_swallowed_by_except_exception():
    """SymPy's simplifiers run under ``except Exception``: the limit must still stop them."""
    import contextlib
    import re
    import time

    from symgrad.expressions.budget import time_limit

    expected = re.escape("spinning took longer than 0.2 s; try less")
    with pytest.raises(SymgradError, match=expected), time_limit(0.2, "spinning", "try less"):
        while True:
            with contextlib.suppress(Exception):  # what tidy() does around each simplifier
                time.sleep(0.01)


# --- max, min, abs, where and the activations as functions -------------------------------


@pytest.mark.parametrize(
    ("text", "op", "formula"),
    [
        ("max(x, y)", "max", sp.Piecewise((x, x > y), (y, True))),
        ("min(x, y)", "min", sp.Piecewise((x, x < y), (y, True))),
        ("abs(x)", "abs", sp.Abs(x)),
        ("where(x > y, x*y, x + y)", "where", sp.Piecewise((x * y, x > y), (x + y, True))),
        ("leaky_relu(x, 0.25)", "leaky_relu", sp.Piecewise((x, x > 0), (x / 4, True))),
        ("elu(x)", "elu", sp.Piecewise((x, x > 0), (sp.exp(x) - 1, True))),
        ("softplus(x)", "softplus", sp.log(1 + sp.exp(x))),
        ("gelu(x)", "gelu", x / 2 * (1 + sp.erf(x / sp.sqrt(2)))),
        ("erf(x)", "erf", sp.erf(x)),
        ("log1p(x)", "log1p", sp.log(1 + x)),
        ("expm1(x)", "expm1", sp.exp(x) - 1),
    ],
)
def test_a_branch_or_activation_function_is_one_node_with_the_formulas_value_and_slope(
    text, op, formula
):
    """Each function is one node, and its value and derivative equal an independent formula
    at points on both sides of every branch (never at a kink, where no derivative exists)."""
    assert ops(text)[-1] == op
    expr = parse_expression(text)
    for point in (
        {x: sp.Rational(7, 5), y: sp.Rational(-1, 3)},
        {x: sp.Rational(-4, 5), y: sp.Rational(1, 2)},
    ):
        assert abs(sp.N((expr - formula).subs(point), 30)) < 1e-20
        for wrt in (x, y):
            slope = sp.diff(expr, wrt) - sp.diff(formula, wrt)
            assert abs(sp.N(slope.subs(point), 30)) < 1e-20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x > 0", "a comparison outside where(condition, a, b)"),
        ("x*(x > 0)", "a comparison outside where(condition, a, b)"),
        ("max(x)", "max() takes exactly 2 arguments (1 given)"),
        ("max(x, y, 0)", "max() takes exactly 2 arguments (3 given)"),
        ("abs(x, y)", "abs() takes exactly 1 argument (2 given)"),
        ("where(x > 0, x)", "where() takes exactly 3 arguments (2 given)"),
        ("where(x, 1, 2)", "where()'s first argument must be a comparison"),
        ("where(0 < x < 1, 1, 2)", "where() takes one comparison with <, <=, > or >="),
        ("where(x == 0, 1, 2)", "where() takes one comparison with <, <=, > or >="),
        ("leaky_relu(x, y)", "leaky_relu()'s argument 2 must be a number"),
        ("where", "'where' is a function"),
    ],
)
def test_bad_uses_of_the_new_functions_are_one_line(text, message):
    with pytest.raises(SymgradError) as refused:
        parse_expression(text)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_bad_use_is_one_line_and_exit_2_at_the_command_line(symgrad):
    run = symgrad("derive", "x > 0")
    assert run.code == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_where_with_numbers_alone_is_its_branch():
    assert parse_expression("where(2 > 1, x, y)") == x
    assert parse_expression("max(2, 3)*x") == 3 * x


def test_the_condition_of_where_passes_no_gradient_and_is_no_edge():
    expr = parse_expression("where(x > y, x*y, x + y)")
    nodes, _ = decompose(expr, (x, y), "z")
    where = nodes[-1]
    assert where.op == "where" and len(where.inputs) == 2  # t₁ and t₂: x and y only compared
    assert {str(s) for s in where.expression.free_symbols} == {"t1", "t2", "x", "y"}


def test_leaky_relu_derives_as_a_readable_piecewise(symgrad):
    shown = symgrad("derive", "leaky_relu(x, 0.01)", columns=80).stdout
    assert "∂z/∂x = 1 where x > 0, 0.01 otherwise" in shown
    zh = symgrad("--lang", "zh", "derive", "leaky_relu(x, 0.01)", columns=80).stdout
    assert "∂z/∂x = 1（x > 0 时），0.01（否则）" in zh


def test_a_piecewise_inside_a_product_prints_as_one_factor(symgrad):
    shown = symgrad("derive", "relu(x)*y", columns=80).stdout
    assert "∂z/∂x = y(1 where x > 0, 0 otherwise)" in shown and "Piecewise" not in shown


def test_a_function_call_alone_is_a_symbolic_formula_for_check():
    """``--symbolic "abs(x)"`` is one of symgrad's own functions at the top: it is SymPy."""
    import symgrad

    class Absolute:
        def forward(self, x):
            self.x = x
            return np.abs(x)

        def backward(self, dout):
            return dout * np.sign(self.x)

    inputs = np.random.default_rng(1).standard_normal((2, 3)) + 0.5
    report = symgrad.check_layer(Absolute(), inputs, symbolic=parse_expression("abs(x)"))
    assert report.ok and report.comparison.gradients[0].symbolic is not None
