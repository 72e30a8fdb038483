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

import math
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
        sweep_fills_input: see below.
    """

    elementwise: ClassVar[bool] = False
    loss: ClassVar[bool] = False
    # symgrad steps puts every element of an input at the point's value, or (False) only
    # the one it differentiates, the others random.
    sweep_fills_input: ClassVar[bool] = True

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

    #: The most numbers ``--shape`` may hold for this kind (None: as many as an array's
    #: rank may have, symgrad.inputs.MAX_RANK).
    shape_length: ClassVar[int | None] = None

    def settings(self, layer: Layer, shape: Shape) -> dict[str, int]:
        """The NumPy class's settings (keyword numbers, not arrays: a convolution's stride
        and padding) that ``--shape`` gives, by the names in ``layer.settings``."""
        return {}

    def instance_couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape, instance: object
    ) -> Couplings | None:
        """:meth:`couplings` for one layer object, which may hold what they depend on (a
        convolution's window, stride and padding); by default :meth:`couplings`."""
        return self.couplings(layer, name, shape, out_shape)


def _initialised(
    layer: Layer, shapes: dict[str, Shape], rng: np.random.Generator, dtype: np.dtype
) -> list[np.ndarray]:
    """The layer's parameters as the book initialises them: the first (the weight)
    0.01·randn, the rest (biases) zeros, in ``dtype``."""
    weight, *biases = layer.params
    arrays = [WEIGHT_SCALE * rng.standard_normal(shapes[weight])]
    arrays += [np.zeros(shapes[bias]) for bias in biases]
    return [a.astype(dtype) for a in arrays]


def _two_sizes(kind: Kind, layer: Layer, shape: Shape) -> Shape:
    if len(shape) != 2:
        raise SymgradError(
            _("{name} takes a 2-dimensional --shape {meaning}, got {shape}").format(
                name=layer.name, meaning=kind.shape_meaning(layer), shape=",".join(map(str, shape))
            )
        )
    return shape


def _rows_of_features(layer: Layer, in_shape: Shape, features: str) -> None:
    """A network layer that takes N rows of features refuses any other input, in one line."""
    if len(in_shape) != 2:
        raise SymgradError(
            _("{name} takes rows of features (N,{features}); its input here is {shape}").format(
                name=layer.name, features=features, shape="×".join(map(str, in_shape))
            )
        )


def _constructed(layer: Layer, arrays: list[np.ndarray], dtype: np.dtype) -> object:
    """The layer's object from its initial parameters, in the network's dtype."""
    return layer.numpy_class(*(a.astype(dtype) for a in arrays))


class Elementwise(Kind):
    """y = f(x, …) element by element: every input has the shape ``--shape`` gives."""

    elementwise = True

    def shape_meaning(self, layer: Layer) -> str:
        return _("every input's shape")

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        # A label read element by element (dropout's mask) has the inputs' shape too.
        return {name: shape for name in (*layer.inputs, *layer.labels)}

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # Imported here: symgrad.numeric costs `symgrad list` 10 ms it never uses.
        from symgrad.numeric.structure import elementwise_couplings

        return elementwise_couplings(shape, out_shape)

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1,)


class Masked(Elementwise):
    """y = f(x, mask) element by element, the mask a constant input: dropout. ``compare``
    draws the mask as the layer's label (never differentiated); in a ``symgrad net`` spec
    the layer takes its drop ratio (``dropout:0.5``) and draws its own mask every forward,
    from a generator of its own, as training does. A masked layer's class is built as
    ``cls(ratio, rng=generator)``."""

    def spec_argument(self, layer: Layer, text: str) -> object | None:
        try:
            ratio = float(text)
        except ValueError:
            ratio = None
        if ratio is None or not 0 <= ratio < 1 or not text.replace(".", "", 1).isdigit():
            raise SymgradError(
                _(
                    "'{item}': {name} needs its drop ratio after ':', a number from 0 up to "
                    "(not including) 1, e.g. {name}:0.5"
                ).format(item=f"{layer.name}:{text}" if text else layer.name, name=layer.name)
            )
        return ratio

    def spec_form(self, layer: Layer) -> str:
        return f"{layer.name}:P"

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        # Its own stream: drawing the masks must not move the weights' generator.
        masks = np.random.default_rng(rng.integers(2**63))
        return layer.numpy_class(argument, rng=masks), in_shape


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
        if len(in_shape) < 2:
            _rows_of_features(layer, in_shape, "IN")
        # Images (N×C×H×W, after a pooling) are flattened to rows, as the book's Affine does.
        features = math.prod(in_shape[1:])
        shapes = self.array_shapes(layer, (features, argument), batch=in_shape[0])
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
        return layer.numpy_class(*_initialised(layer, shapes, rng, dtype)), out_shape

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


