"""Small NumPy helpers shared by the catalog's layers."""

import numpy as np


def as_float(x: np.ndarray | float) -> np.ndarray:
    """Return ``x`` as a floating array: float32/float64 stay, integers and bools become float64.

    The book's layers silently compute in integers when given integer arrays, and a
    numerical gradient of an integer array is garbage (a perturbation truncates).
    """
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
