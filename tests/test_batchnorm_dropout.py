"""Batch normalisation and dropout: three-way agreement over seeds, shapes and dtypes, the
closed form against formulas written here, a worked example in numbers, the classic
mistakes caught by check with the sentence that names them, and both in a network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import api
from symgrad.checking.layer import check_layer
from symgrad.errors import SymgradError
from symgrad.layers import get_layer
from symgrad.layers.batchnorm import EPSILON, BatchNormalization
from symgrad.layers.dropout import Dropout
from symgrad.numeric.structure import probe_couplings
from symgrad.symbolic.columns import INDEX, N
from tests.strategies import dtypes, seeds, shapes_for

NEW = ["batchnorm", "dropout", "dropout-unscaled"]


@pytest.mark.parametrize("name", NEW)
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=seeds, dtype=dtypes)
def test_backward_symbolic_and_numeric_agree(name, data, seed, dtype):
    layer = get_layer(name)
    shape = data.draw(shapes_for(layer))
    report = api.compare(name, shape=shape, seed=seed, dtype=dtype)
    assert report.ok, str(report)
    for gradient in report.gradients:  # the symbolic column is there, and agrees
        assert gradient.symbolic is not None
        assert gradient.worst["backward_vs_symbolic"].ok


# ------------------------------------------------------------------ the closed form


def _symbols(form):
    nodes = {str(node.output): node.output for node in form.nodes}
    return nodes, form.params["gamma"], form.params["beta"]


def test_the_closed_form_is_the_textbook_one_for_every_n():
    """Written here as it is printed in papers, and proved equal for a symbolic N."""
    form = get_layer("batchnorm").form
    derivation = api.derive("batchnorm")
    nodes, gamma, _beta = _symbols(form)
    sigma = form.nodes[5].output
    dy, xhat = sp.IndexedBase("dy", real=True), nodes["xhat"]
    total = sp.Sum(dy[INDEX], (INDEX, 1, N))
    weighted = sp.Sum(dy[INDEX] * xhat[INDEX], (INDEX, 1, N))
    textbook = gamma / (N * sigma) * (N * dy[INDEX] - total - xhat[INDEX] * weighted)
    assert form.proved_equal(derivation.derivatives["x_n"], textbook)
    assert derivation.derivatives["γ"] == weighted
    assert derivation.derivatives["β"] == total
    # and not equal to the slip without Σdy: the proof can fail
    assert not form.proved_equal(
        derivation.derivatives["x_n"], textbook + gamma * total / (N * sigma)
    )


@pytest.mark.parametrize("rows", [2, 3, 4])
def test_the_closed_form_is_the_derivative_of_the_forward_written_out(rows):
    """An independent derivation: the forward of one column of ``rows`` explicit
    symbols, differentiated by SymPy, equals the closed form with its sums written out."""
    form = get_layer("batchnorm").form
    derivation = api.derive("batchnorm")
    xs = sp.symbols(f"x1:{rows + 1}", real=True)
    dys = sp.symbols(f"dy1:{rows + 1}", real=True)
    gamma, beta = sp.symbols("γ β", real=True)
    epsilon = sp.Symbol("ε", positive=True)
    mean = sum(xs) / rows
    sigma = sp.sqrt(sum((x - mean) ** 2 for x in xs) / rows + epsilon)
    ys = [gamma * (x - mean) / sigma + beta for x in xs]
    loss = sum(d * y for d, y in zip(dys, ys, strict=True))  # ⟨dy, y⟩: its gradient is dx
    nodes, form_gamma, form_beta = _symbols(form)
    dy = sp.IndexedBase("dy", real=True)

    def written_out(expr, k):
        """The closed form at element k, its sums over the rows expanded."""
        values = {
            form.nodes[5].output: sigma,
            form_gamma: gamma,
            form_beta: beta,
        }
        expr = expr.xreplace(values)
        expr = expr.replace(
            lambda e: isinstance(e, sp.Sum),
            lambda e: sum(e.function.xreplace({INDEX: j}) for j in range(1, rows + 1)),
        )
        expr = expr.xreplace({INDEX: k, N: rows})
        elements = {}
        for j in range(1, rows + 1):
            elements[dy[j]] = dys[j - 1]
            elements[nodes["xhat"][j]] = (xs[j - 1] - mean) / sigma
        return expr.xreplace(elements)

    for k in range(1, rows + 1):
        derived = sp.diff(loss, xs[k - 1])
        closed = written_out(derivation.derivatives["x_n"], k)
        assert sp.simplify(derived - closed) == 0
    assert sp.simplify(sp.diff(loss, gamma) - written_out(derivation.derivatives["γ"], 1)) == 0
    assert sp.simplify(sp.diff(loss, beta) - written_out(derivation.derivatives["β"], 1)) == 0


def test_a_worked_example_in_numbers():
    """x = (1, 2, 3) in one column, γ = 2, β = 0, dy = (1, 0, 0), ε = 0: μ = 2, σ = √(2/3),
    x̂ = (−√1.5, 0, √1.5), Σdy = 1, Σdy·x̂ = −√1.5, so dx = γ/(3σ)·(3dy − 1 + 1.5·x̂/√1.5·…):
    by hand (1/√6, −2/√6, 1/√6), dγ = −√1.5, dβ = 1."""
    derivation = api.derive("batchnorm")
    form = get_layer("batchnorm").form
    nodes, gamma, _beta = _symbols(form)
    sigma = form.nodes[5].output
    dy, xhat = sp.IndexedBase("dy", real=True), nodes["xhat"]
    numbers = {gamma: 2, sigma: sp.sqrt(sp.Rational(2, 3)), N: 3}
    dys, xhats = (1, 0, 0), (-sp.sqrt(sp.Rational(3, 2)), 0, sp.sqrt(sp.Rational(3, 2)))

    def at(expr, k):
        expr = expr.replace(
            lambda e: isinstance(e, sp.Sum),
            lambda e: sum(e.function.xreplace({INDEX: j}) for j in (1, 2, 3)),
        )
        expr = expr.xreplace({INDEX: k}).xreplace(numbers)
        values = {dy[j]: dys[j - 1] for j in (1, 2, 3)}
        values |= {xhat[j]: xhats[j - 1] for j in (1, 2, 3)}
        return sp.nsimplify(sp.simplify(expr.xreplace(values)))

    by_hand = [1 / sp.sqrt(6), -2 / sp.sqrt(6), 1 / sp.sqrt(6)]
    assert [
        sp.simplify(at(derivation.derivatives["x_n"], k) - v)
        for k, v in zip((1, 2, 3), by_hand, strict=True)
    ] == [0, 0, 0]
    assert sp.simplify(at(derivation.derivatives["γ"], 1) + sp.sqrt(sp.Rational(3, 2))) == 0
    assert at(derivation.derivatives["β"], 1) == 1
    # The NumPy layer and SymPy's evaluation give the same numbers (ε = 1e-6 moves them
    # by about 1e-6).
    x = np.array([[1.0], [2.0], [3.0]])
    layer = BatchNormalization(np.array([2.0]), np.array([0.0]))
    layer.forward(x)
    dx = layer.backward(np.array([[1.0], [0.0], [0.0]]))
    np.testing.assert_allclose(dx[:, 0], [float(v) for v in by_hand], rtol=1e-5)
    np.testing.assert_allclose(layer.dgamma, [-np.sqrt(1.5)], rtol=1e-5)
    symbolic = get_layer("batchnorm").form.gradient_function({"x": (3, 1)})(
        {"x": x, "gamma": np.array([2.0]), "beta": np.array([0.0])}, np.array([[1.0], [0.0], [0.0]])
    )
    np.testing.assert_allclose(symbolic["dx"], dx, rtol=1e-12)
    assert EPSILON == 1e-6


def test_a_rewrite_that_does_not_follow_from_the_nodes_is_refused():
    form = get_layer("batchnorm").form
    sigma = form.nodes[5].output
    r = form.nodes[6].output
    wrong = dataclasses.replace(form, rewrite={**form.rewrite, r: 2 / sigma}, _cache={})
    with pytest.raises(ArithmeticError, match="does not follow from the nodes"):
        wrong.derive("batchnorm")


def test_a_node_that_is_not_linear_in_its_sum_is_refused():
    from symgrad.symbolic.columns import ColumnNode, over_batch

    form = get_layer("batchnorm").form
    variance = form.nodes[3]
    squashed = ColumnNode(
        "variance", variance.output, sp.sqrt(over_batch(form.nodes[2].output[INDEX]))
    )
    nodes = (*form.nodes[:3], squashed, *form.nodes[4:])
    with pytest.raises(ArithmeticError, match="must be c·Σₙ"):
        dataclasses.replace(form, nodes=nodes, _cache={}).derive("batchnorm")


def test_the_walk_is_node_by_node():
    derivation = api.derive("batchnorm")
    assert [node.op for node in derivation.nodes] == [
        "mean", "centre", "square", "variance", "+ε", "√", "/", "normalise", "×γ", "+β"
    ]  # fmt: skip
    walked = dict(derivation.walk)
    assert list(walked)[-1] == "dx_n"
    assert {"dμ", "dvar", "dσ", "dxbar_n", "dxhat_n", "dγ", "dβ"} <= set(walked)
    assert any("symbolic batch size N" in str(note) for note in derivation.notes)


def test_a_column_is_perturbed_apart_from_the_others():
    layer = get_layer("batchnorm")
    assert layer.kind.couplings(layer, "x", (4, 3), (4, 3)) == ((1, 1),)
    assert layer.kind.couplings(layer, "gamma", (3,), (4, 3)) == ((0, 1),)
    x = np.random.default_rng(0).standard_normal((4, 3))
    forward = BatchNormalization(np.ones(3), np.zeros(3)).forward
    probed = probe_couplings(forward, x, forward(x), np.random.default_rng(1))
    assert tuple(probed) == ((1, 1),)


# ------------------------------------------------------------------ mistakes caught


class NoMeanPath(BatchNormalization):
    def backward(self, dout):
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (dout * self.xn).sum(axis=0)
        return self.gamma / (n * self.std) * (n * dout - self.xn * self.dgamma)  # no −Σdy


class UserBatchNorm:
    """Written as a reader would, with PyTorch's ε = 1e-5."""

    def __init__(self, gamma, beta):
        self.gamma, self.beta = gamma, beta
        self.dgamma = self.dbeta = None

    def forward(self, x):
        self.xc = x - x.mean(axis=0)
        self.std = np.sqrt((self.xc**2).mean(axis=0) + 1e-5)
        self.xn = self.xc / self.std
        return self.gamma * self.xn + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (dout * self.xn).sum(axis=0)
        return self.gamma / (n * self.std) * (n * dout - self.dbeta - self.xn * self.dgamma)