class ColumnWise(Kind):
    """y = f(x) column by column over a batch: each output column depends on every entry
    of the same input column (batch normalisation: its mean and variance), x is N×D, y
    has its shape, and the parameters (γ, β) hold one entry per column."""

    def shape_meaning(self, layer: Layer) -> str:
        return _("N,D: batch, features (each column normalised over the batch)")

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        n, d = _two_sizes(self, layer, shape)
        return {**{name: (n, d) for name in layer.inputs}, **{p: (d,) for p in layer.params}}

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # Changing x[n, d] (or a parameter's entry d) changes the outputs of column d alone.
        if len(out_shape) != 2:
            return None
        axis = 1 if name in layer.inputs else 0
        fits = len(shape) == axis + 1 and shape[axis] == out_shape[1]
        return ((axis, 1),) if fits else None

    # A column of equal values has variance 0: σ = √ε, where the derivative is 1/√ε.
    sweep_fills_input = False

    def sweep_shape(self, layer: Layer) -> Shape:
        return (layer.default_shape[0], 1)  # one column: a batch of one is constant

    def sweep_output(self, layer: Layer) -> Shape | None:
        return (0, 0)  # a normalised column sums to N·β: the derivative of the sum is 0

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        _rows_of_features(layer, in_shape, "D")
        return {p: (in_shape[1],) for p in layer.params}, in_shape

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        # The book's initialisation: γ = 1, β = 0 (a scale, then a shift).
        shapes, out_shape = self.network_shapes(layer, in_shape, argument)
        scale, *shifts = layer.params
        arrays = [np.ones(shapes[scale]), *(np.zeros(shapes[s]) for s in shifts)]
        return _constructed(layer, arrays, dtype), out_shape


def _key_values(layer: Layer, text: str, allowed: tuple[str, ...]) -> dict[str, int]:
    """``pad=1:stride=2`` → {"pad": 1, "stride": 2}, each a non-negative integer among
    ``allowed``."""
    values = {}
    for part in filter(None, (p.strip() for p in text.split(":"))):
        key, equals, value = (t.strip() for t in part.partition("="))
        if not equals or key not in allowed or not value.isdigit():
            raise SymgradError(
                _("'{name}:…{part}': expected {allowed}, each =INTEGER, after ':'").format(
                    name=layer.name, part=part, allowed=" or ".join(allowed)
                )
            )
        values[key] = int(value)
    return values


def _sizes(layer: Layer, text: str, count: int, example: str) -> tuple[int, ...]:
    """``30x5x5`` → (30, 5, 5): ``count`` positive sizes (one stands for a square)."""
    parts = [p.strip() for p in text.split("x")]
    if not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) not in (1, count):
        raise SymgradError(
            _("'{name}:{text}': expected sizes like {name}:{example}").format(
                name=layer.name, text=text, example=example
            )
        )
    return tuple(int(p) for p in parts) if len(parts) == count else (int(parts[0]),) * count


def _images(layer: Layer, in_shape: Shape) -> Shape:
    if len(in_shape) != 4:
        raise SymgradError(
            _("{name} takes images (N,C,H,W); its input here is {shape}").format(
                name=layer.name, shape="×".join(map(str, in_shape))
            )
        )
    return in_shape


