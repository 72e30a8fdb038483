"""How accurate is each numeric method? Measured against SymPy's derivative at 50 digits.

For every catalog layer with a smooth forward, and every method the layer allows, the
gradients of ⟨dout, output⟩ are taken numerically at many random points (the inputs
``symgrad compare`` draws, seeds 0, 1, …, default shapes, random dout) in float64 and
float32, and compared with SymPy's gradient evaluated at 50 digits on the same numbers.

The error at one point is normwise, as ``symgrad compare`` measures it: the largest
|numeric − exact| over the gradient's elements divided by the largest |exact|; the table
shows the worst point. (Element by element, a relative error is unbounded where the
derivative is tiny next to the function, e.g. tanh at x = 4: no difference method can
recover digits that rounding f already lost; ``--elementwise`` shows that measure.)

Targets in float64: central ≤ 1e-9, five-point and richardson ≤ 1e-12, complex-step ≤
1e-14. Forward differences (error ∝ √ε) and float32 have none.

``--order 2``: the Hessian-vector product H·v = dout·f″(x)·v of every smooth elementwise
layer of one input, two ways: the central difference of the NumPy backward (what
``compare --order 2`` checks; error ∝ ε^(2/3) at its step ε^(1/3), so about 4e-11 on the
derivative's own scale) and the forward's second difference (f(x+h) − 2f(x) + f(x−h))/h²
(error ∝ ε^(1/2) ≈ 1.5e-8 at its step ε^(1/4)). The targets allow two decades over those
for the ratio of |f| (or |f′|) to |f″|, which the normwise measure divides by: backward
≤ 1e-8, second difference ≤ 1e-6, in float64.

The other smooth layers (affine, convolution, average pooling, softmax, log-softmax, the
losses, batch normalisation, dropout) are measured the same two ways along every array
they differentiate, joined: the backward's central difference, and the forward's second
differences (symgrad.numeric.differences.forward_hessian_product, every Hessian entry
from eight exact points) on the shapes in ``SECOND_ORDER_SHAPES`` (at most 24 elements,
as ``compare --order 2`` takes them), against SymPy's H·v evaluated in float64 (these
layers have no 50-digit H·v; float64's own rounding, about 1e-16 of the scale, is far
below every error measured). Where H·v is 0 (average pooling, dropout: linear), the error
is absolute. The backward's target is the elementwise layers' 1e-8 (the same error
model, the same step). The forward's second differences get a decade more, ≤ 1e-5: each
Hessian entry's rounding is ε·Σ|dout|·|f|/h² summed over every output the two elements
move (a row of C, a column of N, a window, all of a loss's terms), where an elementwise
layer moves one; measured, log-softmax's reaches 1.2e-6 (its outputs log p ≈ −1 … −3 are
large beside its curvature p(1 − p)).
Run: ``.venv/bin/python benchmarks/accuracy.py [--points N] [--elementwise] [--order 2]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text

from symgrad.comparison.engine import seeded_arrays, symbolic_gradients
from symgrad.comparison.shapes import array_shapes
from symgrad.layers import CATALOG
from symgrad.layers.spec import Layer
from symgrad.numeric.differences import (
    forward_hessian_product,
    numerical_gradient,
    second_difference,
)
from symgrad.numeric.methods import METHOD_NAMES
from symgrad.numeric.steps import scale
from symgrad.render.console import console
from symgrad.symbolic.precision import TRUTH_DIGITS, to_float

# Read from a file or a pipe, where 80 columns would fold every cell.
WIDTH = 160
TARGETS = {"central": 1e-9, "five-point": 1e-12, "richardson": 1e-12, "complex-step": 1e-14}
SECOND_ORDER_TARGETS = {"backward, central": 1e-8, "forward, second difference": 1e-6}
# For H·v along every array of a layer whose elements reach several outputs (see above).
PRODUCT_TARGETS = {"backward, central": 1e-8, "forward, second difference": 1e-5}
DTYPES = ("float64", "float32")


def point_errors(
    layer: Layer, seed: int, dtype: str, methods: list[str], elementwise: bool
) -> dict[str, float]:
    """Each method's relative error at one random point (normwise, or worst element)."""
    shapes = array_shapes(layer, None)
    rng = np.random.default_rng(seed)
    drawn = seeded_arrays(layer, shapes, rng)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    out = np.asarray(layer.output(arrays))
    dout = rng.standard_normal(out.shape).astype(dtype)
    used = {n: a.astype(np.float64) for n, a in arrays.items()}
    truth = symbolic_gradients(layer, used, dout.astype(np.float64), TRUTH_DIGITS)
    errors = {}
    for method in methods:
        worst = 0.0
        for wrt in layer.differentiable:

            def f(value, wrt=wrt):
                return layer.output({**arrays, wrt: value})

            numeric = numerical_gradient(f, arrays[wrt], dout, method, None, layer.elementwise)
            exact = to_float(truth[f"d{wrt}"])
            difference = np.abs(numeric.values - exact)
            if elementwise:
                nonzero = exact != 0
                error = float(np.max(difference[nonzero] / np.abs(exact[nonzero]), initial=0))
            else:
                largest = float(np.max(np.abs(exact), initial=0.0))
                error = float(np.max(difference, initial=0.0)) / largest if largest else 0.0
            worst = max(worst, error)
        errors[method] = worst
    return errors


