"""Softmax and log-softmax on their own: the row-wise kind, what SymPy derives, planted
mistakes caught, and softmax before a loss of its own in a network."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symgrad import api
from symgrad.checking.network import build
from symgrad.layers import get_layer
from symgrad.layers.log_softmax import LogSoftmax
from symgrad.layers.softmax import Softmax
from symgrad.numeric.structure import probe_couplings
from symgrad.symbolic.rewrite import proved_equal
from symgrad.symbolic.rows import INDEX_I, INDEX_J

y_i, y_j, y_k = (sp.Symbol(f"y_{s}", real=True) for s in "ijk")
dout_i = sp.Symbol("dout_i", real=True)
delta = sp.KroneckerDelta(INDEX_I, INDEX_J)


@pytest.mark.parametrize(
    ("name", "diagonal", "off_diagonal"),
    [
        ("softmax", y_i * (1 - y_i), -y_i * y_j),
        ("log-softmax", 1 - sp.exp(y_i), -sp.exp(y_j)),
    ],
)
def test_the_derived_jacobian(name, diagonal, off_diagonal):
    """∂yᵢ/∂xⱼ in one formula with δᵢⱼ: the diagonal where i = j, the rest elsewhere."""
    (jacobian,) = api.derive(name).derivatives.values()
    assert proved_equal(jacobian.subs(delta, 0), off_diagonal)
    assert proved_equal(jacobian.subs(delta, 1).subs(y_j, y_i), diagonal)


@pytest.mark.parametrize(
    ("name", "backward"),
    [
        ("softmax", y_i * (dout_i - sp.Symbol("Σₖdoutₖ·yₖ"))),
        ("log-softmax", dout_i - sp.exp(y_i) * sp.Symbol("Σₖdoutₖ")),
    ],
)
def test_the_backward_is_the_chain_rule_through_y(name, backward):
    (chain,) = api.derive(name).chains
    assert chain.of == "L" and chain.summed_over == ("", "k ≠ i")
    assert proved_equal(chain.product, backward), chain.product


def test_a_wrong_formula_for_printing_is_refused():
    form = get_layer("softmax").form
    wrong = dataclasses.replace(form, formula=form.formula * 2, _cache={})
    with pytest.raises(ArithmeticError, match="formula printed for softmax"):
        wrong.derive("softmax")


def test_a_row_is_perturbed_apart_from_the_others():
    """Row-wise: changing x[n, c] changes row n alone, as the kind says."""
    layer = get_layer("softmax")
    assert layer.kind.couplings(layer, "x", (4, 3), (4, 3)) == ((0, 0),)
    x = np.random.default_rng(0).standard_normal((4, 3))
    forward = Softmax().forward
    probed = probe_couplings(forward, x, forward(x), np.random.default_rng(1))
    assert tuple(probed) == ((0, 0),)  # what probing the NumPy forward finds too


class SoftmaxWithoutTheSum(Softmax):
    def backward(self, dout):
        return self.out * dout  # the diagonal alone: forgets that each y shares the row


class SoftmaxFlipped(Softmax):
    def backward(self, dout):
        return -super().backward(dout)


class LogSoftmaxWithoutExp(LogSoftmax):
    def backward(self, dout):
        return dout - self.out * dout.sum(axis=-1, keepdims=True)  # y where exp(y) belongs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("name", "broken"),
    [
        ("softmax", SoftmaxWithoutTheSum),
        ("softmax", SoftmaxFlipped),
        ("log-softmax", LogSoftmaxWithoutExp),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_planted_mistake_is_caught(name, broken, dtype):
    layer = dataclasses.replace(get_layer(name), numpy_class=broken)
    for seed in range(1, 4):
        report = api.compare(layer, shape="3,4", seed=seed, dtype=dtype)
        assert not report.ok and not report.gradients[0].ok


def test_softmax_is_stable_for_huge_scores():
    x = np.array([[1000.0, 0.0, -1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y, log_y = Softmax().forward(x), LogSoftmax().forward(x)
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(log_y, [[0.0, -1000.0, -2000.0]])


def test_softmax_then_cross_entropy_is_a_network():
    report = api.check_net("affine:3,softmax,cross-entropy", "4,6")
    assert report.ok and report.layers[1:] == ("Softmax1", "CrossEntropy")


def test_a_broken_softmax_is_named_in_a_network():
    generator = np.random.default_rng(2)
    x, t = generator.standard_normal((3, 5)), np.eye(4)[[0, 3, 1]]
    layers, _ = build("affine:4,softmax,cross-entropy", (3, 5), generator, np.dtype(float))
    layers[1] = SoftmaxWithoutTheSum()
    report = api.check_network(layers, x, t)
    assert report.broken == ("SoftmaxWithoutTheSum1",)
