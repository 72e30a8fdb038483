"""SymPy derives every derivative; these tests prove the derivations are the note's."""

import sympy as sp

from symgrad import derive
from symgrad.layers import CATALOG, get_layer
from symgrad.symbolic.rewrite import proved_equal
from symgrad.symbolic.scalar import ScalarForm
from symgrad.symbolic.summary import SUMMARY_PATH, render_summary

x, y, t, z = sp.symbols("x y t z", real=True)


def same(expr, text: str) -> bool:
    """SymPy equality of a derived expression and the note's formula."""
    return (
        sp.simplify(
            sp.sympify(str(expr), locals={"y": y, "t": t, "x": x, "z": z})
            - sp.sympify(text, locals={"y": y, "t": t, "x": x, "z": z})
        )
        == 0
    )


def test_the_notes_derivatives():
    assert same(derive("sigmoid").derivatives["x"], "y*(1 - y)")
    assert same(derive("reciprocal").derivatives["x"], "-y**2")
    assert same(derive("square").derivatives["t"], "2*t")
    assert same(derive("softmax-with-loss").derivatives["x"], "y - t")
    assert same(derive("tanh").derivatives["x"], "1 - y**2")
    assert same(derive("exp").derivatives["x"], "y")
    mul = derive("mul").derivatives
    assert same(mul["x"], "y") and same(mul["y"], "x")
    add = derive("add").derivatives
    assert add["x"] == 1 and add["y"] == 1


def test_sigmoid_is_the_notes_four_nodes():
    report = derive("sigmoid")
    assert [node.op for node in report.nodes] == ["×(−1)", "exp", "+1", "/"]
    locals_ = [next(iter(node.local_derivatives.values())) for node in report.nodes]
    assert locals_[0] == -1
    assert sp.simplify(locals_[1] - sp.exp(-x)) == 0
    assert locals_[2] == 1
    assert same(locals_[3], "-y**2")


def test_chain_product_equals_sympys_own_derivative():
    for layer in CATALOG:
        if not isinstance(layer.form, ScalarForm):
            continue
        form = layer.form
        report = form.derive(layer.name)
        # The last node's local derivative may use the output and the intermediates
        # (softplus's 1/t₂): each stands for its value in the inputs, built forward.
        values = {}
        for node in report.nodes:
            values[sp.Symbol(node.output, real=True)] = node.expression.xreplace(values)
        for chain, wrt in zip(report.chains, form.inputs, strict=True):
            product = chain.product.xreplace(values)
            assert proved_equal(product, sp.diff(form.forward, wrt)), layer.name


def test_changing_the_forward_changes_the_derivative():
    # Nothing is typed in: a steeper sigmoid gets a derivative with the factor 2.
    steep = ScalarForm(
        forward=1 / (1 + sp.exp(-2 * x)), inputs=(x,), output="y", express_in="output"
    )
    assert same(steep.derive("steep").derivatives["x"], "2*y*(1 - y)")
    cube = ScalarForm(forward=x**3, inputs=(x,), output="z")
    assert same(cube.derive("cube").derivatives["x"], "3*x**2")


def test_relu_derivative_is_one_where_positive_else_zero():
    derivative = derive("relu").derivatives["x"]
    assert derivative.subs(x, 2) == 1
    assert derivative.subs(x, -2) == 0
    assert derivative.subs(x, 0) == 0  # the book's mask x <= 0 stops the gradient at 0


def test_affine_matrix_derivatives_with_shapes():
    report = derive("affine")
    assert report.matrix
    assert str(report.derivatives["X"]) == "dY*W.T"
    assert str(report.derivatives["W"]) == "X.T*dY"
    assert report.shapes["X"] == "N×IN" and report.shapes["W"] == "IN×OUT"
    concrete = derive("affine", shape="2,3")
    assert concrete.shapes["X"] == "2×2" and concrete.shapes["Y"] == "2×3"
    # The bias gradient is the batch sum: dYᵀ·1 with a column of ones.
    assert isinstance(report.derivatives["b"].args[-1], sp.OneMatrix)


def test_softmax_batch_mean_derivative():
    report = derive("softmax-with-loss")
    (batch,) = (e.value for e in report.extra_derivatives)
    n = sp.Symbol("N", positive=True)
    assert sp.simplify(batch - (sp.Symbol("y", real=True) - sp.Symbol("t", real=True)) / n) == 0


def test_names_are_case_and_separator_insensitive():
    assert get_layer("SoftmaxWithLoss") is get_layer("softmax_with_loss")
    assert get_layer("softmax-with-loss").name == "softmax-with-loss"
    assert get_layer("ReLU").name == "relu"


def test_list_summary_file_is_current():
    # symgrad list reads this file instead of importing SymPy; it must match SymPy today.
    assert SUMMARY_PATH.read_text(encoding="utf-8") == render_summary(), (
        "stale derived.json: run python -m symgrad.symbolic.summary"
    )


def test_a_chain_rule_with_too_many_paths_to_list_still_sums_them_all():
    from symgrad import derive
    from symgrad.symbolic.graph import PATHS_LISTED

    levels = 3  # every level uses the one below twice: 2³ paths, and x once more
    expression = "x"
    for _ in range(levels):
        expression = f"({expression})*exp({expression})"
    derivation = derive(expression + "+x")
    (chain,) = derivation.chains
    count = 2**levels + 1
    assert count > PATHS_LISTED and chain.path_count == count and chain.unlisted > 0
    x = sp.Symbol("x", real=True)
    u = x
    for _ in range(levels):
        u = u * sp.exp(u)
    for at in (sp.Rational(1, 7), sp.Rational(-2, 3)):
        exact = sp.diff(u + x, x).subs(x, at)
        assert abs(sp.N(chain.product.subs(x, at) - exact, 30)) < 1e-25
    shown = str(derivation)
    assert f"Σ over {count} paths, by the backward walk below" in shown
    # The walk is written out in full instead, one line per edge, never cut: each level's
    # u·exp(u) has three edges (u to exp, u and exp(u) to ×), the final + two.
    assert len(derivation.edge_walk) == 3 * levels + 2
    assert shown.count("dz/dx +=") == 2 and "dz/dx = dz/dz · ∂z/∂x" in shown


