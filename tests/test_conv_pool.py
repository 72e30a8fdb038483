"""Convolution and pooling: three-way agreement, the derivation's sums, a worked dW, ties
as kinks, the pooling bug caught, the SimpleConvNet spec, and what the screen shows."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad import compare, derive
from symgrad.checking import check_layer, check_network
from symgrad.errors import SymgradError
from symgrad.layers import get_layer
from symgrad.layers.conv import Convolution
from symgrad.layers.maxpool import MaxPooling
from tests.strategies import dtypes, seeds, shapes_for

IMAGE_LAYERS = ("conv", "maxpool", "avgpool")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from(IMAGE_LAYERS).flatmap(
        lambda name: shapes_for(get_layer(name)).map(lambda s: (name, s))
    ),
    seed=seeds,
    dtype=dtypes,
)
def test_image_layers_agree_three_ways(data, seed, dtype):
    name, shape = data
    try:
        report = compare(name, shape=shape, seed=seed, dtype=dtype)
    except SymgradError as error:  # a window larger than the padded image: said so
        assert "does not fit" in str(error)
        return
    assert report.ok, [(g.name, g.errors) for g in report.gradients]
    for gradient in report.gradients:
        assert gradient.symbolic is not None  # the third column is there, and agrees
        assert gradient.worst["backward_vs_symbolic"].ok


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv_with_stride_and_padding_agrees_three_ways(dtype):
    report = compare("conv", shape="2,3,7,6,4,3,2,1", dtype=dtype)
    assert report.shapes == {"x": (2, 3, 7, 6), "W": (4, 3, 3, 3), "b": (4,), "y": (2, 4, 4, 3)}
    assert report.ok and [g.name for g in report.gradients] == ["dx", "dW", "db"]


def worked_example():
    """x = 1…9 on a 3×3 image, one 2×2 filter, dout 1 at the top-left output only."""
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dout = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
    return x, W, dout


def test_conv_dW_on_a_worked_example():
    x, W, dout = worked_example()
    # dW[p, q] = Σ_{i,j} dout[i, j]·x[i + p, j + q]: dout picks the window at (0, 0).
    expected_dW = np.array([[[[1.0, 2.0], [4.0, 5.0]]]])
    # dout of ones sums every window: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
    summed_dW = np.array([[[[12.0, 16.0], [24.0, 28.0]]]])
    layer = Convolution(W, np.zeros(1))
    assert layer.forward(x)[0, 0].tolist() == [[37.0, 47.0], [67.0, 77.0]]
    layer.backward(dout)
    assert np.array_equal(layer.dW, expected_dW)
    sym = get_layer("conv").form.gradient_function({"x": x.shape, "W": W.shape, "b": (1,)})
    assert np.array_equal(sym({"x": x, "W": W, "b": np.zeros(1)}, dout)["dW"], expected_dW)
    ones = np.ones((1, 1, 2, 2))
    layer.backward(ones)
    assert np.array_equal(layer.dW, summed_dW)
    assert np.array_equal(sym({"x": x, "W": W, "b": np.zeros(1)}, ones)["dW"], summed_dW)
    # dx, the transposed convolution: W laid on each window, weighted by its dout.
    dx = layer.backward(ones)
    assert dx[0, 0].tolist() == [[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]


def test_conv_derivation_is_the_indexed_sums():
    report = derive("conv")
    n, c, h, w, f, p, q, i, j = sp.symbols("n c h w f p q i j", integer=True, nonnegative=True)
    N, F, OH, OW = sp.symbols("N F OH OW", integer=True, nonnegative=True)
    s = sp.Symbol("s", integer=True, positive=True)
    pad = sp.Symbol("pad", integer=True, nonnegative=True)
    x, W, dy = sp.IndexedBase("x"), sp.IndexedBase("W"), sp.IndexedBase("dy")
    over_outputs = ((n, 0, N - 1), (i, 0, OH - 1), (j, 0, OW - 1))
    dW = sp.Sum(dy[n, f, i, j] * x[n, c, i * s + p - pad, j * s + q - pad], *over_outputs)
    db = sp.Sum(dy[n, f, i, j], *over_outputs)
    dx = sp.Sum(
        dy[n, f, i, j] * W[f, c, h - i * s + pad, w - j * s + pad],
        (f, 0, F - 1),
        (i, 0, OH - 1),
        (j, 0, OW - 1),
    )
    derived = report.derivatives
    assert sp.simplify(derived["W[f, c, p, q]"] - dW) == 0
    assert sp.simplify(derived["b[f]"] - db) == 0
    assert sp.simplify(derived["x[n, c, h, w]"] - dx) == 0


def test_conv_derivative_changes_with_its_forward():
    """Nothing is typed in: a forward without the bias has no db, and one that reads x
    flipped gets a dW that reads it flipped too."""
    from symgrad.layers.conv import indexed
    from symgrad.symbolic.indexed import Indexed, backward_sums

    form = indexed(1, 0)
    x, weights, _bias = form.inputs
    (_op, product, limits), _ = form.terms
    flipped = product.xreplace({x.base: sp.IndexedBase("x")}).subs(
        product.args[1],
        x.base[
            (*product.args[1].indices[:2], -product.args[1].indices[2], product.args[1].indices[3])
        ],
    )
    changed = Indexed(
        inputs=(x, weights),
        output=form.output,
        terms=(("conv", flipped, limits),),
        sizes=form.sizes,
    )
    sums = backward_sums(changed)
    assert "b" not in sums
    assert sums["W"].has(
        -sp.Symbol("i", integer=True, nonnegative=True)
        - sp.Symbol("p", integer=True, nonnegative=True)
    )


def test_maxpool_ties_are_kinks_not_errors():
    report = compare("maxpool", at={"x": 0.5})  # every window a four-way tie
    (dx,) = report.gradients
    assert report.ok and dx.kinks is not None and dx.kinks.subgradient
    assert dx.kinks.mask.all()
    # A tie inside one window of random values is a kink too.
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 0, 0] = x[0, 0, :2, :2].max() + 1
    result = check_layer(MaxPooling(2, 2, 2), x, progress=False)
    assert result.ok
    (gradient,) = result.comparison.gradients
    assert gradient.kinks.mask[0, 0, 0, 0] and gradient.kinks.mask[0, 0, 0, 1]


SPREADING = '''
import numpy as np


class Pooling:
    """The note-style bug: dout handed to every element of the window."""

    def __init__(self, pool_h, pool_w, stride=2):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride

    def forward(self, x):
        n, c, h, w = x.shape
        k, s = self.pool_h, self.stride
        self.x = x
        out = np.empty((n, c, (h - k) // s + 1, (w - k) // s + 1))
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                out[:, :, i, j] = x[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
        return out

    def backward(self, dout):
        dx = np.zeros_like(self.x)
        k, s = self.pool_h, self.stride
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                dx[:, :, i * s : i * s + k, j * s : j * s + k] += dout[:, :, i : i + 1, j : j + 1]
        return dx
'''


def test_check_catches_a_pooling_that_routes_dout_to_every_element(tmp_path):
    path = tmp_path / "pool.py"
    path.write_text(textwrap.dedent(SPREADING))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "symgrad",
            "check",
            f"{path}:Pooling",
            "--input",
            "2,2,4,4",
            "--set",
            "pool_h=2",
            "--set",
            "pool_w=2",
        ],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": ""},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    text = " ".join(result.stdout.split())
    assert "recognised as maxpool" in text
    assert "routes dout to every element of a window" in text
    assert "only the window's largest element reaches the output" in text


def test_check_recognises_a_book_style_convolution_with_its_stride():
    class BookConvolution:  # the book's attributes, its own code
        def __init__(self, W, b, stride=1, pad=0):
            self.W, self.b, self.stride, self.pad = W, b, stride, pad

        def forward(self, x):
            self.inner = Convolution(self.W, self.b, self.stride, self.pad)
            return self.inner.forward(x)

        def backward(self, dout):
            dx = self.inner.backward(dout)
            self.dW, self.db = self.inner.dW, self.inner.db
            return dx

    rng = np.random.default_rng(1)
    layer = BookConvolution(rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2), 2, 1)
    result = check_layer(layer, rng.standard_normal((1, 1, 5, 5)), progress=False)
    assert result.ok
    assert any("recognised as conv" in note for note in result.comparison.notes)
    assert all(g.symbolic is not None for g in result.comparison.gradients)


def test_simple_conv_net_is_one_spec():
    spec = "conv:4x3x3,relu,maxpool:2,affine:10,relu,affine:3,softmax-with-loss"
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    labels = np.eye(3)[[0, 2]]
    report = check_network(spec, x, labels, progress=False)
    assert report.ok
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2", "W3", "b3"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("conv:30x5,relu,affine:10,softmax-with-loss", "expected sizes like conv:30x5x5"),
        ("conv:3x3x3:step=2,affine:10,softmax-with-loss", "expected stride or pad"),
        ("conv:3x9x9,affine:10,softmax-with-loss", "does not fit"),
    ],
)
def test_bad_conv_specs_are_one_line(spec, message):
    result = subprocess.run(
        [sys.executable, "-m", "symgrad", "net", spec, "--input", "1,1,6,6"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "args",
    [["list"], ["derive", "conv"], ["compare", "conv", "--shape", "1,1,4,4,2,3"]],
    ids=lambda a: " ".join(a),
)
def test_commands_fit_80_columns(args, lang):
    result = subprocess.run(
        [sys.executable, "-m", "symgrad", "--lang", lang, *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    from rich.cells import cell_len

    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80
    if args[0] == "derive":
        assert "dW" in result.stdout and "F×C×KH×KW" in result.stdout
    if lang == "zh" and args[0] == "compare":
        assert "梯度" in result.stdout


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (1, 2), (3, 0)])
def test_window_grouping_gives_the_one_element_values(stride, pad):
    """Elements a window apart are perturbed together; each output difference goes back
    to the one element of the pack whose window holds it, the same numbers as perturbing
    one element at a time, with a fraction of the forwards."""
    from symgrad.numeric.structure import Grouping, Window, grouped_gradient

    rng = np.random.default_rng(stride + pad)
    x, W, b = rng.standard_normal((2, 2, 7, 8)), rng.standard_normal((3, 2, 3, 2)), np.ones(3)

    def f(v):
        return Convolution(W, b, stride, pad).forward(v)

    dout = rng.standard_normal(f(x).shape)
    windows = (Window(2, 2, 3, stride, -pad), Window(3, 3, 2, stride, -pad))
    grouped = Grouping(x.shape, dout.shape, ((0, 0), *windows))
    single = Grouping(x.shape, dout.shape, ())
    fast = grouped_gradient(f, x, dout, "central", None, grouped)
    slow = grouped_gradient(f, x, dout, "central", None, single)
    assert grouped.groups == 2 * 3 * 2  # channels × window rows × window columns
    assert grouped.forwards < single.forwards / 10
    assert np.allclose(fast.values, slow.values, rtol=0, atol=1e-12)
    layer = Convolution(W, b, stride, pad)
    layer.forward(x)
    assert np.allclose(fast.values, layer.backward(dout), atol=1e-8)
