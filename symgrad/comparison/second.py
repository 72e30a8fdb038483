"""``compare --order 2``: SymPy's second derivative against the NumPy backward's own.

The NumPy layer has no second-order method, but its backward is a function of x: with the
upstream gradient dout held fixed, g(x) = backward(dout) after forward(x) is the gradient
∇⟨dout, f(x)⟩, and the derivative of ⟨v, g(x)⟩ along x is the Hessian-vector product
H·v. So g is checked as a layer of its own whose backward is SymPy's H·v, by the one
procedure every check uses (symgrad.checking.layer.run_check): element by element, each
element against the error model of differencing the NumPy backward, kinks (ReLU's jump
in g at 0) reported as kinks. A wrong backward shows up here as a wrong derivative of g.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard
from symgrad.checking.layer import run_check
from symgrad.checking.objects import Subject
from symgrad.comparison.engine import check_method, fill, seeded_arrays
from symgrad.comparison.shapes import array_shapes
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers.spec import Layer, seeded_rng
from symgrad.numeric.methods import Method
from symgrad.reports import Comparison
from symgrad.symbolic.precision import HessianVectorFunction


class GradientMap:
    """x ↦ the catalog layer's backward of a fixed ``dout`` at x (labels held fixed), on a
    fresh object each time; its backward(v) is SymPy's Hessian-vector product there."""

    def __init__(
        self,
        layer: Layer,
        arrays: dict[str, np.ndarray],
        dout: np.ndarray,
        hvp: HessianVectorFunction,
    ) -> None:
        self.layer = layer
        self.arrays = arrays
        self.dout = dout
        self.hvp = hvp
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        inner = self.layer.numpy_class()
        inner.forward(x, *(self.arrays[label] for label in self.layer.labels))
        return inner.backward(np.asarray(self.dout, dtype=x.dtype)[()])

    def backward(self, v: np.ndarray) -> np.ndarray:
        (name,) = self.layer.inputs
        return self.hvp({**self.arrays, name: self.x}, self.dout, {name: v})[name]


def compare_second(
    layer: Layer,
    shape: tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    method: str | Method = "central",
    step: float | None = None,
    at: Mapping[str, float] | None = None,
) -> Comparison:
    """SymPy's H·v (``layer.form.hvp_function``) for a layer of one input against the
    numeric derivative of its NumPy backward along x, with dout and the direction v
    random (``seed``): elementwise layers, and losses over rows with their labels fixed.

    Raises:
        SymgradError: for a layer with several inputs, parameters, or no SymPy H·v.
    """
    form = layer.form
    if len(layer.inputs) != 1 or layer.params or not hasattr(form, "hvp_function"):
        raise SymgradError(
            _(
                "--order 2 compares layers of one input without parameters (elementwise, "
                "losses over rows); {name}'s Hessian-vector product is not derived yet"
            ).format(name=layer.name)
        )
    method = check_method(layer, method)
    (name,) = layer.inputs
    shapes = array_shapes(layer, shape, 1)
    rng = seeded_rng(seed)
    drawn = fill(layer, seeded_arrays(layer, shapes, rng), at)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    x = arrays[name]
    out = np.asarray(layer.output(arrays))
    dout = rng.standard_normal(out.shape)
    gradient_map = GradientMap(layer, arrays, dout, form.hvp_function(shapes))
    subject = Subject(
        gradient_map,
        [x],
        constants=(),
        dtype=np.dtype(dtype),
        params=(),
        names=(name,),
        guard=Guard(DEFAULT_TIMEOUT),
    )
    # symbolic=False: g is no catalog layer, and must not be recognised as one.
    report = run_check(subject, method, seed, step, symbolic=False)
    comparison = report.comparison
    if comparison is None:  # the catalog's own backward always runs
        raise SymgradError(
            _("{name} could not be checked: {problems}").format(
                name=layer.name, problems="; ".join(report.problems)
            )
        )
    # What is checked is d⟨v, dx⟩/dx = H·v, not a gradient dx of the layer itself.
    checks = tuple(replace(check, name="H·v") for check in comparison.gradients)
    return replace(
        comparison,
        gradients=checks,
        layer=layer.name,
        shapes={**shapes, form.output: out.shape},
        at=at,
        order=2,
        problems=report.problems,
    )
