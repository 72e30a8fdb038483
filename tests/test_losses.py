"""The losses over rows beside softmax-with-loss: what SymPy derives for each, that a
planted mistake in a backward is caught, their NumPy forwards' stability, and a loss
other than softmax's at the end of a ``symgrad net`` spec."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symgrad import api
from symgrad.checking.network import build, parse_spec
from symgrad.layers import get_layer
from symgrad.layers.cross_entropy import CrossEntropy
from symgrad.layers.mse import MeanSquaredError
from symgrad.layers.sigmoid_with_loss import SigmoidWithLoss
from symgrad.render.mathtext import pretty
from symgrad.symbolic.losses import RowLossForm
from symgrad.symbolic.rewrite import proved_equal

# ------------------------------------------------------------------ what SymPy derives

N, y, t = sp.Symbol("N", positive=True), sp.Symbol("y", real=True), sp.Symbol("t", real=True)


@pytest.mark.parametrize(
    ("name", "per_row", "batch_mean"),
    [
        ("sigmoid-with-loss", y - t, (y - t) / N),
        ("mse", y - t, (y - t) / N),
        ("cross-entropy", -t / y, -t / (N * y)),
    ],
)
def test_the_derived_gradient(name, per_row, batch_mean):
    report = api.derive(name)
    ((wrt, derivative),) = report.derivatives.items()
    assert proved_equal(derivative, per_row), derivative
    (mean,) = report.extra_derivatives
    assert mean.wrt == wrt and proved_equal(mean.value, batch_mean), mean


def test_sigmoid_with_loss_chains_through_the_diagonal_alone():
    """sigmoid acts on each score alone: SymPy finds ∂yₖ/∂xᵢ = 0, so the chain rule has
    the one term k = i, in which y(1 − y) cancels."""
    report = api.derive("sigmoid-with-loss")
    sigmoid, _ = report.nodes
    assert sigmoid.local_derivatives["∂y_k/∂x_i (k ≠ i)"] == 0
    (chain,) = report.chains
    assert chain.paths == (("L", "y_i"),)
    y_i, t_i = sp.Symbol("y_i", real=True), sp.Symbol("t_i", real=True)
    assert proved_equal(chain.product, y_i - t_i)


def test_a_wrong_inverse_is_refused_not_used_to_rewrite():
    """The inverse that rewrites a derivative in y is checked against the activation."""
    form = dataclasses.replace(get_layer("sigmoid-with-loss").form, inverse=sp.log, _cache={})
    with pytest.raises(ArithmeticError, match="inverse of sigmoid"):
        form.derive("sigmoid-with-loss")
    assert isinstance(form, RowLossForm)


def test_a_sum_of_terms_is_summed_whole_when_printed():
    forward = pretty(api.derive("sigmoid-with-loss").forward)
    assert forward == "−Σₖ (tₖ·log(yₖ) + (1 − tₖ)·log(1 − yₖ))"
    assert pretty(sp.Symbol("y_i") ** 2) == "yᵢ²"


# ------------------------------------------------------------------ planted mistakes


class SigmoidWithLossWithoutN(SigmoidWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) * self.y.shape[0]


class SigmoidWithLossFlipped(SigmoidWithLoss):
    def backward(self, dout=1.0):
        return -super().backward(dout)


class MeanSquaredErrorWithoutN(MeanSquaredError):
    def backward(self, dout=1.0):
        return super().backward(dout) * self.y.shape[0]


class MeanSquaredErrorFlipped(MeanSquaredError):
    def backward(self, dout=1.0):
        return -super().backward(dout)


class CrossEntropyWithoutN(CrossEntropy):
    def backward(self, dout=1.0):
        return super().backward(dout) * self.y.shape[0]


class CrossEntropyFlipped(CrossEntropy):
    def backward(self, dout=1.0):
        return -super().backward(dout)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("name", "broken"),
    [
        ("sigmoid-with-loss", SigmoidWithLossWithoutN),
        ("sigmoid-with-loss", SigmoidWithLossFlipped),
        ("mse", MeanSquaredErrorWithoutN),
        ("mse", MeanSquaredErrorFlipped),
        ("cross-entropy", CrossEntropyWithoutN),
        ("cross-entropy", CrossEntropyFlipped),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_planted_mistake_is_caught(name, broken, dtype):
    layer = dataclasses.replace(get_layer(name), numpy_class=broken)
    for seed in range(1, 4):
        report = api.compare(layer, shape="3,4", seed=seed, dtype=dtype)
        assert not report.ok
        (gradient,) = report.gradients
        assert not gradient.ok


# ------------------------------------------------------------------ NumPy forwards


def test_sigmoid_with_loss_is_stable_for_huge_scores():
    layer = SigmoidWithLoss()
    x = np.array([[1000.0, -1000.0, 800.0]])
    # No overflow and no log of 0 (exp(−1000) underflowing to 0 is harmless: log1p(0) = 0).
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = layer.forward(x, np.array([[0.0, 1.0, 1.0]]))
        dx = layer.backward()
    assert loss == pytest.approx(2000.0)
    np.testing.assert_allclose(dx, [[1.0, -1.0, 0.0]])


def test_sigmoid_with_loss_one_score_per_sample_as_the_sequel_book():
    """The sequel book's x of N scores is N rows of one: the mean is over N, flat or not."""
    x, labels = np.array([0.3, -1.2, 2.0]), np.array([1, 0, 1])
    rows, flat = SigmoidWithLoss(), SigmoidWithLoss()
    loss = rows.forward(x[:, None], labels[:, None])
    y = 1 / (1 + np.exp(-x))
    expected = -np.mean(labels * np.log(y) + (1 - labels) * np.log(1 - y))
    assert loss == pytest.approx(expected)
    np.testing.assert_allclose(rows.backward(2.0)[:, 0], 2.0 * (y - labels) / 3)
    assert flat.forward(x, labels) == pytest.approx(expected)
    np.testing.assert_allclose(flat.backward(2.0), 2.0 * (y - labels) / 3)
    with pytest.raises(ValueError, match="do not match"):
        SigmoidWithLoss().forward(x, labels[:2])


