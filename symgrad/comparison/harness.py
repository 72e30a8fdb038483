"""Run any layer written in the book's style: ``forward(*inputs)``, ``backward(dout)``.

Parameters are constructor arrays (``W``, ``b``); ``backward`` returns one gradient per
differentiated input (a tuple when there are several) and stores parameter gradients as
``dW``, ``db``. Arrays are copied going in, so a layer that writes into its arguments
cannot disturb the caller's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BookLayer:
    """How to call one book-style layer class."""

    cls: type
    inputs: Sequence[str]
    params: Sequence[str] = ()
    labels: Sequence[str] = ()

    @property
    def differentiable(self) -> tuple[str, ...]:
        return (*self.inputs, *self.params)

    def forward(self, arrays: dict[str, np.ndarray]) -> tuple[Any, Any]:
        """A fresh layer and its forward output on copies of ``arrays``."""
        layer = self.cls(*(np.array(arrays[p], copy=True) for p in self.params))
        out = layer.forward(*(np.array(arrays[n], copy=True) for n in (*self.inputs, *self.labels)))
        return layer, out

    def output(self, arrays: dict[str, np.ndarray]) -> Any:
        return self.forward(arrays)[1]

    def backward(self, arrays: dict[str, np.ndarray], dout: Any) -> tuple[Any, dict[str, Any]]:
        """Forward then backward; returns the output and ``{"d<name>": gradient}``."""
        layer, out = self.forward(arrays)
        returned = layer.backward(np.array(dout, copy=True))
        if len(self.inputs) == 1 and not isinstance(returned, tuple):
            returned = (returned,)
        gradients = dict(zip((f"d{n}" for n in self.inputs), returned, strict=False))
        gradients.update({f"d{p}": getattr(layer, f"d{p}", None) for p in self.params})
        return out, gradients
