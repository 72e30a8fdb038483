"""What each kind of layer means: one small object per kind, asked, never switched on.

A catalog layer is elementwise (y = f(x), element by element), affine (Y = X·W + b),
row-wise (y = f(x) row by row: softmax) or a loss over rows (L = the mean over rows of
loss(activation(x), t), a scalar). Everything that depends on which one it is lives in
its kind: the arrays ``--shape`` and ``--batch`` describe, which elements a grouped
perturbation may displace together, the point ``symgrad steps`` sweeps at, its place in
a ``symgrad net`` spec, and what ``--shape`` means in words. The engine, the CLI and the
network builder ask ``layer.kind`` and never name a kind, as tinygrad's gradient walker
never names an op. A kind never names an array either: names come from the
:class:`~symgrad.layers.spec.Layer` (``inputs``, ``params``, ``labels``), by position.

Adding a kind is one subclass here and one SymPy form class in ``symgrad/symbolic/``.
NumPy only: ``symgrad list`` reads :meth:`Kind.shape_meaning` without importing SymPy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from symgrad.errors import SymgradError
from symgrad.i18n import _

if TYPE_CHECKING:
    from symgrad.layers.spec import Layer

Shape = tuple[int, ...]
Couplings = tuple[tuple[int, int], ...]

WEIGHT_SCALE = 0.01  # the book's weight_init_std: W = 0.01·randn, b = 0


class Kind(ABC):
    """The questions every kind answers (defaults suit a layer without parameters).

    Attributes:
        elementwise: each output element depends only on the same element of each input.
        loss: its output is a scalar loss, so it ends a network.
    """

    elementwise: ClassVar[bool] = False
    loss: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @abstractmethod
    def shape_meaning(self, layer: Layer) -> str:
        """What ``--shape`` means for ``layer``, in words (a column of ``symgrad list``)."""

    @abstractmethod
    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        """The shape of every array ``layer`` takes, from ``--shape`` and ``--batch``.

        Raises:
            SymgradError: one line, when ``shape`` is not one this kind reads.
        """

    @abstractmethod
    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        """The Jacobian's structure for array ``name`` (symgrad.numeric.structure): pairs
        (p, q) such that changing A[e] changes only outputs o with o[q] = e[p]. None where
        the shapes are not the ones this kind implies, so that the caller probes instead."""

    @abstractmethod
    def sweep_shape(self, layer: Layer) -> Shape:
        """The ``--shape`` (with a batch of 1) of the point ``symgrad steps`` sweeps at."""

    def sweep_output(self, layer: Layer) -> Shape | None:
        """The output element ``symgrad steps`` differentiates, or None for the sum of the
        outputs (one element for an elementwise layer, the loss itself for a loss)."""
        return None

    def spec_argument(self, layer: Layer, text: str) -> object | None:
        """What follows ``NAME:`` in a ``symgrad net`` spec (``affine:50``), parsed; None
        for a kind that takes nothing (``text`` empty).

        Raises:
            SymgradError: one line, for a missing, malformed or stray argument.
        """
        if text:
            raise SymgradError(
                _("'{name}:{text}': {name} takes nothing after ':'").format(
                    name=layer.name, text=text
                )
            )
        return None

    def spec_form(self, layer: Layer) -> str:
        """How the layer is written in a spec, for messages: ``affine:OUT``, ``relu``."""
        return layer.name

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        """The shapes of the layer's own arrays (by its names) in a network whose input
        to it has ``in_shape`` (batch first), and the shape it passes on. Asked before any
        array is made, so that the memory budget is checked from the spec alone.

        Raises:
            SymgradError: one line, when the layer cannot take an input of ``in_shape``.
        """
        return {}, in_shape

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        """The layer's object in a network whose input to it has ``in_shape``, built with
        the book's initialisation, and the shape it passes on."""
        return layer.numpy_class(), self.network_shapes(layer, in_shape, argument)[1]

    def derivation_sizes(self, layer: Layer, shapes: dict[str, Shape]) -> Shape | None:
        """The sizes ``symgrad derive --shape`` makes concrete (affine's N, IN, OUT), or
        None when the derivation does not depend on them."""
        return None


def _two_sizes(kind: Kind, layer: Layer, shape: Shape) -> Shape:
    if len(shape) != 2:
        raise SymgradError(
            _("{name} takes a 2-dimensional --shape {meaning}, got {shape}").format(
                name=layer.name, meaning=kind.shape_meaning(layer), shape=",".join(map(str, shape))
            )
        )
    return shape


