"""check_network: backprop against the numeric chain, end to end and layer by layer."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad.api import check_network
from symgrad.checking.network import build, layer_names, parse_spec, spec_shapes
from symgrad.errors import SymgradError
from symgrad.layers.affine import Affine
from symgrad.layers.relu import Relu
from symgrad.layers.softmax_with_loss import SoftmaxWithLoss
from symgrad.render import checking
from tests.strategies import seeds

BOOK = "affine:50,relu,affine:10,softmax-with-loss"
EXAMPLE = Path(__file__).parent.parent / "examples" / "note_layers.py"


def batch(n=3, width=784, classes=10, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.standard_normal((n, width))
    return x, np.eye(classes)[generator.integers(0, classes, n)]


def note():
    spec = importlib.util.spec_from_file_location("note_layers", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def book_report():
    x, t = batch()
    return check_network(BOOK, x, t)


def test_the_books_two_layer_network(book_report):
    report = book_report
    assert report.ok, report.problems
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2"]
    assert [p.shape for p in report.parameters] == [(784, 50), (50,), (50, 10), (10,)]
    assert [c.layer for c in report.local] == ["Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"]
    assert all(p.max_abs <= 1e-7 for p in report.parameters)  # the book's magnitudes
    assert all(p.mean_abs <= p.max_abs for p in report.parameters)
    assert report.local[0].skipped == ("dx",)  # x is data: no gradient needed


def book_layers(spec, width, seed=0):
    return build(spec, (1, width), np.random.default_rng(seed), np.dtype(float))[0]


def test_more_accurate_than_the_books_own_loop():
    """The book's gradient_check: numerical_gradient (two network forwards per element,
    h = 1e-4) against backprop agrees to about 1e-10; symgrad's chain to far less."""
    x, t = batch(2, 6, 3, seed=1)
    layers = book_layers("affine:4,relu,affine:3,softmax-with-loss", 6)
    report = check_network(layers, x, t)

    def loss():
        h = x
        for layer in layers[:-1]:
            h = layer.forward(h)
        return layers[-1].forward(h, t)

    loss()
    dout = layers[-1].backward(1.0)
    for layer in reversed(layers[:-1]):
        dout = layer.backward(dout)
    book_gap = 0.0
    for layer in (layers[0], layers[2]):
        for name in ("W", "b"):
            array, backprop = getattr(layer, name), getattr(layer, f"d{name}").copy()
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                keep = array[index]
                array[index] = keep + 1e-4
                up = loss()
                array[index] = keep - 1e-4
                down = loss()
                array[index] = keep
                numeric[index] = (up - down) / 2e-4
            book_gap = max(book_gap, float(np.max(np.abs(numeric - backprop))))
    ours = max(p.max_abs for p in report.parameters)
    assert report.ok and book_gap < 1e-7 and ours < book_gap / 100


def test_a_network_with_one_broken_layer_names_it():
    class BrokenRelu(Relu):
        def backward(self, dout):
            return np.array(dout, copy=True)  # passes the gradient where x ≤ 0 too

    x, t = batch(3, 20, 4, seed=2)
    generator = np.random.default_rng(3)
    layers = [
        Affine(generator.standard_normal((20, 8)), np.zeros(8)),
        BrokenRelu(),
        Affine(generator.standard_normal((8, 4)), np.zeros(4)),
        SoftmaxWithLoss(),
    ]
    report = check_network(layers, x, t)
    assert not report.ok
    assert report.broken == ("BrokenRelu1",)
    verdicts = {p.name: p.ok for p in report.parameters}
    assert verdicts == {"W1": False, "b1": False, "W2": True, "b2": True}
    (finding,) = [f for f in report.findings if f.kind == "broken-layer"]
    assert "BrokenRelu1 (layer 2) is broken" in finding.message
    assert "W1, b1" in finding.message and "Fix BrokenRelu1.backward" in finding.message


def test_a_broken_loss_spoils_every_parameter():
    class NoBatchMean(SoftmaxWithLoss):
        def backward(self, dout=1.0):
            return super().backward(dout) * self.y.shape[0]

    x, t = batch(3, 10, 4, seed=4)
    layers, _ = build(
        "affine:5,sigmoid,affine:4,softmax-with-loss",
        (3, 10),
        np.random.default_rng(0),
        np.dtype(float),
    )
    layers[-1] = NoBatchMean()
    report = check_network(layers, x, t)
    assert report.broken == ("NoBatchMean",)
    assert not any(p.ok for p in report.parameters)
    assert "3 × the right gradient" in report.findings[0].message


