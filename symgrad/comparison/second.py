"""``compare --order 2``: SymPy's second derivative against the NumPy layer's, two ways.

The NumPy layer has no second-order method, but its backward is a function of the arrays
it differentiates: with the upstream gradient dout held fixed, g(x) = backward(dout)
after forward(x) is the gradient ∇⟨dout, f(x)⟩, and the derivative of ⟨v, g(x)⟩ along x
is the Hessian-vector product H·v. So g is checked as a layer of its own whose backward
is SymPy's H·v, by the one procedure every check uses (symgrad.checking.layer.run_check):
element by element, each element against the error model of differencing the NumPy
backward, kinks (ReLU's jump in g at 0) reported as kinks. A wrong backward shows up here
as a wrong derivative of g.

For a small layer a third way joins them: H·v from second differences of the NumPy
forward alone (symgrad.numeric.differences.forward_hessian_product), a column with its
own error bound, so that every element is judged three ways as at order 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard
from symgrad.checking.hessian import Directed
from symgrad.checking.layer import run_check
from symgrad.comparison.engine import check_method, fill, seeded_arrays
from symgrad.comparison.shapes import array_shapes
from symgrad.comparison.tolerance import TRUNCATION_MARGIN
from symgrad.comparison.verdict import Estimate
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers.spec import Layer, seeded_rng
from symgrad.numeric.differences import forward_hessian_product
from symgrad.numeric.methods import Method
from symgrad.reports import Comparison
from symgrad.symbolic.precision import HessianVectorFunction

# The forward's second differences take eight forwards per pair of elements: a third way
# for layers of up to this many differentiated elements (every default --shape).
SECOND_DIFFERENCE_LIMIT = 24


def joined(parts: list[np.ndarray]) -> np.ndarray:
    """Arrays as one flat vector, in order."""
    return np.concatenate([np.ravel(p) for p in parts]) if parts else np.zeros(0)


def split(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """One flat vector back into arrays of ``shapes``, in order."""
    ends = np.cumsum([int(np.prod(s, dtype=np.int64)) for s in shapes])
    return [p.reshape(s) for p, s in zip(np.split(flat, ends[:-1]), shapes, strict=True)]


class GradientMap:
    """(inputs…, parameters…) ↦ the catalog layer's backward of a fixed ``dout`` there,
    every gradient joined into one flat vector (labels held fixed), on a fresh object each
    time; its backward(v) is SymPy's Hessian-vector product there, one part per array."""

    def __init__(
        self,
        layer: Layer,
        arrays: dict[str, np.ndarray],
        dout: np.ndarray,
        hvp: HessianVectorFunction,
        settings: Mapping[str, int],
    ) -> None:
        self.layer = layer
        self.arrays = arrays
        self.dout = dout
        self.hvp = hvp
        self.settings = settings
        self.names = layer.differentiable
        self.point: dict[str, np.ndarray] = {}

    def forward(self, *values: np.ndarray) -> np.ndarray:
        layer = self.layer
        self.point = dict(zip(self.names, values, strict=True))
        inner = layer.numpy_class(*(self.point[p] for p in layer.params), **self.settings)
        inner.forward(
            *(self.point[n] for n in layer.inputs), *(self.arrays[n] for n in layer.labels)
        )
        returned = inner.backward(np.asarray(self.dout, dtype=values[0].dtype)[()])
        parts = list(returned) if isinstance(returned, tuple) else [returned]
        parts += [getattr(inner, f"d{p}") for p in layer.params]
        return joined(parts)

    def backward(self, v: np.ndarray) -> Any:
        shapes = [np.shape(self.point[n]) for n in self.names]
        directions = dict(zip(self.names, split(np.asarray(v), shapes), strict=True))
        product = self.hvp({**self.arrays, **self.point}, self.dout, directions)
        parts = tuple(product[n] for n in self.names)
        return parts if len(parts) > 1 else parts[0]