class Elementwise(Kind):
    """y = f(x, …) element by element: every input has the shape ``--shape`` gives."""

    elementwise = True

    def shape_meaning(self, layer: Layer) -> str:
        return _("every input's shape")

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        return {name: shape for name in layer.inputs}

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # Imported here: symgrad.numeric costs `symgrad list` 10 ms it never uses.
        from symgrad.numeric.structure import elementwise_couplings

        return elementwise_couplings(shape, out_shape)

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1,)


class Affine(Kind):
    """Y = X·W + b: the first input X (--batch×IN), the first parameter W (IN×OUT), and
    any further parameters b (OUT), added to every row."""

    def shape_meaning(self, layer: Layer) -> str:
        return _("IN,OUT: {W}'s shape ({X} is --batch×IN)").format(
            W=layer.params[0], X=layer.inputs[0]
        )

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        d_in, d_out = _two_sizes(self, layer, shape)
        weight, *biases = layer.params
        return {
            layer.inputs[0]: (batch, d_in),
            weight: (d_in, d_out),
            **{bias: (d_out,) for bias in biases},
        }

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # X's rows are Y's rows; W's columns and b's entries are Y's columns.
        if name == layer.inputs[0]:
            known = ((0, 0),)
        elif name == layer.params[0]:
            known = ((1, 1),)
        elif name in layer.params:
            known = ((0, 1),)
        else:
            return None
        if len(out_shape) != 2:
            return None
        if not all(p < len(shape) and shape[p] == out_shape[q] for p, q in known):
            return None
        return known

    def sweep_shape(self, layer: Layer) -> Shape:
        return layer.default_shape

    def spec_argument(self, layer: Layer, text: str) -> object | None:
        if not text.strip().isdigit() or int(text) <= 0:
            raise SymgradError(
                _("'{name}:{text}': {name} needs its output size, e.g. {name}:50").format(
                    name=layer.name, text=text
                )
            )
        return int(text)

    def spec_form(self, layer: Layer) -> str:
        return f"{layer.name}:OUT"

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        if len(in_shape) != 2:
            raise SymgradError(
                _("{name} takes rows of features (N,IN); its input here is {shape}").format(
                    name=layer.name, shape="×".join(map(str, in_shape))
                )
            )
        shapes = self.array_shapes(layer, (in_shape[1], argument), batch=in_shape[0])
        return {name: shapes[name] for name in layer.params}, (in_shape[0], argument)

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        shapes, out_shape = self.network_shapes(layer, in_shape, argument)
        weight, *biases = layer.params
        arrays = [WEIGHT_SCALE * rng.standard_normal(shapes[weight])]
        arrays += [np.zeros(shapes[bias]) for bias in biases]
        return layer.numpy_class(*(a.astype(dtype) for a in arrays)), out_shape

    def derivation_sizes(self, layer: Layer, shapes: dict[str, Shape]) -> Shape | None:
        return (*shapes[layer.inputs[0]], shapes[layer.params[0]][1])


class RowWise(Kind):
    """y = f(x) row by row: each output row depends on every entry of the same input row
    and on nothing else (softmax); x is N×C and y has its shape."""

    def shape_meaning(self, layer: Layer) -> str:
        return _("N,C: batch, entries per row")

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        shape = _two_sizes(self, layer, shape)
        return {name: shape for name in layer.inputs}

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # Changing x[n, c] changes the outputs of row n alone.
        return ((0, 0),) if len(shape) == 2 and shape == out_shape else None

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1, layer.default_shape[-1])

    def sweep_output(self, layer: Layer) -> Shape | None:
        return (0, 0)  # softmax's row sums to 1: the derivative of the sum is 0


class RowLoss(Kind):
    """L = mean over the N rows of loss(activation(x), t): the input and the labels are
    N×C, the activation (softmax, sigmoid, none) acts within a row, and the loss sums the
    row. What C counts (classes, 0/1 labels, outputs) is the layer's ``label_values``."""

    loss = True

    def shape_meaning(self, layer: Layer) -> str:
        return _("N,C: batch, {columns}").format(columns=_(layer.label_values.columns))

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        shape = _two_sizes(self, layer, shape)
        return {name: shape for name in (*layer.inputs, *layer.labels)}

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        return ()  # a scalar: every element reaches the one output

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1, layer.default_shape[-1])

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        return {}, ()  # the loss: a scalar


ELEMENTWISE = Elementwise()
AFFINE = Affine()
ROW_WISE = RowWise()
ROW_LOSS = RowLoss()

__all__ = [
    "AFFINE",
    "ELEMENTWISE",
    "ROW_LOSS",
    "ROW_WISE",
    "WEIGHT_SCALE",
    "Couplings",
    "Kind",
    "Shape",
]