def test_the_notes_own_classes_as_a_network():
    """Affine and SoftmaxWithLoss as the note prints them (with the book's helpers), and the
    book's ReLU, which returns its output: symgrad knows none of these classes."""
    module = note()

    class BookReLU(module.ReLU):
        def forward(self, x):
            super().forward(x)
            out = x.copy()
            out[self.mask] = 0
            return out

    x, t = batch(3, 30, 5, seed=5)
    generator = np.random.default_rng(6)
    layers = [
        module.Affine(0.01 * generator.standard_normal((30, 10)), np.zeros(10)),
        BookReLU(),
        module.Affine(0.01 * generator.standard_normal((10, 5)), np.zeros(5)),
        module.SoftmaxWithLoss(),
    ]
    report = check_network(layers, x, t)
    # The book's cross_entropy_error takes log(y + 1e-7): backward's (y − t)/N is the exact
    # derivative of softmax-with-loss without it, which is accepted with a warning.
    assert report.ok and report.broken == (), report.problems
    smoothed = [f for f in report.findings if f.kind == "smoothed-forward"]
    assert len(smoothed) == 1 and "1e-7" in smoothed[0].message
    assert all(p.ok for p in report.parameters)
    # …and BookReLU writes into its dout, which is harmless here: only a warning.
    assert any(f.kind == "dout-modified" and f.severity == "warning" for f in report.findings)


def test_float32_and_fast_mode(book_report):
    x, t = batch(2, 40, 5, seed=7)
    spec = "affine:12,tanh,affine:5,softmax-with-loss"
    assert check_network(spec, x, t, dtype="float32").ok
    fast = check_network(spec, x, t, fast=True)
    assert fast.ok and all(p.projection is not None for p in fast.parameters)

    class BadBias(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = 2 * self.db
            return dx

    layers = book_layers(spec, 40)
    layers[2] = BadBias(layers[2].W, layers[2].b)
    report = check_network(layers, x, t, fast=True)
    assert not report.ok and report.broken == ("BadBias1",)
    drilled = [p.name for p in report.parameters if p.projection.drilled]
    assert drilled == ["b2"]


def test_report_renders_and_serialises(book_report):
    text = str(book_report)
    for column in ("max|bp−num|", "mean|bp−num|", "W1", "Relu1", "✓ All 4 parameters agree"):
        assert column in text
    data = json.loads(json.dumps(checking.network_json(book_report)))
    assert data["ok"] and [p["name"] for p in data["parameters"]] == ["W1", "b1", "W2", "b2"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("affine,relu,softmax-with-loss", "affine needs its output size"),
        ("affine:5,relu:3,softmax-with-loss", "relu takes nothing after"),
        ("affine:0,relu,softmax-with-loss", "needs its output size"),
        ("affine:5,relu", "must be a loss"),
        ("softmax-with-loss,affine:3", "must be a loss"),
        ("affine:5,mul,softmax-with-loss", "takes 2 inputs"),
        ("affine:5,,softmax-with-loss", "malformed network"),
        ("afine:5,softmax-with-loss", "did you mean 'affine'"),
    ],
)
def test_bad_specs_are_one_sentence(spec, words):
    with pytest.raises(SymgradError, match=words):
        parse_spec(spec)


def test_a_specs_arrays_are_known_before_any_is_made():
    assert spec_shapes("affine:5,relu,affine:3,softmax-with-loss", (2, 4)) == {
        "x": (2, 4),
        "W1": (4, 5),
        "b1": (5,),
        "output 1": (2, 5),
        "output 2": (2, 5),
        "W3": (5, 3),
        "b3": (3,),
        "output 3": (2, 3),
        "t": (2, 3),
        "output 4": (),
    }
    with pytest.raises(SymgradError, match=r"affine takes rows of features \(N,IN\)"):
        spec_shapes("affine:5,softmax-with-loss", (4,))
    # Images are rows of C·H·W features, as the book's Affine reads them.
    assert spec_shapes("affine:5,softmax-with-loss", (2, 1, 4))["W1"] == (4, 5)


def test_layer_names_follow_the_book():
    layers, _ = build(BOOK, (2, 4), np.random.default_rng(0), np.dtype(float))
    assert layer_names(layers) == ["Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hidden=st.lists(st.integers(2, 12), min_size=1, max_size=2),
    activation=st.sampled_from(["relu", "sigmoid", "tanh"]),
    classes=st.integers(2, 6),
    rows=st.integers(1, 4),
    width=st.integers(2, 16),
    dtype=st.sampled_from(["float64", "float32"]),
    central=st.booleans(),
    seed=seeds,
)
def test_no_false_alarm_on_random_networks(
    hidden, activation, classes, rows, width, dtype, central, seed
):
    spec = (
        ",".join(f"affine:{h},{activation}" for h in hidden)
        + f",affine:{classes},softmax-with-loss"
    )
    x, t = batch(rows, width, classes, seed=seed)
    report = check_network(
        spec, x, t, seed=seed, dtype=dtype, method="central" if central else None
    )
    assert report.ok, (
        report.problems,
        [(p.name, p.max_abs, p.tolerance) for p in report.parameters],
    )
