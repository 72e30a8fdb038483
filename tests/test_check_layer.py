"""check_layer: every finding from a layer broken on purpose, and none from a correct one."""

import io
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from symgrad.api import check_layer
from symgrad.checking.progress import Progress
from symgrad.comparison.engine import seeded_arrays
from symgrad.comparison.shapes import array_shapes
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.affine import Affine
from symgrad.layers.relu import Relu
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.softmax_with_loss import SoftmaxWithLoss
from symgrad.layers.tanh import Tanh
from symgrad.render import checking
from tests.strategies import dtypes, seeds, shapes_for

rng = np.random.default_rng(7)
X = rng.standard_normal((2, 3))
W, B = rng.standard_normal((3, 4)), rng.standard_normal(4)


def affine(cls=Affine, w=W, b=B):
    return cls(w.copy(), b.copy())


def kinds(report):
    return {f.kind for f in report.findings}


def only_problem(report, kind):
    assert not report.ok
    errors = [f for f in report.findings if f.severity == "error"]
    assert [f.kind for f in errors] == [kind], [f.message for f in errors]
    return errors[0].message


# ------------------------------------------------------------------ the note's ReLU


class NotesReLU:
    """The study note's ReLU, as printed: forward returns nothing, backward writes dout."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout

        return dx


class NotesReLUReturning(NotesReLU):
    """The same with forward's missing `return out` added."""

    def forward(self, x):
        super().forward(x)
        out = x.copy()
        out[self.mask] = 0
        return out


def test_the_notes_relu_gets_both_findings_in_one_run():
    report = check_layer(NotesReLU(), X)
    assert kinds(report) == {"forward-returned-none", "dout-modified"}
    none, written = report.problems
    assert "returned None" in none and "return out" in none
    assert "wrote into its dout" in written and "dout.copy()" in written
    assert report.comparison is None


def test_the_notes_relu_once_fixed_still_overwrites_dout():
    report = check_layer(NotesReLUReturning(), X)
    message = only_problem(report, "dout-modified")
    assert f"set {int((X <= 0).sum())} of 6 elements to 0" in message
    assert report.comparison is not None and report.comparison.ok  # the values are right


def test_dout_written_only_at_negative_inputs_is_found_at_positive_ones_too():
    positive = np.abs(X) + 0.1
    report = check_layer(NotesReLUReturning(), positive)
    assert kinds(report) == {"dout-modified"}


# ------------------------------------------------------------------ forward


class Returns:
    def __init__(self, make):
        self.make = make

    def forward(self, x):
        return self.make(x)

    def backward(self, dout):
        return dout


@pytest.mark.parametrize(
    ("make", "kind", "words"),
    [
        (lambda x: (x, 1), "forward-not-array", "tuple of 2"),
        (lambda x: x > 0, "forward-not-array", "bool"),
        (lambda x: np.log(-np.abs(x)), "forward-not-finite", "non-finite"),
        (lambda x: [1.0, 2.0], "forward-not-array", "list"),
    ],
)
def test_forward_that_returns_no_usable_array(make, kind, words):
    assert words in only_problem(check_layer(Returns(make), X), kind)


def test_forward_that_raises():
    def boom(x):
        raise ValueError("shapes do not align")

    message = only_problem(check_layer(Returns(boom), X), "forward-raised")
    assert "ValueError: shapes do not align" in message


class DoublesInPlace:
    def forward(self, x):
        x *= 2
        return x

    def backward(self, dout):
        return 2 * dout


def test_forward_that_writes_into_its_input():
    message = only_problem(check_layer(DoublesInPlace(), X), "forward-changed-input")
    assert "its input x" in message
    assert X[0, 0] != 2 * X[0, 0]  # the caller's array is never touched


# ------------------------------------------------------------------ backward


class RaisingBackward(Sigmoid):
    def backward(self, dout):
        raise IndexError("index 3 is out of bounds")


