"""SymPy's gradients at 50 digits: the truth the backward's ulps are counted against."""

from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest

from symgrad import compare
from symgrad.errors import SymgradError
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.sigmoid import Sigmoid
from symgrad.symbolic.precision import TRUTH_DIGITS, Arithmetic, to_float, ulps


def test_ulps_are_counted_at_full_precision():
    with mpmath.workdps(TRUTH_DIGITS):
        truth = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2)], dtype=object)
    nearest = to_float(truth)
    np.testing.assert_allclose(ulps(nearest, truth, np.float64), [1 / 3, 0], atol=1e-12)
    off = np.nextafter(nearest, np.inf)
    np.testing.assert_allclose(ulps(off, truth, np.float64), [2 / 3, 1], atol=1e-12)
    # the same distance is far fewer float32 ulps
    assert ulps(off, truth, np.float32)[1] == pytest.approx(2**-29)


def test_inputs_enter_mpmath_exactly():
    values = Arithmetic(TRUTH_DIGITS).array([0.1, np.float32(0.1)])
    assert values[0] == mpmath.mpf(0.1)  # the double nearest 0.1, not 1/10
    assert values[1] == mpmath.mpf(float(np.float32(0.1)))


@pytest.mark.parametrize("layer", CATALOG, ids=lambda layer: layer.name)
def test_the_50_digit_value_agrees_with_lambdify(layer):
    report = compare(layer.name, seed=5, exact=True)
    for check in report.gradients:
        precision = check.precision
        assert precision.digits == 50
        # the float64 lambdify of a right formula is a few ulps from the truth at most
        assert precision.symbolic_ulps < 64, (check.name, precision)
        assert precision.relative < 1e-14


def test_a_correct_backward_is_within_an_epsilon_of_the_truth():
    # dW = Xᵀ·dY: each entry a two-term sum, off by under an ε of the largest entry
    # (normwise); in its own ulps an entry can be far off where its two terms cancel
    # (85 ulps at seed 2), which is rounding, not a wrong backward.
    for seed in range(5):
        check = compare("affine", shape="3,4", seed=seed, exact=True).gradients[1]
        assert check.precision.relative < np.finfo(np.float64).eps


def test_precision_loss_is_told_apart_from_a_wrong_formula():
    """sigmoid's y(1 − y) in the tail: right formula, many ulps; a wrong one: ~10¹⁶ ulps."""
    tail = compare("sigmoid", at=20.0, shape="3", exact=True).gradients[0]
    assert tail.ok
    assert 1e6 < tail.precision.backward_ulps < 1e10  # 1 − y cancels: half the digits go
    assert tail.precision.symbolic_ulps < 4  # SymPy's form, exp(−x)/(1+exp(−x))², keeps them

    class Wrong(Sigmoid):
        def backward(self, dout):
            return dout * self.out  # y instead of y(1 − y)

    broken = dataclasses.replace(get_layer("sigmoid"), numpy_class=Wrong)
    wrong = compare(broken, shape="3", exact=True).gradients[0]
    assert not wrong.ok and wrong.precision.backward_ulps > 1e14


def test_float32_ulps_are_float32s():
    check = compare("tanh", dtype="float32", exact=True).gradients[0]
    assert check.precision.dtype == "float32"
    assert check.precision.backward_ulps < 16


def test_exact_refuses_huge_arrays_in_one_line(capsys):
    with pytest.raises(SymgradError, match="at most 100,000"):
        compare("exp", shape="400,400", exact=True)


def test_exact_on_the_command_line(symgrad):
    run = symgrad("compare", "sigmoid", "--exact", "--method", "complex-step")
    assert run.code == 0, run.stderr
    assert "Against SymPy at 50 digits" in run.stdout
    assert "ulp (float64)" in run.stdout
