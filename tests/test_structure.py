"""Grouped perturbation: the same numbers as one element at a time, in far fewer forwards."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.layers import get_layer
from symgrad.layers.affine import Affine
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.softmax_with_loss import SoftmaxWithLoss
from symgrad.numeric.differences import numerical_gradient
from symgrad.numeric.kinks import one_sided
from symgrad.numeric.structure import (
    Grouping,
    elementwise_couplings,
    grouped_gradient,
    probe_couplings,
)

rng = np.random.default_rng(0)


def affine_functions(n=3, d_in=4, d_out=5):
    x, w, b = (
        rng.standard_normal((n, d_in)),
        rng.standard_normal((d_in, d_out)),
        rng.standard_normal(d_out),
    )
    layer = Affine(w, b)

    def of_x(value):
        layer.W, layer.b = w, b
        return layer.forward(value)

    def of_w(value):
        layer.W, layer.b = value, b
        return layer.forward(x)

    def of_b(value):
        layer.W, layer.b = w, value
        return layer.forward(x)

    return {"X": (of_x, x), "W": (of_w, w), "b": (of_b, b)}, (n, d_out)


@pytest.mark.parametrize(
    "method", ["forward", "central", "five-point", "richardson", "complex-step"]
)
@pytest.mark.parametrize("name", ["X", "W", "b"])
def test_grouped_equals_element_by_element(method, name):
    functions, out_shape = affine_functions()
    f, x = functions[name]
    dout = rng.standard_normal(out_shape)
    plain = numerical_gradient(f, x, dout, method)
    affine = get_layer("affine")
    couplings = affine.kind.couplings(affine, name, x.shape, out_shape)
    grouping = Grouping(x.shape, out_shape, couplings)
    grouped = grouped_gradient(f, x, dout, method, None, grouping)
    assert grouping.forwards <= 3 * grouping.groups * {"richardson": 20, "complex-step": 1}.get(
        method, 4
    )
    np.testing.assert_allclose(grouped.values, plain.values, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(grouped.step, plain.step)
    np.testing.assert_allclose(grouped.rounding, plain.rounding, rtol=1e-12)


def test_affine_weight_needs_one_group_per_row():
    functions, out_shape = affine_functions(3, 784 // 8, 50)
    f, w = functions["W"]
    grouping = Grouping(w.shape, out_shape, ((1, 1),))
    assert grouping.groups == w.shape[0]
    grouped_gradient(f, w, rng.standard_normal(out_shape), "central", None, grouping)
    # central at h and 2h: four forwards per group, plus a re-run of the few elements whose
    # step shrank, packed into as few groups as their columns allow
    assert 4 * w.shape[0] <= grouping.forwards < 6 * w.shape[0]


def test_kink_check_grouped_equals_element_by_element():
    x = rng.standard_normal((3, 4))
    x[0, 0] = 0.0  # a kink of ReLU

    def relu(value):
        return np.maximum(value, 0)

    dout = rng.standard_normal(x.shape)
    plain = one_sided(relu, x, dout)
    grouped = one_sided(relu, x, dout, Grouping(x.shape, x.shape, ((0, 0), (1, 1))))
    np.testing.assert_array_equal(grouped.kink, plain.kink)
    np.testing.assert_allclose(grouped.left, plain.left, atol=1e-14)
    assert grouped.kink[0, 0]


def test_broadcast_input_is_summed_over_its_footprint():
    x, y = rng.standard_normal((4, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    couplings = elementwise_couplings(y.shape, (4, 3))
    assert couplings == ((0, 1),)
    grouping = Grouping(y.shape, (4, 3), couplings)
    grouped = grouped_gradient(lambda v: x * v, y, dout, "central", None, grouping)
    np.testing.assert_allclose(grouped.values, (dout * x).sum(axis=0), rtol=1e-9)
    assert grouping.forwards <= 8


def test_scalar_input_and_scalar_output():
    x = np.array(0.7)
    grouping = Grouping((), (), ())
    grouped = grouped_gradient(lambda v: np.sin(v), x, 1.0, "central", None, grouping)
    assert grouped.values.shape == ()
    assert abs(float(grouped.values) - np.cos(0.7)) < 1e-9


def test_packs_of_scattered_elements_have_disjoint_footprints():
    grouping = Grouping((6, 5), (2, 5), ((1, 1),))
    todo = np.zeros((6, 5), dtype=bool)
    todo[[0, 1, 2, 4], [3, 3, 3, 0]] = True  # three in column 3: three packs at least
    packs = grouping.packs(todo)
    assert len(packs) == 3
    covered = np.zeros((6, 5), dtype=int)
    for index, _ in packs:
        columns = index[1]
        assert len(set(columns.tolist())) == columns.size  # one element per column
        covered[index] += 1
    np.testing.assert_array_equal(covered, todo.astype(int))


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: (Sigmoid().forward, rng.standard_normal((3, 4))), ((0, 0), (1, 1))),
        (lambda: (lambda v: v.T * 2.0, rng.standard_normal((3, 4))), ((0, 1), (1, 0))),
        (lambda: (lambda v: np.cumsum(v, axis=1), rng.standard_normal((3, 4))), ((0, 0),)),
        (lambda: (lambda v: v @ np.ones((4, 2)), rng.standard_normal((3, 4))), ((0, 0),)),
        (
            lambda: (
                lambda v: SoftmaxWithLoss().forward(v, np.eye(4)[[0, 1, 3]]),
                rng.standard_normal((3, 4)),
            ),
            (),
        ),
    ],
)
def test_probing_finds_the_couplings(build, expected):
    f, x = build()
    assert probe_couplings(f, x, np.asarray(f(x)), np.random.default_rng(1)) == expected


def test_probing_sees_past_a_flat_region():
    """ReLU below 0 does not move for a small change; a probe is large, both ways."""
    x = -np.abs(rng.standard_normal((3, 3))) - 0.1
    couplings = probe_couplings(lambda v: np.maximum(v, 0), x, np.zeros((3, 3)), rng)
    assert couplings == ((0, 0), (1, 1))


def test_catalog_couplings():
    def couplings(name, wrt, shape, out_shape):
        layer = get_layer(name)
        return layer.kind.couplings(layer, wrt, shape, out_shape)

    assert couplings("affine", "W", (4, 5), (3, 5)) == ((1, 1),)
    assert couplings("affine", "X", (3, 4), (3, 5)) == ((0, 0),)
    assert couplings("affine", "b", (5,), (3, 5)) == ((0, 1),)
    assert couplings("affine", "W", (4, 5), (3, 6)) is None  # not affine's shapes
    assert couplings("affine", "Q", (4, 5), (3, 5)) is None  # no array of affine's
    assert couplings("softmax-with-loss", "x", (3, 4), ()) == ()
    assert couplings("sigmoid", "x", (2, 3), (2, 3)) == ((0, 0), (1, 1))


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 5),
    d_in=st.integers(1, 6),
    d_out=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_grouped_matches_plain_for_random_affines(rows, d_in, d_out, seed):
    generator = np.random.default_rng(seed)
    x = generator.standard_normal((rows, d_in))
    w = generator.standard_normal((d_in, d_out))
    dout = generator.standard_normal((rows, d_out))

    def f(value):
        return x @ value

    plain = numerical_gradient(f, w, dout, "central")
    grouped = grouped_gradient(
        f, w, dout, "central", None, Grouping(w.shape, (rows, d_out), ((1, 1),))
    )
    np.testing.assert_allclose(grouped.values, plain.values, rtol=0, atol=1e-12)
