"""What a catalog layer is: a NumPy layer and its SymPy description, kept together.

A :class:`Layer` is plain data. The CLI, the comparison engine, the tests and the site all
iterate over the catalog built from these records, so adding a layer adds its command
support, its tests and its page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from symgrad.i18n import N_, _
from symgrad.layers.kinds import Kind

if TYPE_CHECKING:
    from symgrad.symbolic.forms import SymbolicForm


def random_labels(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """One-hot labels with a random class per row: rows of ``N,C``, or a single ``C``."""
    classes = shape[-1]
    labels = np.eye(classes)[rng.integers(0, classes, size=shape[0] if len(shape) == 2 else 1)]
    return labels if len(shape) == 2 else labels[0]


Domain = Literal["real", "away_from_zero", "probability"]


@dataclass(frozen=True)
class LabelValues:
    """What a loss's labels hold, and how a check draws them at random.

    Attributes:
        columns: what a row's entries are, in words (``classes``): the C of ``N,C``.
        draw: labels of a shape from a random generator, as float64.
    """

    columns: str
    draw: Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


ONE_HOT = LabelValues(N_("classes"), random_labels)
BINARY = LabelValues(
    N_("0/1 labels"), lambda shape, rng: rng.integers(0, 2, size=shape).astype(np.float64)
)
TARGETS = LabelValues(N_("outputs"), lambda shape, rng: rng.standard_normal(shape))


@dataclass(frozen=True)
class Layer:
    """One catalog entry.

    Attributes:
        name: canonical kebab-case name (``softmax-with-loss``).
        aliases: other names the layer is looked up by (swish is also ``silu``).
        numpy_class: the book-style class with ``forward`` and ``backward(dout)``.
        symbolic: builds the SymPy description; called lazily so that SymPy is only
            imported when a derivation or a symbolic value is asked for.
        kind: what sort of layer it is (symgrad.layers.kinds): what ``--shape`` means,
            which elements a perturbation may share, its role in a network.
        inputs: forward arguments that are differentiated, in ``forward``'s order.
        params: constructor arrays whose gradients ``backward`` stores as ``d<name>``.
        labels: forward arguments that are data, not differentiated (after ``inputs``).
        domain: where random inputs are drawn; ``away_from_zero`` keeps clear of a kink
            or a pole at 0, ``probability`` draws from [0.4, 1), clear of log's pole.
        label_values: what the labels hold (one-hot rows, 0/1 per element, real
            targets): how a check and a ``symgrad net`` spec draw them.
        scores_are_samples: every entry of the input is a sample of its own (binary
            scores, one per sample): a flat input is N samples, not one, and a user's
            loss averaging over every entry (the sequel's TimeSigmoidWithLoss, N×T
            scores) is this layer on its input flattened.
        default_shape: used when ``--shape`` is not given.
        smooth: differentiable everywhere in its domain (no kink, as ReLU has at 0).
        complex_safe: the forward is analytic and its NumPy code carries a complex input
            through (no comparisons, no casts to float, no real-only functions such as
            ``logaddexp``), so the complex-step method may differentiate it.
    """

    name: str
    numpy_class: type
    symbolic: Callable[[], SymbolicForm]
    kind: Kind
    inputs: tuple[str, ...]
    params: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    domain: Domain = "real"
    label_values: LabelValues = ONE_HOT
    scores_are_samples: bool = False
    default_shape: tuple[int, ...] = (2, 3)
    smooth: bool = True
    complex_safe: bool = False  # opt-in: a layer must be written for it
    aliases: tuple[str, ...] = ()

    @cached_property
    def form(self) -> SymbolicForm:
        """The SymPy description, built once (this is where SymPy gets imported)."""
        return self.symbolic()

    @property
    def shape_meaning(self) -> str:
        """What ``--shape`` means for this layer, in words."""
        return self.kind.shape_meaning(self)

    @property
    def complex_step_refusal(self) -> str | None:
        """Why complex-step cannot differentiate this layer, or None if it can."""
        if self.complex_safe:
            return None
        if not self.smooth:
            return _(
                "complex-step cannot differentiate {layer}: its forward is not analytic (it "
                "branches on a comparison and has a kink); use central, five-point or richardson"
            ).format(layer=self.name)
        return _(
            "complex-step cannot differentiate {layer}: its NumPy forward is not written to "
            "carry complex input; use central, five-point or richardson"
        ).format(layer=self.name)

    @property
    def differentiable(self) -> tuple[str, ...]:
        """The arrays a gradient is taken of: the inputs, then the parameters."""
        return (*self.inputs, *self.params)

    def output(self, arrays: Mapping[str, np.ndarray]) -> Any:
        """The NumPy class's forward on arrays by name, on a fresh object (catalog
        classes never write into their arguments: tests/test_numpy_layers.py)."""
        layer = self.numpy_class(*(arrays[p] for p in self.params))
        return layer.forward(*(arrays[n] for n in (*self.inputs, *self.labels)))

    @property
    def elementwise(self) -> bool:
        """Each output element depends only on the same element of each input."""
        return self.kind.elementwise


def sample(domain: Domain, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw a float64 test input; ``away_from_zero`` gives |x| >= 0.25, clear of a kink or
    a pole, and as many negative elements as positive ones (one more positive for an odd
    size) in random places, so that every draw shows both sides: ReLU's gradient passing
    and stopping, never six positives by chance. ``probability`` gives values in
    [0.4, 1), where log is far enough from its pole at 0 for every method's steps:
    five-point's reach ±2h in float32 is about 0.27, and at y = 0.25 its error there
    outgrew the bound."""
    if domain == "probability":
        return rng.uniform(0.4, 1.0, size=shape)
    values = rng.standard_normal(shape)
    if domain == "away_from_zero":
        signs = rng.permutation(np.resize((1.0, -1.0), values.size)).reshape(shape)
        values = (0.25 + abs(values)) * signs
    return values


def seeded_rng(seed: int) -> np.random.Generator:
    """The random generator every check draws its inputs and dout from."""
    from symgrad.inputs import parse_seed

    return np.random.default_rng(parse_seed(seed))


def check_rng(seed: int) -> np.random.Generator:
    """The generator a check draws its upstream dout and its probes from: a stream of its
    own. With :func:`seeded_rng`'s, which draws the inputs from the same seed, dout came out
    equal to x, and a backward that used x in place of dout passed."""
    from symgrad.inputs import parse_seed

    return np.random.default_rng([parse_seed(seed), 1])
