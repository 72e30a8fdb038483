"""Layer kinds: what a kind means lives in its kind object, and a new layer is one file.

The throwaway layers here are written the way a file in ``symgrad/layers/`` is: a NumPy
class beside its SymPy forward, and a ``Layer`` record naming its kind. Registered for
one test, each goes through compare (three ways), derive, steps and a network spec with
no other module changed.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symgrad import compare, derive
from symgrad.checking.network import check_network, parse_spec
from symgrad.comparison.shapes import array_shapes
from symgrad.comparison.sweep import step_sweep
from symgrad.errors import SymgradError
from symgrad.layers import CATALOG, get_layer, registered
from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import (
    AFFINE,
    COLUMN_WISE,
    CONVOLUTION,
    ELEMENTWISE,
    MASKED,
    POOLING,
    ROW_LOSS,
    ROW_WISE,
    Kind,
)
from symgrad.layers.spec import Layer
from symgrad.symbolic.rewrite import proved_equal
from symgrad.symbolic.summary import summarize

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ cube: y = x³, one file


class Cube:
    """y = x³; keeps x, since ∂y/∂x = 3x²."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = as_float(x)
        return self.x**3

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * 3 * self.x**2


class CubeForgetsTheThree(Cube):
    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.x**2


def cube_symbolic():
    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=x**3, inputs=(x,), output="y")


CUBE = Layer(
    name="cube",
    numpy_class=Cube,
    symbolic=cube_symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)


# --------------------------------------------- scaled affine: Y = X·A + c, its own names


class Scaled:
    """Y = X·A + c: affine with other array names, so nothing may assume X, W, b."""

    def __init__(self, A: np.ndarray, c: np.ndarray) -> None:
        self.A, self.c = A, c
        self.dA: np.ndarray | None = None
        self.dc: np.ndarray | None = None

    def forward(self, U: np.ndarray) -> np.ndarray:
        self.U = as_float(U)
        return self.U @ self.A + self.c

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dA = self.U.T @ dout
        self.dc = dout.sum(axis=0)
        return dout @ self.A.T


def scaled_symbolic():
    from symgrad.symbolic.matrix import MatrixForm

    def forward(n, d_in, d_out):
        U = sp.MatrixSymbol("U", n, d_in)
        A = sp.MatrixSymbol("A", d_in, d_out)
        c = sp.MatrixSymbol("c", d_out, 1)
        return (U, A, c), U * A + sp.OneMatrix(n, 1) * c.T

    return MatrixForm(build=forward, output="V")


RENAMED_AFFINE = Layer(
    name="renamed-affine",
    numpy_class=Scaled,
    symbolic=scaled_symbolic,
    kind=AFFINE,
    inputs=("U",),
    params=("A", "c"),
)


@pytest.mark.parametrize("method", ["central", "five-point", "richardson", "complex-step"])
def test_a_new_elementwise_layer_is_compared_three_ways(method):
    with registered(CUBE):
        report = compare("cube", shape="3,4", method=method, seed=3)
    (check,) = report.gradients
    assert report.ok and check.name == "dx"
    # The symbolic column is SymPy's 3x², evaluated on the same numbers as the backward.
    np.testing.assert_allclose(check.symbolic, check.backward, rtol=1e-12)
    assert check.backward.shape == (3, 4)


def test_a_new_layer_with_a_wrong_backward_is_flagged():
    wrong = Layer(
        name="cube",
        numpy_class=CubeForgetsTheThree,
        symbolic=cube_symbolic,
        kind=ELEMENTWISE,
        inputs=("x",),
    )
    report = compare(wrong, shape="5")
    (check,) = report.gradients
    assert not report.ok
    np.testing.assert_allclose(3 * check.backward, check.symbolic, rtol=1e-12)


def test_a_new_elementwise_layer_is_derived_swept_and_summarised():
    with registered(CUBE):
        derivation = derive("cube")
        sweep = step_sweep("cube", at=0.5)
    x = sp.Symbol("x", real=True)
    assert proved_equal(derivation.derivatives["x"], 3 * x**2)
    assert sweep.exact_value == pytest.approx(0.75)  # 3·0.5²
    assert summarize(CUBE) == {"forward": "y = x³", "derivative": "∂y/∂x = 3x²"}


def test_a_new_elementwise_layer_takes_its_place_in_a_network():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 4)), np.eye(3)[[0, 2, 1]]
    spec = "affine:5,cube,affine:3,softmax-with-loss"
    with registered(CUBE):
        assert [layer for layer, _ in parse_spec(spec)][1] is CUBE
        report = check_network(spec, x, t, seed=1)
    assert report.ok


