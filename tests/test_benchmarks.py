"""The benchmarks still run against today's API (a renamed argument once broke one
silently): each script's building blocks on tiny inputs, no timing asserted."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_gradcheck_speed_builds_and_times_a_network():
    speed = load("gradcheck_speed")
    generator = np.random.default_rng(0)
    x = generator.standard_normal((2, 4))
    t = np.eye(3)[[0, 2]]
    times = speed.network_pass("affine:5,relu,affine:3,softmax-with-loss", x, t, repeat=1)
    assert len(times) == 1 and times[0] > 0
    layers = speed.build(speed.SPEC, (3, 784), np.random.default_rng(0), np.dtype(np.float64))[0]
    assert [type(layer).__name__ for layer in layers][-1] == "SoftmaxWithLoss"


def test_gradcheck_speed_times_batch_normalisation():
    row = load("gradcheck_speed").batchnorm_row(repeat=1)
    assert row[0].startswith("batchnorm x 100×50") and row[-1] == "ok"


def test_accuracy_measures_every_smooth_layer(capsys: pytest.CaptureFixture[str]):
    accuracy = load("accuracy")
    results = accuracy.measure(points=1, elementwise=False)
    assert ("sigmoid", "float64", "central") in results
    assert all(np.isfinite(error) for error in results.values())
    accuracy.console(width=accuracy.WIDTH).print(accuracy.table(results, 1, False))
    assert "sigmoid" in capsys.readouterr().out


def test_cli_latency_knows_its_commands():
    latency = load("cli_latency")
    assert latency.SYMGRAD and Path(latency.SYMGRAD).exists()
    assert any("compare" in command for _, command, *_ in latency.CASES)


def test_accuracy_at_order_two_measures_both_ways():
    accuracy = load("accuracy")
    errors = accuracy.second_order_errors(accuracy.CATALOG[6], seed=0, dtype="float64")
    assert set(errors) == set(accuracy.SECOND_ORDER_TARGETS)
    assert all(0 <= error < accuracy.SECOND_ORDER_TARGETS[way] for way, error in errors.items())


def test_accuracy_at_order_two_measures_the_other_layers_along_every_array():
    accuracy = load("accuracy")
    for name in ("conv", "batchnorm", "softmax-with-loss", "avgpool"):
        layer = next(layer for layer in accuracy.CATALOG if layer.name == name)
        errors = accuracy.product_errors(layer, seed=0, dtype="float64")
        assert set(errors) == set(accuracy.PRODUCT_TARGETS)
        assert all(0 <= e < accuracy.second_target(name, w) for w, e in errors.items()), name
