"""Second derivatives (``derive --order 2``): derived by SymPy, written in the output where
the first derivative is, and proved equal to SymPy's own second derivative."""

import dataclasses
import json
import random

import numpy as np
import pytest
import sympy as sp

from symgrad import api
from symgrad.errors import SymgradError
from symgrad.layers import CATALOG
from symgrad.symbolic.scalar import ScalarForm

y, x = sp.symbols("y x", real=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sigmoid", y * (1 - y) * (1 - 2 * y)),
        ("tanh", -2 * y * (1 - y**2)),
        ("exp", y),
        ("reciprocal", 2 * y**3),
    ],
)
def test_the_notes_layers_in_their_output(name, expected):
    report = api.derive(name, order=2)
    assert sp.expand(report.second["x", "x"] - expected) == 0
    assert report.through_output is not None  # reached by the chain rule through y


@pytest.mark.parametrize(
    "layer",
    [layer for layer in CATALOG if isinstance(layer.form, ScalarForm)],
    ids=lambda layer: layer.name,
)
def test_every_elementwise_layer_equals_sympys_second_derivative(layer):
    form = layer.form
    report = api.derive(layer.name, order=2)
    rng = random.Random(0)
    for (a, b), value in report.second.items():
        truth = sp.diff(form.forward, sp.Symbol(a, real=True), sp.Symbol(b, real=True))
        # An activation named in the result (softplus's sigmoid) stands for its forward.
        value = value.replace(sp.Function("sigmoid"), lambda a: 1 / (1 + sp.exp(-a)))
        for _ in range(4):
            at = {s: sp.Rational(rng.randint(3, 19), 10) for s in form.inputs}
            shown = value.subs(form.output_symbol, form.forward).subs(at)
            assert abs(sp.N(shown - truth.subs(at), 30)) < 1e-25


def test_several_inputs_give_the_hessian_with_its_mixed_partial():
    report = api.derive("x*y**2", order=2)
    assert report.second == {("x", "x"): 0, ("x", "y"): 2 * y, ("y", "y"): 2 * x}
    assert "∂²z/∂x∂y = 2y" in str(report)


def test_a_kink_is_where_no_second_derivative_exists():
    report = api.derive("relu", order=2)
    assert report.second["x", "x"] == 0
    assert report.kinks == (sp.Eq(x, 0),)
    assert "not defined where x = 0" in str(report)


def test_the_sigmoid_derivation_reads_as_the_chain_rule_once_more():
    shown = str(api.derive("sigmoid", order=2))
    assert "∂²y/∂x² = d(y(1 − y))/dy · ∂y/∂x" in shown
    assert "= (1 − 2y) · y(1 − y)" in shown


def test_a_layer_without_second_derivatives_is_refused_in_one_line():
    from symgrad.layers import get_layer, registered

    class FirstOrderOnly:  # a SymPy form with a gradient and nothing of order 2
        def __init__(self, form):
            self.derive, self.gradient_function = form.derive, form.gradient_function

    tanh = get_layer("tanh")
    first = dataclasses.replace(
        tanh, name="first-order-only", symbolic=lambda: FirstOrderOnly(tanh.form)
    )
    with registered(first):
        with pytest.raises(SymgradError, match="Hessian-vector product is not derived yet"):
            api.derive("first-order-only", order=2)
        with pytest.raises(SymgradError, match="Hessian-vector product is not derived yet"):
            api.compare("first-order-only", order=2)


def test_affine_is_bilinear_its_product_derived_at_matrix_level():
    report = api.derive("affine", order=2)
    n, d_in, d_out = sp.symbols("N IN OUT", integer=True, positive=True)
    dy = sp.MatrixSymbol("dY", n, d_out)
    vx, vw = sp.MatrixSymbol("vX", n, d_in), sp.MatrixSymbol("vW", d_in, d_out)
    assert report.products["X"] == dy * vw.T
    assert report.products["W"] == vx.T * dy
    assert report.products["b"] == sp.ZeroMatrix(d_out, 1)  # Y is linear in b
    assert report.shapes["vW"] == "IN×OUT" and report.shapes["X"] == "N×IN"
    shown = str(report)
    assert "(H·v)_X = dY·vWᵀ   (N×IN)" in shown and "proved equal, entry by entry" in shown


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        # yᵢ(1 − yᵢ)(1 − 2yᵢ), −yᵢyₖ(1 − 2yᵢ), −yᵢyₖ(1 − 2yₖ), 2yᵢyⱼyₖ
        ("softmax", ((0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 2, 1))),
        ("log-softmax", ((0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 2, 1))),
    ],
)
def test_a_row_wise_layers_second_derivatives_equal_sympys_on_a_row(name, entries):
    """Every entry shown in y, put back in x, is SymPy's ∂²yᵢ/∂xₐ∂x_b on a row of four."""
    from symgrad.layers import get_layer
    from symgrad.symbolic.losses import class_symbols

    report = api.derive(name, order=2)
    form = get_layer(name).form
    xs = class_symbols("x", 4)
    f = form.function(xs)
    index = "ikj"
    at = {x: sp.Rational(k + 2, 7) for k, x in enumerate(xs)}
    for (i, a, b), value in zip(entries, report.second.values(), strict=True):
        in_y = {sp.Symbol(f"y_{index[k]}", real=True): f[k] for k in range(3)}
        shown = value.xreplace(in_y).subs(at)
        truth = sp.diff(f[i], xs[a], xs[b]).subs(at)
        assert abs(sp.N(shown - truth, 30)) < 1e-25


