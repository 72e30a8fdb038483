"""float32 checks tell the truth: no false alarms on correct layers, real mistakes caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from symgrad import compare
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.affine import Affine
from symgrad.layers.exp import Exp
from symgrad.layers.mul import MulLayer
from symgrad.layers.reciprocal import Reciprocal
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.softmax_with_loss import SoftmaxWithLoss
from symgrad.layers.tanh import Tanh
from symgrad.numeric.methods import METHOD_NAMES
from tests.strategies import larger_shape

SEEDS = range(40)


@pytest.mark.parametrize("layer", CATALOG, ids=lambda layer: layer.name)
def test_every_correct_layer_passes_in_float32_over_many_seeds(layer):
    larger = larger_shape(layer)
    for seed in SEEDS:
        for shape in (None, larger):
            report = compare(layer.name, shape=shape, seed=seed, dtype="float32")
            assert report.ok, (
                seed,
                shape,
                [(g.name, g.errors, g.tolerance) for g in report.gradients],
            )


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_method_passes_correct_layers_in_float32(method):
    for layer in CATALOG:
        if method == "complex-step" and not layer.complex_safe:
            continue
        for seed in range(8):
            report = compare(layer.name, seed=seed, dtype="float32", method=method)
            assert report.ok, (layer.name, seed, [(g.name, g.errors) for g in report.gradients])


# --- deliberately wrong backward passes -----------------------------------------------------


class SigmoidTwiceTooSteep(Sigmoid):
    def backward(self, dout):
        return 2 * super().backward(dout)


class TanhWrongSign(Tanh):
    def backward(self, dout):
        return dout * (self.out**2 - 1.0)


class MulWithoutTheSwap(MulLayer):
    """∂(xy)/∂x taken as x instead of y: the mistake the note's "swap" warns about."""

    def backward(self, dout):
        return dout * self.x, dout * self.y


class AffineWithoutTranspose(Affine):
    """dX = dY·W instead of dY·Wᵀ (W square so that the shapes still fit)."""

    def backward(self, dout):
        super().backward(dout)
        return dout @ self.W


class AffineBiasNotSummed(Affine):
    """db = the first row of dY instead of the sum over the batch."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout[0].copy()
        return dx


class SoftmaxForgetsTheMean(SoftmaxWithLoss):
    """y − t without the 1/N of the batch mean (N = 2: off by a factor of 2)."""

    def backward(self, dout=1.0):
        return dout * (self.y - self.t)


class ReciprocalSquaredNotNegated(Reciprocal):
    def backward(self, dout):
        return dout * self.out**2


class ExpOffByOnePercent(Exp):
    """A subtle one: 1% too large, still far outside float32's tolerance."""

    def backward(self, dout):
        return 1.01 * super().backward(dout)


BROKEN = [
    ("sigmoid", SigmoidTwiceTooSteep, None, {"dx"}),
    ("tanh", TanhWrongSign, None, {"dx"}),
    ("mul", MulWithoutTheSwap, None, {"dx", "dy"}),
    ("affine", AffineWithoutTranspose, "3,3", {"dX"}),
    ("affine", AffineBiasNotSummed, "2,3", {"db"}),
    ("softmax-with-loss", SoftmaxForgetsTheMean, None, {"dx"}),
    ("reciprocal", ReciprocalSquaredNotNegated, None, {"dx"}),
    ("exp", ExpOffByOnePercent, None, {"dx"}),
]


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize(
    ("name", "broken", "shape", "wrong"), BROKEN, ids=[b[1].__name__ for b in BROKEN]
)
def test_a_wrong_backward_fails_in_float32(name, broken, shape, wrong, method):
    layer = dataclasses.replace(get_layer(name), numpy_class=broken)
    for seed in range(3):
        report = compare(layer, shape=shape, seed=seed, dtype="float32", method=method)
        verdicts = {g.name: g.ok for g in report.gradients}
        assert {g for g, ok in verdicts.items() if not ok} == wrong, (seed, verdicts)
        for check in report.gradients:
            if check.name in wrong:  # caught by numeric and by SymPy, independently
                assert check.errors["backward_vs_numeric"] > check.tolerance["backward_vs_numeric"]
                assert (
                    check.errors["backward_vs_symbolic"] > check.tolerance["backward_vs_symbolic"]
                )


# --- how much looser, and why ----------------------------------------------------------------


def test_the_report_says_how_much_looser_float32_is_and_why():
    report = compare("sigmoid", dtype="float32")
    (note,) = report.notes
    assert note.startswith("float32: tolerances against numeric are")
    assert "ε is 5.4e+08× larger" in note and "ε^(2/3)" in note
    check = report.gradients[0]
    factor = check.tolerance["backward_vs_numeric"] / check.model.float64_tolerance
    # central's error at its step scales like ε^(2/3): (ε32/ε64)^(2/3) ≈ 6.6e5
    assert 1e5 < factor < 5e6
    # and the looseness is needed: float32's honest error breaks float64's tolerance
    assert check.errors["backward_vs_numeric"] > check.model.float64_tolerance
    assert compare("sigmoid").notes == ()  # float64 needs no such note


@pytest.mark.parametrize(("method", "power"), [("forward", 1 / 2), ("five-point", 4 / 5)])
def test_the_looseness_follows_each_methods_error_order(method, power):
    check = compare("tanh", dtype="float32", method=method).gradients[0]
    factor = check.tolerance["backward_vs_numeric"] / check.model.float64_tolerance
    expected = (np.finfo(np.float32).eps / np.finfo(np.float64).eps) ** power
    assert expected / 10 < factor < expected * 10


def test_float32_model_lines_are_shown_with_explain(symgrad):
    plain = symgrad("compare", "affine", "--shape", "2,3", "--dtype", "float32")
    assert plain.code == 0 and "the same check in float64:" not in plain.stdout
    run = symgrad("compare", "affine", "--shape", "2,3", "--dtype", "float32", "--explain")
    assert run.code == 0, run.stderr
    assert "the same check in float64:" in run.stdout
    assert "looser than the same check in float64" in run.stdout
    assert run.stdout.count("✓ agree") == 3
