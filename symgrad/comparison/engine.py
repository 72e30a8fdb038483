"""The three-way check: NumPy backward, SymPy's derivative, and central differences."""

from __future__ import annotations

import numpy as np

from symgrad.comparison.harness import BookLayer
from symgrad.comparison.shapes import array_shapes, parse_shape
from symgrad.comparison.tolerance import relative_tolerances
from symgrad.errors import SymgradError
from symgrad.layers import get_layer
from symgrad.layers.spec import Layer, sample
from symgrad.numeric.differences import central_gradient
from symgrad.numeric.steps import describe_central_step
from symgrad.reports import PAIRS, Comparison, GradientCheck

DTYPES = ("float64", "float32")


def book_layer(layer: Layer) -> BookLayer:
    return BookLayer(layer.numpy_class, layer.inputs, layer.params, layer.labels)


def seeded_arrays(
    layer: Layer, shapes: dict[str, tuple[int, ...]], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Random inputs and parameters in the layer's domain; one-hot labels."""
    arrays = {}
    for name in (*layer.inputs, *layer.params):
        arrays[name] = sample(layer.domain, shapes[name], rng)
    for name in layer.labels:
        rows, classes = shapes[name]
        arrays[name] = np.eye(classes)[rng.integers(0, classes, size=rows)]
    return arrays


def symbolic_gradients(
    layer: Layer, arrays: dict[str, np.ndarray], dout: np.ndarray
) -> dict[str, np.ndarray]:
    """SymPy's gradients evaluated on the same numbers, in float64."""
    form = layer.form
    if layer.shape_kind == "elementwise":
        function = form.gradient_function()
    elif layer.shape_kind == "affine":
        function = form.gradient_function({n: a.shape for n, a in arrays.items()})
    else:
        function = form.gradient_function(arrays["x"].shape[-1])
    return function(arrays, dout)


def check_gradient(
    name: str, backward: np.ndarray, symbolic: np.ndarray, numeric: np.ndarray, dtype: str
) -> GradientCheck:
    """Max absolute differences per pair, against tolerances scaled by the largest value."""
    values = {
        "backward": np.asarray(backward, dtype=np.float64),
        "symbolic": np.asarray(symbolic, dtype=np.float64),
        "numeric": np.asarray(numeric, dtype=np.float64),
    }
    scale = max(float(np.max(np.abs(v), initial=0.0)) for v in values.values())
    errors = {}
    for pair in PAIRS:
        first, _, second = pair.split("_")
        errors[pair] = float(np.max(np.abs(values[first] - values[second]), initial=0.0))
    if not all(np.all(np.isfinite(v)) for v in values.values()):
        errors = {pair: float("inf") for pair in PAIRS}
    relative = relative_tolerances(dtype)
    tolerance = {pair: relative[pair] * scale for pair in PAIRS}
    worst = max(errors.values())
    return GradientCheck(
        name=name,
        shape=values["backward"].shape,
        backward=values["backward"],
        symbolic=values["symbolic"],
        numeric=values["numeric"],
        errors=errors,
        tolerance=tolerance,
        relative_error=worst / scale if scale else 0.0,
    )


def compare(
    name: str,
    shape: str | tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    batch: int = 2,
) -> Comparison:
    """Check a catalog layer's NumPy backward against SymPy and central differences.

    Args:
        name: catalog name (case- and separator-insensitive).
        shape: what ``--shape`` means for the layer (``symgrad list`` says); text or ints.
        seed: seeds the inputs and the random upstream gradient ``dout``.
        dtype: ``float64`` or ``float32``: the dtype the NumPy layer computes in.
        batch: rows of X for ``affine``.

    Returns:
        A :class:`~symgrad.reports.Comparison`; ``.ok`` is True when all three agree.
    """
    layer = get_layer(name)
    if dtype not in DTYPES:
        raise SymgradError(f"unknown dtype '{dtype}'; choose float64 or float32")
    dims = parse_shape(shape) if isinstance(shape, str) else shape
    shapes = array_shapes(layer, dims, batch)
    rng = np.random.default_rng(seed)
    exact = seeded_arrays(layer, shapes, rng)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in exact.items()}
    runner = book_layer(layer)
    out = np.asarray(runner.output(arrays))
    # A random dout, not ones: all-ones hides a transposed or swapped gradient.
    dout = rng.standard_normal(out.shape).astype(dtype)
    _, backward = runner.backward(arrays, dout)
    exact = {n: a.astype(np.float64) for n, a in arrays.items()}  # the numbers actually used
    symbolic = symbolic_gradients(layer, exact, dout.astype(np.float64))
    checks = []
    for wrt in runner.differentiable:

        def f(value, wrt=wrt):
            return runner.output({**arrays, wrt: value})

        numeric = central_gradient(f, arrays[wrt], dout, elementwise=layer.elementwise)
        checks.append(
            check_gradient(f"d{wrt}", backward[f"d{wrt}"], symbolic[f"d{wrt}"], numeric, dtype)
        )
    return Comparison(
        layer=layer.name,
        shapes={**shapes, layer.form.output: out.shape},
        dtype=dtype,
        seed=seed,
        step=describe_central_step(np.dtype(dtype)),
        gradients=tuple(checks),
    )