def test_a_forward_whose_curvature_is_wrong_is_caught_by_the_third_way():
    """A forward and backward that disagree only in the forward's curvature: SymPy's H·v
    and the backward's derivative agree; the forward's second differences do not."""
    from symgrad.layers import get_layer, registered

    class CurvedSigmoid(WrongCurvatureSigmoid):
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out + 0.05 * x**2  # f″ off by 0.1; backward left as the sigmoid's

        def backward(self, dout):
            y = self.out
            return dout * y * (1 - y)

    sigmoid = get_layer("sigmoid")
    curved = dataclasses.replace(sigmoid, name="curved-sigmoid", numpy_class=CurvedSigmoid)
    with registered(curved):
        report = api.compare("curved-sigmoid", order=2)
    (check,) = report.gradients
    assert not report.ok
    assert check.worst["backward_vs_numeric"].ok  # sym = num: the backward is the sigmoid's
    assert not check.worst["backward_vs_symbolic"].ok  # sym ≠ fwd
    assert not check.worst["symbolic_vs_numeric"].ok  # fwd ≠ num


# Shapes small enough for the forward's second differences (up to 24 elements): the
# default convolution and pooling have more.
THREE_WAY_SHAPES = {"conv": "1,1,3,3,1,2", "maxpool": "1,1,4,4,2", "avgpool": "1,1,4,4,2"}


@pytest.mark.parametrize("layer", [layer.name for layer in CATALOG])
def test_every_catalog_layer_agrees_three_ways_at_order_two(layer):
    for seed in range(3):
        report = api.compare(layer, seed=seed, order=2, shape=THREE_WAY_SHAPES.get(layer))
        assert report.ok, str(report)
        for check in report.gradients:
            assert check.symbolic is not None  # the forward's second differences
            # Not vacuous: the third way is within a millionth of SymPy's scale.
            scale = max(1.0, float(np.max(np.abs(check.backward))))
            assert check.max_difference["backward_vs_symbolic"] <= 1e-6 * scale


def test_a_layer_of_several_arrays_has_each_arrays_product():
    report = api.compare("mul", shape="2,2", order=2)
    x_part, y_part = report.gradients
    assert (x_part.name, y_part.name) == ("(H·v)[x]", "(H·v)[y]")
    affine = api.compare("affine", order=2)
    assert [c.name for c in affine.gradients] == ["(H·v)[X]", "(H·v)[W]", "(H·v)[b]"]
    assert np.all(affine.gradients[2].backward == 0)  # linear in b: nothing to curve


def test_kinks_at_order_two_are_kinks_for_every_column():
    for layer in ("relu", "leaky-relu", "elu"):
        report = api.compare(layer, at={"x": 0}, order=2)
        (check,) = report.gradients
        assert report.ok and check.kinks is not None and check.kinks.count == 6, str(report)
    elu = api.compare("elu", at={"x": 0}, order=2).gradients[0]
    # Across ELU's jump in f″ the forward's second difference is the average of the sides.
    assert np.allclose(elu.symbolic, (elu.kinks.left + elu.kinks.right) / 2, rtol=1e-3)


def test_a_large_layer_has_no_third_way_and_says_why():
    report = api.compare("tanh", shape="5,5", order=2)
    assert report.ok and report.gradients[0].symbolic is None
    assert any("up to 24 elements" in note for note in report.notes)


def test_softmax_with_loss_has_the_row_hessian_and_its_product():
    report = api.derive("softmax-with-loss", order=2)
    yi, yk, vi = sp.symbols("y_i y_k v_i", real=True)
    total = sp.Symbol("Σₖyₖvₖ", real=True)
    assert sp.expand(report.second["x_i", "x_i"] - yi * (1 - yi)) == 0
    assert sp.expand(report.second["x_i", "x_k"] + yi * yk) == 0
    assert sp.expand(report.hvp - yi * (vi - total)) == 0
    assert "(H·v)ᵢ = yᵢ(vᵢ − Σₖyₖvₖ)" in str(report)
    assert api.derive("mse", order=2).hvp == vi


