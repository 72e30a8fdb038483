"""The three-way comparison: correct layers agree everywhere, broken ones are caught."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from symgrad import compare
from symgrad.comparison import engine
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.affine import Affine
from symgrad.layers.sigmoid import Sigmoid
from tests.strategies import dtypes, layers, seeds, shapes_for


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", CATALOG, ids=lambda layer: layer.name)
def test_every_layer_agrees_three_ways(layer, dtype):
    for seed in range(5):
        report = compare(layer.name, seed=seed, dtype=dtype)
        assert report.ok, [(g.name, g.errors) for g in report.gradients]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=layers.flatmap(lambda lay: shapes_for(lay).map(lambda s: (lay, s))),
    seed=seeds,
    dtype=dtypes,
)
def test_random_shapes_and_seeds_agree(data, seed, dtype):
    layer, shape = data
    report = compare(layer.name, shape=shape, seed=seed, dtype=dtype)
    assert report.ok, [(g.name, g.errors, g.tolerance) for g in report.gradients]


def test_affine_2_3_checks_the_notes_shapes():
    report = compare("affine", shape="2,3")
    assert report.shapes["X"] == (2, 2) and report.shapes["W"] == (2, 3)
    assert report.shapes["b"] == (3,)
    assert [g.name for g in report.gradients] == ["dX", "dW", "db"]
    assert report.ok


class SigmoidTwiceTooSteep(Sigmoid):
    def backward(self, dout):
        return 2 * super().backward(dout)


class AffineWithoutTranspose(Affine):
    """dX = dY·W instead of dY·Wᵀ: only possible when W is square."""

    def backward(self, dout):
        dx = super().backward(dout)
        return dout @ self.W if self.W.shape[0] == self.W.shape[1] else dx


class AffineSummingBiasOverClasses(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = np.full_like(self.db, dout.sum() / dout.shape[1])
        return dx


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("name", "broken", "shape", "wrong"),
    [
        ("sigmoid", SigmoidTwiceTooSteep, "3,4", "dx"),
        ("affine", AffineWithoutTranspose, "3,3", "dX"),
        ("affine", AffineSummingBiasOverClasses, "2,3", "db"),
    ],
)
def test_a_broken_backward_is_caught(monkeypatch, name, broken, shape, wrong, dtype):
    layer = dataclasses.replace(get_layer(name), numpy_class=broken)
    monkeypatch.setattr(engine, "get_layer", lambda _: layer)
    report = compare(name, shape=shape, dtype=dtype)
    assert not report.ok
    verdicts = {g.name: g.ok for g in report.gradients}
    assert verdicts[wrong] is False
    assert all(ok for gradient, ok in verdicts.items() if gradient != wrong)


def test_dout_is_random_not_ones():
    report = compare("mul", shape="4")
    backward_dx = report.gradients[0].backward
    # With dout = 1 the gradient of x would equal y exactly; a random dout makes it differ.
    assert not np.allclose(np.abs(backward_dx), np.abs(report.gradients[1].backward))


def test_seed_makes_the_check_reproducible():
    first = compare("tanh", shape="3,3", seed=7)
    again = compare("tanh", shape="3,3", seed=7)
    np.testing.assert_array_equal(first.gradients[0].backward, again.gradients[0].backward)
    other = compare("tanh", shape="3,3", seed=8)
    assert not np.array_equal(first.gradients[0].backward, other.gradients[0].backward)


class SigmoidUsingXForDout:
    """Sends back x·y(1 − y): the input where the upstream gradient belongs."""

    def forward(self, x):
        self.x = x
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return self.x * self.out * (1 - self.out)


def test_dout_is_drawn_apart_from_the_inputs():
    # Drawn from one seed twice, dout equalled x, and this backward passed.
    from symgrad.layers import registered

    sigmoid = get_layer("sigmoid")
    wrong = dataclasses.replace(sigmoid, name="x-for-dout", numpy_class=SigmoidUsingXForDout)
    with registered(wrong):
        for seed in range(5):
            report = compare("x-for-dout", seed=seed)
            assert not report.ok
            assert not np.allclose(report.given["x"], report.given["dout"])
