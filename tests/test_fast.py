"""``--fast``: its projections miss a relative 1e-6 error no more often than the bound in
``checking.gradients.project`` says, and a correct network costs fewer forwards than
``torch.autograd.gradcheck(fast_mode=True)`` without drilling down."""

import numpy as np
import pytest

from symgrad.checking import check_network
from symgrad.checking.gradients import FAST_MISS, FAST_RELATIVE, project
from symgrad.numeric.methods import get_method

SEEDS = 1500
# With a miss probability p ≤ 1e-3 per seed, P(more than 7 misses in 1500) < 1e-4.
MOST_MISSES = 7


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_case(rng):
    x = rng.standard_normal((30, 40))
    u = rng.standard_normal(x.shape)
    y = sigmoid(x)
    return sigmoid, x, u, u * y * (1 - y)


def affine_weight_case(rng):
    """f(W) = X·W + b, the gradient ⟨U, f⟩ by W: Xᵀ·U."""
    x, b = rng.standard_normal((8, 20)), rng.standard_normal(6)
    w = rng.standard_normal((20, 6))
    u = rng.standard_normal((8, 6))
    return (lambda value: x @ value + b), w, u, x.T @ u


def planted(gradient: np.ndarray, rng) -> np.ndarray:
    """An error on a random subset of elements, of norm FAST_RELATIVE·‖g‖."""
    error = np.zeros(gradient.size)
    chosen = rng.choice(gradient.size, size=rng.integers(1, gradient.size + 1), replace=False)
    error[chosen] = rng.standard_normal(chosen.size)
    error *= FAST_RELATIVE * np.linalg.norm(gradient) / np.linalg.norm(error)
    return gradient + error.reshape(gradient.shape)


@pytest.mark.parametrize(
    ("case", "method"),
    [
        (sigmoid_case, "central"),
        (sigmoid_case, "complex-step"),
        (affine_weight_case, "central"),
        (affine_weight_case, "complex-step"),
    ],
)
def test_planted_relative_errors_are_missed_within_the_bound(case, method):
    misses, bounds = 0, []
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        f, x, u, gradient = case(rng)
        projected = project("d", planted(gradient, rng), f, x, u, get_method(method), rng)
        if projected.settled:
            misses += 1
            bounds.append(projected.miss)
    assert misses <= MOST_MISSES
    # Whatever passed, passed under a promise of at most FAST_MISS.
    assert all(bound <= FAST_MISS for bound in bounds)


@pytest.mark.parametrize("case", [sigmoid_case, affine_weight_case])
def test_correct_gradients_settle_mostly_in_one_direction(case):
    forwards = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        f, x, u, gradient = case(rng)
        projected = project("d", gradient, f, x, u, get_method("central"), rng)
        assert projected.settled
        forwards.append(projected.forwards)
    # Four forwards a direction; a second one is drawn for at most one array in eight.
    assert np.mean(forwards) <= 4.5


def test_a_correct_deep_network_does_not_drill_and_costs_less_than_torch():
    spec = "affine:30,relu,affine:30,relu,affine:30,relu,affine:10,softmax-with-loss"
    generator = np.random.default_rng(4)
    x = generator.standard_normal((20, 100))
    t = np.eye(10)[generator.integers(0, 10, 20)]
    layers, parameters = 8, 8
    # torch's fast mode: one forward for the outputs, then two per differentiated input,
    # each through the whole network.
    torch_forwards = (2 * parameters + 1) * layers
    for seed in range(5):
        report = check_network(spec, x, t, seed=seed, fast=True, progress=False)
        assert report.ok
        assert not any(p.projection.drilled for p in report.parameters)
        assert not any(p.drilled for check in report.local for p in check.projections)
        assert report.forwards <= torch_forwards
