"""The layer catalog: every layer as a NumPy class beside its SymPy description.

Importing this package imports NumPy but never SymPy; each layer's SymPy description is
built on first use.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager

from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers import (
    add,
    affine,
    avgpool,
    batchnorm,
    conv,
    cross_entropy,
    dropout,
    dropout_unscaled,
    elu,
    exp,
    gelu,
    gelu_tanh,
    leaky_relu,
    log_softmax,
    maxpool,
    mse,
    mul,
    reciprocal,
    relu,
    sigmoid,
    sigmoid_with_loss,
    softmax,
    softmax_with_loss,
    softplus,
    square,
    swish,
    tanh,
)
from symgrad.layers.spec import Layer

CATALOG: tuple[Layer, ...] = tuple(
    module.LAYER
    for module in (
        add,
        mul,
        square,
        reciprocal,
        exp,
        relu,
        leaky_relu,
        elu,
        sigmoid,
        tanh,
        softplus,
        swish,
        gelu,
        gelu_tanh,
        affine,
        conv,
        maxpool,
        avgpool,
        softmax,
        log_softmax,
        softmax_with_loss,
        sigmoid_with_loss,
        mse,
        cross_entropy,
        batchnorm,
        dropout,
        dropout_unscaled,
    )
)


def normalize(name: str) -> str:
    """Fold case and separators: ``SoftmaxWithLoss`` and ``softmax_with_loss`` match."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


_BY_KEY = {normalize(name): layer for layer in CATALOG for name in (layer.name, *layer.aliases)}


def get_layer(name: str) -> Layer:
    """Look a layer up by name or alias, case- and separator-insensitively.

    Raises:
        SymgradError: for an unknown name, suggesting the closest one.
    """
    layer = _BY_KEY.get(normalize(name))
    if layer is not None:
        return layer
    close = closest_layer(name)
    if close is not None:
        raise SymgradError(
            _("unknown layer '{name}'; did you mean '{close}'?").format(name=name, close=close.name)
        )
    raise SymgradError(
        _("unknown layer '{name}' (known: {layers})").format(
            name=name, layers=", ".join(layer.name for layer in CATALOG)
        )
    )


def closest_layer(name: str) -> Layer | None:
    """The catalog layer whose name is close enough to ``name`` to suggest, if any."""
    close = difflib.get_close_matches(normalize(name), list(_BY_KEY), n=1, cutoff=0.6)
    return _BY_KEY[close[0]] if close else None


@contextmanager
def registered(layer: Layer) -> Iterator[Layer]:
    """Within the block, ``layer`` is known by name to everything that looks layers up
    (``compare``, ``derive``, ``steps``, a ``net`` spec), as a catalog layer would be.

    A way to try a layer before it is added to ``CATALOG``; ``symgrad list``, which
    reads the generated ``derived.json``, shows only the catalog.

    Raises:
        SymgradError: if a layer of that name is already known.
    """
    key = normalize(layer.name)
    if key in _BY_KEY:
        raise SymgradError(
            _("a layer named '{name}' is already known").format(name=_BY_KEY[key].name)
        )
    _BY_KEY[key] = layer
    try:
        yield layer
    finally:
        del _BY_KEY[key]


__all__ = ["CATALOG", "Layer", "get_layer", "normalize", "registered"]