class ReturnsNothing(Sigmoid):
    def backward(self, dout):
        self.dx = super().backward(dout)


class ReturnsTwo(Sigmoid):
    def backward(self, dout):
        return super().backward(dout), dout


class ReturnsOneOfTwo:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y


class UnsummedBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout
        return dx


class TransposedShape(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW.T
        return dx


class ForgetsDW(Affine):
    def backward(self, dout):
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class WritesSavedInput(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.x[...] = 0
        return dx


class UpdatesWeights(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.W -= 0.1 * self.dW
        return dx


class Accumulates(Affine):
    def __init__(self, w, b):
        super().__init__(w, b)
        self.dW, self.db = np.zeros_like(w), np.zeros_like(b)

    def backward(self, dout):
        self.dW += self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class IgnoresDout(Sigmoid):
    def backward(self, dout):
        return (1.0 - self.out) * self.out


class SquaresDout(Sigmoid):
    def backward(self, dout):
        return dout**2 * (1.0 - self.out) * self.out


@pytest.mark.parametrize(
    ("layer", "inputs", "kind", "words"),
    [
        (RaisingBackward(), (X,), "backward-raised", "IndexError"),
        (ReturnsNothing(), (X,), "backward-returned-none", "return the gradient"),
        (ReturnsTwo(), (X,), "gradient-count", "return exactly dx"),
        (ReturnsOneOfTwo(), (X, X), "gradient-count", "return exactly dx, dy"),
        (affine(UnsummedBias), (X,), "gradient-shape", "np.sum(…, axis=0)"),
        (affine(TransposedShape), (X,), "gradient-shape", "transposed shape"),
        (affine(ForgetsDW), (X,), "gradient-missing", "self.dW ="),
        (affine(WritesSavedInput), (X,), "input-modified", "kept from forward"),
        (affine(UpdatesWeights), (X,), "parameter-modified", "optimizer step"),
        (affine(Accumulates), (X,), "not-deterministic", "rather than accumulating"),
        (SquaresDout(), (X,), "dout-misused", "not linear in dout"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_backward_finding(layer, inputs, kind, words):
    report = check_layer(layer, *inputs)
    assert kind in kinds(report), report.problems
    message = next(f.message for f in report.findings if f.kind == kind)
    assert words in message
    assert not report.ok


def test_a_backward_that_ignores_dout_is_right_only_for_ones():
    report = check_layer(IgnoresDout(), X)
    assert kinds(report) == {"dout-ignored", "wrong-gradient"}
    (wrong,) = report.wrong
    assert any("right only where dout is 1" in hint for hint in wrong.hints)


def test_a_constant_without_gradient_is_only_a_warning():
    class Scales:
        def __init__(self):
            self.scale = np.array([2.0, 3.0, 4.0])

        def forward(self, x):
            return x * self.scale

        def backward(self, dout):
            return dout * self.scale

    report = check_layer(Scales(), X)
    assert report.ok
    assert kinds(report) == {"no-gradient-stored"}
    assert "scale" in report.warnings[0]


# ------------------------------------------------------------------ wrong values, with hints


class TwiceTooSteep(Sigmoid):
    def backward(self, dout):
        return 2 * super().backward(dout)


class Flipped(Tanh):
    def backward(self, dout):
        return -super().backward(dout)


class DividesByNTwice(SoftmaxWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) / self.y.shape[0]


class TransposedWeights(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW.T
        return dx


class PassesEverywhere(Relu):
    def backward(self, dout):
        return np.array(dout, copy=True)


class OffByAMillionth(Sigmoid):
    def backward(self, dout):
        return super().backward(dout) * (1 + 1e-6)


@pytest.mark.parametrize(
    ("layer", "inputs", "constants", "gradient", "hint"),
    [
        (TwiceTooSteep(), (X,), (), "dx", "backward is 2 × the right gradient"),
        (Flipped(), (X,), (), "dx", "the sign is flipped"),
        (
            DividesByNTwice(),
            (rng.standard_normal((3, 4)), np.eye(4)[[0, 1, 3]]),
            (1,),
            "dx",
            "1/3 × the right gradient everywhere (3 is the batch size N)",
        ),
        (
            affine(TransposedWeights, rng.standard_normal((3, 3)), B[:3]),
            (X,),
            (),
            "dW",
            "transpose of the right gradient",
        ),
        (PassesEverywhere(), (X,), (), "dx", "wrong exactly where x ≤ 0"),
        (OffByAMillionth(), (X,), (), "dx", "off by a relative 1e-06"),
    ],
    ids=["factor-2", "sign", "1/N", "transpose", "where", "1e-6"],
)
def test_wrong_gradients_come_with_their_hint(layer, inputs, constants, gradient, hint):
    report = check_layer(layer, *inputs, constants=constants, symbolic=False)
    (wrong,) = report.wrong
    assert wrong.name == gradient
    assert any(hint in h for h in wrong.hints), wrong.hints
    (message,) = [p for p in report.problems if p.startswith(f"{type(layer).__name__}: {gradient}")]
    assert "worst at" in message and "numeric" in message and "relative" in message
    assert ("ulp" in message) == (wrong.numeric != 0)  # no ulps of 0


def test_the_worst_element_is_named_with_all_three_values():
    report = check_layer(TwiceTooSteep(), X)  # a catalog forward: SymPy's column joins
    (wrong,) = report.wrong
    gap = np.abs(wrong.backward - wrong.numeric)
    assert wrong.symbolic == pytest.approx(wrong.numeric, rel=1e-8)
    assert wrong.backward == pytest.approx(2 * wrong.numeric, rel=1e-8)
    assert gap == pytest.approx(wrong.absolute) and wrong.numeric_error < 1e-9
    assert wrong.wrong == wrong.size == X.size
    assert report.comparison.gradients[0].symbolic is not None


# ------------------------------------------------------------------ sensitivity, no false alarms


def _catalog_case(layer, draw, dtype):
    """A catalog layer object and random arrays in its domain, shaped as its kind says."""
    shapes = array_shapes(layer, draw(shapes_for(layer)), batch=draw(st.integers(1, 6)))
    arrays = seeded_arrays(layer, shapes, np.random.default_rng(draw(seeds)))
    cast = {n: a if n in layer.labels else a.astype(dtype) for n, a in arrays.items()}
    given_names = (*layer.inputs, *layer.labels)
    return (
        layer.numpy_class(*(cast[n] for n in layer.params)),
        tuple(cast[n] for n in given_names),
        tuple(range(len(layer.inputs), len(given_names))),  # the labels are constants
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), layer=st.sampled_from(CATALOG), dtype=dtypes, seed=seeds)
def test_no_false_alarm_on_correct_layers(data, layer, dtype, seed):
    obj, inputs, constants = _catalog_case(layer, data.draw, dtype)
    report = check_layer(obj, *inputs, constants=constants, seed=seed, symbolic=False)
    assert report.ok, report.problems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dtype=dtypes, seed=seeds)
def test_no_false_alarm_on_user_classes_found_by_probing(data, dtype, seed):
    """The same layers written anew: symgrad knows nothing of them and probes."""

    class MyAffine:
        def __init__(self, W, b):
            self.W, self.b, self.dW, self.db = W, b, None, None

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)

    obj, inputs, _ = _catalog_case(get_layer("affine"), data.draw, dtype)
    report = check_layer(MyAffine(obj.W, obj.b), *inputs, seed=seed)
    assert report.ok, report.problems
    assert {p.source for p in report.perturbations} == {"probed"}


@settings(max_examples=30, deadline=None)
@given(
    layer=st.sampled_from([Sigmoid, Tanh, Affine]),
    seed=seeds,
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
)
def test_a_relative_error_of_one_millionth_is_flagged_in_float64(layer, seed, rows, cols):
    generator = np.random.default_rng(seed)

    class Slightly(layer):
        def backward(self, dout):
            dx = super().backward(dout)
            if hasattr(self, "dW"):
                self.dW = self.dW * (1 + 1e-6)
            return dx * (1 + 1e-6)

    x = generator.standard_normal((rows, cols))
    if layer is Affine:
        obj = Slightly(generator.standard_normal((cols, 3)), generator.standard_normal(3))
    else:
        obj = Slightly()
    report = check_layer(obj, x, seed=seed, symbolic=False)
    assert not report.ok
    assert all(w.relative < 2e-6 for w in report.wrong)


# ------------------------------------------------------------------ symbolic column


class PlainSigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


def test_a_sympy_expression_adds_the_symbolic_column():
    x = sp.Symbol("x")
    report = check_layer(PlainSigmoid(), X, symbolic=1 / (1 + sp.exp(-x)))
    (check,) = report.comparison.gradients
    assert check.symbolic is not None and check.ok
    assert set(check.errors) == {
        "backward_vs_symbolic",
        "backward_vs_numeric",
        "symbolic_vs_numeric",
    }


def test_a_symbolic_class_attribute_and_a_function_of_symbol_arrays():
    class WithAttribute(PlainSigmoid):
        symbolic = 1 / (1 + sp.exp(-sp.Symbol("x")))

    assert check_layer(WithAttribute(), X).comparison.gradients[0].symbolic is not None

    class MyAffine(Affine):
        pass

    report = check_layer(
        affine(MyAffine), X, symbolic=lambda x, W, b: x.dot(W) + b
    )  # Affine's forward: the catalog's column would join anyway; this one is the user's
    assert report.ok and all(g.symbolic is not None for g in report.comparison.gradients)


def test_a_wrong_symbolic_forward_is_a_disagreement_not_a_crash():
    report = check_layer(PlainSigmoid(), X, symbolic=sp.tanh(sp.Symbol("x")))
    assert not report.comparison.ok  # backward and numeric agree; SymPy's column does not


# ------------------------------------------------------------------ fast mode, progress, output


def test_fast_mode_projects_and_drills_into_what_disagrees():
    good = check_layer(affine(), X, fast=True, symbolic=False)
    assert good.ok and len(good.projections) == 3 and good.comparison is None

    class BadBias(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = 2 * self.db
            return dx

    bad = check_layer(affine(BadBias), X, fast=True, symbolic=False)
    assert not bad.ok
    drilled = [p.name for p in bad.projections if p.drilled]
    assert drilled == ["db"]
    assert [g.name for g in bad.comparison.gradients] == ["db"]


def test_a_progress_bar_appears_only_after_its_delay():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    with Progress("checking", enabled=True, delay=0.0, console=console) as bar:
        bar.expect(3)
        for _ in range(3):
            bar.advance()
    assert bar.shown and "checking" in buffer.getvalue()
    with Progress("checking", enabled=True, delay=60.0, console=console) as quiet:
        quiet.advance()
    assert not quiet.shown


def test_reports_render_as_the_core_tables_and_json():
    report = check_layer(TwiceTooSteep(), X)
    text = str(report)
    assert "|bwd−sym|" in text and "✗ 6 of 6 wrong" in text and "Problem:" in text
    plain = str(check_layer(PlainSigmoid(), X, symbolic=False))
    assert "|bwd−sym|" not in plain and "|bwd−num|" in plain and "no problems found" in plain
    data = json.loads(json.dumps(checking.layer_json(report)))
    assert data["ok"] is False and data["findings"][0]["kind"] == "wrong-gradient"
    assert data["comparison"]["gradients"][0]["name"] == "dx"


def test_the_callers_arrays_and_the_layers_parameters_are_left_alone():
    x, layer = X.copy(), affine(UpdatesWeights)
    weights = layer.W
    before = weights.copy()
    check_layer(layer, x)
    np.testing.assert_array_equal(x, X)
    assert layer.W is weights
    np.testing.assert_array_equal(layer.W, before)
