"""The difference methods: their error orders, their steps, complex-step and its refusals."""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np
import pytest
import sympy as sp

from symgrad import compare
from symgrad.cli import options
from symgrad.cli.app import main
from symgrad.comparison.sweep import step_sweep, sweep_steps
from symgrad.errors import SymgradError
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.spec import Layer
from symgrad.numeric.differences import numerical_gradient
from symgrad.numeric.methods import METHOD_NAMES, get_method
from symgrad.numeric.steps import START_MARGIN, StepLost, automatic_step

X = sp.Symbol("x", real=True)
SMOOTH = sp.sin(X) * sp.exp(X / 2)  # no special point, every derivative non-zero near 0.7
POINT = 0.7


def smooth_function(x: np.ndarray) -> np.ndarray:
    """SMOOTH for real or complex arrays (NumPy's sin and exp take both)."""
    return np.sin(x) * np.exp(x / 2)


def exact_derivative(at: float) -> float:
    """SymPy's derivative at 30 digits: the reference every error is measured against."""
    return float(sp.diff(SMOOTH, X).subs(X, sp.Float(at, 30)).evalf(30))


def error_at(method: str, h: float, x: float = POINT) -> float:
    point = np.array([x])
    result = numerical_gradient(smooth_function, point, 1.0, method, step=h, elementwise=True)
    return abs(float(result.values[0]) - exact_derivative(x))


@pytest.mark.parametrize(
    ("method", "order", "h"),
    [
        ("forward", 1, 1e-3),
        ("central", 2, 1e-3),
        ("five-point", 4, 2e-2),
        ("complex-step", 2, 1e-2),
    ],
)
def test_halving_the_step_shrinks_the_error_by_two_to_the_order(method, order, h):
    """In the truncation regime the error is C·hᵖ: halving h divides it by 2ᵖ."""
    assert get_method(method).order == order
    ratios = [error_at(method, step) / error_at(method, step / 2) for step in (h, h / 2)]
    for ratio in ratios:
        assert ratio == pytest.approx(2**order, rel=0.1)


def test_the_orders_differ_as_the_theory_says():
    """At one step, each higher-order method is far more accurate than the one below."""
    errors = [error_at(m, 1e-3) for m in ("forward", "central", "five-point")]
    assert errors[0] > 100 * errors[1] > 100 * 100 * errors[2]


def test_too_small_a_step_loses_to_rounding():
    """Below the best step the error grows again (like ε/h): the right arm of the V."""
    best = error_at("central", 1e-5)
    assert error_at("central", 1e-10) > 100 * best
    assert error_at("central", 1e-13) > 10 * error_at("central", 1e-10)


def test_complex_step_has_no_rounding_arm():
    """Im f(x + ih)/h takes no difference: even h = 1e-30 keeps every digit."""
    truth = exact_derivative(POINT)
    for h in (1e-8, 1e-15, 1e-30):
        assert error_at("complex-step", h) <= 4 * np.finfo(float).eps * abs(truth)


def test_richardson_is_accurate_and_its_estimate_honest():
    points = np.random.default_rng(3).uniform(-3, 3, 200)
    truth = np.array([exact_derivative(p) for p in points])
    result = numerical_gradient(smooth_function, points, 1.0, "richardson", elementwise=True)
    error = np.abs(result.values - truth)
    assert np.max(error / np.maximum(np.abs(truth), 1)) < 1e-12
    # The tableau's estimate (with its margin) and the rounding model bound the error.
    assert np.all(error <= 2 * result.truncation + result.rounding)


def test_automatic_steps_follow_epsilon_and_the_size_of_x():
    x64 = np.array([0.5, -3.0, 1e4])
    eps = np.finfo(np.float64).eps
    scale = np.array([1.0, 3.0, 1e4])
    # c·ε^(1/(p+1)): c = (R/(p·C))^(1/(p+1)) balances C·hᵖ against R·ε/h
    forward, central, five = (
        get_method(m).step_constant for m in ("forward", "central", "five-point")
    )
    assert (forward, central, five) == pytest.approx((2.0, 3 ** (1 / 3), 11.25 ** (1 / 5)))
    start = START_MARGIN * scale  # they start above the balance point and only ever shrink
    np.testing.assert_allclose(automatic_step("forward", x64), forward * eps ** (1 / 2) * start)
    np.testing.assert_allclose(automatic_step("central", x64), central * eps ** (1 / 3) * start)
    np.testing.assert_allclose(automatic_step("five-point", x64), five * eps ** (1 / 5) * start)
    x32 = x64.astype(np.float32)
    eps32 = float(np.finfo(np.float32).eps)
    np.testing.assert_allclose(automatic_step("central", x32), central * eps32 ** (1 / 3) * start)
    np.testing.assert_allclose(automatic_step("complex-step", x64), eps * scale)