class NewMaskInBackward(Dropout):
    def backward(self, dout):
        mask = self.rng.random(dout.shape) >= self.dropout_ratio
        return dout * mask / (1 - self.dropout_ratio)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_batch_norm_without_the_sum_of_dy_is_caught_with_its_sentence(dtype, seed):
    x = np.random.default_rng(seed).standard_normal((5, 3))
    report = check_layer(NoMeanPath(np.ones(3) * 1.5, np.zeros(3)), x, seed=seed, dtype=dtype)
    assert not report.ok
    (finding,) = [f for f in report.findings if f.kind == "wrong-gradient"]
    assert finding.subject == "dx"
    assert "the path through the mean" in finding.message and "Σdout" in finding.message
    layer = dataclasses.replace(get_layer("batchnorm"), numpy_class=NoMeanPath)
    assert not api.compare(layer, shape="4,3", seed=seed, dtype=dtype).ok


def test_a_users_batch_norm_is_recognised_and_passes_with_its_own_epsilon():
    x = np.random.default_rng(3).standard_normal((4, 3))
    report = check_layer(UserBatchNorm(np.full(3, 2.0), np.zeros(3)), x)
    assert report.ok, str(report)
    assert any("recognised as batchnorm" in note for note in report.comparison.notes)
    book = check_layer(BatchNormalization(np.full(3, 2.0), np.zeros(3)), x)
    assert book.ok and all(g.symbolic is not None for g in book.comparison.gradients)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dropout_drawing_a_new_mask_in_backward_is_caught_with_its_sentence(dtype, seed):
    x = np.random.default_rng(seed).standard_normal((6, 5))
    layer = NewMaskInBackward(0.5, rng=np.random.default_rng(seed))
    report = check_layer(layer, x, seed=seed, dtype=dtype)
    assert not report.ok
    (finding,) = [f for f in report.findings if f.kind == "wrong-gradient"]
    assert "draws a new mask in backward" in finding.message
    assert any("held fixed" in note for note in report.comparison.notes)
    right = check_layer(Dropout(0.5, rng=np.random.default_rng(seed)), x, seed=seed, dtype=dtype)
    assert right.ok, str(right)