def second_order_errors(layer: Layer, seed: int, dtype: str) -> dict[str, float]:
    """H·v = dout·f″(x)·v two ways at one random point, each's normwise relative error
    against SymPy's f″ at 50 digits."""
    from symgrad.api import derive
    from symgrad.symbolic.precision import Arithmetic

    (name,) = layer.inputs
    shapes = array_shapes(layer, None)
    rng = np.random.default_rng(seed)
    x = seeded_arrays(layer, shapes, rng)[name].astype(dtype)
    dout, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)
    arithmetic = Arithmetic(TRUTH_DIGITS)
    second = derive(layer.name, order=2).in_inputs[name, name]
    curvature = arithmetic.elementwise(arithmetic.compile(layer.form.inputs, second), 1)
    with arithmetic.context():
        exact = to_float(arithmetic.array(dout) * curvature(arithmetic.array(x)) * v)

    def backward(point: np.ndarray) -> np.ndarray:
        instance = layer.numpy_class()
        instance.forward(point)
        return instance.backward(dout.astype(point.dtype))

    def forward(point: np.ndarray) -> np.ndarray:
        return layer.numpy_class().forward(point)

    h = float(np.finfo(x.dtype).eps) ** 0.25 * scale(x)
    estimates = {
        "backward, central": numerical_gradient(backward, x, v, "central", None, True).values,
        "forward, second difference": dout * second_difference(forward, x, h) * v,
    }
    largest = float(np.max(np.abs(exact)))
    return {
        way: float(np.max(np.abs(estimate - exact))) / largest if largest else 0.0
        for way, estimate in estimates.items()
    }


# Shapes of at most 24 differentiated elements, for the forward's second differences.
SECOND_ORDER_SHAPES = {"conv": (1, 1, 3, 3, 1, 2), "avgpool": (1, 1, 4, 4, 2), "batchnorm": (3, 2)}


def product_errors(layer: Layer, seed: int, dtype: str) -> dict[str, float]:
    """H·v of ⟨dout, output⟩ along every differentiated array, two ways at one random
    point, each's normwise relative error against SymPy's H·v in float64 (absolute where
    H·v is 0)."""
    from symgrad.comparison.second import GradientMap, joined, split

    shape = SECOND_ORDER_SHAPES.get(layer.name, layer.default_shape)
    shapes = array_shapes(layer, shape)
    settings = layer.kind.settings(layer, shape)
    rng = np.random.default_rng(seed)
    drawn = seeded_arrays(layer, shapes, rng)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    names = layer.differentiable
    dout = rng.standard_normal(np.shape(layer.output(arrays, settings)))
    flat = joined([arrays[n] for n in names])
    v = rng.standard_normal(flat.size)
    form = layer.form
    hvp = form.hvp_function(shapes, settings) if layer.settings else form.hvp_function(shapes)
    shaped = dict(zip(names, split(v, [shapes[n] for n in names]), strict=True))
    exact = joined(list(hvp(arrays, dout, shaped).values()))
    gradients = GradientMap(layer, arrays, dout, hvp, settings)

    def backward(point: np.ndarray) -> np.ndarray:
        return gradients.forward(*split(point, [shapes[n] for n in names]))

    def forward(point: np.ndarray) -> np.ndarray:
        parts = dict(zip(names, split(point, [shapes[n] for n in names]), strict=True))
        return np.asarray(layer.output({**arrays, **parts}, settings))

    with np.errstate(all="ignore"):
        estimates = {
            "backward, central": numerical_gradient(backward, flat, v, "central").values,
            "forward, second difference": forward_hessian_product(forward, flat, dout, v).values,
        }
    largest = float(np.max(np.abs(exact)))
    return {
        way: float(np.max(np.abs(estimate - exact))) / (largest or 1.0)
        for way, estimate in estimates.items()
    }


def is_scalar(layer: Layer) -> bool:
    """An elementwise layer of one input, measured against f″ at 50 digits."""
    return layer.elementwise and len(layer.inputs) == 1 and not layer.labels


def second_target(name: str, way: str) -> float:
    """The float64 target for one layer and way at order 2."""
    layer = next(layer for layer in CATALOG if layer.name == name)
    return (SECOND_ORDER_TARGETS if is_scalar(layer) else PRODUCT_TARGETS)[way]


