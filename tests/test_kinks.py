"""Kinks: one-sided derivatives that disagree are reported, and backward must lie between."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from symgrad import compare
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer
from symgrad.numeric.kinks import one_sided

SLOPE = 0.1  # the leaky ReLU's slope for x ≤ 0


class LeakyRelu:
    """y = x for x > 0, 0.1·x otherwise; backward takes the left slope at 0."""

    def forward(self, x):
        self.x = np.asarray(x)
        return np.where(self.x > 0, self.x, SLOPE * self.x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, SLOPE * dout)


class LeakyReluWrongAtZero(LeakyRelu):
    """At 0 it sends 2·dout back: outside [0.1, 1]·dout, so no subgradient."""

    def backward(self, dout):
        return np.where(self.x == 0, 2 * dout, super().backward(dout))


def leaky_symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(
        forward=sp.Piecewise((x, x > 0), (sp.Rational(1, 10) * x, True)), inputs=(x,), output="y"
    )


LEAKY = Layer(
    name="leaky-relu",
    numpy_class=LeakyRelu,
    symbolic=leaky_symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    domain="away_from_zero",
    smooth=False,
)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_relu_at_zero_is_a_kink_and_backward_a_subgradient(dtype):
    report = compare("relu", at=0.0, dtype=dtype)
    (check,) = report.gradients
    kinks = check.kinks
    assert kinks is not None and kinks.count == check.backward.size == 6
    # With upstream dout: left slope 0·dout, right slope 1·dout.
    np.testing.assert_array_equal(kinks.left, 0.0)
    assert np.all(kinks.right != 0)
    # The central difference reports their average, which is no derivative at all ...
    np.testing.assert_allclose(check.numeric, kinks.right / 2, rtol=1e-6)
    # ... so backward (0, the convention) is checked to lie between the one-sided values.
    np.testing.assert_array_equal(check.backward, 0.0)
    assert kinks.subgradient and check.ok and report.ok


def test_leaky_relu_at_zero():
    report = compare(LEAKY, at=0.0)
    (check,) = report.gradients
    kinks = check.kinks
    assert kinks.count == 6
    np.testing.assert_allclose(kinks.left, SLOPE * kinks.right, rtol=1e-9)
    assert kinks.subgradient and report.ok
    # away from 0 the same layer is smooth: no kink, an ordinary three-way agreement
    report = compare(LEAKY, seed=3)
    assert report.ok and report.gradients[0].kinks is None


def test_a_backward_outside_the_one_sided_values_is_caught():
    layer = dataclasses.replace(LEAKY, numpy_class=LeakyReluWrongAtZero)
    report = compare(layer, at=0.0)
    (check,) = report.gradients
    assert check.kinks.count == 6
    assert not check.kinks.subgradient
    assert not check.ok
    # the distance outside [left, right] is what is reported, about |dout| here
    assert check.errors["backward_vs_numeric"] > 0.1


def test_kinks_are_found_only_where_there_are_kinks():
    x = np.array([-1.0, 0.0, 1e-3, 2.0, 0.0])
    sides = one_sided(lambda v: np.maximum(v, 0), x, 1.0, elementwise=True)
    np.testing.assert_array_equal(sides.kink, [False, True, False, False, True])
    smooth = one_sided(np.tanh, np.linspace(-3, 3, 41), 1.0, elementwise=True)
    assert not smooth.kink.any()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_no_smooth_layer_ever_shows_a_kink(dtype):
    for layer in CATALOG:
        for seed in range(8):
            report = compare(
                layer.name, seed=seed, dtype=dtype, shape="25" if layer.elementwise else None
            )
            assert all(check.kinks is None for check in report.gradients), (layer.name, seed)


def test_a_stencil_reaching_across_a_kink_is_explained():
    """relu at 1e-3 with h = 1e-2: the stencil reaches past 0, and the report says so."""
    report = compare("relu", at=1e-3, step=1e-2)
    assert not report.ok
    assert any("reach across 0" in note and "relu has a kink" in note for note in report.notes)


def test_the_automatic_step_shrinks_rather_than_straddle_a_nearby_kink():
    """relu at 1e-3 in float32: ε^(1/3) ≈ 5e-3 would straddle 0; the measured truncation
    (the stencil at 2h disagrees) shrinks the step below 1e-3, and the check is right."""
    report = compare("relu", at=1e-3, dtype="float32")
    assert report.ok
    assert report.gradients[0].model.step_max < 1e-3


def test_compare_relu_at_zero_on_the_command_line(symgrad):
    run = symgrad("compare", "relu", "--at", "0")
    assert run.code == 0, run.stderr
    out = run.stdout
    assert "at x = 0" in out.splitlines()[0]
    assert "✓ agree, 6 kinks" in out
    assert "not differentiable at (or within h = 2e-05 of) 6 of 6" in out
    assert "valid subgradient" in out
    assert out.count("kink") >= 6  # the element table marks every kinked element
    data = json.loads(symgrad("compare", "relu", "--at", "0", "--json").stdout)
    assert data["at"] == {"x": 0.0} and data["ok"] is True
    kinks = data["gradients"][0]["kinks"]
    assert kinks["count"] == 6 and kinks["subgradient"] is True
    point = kinks["points"][0]
    assert point["left"] == 0 and point["backward"] == 0 and point["input"] == 0


def test_at_must_be_finite(symgrad):
    run = symgrad("compare", "relu", "--at", "nan")
    assert run.code == 2 and "--at x must be a finite number, got nan" in run.stderr


def test_at_fills_inputs_not_parameters():
    report = compare("affine", at=0.5, shape="2,3")
    dX, dW, _ = report.gradients
    assert report.ok
    # dW = Xᵀ·dY with every X = 0.5: both rows of dW are equal
    np.testing.assert_allclose(dW.backward[0], dW.backward[1])
    assert not np.allclose(dX.backward, dX.backward[0, 0])  # W stayed random
    assert get_layer("affine").params == ("W", "b")


class Elu:
    """ELU with α = 1: f′ is continuous at 0 (1 on both sides) but f″ jumps (1 to 0),
    so central differences there are only first order."""

    def forward(self, x):
        self.x = np.asarray(x, dtype=float)
        return np.where(self.x > 0, self.x, np.expm1(self.x))

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, np.exp(self.x))


class EluSlightlyWrongAtZero(Elu):
    """At exactly 0 it sends back (1 − 10⁻⁶)·dout: wrong by far more than the first-order
    error of the differences there (about h/4 ≈ 10⁻⁷)."""

    def backward(self, dout):
        return np.where(self.x == 0, (1 - 1e-6) * dout, super().backward(dout))


def test_elu_at_exactly_zero_is_judged_at_the_order_its_differences_show():
    from symgrad import check_layer

    x = np.array([[0.0, 0.3, -0.7], [1.2, -0.0, 2.0]])
    for seed in range(5):
        assert check_layer(Elu(), x, seed=seed, symbolic=False).ok
        wrong = check_layer(EluSlightlyWrongAtZero(), x, seed=seed, symbolic=False)
        assert not wrong.ok
        marked = wrong.comparison.gradients[0].disagreeing
        assert marked[0, 0] and marked[1, 1] and marked.sum() == 2
