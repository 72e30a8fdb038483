"""Dropout as the book writes it: y = x·m in training, and x·(1 − p) at test time.

The kept elements are not divided by 1 − p, so the test-time forward must scale by
1 − p instead; the training gradient is dy·m, with the forward's own mask m.
"""

import numpy as np

from symgrad.layers import dropout
from symgrad.layers.kinds import MASKED
from symgrad.layers.spec import Layer, mask_values


class UnscaledDropout(dropout.Dropout):
    """The book's training forward: the mask alone, no 1/(1 − p)."""

    inverted = False

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        # Its own forward, so that a check tells this layer from inverted dropout.
        return super().forward(x, mask)


LAYER = Layer(
    name="dropout-unscaled",
    numpy_class=UnscaledDropout,
    symbolic=lambda: dropout.symbolic(inverted=False),
    kind=MASKED,
    inputs=("x",),
    labels=("mask",),
    label_values=mask_values(dropout.DROP_RATIO),
    complex_safe=True,
    aliases=("book-dropout",),
)
