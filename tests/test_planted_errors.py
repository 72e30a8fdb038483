"""One element of a gradient off by 1e-6 is caught at the sizes the speed benchmark
times: the grouped perturbations and per-element bounds that make a full check fast
must still see a single wrong element (benchmarks/gradcheck_speed.py times these)."""

from __future__ import annotations

import numpy as np
import pytest

from symgrad.checking import check_layer, check_network
from symgrad.checking.network import build
from symgrad.layers.batchnorm import BatchNormalization
from symgrad.layers.conv import Convolution

PLANTED = 1e-6
SIMPLE_CONV_NET = "conv:30x5x5,relu,maxpool:2,affine:100,relu,affine:10,softmax-with-loss"


class PlantedConvolution(Convolution):
    """The catalog's convolution with one element of dW moved by PLANTED."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW[7 % self.dW.shape[0], 0, 2, 3] += PLANTED
        return dx


class PlantedBatchNormalization(BatchNormalization):
    """The catalog's batch normalisation with one element of dx moved by PLANTED."""

    def backward(self, dout):
        dx = super().backward(dout).copy()
        dx[41 % dx.shape[0], 17 % dx.shape[1]] += PLANTED
        return dx


def _plant_in_dense_weight(layer):
    """Wrap a dense layer's backward so that one element of its dW is moved by PLANTED."""
    backward = layer.backward

    def planted(dout):
        dx = backward(dout)
        layer.dW[123 % layer.dW.shape[0], 5 % layer.dW.shape[1]] += PLANTED
        return dx

    layer.backward = planted
    return layer


@pytest.mark.parametrize("planted", [False, True])
def test_one_wrong_element_of_conv_dW_is_caught(planted):
    rng = np.random.default_rng(0)
    make = PlantedConvolution if planted else Convolution
    layer = make(rng.standard_normal((30, 1, 5, 5)), rng.standard_normal(30))
    result = check_layer(layer, rng.standard_normal((10, 1, 28, 28)), progress=False)
    assert result.ok is not planted


@pytest.mark.parametrize("planted", [False, True])
def test_one_wrong_element_of_batchnorm_dx_is_caught(planted):
    rng = np.random.default_rng(0)
    make = PlantedBatchNormalization if planted else BatchNormalization
    layer = make(rng.standard_normal(50) + 2.0, rng.standard_normal(50))
    result = check_layer(layer, rng.standard_normal((100, 50)), progress=False)
    assert result.ok is not planted


@pytest.mark.parametrize("planted", [False, True])
def test_one_wrong_dense_weight_of_the_simple_conv_net_is_caught(planted):
    # 12×12 images keep the test short: the dense layer after the pooling still has
    # 480 inputs at batch 1, whose weights share no forwards along a column.
    rng = np.random.default_rng(0)
    images = rng.standard_normal((1, 1, 12, 12))
    layers, _ = build(SIMPLE_CONV_NET, images.shape, rng, np.dtype(np.float64))
    if planted:
        _plant_in_dense_weight(layers[3])
    report = check_network(layers, images, np.eye(10)[[3]], progress=False)
    assert report.ok is not planted