def test_the_mask_is_a_constant_input_and_backward_reuses_it():
    layer = get_layer("dropout")
    assert layer.labels == ("mask",) and layer.differentiable == ("x",)
    report = api.compare("dropout", shape="3,4", seed=5)
    assert [g.name for g in report.gradients] == ["dx"]
    derivation = api.derive("dropout")
    mask, p = sp.symbols("mask p", real=True)
    assert (
        sp.simplify(
            derivation.derivatives["x"].subs(sp.Symbol("p", nonnegative=True), p) - mask / (1 - p)
        )
        == 0
    )
    assert api.derive("dropout-unscaled").derivatives["x"] == mask
    dropout = Dropout(0.5, rng=np.random.default_rng(0))
    y = dropout.forward(np.ones((2, 3)))
    np.testing.assert_array_equal(dropout.backward(np.ones((2, 3))), y)  # the same mask


# ------------------------------------------------------------------ in a network


def test_a_network_with_batch_norm_and_dropout_is_checked():
    spec = "affine:100,batchnorm,relu,dropout:0.5,affine:10,softmax-with-loss"
    report = api.check_net(spec, "3,20")
    assert report.ok, str(report)
    assert "BatchNormalization1" in report.layers and "Dropout1" in report.layers


@pytest.mark.parametrize(
    "spec", ["affine:4,dropout,mse", "affine:4,dropout:1,mse", "dropout:x,mse"]
)
def test_a_dropout_needs_its_ratio(spec):
    with pytest.raises(SymgradError, match="needs its drop ratio"):
        api.check_net(spec, "3,4")