def test_the_automatic_step_shrinks_near_a_pole():
    """1/x at 0.25: the higher derivatives dwarf f, so the step balances them, smaller."""
    x = np.array([0.25])
    result = numerical_gradient(lambda v: 1 / v, x, 1.0, "five-point", elementwise=True)
    assert result.step[0] < 0.3 * automatic_step("five-point", x)[0]
    assert abs(result.values[0] - (-16)) / 16 < 1e-12
    nominal = float(automatic_step("five-point", x)[0])
    fixed = numerical_gradient(lambda v: 1 / v, x, 1.0, "five-point", nominal, elementwise=True)
    assert abs(fixed.values[0] - (-16)) / 16 > 1e-11  # the unshrunk step: truncation wins
    # A function whose derivatives are of its own size keeps (nearly) the nominal step.
    point = np.array([POINT])
    smooth = numerical_gradient(smooth_function, point, 1.0, "five-point", elementwise=True)
    assert smooth.step[0] > 0.5 * automatic_step("five-point", point)[0]


def test_a_float32_layer_is_differentiated_in_float32():
    """The perturbed points stay float32: a float64 step must not promote them."""
    seen = set()

    def f(v):
        seen.add(v.dtype)
        return v * v

    x = np.array([0.3, 1.7], dtype=np.float32)
    for method in ("forward", "central", "five-point", "richardson"):
        numerical_gradient(f, x, 1.0, method, elementwise=True)
        numerical_gradient(f, x, np.ones(2), method, elementwise=False)
    numerical_gradient(f, x, 1.0, "complex-step", elementwise=True)
    assert seen == {np.dtype(np.float32), np.dtype(np.complex64)}


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softmax-with-loss", "affine"])
def test_complex_step_is_exact_to_rounding(name):
    """complex-step through the layer's own NumPy forward, against SymPy at 50 digits."""
    for seed in range(5):
        report = compare(name, seed=seed, method="complex-step", exact=True)
        assert report.ok
        for check in report.gradients:
            largest = np.max(np.abs(check.symbolic))
            # numeric and the true value agree to a few ε, normwise
            assert np.max(np.abs(check.numeric - check.symbolic)) <= 8e-16 * largest


def test_sigmoid_forward_is_complex_safe_and_overflow_safe():
    sigmoid = get_layer("sigmoid").numpy_class
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    with np.errstate(over="raise", invalid="raise"):  # no overflow in either branch
        y = sigmoid().forward(x)
        z = sigmoid().forward(x + 1e-20j)
    np.testing.assert_allclose(y, [0.0, 9.357622968840175e-14, 0.5, 1.0, 1.0])
    slope = sp.lambdify(X, sp.diff(1 / (1 + sp.exp(-X)), X), "mpmath")
    exact = [float(slope(sp.Float(v, 50))) for v in x]
    np.testing.assert_allclose(z.imag / 1e-20, exact, rtol=1e-15, atol=1e-300)