def test_the_command_line(symgrad):
    run = symgrad("derive", "tanh", "--order", "2", "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    names = {name: sp.Symbol(name, real=True) for name in data["symbols"]}
    assert sp.expand(sp.sympify(data["second"]["x,x"], locals=names) + 2 * y * (1 - y**2)) == 0
    for bad in ("3", "two", "٢"):
        run = symgrad("derive", "tanh", "--order", bad)
        assert run.code == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "--order" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("layer", ["sigmoid", "tanh", "exp", "reciprocal", "square", "relu"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compare_at_order_two_agrees_for_every_elementwise_layer(layer, dtype):
    for seed in range(3):
        report = api.compare(layer, seed=seed, dtype=dtype, order=2)
        assert report.ok, str(report)
        assert report.order == 2 and [c.name for c in report.gradients] == ["H·v"]


def test_relu_at_its_kink_is_reported_as_a_kink_at_order_two():
    report = api.compare("relu", at={"x": 0}, order=2)
    assert report.ok and report.gradients[0].kinks is not None
    assert report.gradients[0].kinks.count == 6


class WrongCurvatureSigmoid:
    """A sigmoid whose backward is off by 10 % of its curvature: y(1 − y)(1 + 0.1(1 − 2y))
    is not the derivative of y, and its own derivative is not SymPy's second one."""

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        y = self.out
        return dout * y * (1 - y) * (1 + 0.1 * (1 - 2 * y))


def test_a_wrong_backward_is_caught_at_order_two():
    from symgrad.layers import get_layer, registered

    sigmoid = get_layer("sigmoid")
    wrong = dataclasses.replace(sigmoid, name="wrong-curvature", numpy_class=WrongCurvatureSigmoid)
    with registered(wrong):
        report = api.compare("wrong-curvature", order=2)
    assert not report.ok
    assert report.gradients[0].wrong == report.gradients[0].backward.size


def test_compare_order_two_on_the_command_line(symgrad):
    run = symgrad("compare", "tanh", "--order", "2", columns=80)
    assert run.code == 0, run.stderr
    assert "|sym−num|" in run.stdout and "H·v" in run.stdout
    assert "fwd" in run.stdout and "|sym−fwd|" in run.stdout
    assert "agrees three ways" in " ".join(run.stdout.split())
    refused = symgrad("compare", "tanh", "--order", "2", "--exact")
    assert refused.code == 2 and len(refused.stderr.strip().splitlines()) == 1


def test_the_second_difference_has_its_v_at_the_fourth_root_of_epsilon():
    report = api.steps("tanh", at="1", order=2)
    forward, backward = report.curves
    assert forward.method == "forward, second difference"
    assert 1e-5 <= forward.best_step <= 1e-3  # ε^(1/4) ≈ 1.2e-4
    assert 1e-7 <= backward.best_step <= 1e-4  # ε^(1/3) ≈ 6e-6: the backward is one order down
    assert forward.automatic_error < 1e-7 and backward.automatic_error < 1e-9
    assert report.quantity == "∂²y/∂x²"


def test_steps_at_a_jump_of_the_first_derivative_says_so():
    report = api.steps("relu", at="0", order=2)
    assert all(set(curve.regions) <= {"kink", "lost"} for curve in report.curves)
    assert "no second derivative there" in report.notes[0]
    with pytest.raises(SymgradError, match="elementwise layers of one input"):
        api.steps("affine", order=2)


@pytest.mark.parametrize(
    "layer", ["softmax-with-loss", "sigmoid-with-loss", "mse", "cross-entropy"]
)
def test_compare_at_order_two_agrees_for_every_loss(layer):
    for seed in range(3):
        for dtype in ("float64", "float32"):
            assert api.compare(layer, seed=seed, dtype=dtype, order=2).ok


class LossWithoutMean:
    """Softmax-with-loss whose backward forgets the batch's 1/N: its derivative is N times
    the true Hessian-vector product."""

    def forward(self, x, t):
        shifted = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.t = t
        return float(-(t * np.log(self.y)).sum() / x.shape[0])

    def backward(self, dout=1.0):
        return dout * (self.y - self.t)


def test_a_loss_without_its_mean_is_caught_at_order_two():
    from symgrad.layers import get_layer, registered

    loss = get_layer("softmax-with-loss")
    wrong = dataclasses.replace(loss, name="no-mean-loss", numpy_class=LossWithoutMean)
    with registered(wrong):
        assert not api.compare("no-mean-loss", order=2).ok


def test_softplus_second_derivative_is_the_sigmoids_own():
    report = api.derive("softplus", order=2)
    sigmoid = sp.Function("sigmoid")(x)
    assert sp.expand(report.second["x", "x"] - sigmoid * (1 - sigmoid)) == 0
    assert "sigmoid's own derivative" in str(report.notes[0])


def test_affines_products_read_back_from_json_and_latex(symgrad):
    run = symgrad("derive", "affine", "--order", "2", "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["symbols"]["vW"] == ["IN", "OUT"] and data["symbols"]["dY"] == ["N", "OUT"]
    sizes = {d: sp.Symbol(d, integer=True, positive=True) for d in ("N", "IN", "OUT")}
    names = {
        name: sp.MatrixSymbol(name, *(sizes.get(d, 1) if d != "1" else 1 for d in shape))
        for name, shape in data["symbols"].items()
    }
    product = sp.sympify(data["products"]["X"], locals=names)
    assert product == names["dY"] * names["vW"].T
    latex = symgrad("derive", "affine", "--order", "2", "--latex")
    assert r"(H v)_{X} &= \mathrm{d}Y vW^{T}" in latex.stdout
