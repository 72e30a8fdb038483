"""How close is close enough, from the dtype's machine epsilon ε.

Tolerances are relative to the largest magnitude in the gradient being checked (a
normwise comparison: tiny elements near zero do not blow up a relative error).

- backward vs symbolic: two exact formulas, one evaluated in the layer's dtype: 64·ε.
- against numeric: central differences are accurate to about ε^(2/3) at the best step
  (truncation ~h², rounding ~ε/h, h ~ ε^(1/3)); 100·ε^(2/3) leaves room for the
  layer's own curvature and for sums over a batch.
"""

from __future__ import annotations

import numpy as np

EXACT_FACTOR = 64
NUMERIC_FACTOR = 100


def relative_tolerances(dtype: np.dtype | str) -> dict[str, float]:
    """Relative tolerance for each pair of the three-way comparison."""
    eps = float(np.finfo(dtype).eps)
    numeric = NUMERIC_FACTOR * eps ** (2 / 3)
    return {
        "backward_vs_symbolic": EXACT_FACTOR * eps,
        "backward_vs_numeric": numeric,
        "symbolic_vs_numeric": numeric,
    }


def describe(dtype: str) -> str:
    """One line for ``--help``: the relative tolerances in force for ``dtype``."""
    tol = relative_tolerances(dtype)
    return (
        f"{dtype}: backward vs symbolic {tol['backward_vs_symbolic']:.1e}, "
        f"vs numeric {tol['backward_vs_numeric']:.1e}"
    )