def _windows(layer: Layer, size: Shape, window: Shape, stride: int, pad: int) -> Shape:
    """The output's height and width; one line when no window fits or the stride is 0."""
    if stride <= 0:
        raise SymgradError(_("{name}: the stride must be positive").format(name=layer.name))
    out = tuple((n + 2 * pad - k) // stride + 1 for n, k in zip(size, window, strict=True))
    if min(out) <= 0:
        raise SymgradError(
            _("{name}: a {window} window does not fit in {size} with padding {pad}").format(
                name=layer.name,
                window="×".join(map(str, window)),
                size="×".join(map(str, size)),
                pad=pad,
            )
        )
    return out


def _window_couplings(
    shape: Shape, out_shape: Shape, window: Shape, stride: int, pad: int
) -> Couplings:
    """Rows and columns of images (axes 2 and 3) coupled through windows of this size,
    stride and padding; none where the output is not the size they make."""
    from symgrad.numeric.structure import Window

    out = tuple((n + 2 * pad - k) // stride + 1 for n, k in zip(shape[2:], window, strict=True))
    if len(shape) != 4 or out != tuple(out_shape[2:]):
        return ()
    return tuple(
        Window(axis, axis, k, stride, -pad) for axis, k in zip((2, 3), window, strict=True)
    )


class Convolution(Kind):
    """y[n,f,i,j] = Σ_{c,p,q} W[f,c,p,q]·x[n,c,i·s+p−pad, j·s+q−pad] + b[f]: the input x
    (N×C×H×W), the first parameter W (F×C×KH×KW), the second b (F); settings stride and
    padding. ``--shape N,C,H,W,F,K[,S,P]``: x's shape, F filters of K×K, stride S (1) and
    padding P (0); in a spec ``conv:30x5x5`` (F×KH×KW), ``conv:16x3x3:pad=1:stride=2``."""

    shape_length = 8

    def shape_meaning(self, layer: Layer) -> str:
        return _("N,C,H,W,F,K[,S,P]: x's shape, F filters K×K, stride, padding")

    def _read(self, layer: Layer, shape: Shape) -> tuple[Shape, Shape, int, int]:
        if not 6 <= len(shape) <= 8:
            raise SymgradError(
                _("{name} takes --shape {meaning}, got {shape}").format(
                    name=layer.name,
                    meaning=self.shape_meaning(layer),
                    shape=",".join(map(str, shape)),
                )
            )
        n, c, h, w, filters, k, *rest = shape
        stride = rest[0] if rest else 1
        pad = rest[1] if len(rest) > 1 else 0  # --shape sizes are positive: 0 by omission
        _windows(layer, (h, w), (k, k), stride, pad)
        return (n, c, h, w), (filters, c, k, k), stride, pad

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        x, weights, _stride, _pad = self._read(layer, shape)
        weight, bias = layer.params
        return {layer.inputs[0]: x, weight: weights, bias: (weights[0],)}

    def settings(self, layer: Layer, shape: Shape) -> dict[str, int]:
        _x, _w, stride, pad = self._read(layer, shape)
        return dict(zip(layer.settings, (stride, pad), strict=True))

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # x's images are y's images; W's filters and b's entries are y's channels.
        known = {layer.inputs[0]: ((0, 0),), layer.params[0]: ((0, 1),), layer.params[1]: ((0, 1),)}
        pairs = known.get(name)
        if pairs is None or len(out_shape) != 4:
            return None
        return pairs if all(shape[p] == out_shape[q] for p, q in pairs) else None

    def instance_couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape, instance: object
    ) -> Couplings | None:
        # x[n, c, h, w] reaches y[n, :, i, j] only where window (i, j) covers (h, w):
        # elements KH rows (KW columns) apart share no window and are perturbed together.
        known = self.couplings(layer, name, shape, out_shape)
        settings = layer.settings_of(instance)
        if name != layer.inputs[0] or known is None or settings is None:
            return known
        _filters, _channels, kh, kw = np.shape(getattr(instance, layer.params[0]))
        stride, pad = (settings[k] for k in layer.settings)
        return (*known, *_window_couplings(shape, out_shape, (kh, kw), stride, pad))

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1, *layer.default_shape[1:])

    def spec_argument(self, layer: Layer, text: str) -> object | None:
        sizes, _colon, rest = text.partition(":")
        filters, kh, kw = _sizes(layer, sizes, 3, "30x5x5")
        options = {"stride": 1, "pad": 0, **_key_values(layer, rest, ("stride", "pad"))}
        return (filters, kh, kw, options["stride"], options["pad"])

    def spec_form(self, layer: Layer) -> str:
        return f"{layer.name}:FxKHxKW"

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        n, c, h, w = _images(layer, in_shape)
        filters, kh, kw, stride, pad = argument
        out = _windows(layer, (h, w), (kh, kw), stride, pad)
        weight, bias = layer.params
        return {weight: (filters, c, kh, kw), bias: (filters,)}, (n, filters, *out)

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        shapes, out_shape = self.network_shapes(layer, in_shape, argument)
        settings = dict(zip(layer.settings, argument[3:], strict=True))
        return layer.numpy_class(*_initialised(layer, shapes, rng, dtype), **settings), out_shape