def measure_second(points: int) -> dict[tuple[str, str, str], float]:
    """(layer, dtype, way) → the worst relative error at order 2 over ``points`` points:
    the elementwise layers of one input against f″ at 50 digits, the others' H·v."""
    results: dict[tuple[str, str, str], float] = {}
    for layer in CATALOG:
        if not layer.smooth:
            continue
        errors = second_order_errors if is_scalar(layer) else product_errors
        for dtype in DTYPES:
            for seed in range(points):
                for way, error in errors(layer, seed, dtype).items():
                    key = (layer.name, dtype, way)
                    results[key] = max(results.get(key, 0.0), error)
    return results


def second_table(results: dict[tuple[str, str, str], float], points: int) -> Table:
    grid = Table(
        title=f"Order 2: max relative error of H·v against SymPy's, {points} random points "
        "each (normwise; f″ at 50 digits for the elementwise layers of one input, H·v in "
        "float64 for the rest)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    grid.add_column("layer", style="bold")
    grid.add_column("dtype")
    for way, target in SECOND_ORDER_TARGETS.items():  # elementwise / the other layers
        other = PRODUCT_TARGETS[way]
        shown = f"≤{target:.0e}" if other == target else f"≤{target:.0e} / {other:.0e}"
        grid.add_column(f"{way} {shown}", justify="right")
    for layer in dict.fromkeys(name for name, _, _ in results):
        for dtype in DTYPES:
            cells = []
            for way in SECOND_ORDER_TARGETS:
                error = results[layer, dtype, way]
                met = dtype != "float64" or error <= second_target(layer, way)
                cells.append(
                    Text(
                        f"{error:.1e}",
                        style="" if dtype != "float64" else "green" if met else "bold red",
                    )
                )
            grid.add_row(layer, dtype, *cells)
    return grid


def measure(points: int, elementwise: bool) -> dict[tuple[str, str, str], float]:
    """(layer, dtype, method) → the worst relative error over ``points`` random points."""
    results: dict[tuple[str, str, str], float] = {}
    for layer in CATALOG:
        if not layer.smooth:
            continue
        methods = [m for m in METHOD_NAMES if m != "complex-step" or layer.complex_safe]
        for dtype in DTYPES:
            for seed in range(points):
                for method, error in point_errors(layer, seed, dtype, methods, elementwise).items():
                    key = (layer.name, dtype, method)
                    results[key] = max(results.get(key, 0.0), error)
    return results


def table(results: dict[tuple[str, str, str], float], points: int, elementwise: bool) -> Table:
    measure_name = "worst element" if elementwise else "normwise"
    grid = Table(
        title=f"Max relative error against SymPy at 50 digits, {points} random points each "
        f"({measure_name})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    grid.add_column("layer", style="bold")
    grid.add_column("dtype")
    for method in METHOD_NAMES:
        target = f" ≤{TARGETS[method]:.0e}" if method in TARGETS else ""
        grid.add_column(f"{method}{target}", justify="right")
    for layer in dict.fromkeys(name for name, _, _ in results):
        for dtype in DTYPES:
            cells = []
            for method in METHOD_NAMES:
                error = results.get((layer, dtype, method))
                if error is None:
                    cells.append(Text("n/a", style="dim"))
                    continue
                target = TARGETS.get(method) if dtype == "float64" else None
                style = "" if target is None else "green" if error <= target else "bold red"
                cells.append(Text(f"{error:.1e}", style=style))
            grid.add_row(layer, dtype, *cells)
    return grid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200, help="random points per layer")
    parser.add_argument(
        "--elementwise",
        action="store_true",
        help="relative error element by element instead of normwise",
    )
    parser.add_argument("--order", type=int, choices=(1, 2), default=1, help="1 or 2")
    args = parser.parse_args(argv)
    if args.order == 2:
        second = measure_second(args.points)
        console(width=WIDTH).print(second_table(second, args.points))
        missed = [
            f"{layer} {way}: {error:.1e} > {second_target(layer, way):.0e}"
            for (layer, dtype, way), error in second.items()
            if dtype == "float64" and error > second_target(layer, way)
        ]
        print(
            "float64 targets missed: " + "; ".join(missed) if missed else "All float64 targets met."
        )
        return 1 if missed else 0
    results = measure(args.points, args.elementwise)
    console(width=WIDTH).print(table(results, args.points, args.elementwise))
    missed = [
        f"{layer} {method}: {error:.1e} > {TARGETS[method]:.0e}"
        for (layer, dtype, method), error in results.items()
        if dtype == "float64" and method in TARGETS and error > TARGETS[method]
    ]
    if missed:
        print("float64 targets missed: " + "; ".join(missed))
        return 1
    if not args.elementwise:
        print("All float64 targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
