"""The catalog's NumPy layers against the note's worked numbers, and the note's bugs avoided."""

import numpy as np
import pytest

from symgrad.layers import CATALOG
from symgrad.layers.add import AddLayer
from symgrad.layers.affine import Affine
from symgrad.layers.mul import MulLayer
from symgrad.layers.relu import Relu
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.softmax_with_loss import SoftmaxWithLoss


def test_apple_orange_prices_and_gradients():
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(100, 2)
    orange_price = mul_orange.forward(150, 3)
    price = mul_tax.forward(add.forward(apple_price, orange_price), 1.1)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert price == pytest.approx(715)
    assert (dapple_num, dapple, dorange, dorange_num, dtax) == pytest.approx(
        (110, 2.2, 3.3, 165, 650)
    )


def test_apple_alone():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert price == pytest.approx(220)
    assert (dapple, dapple_num, dtax) == pytest.approx((2.2, 110, 200))


def test_softmax_with_loss_sends_back_y_minus_t():
    # The note's example: y = (0.3, 0.2, 0.5), t = (0, 1, 0) gives (0.3, -0.8, 0.5).
    scores = np.log(np.array([0.3, 0.2, 0.5]))
    layer = SoftmaxWithLoss()
    loss = layer.forward(scores, np.array([0, 1, 0]))
    assert loss == pytest.approx(-np.log(0.2))
    np.testing.assert_allclose(layer.backward(1.0), [0.3, -0.8, 0.5], atol=1e-12)


def test_softmax_with_loss_second_example_small_error():
    scores = np.log(np.array([0.01, 0.99, 1e-300]))
    layer = SoftmaxWithLoss()
    layer.forward(scores, np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(layer.backward(), [0.01, -0.01, 0.0], atol=1e-12)


def test_softmax_with_loss_accepts_integer_labels_and_averages_the_batch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    labels = np.array([0, 4, 2, 2])
    by_index, by_one_hot = SoftmaxWithLoss(), SoftmaxWithLoss()
    loss = by_index.forward(x, labels)
    assert loss == pytest.approx(by_one_hot.forward(x, np.eye(5)[labels]))
    np.testing.assert_allclose(by_index.backward(0.5), by_one_hot.backward(0.5))
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(by_index.backward(1.0), (y - np.eye(5)[labels]) / 4)


def test_softmax_with_loss_unbatched_divides_by_one_not_by_classes():
    x = np.array([1.0, 2.0, 0.5, -1.0])
    layer = SoftmaxWithLoss()
    layer.forward(x, 1)
    y = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(layer.backward(), y - np.eye(4)[1])


def test_softmax_with_loss_is_stable_for_huge_scores():
    layer = SoftmaxWithLoss()
    loss = layer.forward(np.array([[1000.0, 0.0, -1000.0]]), np.array([2]))
    assert np.isfinite(loss) and loss == pytest.approx(2000.0)
    assert np.all(np.isfinite(layer.backward()))


def test_sigmoid_is_stable_for_large_negative_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


def test_relu_returns_its_output_and_leaves_dout_alone():
    # The note's ReLU returns None from forward and zeroes the caller's dout in place.
    x = np.array([[1.0, -0.5], [-2.0, 3.0]])
    dout = np.array([[5.0, 6.0], [7.0, 8.0]])
    layer = Relu()
    np.testing.assert_array_equal(layer.forward(x), [[1.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(dout), [[5.0, 0.0], [0.0, 8.0]])
    np.testing.assert_array_equal(dout, [[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(x, [[1.0, -0.5], [-2.0, 3.0]])


def test_affine_bias_gradient_sums_the_batch():
    dY = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    layer = Affine(np.zeros((2, 3)), np.zeros(3))
    layer.forward(np.ones((2, 2)))
    dx = layer.backward(dY)
    np.testing.assert_array_equal(layer.db, [5, 7, 9])
    assert dx.shape == (2, 2) and layer.dW.shape == (2, 3)


@pytest.mark.parametrize("layer", CATALOG, ids=lambda layer: layer.name)
def test_no_layer_mutates_its_arguments(layer):
    from symgrad.comparison.engine import seeded_arrays
    from symgrad.comparison.shapes import array_shapes

    rng = np.random.default_rng(0)
    arrays = seeded_arrays(layer, array_shapes(layer, None), rng)
    before = {name: array.copy() for name, array in arrays.items()}
    instance = layer.numpy_class(*(arrays[p] for p in layer.params))
    out = instance.forward(*(arrays[n] for n in (*layer.inputs, *layer.labels)))
    dout = np.ones_like(np.asarray(out, dtype=float))
    dout_before = dout.copy()
    instance.backward(dout)
    for name, array in arrays.items():
        np.testing.assert_array_equal(array, before[name], err_msg=f"{name} was changed")
    np.testing.assert_array_equal(dout, dout_before, err_msg="dout was changed")


@pytest.mark.parametrize(
    "layer",
    [lay for lay in CATALOG if lay.elementwise and len(lay.inputs) == 1],
    ids=lambda layer: layer.name,
)
def test_integer_inputs_are_computed_in_floats(layer):
    out = layer.numpy_class().forward(np.array([1, 2, 3]))
    assert np.issubdtype(np.asarray(out).dtype, np.floating)