class Pooling(Kind):
    """y[n,c,i,j] from the window x[n,c, i·s … i·s+K−1, j·s … j·s+K−1] (its maximum, its
    mean): the input x (N×C×H×W), no parameters, settings window and stride.
    ``--shape N,C,H,W,K[,S]``: x's shape, a K×K window, stride S (K); in a spec
    ``maxpool:2`` (2×2, stride 2), ``maxpool:3:stride=1``."""

    shape_length = 6

    def shape_meaning(self, layer: Layer) -> str:
        return _("N,C,H,W,K[,S]: x's shape, a K×K window, stride (K)")

    def _read(self, layer: Layer, shape: Shape) -> tuple[Shape, int, int]:
        if len(shape) not in (5, 6):
            raise SymgradError(
                _("{name} takes --shape {meaning}, got {shape}").format(
                    name=layer.name,
                    meaning=self.shape_meaning(layer),
                    shape=",".join(map(str, shape)),
                )
            )
        n, c, h, w, k, *rest = shape
        stride = rest[0] if rest else k
        _windows(layer, (h, w), (k, k), stride, 0)
        return (n, c, h, w), k, stride

    def array_shapes(self, layer: Layer, shape: Shape, batch: int) -> dict[str, Shape]:
        return {layer.inputs[0]: self._read(layer, shape)[0]}

    def settings(self, layer: Layer, shape: Shape) -> dict[str, int]:
        _x, k, stride = self._read(layer, shape)
        return dict(zip(layer.settings, (k, k, stride), strict=True))

    def couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape
    ) -> Couplings | None:
        # Each image's channel is pooled on its own.
        if name != layer.inputs[0] or len(out_shape) != 4 or shape[:2] != out_shape[:2]:
            return None
        return ((0, 0), (1, 1))

    def instance_couplings(
        self, layer: Layer, name: str, shape: Shape, out_shape: Shape, instance: object
    ) -> Couplings | None:
        # Within a channel, x[h, w] reaches only the windows that cover it.
        known = self.couplings(layer, name, shape, out_shape)
        settings = layer.settings_of(instance)
        if known is None or settings is None:
            return known
        kh, kw, stride = (settings[k] for k in layer.settings)
        return (*known, *_window_couplings(shape, out_shape, (kh, kw), stride, 0))

    def sweep_shape(self, layer: Layer) -> Shape:
        return (1, *layer.default_shape[1:])

    def spec_argument(self, layer: Layer, text: str) -> object | None:
        sizes, _colon, rest = text.partition(":")
        kh, kw = _sizes(layer, sizes, 2, "2")
        options = {"stride": kh, **_key_values(layer, rest, ("stride",))}
        return (kh, kw, options["stride"])

    def spec_form(self, layer: Layer) -> str:
        return f"{layer.name}:K"

    def network_shapes(
        self, layer: Layer, in_shape: Shape, argument: object | None
    ) -> tuple[dict[str, Shape], Shape]:
        n, c, h, w = _images(layer, in_shape)
        kh, kw, stride = argument
        return {}, (n, c, *_windows(layer, (h, w), (kh, kw), stride, 0))

    def build(
        self,
        layer: Layer,
        in_shape: Shape,
        argument: object | None,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> tuple[object, Shape]:
        settings = dict(zip(layer.settings, argument, strict=True))
        return layer.numpy_class(**settings), self.network_shapes(layer, in_shape, argument)[1]


ELEMENTWISE = Elementwise()
MASKED = Masked()
AFFINE = Affine()
ROW_WISE = RowWise()
ROW_LOSS = RowLoss()
COLUMN_WISE = ColumnWise()
CONVOLUTION = Convolution()
POOLING = Pooling()

__all__ = [
    "AFFINE",
    "COLUMN_WISE",
    "CONVOLUTION",
    "ELEMENTWISE",
    "MASKED",
    "POOLING",
    "ROW_LOSS",
    "ROW_WISE",
    "WEIGHT_SCALE",
    "Couplings",
    "Kind",
    "Shape",
]