# ------------------------------------------------------------------ what users see


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["derive", "batchnorm"],
        ["derive", "dropout"],
        ["compare", "batchnorm", "--shape", "4,3"],
        ["compare", "dropout"],
    ],
)
def test_commands_read_at_80_columns(symgrad, command, lang):
    from rich.cells import cell_len

    run = symgrad("--lang", lang, *command, columns=80)
    assert run.code == 0, run.stderr
    assert max(cell_len(line) for line in run.stdout.splitlines()) <= 80
    if command[0] == "derive" and command[1] == "batchnorm":
        assert "dxₙ = γ(N·dyₙ − x̂ₙ·Σₙ dyₙ·x̂ₙ − Σₙ dyₙ)/(N·σ)" in run.stdout


def test_derive_json_reads_back_with_its_column_symbols(symgrad):
    import json

    data = json.loads(symgrad("derive", "batchnorm", "--json").stdout)
    integers = {"N", "n"}
    names = {
        name: sp.IndexedBase(name, real=True)
        if shape == ["N"]
        else sp.Symbol(name, integer=True, positive=True)
        if name in integers
        else sp.Symbol(name, real=True)
        for name, shape in data["symbols"].items()
    }
    read = {k: sp.sympify(v, locals=names) for k, v in data["derivatives"].items()}
    dy, xhat = names["dy"], names["xhat"]
    n, size = names["n"], names["N"]
    assert read["β"] == sp.Sum(dy[n], (n, 1, size))
    assert read["γ"] == sp.Sum(dy[n] * xhat[n], (n, 1, size))
    walk = {k: sp.sympify(v, locals=names) for k, v in data["backward_walk"].items()}
    assert walk["dx_n"] == names["dxbar"][n] + names["dμ"] / size
