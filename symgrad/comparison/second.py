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

from collections.abc import Callable, Mapping
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


class GradientMap:
    """x ↦ the catalog layer's backward of a fixed ``dout`` at x, on a fresh object each
    time; its backward(v) is SymPy's Hessian-vector product dout·f″(x)·v there."""

    def __init__(
        self,
        layer: Layer,
        dout: np.ndarray,
        hvp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    ) -> None:
        self.layer = layer
        self.dout = dout
        self.hvp = hvp
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        inner = self.layer.numpy_class()
        inner.forward(x)
        return inner.backward(self.dout.astype(x.dtype))

    def backward(self, v: np.ndarray) -> np.ndarray:
        return self.hvp(self.x, self.dout, v)


def compare_second(
    layer: Layer,
    shape: tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    method: str | Method = "central",
    step: float | None = None,
    at: Mapping[str, float] | None = None,
) -> Comparison:
    """SymPy's H·v for an elementwise layer of one input against the numeric derivative
    of its NumPy backward along x, with dout and the direction v random (``seed``).

    Raises:
        SymgradError: for a layer that is not elementwise with one input.
    """
    from symgrad.api import derive
    from symgrad.symbolic.precision import Arithmetic

    if not layer.elementwise or len(layer.inputs) != 1 or layer.params:
        raise SymgradError(
            _(
                "--order 2 compares elementwise layers of one input; {name}'s Hessian-vector "
                "product is not derived yet"
            ).format(name=layer.name)
        )
    method = check_method(layer, method)
    (name,) = layer.inputs
    shapes = array_shapes(layer, shape, 1)
    rng = seeded_rng(seed)
    x = fill(layer, seeded_arrays(layer, shapes, rng), at)[name].astype(dtype)
    dout = rng.standard_normal(x.shape)
    second = derive(layer.name, order=2).in_inputs[name, name]
    form = layer.form
    curvature = Arithmetic(None).compile(form.inputs, second)

    def hvp(point: np.ndarray, upstream: np.ndarray, v: np.ndarray) -> np.ndarray:
        value = np.broadcast_to(curvature(np.asarray(point, dtype=np.float64)), point.shape)
        return upstream * value * v

    subject = Subject(
        GradientMap(layer, dout, hvp),
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
        shapes={name: x.shape, form.output: x.shape},
        at=at,
        order=2,
        problems=report.problems,
    )