def test_a_total_derivative_is_written_apart_from_a_local_one():
    from symgrad import derive

    shown = str(derive("x*exp(x)"))
    assert "dz/dx = ∂z/∂x + ∂z/∂t · ∂t/∂x" in shown  # never ∂z/∂x = ∂z/∂x + …
    assert "dz/dx = (x + 1)·exp(x)" in shown
    sigmoid = str(derive("sigmoid"))  # one path: the note's own ∂y/∂x, unchanged
    assert "∂y/∂x = ∂y/∂t₃ · ∂t₃/∂t₂" in sigmoid and "dy/dx" not in sigmoid


def test_a_name_before_a_bracket_keeps_its_dot_and_a_letter_drops_it():
    """tax(apple·apple_num) would read as tax applied to something."""
    from symgrad.render.mathtext import pretty

    assert pretty(sp.sympify("tax*(apple + orange)")) == "tax·(apple + orange)"
    assert pretty(sp.sympify("y*(1 - y)")) == "y(1 − y)"
    assert pretty(sp.sympify("x_i*(1 - x_i)")) == "xᵢ(1 − xᵢ)"
    assert pretty(sp.sympify("y**2*(1 - y)")) == "y²(1 − y)"


def test_numbers_read_as_typed_and_powers_in_one_notation():
    from symgrad import derive

    half = derive("0.5*(y-t)**2")
    assert [node.op for node in half.nodes][-2:] == ["^2", "×0.5"]
    shown = str(half)
    assert "∂z/∂y = y − t" in shown and "1.0" not in shown and "0.500000" not in shown
    root = str(derive("x**0.5"))
    assert "z = x^0.5" in root and "⁰" not in root
    assert "∂z/∂x = 1/(2√x)" in str(derive("sqrt(x)"))
    quotient = derive("x/y")  # the note's "/" node: its label never names an input
    assert [node.op for node in quotient.nodes] == ["/", "×"]


def test_a_variable_used_twice_is_two_edges_in_the_derivation():
    from symgrad import derive

    derivation = derive("x*x")
    (node,) = derivation.nodes
    assert node.inputs == ("x", "x") and [edge.input for edge in node.edges] == ["x", "x"]
    x, a, b = sp.symbols("x a b", real=True)
    assert [edge.rule for edge in node.edges] == [b, a]
    assert [edge.local for edge in node.edges] == [x, x]
    (chain,) = derivation.chains
    assert chain.path_count == 2 and chain.receivers == (("a",), ("b",)) and not chain.total
    assert chain.product == 2 * x
    shown = str(derivation)
    assert "z = x·x" in shown and "∂z/∂a = b = x" in shown and "∂z/∂b = a = x" in shown
    assert "∂z/∂x = ∂z/∂a + ∂z/∂b" in shown and "= x + x" in shown
    (product,) = derive("x*x*y").chains[:1]
    assert product.factors == ((sp.Symbol("y", real=True), x),) * 2


def test_the_unicode_printer_brackets_compound_indices_and_names_constants():
    """Each form here came out of regular expressions garbled: x_n_cᵢ·s + p − pad…,
    √pi, Max(…), Heaviside(…)."""
    from symgrad.render.mathtext import pretty

    n, c, f, i, j, p, q, s, pad = sp.symbols("n c f i j p q s pad", integer=True)
    x, W = sp.IndexedBase("x"), sp.IndexedBase("W")
    assert pretty(x[n, c, i * s + p - pad, j * s + q - pad]) == (
        "x[n, c, i·s + p − pad, j·s + q − pad]"
    )
    assert pretty(W[f, c, p, q] * x[n, c, p, q]) == "W[f, c, p, q]·x[n, c, p, q]"
    assert pretty(x[i] ** 2) == "xᵢ²"
    assert pretty(sp.KroneckerDelta(i, j)) == "δᵢⱼ"
    t = sp.Symbol("x", real=True)
    assert pretty(sp.sqrt(2) * t / (2 * sp.sqrt(sp.pi))) == "√2·x/(2√π)"
    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    assert pretty(sp.Max(x1, x2, x3)) == "max(x₁, x₂, x₃)"
    assert pretty(sp.Heaviside(x1 - sp.Max(x2, x3))) == "[x₁ > max(x₂, x₃)]"
    assert pretty(t**-2 + t**3) == "x³ + x⁻²"
    assert pretty(sp.Symbol("dxhat_n") * sp.Symbol("sigma")) == "dx̂ₙ·σ"


def test_the_catalog_prints_conv_and_pooling_with_their_indices_in_brackets():
    """derived.json (what ``symgrad list`` shows) holds the corrected forms."""
    import json
    from importlib.resources import files

    entries = json.loads(files("symgrad.layers").joinpath("derived.json").read_text())
    text = json.dumps(entries, ensure_ascii=False)
    assert "W[f, c, p, q]·x[n, c, i·s + p − pad, j·s + q − pad]" in text
    assert "Σ_{p,q} x[n, c, i·s + p, j·s + q]/(KH·KW)" in text
    assert "∂y/∂x₁ = [x₁ > max(x₂, x₃, x₄)]" in text
    assert "√pi" not in text and "x_n_c" not in text
