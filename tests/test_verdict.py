"""A verdict per element: no element's bound may hide another element's error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.api import check_layer
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.tanh import Tanh
from tests.strategies import dtypes

SLOPE = 0.01


class LeakyRelu:
    """A leaky ReLU in the book's style: the slope below 0 is SLOPE."""

    def __init__(self) -> None:
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, SLOPE * x, x)

    def backward(self, dout):
        return np.where(self.mask, SLOPE * dout, dout)


class LeakyReluForgetsTheSlope(LeakyRelu):
    """Wrong by 1 % of |dout| on every negative element: the issue's case."""

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class Planted:
    """Any book-style layer with an error added to its backward's result."""

    def __init__(self, layer, error: np.ndarray) -> None:
        self.layer = layer
        self.error = error

    def forward(self, x):
        return self.layer.forward(x)

    def backward(self, dout):
        return self.layer.backward(dout) + self.error.astype(dout.dtype)


@pytest.mark.parametrize("seed", range(40))
def test_a_leaky_relu_that_forgets_its_slope_is_caught_on_every_seed(seed):
    x = np.random.default_rng(seed).standard_normal((4, 5))
    x.flat[seed % x.size] = 1e-6  # one element right beside the kink
    report = check_layer(LeakyReluForgetsTheSlope(), x, seed=seed)
    assert not report.ok
    (check,) = report.comparison.gradients
    negative = x < -1e-3  # well clear of the kink: the numeric value there is clean
    assert check.disagreeing[negative].all()


@pytest.mark.parametrize("seed", range(10))
def test_the_correct_leaky_relu_agrees_even_beside_its_kink(seed):
    x = np.random.default_rng(seed).standard_normal((4, 5))
    x.flat[seed % x.size] = 1e-6
    report = check_layer(LeakyRelu(), x, seed=seed)
    assert report.ok, report.problems


def _bounds(layer, x, seed):
    report = check_layer(layer, x, seed=seed, symbolic=False)
    assert report.ok, report.problems
    (check,) = report.comparison.gradients
    return check


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    shape=st.sampled_from([(3,), (2, 3), (4, 5), (3, 2, 2)]),
    dtype=dtypes,
    kind=st.sampled_from(["factor", "offset", "dropped"]),
    base=st.sampled_from(["sigmoid", "tanh", "leaky"]),
)
def test_a_planted_error_far_beyond_its_elements_bound_is_flagged(
    data, seed, shape, dtype, kind, base
):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if base == "leaky":  # some inputs next to the kink, where bounds are widest
        near = rng.random(shape) < 0.3
        x = np.where(near, rng.choice([-1, 1], shape) * 10.0 ** rng.uniform(-7, -3, shape), x)
        x = x.astype(dtype)
    make = {"sigmoid": Sigmoid, "tanh": Tanh, "leaky": LeakyRelu}[base]
    correct = _bounds(make(), x, seed)
    # Planted where the derivative exists: within a step of the kink the one-sided
    # interval is the check (test_kinks.py), and it is these elements' wide bounds that
    # must not hide the others' errors.
    clear = np.flatnonzero(np.abs(x) > 1e-2)
    if clear.size == 0:
        return
    planted = data.draw(st.lists(st.sampled_from(clear.tolist()), min_size=1, unique=True))
    index = np.unravel_index(planted, shape)
    # 100× the element's own bound, whatever the other elements' bounds are.
    size = 100 * correct.bound[index]
    backward = correct.backward[index]
    if kind == "factor":  # a wrong constant factor on these elements
        offset = np.sign(backward + (backward == 0)) * size
    elif kind == "offset":
        offset = rng.choice([-1.0, 1.0], len(planted)) * size
    else:  # a dropped term: the element loses as much as its value, at least the bound
        offset = -np.where(np.abs(backward) > size, backward, np.sign(backward + 0.5) * size)
    error = np.zeros(shape)
    error[index] = offset
    # Errors below the dtype's resolution of the value cannot be planted at all.
    representable = np.abs(offset) > 4 * np.finfo(dtype).eps * np.abs(backward)
    if not representable.any():
        return
    report = check_layer(Planted(make(), error), x, seed=seed, symbolic=False)
    assert not report.ok
    (check,) = report.comparison.gradients
    kept = tuple(axis[representable] for axis in index)
    assert check.disagreeing[kept].all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), dtype=dtypes, base=st.sampled_from(["sigmoid", "tanh"]))
def test_correct_layers_are_never_flagged(seed, dtype, base):
    x = np.random.default_rng(seed).standard_normal((5, 7)).astype(dtype) * 3
    layer = {"sigmoid": Sigmoid, "tanh": Tanh}[base]()
    assert check_layer(layer, x, seed=seed).ok


def test_the_summary_row_is_the_worst_element_by_ratio():
    x = np.random.default_rng(3).standard_normal((4, 5))
    report = check_layer(LeakyReluForgetsTheSlope(), x, seed=3)
    (check,) = report.comparison.gradients
    worst = check.worst["backward_vs_numeric"]
    difference = np.abs(check.backward - check.numeric)
    ratio = np.where(check.kinks.mask, 0, difference / check.bound) if check.kinks else None
    if ratio is None:
        ratio = difference / check.bound
    assert worst.index == np.unravel_index(np.argmax(ratio), x.shape)
    assert worst.ratio == pytest.approx(ratio.max())
    assert check.errors["backward_vs_numeric"] > check.tolerance["backward_vs_numeric"]
    assert check.wrong == int(check.disagreeing.sum()) >= int((x < -1e-3).sum())