def test_complex_step_refuses_relu_in_one_line(capsys):
    with pytest.raises(SymgradError, match="not analytic"):
        compare("relu", method="complex-step")
    with pytest.raises(SystemExit) as done:
        main(["compare", "relu", "--method", "complex-step"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "complex-step cannot differentiate relu" in err


class FloatCastingSquare:
    """Claims to be complex-safe but casts to float: the imaginary part would vanish."""

    def forward(self, x):
        self.x = x
        return np.asarray(x, dtype=np.float64) ** 2

    def backward(self, dout):
        return 2 * dout * self.x


def test_complex_step_never_silently_drops_the_imaginary_part():
    layer = dataclasses.replace(get_layer("square"), numpy_class=FloatCastingSquare)
    with pytest.raises(SymgradError, match="complex"):
        compare(layer, method="complex-step")


def test_layers_declare_complex_safety_and_smoothness():
    flags = {layer.name: (layer.smooth, layer.complex_safe) for layer in CATALOG}
    # Kinked at 0 (ELU's second derivative jumps there): no complex step.
    for name in ("relu", "leaky-relu", "elu"):
        assert flags.pop(name) == (False, False), name
    # Kinked where a window ties for its largest, and a comparison in its forward.
    assert flags.pop("maxpool") == (False, False)
    # Smooth, but NumPy's logaddexp and math.erf take no complex input.
    for name in ("softplus", "gelu", "batchnorm"):
        assert flags.pop(name) == (True, False), name
    assert all(flag == (True, True) for flag in flags.values()), flags
    assert Layer.__dataclass_fields__["complex_safe"].default is False  # opt-in


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_method_checks_the_catalog(method):
    for layer in CATALOG:
        if method == "complex-step" and not layer.complex_safe:
            continue
        report = compare(layer.name, seed=11, method=method)
        assert report.ok, (layer.name, [(g.name, g.errors, g.tolerance) for g in report.gradients])
        assert report.method == method and report.step.startswith(method)


def test_method_names_and_the_cli_choices_agree():
    assert options.METHOD_CHOICES == METHOD_NAMES
    assert get_method("FivePoint").name == "five-point"
    with pytest.raises(SymgradError, match="unknown method 'simpson'"):
        get_method("simpson")


def test_a_given_step_is_used_and_reported():
    report = compare("tanh", step=1e-4)
    assert "h = 0.0001" in report.step and "--step" in report.step
    model = report.gradients[0].model
    assert model.step_min == pytest.approx(1e-4, rel=1e-3)
    assert model.step_max == pytest.approx(1e-4, rel=1e-3)


@pytest.mark.parametrize("step", ["0", "-1", "nan"])
def test_a_bad_step_is_one_line(capsys, step):
    with pytest.raises(SystemExit) as done:
        main(["compare", "tanh", "--step", step])
    assert done.value.code == 2
    assert capsys.readouterr().err.startswith("symgrad: error: --step must be a positive")


def test_a_step_lost_against_x_says_so():
    with pytest.raises(StepLost, match="lost"):
        compare("exp", step=1e-30)


def test_compare_json_adds_method_and_the_error_model(symgrad):
    run = symgrad("compare", "sigmoid", "--method", "five-point", "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["method"] == "five-point" and data["step"].startswith("five-point")
    model = data["gradients"][0]["model"]
    assert model["method"] == "five-point" and model["truncation_margin"] == 2
    tolerance = data["gradients"][0]["tolerance"]["backward_vs_numeric"]
    assert tolerance == pytest.approx(2 * model["truncation"] + model["rounding"] + model["exact"])


# --- error versus step --------------------------------------------------------------------


def test_sweep_of_sigmoid_is_a_v_with_its_best_step_marked():
    report = step_sweep("sigmoid", at=0.5)
    assert float(report.exact) == pytest.approx(0.2350037122015945, rel=1e-15)
    assert sweep_steps() == tuple(10.0**-k for k in range(1, 17))
    central = next(c for c in report.curves if c.method == "central")
    best = central.best
    assert 1e-7 <= central.best_step <= 1e-4  # near ε^(1/3)
    errors = central.errors
    # down the truncation arm, then up the rounding arm
    assert all(errors[k] > errors[k + 1] for k in range(best))
    assert errors[-1] > 1e6 * errors[best] and errors[0] > 1e6 * errors[best]
    assert central.regions[:best] == ("truncation",) * best
    assert central.regions[best] == "best"
    assert set(central.regions[best + 1 :]) == {"rounding"}
    complex_step = next(c for c in report.curves if c.method == "complex-step")
    assert max(complex_step.errors[8:]) < 1e-15  # no rounding arm


def test_sweep_of_relu_skips_complex_step_and_explains_the_kink():
    report = step_sweep("relu", at=0.0)
    assert "complex-step" in report.skipped
    assert "complex-step" not in [c.method for c in report.curves]
    assert any("not differentiable at x = 0:" in note for note in report.notes)
    assert all(set(c.regions) == {"kink"} for c in report.curves)
    with pytest.raises(SymgradError, match="not analytic"):
        step_sweep("relu", methods=["complex-step"])


def test_steps_command_prints_the_table(symgrad):
    run = symgrad("steps", "sigmoid", "--at", "0.5")
    assert run.code == 0, run.stderr
    assert "exact (SymPy, 50 digits): 0.23500371220159448907" in run.stdout
    assert run.stdout.count("◀") == 5 + 1  # one best step per method, and the legend
    for text in ("1e-01", "1e-16", "truncation-dominated", "rounding-dominated", "▒", "█"):
        assert text in run.stdout


def test_steps_json(symgrad):
    run = symgrad("steps", "tanh", "--at", "1", "-m", "central", "-m", "forward", "--json")
    data = json.loads(run.stdout)
    assert list(data["methods"]) == ["central", "forward"]
    assert len(data["methods"]["central"]["errors"]) == 16
    assert data["quantity"] == "∂y/∂x"


def test_steps_bad_input_is_one_line(symgrad):
    for args, message in [
        (("steps", "reciprocal", "--at", "0"), "not finite"),
        (("steps", "sigmoid", "--plot", "curve.pdf"), ".svg or .png"),
        (("steps", "sigmoid", "-m", "simpson"), "unknown method"),
    ]:
        run = symgrad(*args)
        assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
        assert message in run.stderr


def test_plot_without_matplotlib_is_a_one_line_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(SystemExit) as done:
        main(["steps", "sigmoid", "--plot", str(tmp_path / "v.svg")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err == "symgrad: error: --plot needs matplotlib: pip install 'symgrad[plot]'\n"
    assert not (tmp_path / "v.svg").exists()


def test_plot_writes_the_v_curve(symgrad, tmp_path):
    pytest.importorskip("matplotlib")
    for name in ("v.svg", "v.png"):
        run = symgrad("steps", "sigmoid", "--plot", str(tmp_path / name))
        assert run.code == 0, run.stderr
        assert (tmp_path / name).stat().st_size > 10_000
    assert "<svg" in (tmp_path / "v.svg").read_text()