def test_cross_entropy_takes_class_indices_and_averages_the_rows():
    y = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    by_index, by_one_hot = CrossEntropy(), CrossEntropy()
    loss = by_index.forward(y, np.array([0, 2]))
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2)
    assert by_one_hot.forward(y, np.eye(3)[[0, 2]]) == pytest.approx(loss)
    np.testing.assert_allclose(by_index.backward(), [[-1 / 1.4, 0, 0], [0, 0, -1 / 1.2]])


def test_mse_is_half_the_squared_distance_averaged_over_rows():
    layer = MeanSquaredError()
    assert layer.forward(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 3.0]]))
    assert layer.loss == pytest.approx((1 + 4 + 9) / 2 / 2)
    np.testing.assert_allclose(layer.backward(3.0), 3.0 * np.array([[1.0, 2.0], [0.0, -3.0]]) / 2)


# ------------------------------------------------------------------ in a network


def test_sigmoid_with_loss_ends_a_network_spec_with_labels_per_score():
    loss, _ = parse_spec("affine:3,sigmoid-with-loss")[-1]
    labels = loss.label_values.draw((50, 3), np.random.default_rng(0))
    assert set(np.unique(labels)) == {0.0, 1.0}  # 0/1 per score, not one-hot rows
    assert not np.all(labels.sum(axis=1) == 1)
    report = api.check_net("affine:3,sigmoid-with-loss", "4,5")
    assert report.ok and report.layers[-1] == "SigmoidWithLoss"


def test_mse_ends_a_network_spec_with_real_targets():
    loss, _ = parse_spec("affine:2,mse")[-1]
    targets = loss.label_values.draw((20, 2), np.random.default_rng(0))
    assert len(np.unique(targets)) == targets.size  # real numbers, not labels
    report = api.check_net("affine:4,tanh,affine:2,mse", "3,5")
    assert report.ok and report.layers[-1] == "MeanSquaredError"


def test_a_broken_sigmoid_with_loss_is_named_in_a_network():
    generator = np.random.default_rng(1)
    x, t = generator.standard_normal((4, 6)), generator.integers(0, 2, (4, 2)).astype(float)
    layers, _ = build("affine:2,sigmoid-with-loss", (4, 6), generator, np.dtype(float))
    layers[-1] = SigmoidWithLossWithoutN()
    report = api.check_network(layers, x, t)
    assert report.broken == ("SigmoidWithLossWithoutN",)
    assert "4 × the right gradient" in report.findings[0].message
    (evidence,) = report.wrong
    assert (evidence.layer, evidence.name) == ("SigmoidWithLossWithoutN", "dx")
    assert "Its dx disagrees with its forward's numeric derivative" in report.findings[0].message