def forward_column(
    layer: Layer,
    arrays: dict[str, np.ndarray],
    dout: np.ndarray,
    v: np.ndarray,
    settings: Mapping[str, int],
) -> dict[str, Estimate]:
    """The third way: H·v of ⟨dout, forward⟩ by the forward's second differences, per
    differentiated array, each element with its bound (2 × truncation + rounding)."""
    names = layer.differentiable
    shapes = [arrays[n].shape for n in names]

    def forward(flat: np.ndarray) -> np.ndarray:
        point = dict(zip(names, split(flat, shapes), strict=True))
        return np.asarray(layer.output({**arrays, **point}, settings))

    flat = joined([arrays[n] for n in names]).astype(arrays[names[0]].dtype)
    with np.errstate(all="ignore"):
        product = forward_hessian_product(forward, flat, dout, v)
    error = TRUNCATION_MARGIN * product.truncation + product.rounding
    return {
        f"d{n}": Estimate(value, bound)
        for n, value, bound in zip(
            names, split(product.values, shapes), split(error, shapes), strict=True
        )
    }


def compare_second(
    layer: Layer,
    shape: tuple[int, ...] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    method: str | Method = "central",
    step: float | None = None,
    at: Mapping[str, float] | None = None,
) -> Comparison:
    """SymPy's H·v (``layer.form.hvp_function``) against the numeric derivative of the
    NumPy backward along every differentiated array and, for a layer of up to
    :data:`SECOND_DIFFERENCE_LIMIT` elements, the forward's second differences along the
    same direction; dout and the direction v random (``seed``), labels fixed.

    Raises:
        SymgradError: for a layer whose Hessian-vector product SymPy does not derive.
    """
    form = layer.form
    if not hasattr(form, "hvp_function"):
        raise SymgradError(
            _("--order 2: {name}'s Hessian-vector product is not derived yet").format(
                name=layer.name
            )
        )
    method = check_method(layer, method)
    shapes = array_shapes(layer, shape, 2)
    settings = layer.kind.settings(layer, shape or layer.default_shape)
    rng = seeded_rng(seed)
    drawn = fill(layer, seeded_arrays(layer, shapes, rng), at)
    arrays = {n: a.astype(dtype) if n not in layer.labels else a for n, a in drawn.items()}
    names = layer.differentiable
    out = np.asarray(layer.output(arrays, settings))
    dout = rng.standard_normal(out.shape)
    size = sum(arrays[n].size for n in names)
    v = rng.standard_normal(size)
    # Only a form whose layer has settings (a convolution's stride) takes them.
    hvp = form.hvp_function(shapes, settings) if layer.settings else form.hvp_function(shapes)
    gradient_map = GradientMap(layer, arrays, dout, hvp, settings)
    subject = Directed(
        v,
        gradient_map,
        [arrays[n] for n in names],
        constants=(),
        dtype=np.dtype(dtype),
        params=(),
        names=names,
        guard=Guard(DEFAULT_TIMEOUT),
    )
    notes = []
    if size <= SECOND_DIFFERENCE_LIMIT:
        third: Any = forward_column(layer, arrays, dout, v, settings)
    else:
        # False: g is no catalog layer, and must not be recognised as one.
        third = False
        notes.append(
            _(
                "the forward's second differences (fwd) are taken for layers of up to {limit} "
                "elements, eight forwards per pair; these arrays have {size}: pass a smaller "
                "--shape for the third way"
            ).format(limit=SECOND_DIFFERENCE_LIMIT, size=size)
        )
    report = run_check(subject, method, seed, step, symbolic=third)
    comparison = report.comparison
    if comparison is None:  # the catalog's own backward always runs
        raise SymgradError(
            _("{name} could not be checked: {problems}").format(
                name=layer.name, problems="; ".join(report.problems)
            )
        )
    # What is checked is d⟨v, g⟩/dx = H·v, not a gradient dx of the layer itself.
    checks = tuple(
        replace(check, name="H·v" if len(names) == 1 else f"(H·v)[{check.name[1:]}]")
        for check in comparison.gradients
    )
    return replace(
        comparison,
        gradients=checks,
        layer=layer.name,
        shapes={**shapes, form.output: out.shape},
        at=at,
        order=2,
        notes=(*comparison.notes, *notes),
        problems=report.problems,
    )