def test_a_new_affine_layer_with_its_own_array_names():
    with registered(RENAMED_AFFINE):
        report = compare("renamed-affine", shape="3,2", batch=4)
        concrete = derive("renamed-affine", shape="3,2", batch=4)
    assert report.ok
    assert [check.name for check in report.gradients] == ["dU", "dA", "dc"]
    assert [check.backward.shape for check in report.gradients] == [(4, 3), (3, 2), (2,)]
    assert concrete.shapes["U"] == "4×3" and concrete.shapes["A"] == "3×2"
    assert RENAMED_AFFINE.shape_meaning == "IN,OUT: A's shape (U is --batch×IN)"


def test_registration_is_undone_and_refuses_a_clash():
    with registered(CUBE):
        assert get_layer("Cube") is CUBE
    with pytest.raises(SymgradError, match="unknown layer 'cube'"):
        get_layer("cube")
    with pytest.raises(SymgradError, match="already known"), registered(get_layer("relu")):
        pass
    assert get_layer("relu") in CATALOG


# ------------------------------------------------------------------ what the kinds answer


def test_every_catalog_layer_has_one_of_the_kinds():
    kinds = {ELEMENTWISE, AFFINE, ROW_WISE, ROW_LOSS, COLUMN_WISE, MASKED, CONVOLUTION, POOLING}
    assert {layer.kind for layer in CATALOG} == kinds
    assert all(isinstance(layer.kind, Kind) for layer in CATALOG)


def test_array_shapes_use_the_layers_own_names():
    assert array_shapes(get_layer("affine"), (3, 5), batch=2) == {
        "X": (2, 3),
        "W": (3, 5),
        "b": (5,),
    }
    assert array_shapes(get_layer("mul"), (2, 3)) == {"x": (2, 3), "y": (2, 3)}
    assert array_shapes(get_layer("softmax-with-loss"), (4, 3)) == {"x": (4, 3), "t": (4, 3)}
    with pytest.raises(SymgradError, match="2-dimensional --shape N,C: batch, classes, got 5"):
        array_shapes(get_layer("softmax-with-loss"), (5,))


def test_a_network_is_built_by_the_kinds_with_the_books_initialisation():
    from symgrad.checking.network import build

    layers, classes = build(
        "affine:50,relu,affine:10,softmax-with-loss", (3, 784), np.random.default_rng(0), np.float32
    )
    assert classes == (3, 10)
    first = layers[0]
    assert first.W.shape == (784, 50) and first.W.dtype == np.float32
    assert 0.008 < float(np.std(first.W)) < 0.012  # 0.01·randn
    assert not np.any(first.b) and first.b.shape == (50,)


# ------------------------------------------------------------------ no kind switched on by name

KIND_NAMES = "elementwise|affine|matrix|classes|class-loss|loss"
KIND_NAME_TESTS = [
    re.compile(r"shape_kind"),
    re.compile(r"kind\.name\b"),
    # a kind compared with its name: kind == "classes", "elementwise" != layer.kind
    re.compile(rf"""kind\w*\s*(==|!=|\bin\b).*["']({KIND_NAMES})["']"""),
    re.compile(rf"""["']({KIND_NAMES})["']\s*(==|!=)\s*[\w.]*kind"""),
    # a kind compared by identity or type instead of asked
    re.compile(
        r"(==|!=|\bis\b|\bis not\b)\s*(ELEMENTWISE|AFFINE|ROW_WISE|ROW_LOSS|COLUMN_WISE|MASKED)\b"
    ),
    re.compile(r"\b(ELEMENTWISE|AFFINE|ROW_WISE|ROW_LOSS|COLUMN_WISE|MASKED)\s*(==|!=|\bis\b)"),
    re.compile(
        r"isinstance\([^,]*kind[^,]*,\s*(Elementwise|Affine|RowWise|RowLoss|ColumnWise|Masked)\b"
    ),
]


def test_no_kind_is_switched_on_by_name():
    offenders = []
    for folder in ("symgrad", "tests", "benchmarks", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(pattern.search(line) for pattern in KIND_NAME_TESTS):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "ask the layer's kind instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "line",
    [
        'if layer.shape_kind == "affine":',
        'if layer.kind.name == "affine":',
        'elif kind == "classes":',
        'if layer.kind in ("affine", "matrix"):',
        'if "elementwise" != kind:',
        "if layer.kind is AFFINE:",
        "if isinstance(layer.kind, RowLoss):",
    ],
)
def test_the_guard_catches_a_kind_switched_on(line):
    assert any(pattern.search(line) for pattern in KIND_NAME_TESTS)
